package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/ecslog"
	"github.com/soomcare/soomcare/web"
)

// lockedBuffer collects the JSON lines of a server under test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, raw := range bytes.Split(bytes.TrimSpace(b.buf.Bytes()), []byte("\n")) {
		if len(raw) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("log line is not JSON: %s", raw)
		}
		out = append(out, m)
	}
	return out
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// loggedServer is the real router (NewWith, every middleware) logging ECS
// JSON lines into a buffer, with routes that fail in the ways handlers do.
func loggedServer(t *testing.T) (*Server, *lockedBuffer) {
	t.Helper()
	var out lockedBuffer
	log := ecslog.New(&out, ecslog.Options{Format: ecslog.FormatJSON, Level: slog.LevelInfo, Service: "soomcare-api"})
	cfg := config.HTTP{MaxBodyBytes: 1024, TrustedProxies: []string{"10.0.0.0/8"}}
	kit := web.NewKit(log, nil)
	s := NewWith(cfg, log, nil, Options{}, func(e *gin.Engine) {
		e.GET("/v1/ok", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) })
		e.GET("/v1/engine-down", kit.Handle(func(c *gin.Context) (web.Answer, error) {
			return web.Answer{}, web.Unavailable("검색을 할 수 없습니다.", errors.New("engine: dial tcp 10.1.2.3:9200: connection refused"))
		}))
		e.GET("/v1/boom", func(*gin.Context) { panic("boom") })
		e.GET("/v1/me", web.RequireAuth(), func(c *gin.Context) { c.Status(http.StatusNoContent) })
		e.GET("/v1/signed-in", func(c *gin.Context) {
			web.SetPrincipal(c, web.Principal{UserID: 42, Role: web.RoleUser})
			c.Status(http.StatusNoContent)
		})
		e.POST("/v1/upload", kit.Handle(func(c *gin.Context) (web.Answer, error) {
			var v map[string]any
			if err := json.NewDecoder(c.Request.Body).Decode(&v); err != nil {
				return web.Answer{}, err
			}
			return web.NoContent(), nil
		}))
	})
	return s, &out
}

var generatedID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// One request's id is in its answer header, its error envelope and every
// log line of that request (the access line and the error line alike); an
// id that is not 1–64 of [A-Za-z0-9._-] is replaced, never logged.
func TestRequestIDThreadsAnswerEnvelopeAndLogs(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		header     string // X-Request-ID sent ("" none)
		keep       bool   // the sent id is kept
		status     int
		envelope   bool   // an error envelope is expected
		errorLines int    // lines at error besides the access line
		userID     string // user.id in the access line
	}{
		{name: "kept id, engine down", method: "GET", path: "/v1/engine-down", header: "req-Abc_1.2", keep: true, status: 503, envelope: true, errorLines: 1},
		{name: "kept id, success", method: "GET", path: "/v1/ok", header: "ok-1", keep: true, status: 200},
		{name: "no id", method: "GET", path: "/v1/engine-down", status: 503, envelope: true, errorLines: 1},
		{name: "spaces replaced", method: "GET", path: "/v1/ok", header: "id with spaces", status: 200},
		{name: "markup replaced", method: "GET", path: "/v1/nowhere", header: "<script>alert(1)</script>", status: 404, envelope: true},
		{name: "65 characters replaced", method: "GET", path: "/v1/me", header: strings.Repeat("a", 65), status: 401, envelope: true},
		{name: "64 characters kept", method: "GET", path: "/v1/me", header: strings.Repeat("b", 64), keep: true, status: 401, envelope: true},
		{name: "non-ASCII replaced", method: "GET", path: "/v1/ok", header: "천식", status: 200},
		{name: "405", method: "DELETE", path: "/v1/ok", header: "m-405", keep: true, status: 405, envelope: true},
		{name: "413 declared", method: "POST", path: "/v1/upload", body: strings.Repeat("x", 2048), header: "big-1", keep: true, status: 413, envelope: true},
		{name: "panic", method: "GET", path: "/v1/boom", header: "panic-1", keep: true, status: 500, envelope: true, errorLines: 1},
		{name: "signed in", method: "GET", path: "/v1/signed-in", header: "u-42", keep: true, status: 204, userID: "42"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, out := loggedServer(t)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.header != "" {
				req.Header.Set(web.RequestIDHeader, tt.header)
			}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, req)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			id := w.Header().Get(web.RequestIDHeader)
			switch {
			case tt.keep && id != tt.header:
				t.Fatalf("X-Request-ID %q, want the client's %q", id, tt.header)
			case !tt.keep && !generatedID.MatchString(id):
				t.Fatalf("X-Request-ID %q, want a generated id", id)
			}
			if tt.envelope {
				var env map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env["request_id"] != id || env["code"] == nil {
					t.Errorf("envelope %s: request_id should be %q (%v)", w.Body, id, err)
				}
			}
			lines := out.lines(t)
			if len(lines) != 1+tt.errorLines {
				t.Fatalf("%d log lines, want %d:\n%s", len(lines), 1+tt.errorLines, out)
			}
			for _, l := range lines {
				if l["http.request.id"] != id {
					t.Errorf("line without the request's id %q: %v", id, l)
				}
			}
			if tt.header != "" && !tt.keep && strings.Contains(out.String(), tt.header) {
				t.Errorf("a refused id reached the log: %s", out)
			}
			access := lines[len(lines)-1]
			if access["message"] != "request" || access["http.response.status_code"] != float64(tt.status) {
				t.Errorf("last line is not the access line of a %d: %v", tt.status, access)
			}
			if got, _ := access["user.id"].(string); got != tt.userID {
				t.Errorf("user.id %q, want %q", got, tt.userID)
			}
			for _, l := range lines[:len(lines)-1] {
				if l["log.level"] != "error" {
					t.Errorf("line before the access line: %v", l)
				}
			}
		})
	}
}

// The access line: exactly the ECS names, with their JSON types; the query
// (search terms) never logged; client.ip behind a trusted proxy.
func TestAccessLineECSNamesAndTypes(t *testing.T) {
	s, out := loggedServer(t)
	req := httptest.NewRequest(http.MethodGet, "/v1/ok?q=%EC%B2%9C%EC%8B%9D+%ED%9D%A1%EC%9E%85%EA%B8%B0", nil)
	req.RemoteAddr = "10.0.0.5:4321"
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	s.Handler().ServeHTTP(httptest.NewRecorder(), req)
	lines := out.lines(t)
	if len(lines) != 1 {
		t.Fatalf("lines: %s", out)
	}
	l := lines[0]
	want := map[string]any{
		"log.level": "info", "message": "request", "http.request.method": "GET", "url.path": "/v1/ok",
		"http.response.status_code": float64(200), "client.ip": "203.0.113.7", "service.name": "soomcare-api",
		"ecs.version": ecslog.Version,
	}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("%s = %#v, want %#v", k, l[k], v)
		}
	}
	if ts, ok := l["@timestamp"].(string); !ok || !strings.HasSuffix(ts, "Z") {
		t.Errorf("@timestamp %#v", l["@timestamp"])
	}
	if d, ok := l["event.duration"].(float64); !ok || d <= 0 || d != float64(int64(d)) {
		t.Errorf("event.duration %#v: want whole nanoseconds", l["event.duration"])
	}
	if id, ok := l["http.request.id"].(string); !ok || !generatedID.MatchString(id) {
		t.Errorf("http.request.id %#v", l["http.request.id"])
	}
	if _, ok := l["user.id"]; ok {
		t.Errorf("user.id on an anonymous request")
	}
	for _, k := range []string{"time", "level", "msg", "method", "path", "status"} {
		if _, ok := l[k]; ok {
			t.Errorf("non-ECS key %q in %v", k, l)
		}
	}
	if strings.Contains(out.String(), "천식") || strings.Contains(out.String(), "q=") || strings.Contains(out.String(), "%EC") {
		t.Errorf("the query reached the log: %s", out)
	}
}
