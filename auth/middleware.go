package auth

import (
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// Verifier is what the middleware needs from a TokenIssuer.
type Verifier interface {
	Verify(token string) (web.Principal, error)
}

var _ Verifier = (*TokenIssuer)(nil)

// Middleware authenticates requests that carry `Authorization: Bearer <jwt>`
// and stores the caller with web.SetPrincipal. A request without the header
// passes through anonymous (web.RequireAuth / RequireRole decide); a header
// with a malformed, tampered or expired token is answered 401 `unauthorized`
// at once, with `WWW-Authenticate: Bearer error="invalid_token"` and an
// error_description of "expired" or "invalid" so the app knows to refresh.
func Middleware(v Verifier) gin.HandlerFunc { return CheckedMiddleware(v, nil) }

// CheckedMiddleware is Middleware that also checks the token's user with
// accounts (when not nil): a deleted user's token is answered 401
// `unauthorized` (error_description "invalid"), a token whose role the user
// no longer has 401 with "expired" (refresh to get the current role), and a
// failed lookup 503 `unavailable`. `serve` uses it (UseChecked).
func CheckedMiddleware(v Verifier, accounts *Accounts) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		if h == "" {
			c.Next()
			return
		}
		scheme, tok, ok := strings.Cut(h, " ")
		tok = strings.TrimSpace(tok)
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			unauthorized(c, "invalid", "Authorization 헤더는 'Bearer <토큰>' 형식이어야 합니다.")
			return
		}
		p, err := v.Verify(tok)
		if err != nil {
			if errors.Is(err, ErrTokenExpired) {
				unauthorized(c, "expired", "로그인이 만료되었습니다. 토큰을 갱신해 주세요.")
				return
			}
			unauthorized(c, "invalid", "유효하지 않은 인증 토큰입니다.")
			return
		}
		if accounts != nil {
			err := accounts.Check(c.Request.Context(), p)
			switch {
			case errors.Is(err, ErrUserGone):
				unauthorized(c, "invalid", "탈퇴했거나 사용할 수 없는 계정입니다.")
				return
			case errors.Is(err, ErrRoleChanged):
				unauthorized(c, "expired", "계정 권한이 바뀌었습니다. 토큰을 갱신해 주세요.")
				return
			case err != nil:
				web.Fail(c, accounts.log, web.Unavailable("일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.", err))
				return
			}
		}
		web.SetPrincipal(c, p)
		c.Next()
	}
}

func unauthorized(c *gin.Context, desc, msg string) {
	c.Header("WWW-Authenticate", `Bearer realm="soomcare", error="invalid_token", error_description="`+desc+`"`)
	web.Fail(c, nil, &web.Error{Code: web.CodeUnauthorized, Message: msg})
}
