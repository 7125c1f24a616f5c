package auth

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// refreshRow is a refresh_tokens row as Refresh reads it.
type refreshRow struct {
	id, userID       uint64
	family           []byte
	expires          time.Time
	rotated, revoked sql.NullTime
}

// InsertRefreshToken stores a refresh token (its SHA-256, hash) of the
// user's session family and returns its id.
func (store) InsertRefreshToken(ctx context.Context, q mysql.Querier, userID uint64, family, hash []byte, expires time.Time) (uint64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) VALUES (?, ?, ?, ?)`,
		userID, family, hash, expires)
	if err != nil {
		return 0, fmt.Errorf("store refresh token: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store refresh token: %w", err)
	}
	return uint64(id), nil
}

// LockRefreshToken locks the refresh token whose SHA-256 is hash; ok false
// when there is none.
func (store) LockRefreshToken(ctx context.Context, q mysql.Querier, hash []byte) (t refreshRow, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT id, user_id, family_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = ? FOR UPDATE`, hash).
		Scan(&t.id, &t.userID, &t.family, &t.expires, &t.rotated, &t.revoked)
	ok, err = rowFound(err, "read refresh token")
	return t, ok, err
}

// MarkRotated records that the refresh token was rotated at at.
func (store) MarkRotated(ctx context.Context, q mysql.Querier, id uint64, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = ? WHERE id = ?`, at, id); err != nil {
		return fmt.Errorf("auth: rotate refresh token: %w", err)
	}
	return nil
}

// InsertSuccessor stores the successor of a rotated token, sealed (see
// sealSuccessor).
func (store) InsertSuccessor(ctx context.Context, q mysql.Querier, tokenID, successorID uint64, sealed []byte) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO refresh_token_successors (token_id, successor_id, sealed_token) VALUES (?, ?, ?)`,
		tokenID, successorID, sealed); err != nil {
		return fmt.Errorf("store refresh successor: %w", err)
	}
	return nil
}

// LockSuccessor locks the successor of the rotated token tokenID and
// returns its row and sealed token; ok false when none was stored.
func (store) LockSuccessor(ctx context.Context, q mysql.Querier, tokenID uint64) (succ refreshRow, sealed []byte, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT t.id, t.user_id, t.family_id, t.expires_at, t.rotated_at, t.revoked_at, s.sealed_token
		FROM refresh_token_successors s JOIN refresh_tokens t ON t.id = s.successor_id WHERE s.token_id = ? FOR UPDATE`, tokenID).
		Scan(&succ.id, &succ.userID, &succ.family, &succ.expires, &succ.rotated, &succ.revoked, &sealed)
	ok, err = rowFound(err, "read refresh successor")
	return succ, sealed, ok, err
}

// PruneSuccessors deletes a few sealed successors older than an hour, by
// the database's own clock.
func (store) PruneSuccessors(ctx context.Context, q mysql.Querier) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM refresh_token_successors WHERE created_at < NOW(6) - INTERVAL 1 HOUR LIMIT 20`); err != nil {
		return fmt.Errorf("auth: prune refresh successors: %w", err)
	}
	return nil
}

// RevokeFamily revokes every live token of a session family at at.
func (store) RevokeFamily(ctx context.Context, q mysql.Querier, family []byte, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`, at, family); err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	return nil
}

// RevokeFamilyOf revokes, at at, every live token of the family of the
// token whose SHA-256 is hash; an unknown hash changes nothing.
func (store) RevokeFamilyOf(ctx context.Context, q mysql.Querier, hash []byte, at time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE refresh_tokens t JOIN refresh_tokens f ON f.family_id = t.family_id
		SET f.revoked_at = ? WHERE t.token_hash = ? AND f.revoked_at IS NULL`, at, hash)
	if err != nil {
		return fmt.Errorf("auth: log out: %w", err)
	}
	return nil
}

// SpendNonce records an OIDC nonce (its SHA-256, hash) as used until
// expires. A second spend of it fails with an error wrapping errDuplicate.
func (store) SpendNonce(ctx context.Context, q mysql.Querier, hash []byte, expires time.Time) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO oidc_nonces (nonce_hash, expires_at) VALUES (?, ?)`, hash, expires); err != nil {
		return uniqueErr(fmt.Errorf("auth: spend nonce: %w", err))
	}
	return nil
}

// PruneNonces deletes a few spent nonces that expired before before.
func (store) PruneNonces(ctx context.Context, q mysql.Querier, before time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM oidc_nonces WHERE expires_at < ? LIMIT 20`, before); err != nil {
		return fmt.Errorf("auth: prune nonces: %w", err)
	}
	return nil
}
