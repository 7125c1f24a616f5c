package auth_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/web"
)

// snsToken is an ID token of the env's kakao provider for subject sub;
// mod adjusts the claims, kid the key id (default k1).
func (e *env) snsToken(sub string, mod func(jwt.MapClaims), kid string) string {
	e.t.Helper()
	c := jwt.MapClaims{"iss": e.issuer, "aud": "app-key", "sub": sub, "iat": e.now.Unix(), "exp": e.now.Add(10 * time.Minute).Unix()}
	if mod != nil {
		mod(c)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	if kid == "" {
		tok.Header["kid"] = "k1"
	}
	s, err := tok.SignedString(e.key)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) withNonce(n string) func(jwt.MapClaims) {
	return func(c jwt.MapClaims) { c["nonce"] = n }
}

// The ID token must carry a nonce the server issued, unexpired and unspent;
// its sign-in spends it. Before, a token without a nonce, or any token
// replayed within its lifetime, signed in.
func TestOIDCNonceRequired(t *testing.T) {
	e := newEnv(t)
	login := func(body map[string]any) (int, map[string]any) {
		return e.do("POST", "/v1/auth/oidc/kakao", "", body)
	}
	n := e.nonce()
	good := e.snsToken("kakao-1", e.withNonce(n), "")
	if st, body := login(map[string]any{"id_token": good, "nickname": "카카오"}); st != 201 {
		t.Fatalf("valid nonce: %d %v", st, body)
	}
	var spent int
	e.db.QueryRow(`SELECT COUNT(*) FROM oidc_nonces WHERE nonce_hash = UNHEX(SHA2(?, 256))`, n).Scan(&spent)
	if spent != 1 {
		t.Fatalf("the nonce must be stored hashed once spent (%d rows)", spent)
	}

	apple := e.nonce()
	hashed := sha256.Sum256([]byte(apple))
	expired := e.nonce()
	tests := []struct {
		name string
		body map[string]any
	}{
		{"no nonce in the token", map[string]any{"id_token": e.snsToken("kakao-1", nil, "")}},
		{"no nonce in the token, one sent", map[string]any{"id_token": e.snsToken("kakao-1", nil, ""), "nonce": e.nonce()}},
		{"nonce the server never issued", map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce("n-1"), ""), "nonce": "n-1"}},
		{"forged nonce", map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(forge(e.nonce())), "")}},
		{"replayed token", map[string]any{"id_token": good}},
		{"replayed nonce in a new token", map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(n), "")}},
		{"token nonce differs from the one sent", map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(e.nonce()), ""), "nonce": e.nonce()}},
		{"hashed nonce without the raw one", map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(hex.EncodeToString(hashed[:])), "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, body := login(tt.body); st != 401 || code(body) != "nonce_invalid" {
				t.Errorf("%d %v, want 401 nonce_invalid", st, body)
			}
		})
	}
	// Sign in with Apple: the token carries SHA-256(raw) in hex, the app sends raw.
	if st, body := login(map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(hex.EncodeToString(hashed[:])), ""), "nonce": apple}); st != 200 {
		t.Errorf("hashed nonce with the raw one: %d %v", st, body)
	}
	e.now = e.now.Add(11 * time.Minute) // nonce_ttl is 10 minutes
	if st, body := login(map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(expired), ""), "nonce": expired}); st != 401 || code(body) != "nonce_invalid" {
		t.Errorf("expired nonce: %d %v", st, body)
	}
	// Link refuses a token without a server nonce too.
	_, body := login(map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(e.nonce()), "")})
	access, _ := body["access_token"].(string)
	if st, body := e.do("POST", "/v1/me/identities/kakao", access, map[string]any{"id_token": e.snsToken("kakao-2", nil, "")}); st != 401 || code(body) != "nonce_invalid" {
		t.Errorf("link without nonce: %d %v", st, body)
	}
}

// forge flips the last byte of a nonce (its MAC).
func forge(n string) string {
	b, _ := base64.RawURLEncoding.DecodeString(n)
	b[len(b)-1] ^= 1
	return base64.RawURLEncoding.EncodeToString(b)
}

// jwksServer serves the env's key as k1 per path until failing is set; then
// it answers 500 after delay. hits counts requests per path.
type jwksServer struct {
	*httptest.Server
	failing atomic.Bool
	mu      sync.Mutex
	hits    map[string]int
}

func (e *env) jwksServer(delay time.Duration) *jwksServer {
	s := &jwksServer{hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if s.failing.Load() {
			time.Sleep(delay)
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		pub := e.key.PublicKey
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	}))
	e.t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// With the provider answering 500 slowly, 50 logins with an unknown key id
// cause one key-set fetch (single-flight), none more within the refetch
// interval, one more after it; a login with a known key id meanwhile
// answers at once. Before, each unknown kid fetched in turn under the
// cache's lock, and known-kid logins queued behind them.
func TestJWKSRefetchStorm(t *testing.T) {
	const delay = 2 * time.Second
	e := newEnv(t)
	srv := e.jwksServer(delay)
	clock := func() time.Time { return e.now }
	e.verifier = auth.NewOIDCVerifier([]auth.Provider{
		{Name: "kakao", Issuer: e.issuer, JWKSURL: srv.URL + "/kakao", Audience: []string{"app-key"}},
		{Name: "google", Issuer: "https://accounts.google.test", JWKSURL: srv.URL + "/google", Audience: []string{"g-client"}},
	}, auth.OIDCOptions{Client: srv.Client(), CacheTTL: time.Hour, RefetchInterval: time.Minute, FetchTimeout: 10 * time.Second, Now: clock})
	e.h = e.instance()

	known := func() (int, time.Duration) {
		start := time.Now()
		st, body := e.do("POST", "/v1/auth/oidc/kakao", "", map[string]any{"id_token": e.snsToken("kakao-1", e.withNonce(e.nonce()), "")})
		if st != 200 && st != 201 {
			t.Errorf("known kid: %d %v", st, body)
		}
		return st, time.Since(start)
	}
	known() // warms the cache: one fetch
	srv.failing.Store(true)
	e.now = e.now.Add(2 * time.Minute)

	storm := func(n int, provider string) map[int]int {
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, _ := e.do("POST", "/v1/auth/oidc/"+provider, "", map[string]any{"id_token": e.snsToken("kakao-1", nil, "k-rotated")})
				statuses <- st
			}()
		}
		wg.Wait()
		close(statuses)
		out := map[int]int{}
		for st := range statuses {
			out[st]++
		}
		return out
	}
	done := make(chan map[int]int)
	go func() { done <- storm(50, "kakao") }()
	time.Sleep(300 * time.Millisecond) // the storm's fetch is in flight
	if _, took := known(); took > delay/2 {
		t.Errorf("a known-kid login took %s while a fetch was in flight; it must not wait for it", took)
	}
	if got := <-done; got[401] != 50 {
		t.Errorf("unknown-kid logins: %v, want 50 × 401", got)
	}
	if n := srv.count("/kakao"); n != 2 {
		t.Errorf("%d key-set fetches, want 2 (the warm-up and one for the whole storm)", n)
	}

	// Within the interval: no fetch at all, answered at once from the cache.
	e.now = e.now.Add(30 * time.Second)
	start := time.Now()
	storm(20, "kakao")
	if n := srv.count("/kakao"); n != 2 || time.Since(start) > delay/2 {
		t.Errorf("within the interval: %d fetches after %s, want none more, at once", n, time.Since(start))
	}
	// After it: exactly one more.
	e.now = e.now.Add(31 * time.Second)
	storm(20, "kakao")
	if n := srv.count("/kakao"); n != 3 {
		t.Errorf("after the interval: %d fetches, want 3", n)
	}

	// Past the cache TTL a known key keeps answering at once while one
	// refresh runs in the background.
	e.now = e.now.Add(2 * time.Hour)
	if _, took := known(); took > delay/2 {
		t.Errorf("a known-kid login past the TTL took %s; it must not wait for the refresh", took)
	}
	known()
	time.Sleep(delay + 500*time.Millisecond)
	if n := srv.count("/kakao"); n != 4 {
		t.Errorf("past the TTL: %d fetches, want 4 (one background refresh)", n)
	}

	// A provider whose keys were never fetched: 503, and the failure is
	// cached for the interval too.
	if got := storm(20, "google"); got[503] != 20 || srv.count("/google") != 1 {
		t.Errorf("cold provider down: %v with %d fetches, want 20 × 503 and one fetch", got, srv.count("/google"))
	}
	if got := storm(5, "google"); got[503] != 5 || srv.count("/google") != 1 {
		t.Errorf("cold provider, failure cached: %v with %d fetches", got, srv.count("/google"))
	}
}

// One account-state rule for password and SNS login: a deleted account
// (deleted_at set, or status deleted) is refused by both; a blocked one
// signs in by both (the block stops community writes, not the user's own
// records). Before, SNS login ignored users.deleted_at.
func TestSignInRefusesDeletedAccounts(t *testing.T) {
	e := newEnv(t)
	sns := func(sub string) (int, map[string]any) {
		return e.do("POST", "/v1/auth/oidc/kakao", "", map[string]any{"id_token": e.snsToken(sub, e.withNonce(e.nonce()), "")})
	}
	userOf := func(body map[string]any) any { return body["user"].(map[string]any)["id"] }
	setState := func(id any, sql string) {
		t.Helper()
		if _, err := e.db.Exec(`UPDATE users SET `+sql+` WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		state      string
		sns, login int
		snsCode    string
	}{
		{"deleted_at set", "deleted_at = NOW(6)", 401, 401, "unauthorized"},
		{"status deleted", "status = 'deleted'", 401, 401, "unauthorized"},
		{"blocked", "status = 'blocked'", 200, 200, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := "kakao-" + itoa(int64(i))
			st, body := sns(sub)
			if st != 201 {
				t.Fatalf("first SNS login: %d %v", st, body)
			}
			snsUser := userOf(body)
			email := "pw" + itoa(int64(i)) + "@example.com"
			e.signUp(email, "비번사용자"+itoa(int64(i)))
			var pwUser int64
			e.db.QueryRow(`SELECT id FROM users WHERE email = ?`, email).Scan(&pwUser)
			setState(snsUser, tt.state)
			setState(pwUser, tt.state)

			st, body = sns(sub)
			if st != tt.sns || (tt.snsCode != "" && code(body) != tt.snsCode) {
				t.Errorf("SNS login: %d %v, want %d %s", st, body, tt.sns, tt.snsCode)
			}
			st, body, _ = e.login(e.h, "198.51.100.7", email, "천식관리1234")
			if st != tt.login || (st == 401 && code(body) != "invalid_credentials") {
				t.Errorf("password login: %d %v, want %d", st, body, tt.login)
			}
		})
	}
}

// Access tokens of a deleted user stop working within auth.account_check_ttl
// (not their 15-minute lifetime); a token whose role the user lost is
// answered "expired" so the app refreshes into the current role; a blocked
// user keeps reading their own data. Before, every such token worked until
// it expired.
func TestAccessTokenFollowsAccountState(t *testing.T) {
	e := newEnv(t)
	e.accounts = auth.NewAccounts(e.db, 10*time.Second, func() time.Time { return e.now }, nil)
	// A /v1/me/* route that, like the records routes, trusts the principal.
	e.mounts = append(e.mounts, func(g *gin.Engine) {
		g.GET("/v1/me/probe", web.RequireAuth(), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	})
	e.h = e.instance()
	probe := func(access string) int {
		req := httptest.NewRequest("GET", "/v1/me/probe", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req) // a test-only route: not in the document
		return rec.Code
	}
	signUp := func(email, nick string) (string, string, any) {
		st, body := e.do("POST", "/v1/auth/signup", "", map[string]any{"email": email, "password": "천식관리1234", "nickname": nick})
		if st != 201 {
			t.Fatalf("signup %d %v", st, body)
		}
		return body["access_token"].(string), body["refresh_token"].(string), body["user"].(map[string]any)["id"]
	}
	me := func(access string) (int, string, map[string]any) {
		req := httptest.NewRequest("GET", "/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+access)
		rec := e.v.Serve(t, e.h, req)
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, rec.Header().Get("WWW-Authenticate"), body
	}

	gone, _, goneID := signUp("gone@example.com", "탈퇴예정")
	demoted, demotedRefresh, demotedID := signUp("editor@example.com", "편집자")
	blocked, _, blockedID := signUp("blocked@example.com", "차단됨")
	e.db.Exec(`UPDATE users SET role = 'editor' WHERE id = ?`, demotedID)
	e.now = e.now.Add(11 * time.Second)
	if st, _, body := me(demoted); st != 401 {
		t.Fatalf("token with a stale role: %d %v", st, body)
	}
	_, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": demotedRefresh})
	demoted, _ = body["access_token"].(string)
	for _, tok := range []string{gone, demoted, blocked} {
		if st, _, body := me(tok); st != 200 {
			t.Fatalf("before: %d %v", st, body)
		}
	}

	_, goneRefresh, _ := signUp("gone2@example.com", "탈퇴예정2")
	e.db.Exec(`UPDATE users SET deleted_at = NOW(6) WHERE id = ?`, goneID)
	e.db.Exec(`UPDATE users SET deleted_at = NOW(6) WHERE email = 'gone2@example.com'`)
	if st, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": goneRefresh}); st != 401 || code(body) != "token_invalid" {
		t.Errorf("refresh of a deleted user: %d %v, want 401 token_invalid", st, body)
	}
	e.db.Exec(`UPDATE users SET role = 'user' WHERE id = ?`, demotedID)
	e.db.Exec(`UPDATE users SET status = 'blocked' WHERE id = ?`, blockedID)
	if st := probe(gone); st != 204 {
		t.Errorf("within the cache's 10 s the state may be stale (one lookup per user per TTL): %d", st)
	}
	e.now = e.now.Add(11 * time.Second)
	tests := []struct {
		name, token, desc string
		status            int
	}{
		{"deleted user", gone, "invalid", 401},
		{"demoted editor", demoted, "expired", 401},
		{"blocked user", blocked, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, www, body := me(tt.token)
			if st != tt.status || (st == 401 && (code(body) != "unauthorized" || !strings.Contains(www, `error_description="`+tt.desc+`"`))) {
				t.Errorf("/v1/me: %d %q %v, want %d %s", st, www, body, tt.status, tt.desc)
			}
			if st, want := probe(tt.token), map[int]int{401: 401, 200: 204}[tt.status]; st != want {
				t.Errorf("/v1/me/probe: %d, want %d", st, want)
			}
		})
	}
}
