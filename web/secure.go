package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/rs/cors"
)

// SecurityHeaders sets, before any handler runs, the headers every API
// answer carries (errors, 404 and 405 included): no MIME sniffing, no
// framing, no referrer, no content loaded by a browser that renders the
// answer, and Cache-Control: no-store, since answers carry tokens or
// personal data and search pages list posts that moderation may hide. A
// handler whose answer may be kept sets its own Cache-Control over it: the
// calendar (private, no-cache: the app revalidates its ETag and gets 304),
// the OpenAPI document and uploaded images (public).
func SecurityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		c.Next()
	}
}

// CORS lets the web pages of origins (exact "scheme://host[:port]" values,
// checked by config) call the API from a browser; with no origins it does
// nothing and no answer carries a CORS header. A preflight (OPTIONS with
// Access-Control-Request-Method) is answered 204 here, before routing and
// authentication, with the CORS headers only when its origin, method and
// headers are allowed. Credentials are not allowed: the API takes bearer
// tokens, never cookies. rs/cors does the header work (Vary, preflight
// checks, header-name matching) so none of it is hand-rolled here.
func CORS(origins []string) gin.HandlerFunc {
	if len(origins) == 0 {
		// rs/cors treats an empty list as "every origin": never build it so.
		return func(c *gin.Context) { c.Next() }
	}
	co := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "If-None-Match", "X-Request-ID"},
		ExposedHeaders: []string{"ETag", "Retry-After", "X-Request-ID"},
		MaxAge:         600, // seconds a browser may reuse a preflight answer
	})
	return func(c *gin.Context) {
		co.HandlerFunc(c.Writer, c.Request) // a preflight's status (204) is written here
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			c.Abort()
			return
		}
		c.Next()
	}
}
