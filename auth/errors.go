package auth

import (
	"errors"
	"net/http"
	"time"

	"github.com/soomcare/soomcare/web"
)

// The auth endpoints' own error codes (documented in
// apidoc/paths/auth.yaml); their statuses are registered in errorTable.
const (
	CodeEmailTaken         = "email_taken"         // 409
	CodeNicknameTaken      = "nickname_taken"      // 409
	CodeIdentityTaken      = "identity_taken"      // 409: the SNS account is linked to another user
	CodeInvalidCredentials = "invalid_credentials" // 401
	CodeTokenExpired       = "token_expired"       // 401: refresh or ID token expired
	CodeTokenInvalid       = "token_invalid"       // 401: refresh or ID token unknown, revoked or not verifiable
	CodeRefreshReused      = "refresh_reused"      // 401: a rotated refresh token came back; the session is revoked
	CodeNonceInvalid       = "nonce_invalid"       // 401: SNS ID token without a nonce this server issued, or a spent one
	CodeLoginThrottled     = "login_throttled"     // 429: see Retry-After
	CodeSignupThrottled    = "signup_throttled"    // 429: see Retry-After
	CodeBusy               = "busy"                // 503: password hashing at capacity; see Retry-After
)

// errorTable maps the service's errors to client errors.
func errorTable() web.Errors {
	const (
		unauthorized = http.StatusUnauthorized
		conflict     = http.StatusConflict
		tooMany      = http.StatusTooManyRequests
		tokenExpired = "토큰이 만료되었습니다. 다시 로그인해 주세요."
		tokenInvalid = "유효하지 않은 토큰입니다. 다시 로그인해 주세요."
	)
	return web.Errors{
		{Match: throttled(ErrSignupThrottled), Code: CodeSignupThrottled, Status: tooMany,
			Message: "가입 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요."},
		{Match: throttled(nil), Code: CodeLoginThrottled, Status: tooMany,
			Message: "로그인 시도가 너무 많습니다. 잠시 후 다시 시도해 주세요."},
		{Match: busy, Code: CodeBusy, Status: http.StatusServiceUnavailable,
			Message: "요청이 많아 처리하지 못했습니다. 잠시 후 다시 시도해 주세요."},
		{Is: ErrNonceInvalid, Code: CodeNonceInvalid, Status: unauthorized,
			Message: "로그인 요청이 만료되었거나 이미 사용되었습니다. 다시 로그인해 주세요."},
		{Is: ErrEmailTaken, Code: CodeEmailTaken, Status: conflict, Message: "이미 가입된 이메일입니다."},
		{Is: ErrNicknameTaken, Code: CodeNicknameTaken, Status: conflict, Message: "이미 사용 중인 닉네임입니다."},
		{Is: ErrIdentityTaken, Code: CodeIdentityTaken, Status: conflict, Message: "다른 계정에 연결된 SNS 계정입니다."},
		{Is: ErrInvalidCredentials, Code: CodeInvalidCredentials, Status: unauthorized,
			Message: "이메일 또는 비밀번호가 올바르지 않습니다."},
		{Is: ErrRefreshReused, Code: CodeRefreshReused, Status: unauthorized,
			Message: "이미 사용된 토큰입니다. 보안을 위해 다시 로그인해 주세요."},
		{Is: ErrRefreshExpired, Code: CodeTokenExpired, Status: unauthorized, Message: tokenExpired},
		{Is: ErrIDTokenExpired, Code: CodeTokenExpired, Status: unauthorized, Message: tokenExpired},
		{Is: ErrRefreshInvalid, Code: CodeTokenInvalid, Status: unauthorized, Message: tokenInvalid},
		{Is: ErrIDTokenInvalid, Code: CodeTokenInvalid, Status: unauthorized, Message: tokenInvalid},
		{Is: ErrUnknownProvider, Code: web.CodeNotFound, Message: "지원하지 않는 로그인 방식입니다."},
		{Is: ErrJWKSUnavailable, Code: web.CodeUnavailable, Message: "SNS 로그인 서버에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요."},
		{Is: ErrUserGone, Code: web.CodeUnauthorized, Message: "탈퇴했거나 사용할 수 없는 계정입니다."},
	}
}

// throttled matches a *ThrottledError (of kind, when kind is not nil) and
// answers with its Retry-After.
func throttled(kind error) func(error) *web.Error {
	return func(err error) *web.Error {
		var t *ThrottledError
		if !errors.As(err, &t) || (kind != nil && !errors.Is(err, kind)) {
			return nil
		}
		return &web.Error{RetryAfter: t.RetryAfter}
	}
}

// busy is ErrBusy: password hashing at capacity, retry in a second.
func busy(err error) *web.Error {
	if !errors.Is(err, ErrBusy) {
		return nil
	}
	return &web.Error{RetryAfter: time.Second}
}
