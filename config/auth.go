package config

import (
	"net/url"
	"strings"
	"time"
)

// Auth configures sign-in, access tokens (HS256 JWTs) and refresh tokens.
type Auth struct {
	// JWTSecret signs access tokens (HS256), at least 32 bytes. It has no
	// default: when empty, `serve` uses a random per-process key and warns.
	JWTSecret       string        `mapstructure:"jwt_secret"`
	JWTIssuer       string        `mapstructure:"jwt_issuer"`
	AccessTokenTTL  time.Duration `mapstructure:"access_token_ttl"`
	RefreshTokenTTL time.Duration `mapstructure:"refresh_token_ttl"`
	// RefreshReuseGrace is how long after a rotation the rotated refresh
	// token may be presented again and get the same successor (two requests
	// of the app in flight) instead of revoking the session; 0 turns it off.
	RefreshReuseGrace time.Duration `mapstructure:"refresh_reuse_grace"`
	LoginThrottle     LoginThrottle `mapstructure:"login_throttle"`
	OIDC              OIDC          `mapstructure:"oidc"`
	// HashConcurrency bounds concurrent argon2id runs (64 MiB each): at most
	// HashConcurrency × 64 MiB of heap is held by password hashing.
	HashConcurrency int `mapstructure:"hash_concurrency"`
	// HashWait is how long a sign-up or login waits for a hashing slot
	// before it answers 503 busy with Retry-After.
	HashWait       time.Duration  `mapstructure:"hash_wait"`
	SignupThrottle SignupThrottle `mapstructure:"signup_throttle"`
	// AccountCheckTTL is how long a user's state (deleted, role) is cached
	// per process for the check every access token gets; 0: every request.
	AccountCheckTTL time.Duration `mapstructure:"account_check_ttl"`
}

// SignupThrottle limits sign-ups per client address (counted in MySQL with
// the login throttle's table).
type SignupThrottle struct {
	PerIP  int           `mapstructure:"per_ip"` // sign-up attempts per client address in Window; 0 turns it off
	Window time.Duration `mapstructure:"window"` // fixed window from the address's first attempt
}

// LoginThrottle limits failed email/password logins, counted in MySQL so
// every `serve` instance shares them. At the limit a login answers 429
// login_throttled with Retry-After, without checking the password.
type LoginThrottle struct {
	// AccountFailures is how many failed logins one e-mail address may have
	// in Window; 0 turns the per-account limit off.
	AccountFailures int `mapstructure:"account_failures"`
	// IPFailures is how many failed logins one client address (an IPv6
	// client is its /64) may have in Window over all accounts; 0 turns it
	// off. The client address is taken as http.trusted_proxies says.
	IPFailures int           `mapstructure:"ip_failures"`
	Window     time.Duration `mapstructure:"window"` // fixed window from the first failure
}

// OIDC configures SNS login: ID tokens of each provider are verified against
// its JWKS. A provider is enabled when its audience lists a client id.
type OIDC struct {
	JWKSCacheTTL time.Duration `mapstructure:"jwks_cache_ttl"`
	HTTPTimeout  time.Duration `mapstructure:"http_timeout"`
	Kakao        OIDCProvider  `mapstructure:"kakao"`
	Naver        OIDCProvider  `mapstructure:"naver"`
	Apple        OIDCProvider  `mapstructure:"apple"`
	Google       OIDCProvider  `mapstructure:"google"`

	// JWKSRefetchInterval is the least time between two fetches of one
	// provider's keys (unknown key ids, failures); fetches are single-flight.
	JWKSRefetchInterval time.Duration `mapstructure:"jwks_refetch_interval"`
	// NonceTTL is how long a nonce from POST /v1/auth/oidc/nonce may be used.
	NonceTTL time.Duration `mapstructure:"nonce_ttl"`
}

// OIDCProvider is one ID token issuer.
type OIDCProvider struct {
	Issuer   string   `mapstructure:"issuer"`   // exact "iss" claim
	JWKSURL  string   `mapstructure:"jwks_url"` // where its signing keys are
	Audience []string `mapstructure:"audience"` // accepted "aud" values (the app's client ids); empty disables
}

// Providers returns the providers by name (kakao, naver, apple, google).
func (o OIDC) Providers() map[string]OIDCProvider {
	return map[string]OIDCProvider{"kakao": o.Kakao, "naver": o.Naver, "apple": o.Apple, "google": o.Google}
}

// authDefaults are the auth section's defaults. auth.jwt_secret has none:
// empty means a random per-process key (validateAuth).
func authDefaults() map[string]any {
	return map[string]any{
		"auth.jwt_secret":        "",
		"auth.jwt_issuer":        "soomcare",
		"auth.access_token_ttl":  "15m",
		"auth.refresh_token_ttl": "720h",
		"auth.account_check_ttl": "10s",

		// login throttle and refresh-token grace
		"auth.refresh_reuse_grace":             "20s",
		"auth.login_throttle.account_failures": 5,
		"auth.login_throttle.ip_failures":      100,
		"auth.login_throttle.window":           "15m",

		// password hashing and sign-up throttle
		"auth.hash_concurrency":       2,
		"auth.hash_wait":              "2s",
		"auth.signup_throttle.per_ip": 20,
		"auth.signup_throttle.window": "1h",
	}
}

// oidcDefaults are the auth.oidc section's defaults: Kakao, Apple and
// Google publish fixed issuers and key URLs; Naver's are left to the
// deployment.
func oidcDefaults() map[string]any {
	return map[string]any{
		"auth.oidc.jwks_cache_ttl":        "1h",
		"auth.oidc.http_timeout":          "5s",
		"auth.oidc.jwks_refetch_interval": "1m",
		"auth.oidc.nonce_ttl":             "10m",
		"auth.oidc.kakao.issuer":          "https://kauth.kakao.com",
		"auth.oidc.kakao.jwks_url":        "https://kauth.kakao.com/.well-known/jwks.json",
		"auth.oidc.kakao.audience":        []string{},
		"auth.oidc.naver.issuer":          "",
		"auth.oidc.naver.jwks_url":        "",
		"auth.oidc.naver.audience":        []string{},
		"auth.oidc.apple.issuer":          "https://appleid.apple.com",
		"auth.oidc.apple.jwks_url":        "https://appleid.apple.com/auth/keys",
		"auth.oidc.apple.audience":        []string{},
		"auth.oidc.google.issuer":         "https://accounts.google.com",
		"auth.oidc.google.jwks_url":       "https://www.googleapis.com/oauth2/v3/certs",
		"auth.oidc.google.audience":       []string{},
	}
}

// MinJWTSecretLen is the shortest auth.jwt_secret accepted (HS256, 256 bits).
const MinJWTSecretLen = 32

// validateAuth checks the auth section. An empty
// auth.jwt_secret is valid: `serve` then signs with a random per-process key
// and logs a warning (there is never a fixed, guessable key); a set one must
// pass jwtSecretProblem (long, not public, not predictable).
func (c *Config) validateAuth(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if c.Auth.JWTSecret != "" {
		if problem := jwtSecretProblem(c.Auth.JWTSecret); problem != "" {
			bad("auth.jwt_secret", "%s", problem)
		}
	}
	if strings.TrimSpace(c.Auth.JWTIssuer) == "" {
		bad("auth.jwt_issuer", "must not be empty")
	}
	positive("auth.access_token_ttl", c.Auth.AccessTokenTTL)
	if c.Auth.AccessTokenTTL > 24*time.Hour {
		bad("auth.access_token_ttl", "must be at most 24h; access tokens cannot be revoked (got %s)", c.Auth.AccessTokenTTL)
	}
	if c.Auth.RefreshTokenTTL <= c.Auth.AccessTokenTTL {
		bad("auth.refresh_token_ttl", "must be longer than auth.access_token_ttl (got %s)", c.Auth.RefreshTokenTTL)
	}
	if c.Auth.RefreshReuseGrace < 0 || c.Auth.RefreshReuseGrace > 5*time.Minute {
		bad("auth.refresh_reuse_grace", "must be between 0 (off) and 5m; it only has to cover requests in flight together (got %s)", c.Auth.RefreshReuseGrace)
	}
	if lt := c.Auth.LoginThrottle; lt.AccountFailures < 0 || lt.AccountFailures > 1000 {
		bad("auth.login_throttle.account_failures", "must be between 0 (off) and 1000 (got %d)", lt.AccountFailures)
	}
	if lt := c.Auth.LoginThrottle; lt.IPFailures < 0 || lt.IPFailures > 1000000 {
		bad("auth.login_throttle.ip_failures", "must be between 0 (off) and 1000000 (got %d)", lt.IPFailures)
	}
	if w := c.Auth.LoginThrottle.Window; w < time.Second || w > 24*time.Hour {
		bad("auth.login_throttle.window", "must be between 1s and 24h (got %s)", w)
	}
	positive("auth.oidc.jwks_cache_ttl", c.Auth.OIDC.JWKSCacheTTL)
	positive("auth.oidc.http_timeout", c.Auth.OIDC.HTTPTimeout)
	c.validateAuthLimits(bad, positive)
	for _, name := range []string{"apple", "google", "kakao", "naver"} {
		p := c.Auth.OIDC.Providers()[name]
		if len(p.Audience) == 0 {
			continue
		}
		key := "auth.oidc." + name
		if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(key+".issuer", "must be the provider's issuer URL such as https://accounts.google.com when %s.audience is set (got %q)", key, p.Issuer)
		}
		if u, err := url.Parse(p.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(key+".jwks_url", "must be the provider's JWKS URL when %s.audience is set (got %q)", key, p.JWKSURL)
		}
	}
}

// validateAuthLimits checks the password-hashing, sign-up throttle, SNS key
// fetch, nonce and account-check keys.
func (c *Config) validateAuthLimits(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if n := c.Auth.HashConcurrency; n < 1 || n > 64 {
		bad("auth.hash_concurrency", "must be between 1 and 64 concurrent hashes of 64 MiB each (got %d)", n)
	}
	if w := c.Auth.HashWait; w < 10*time.Millisecond || w > time.Minute {
		bad("auth.hash_wait", "must be between 10ms and 1m (got %s)", w)
	}
	if n := c.Auth.SignupThrottle.PerIP; n < 0 || n > 1000000 {
		bad("auth.signup_throttle.per_ip", "must be between 0 (off) and 1000000 (got %d)", n)
	}
	if w := c.Auth.SignupThrottle.Window; w < time.Second || w > 7*24*time.Hour {
		bad("auth.signup_throttle.window", "must be between 1s and 168h (got %s)", w)
	}
	positive("auth.oidc.jwks_refetch_interval", c.Auth.OIDC.JWKSRefetchInterval)
	if n := c.Auth.OIDC.NonceTTL; n < 30*time.Second || n > time.Hour {
		bad("auth.oidc.nonce_ttl", "must be between 30s and 1h (got %s)", n)
	}
	if t := c.Auth.AccountCheckTTL; t < 0 || t > 5*time.Minute {
		bad("auth.account_check_ttl", "must be between 0 (every request) and 5m (got %s)", t)
	}
}
