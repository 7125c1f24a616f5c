package auth_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/web"
)

func TestNewTokenIssuerRejectsWeakConfig(t *testing.T) {
	if _, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: []byte("short"), AccessTTL: time.Minute}, nil); err == nil {
		t.Error("a 5-byte secret must be refused")
	}
	if _, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: authtest.Secret}, nil); err == nil {
		t.Error("a zero TTL must be refused")
	}
}

func TestTokenRoundTripAndRejections(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	iss := authtest.NewIssuer(t, clock)
	p := web.Principal{UserID: 42, Role: web.RoleEditor}
	good, exp, err := iss.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(now.Add(15 * time.Minute)) {
		t.Errorf("expires %s", exp)
	}
	got, err := iss.Verify(good)
	if err != nil || got != p {
		t.Fatalf("Verify = %+v, %v", got, err)
	}

	other, _ := auth.NewTokenIssuer(auth.TokenConfig{Secret: []byte(strings.Repeat("x", 32)), AccessTTL: time.Minute}, clock)
	foreign, _, _ := other.Issue(p)
	otherIss, _ := auth.NewTokenIssuer(auth.TokenConfig{Secret: authtest.Secret, Issuer: "evil", AccessTTL: time.Minute}, clock)
	wrongIss, _, _ := otherIss.Issue(p)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "42", "role": "admin", "iss": "soomcare", "exp": now.Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(good, ".")
	// Payload re-encoded with role admin, signature kept: tampering.
	tampered := parts[0] + "." + jwtSegment(t, `{"role":"admin","iss":"soomcare","sub":"42","exp":`+itoa(now.Add(time.Hour).Unix())+`}`) + "." + parts[2]
	later := authtest.NewIssuer(t, func() time.Time { return now.Add(16 * time.Minute) })

	tests := []struct {
		name    string
		v       *auth.TokenIssuer
		token   string
		expired bool
	}{
		{"expired", later, good, true},
		{"other secret", iss, foreign, false},
		{"other issuer", iss, wrongIss, false},
		{"alg none", iss, none, false},
		{"tampered payload", iss, tampered, false},
		{"garbage", iss, "not.a.jwt", false},
		{"empty", iss, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(tt.token)
			if err == nil {
				t.Fatal("accepted")
			}
			want := auth.ErrTokenInvalid
			if tt.expired {
				want = auth.ErrTokenExpired
			}
			if !errorsIs(err, want) {
				t.Errorf("err = %v, want %v", err, want)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	now := time.Now()
	iss := authtest.NewIssuer(t, func() time.Time { return now })
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(auth.Middleware(iss))
	e.GET("/open", func(c *gin.Context) {
		p, ok := web.PrincipalFrom(c)
		c.JSON(200, gin.H{"ok": ok, "id": p.UserID})
	})
	e.GET("/closed", web.RequireAuth(), func(c *gin.Context) { c.Status(204) })
	expired, _, _ := authtest.NewIssuer(t, func() time.Time { return now.Add(-time.Hour) }).Issue(web.Principal{UserID: 1, Role: "user"})
	good := authtest.Bearer(t, iss, web.Principal{UserID: 7, Role: "user"})
	tests := []struct {
		name, path, header string
		status             int
		desc               string
	}{
		{"anonymous open", "/open", "", 200, ""},
		{"anonymous closed", "/closed", "", 401, ""},
		{"good", "/closed", good, 204, ""},
		{"lower-case scheme", "/closed", "bearer " + strings.TrimPrefix(good, "Bearer "), 204, ""},
		{"expired", "/open", "Bearer " + expired, 401, "expired"},
		{"tampered", "/closed", good + "x", 401, "invalid"},
		{"basic scheme", "/closed", "Basic dXNlcjpwYXNz", 401, "invalid"},
		{"empty bearer", "/closed", "Bearer ", 401, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 401 && !strings.Contains(rec.Body.String(), `"code":"unauthorized"`) {
				t.Errorf("body %s", rec.Body)
			}
			if tt.desc != "" && !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error_description="`+tt.desc+`"`) {
				t.Errorf("WWW-Authenticate %q", rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
}
