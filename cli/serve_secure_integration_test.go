package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
)

// startServeEnv runs `soomcare serve` in-process on the scratch database dsn
// with extra settings and returns its base URL.
func startServeEnv(t *testing.T, dsn string, extra ...string) string {
	t.Helper()
	addr := freeAddr(t)
	environ := append([]string{
		"SOOMCARE_MYSQL_DSN=" + dsn, "SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + testenv.OpenSearchURL(t), "SOOMCARE_SEARCH_MAX_RETRIES=0",
		"SOOMCARE_HTTP_ADDR=" + addr, "SOOMCARE_STARTUP_WAIT_TIMEOUT=20s",
	}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, &bytes.Buffer{}, stderr, environ) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15s")
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return base
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s", code, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not answer /healthz: %s", stderr.String())
	return ""
}

// Every answer of the real `serve` wiring carries the security headers;
// answers with tokens or personal data are no-store, the calendar is
// revalidated (private, no-cache + ETag → 304), and CORS answers the
// configured origin only.
func TestIntegrationServeSecurityHeadersAndCORS(t *testing.T) {
	_, dsn := testdb.New(t)
	const origin = "https://app.soomcare.kr"
	base := startServeEnv(t, dsn, "SOOMCARE_HTTP_CORS_ALLOWED_ORIGINS="+origin)

	do := func(method, path, body string, header map[string]string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	check := func(name string, res *http.Response, status int, cache string) {
		t.Helper()
		if res.StatusCode != status {
			t.Errorf("%s: status %d, want %d", name, res.StatusCode, status)
		}
		for k, v := range map[string]string{
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'", "Cache-Control": cache,
		} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
	}

	email := fmt.Sprintf("secure-%d@example.com", time.Now().UnixNano())
	res := do("POST", "/v1/auth/signup", `{"email":"`+email+`","password":"correct horse battery","nickname":"보안"}`, nil)
	check("signup", res, http.StatusCreated, "no-store")
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tokens); err != nil || tokens.AccessToken == "" {
		t.Fatalf("signup answer: %v %+v", err, tokens)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tokens.AccessToken, "Origin": origin}

	check("login refused (error envelope)", do("POST", "/v1/auth/login", `{"email":"`+email+`","password":"wrong password!"}`, nil),
		http.StatusUnauthorized, "no-store")
	check("me", do("GET", "/v1/me", "", bearer), http.StatusOK, "no-store")
	check("records", do("GET", "/v1/me/medications", "", bearer), http.StatusOK, "no-store")
	if res := do("GET", "/v1/search?q=%EC%B2%9C%EC%8B%9D", "", nil); res.StatusCode == http.StatusOK {
		check("search", res, http.StatusOK, "no-store")
	} else {
		check("search (engine without the alias)", res, http.StatusServiceUnavailable, "no-store")
	}
	check("search without q (error envelope)", do("GET", "/v1/search", "", nil), http.StatusBadRequest, "no-store")
	check("404", do("GET", "/v1/nope", "", nil), http.StatusNotFound, "no-store")

	res = do("GET", "/v1/me/calendar?month=2025-01", "", bearer)
	check("calendar", res, http.StatusOK, "private, no-cache")
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("calendar without ETag")
	}
	if got := res.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("calendar: Access-Control-Allow-Origin = %q, want %q", got, origin)
	}
	bearer["If-None-Match"] = etag
	check("calendar revalidated", do("GET", "/v1/me/calendar?month=2025-01", "", bearer), http.StatusNotModified, "private, no-cache")

	res = do("OPTIONS", "/v1/me/calendar", "", map[string]string{"Origin": origin,
		"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization,if-none-match"})
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != origin ||
		res.Header.Get("Access-Control-Allow-Headers") != "authorization,if-none-match" {
		t.Errorf("preflight = %d %v", res.StatusCode, res.Header)
	}
	res = do("OPTIONS", "/v1/me/calendar", "", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
	if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight from a disallowed origin got CORS headers: %v", res.Header)
	}
	if res := do("GET", "/v1/me", "", map[string]string{"Authorization": bearer["Authorization"], "Origin": "https://evil.example"}); res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("disallowed origin got Access-Control-Allow-Origin %q", res.Header.Get("Access-Control-Allow-Origin"))
	}
}
