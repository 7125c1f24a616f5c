// Package auth signs users up and in (email + argon2id, or an SNS OIDC ID
// token), issues short-lived JWT access tokens and rotating refresh tokens,
// and verifies access tokens on every request (Middleware → web.Principal).
//
// Access tokens are HS256 JWTs signed with auth.jwt_secret (at least 32
// bytes). HS256 was chosen over EdDSA because the API is the only verifier: a
// shared secret needs no key files, and EdDSA would only pay off once a second
// service verifies tokens without being able to mint them.
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/soomcare/soomcare/web"
)

// MinSecretLen is the shortest accepted HS256 secret (256 bits).
const MinSecretLen = 32

// Sentinel errors of Verify; match with errors.Is.
var (
	ErrTokenExpired = errors.New("access token expired")
	ErrTokenInvalid = errors.New("access token invalid")
)

// TokenConfig configures access tokens.
type TokenConfig struct {
	Secret    []byte        // HS256 key, at least MinSecretLen bytes
	Issuer    string        // "iss" claim; verified on the way in
	AccessTTL time.Duration // lifetime of an access token
}

// TokenIssuer mints and verifies access tokens. It is safe for concurrent use.
type TokenIssuer struct {
	cfg TokenConfig
	now func() time.Time
}

type accessClaims struct {
	Role string `json:"role"`
	jwt.RegisteredClaims
}

// NewTokenIssuer returns an issuer; now is the clock (nil means time.Now).
func NewTokenIssuer(cfg TokenConfig, now func() time.Time) (*TokenIssuer, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("auth: jwt secret must be at least %d bytes (got %d)", MinSecretLen, len(cfg.Secret))
	}
	if cfg.AccessTTL <= 0 {
		return nil, errors.New("auth: access token ttl must be positive")
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "soomcare"
	}
	if now == nil {
		now = time.Now
	}
	return &TokenIssuer{cfg: cfg, now: now}, nil
}

// Issue mints an access token for p and returns it with its expiry.
func (t *TokenIssuer) Issue(p web.Principal) (string, time.Time, error) {
	if p.UserID == 0 {
		return "", time.Time{}, errors.New("auth: principal without user id")
	}
	switch p.Role {
	case web.RoleUser, web.RoleEditor, web.RoleAdmin:
	default:
		return "", time.Time{}, fmt.Errorf("auth: unknown role %q", p.Role)
	}
	now := t.now().Truncate(time.Second)
	exp := now.Add(t.cfg.AccessTTL)
	claims := accessClaims{
		Role: p.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   strconv.FormatUint(p.UserID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.cfg.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign access token: %w", err)
	}
	return s, exp, nil
}

// Verify checks signature, algorithm, issuer and expiry and returns the
// caller. Errors wrap ErrTokenExpired or ErrTokenInvalid.
func (t *TokenIssuer) Verify(token string) (web.Principal, error) {
	var claims accessClaims
	_, err := jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.cfg.Secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(t.cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return web.Principal{}, fmt.Errorf("%w: %v", ErrTokenExpired, err)
		}
		return web.Principal{}, fmt.Errorf("%w: %v", ErrTokenInvalid, err)
	}
	id, err := strconv.ParseUint(claims.Subject, 10, 64)
	if err != nil || id == 0 {
		return web.Principal{}, fmt.Errorf("%w: bad subject", ErrTokenInvalid)
	}
	switch claims.Role {
	case web.RoleUser, web.RoleEditor, web.RoleAdmin:
	default:
		return web.Principal{}, fmt.Errorf("%w: bad role", ErrTokenInvalid)
	}
	return web.Principal{UserID: id, Role: claims.Role}, nil
}

// derive returns a key for another purpose (label) derived from the
// signing secret (HMAC-SHA256), so one secret serves both without either
// use revealing the other's key.
func (t *TokenIssuer) derive(label string) []byte {
	m := hmac.New(sha256.New, t.cfg.Secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}
