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

// refreshRow is a refresh_tokens row as Refresh reads it.
type refreshRow struct {
	id, userID       uint64
	family           []byte
	expires          time.Time
	rotated, revoked sql.NullTime
}

// rotate is Refresh's transaction: it locks the presented token's row and
// decides. reused: the token was rotated before the grace and its family is
// now revoked (the revocation is to be committed). An empty out without an
// error: the user is gone and the family revoked.
func (s *Service) rotate(ctx context.Context, tx *sql.Tx, token string) (out Tokens, reused bool, err error) {
	var t refreshRow
	err = tx.QueryRowContext(ctx, `SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = ? FOR UPDATE`, hashToken(token)).
		Scan(&t.id, &t.userID, &t.family, &t.expires, &t.rotated, &t.revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Tokens{}, false, ErrRefreshInvalid
	}
	if err != nil {
		return Tokens{}, false, err
	}
	now := s.now().UTC()
	switch {
	case t.revoked.Valid:
		return Tokens{}, false, ErrRefreshInvalid
	case t.rotated.Valid && s.refreshGrace > 0 && now.Sub(t.rotated.Time) <= s.refreshGrace:
		out, err = s.successor(ctx, tx, t.id, token, now)
		return out, false, err
	case t.rotated.Valid:
		if err := s.revokeFamily(ctx, tx, t.family, now); err != nil {
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
	if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = ? WHERE id = ?`, now, t.id); err != nil {
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
	if _, err := tx.ExecContext(ctx, `INSERT INTO refresh_token_successors (token_id, successor_id, sealed_token) VALUES (?, ?, ?)`,
		t.id, out.refreshID, sealed); err != nil {
		return Tokens{}, fmt.Errorf("store refresh successor: %w", err)
	}
	return out, nil
}

// pruneSuccessors deletes a few old sealed successors: they are only needed
// for the grace (at most minutes), so each rotation prunes some, by the
// database's own clock. A failure is logged, not returned.
func (s *Service) pruneSuccessors(ctx context.Context) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM refresh_token_successors WHERE created_at < NOW(6) - INTERVAL 1 HOUR LIMIT 20`); err != nil {
		s.log.WarnContext(ctx, "auth: prune refresh successors", "err", err)
	}
}

// successor returns, for a token rotated within the grace, the pair its
// rotation issued: the same refresh token (unsealed with the presented
// token) and a fresh access token.
func (s *Service) successor(ctx context.Context, tx *sql.Tx, tokenID uint64, token string, now time.Time) (Tokens, error) {
	var succ refreshRow
	var sealed []byte
	err := tx.QueryRowContext(ctx, `SELECT t.id, t.user_id, t.family_id, t.expires_at, t.rotated_at, t.revoked_at, s.sealed_token
		FROM refresh_token_successors s JOIN refresh_tokens t ON t.id = s.successor_id WHERE s.token_id = ? FOR UPDATE`, tokenID).
		Scan(&succ.id, &succ.userID, &succ.family, &succ.expires, &succ.rotated, &succ.revoked, &sealed)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return Tokens{}, ErrRefreshInvalid // rotated while the grace was off
	case err != nil:
		return Tokens{}, err
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
	var u User
	var email sql.NullString
	var deleted bool
	err := tx.QueryRowContext(ctx, `SELECT id, email, nickname, role, status, deleted_at IS NOT NULL FROM users WHERE id = ?`, userID).
		Scan(&u.ID, &email, &u.Nickname, &u.Role, &u.Status, &deleted)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && accountUsable(u.Status, deleted) != nil) {
		return User{}, false, s.revokeFamily(ctx, tx, family, now)
	}
	if err != nil {
		return User{}, false, err
	}
	u.Email = email.String
	return u, true, nil
}

func (s *Service) revokeFamily(ctx context.Context, tx *sql.Tx, family []byte, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, now, family)
	return err
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
	_, err := s.db.ExecContext(ctx, `UPDATE refresh_tokens t JOIN refresh_tokens f ON f.family_id = t.family_id
		SET f.revoked_at = ? WHERE t.token_hash = ? AND f.revoked_at IS NULL`, s.now().UTC(), hashToken(token))
	return err
}
