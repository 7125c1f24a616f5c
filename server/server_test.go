package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/config"
)

// A 405 names the methods the resource supports (RFC 9110 §15.5.6), in the
// one error envelope.
func TestMethodNotAllowedNamesAllow(t *testing.T) {
	s := New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, func(e *gin.Engine) {
		e.GET("/v1/things/search", func(c *gin.Context) { c.Status(http.StatusOK) })
		e.POST("/v1/things", func(c *gin.Context) { c.Status(http.StatusCreated) })
		e.GET("/v1/things", func(c *gin.Context) { c.Status(http.StatusOK) })
		e.GET("/v1/things/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
		e.PUT("/v1/things/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
		e.GET("/v1/other/search", func(c *gin.Context) { c.Status(http.StatusOK) })
	})
	cases := []struct {
		method, path, allow string
	}{
		{http.MethodOptions, "/v1/things/search", "GET"}, // not PUT, although PUT /v1/things/:id has its shape
		{http.MethodDelete, "/v1/things/search", "GET"},
		{http.MethodPut, "/v1/things", "GET, POST"},
		{http.MethodOptions, "/v1/other/search", "GET"},
		{http.MethodDelete, "/v1/things/7", "GET, PUT"},
		{http.MethodPost, "/v1/things/7", "GET, PUT"},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: %d, want 405", tc.method, tc.path, w.Code)
			continue
		}
		if got := w.Header().Get("Allow"); got != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
	}
}
