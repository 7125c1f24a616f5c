package web

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

const testOrigin = "https://app.soomcare.kr"

// secureEngine is a router with the shared middleware in the order
// server.New uses, and one route of each kind of answer.
func secureEngine(origins []string) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(Recovery(logger), SecurityHeaders(), CORS(origins))
	e.NoRoute(NotFound)
	e.NoMethod(MethodNotAllowed)
	e.GET("/v1/search", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"items": []string{}}) })
	e.GET("/v1/fail", func(c *gin.Context) { Fail(c, logger, errors.New("boom")) })
	e.GET("/v1/panic", func(c *gin.Context) { panic("boom") })
	e.GET("/v1/me/calendar", func(c *gin.Context) {
		c.Header("ETag", `"e1"`)
		c.Header("Cache-Control", "private, no-cache")
		if c.GetHeader("If-None-Match") == `"e1"` {
			c.Status(http.StatusNotModified)
			return
		}
		c.JSON(http.StatusOK, gin.H{"days": []string{}})
	})
	return e
}

func serve(e http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	e := secureEngine(nil)
	tests := []struct {
		name, method, path string
		status             int
		cache              string
	}{
		{"ok", "GET", "/v1/search", 200, "no-store"},
		{"error envelope", "GET", "/v1/fail", 500, "no-store"},
		{"panic", "GET", "/v1/panic", 500, "no-store"},
		{"404", "GET", "/nope", 404, "no-store"},
		{"405", "POST", "/v1/search", 405, "no-store"},
		{"handler's own cache policy wins", "GET", "/v1/me/calendar", 200, "private, no-cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(e, tt.method, tt.path, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			checkSecurityHeaders(t, w.Header(), tt.cache)
		})
	}
}

func checkSecurityHeaders(t *testing.T, h http.Header, cache string) {
	t.Helper()
	want := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           cache,
	}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// The calendar's revalidation keeps working under the default no-store.
func TestSecurityHeadersKeepRevalidation(t *testing.T) {
	w := serve(secureEngine(nil), "GET", "/v1/me/calendar", map[string]string{"If-None-Match": `"e1"`})
	if w.Code != http.StatusNotModified || w.Header().Get("Cache-Control") != "private, no-cache" || w.Header().Get("ETag") != `"e1"` {
		t.Errorf("revalidation = %d %q %q", w.Code, w.Header().Get("Cache-Control"), w.Header().Get("ETag"))
	}
}

func corsHeaders(h http.Header) []string {
	var got []string
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			got = append(got, k)
		}
	}
	return got
}

func TestCORSOffByDefault(t *testing.T) {
	e := secureEngine(nil)
	for _, r := range []struct{ method, path string }{{"GET", "/v1/search"}, {"OPTIONS", "/v1/search"}, {"GET", "/nope"}} {
		w := serve(e, r.method, r.path, map[string]string{"Origin": testOrigin, "Access-Control-Request-Method": "GET"})
		if got := corsHeaders(w.Header()); len(got) != 0 {
			t.Errorf("%s %s: CORS headers %q with CORS off", r.method, r.path, got)
		}
	}
	if w := serve(e, "OPTIONS", "/v1/search", map[string]string{"Origin": testOrigin, "Access-Control-Request-Method": "GET"}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("preflight with CORS off = %d, want 405 (no route answers OPTIONS)", w.Code)
	}
}

func TestCORSAllowedOrigins(t *testing.T) {
	e := secureEngine([]string{testOrigin, "http://localhost:5173"})
	preflight := func(origin, method, headers string) map[string]string {
		h := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			h["Access-Control-Request-Headers"] = headers
		}
		return h
	}
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		allow              bool
	}{
		{"simple request, allowed origin", "GET", "/v1/search", map[string]string{"Origin": testOrigin}, 200, true},
		{"second allowed origin", "GET", "/v1/search", map[string]string{"Origin": "http://localhost:5173"}, 200, true},
		{"error envelope, allowed origin", "GET", "/v1/fail", map[string]string{"Origin": testOrigin}, 500, true},
		{"404, allowed origin", "GET", "/nope", map[string]string{"Origin": testOrigin}, 404, true},
		{"disallowed origin", "GET", "/v1/search", map[string]string{"Origin": "https://evil.example"}, 200, false},
		{"look-alike origin", "GET", "/v1/search", map[string]string{"Origin": "https://app.soomcare.kr.evil.example"}, 200, false},
		{"no origin", "GET", "/v1/search", nil, 200, false},
		{"preflight", "OPTIONS", "/v1/me/calendar", preflight(testOrigin, "GET", "authorization, if-none-match, x-request-id"), 204, true},
		// Browsers list the headers lower-cased and sorted (Fetch standard), as here.
		{"preflight with a body", "OPTIONS", "/v1/search", preflight(testOrigin, "PUT", "authorization,content-type"), 204, true},
		{"preflight, disallowed origin", "OPTIONS", "/v1/search", preflight("https://evil.example", "GET", "Authorization"), 204, false},
		{"preflight, disallowed header", "OPTIONS", "/v1/search", preflight(testOrigin, "GET", "X-Evil"), 204, false},
		{"preflight, disallowed method", "OPTIONS", "/v1/search", preflight(testOrigin, "TRACE", ""), 204, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(e, tt.method, tt.path, tt.header)
			h := w.Header()
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if !slicesContainsFold(h.Values("Vary"), "Origin") {
				t.Errorf("Vary = %q, want Origin in it", h.Values("Vary"))
			}
			checkSecurityHeaders(t, h, h.Get("Cache-Control"))
			if !tt.allow {
				if got := corsHeaders(h); len(got) != 0 {
					t.Errorf("CORS headers %q for a refused request", got)
				}
				return
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tt.header["Origin"] {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.header["Origin"])
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials allowed: the API takes bearer tokens, not cookies")
			}
			if tt.method != "OPTIONS" {
				if got := h.Get("Access-Control-Expose-Headers"); got != "Etag, Retry-After, X-Request-Id" {
					t.Errorf("Access-Control-Expose-Headers = %q", got)
				}
				return
			}
			if got := h.Get("Access-Control-Allow-Methods"); got != tt.header["Access-Control-Request-Method"] {
				t.Errorf("Access-Control-Allow-Methods = %q", got)
			}
			if got := h.Get("Access-Control-Allow-Headers"); !strings.EqualFold(got, tt.header["Access-Control-Request-Headers"]) {
				t.Errorf("Access-Control-Allow-Headers = %q", got)
			}
			if h.Get("Access-Control-Max-Age") != "600" {
				t.Errorf("Access-Control-Max-Age = %q", h.Get("Access-Control-Max-Age"))
			}
		})
	}
}

func slicesContainsFold(values []string, want string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), want) {
				return true
			}
		}
	}
	return false
}
