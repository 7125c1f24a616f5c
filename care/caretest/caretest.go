// Package caretest is what the tests of the care packages (records,
// medication, reminder, report) share: users in a test database, a router
// built like `serve` builds it (auth.Middleware with real access tokens) and
// a client whose every answer is validated against the OpenAPI document.
package caretest

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

// MaxBody is the body limit of test routers (small, to test 413 cheaply).
const MaxBody = 8 << 10

// NewUser inserts a user and returns its id.
func NewUser(tb testing.TB, db *sql.DB, nickname string) uint64 {
	tb.Helper()
	res, err := db.Exec(`INSERT INTO users (email, nickname) VALUES (?, ?)`, nickname+"@example.test", nickname)
	if err != nil {
		tb.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return uint64(id)
}

// Env is a router with real authentication and a validating client.
type Env struct {
	Handler   http.Handler
	Issuer    *auth.TokenIssuer
	Validator *apidoctest.Validator
}

// Auth returns the authentication middleware of the env's issuer (pass it as
// the Auth option of the API under test).
func Auth(iss *auth.TokenIssuer) gin.HandlerFunc { return auth.Middleware(iss) }

// New builds the router from mounts, as server.New does for `serve`.
func New(tb testing.TB, iss *auth.TokenIssuer, mounts ...func(*gin.Engine)) *Env {
	tb.Helper()
	srv := server.New(config.HTTP{MaxBodyBytes: MaxBody}, slog.New(slog.DiscardHandler), nil, mounts...)
	return &Env{Handler: srv.Handler(), Issuer: iss, Validator: apidoctest.New(tb)}
}

// Issuer returns a test token issuer.
func Issuer(tb testing.TB) *auth.TokenIssuer { return authtest.NewIssuer(tb, nil) }

// Response is a validated answer.
type Response struct {
	Code int
	Body []byte
	Rec  *httptest.ResponseRecorder
}

// JSON decodes the body into v.
func (r Response) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r Response) Map(tb testing.TB) map[string]any {
	var m map[string]any
	r.JSON(tb, &m)
	return m
}

// Do sends a request as user (0: anonymous); body is JSON-encoded unless it
// is a string or []byte (sent as is). The answer is validated.
func (e *Env) Do(tb testing.TB, user uint64, method, path string, body any) Response {
	tb.Helper()
	return e.DoHeader(tb, user, method, path, body, nil)
}

// DoHeader is Do with extra request headers (If-None-Match, …).
func (e *Env) DoHeader(tb testing.TB, user uint64, method, path string, body any, header http.Header) Response {
	tb.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if user != 0 {
		req.Header.Set("Authorization", authtest.Bearer(tb, e.Issuer, web.Principal{UserID: user, Role: web.RoleUser}))
	}
	rec := e.Validator.Serve(tb, e.Handler, req)
	return Response{Code: rec.Code, Body: rec.Body.Bytes(), Rec: rec}
}

// DoAs is Do with an explicit principal (roles).
func (e *Env) DoAs(tb testing.TB, p web.Principal, method, path string, body any) Response {
	tb.Helper()
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", authtest.Bearer(tb, e.Issuer, p))
	rec := e.Validator.Serve(tb, e.Handler, req)
	return Response{Code: rec.Code, Body: rec.Body.Bytes(), Rec: rec}
}

// Expect fails unless the answer has status and, for errors, code.
func Expect(tb testing.TB, r Response, status int, code string) {
	tb.Helper()
	if r.Code != status {
		tb.Fatalf("status %d, want %d: %s", r.Code, status, r.Body)
	}
	if code != "" {
		var e struct {
			Code string `json:"code"`
		}
		json.Unmarshal(r.Body, &e)
		if e.Code != code {
			tb.Fatalf("code %q, want %q: %s", e.Code, code, r.Body)
		}
	}
}

// Count returns SELECT COUNT(*) FROM table WHERE user_id = user.
func Count(tb testing.TB, db *sql.DB, table string, user uint64) int {
	tb.Helper()
	var n int
	if err := db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE user_id = ?", table), user).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}
