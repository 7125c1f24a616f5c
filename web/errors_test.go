package web

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

type waitError struct{ wait time.Duration }

func (e *waitError) Error() string { return "wait" }

// Errors.Map answers with the first matching row: a sentinel (wrapped or
// not), a typed error through Match (its parts over the row's), a domain
// code with the status its row registers; a client error passes as it is,
// anything else unchanged (Fail: 500).
func TestErrorsMap(t *testing.T) {
	errGone := errors.New("gone")
	errTaken := errors.New("taken")
	table := Errors{
		{Match: func(err error) *Error {
			var w *waitError
			if !errors.As(err, &w) {
				return nil
			}
			return &Error{RetryAfter: w.wait}
		}, Code: "slow_down", Status: http.StatusTooManyRequests, Message: "잠시 후"},
		{Is: errGone, Code: CodeNotFound, Message: "없음"},
		{Is: errTaken, Code: "name_taken", Status: http.StatusConflict, Message: "사용 중"},
		{Is: errTaken, Code: "never", Message: "the first row wins"},
	}
	client := &Error{Code: CodeBadRequest, Message: "as is"}
	other := errors.New("boom")
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		msg     string
		wait    time.Duration
		same    error // the error Map must return unchanged
		noCause bool
	}{
		{"sentinel", errGone, http.StatusNotFound, CodeNotFound, "없음", 0, nil, false},
		{"wrapped sentinel", fmt.Errorf("store: %w", errGone), http.StatusNotFound, CodeNotFound, "없음", 0, nil, false},
		{"domain code with its status", errTaken, http.StatusConflict, "name_taken", "사용 중", 0, nil, false},
		{"typed error", fmt.Errorf("x: %w", &waitError{3 * time.Second}), http.StatusTooManyRequests, "slow_down", "잠시 후", 3 * time.Second, nil, false},
		{"client error as is", client, http.StatusBadRequest, CodeBadRequest, "as is", 0, client, true},
		{"wrapped client error as is", fmt.Errorf("x: %w", client), 0, "", "", 0, nil, true},
		{"unknown unchanged", other, 0, "", "", 0, other, true},
		{"nil", nil, 0, "", "", 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := table.Map(tt.err)
			if tt.code == "" {
				if got != tt.err {
					t.Fatalf("Map(%v) = %v, want it unchanged", tt.err, got)
				}
				return
			}
			var e *Error
			if !errors.As(got, &e) {
				t.Fatalf("Map(%v) = %v, not an *Error", tt.err, got)
			}
			if tt.same != nil && got != tt.same {
				t.Fatalf("Map(%v) = %v, want the same value", tt.err, got)
			}
			if StatusOf(e) != tt.status || e.Code != tt.code || e.Message != tt.msg || e.RetryAfter != tt.wait {
				t.Fatalf("Map(%v) = %d %s %q %v, want %d %s %q %v", tt.err, StatusOf(e), e.Code, e.Message, e.RetryAfter, tt.status, tt.code, tt.msg, tt.wait)
			}
			if !tt.noCause && !errors.Is(e, tt.err) && e.Err != tt.err {
				t.Fatalf("Map(%v): cause %v not kept", tt.err, e.Err)
			}
		})
	}
}
