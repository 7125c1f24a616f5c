// Package apierr holds what the app's write endpoints (auth, community,
// content) share on top of package web: the `validation_failed` envelope with
// field errors, the stable codes of those areas, and strict JSON decoding
// that never turns bad input into a 500.
package apierr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// Stable codes of the auth, community and content endpoints (clients switch
// on them; never rename one). Codes shared with every endpoint live in web.
const (
	CodeValidationFailed     = "validation_failed"      // 400, with fields
	CodeUnsupportedMediaType = "unsupported_media_type" // 415
	CodeEmailTaken           = "email_taken"            // 409
	CodeNicknameTaken        = "nickname_taken"         // 409
	CodeIdentityTaken        = "identity_taken"         // 409: the SNS account is linked to another user
	CodeInvalidCredentials   = "invalid_credentials"    // 401
	CodeTokenExpired         = "token_expired"          // 401: refresh or ID token expired
	CodeTokenInvalid         = "token_invalid"          // 401: refresh or ID token unknown, revoked or not verifiable
	CodeRefreshReused        = "refresh_reused"         // 401: a rotated refresh token came back; the session is revoked
	CodeLoginThrottled       = "login_throttled"        // 429: too many failed logins for the account or from the client; see Retry-After
	CodeSignupThrottled      = "signup_throttled"       // 429: too many sign-ups from the client; see Retry-After
	CodeNonceInvalid         = "nonce_invalid"          // 401: SNS ID token without a nonce this server issued, or a spent one
	CodeBusy                 = "busy"                   // 503: password hashing at capacity; see Retry-After
	CodeUserBlocked          = "user_blocked"           // 403: a blocked user tried to write
	CodeAlreadyReported      = "already_reported"       // 409
	CodeReplyDepth           = "reply_depth"            // 400: a reply to a reply
)

// New returns a client error with an explicit status.
func New(status int, code, msg string) *web.Error {
	return &web.Error{Code: code, Message: msg, Status: status}
}

// FieldError is one invalid field of a request body or query.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError is a 400 `validation_failed` naming every invalid field.
type ValidationError struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields"`
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("validation failed:")
	for _, f := range e.Fields {
		b.WriteString(" " + f.Field + ": " + f.Message + ";")
	}
	return b.String()
}

// Fields collects field errors; Err returns nil when there are none.
type Fields struct{ list []FieldError }

// Add records that field is invalid.
func (f *Fields) Add(field, msg string) {
	f.list = append(f.list, FieldError{Field: field, Message: msg})
}

// Err returns the collected errors as a *ValidationError, or nil.
func (f *Fields) Err() error {
	if len(f.list) == 0 {
		return nil
	}
	return &ValidationError{Code: CodeValidationFailed, Message: "입력값을 확인해 주세요.", Fields: f.list}
}

// Invalid is a ValidationError about one field.
func Invalid(field, msg string) error {
	var f Fields
	f.Add(field, msg)
	return f.Err()
}

// Fail writes err: a *ValidationError as itself, anything else through web.Fail.
func Fail(c *gin.Context, logger *slog.Logger, err error) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		c.AbortWithStatusJSON(http.StatusBadRequest, ve)
		return
	}
	web.Fail(c, logger, err)
}

// DecodeJSON reads the request body into dst strictly: a JSON object,
// no unknown fields, nothing after it. Errors are ready for Fail: 415
// unsupported_media_type (not JSON), 413 body_too_large, 400 bad_request
// (malformed), 400 validation_failed (unknown field or wrong type).
func DecodeJSON(c *gin.Context, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return New(http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "본문은 application/json 이어야 합니다.")
		}
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			return web.BadRequest(web.CodeBadRequest, "본문에는 JSON 객체 하나만 보내 주세요.")
		}
		return nil
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return &web.Error{Code: web.CodeBodyTooLarge, Message: "요청 본문이 너무 큽니다."}
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return web.BadRequest(web.CodeBadRequest, "본문은 JSON 객체여야 합니다.")
		}
		return Invalid(field, "형식이 올바르지 않습니다 ("+typeErr.Value+" 대신 "+typeErr.Type.String()+").")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(name, "알 수 없는 필드입니다.")
	default:
		return web.BadRequest(web.CodeBadRequest, "본문이 올바른 JSON이 아닙니다.")
	}
}

// Text validates an optional string field: trimmed in place, min..max
// characters, no control characters (newlines and tabs allowed unless
// oneLine), valid UTF-8; a nil field is an error only when required.
func (f *Fields) Text(field string, v *string, min, max int, required, oneLine bool) {
	if v == nil {
		if required {
			f.Add(field, "필수 항목입니다.")
		}
		return
	}
	*v = strings.TrimSpace(*v)
	n := utf8.RuneCountInString(*v)
	switch {
	case n < min:
		f.Add(field, "비어 있을 수 없습니다.")
	case n > max:
		f.Add(field, fmt.Sprintf("%d자 이하여야 합니다.", max))
	case !utf8.ValidString(*v) || strings.IndexFunc(*v, func(r rune) bool {
		return r == unicode.ReplacementChar || (unicode.IsControl(r) && (oneLine || (r != '\n' && r != '\t' && r != '\r')))
	}) >= 0:
		f.Add(field, "쓸 수 없는 문자가 있습니다.")
	}
}
