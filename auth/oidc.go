package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Sentinel errors of OIDC verification; match with errors.Is.
var (
	ErrUnknownProvider = errors.New("unknown or disabled SNS provider")
	ErrIDTokenExpired  = errors.New("id token expired")
	ErrIDTokenInvalid  = errors.New("id token invalid")
	ErrJWKSUnavailable = errors.New("provider keys unavailable")
)

// Provider is one OIDC issuer whose ID tokens the app may present.
type Provider struct {
	Name     string   // kakao | naver | apple | google
	Issuer   string   // exact "iss"
	JWKSURL  string   // its signing keys (RSA, RS256)
	Audience []string // accepted "aud" values
}

// Identity is what a verified ID token says about the user.
type Identity struct {
	Provider      string
	Subject       string
	Email         string
	EmailVerified bool
}

// OIDCVerifier verifies ID tokens against each provider's JWKS, fetched over
// HTTP and cached for cacheTTL; a token signed with an unknown key id
// triggers one refetch (at most once a minute per provider), which is how key
// rotation at the provider is picked up.
type OIDCVerifier struct {
	providers map[string]*jwksCache
	client    *http.Client
	ttl       time.Duration
	now       func() time.Time
}

type jwksCache struct {
	p         Provider
	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time
}

// NewOIDCVerifier returns a verifier for the enabled providers (those with
// an audience). client may be nil (http.DefaultClient with a 5 s timeout);
// now may be nil (time.Now).
func NewOIDCVerifier(providers []Provider, client *http.Client, cacheTTL time.Duration, now func() time.Time) *OIDCVerifier {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	v := &OIDCVerifier{providers: map[string]*jwksCache{}, client: client, ttl: cacheTTL, now: now}
	for _, p := range providers {
		if len(p.Audience) == 0 || p.Issuer == "" || p.JWKSURL == "" {
			continue
		}
		v.providers[p.Name] = &jwksCache{p: p}
	}
	return v
}

type idClaims struct {
	Nonce         string `json:"nonce,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified any    `json:"email_verified,omitempty"` // bool, or "true" (Apple)
	jwt.RegisteredClaims
}

// Verify checks raw as an ID token of provider: RS256 signature by a key of
// its JWKS, exact issuer, an accepted audience, expiry (1 minute leeway), a
// subject, and the nonce when the caller sent one. Errors wrap
// ErrUnknownProvider, ErrIDTokenExpired, ErrIDTokenInvalid or
// ErrJWKSUnavailable.
func (v *OIDCVerifier) Verify(ctx context.Context, provider, raw, nonce string) (Identity, error) {
	pc, ok := v.providers[provider]
	if !ok {
		return Identity{}, fmt.Errorf("%w: %q", ErrUnknownProvider, provider)
	}
	var claims idClaims
	var keyErr error
	_, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		k, err := pc.key(ctx, v, kid)
		if err != nil {
			keyErr = err
		}
		return k, err
	},
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer(pc.p.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(time.Minute),
		jwt.WithTimeFunc(v.now),
	)
	switch {
	case keyErr != nil && errors.Is(keyErr, ErrJWKSUnavailable):
		return Identity{}, keyErr
	case err != nil && errors.Is(err, jwt.ErrTokenExpired):
		return Identity{}, fmt.Errorf("%w: %v", ErrIDTokenExpired, err)
	case err != nil:
		return Identity{}, fmt.Errorf("%w: %v", ErrIDTokenInvalid, err)
	}
	if !slices.ContainsFunc(claims.Audience, func(a string) bool { return slices.Contains(pc.p.Audience, a) }) {
		return Identity{}, fmt.Errorf("%w: audience %v not accepted", ErrIDTokenInvalid, []string(claims.Audience))
	}
	if claims.Subject == "" || len(claims.Subject) > 255 {
		return Identity{}, fmt.Errorf("%w: bad subject", ErrIDTokenInvalid)
	}
	if nonce != "" && claims.Nonce != nonce {
		return Identity{}, fmt.Errorf("%w: nonce mismatch", ErrIDTokenInvalid)
	}
	id := Identity{Provider: provider, Subject: claims.Subject, Email: claims.Email}
	switch ev := claims.EmailVerified.(type) {
	case bool:
		id.EmailVerified = ev
	case string:
		id.EmailVerified = ev == "true"
	}
	return id, nil
}

// key returns the key with id kid, fetching the JWKS when the cache is stale
// or lacks kid (not more than once a minute for a miss).
func (c *jwksCache) key(ctx context.Context, v *OIDCVerifier, kid string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := v.now()
	stale := c.keys == nil || now.Sub(c.fetchedAt) > v.ttl
	if k, ok := c.keys[kid]; ok && !stale {
		return k, nil
	}
	if stale || now.Sub(c.fetchedAt) > time.Minute {
		keys, err := fetchJWKS(ctx, v.client, c.p.JWKSURL)
		if err != nil {
			if c.keys == nil {
				return nil, err
			}
			// Keep serving the keys we have; the provider may be briefly down.
		} else {
			c.keys, c.fetchedAt = keys, now
		}
	}
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	if kid == "" && len(c.keys) == 1 {
		for _, k := range c.keys {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no signing key with kid %q", kid)
}

type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func fetchJWKS(ctx context.Context, client *http.Client, url string) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKSUnavailable, err)
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJWKSUnavailable, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", ErrJWKSUnavailable, url, res.Status)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrJWKSUnavailable, url, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		pk, err := rsaKey(k)
		if err != nil {
			continue
		}
		keys[k.Kid] = pk
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s has no RS256 signing key", ErrJWKSUnavailable, url)
	}
	return keys, nil
}

func rsaKey(k jwk) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("bad exponent")
	}
	e := 0
	for _, b := range eb {
		e = e<<8 | int(b)
	}
	n := new(big.Int).SetBytes(nb)
	if n.BitLen() < 2048 || e < 3 {
		return nil, errors.New("weak key")
	}
	return &rsa.PublicKey{N: n, E: e}, nil
}
