package web

import (
	"slices"

	"github.com/gin-gonic/gin"
)

// Principal is the authenticated caller. The auth package's middleware sets
// it from a verified access token; handlers read it with PrincipalFrom and
// never trust ids from the request for ownership.
type Principal struct {
	UserID uint64
	Role   string // user | editor | admin
}

// Roles.
const (
	RoleUser   = "user"
	RoleEditor = "editor"
	RoleAdmin  = "admin"
)

const principalKey = "soomcare.principal"

// SetPrincipal stores the caller on the request context (auth middleware only).
func SetPrincipal(c *gin.Context, p Principal) { c.Set(principalKey, p) }

// PrincipalFrom returns the caller, if the request was authenticated.
func PrincipalFrom(c *gin.Context) (Principal, bool) {
	v, ok := c.Get(principalKey)
	if !ok {
		return Principal{}, false
	}
	p, ok := v.(Principal)
	return p, ok
}

// RequireAuth answers 401 unless the request carries a valid access token.
func RequireAuth() gin.HandlerFunc {
	return func(c *gin.Context) {
		if _, ok := PrincipalFrom(c); !ok {
			c.Header("WWW-Authenticate", `Bearer realm="soomcare"`)
			abort(c, &Error{Code: CodeUnauthorized, Message: "로그인이 필요합니다."}, nil)
			return
		}
		c.Next()
	}
}

// RequireRole answers 401 without a token and 403 when the caller's role is
// not one of roles.
func RequireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := PrincipalFrom(c)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="soomcare"`)
			abort(c, &Error{Code: CodeUnauthorized, Message: "로그인이 필요합니다."}, nil)
			return
		}
		if !slices.Contains(roles, p.Role) {
			abort(c, &Error{Code: CodeForbidden, Message: "권한이 없습니다."}, nil)
			return
		}
		c.Next()
	}
}
