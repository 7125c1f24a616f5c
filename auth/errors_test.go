package auth

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/soomcare/soomcare/web/webtest"
)

// The auth errors keep their codes and statuses on the wire now that the
// codes live here and register their statuses in errorTable.
func TestErrorTable(t *testing.T) {
	const unauthorized, conflict = http.StatusUnauthorized, http.StatusConflict
	webtest.CheckTable(t, errorTable(), []webtest.Mapped{
		{Err: &ThrottledError{RetryAfter: 2 * time.Second, kind: ErrSignupThrottled}, Status: http.StatusTooManyRequests, Code: "signup_throttled", RetryAfter: 2 * time.Second},
		{Err: &ThrottledError{RetryAfter: 5 * time.Second}, Status: http.StatusTooManyRequests, Code: "login_throttled", RetryAfter: 5 * time.Second},
		{Err: fmt.Errorf("hash: %w", ErrBusy), Status: http.StatusServiceUnavailable, Code: "busy", RetryAfter: time.Second},
		{Err: ErrNonceInvalid, Status: unauthorized, Code: "nonce_invalid"},
		{Err: ErrEmailTaken, Status: conflict, Code: "email_taken"},
		{Err: ErrNicknameTaken, Status: conflict, Code: "nickname_taken"},
		{Err: ErrIdentityTaken, Status: conflict, Code: "identity_taken"},
		{Err: ErrInvalidCredentials, Status: unauthorized, Code: "invalid_credentials"},
		{Err: ErrRefreshReused, Status: unauthorized, Code: "refresh_reused"},
		{Err: ErrRefreshExpired, Status: unauthorized, Code: "token_expired"},
		{Err: ErrIDTokenExpired, Status: unauthorized, Code: "token_expired"},
		{Err: ErrRefreshInvalid, Status: unauthorized, Code: "token_invalid"},
		{Err: ErrIDTokenInvalid, Status: unauthorized, Code: "token_invalid"},
		{Err: ErrUnknownProvider, Status: http.StatusNotFound, Code: "not_found"},
		{Err: ErrJWKSUnavailable, Status: http.StatusServiceUnavailable, Code: "unavailable"},
		{Err: ErrUserGone, Status: unauthorized, Code: "unauthorized"},
	})
}
