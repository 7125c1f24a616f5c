// Package authtest mints access tokens in tests of other packages, so their
// handler tests authenticate the same way the app does (auth.Middleware).
package authtest

import (
	"testing"
	"time"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/web"
)

// Secret is the HS256 key of test issuers; never use it outside tests.
var Secret = []byte("soomcare-test-secret-0123456789abcdef")

// NewIssuer returns an issuer with a 15-minute TTL and the test secret; now
// may be nil (time.Now).
func NewIssuer(tb testing.TB, now func() time.Time) *auth.TokenIssuer {
	tb.Helper()
	iss, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: Secret, Issuer: "soomcare", AccessTTL: 15 * time.Minute}, now)
	if err != nil {
		tb.Fatal(err)
	}
	return iss
}

// Bearer returns the Authorization header value for p.
func Bearer(tb testing.TB, iss *auth.TokenIssuer, p web.Principal) string {
	tb.Helper()
	tok, _, err := iss.Issue(p)
	if err != nil {
		tb.Fatal(err)
	}
	return "Bearer " + tok
}
