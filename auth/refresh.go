package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/web"
)

// Refresh rotates a refresh token: the presented one is spent and a new
// pair is returned. A token already rotated once is reuse (a thief or a
// replay): the whole session (family) is revoked and ErrRefreshReused
// returned. Within the grace (ServiceOptions.RefreshGrace) after its
// rotation, though, the rotated token gets the same successor back (two
// requests of the app in flight with the same token), or ErrRefreshInvalid
// without revoking anything when that successor has been used or revoked
// since. Other errors: ErrRefreshInvalid, ErrRefreshExpired.
func (s *Service) Refresh(ctx context.Context, token string) (Tokens, error) {
	var out Tokens
	var reused bool
	// READ COMMITTED: the locking read in rotate then takes a record lock only.
	// Under REPEATABLE READ concurrent refreshes of one token deadlock: the
	// waiters' next-key requests on the token's index entry block the winner's
	// insert of the successor just before it.
	err := s.txRetry(ctx, sql.LevelReadCommitted, func(tx *sql.Tx) error {
		var err error
		out, reused, err = s.rotate(ctx, tx, token)
		return err
	})
	if err != nil {
		return Tokens{}, err
	}
	if reused {
		return Tokens{}, ErrRefreshReused
	}
	if out.AccessToken == "" {
		return Tokens{}, ErrRefreshInvalid // user gone; family revoked
	}
	if s.refreshGrace > 0 {
		s.pruneSuccessors(ctx)
	}
	return out, nil
}

// rotate is Refresh's transaction: it locks the presented token's row and
// decides. reused: the token was rotated before the grace and its family is
// now revoked (the revocation is to be committed). An empty out without an
// error: the user is gone and the family revoked.
func (s *Service) rotate(ctx context.Context, tx *sql.Tx, token string) (out Tokens, reused bool, err error) {
	t, ok, err := s.store.LockRefreshToken(ctx, tx, hashToken(token))
	if err != nil {
		return Tokens{}, false, err
	}
	if !ok {
		return Tokens{}, false, ErrRefreshInvalid
	}
	now := s.now().UTC()
	switch {
	case t.revoked.Valid:
		return Tokens{}, false, ErrRefreshInvalid
	case t.rotated.Valid && s.refreshGrace > 0 && now.Sub(t.rotated.Time) <= s.refreshGrace:
		out, err = s.successor(ctx, tx, t.id, token, now)
		return out, false, err
	case t.rotated.Valid:
		if err := s.store.RevokeFamily(ctx, tx, t.family, now); err != nil {
			return Tokens{}, false, err
		}
		return Tokens{}, true, nil // commit the revocation
	case !now.Before(t.expires):
		return Tokens{}, false, ErrRefreshExpired
	}
	out, err = s.spend(ctx, tx, t, token, now)
	return out, false, err
}

// spend marks a live token rotated and issues its successor in the same
// family; with a grace, the successor is also stored sealed under the
// spent token (see successor). An empty Tokens without an error: the user
// is gone and the family revoked.
func (s *Service) spend(ctx context.Context, tx *sql.Tx, t refreshRow, token string, now time.Time) (Tokens, error) {
	u, ok, err := s.sessionUser(ctx, tx, t.userID, t.family, now)
	if err != nil || !ok {
		return Tokens{}, err
	}
	if err := s.store.MarkRotated(ctx, tx, t.id, now); err != nil {
		return Tokens{}, err
	}
	out, err := s.issue(ctx, tx, u, t.family)
	if err != nil {
		return Tokens{}, err
	}
	if s.refreshGrace == 0 {
		return out, nil
	}
	sealed, err := sealSuccessor(token, t.id, out.RefreshToken)
	if err != nil {
		return Tokens{}, err
	}
	if err := s.store.InsertSuccessor(ctx, tx, t.id, out.refreshID, sealed); err != nil {
		return Tokens{}, err
	}
	return out, nil
}

// pruneSuccessors deletes a few old sealed successors: they are only needed
// for the grace (at most minutes), so each rotation prunes some, by the
// database's own clock. A failure is logged, not returned.
func (s *Service) pruneSuccessors(ctx context.Context) {
	if err := s.store.PruneSuccessors(ctx, s.db); err != nil {
		s.log.WarnContext(ctx, "auth: prune refresh successors", "err", err)
	}
}

// successor returns, for a token rotated within the grace, the pair its
// rotation issued: the same refresh token (unsealed with the presented
// token) and a fresh access token.
func (s *Service) successor(ctx context.Context, tx *sql.Tx, tokenID uint64, token string, now time.Time) (Tokens, error) {
	succ, sealed, ok, err := s.store.LockSuccessor(ctx, tx, tokenID)
	switch {
	case err != nil:
		return Tokens{}, err
	case !ok:
		return Tokens{}, ErrRefreshInvalid // rotated while the grace was off
	case succ.revoked.Valid || succ.rotated.Valid:
		// The app has moved on (or signed out) already: nothing to hand out,
		// and nothing to revoke either, since this is inside the grace.
		return Tokens{}, ErrRefreshInvalid
	case !now.Before(succ.expires):
		return Tokens{}, ErrRefreshExpired
	}
	refresh, err := openSuccessor(token, tokenID, sealed)
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: refresh successor %d: %w", succ.id, err)
	}
	u, ok, err := s.sessionUser(ctx, tx, succ.userID, succ.family, now)
	if err != nil {
		return Tokens{}, err
	}
	if !ok {
		return Tokens{}, nil // user gone, family revoked
	}
	access, exp, err := s.tokens.Issue(web.Principal{UserID: u.ID, Role: u.Role})
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: access, AccessExpiresAt: exp, RefreshToken: refresh, RefreshExpiresAt: succ.expires.UTC(), User: u, refreshID: succ.id}, nil
}

// sessionUser loads the user of a refresh token; when the user is gone it
// revokes the family and reports false.
func (s *Service) sessionUser(ctx context.Context, tx *sql.Tx, userID uint64, family []byte, now time.Time) (User, bool, error) {
	u, ok, err := s.store.UserByID(ctx, tx, userID)
	if err != nil {
		return User{}, false, err
	}
	if !ok || accountUsable(u.Status, u.Deleted) != nil {
		return User{}, false, s.store.RevokeFamily(ctx, tx, family, now)
	}
	return u.User, true, nil
}

// sealSuccessor encrypts the successor of a rotated token (AES-256-GCM)
// under a key derived from the rotated token, which the database never
// holds (it stores only the token's SHA-256, a different hash): a reader of
// the database cannot unseal it, the presenter of the rotated token can.
func sealSuccessor(token string, tokenID uint64, successor string) ([]byte, error) {
	aead, err := successorAEAD(token)
	if err != nil {
		return nil, err
	}
	nonce := randomBytes(aead.NonceSize())
	return aead.Seal(nonce, nonce, []byte(successor), binary.BigEndian.AppendUint64(nil, tokenID)), nil
}

func openSuccessor(token string, tokenID uint64, sealed []byte) (string, error) {
	aead, err := successorAEAD(token)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("sealed successor too short")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], binary.BigEndian.AppendUint64(nil, tokenID))
	return string(plain), err
}

func successorAEAD(token string) (cipher.AEAD, error) {
	key := sha256.Sum256([]byte("refresh-successor/v1\x00" + token))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Logout revokes the session (family) of a refresh token. Unknown tokens
// are ignored, so logout is idempotent and reveals nothing.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.store.RevokeFamilyOf(ctx, s.db, hashToken(token), s.now().UTC())
}
