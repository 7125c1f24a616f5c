package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/web"
)

// The forged tokens of finding 1 must be refused for their secret only:
// signed with the server's own secret, the same claims are accepted, so a
// 401 says the secret was refused, not that the probe built a bad token.
func TestMintedTokenIsWhatServeVerifies(t *testing.T) {
	secret := []byte(randomHex(32)) // a server's secret (auth may refuse the committed one)
	iss, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: secret, Issuer: "soomcare", AccessTTL: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		secret []byte
		role   string
		ok     bool
	}{
		{"admin, server's secret", secret, web.RoleAdmin, true},
		{"user, server's secret", secret, web.RoleUser, true},
		{"admin, another secret", []byte(randomHex(32)), web.RoleAdmin, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := mintToken(tc.secret, "soomcare", 42, tc.role, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			p, err := iss.Verify(tok)
			if tc.ok && (err != nil || p.UserID != 42 || p.Role != tc.role) {
				t.Fatalf("Verify = %+v, %v; want user 42 as %s", p, err, tc.role)
			}
			if !tc.ok && !errors.Is(err, auth.ErrTokenInvalid) {
				t.Fatalf("Verify error = %v; want ErrTokenInvalid", err)
			}
		})
	}
}

// The probe decides from the envelope package web writes; reading another
// shape would print every refusal without its code.
func TestAnswerReadsTheWebEnvelope(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.GET("/bad", func(c *gin.Context) {
		web.Fail(c, nil, &web.Error{Code: web.CodeValidationFailed, Message: "x",
			Fields: []web.FieldError{{Field: "memo", Code: web.FieldInvalid, Message: "x"}}})
	})
	e.NoRoute(web.NotFound)
	srv := httptest.NewServer(e)
	defer srv.Close()
	c := &client{base: srv.URL, hc: srv.Client()}
	for path, want := range map[string]string{"/bad": "400 validation_failed memo:invalid", "/nowhere": "404 not_found"} {
		a := c.do(context.Background(), http.MethodGet, path, "", nil)
		if a.String() != want || !a.envelope() {
			t.Errorf("GET %s read as %q (envelope %v); want %q", path, a, a.envelope(), want)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":"unauthorized","message":"x"}`))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		args []string
		want int
		out  string
	}{
		{"no token", []string{"-url", srv.URL}, 2, ""},
		{"admin token refused", []string{"-url", srv.URL, "-token", "x"}, 1, "FAILED  0   setup → the admin token does not sign in: GET /v1/me → 401 unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if got := run(context.Background(), tc.args, &out, &errOut); got != tc.want {
				t.Fatalf("run = %d; want %d\n%s%s", got, tc.want, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.out) {
				t.Fatalf("output %q lacks %q", out.String(), tc.out)
			}
		})
	}
}

func TestCyrillicLooksAlike(t *testing.T) {
	for in, want := range map[string]string{"pocaxe": "\u0440\u043e\u0441\u0430\u0445\u0435", "pop": "\u0440\u043e\u0440"} {
		if got := cyrillic(in); got != want || got == in {
			t.Errorf("cyrillic(%q) = %q; want %q", in, got, want)
		}
	}
}
