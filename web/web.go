// Package web holds what every HTTP handler shares: the one JSON error
// envelope with stable codes and its field errors, the one map from generic
// code to status, the areas' error tables (Errors), the handler kit
// (handlers return an answer or an error; Kit writes both), strict JSON
// bodies, the shared query parsers (page size, date range, cursor errors),
// and the Gin middleware that guarantees no request ever answers with a
// stack trace or a non-JSON error.
package web

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// Stable generic error codes. Clients switch on these; never rename one.
// Every code has one status (statusByCode).
const (
	CodeBadRequest       = "bad_request"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "body_too_large"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeConflict         = "conflict"
	CodeRateLimited      = "rate_limited"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"

	// Search API input errors (400).
	CodeQueryRequired = "query_required" // q is missing or blank
	CodeQueryTooLong  = "query_too_long" // q is longer than the documented limit
	CodeBadCursor     = "bad_cursor"     // a cursor that is malformed or belongs to another list, query or range
	CodeBadParameter  = "bad_parameter"  // a search parameter out of its domain (with fields)

	// Invalid input of the app's endpoints (400, with fields).
	CodeValidationFailed = "validation_failed" // fields say which input is wrong and why

	CodeUnsupportedMediaType = "unsupported_media_type" // 415: not JSON, or an image type outside the allow-list
)

// Domain codes live with their domains (auth's email_taken, community's
// reply_depth, dictionary's analysis_rule_rejected, care's out_of_range), each registering its
// one status in the domain's error table (Errors); statusByCode holds the
// generic codes only.
var statusByCode = map[string]int{
	CodeBadRequest:       http.StatusBadRequest,
	CodeNotFound:         http.StatusNotFound,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeBodyTooLarge:     http.StatusRequestEntityTooLarge,
	CodeUnauthorized:     http.StatusUnauthorized,
	CodeForbidden:        http.StatusForbidden,
	CodeConflict:         http.StatusConflict,
	CodeRateLimited:      http.StatusTooManyRequests,
	CodeUnavailable:      http.StatusServiceUnavailable,
	CodeInternal:         http.StatusInternalServerError,
	CodeQueryRequired:    http.StatusBadRequest,
	CodeQueryTooLong:     http.StatusBadRequest,
	CodeBadCursor:        http.StatusBadRequest,
	CodeBadParameter:     http.StatusBadRequest,

	CodeValidationFailed:     http.StatusBadRequest,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
}

// Error is an error meant for the client: the one envelope of every
// endpoint, a stable code, a message that is safe to show (Korean where the
// app shows it) and, on invalid input, the fields at fault.
type Error struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
	// RequestID is the request's id (X-Request-ID), set by Abort when the
	// envelope is written, so a client's report names the log lines.
	RequestID string `json:"request_id,omitempty"`
	Status    int    `json:"-"` // overrides the code's status when non-zero
	Err       error  `json:"-"` // internal cause, logged, never sent

	RetryAfter time.Duration `json:"-"` // sent as a Retry-After header when non-zero (429, 503)
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	for _, f := range e.Fields {
		s += " " + f.Field + ":" + f.Code
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf-style constructors for the common cases.

// NewError is a client error with the code's status, its cause kept for the log.
func NewError(code, msg string, cause error) *Error {
	return &Error{Code: code, Message: msg, Err: cause}
}

// BadRequest is a 400 with code.
func BadRequest(code, msg string) *Error {
	return &Error{Code: code, Message: msg, Status: http.StatusBadRequest}
}

// Unavailable is a 503 whose cause is logged.
func Unavailable(msg string, cause error) *Error {
	return &Error{Code: CodeUnavailable, Message: msg, Err: cause}
}

// RateLimited is a 429 telling the client to wait retryAfter; Fail writes
// the Retry-After header (whole seconds, at least 1) with it.
func RateLimited(msg string, retryAfter time.Duration) *Error {
	return &Error{Code: CodeRateLimited, Message: msg, RetryAfter: retryAfter}
}

// StatusOf returns the HTTP status for an error envelope.
func StatusOf(e *Error) int {
	if e.Status != 0 {
		return e.Status
	}
	if s, ok := statusByCode[e.Code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Withheld is err's message up to its first quote: MySQL and the engines
// quote the values they refuse ("Duplicate entry 'alice@x.com' for key …",
// "failed to parse field [title] … '…'"), and those are users' text, which
// never goes to a log. What comes before the first quote names the failure.
func Withheld(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, "'\"`"); i >= 0 {
		return msg[:i] + "[withheld]"
	}
	return msg
}

// Recovery turns a panic into a 500 envelope; the stack goes to the log only.
func Recovery(logger *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, rec any) {
		logger.ErrorContext(c.Request.Context(), "panic", "path", c.Request.URL.Path, "panic", rec)
		abort(c, &Error{Code: CodeInternal, Message: "일시적인 오류가 발생했습니다."}, nil)
	})
}

// LimitBody caps request bodies; a larger declared body is refused at once, a
// larger streamed body fails while reading with http.MaxBytesError.
func LimitBody(max int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > max {
			abort(c, &Error{Code: CodeBodyTooLarge, Message: "요청 본문은 " + strconv.FormatInt(max, 10) + "바이트를 넘을 수 없습니다."}, nil)
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		}
		c.Next()
	}
}

// NotFound and MethodNotAllowed answer unknown routes with the envelope.
func NotFound(c *gin.Context) {
	abort(c, &Error{Code: CodeNotFound, Message: "요청한 경로를 찾을 수 없습니다."}, nil)
}

func MethodNotAllowed(c *gin.Context) {
	abort(c, &Error{Code: CodeMethodNotAllowed, Message: "허용되지 않는 메서드입니다."}, nil)
}
