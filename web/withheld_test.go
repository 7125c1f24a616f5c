package web

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// A 500's cause is logged without the values MySQL or the engine quote.
func TestFailWithholdsQuotedValues(t *testing.T) {
	cases := []error{
		fmt.Errorf("insert user: %w", errors.New("Error 1062 (23000): Duplicate entry 'alice@x.com 010-1234-5678' for key 'users.email'")),
		errors.New(`engine: failed to parse field [title] of type [text]: "천식 진단 010-1234-5678"`),
		errors.New("reason: `010-1234-5678` is not a number"),
	}
	for _, err := range cases {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		gin.SetMode(gin.ReleaseMode)
		e := gin.New()
		e.GET("/x", func(c *gin.Context) { Fail(c, logger, err) })
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
		if w.Code != http.StatusInternalServerError {
			t.Fatalf("status %d", w.Code)
		}
		out := buf.String()
		if strings.Contains(out, "010-1234-5678") || strings.Contains(out, "alice") || strings.Contains(w.Body.String(), "010") {
			t.Errorf("value leaked: log %q body %q", out, w.Body.String())
		}
		if !strings.Contains(out, "request failed") || !strings.Contains(out, "[withheld]") {
			t.Errorf("log %q lacks the failure", out)
		}
	}
}
