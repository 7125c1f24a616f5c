package auth_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/auth"
)

// login posts credentials from client (RemoteAddr host) to h and checks the
// answer against the document.
func (e *env) login(h http.Handler, client, email, password string, header ...string) (int, map[string]any, http.Header) {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	req := httptest.NewRequest("POST", "/v1/auth/login", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = netip.AddrPortFrom(netip.MustParseAddr(client), 40000).String()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := e.v.Serve(e.t, h, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out, rec.Header()
}

func throttled(account, ip int) func(*auth.ServiceOptions, *auth.APIOptions) {
	return func(o *auth.ServiceOptions, _ *auth.APIOptions) {
		o.LoginThrottle = auth.ThrottleConfig{AccountFailures: account, IPFailures: ip, Window: 10 * time.Minute}
	}
}

func (e *env) signUp(email, nickname string) {
	e.t.Helper()
	if st, body := e.do("POST", "/v1/auth/signup", "", map[string]any{"email": email, "password": "천식관리1234", "nickname": nickname}); st != 201 {
		e.t.Fatalf("signup %d %v", st, body)
	}
}

// Failures for one account are counted across two `serve` instances (MySQL,
// not memory); past the limit every login answers 429 with Retry-After and
// no password hash runs; after the window a good password gets in and clears
// the account's count.
func TestLoginThrottlePerAccount(t *testing.T) {
	e := newEnv(t, throttled(3, 0))
	e.signUp("minji@example.com", "민지")
	a, b := e.h, e.instance()
	start := e.now

	for i, h := range []http.Handler{a, b, a} {
		if st, body, _ := e.login(h, "198.51.100.7", "minji@example.com", "wrong-password"); st != 401 || code(body) != "invalid_credentials" {
			t.Fatalf("failure %d: %d %v", i+1, st, body)
		}
	}
	if n := e.hashes.Load(); n != 3 {
		t.Fatalf("%d password checks for 3 failed logins", n)
	}
	e.now = start.Add(4 * time.Minute)
	tests := []struct {
		name, client, email, password string
		retryAfter                    string
	}{
		{"right password, other instance", "198.51.100.7", "minji@example.com", "천식관리1234", "360"},
		{"from another address", "203.0.113.50", "minji@example.com", "wrong-password", "360"},
		{"e-mail in other case", "198.51.100.7", " MINJI@example.com", "천식관리1234", "360"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body, h := e.login(b, tt.client, tt.email, tt.password)
			if st != 429 || code(body) != "login_throttled" || h.Get("Retry-After") != tt.retryAfter {
				t.Errorf("%d %v Retry-After %q, want 429 login_throttled %s", st, body, h.Get("Retry-After"), tt.retryAfter)
			}
		})
	}
	if n := e.hashes.Load(); n != 3 {
		t.Errorf("throttled logins ran %d more password checks; they must run none", n-3)
	}
	// An unknown address is throttled the same way (no account enumeration).
	for range 3 {
		e.login(a, "198.51.100.8", "nobody@example.com", "x-password")
	}
	if st, body, _ := e.login(a, "198.51.100.8", "nobody@example.com", "x-password"); st != 429 || code(body) != "login_throttled" {
		t.Errorf("unknown e-mail: %d %v", st, body)
	}

	// The window ends: a good password gets in, and the count starts again from zero.
	e.now = start.Add(10 * time.Minute)
	if st, body, _ := e.login(a, "198.51.100.7", "minji@example.com", "천식관리1234"); st != 200 {
		t.Fatalf("after the window: %d %v", st, body)
	}
	var rows int
	e.db.QueryRow(`SELECT COUNT(*) FROM login_throttles WHERE scope = 'account' AND subject = UNHEX(SHA2(CONCAT('login-throttle/account', CHAR(0), 'minji@example.com'), 256))`).Scan(&rows)
	if rows != 0 {
		t.Errorf("the account's count is still stored after a successful login")
	}
	for i := range 2 {
		if st, _, _ := e.login(b, "198.51.100.7", "minji@example.com", "wrong-password"); st != 401 {
			t.Fatalf("failure %d after success: %d", i+1, st)
		}
	}
	if st, body, _ := e.login(a, "198.51.100.7", "minji@example.com", "천식관리1234"); st != 200 {
		t.Fatalf("2 failures after a reset must not throttle: %d %v", st, body)
	}
	for i := range 3 {
		if st, _, _ := e.login(b, "198.51.100.7", "minji@example.com", "wrong-password"); st != 401 {
			t.Fatalf("success must reset the count: failure %d answered %d", i+1, st)
		}
	}
	if st, _, _ := e.login(a, "198.51.100.7", "minji@example.com", "천식관리1234"); st != 429 {
		t.Errorf("fourth attempt after 3 new failures: %d", st)
	}
}

// Failures from one client address over many accounts are limited too; an
// IPv6 client is its /64; X-Forwarded-For counts only from a trusted proxy.
func TestLoginThrottlePerAddress(t *testing.T) {
	e := newEnv(t, throttled(0, 4), func(_ *auth.ServiceOptions, a *auth.APIOptions) {
		a.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	e.signUp("seojun@example.com", "서준")
	clients := []struct{ remote, xff string }{
		{"2001:db8:1:2::10", ""},
		{"2001:db8:1:2:ffff::1", ""}, // same /64
		{"10.1.1.1", "2001:db8:1:2::99"},
		{"10.2.2.2", "192.0.2.200, 2001:db8:1:2::7"}, // only the right-most untrusted hop counts
	}
	for i, c := range clients {
		st, body, _ := e.login(e.h, c.remote, "guess"+itoa(int64(i))+"@example.com", "wrong-password", "X-Forwarded-For", c.xff)
		if st != 401 {
			t.Fatalf("failure %d: %d %v", i+1, st, body)
		}
	}
	tests := []struct {
		name, remote, xff string
		status            int
	}{
		{"same /64, real account", "2001:db8:1:2::abcd", "", 429},
		{"same /64 behind the proxy", "10.9.9.9", "2001:db8:1:2::1", 429},
		{"other /64", "2001:db8:1:3::1", "", 200},
		{"untrusted peer claiming the address", "198.51.100.1", "2001:db8:1:2::1", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body, h := e.login(e.h, tt.remote, "seojun@example.com", "천식관리1234", "X-Forwarded-For", tt.xff)
			if st != tt.status || (st == 429 && (code(body) != "login_throttled" || h.Get("Retry-After") != "600")) {
				t.Errorf("%d %v Retry-After %q, want %d", st, body, h.Get("Retry-After"), tt.status)
			}
		})
	}
	// A success does not clear the address's earlier failures (a guesser
	// cannot reset the count by logging into an account of their own).
	var failures int
	e.db.QueryRow(`SELECT MAX(failures) FROM login_throttles WHERE scope = 'ip'`).Scan(&failures)
	if failures != 4 {
		t.Errorf("address count %d after the successes, want 4", failures)
	}
}

// Concurrent wrong passwords for one account: exactly the limit reach the
// password check, the rest are refused before it.
func TestLoginThrottleConcurrent(t *testing.T) {
	e := newEnv(t, throttled(3, 0))
	e.signUp("jiwoo@example.com", "지우")
	handlers := []http.Handler{e.h, e.instance()}
	const n = 12
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _, _ = e.login(handlers[i%2], "198.51.100.7", "jiwoo@example.com", "wrong-password")
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[401] != 3 || count[429] != n-3 {
		t.Errorf("statuses %v, want 3×401 and %d×429", count, n-3)
	}
	if h := e.hashes.Load(); h != 3 {
		t.Errorf("%d password checks, want exactly 3", h)
	}
}
