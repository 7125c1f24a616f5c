package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// ErrNonceInvalid: an SNS ID token without a nonce this server issued, with
// an expired one, or with one already spent (a replayed token).
var ErrNonceInvalid = errors.New("oidc nonce missing, unknown, expired or spent")

// nonces issues and spends single-use SNS-login nonces. Issuing stores
// nothing: a nonce is 16 random bytes and its expiry, MAC'd (HMAC-SHA256,
// truncated to 16 bytes) with a key derived from the access-token secret,
// so any `serve` sharing auth.jwt_secret accepts it and nobody else can
// mint one. Spending inserts its SHA-256 into oidc_nonces (migration 00038)
// in the sign-in's transaction; the unique key refuses a second use.
type nonces struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

const nonceLen = 16 + 8 + 16

// issue returns a fresh nonce and its expiry.
func (n *nonces) issue() (string, time.Time) {
	exp := n.now().UTC().Add(n.ttl).Truncate(time.Second)
	b := make([]byte, 0, nonceLen)
	b = append(b, randomBytes(16)...)
	b = binary.BigEndian.AppendUint64(b, uint64(exp.Unix()))
	b = append(b, n.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b), exp
}

func (n *nonces) mac(b []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write(b)
	return m.Sum(nil)[:16]
}

// check returns the expiry of a nonce this server issued that has not
// expired, or ErrNonceInvalid.
func (n *nonces) check(nonce string) (time.Time, error) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen || !hmac.Equal(b[24:], n.mac(b[:24])) {
		return time.Time{}, fmt.Errorf("%w: not issued here", ErrNonceInvalid)
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(b[16:24])), 0).UTC()
	if !n.now().Before(exp) {
		return time.Time{}, fmt.Errorf("%w: expired", ErrNonceInvalid)
	}
	return exp, nil
}

// matched picks the server nonce of a sign-in: sent is the request's nonce
// (optional), claim the ID token's. The token must carry the nonce itself,
// or its SHA-256 in hex (the Sign in with Apple convention: the app hands
// the provider the hash of the raw nonce and sends the raw one here).
func matched(sent, claim string) (string, error) {
	switch {
	case claim == "":
		return "", fmt.Errorf("%w: the ID token has no nonce", ErrNonceInvalid)
	case sent == "":
		return claim, nil
	case sent == claim:
		return sent, nil
	}
	h := sha256.Sum256([]byte(sent))
	if hmac.Equal([]byte(hex.EncodeToString(h[:])), []byte(claim)) {
		return sent, nil
	}
	return "", fmt.Errorf("%w: the ID token's nonce is not the one sent", ErrNonceInvalid)
}

// spend checks nonce and records it as used inside tx; a second spend (in
// any transaction, on any instance) fails with ErrNonceInvalid.
func (n *nonces) spend(ctx context.Context, tx mysql.Querier, nonce string) error {
	exp, err := n.check(nonce)
	if err != nil {
		return err
	}
	err = store{}.SpendNonce(ctx, tx, hashToken(nonce), exp)
	if errors.Is(err, errDuplicate) {
		return fmt.Errorf("%w: already used", ErrNonceInvalid)
	}
	return err
}
