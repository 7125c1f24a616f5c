package telemetry

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// BenchmarkMiddleware is the request middleware's own cost: the same Gin
// route with and without it (go test -bench Middleware ./telemetry).
// Compare the difference with the API's search p50 (docs/benchmarks.md).
func BenchmarkMiddleware(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	for _, on := range []bool{false, true} {
		name := "off"
		e := gin.New()
		if on {
			name = "on"
			e.Use(NewHTTP(prometheus.NewRegistry()).Middleware())
		}
		e.GET("/v1/posts/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
		req := httptest.NewRequest("GET", "/v1/posts/123", nil)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			w := httptest.NewRecorder()
			for b.Loop() {
				e.ServeHTTP(w, req)
			}
		})
	}
}
