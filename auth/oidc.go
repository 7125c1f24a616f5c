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
	Nonce         string // the token's nonce claim; the Service requires one it issued
}

// OIDCOptions configure an OIDCVerifier; zero values take the defaults.
type OIDCOptions struct {
	// Client fetches the key sets; nil: a plain client (each fetch has its
	// own FetchTimeout anyway).
	Client *http.Client
	// CacheTTL is how long fetched keys are used before they are refreshed
	// (auth.oidc.jwks_cache_ttl; default 1h). A refresh runs in the
	// background: a known key keeps answering meanwhile.
	CacheTTL time.Duration
	// RefetchInterval is the least time between two fetches of one
	// provider's key set, failed or not (auth.oidc.jwks_refetch_interval;
	// default 1m): tokens with unknown key ids cannot cause more.
	RefetchInterval time.Duration
	// FetchTimeout bounds one fetch (auth.oidc.http_timeout; default 5s). A
	// fetch runs on its own context, never a request's: a client hanging up
	// does not cancel the fetch other requests wait for.
	FetchTimeout time.Duration
	Now          func() time.Time
}

// OIDCVerifier verifies ID tokens against each provider's JWKS, fetched over
// HTTP and cached. A token signed with an unknown key id makes it fetch the
// set again (how key rotation at the provider is picked up), but one fetch
// per provider at a time (concurrent requests wait for that one) and at most
// one per RefetchInterval, failures included: within the interval an
// unknown key id is answered from the cache (the failure, or "no such
// key"). A request with a known key id never waits for a fetch.
type OIDCVerifier struct {
	providers map[string]*jwksCache
	client    *http.Client
	o         OIDCOptions
}

type jwksCache struct {
	p         Provider
	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time     // of the keys
	attemptAt time.Time     // of the last fetch started
	lastErr   error         // of the last fetch, nil when it succeeded
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
	fetches   int           // fetches started
}

// NewOIDCVerifier returns a verifier for the enabled providers (those with
// an audience).
func NewOIDCVerifier(providers []Provider, o OIDCOptions) *OIDCVerifier {
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.CacheTTL <= 0 {
		o.CacheTTL = time.Hour
	}
	if o.RefetchInterval <= 0 {
		o.RefetchInterval = time.Minute
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	v := &OIDCVerifier{providers: map[string]*jwksCache{}, client: o.Client, o: o}
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
// its JWKS, exact issuer, an accepted audience, expiry (1 minute leeway) and
// a subject. The nonce claim is returned, not checked (the Service does).
// Errors wrap ErrUnknownProvider, ErrIDTokenExpired, ErrIDTokenInvalid or
// ErrJWKSUnavailable.
func (v *OIDCVerifier) Verify(ctx context.Context, provider, raw string) (Identity, error) {
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
		jwt.WithTimeFunc(v.o.Now),
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
	id := Identity{Provider: provider, Subject: claims.Subject, Email: claims.Email, Nonce: claims.Nonce}
	switch ev := claims.EmailVerified.(type) {
	case bool:
		id.EmailVerified = ev
	case string:
		id.EmailVerified = ev == "true"
	}
	return id, nil
}

// key returns the key with id kid. Fresh cached keys answer at once; a
// known key past CacheTTL answers at once too while a refresh starts in the
// background. An unknown kid waits for the one fetch in flight, or starts
// one when RefetchInterval allows, or is answered from the cache.
func (c *jwksCache) key(ctx context.Context, v *OIDCVerifier, kid string) (*rsa.PublicKey, error) {
	c.mu.Lock()
	now := v.o.Now()
	if k, ok := c.lookup(kid); ok {
		if now.Sub(c.fetchedAt) > v.o.CacheTTL {
			c.startFetch(v, now)
		}
		c.mu.Unlock()
		return k, nil
	}
	done := c.startFetch(v, now)
	c.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ErrJWKSUnavailable, ctx.Err())
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.lookup(kid); ok {
		return k, nil
	}
	if c.keys == nil && c.lastErr != nil {
		return nil, c.lastErr
	}
	if c.keys == nil {
		return nil, fmt.Errorf("%w: no keys fetched yet", ErrJWKSUnavailable)
	}
	return nil, fmt.Errorf("no signing key with kid %q", kid)
}

// lookup finds kid among the cached keys (an empty kid: the only key).
// c.mu is held.
func (c *jwksCache) lookup(kid string) (*rsa.PublicKey, bool) {
	if k, ok := c.keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(c.keys) == 1 {
		for _, k := range c.keys {
			return k, true
		}
	}
	return nil, false
}

// startFetch returns the channel of the fetch in flight, starting one when
// none runs and the interval since the last attempt has passed; nil when
// neither. c.mu is held.
func (c *jwksCache) startFetch(v *OIDCVerifier, now time.Time) chan struct{} {
	if c.inflight != nil {
		return c.inflight
	}
	if c.fetches > 0 && now.Sub(c.attemptAt) < v.o.RefetchInterval {
		return nil
	}
	c.attemptAt = now
	c.fetches++
	done := make(chan struct{})
	c.inflight = done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), v.o.FetchTimeout)
		keys, err := fetchJWKS(ctx, v.client, c.p.JWKSURL)
		cancel()
		c.mu.Lock()
		if err == nil {
			c.keys, c.fetchedAt = keys, v.o.Now()
		}
		// On failure the keys we have stay in use: the provider may be briefly down.
		c.lastErr = err
		c.inflight = nil
		c.mu.Unlock()
		close(done)
	}()
	return done
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
