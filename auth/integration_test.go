package auth_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/server"
)

// cheap argon2id parameters so the tests stay fast; production uses DefaultParams.
var testArgon = &argon2id.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

type env struct {
	t        *testing.T
	db       *sql.DB
	h        http.Handler
	v        *apidoctest.Validator
	now      time.Time
	key      *rsa.PrivateKey
	jwks     *httptest.Server
	hits     atomic.Int32
	issuer   string
	verifier *auth.OIDCVerifier
	iss      *auth.TokenIssuer
	opts     auth.ServiceOptions
	api      auth.APIOptions
	hashes   atomic.Int32   // password hash comparisons run (login)
	service  *auth.Service  // of the latest instance
	accounts *auth.Accounts // when set, instances check accounts on every token (UseChecked)
	mounts   []func(*gin.Engine)
}

// newEnv serves the auth API over a fresh database; opts adjust the
// service (throttle, refresh grace) and the API options.
func newEnv(t *testing.T, opts ...func(*auth.ServiceOptions, *auth.APIOptions)) *env {
	t.Helper()
	db, _ := testdb.New(t)
	e := &env{t: t, db: db, v: apidoctest.New(t), now: time.Now().UTC().Truncate(time.Second)}
	clock := func() time.Time { return e.now }
	var err error
	e.key, err = rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e.jwks = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		pub := e.key.PublicKey
		json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	}))
	t.Cleanup(e.jwks.Close)
	e.issuer = "https://kauth.kakao.test"
	verifier := auth.NewOIDCVerifier([]auth.Provider{
		{Name: "kakao", Issuer: e.issuer, JWKSURL: e.jwks.URL, Audience: []string{"app-key"}},
		{Name: "google", Issuer: "https://accounts.google.test", JWKSURL: e.jwks.URL, Audience: []string{"g-client"}},
	}, auth.OIDCOptions{Client: e.jwks.Client(), CacheTTL: time.Hour, Now: clock})
	e.verifier = verifier
	e.iss = authtest.NewIssuer(t, clock)
	e.opts = auth.ServiceOptions{RefreshTTL: 30 * 24 * time.Hour, Argon2: testArgon, Now: clock,
		ComparePassword: func(password, hash string) (bool, error) {
			e.hashes.Add(1)
			return argon2id.ComparePasswordAndHash(password, hash)
		}}
	for _, o := range opts {
		o(&e.opts, &e.api)
	}
	e.h = e.instance()
	return e
}

// instance is one more `serve` over the same database (its own Service and
// API, nothing shared in memory).
func (e *env) instance() http.Handler {
	e.t.Helper()
	svc, err := auth.NewService(e.db, e.iss, e.verifier, e.opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.service = svc
	log := slog.New(slog.DiscardHandler)
	o := e.api
	o.Logger = log
	use := auth.Use(e.iss)
	if e.accounts != nil {
		use = auth.UseChecked(e.iss, e.accounts)
	}
	mounts := append([]func(*gin.Engine){use, auth.NewAPI(svc, o).Mount}, e.mounts...)
	return server.New(config.HTTP{MaxBodyBytes: 64 << 10}, log, nil, mounts...).Handler()
}

// do sends a JSON request and validates the response against the document.
func (e *env) do(method, path, bearer string, body any) (int, map[string]any) {
	e.t.Helper()
	return e.doOn(e.h, method, path, bearer, body)
}

// doOn is do against handler h (another instance).
func (e *env) doOn(h http.Handler, method, path, bearer string, body any) (int, map[string]any) {
	e.t.Helper()
	var r io.Reader
	if s, ok := body.(string); ok {
		r = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := e.v.Serve(e.t, h, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func (e *env) idToken(claims jwt.MapClaims, key *rsa.PrivateKey) string {
	e.t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(key)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func code(body map[string]any) string { s, _ := body["code"].(string); return s }

// nonce asks the server for a single-use SNS-login nonce.
func (e *env) nonce() string {
	e.t.Helper()
	st, body := e.do("POST", "/v1/auth/oidc/nonce", "", nil)
	n, _ := body["nonce"].(string)
	if st != 201 || n == "" {
		e.t.Fatalf("nonce: %d %v", st, body)
	}
	return n
}

func TestSignUpLoginRefreshLogout(t *testing.T) {
	e := newEnv(t)
	st, body := e.do("POST", "/v1/auth/signup", "", map[string]any{"email": " Minji@Example.com ", "password": "천식관리1234", "nickname": "민지"})
	if st != 201 {
		t.Fatalf("signup %d %v", st, body)
	}
	access := body["access_token"].(string)
	refresh1 := body["refresh_token"].(string)

	var stored []byte
	if err := e.db.QueryRow(`SELECT token_hash FROM refresh_tokens`).Scan(&stored); err != nil || len(stored) != 32 || bytes.Contains(stored, []byte(refresh1)) {
		t.Fatalf("refresh token must be stored as a sha256 hash: %x %v", stored, err)
	}
	var pwHash string
	e.db.QueryRow(`SELECT password_hash FROM users WHERE email = 'minji@example.com'`).Scan(&pwHash)
	if !strings.HasPrefix(pwHash, "$argon2id$") {
		t.Fatalf("password hash %q", pwHash)
	}

	if st, body := e.do("GET", "/v1/me", access, nil); st != 200 || body["nickname"] != "민지" || body["email"] != "minji@example.com" {
		t.Fatalf("me %d %v", st, body)
	}

	bad := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"same email", map[string]any{"email": "minji@example.com", "password": "숨쉬기편한밤99", "nickname": "다른사람"}, 409, "email_taken"},
		{"same nickname", map[string]any{"email": "other@example.com", "password": "숨쉬기편한밤99", "nickname": "민지"}, 409, "nickname_taken"},
		{"bad email", map[string]any{"email": "not-an-email", "password": "숨쉬기편한밤99", "nickname": "하나"}, 400, "validation_failed"},
		{"short password", map[string]any{"email": "a@example.com", "password": "short", "nickname": "하나"}, 400, "validation_failed"},
		{"unknown field", map[string]any{"email": "a@example.com", "password": "숨쉬기편한밤99", "nickname": "하나", "role": "admin"}, 400, "validation_failed"},
		{"wrong type", `{"email": 5, "password": "숨쉬기편한밤99", "nickname": "하나"}`, 400, "validation_failed"},
		{"malformed", `{"email":`, 400, "bad_request"},
		{"too large", `{"email":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large"},
	}
	for _, tt := range bad {
		t.Run("signup "+tt.name, func(t *testing.T) {
			st, body := e.do("POST", "/v1/auth/signup", "", tt.body)
			if st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v, want %d %s", st, body, tt.status, tt.code)
			}
		})
	}
	var users int
	e.db.QueryRow(`SELECT COUNT(*) FROM users`).Scan(&users)
	if users != 1 {
		t.Errorf("%d users after failed sign-ups, want 1", users)
	}

	if st, body := e.do("POST", "/v1/auth/login", "", map[string]any{"email": "minji@example.com", "password": "wrong-password"}); st != 401 || code(body) != "invalid_credentials" {
		t.Errorf("wrong password: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/auth/login", "", map[string]any{"email": "nobody@example.com", "password": "wrong-password"}); st != 401 || code(body) != "invalid_credentials" {
		t.Errorf("unknown email: %d %v", st, body)
	}
	st, body = e.do("POST", "/v1/auth/login", "", map[string]any{"email": "MINJI@example.com", "password": "천식관리1234"})
	if st != 200 {
		t.Fatalf("login %d %v", st, body)
	}

	// Rotation: refresh1 → refresh2; refresh1 again is reuse and revokes refresh2 too.
	st, body = e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": refresh1})
	if st != 200 {
		t.Fatalf("refresh %d %v", st, body)
	}
	refresh2 := body["refresh_token"].(string)
	if refresh2 == refresh1 {
		t.Fatal("refresh token not rotated")
	}
	if st, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": refresh1}); st != 401 || code(body) != "refresh_reused" {
		t.Fatalf("reuse: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": refresh2}); st != 401 || code(body) != "token_invalid" {
		t.Fatalf("the family must be revoked after reuse: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": "made-up"}); st != 401 || code(body) != "token_invalid" {
		t.Errorf("unknown: %d %v", st, body)
	}

	// Logout revokes the login session; the other session (none left) is unaffected; logout is idempotent.
	st, body = e.do("POST", "/v1/auth/login", "", map[string]any{"email": "minji@example.com", "password": "천식관리1234"})
	r3 := body["refresh_token"].(string)
	if st, _ := e.do("POST", "/v1/auth/logout", "", map[string]any{"refresh_token": r3}); st != 204 {
		t.Fatalf("logout %d", st)
	}
	if st, _ := e.do("POST", "/v1/auth/logout", "", map[string]any{"refresh_token": r3}); st != 204 {
		t.Fatalf("second logout %d", st)
	}
	if st, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": r3}); st != 401 || code(body) != "token_invalid" {
		t.Errorf("after logout: %d %v", st, body)
	}

	// Expiry of the refresh token.
	_, body = e.do("POST", "/v1/auth/login", "", map[string]any{"email": "minji@example.com", "password": "천식관리1234"})
	r4 := body["refresh_token"].(string)
	e.now = e.now.Add(31 * 24 * time.Hour)
	if st, body := e.do("POST", "/v1/auth/refresh", "", map[string]any{"refresh_token": r4}); st != 401 || code(body) != "token_expired" {
		t.Errorf("expired refresh: %d %v", st, body)
	}
	// The old access token has expired by now too.
	if st, body := e.do("GET", "/v1/me", access, nil); st != 401 || code(body) != "unauthorized" {
		t.Errorf("expired access: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/auth/login", "", `{"email":"a","password":"b"}`); st != 401 {
		t.Errorf("login %d %v", st, body)
	}
	req := httptest.NewRequest("POST", "/v1/auth/login", strings.NewReader("email=a"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if rec := e.v.Serve(t, e.h, req); rec.Code != 415 {
		t.Errorf("form body: %d", rec.Code)
	}
}

func TestOIDCLogin(t *testing.T) {
	e := newEnv(t)
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// Every token carries a fresh server nonce (single use).
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": e.issuer, "aud": "app-key", "sub": "kakao-123", "iat": e.now.Unix(),
			"exp": e.now.Add(10 * time.Minute).Unix(), "email": "sns@example.com", "email_verified": true, "nonce": e.nonce()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	first := claims(nil)
	good := e.idToken(first, e.key)

	st, body := e.do("POST", "/v1/auth/oidc/kakao", "", map[string]any{"id_token": good, "nonce": first["nonce"], "nickname": "카카오민지"})
	if st != 201 || body["user"].(map[string]any)["nickname"] != "카카오민지" {
		t.Fatalf("first SNS login: %d %v", st, body)
	}
	uid := body["user"].(map[string]any)["id"]
	st, body = e.do("POST", "/v1/auth/oidc/kakao", "", map[string]any{"id_token": e.idToken(claims(nil), e.key)})
	if st != 200 || body["user"].(map[string]any)["id"] != uid {
		t.Fatalf("second SNS login must find the same user: %d %v", st, body)
	}
	access := body["access_token"].(string)

	tests := []struct {
		name, provider, token, nonce string
		status                       int
		code                         string
	}{
		{"wrong audience", "kakao", e.idToken(claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), e.key), "", 401, "token_invalid"},
		{"expired", "kakao", e.idToken(claims(func(c jwt.MapClaims) { c["exp"] = e.now.Add(-5 * time.Minute).Unix() }), e.key), "", 401, "token_expired"},
		{"bad signature", "kakao", e.idToken(claims(nil), otherKey), "", 401, "token_invalid"},
		{"unknown issuer", "kakao", e.idToken(claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }), e.key), "", 401, "token_invalid"},
		{"another provider's token", "google", good, "", 401, "token_invalid"},
		{"nonce mismatch", "kakao", e.idToken(claims(nil), e.key), "n-2", 401, "nonce_invalid"},
		{"no subject", "kakao", e.idToken(claims(func(c jwt.MapClaims) { delete(c, "sub") }), e.key), "", 401, "token_invalid"},
		{"garbage", "kakao", "abc", "", 401, "token_invalid"},
		{"disabled provider", "naver", good, "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.do("POST", "/v1/auth/oidc/"+tt.provider, "", map[string]any{"id_token": tt.token, "nonce": tt.nonce})
			if st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v, want %d %s", st, body, tt.status, tt.code)
			}
		})
	}
	if n := e.hits.Load(); n > 3 {
		t.Errorf("JWKS fetched %d times; the cache should serve known kids", n)
	}

	// Linking: a second provider account to the same user; the same account to another user conflicts.
	google := func() string {
		return e.idToken(claims(func(c jwt.MapClaims) {
			c["iss"] = "https://accounts.google.test"
			c["aud"] = "g-client"
			c["sub"] = "g-9"
		}), e.key)
	}
	gTok := google()
	if st, body := e.do("POST", "/v1/me/identities/google", access, map[string]any{"id_token": gTok}); st != 201 || body["subject"] != "g-9" {
		t.Fatalf("link: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/me/identities/google", access, map[string]any{"id_token": gTok}); st != 401 || code(body) != "nonce_invalid" {
		t.Fatalf("a replayed link token must be refused: %d %v", st, body)
	}
	gTok = google()
	if st, _ := e.do("POST", "/v1/me/identities/google", access, map[string]any{"id_token": gTok}); st != 200 {
		t.Fatalf("relink must be idempotent: %d", st)
	}
	gTok = google()
	st, body = e.do("POST", "/v1/auth/signup", "", map[string]any{"email": "b@example.com", "password": "숨쉬기편한밤99", "nickname": "다른사람"})
	other := body["access_token"].(string)
	if st, body := e.do("POST", "/v1/me/identities/google", other, map[string]any{"id_token": gTok}); st != 409 || code(body) != "identity_taken" {
		t.Errorf("link taken: %d %v", st, body)
	}
	if st, body := e.do("POST", "/v1/me/identities/google", "", map[string]any{"id_token": gTok}); st != 401 || code(body) != "unauthorized" {
		t.Errorf("link anonymous: %d %v", st, body)
	}
	var n int
	e.db.QueryRow(`SELECT COUNT(*) FROM user_identities`).Scan(&n)
	if n != 2 {
		t.Errorf("%d identities, want 2", n)
	}
}
