package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/ecslog"
)

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"req-1.2_3", true},
		{"0123456789abcdef0123456789abcdef", true},
		{strings.Repeat("x", MaxRequestIDLen), true},
		{strings.Repeat("x", MaxRequestIDLen+1), false},
		{"", false},
		{"has space", false},
		{"new\nline", false},
		{"quote\"", false},
		{"천식", false},
		{"a/b", false},
		{"a=b", false},
	}
	for _, tt := range tests {
		if got := ValidRequestID(tt.id); got != tt.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// BenchmarkRequestLogging is the cost of the request id and the access
// line per request (go test -bench RequestLogging ./web): the same Gin
// route without them, with them but the logger above info (the line
// skipped), and writing ECS JSON or text lines to io.Discard. Compare the
// difference with the API's search p50 (docs/logs.md).
func BenchmarkRequestLogging(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	cases := []struct {
		name string
		log  *slog.Logger // nil: no request id, no access log
	}{
		{"off", nil},
		{"level-warn", ecslog.New(io.Discard, ecslog.Options{Format: ecslog.FormatJSON, Level: slog.LevelWarn})},
		{"json", ecslog.New(io.Discard, ecslog.Options{Format: ecslog.FormatJSON, Service: "soomcare-api"})},
		{"text", ecslog.New(io.Discard, ecslog.Options{Format: ecslog.FormatText})},
	}
	for _, c := range cases {
		e := gin.New()
		e.ContextWithFallback = true
		if c.log != nil {
			e.Use(RequestID(), AccessLog(c.log, nil))
		}
		e.GET("/v1/posts/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		req := httptest.NewRequest("GET", "/v1/posts/123", nil)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			w := httptest.NewRecorder()
			for b.Loop() {
				e.ServeHTTP(w, req)
			}
		})
	}
}
