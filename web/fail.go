package web

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// The one error write path. Every error answer of every process is the
// envelope (Error), its status from the code (statusByCode), written by
// abort (Gin) or WriteError (plain net/http servers), both through
// envelope. Handlers return errors (Kit.Handle); middleware and the few
// handlers outside a Kit call Fail or FailWith. TestOneErrorWritePath fails
// when non-test code anywhere writes an error status or body another way.

// Fail writes err as the JSON envelope and aborts the chain. Errors that are
// not *Error become 500 "internal" with a generic message (a body larger
// than LimitBody allows, met while reading, is 413); the cause of a 5xx is
// logged (logger nil: not logged).
func Fail(c *gin.Context, logger *slog.Logger, err error) {
	FailWith(c, logger, err, nil)
}

// FailWith is Fail with extra top-level members beside the envelope's (the
// readiness probe's down and checks); the envelope's own members win.
func FailWith(c *gin.Context, logger *slog.Logger, err error, extra map[string]any) {
	e := resolve(err)
	logFailure(c.Request, c.FullPath(), logger, e, err)
	abort(c, e, extra)
}

// WriteError is Fail for a plain net/http server (the CDC worker's status
// endpoint): the same envelope, status and logging, with the request's
// X-Request-ID when it is one a client may send.
func WriteError(rw http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	e := resolve(err)
	logFailure(r, r.URL.Path, logger, e, err)
	id := r.Header.Get(RequestIDHeader)
	if !ValidRequestID(id) {
		id = ""
	}
	status, body := envelope(e, id, nil)
	setRetryAfter(rw.Header(), e)
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	rw.Write(body)
}

// resolve is the envelope for err: err's own *Error, 413 for a body over
// the limit, otherwise 500 internal (the cause kept for the log only).
func resolve(err error) *Error {
	var e *Error
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &tooBig):
		return &Error{Code: CodeBodyTooLarge, Message: "요청 본문이 너무 큽니다.", Err: err}
	default:
		return &Error{Code: CodeInternal, Message: "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해 주세요.", Err: err}
	}
}

// logFailure logs a 5xx's cause (Withheld: never users' text); a client
// that went away is a debug line, 4xx nothing.
func logFailure(r *http.Request, path string, logger *slog.Logger, e *Error, err error) {
	if logger == nil || StatusOf(e) < 500 {
		return
	}
	ctx := r.Context()
	if ctx.Err() != nil {
		// The client went away (the app cancels the suggest request of the
		// previous keystroke): nobody reads the answer and nothing failed.
		logger.DebugContext(ctx, "client gone", "path", path, "err", Withheld(err))
		return
	}
	logger.ErrorContext(ctx, "request failed", "path", path, "code", e.Code, "err", Withheld(err))
}

// abort writes e (with extra members) as the envelope, with the request's
// id, and aborts the chain. e itself is not changed: errors may be shared
// values.
func abort(c *gin.Context, e *Error, extra map[string]any) {
	status, body := envelope(e, RequestIDFrom(c), extra)
	setRetryAfter(c.Writer.Header(), e)
	c.Abort()
	c.Data(status, "application/json; charset=utf-8", body)
}

// envelope is the status and body of e, stamped with requestID.
func envelope(e *Error, requestID string, extra map[string]any) (int, []byte) {
	out := *e
	out.RequestID = requestID
	body, err := json.Marshal(&out)
	if err == nil && len(extra) > 0 {
		body, err = withMembers(body, extra)
	}
	if err != nil { // only extra can fail to encode: the envelope alone
		body, _ = json.Marshal(&out)
	}
	return StatusOf(e), body
}

// withMembers adds extra's members to the JSON object body, keeping body's.
func withMembers(body []byte, extra map[string]any) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if _, taken := m[k]; !taken {
			m[k] = v
		}
	}
	return json.Marshal(m)
}

// setRetryAfter sends e's wait (429, 503) in whole seconds, at least 1.
func setRetryAfter(h http.Header, e *Error) {
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(e.RetryAfter.Seconds())), 10))
	}
}
