// Package webtest holds test helpers for package web's users.
package webtest

import (
	"errors"
	"testing"
	"time"

	"github.com/soomcare/soomcare/web"
)

// Mapped is what an area's error table must answer for Err.
type Mapped struct {
	Err        error
	Status     int
	Code       string
	RetryAfter time.Duration
}

// CheckTable fails t for every case that table maps to another status,
// code or Retry-After, or to no message.
func CheckTable(t testing.TB, table web.Errors, cases []Mapped) {
	t.Helper()
	for _, c := range cases {
		var e *web.Error
		if !errors.As(table.Map(c.Err), &e) {
			t.Errorf("%v: not mapped", c.Err)
			continue
		}
		if web.StatusOf(e) != c.Status || e.Code != c.Code || e.RetryAfter != c.RetryAfter || e.Message == "" {
			t.Errorf("%v: %d %s %v %q, want %d %s %v", c.Err, web.StatusOf(e), e.Code, e.RetryAfter, e.Message, c.Status, c.Code, c.RetryAfter)
		}
	}
}
