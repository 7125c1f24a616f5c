package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/soomcare/soomcare/mysql"
)

// The records version of a user (table care_versions) counts the writes to
// the user's care records: the action plan, symptoms, peak flow, ACT,
// health events, medications, schedules and intakes. Every such write runs
// in WriteTx (or calls BumpVersion in its own transaction), so a reader
// that derived something from those tables at version v knows it is still
// current while the version is v, whichever `serve` instance wrote. The
// month calendar caches on it (package report).
//
// A writer that changes those tables without bumping the version (a manual
// UPDATE, a binary older than migration 00031) is only seen by caches once
// their entries age out.

// BumpVersion increments the user's records version. Call it first in the
// write's transaction: the row lock it takes then orders every care write
// of that user the same way, so two of them cannot deadlock on other rows.
func BumpVersion(ctx context.Context, q mysql.Querier, userID uint64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO care_versions (user_id, version) VALUES (?, 1)
		ON DUPLICATE KEY UPDATE version = version + 1`, userID)
	if err != nil {
		return fmt.Errorf("records: bump version: %w", err)
	}
	return nil
}

// Version returns the user's records version (0 before the first write).
func Version(ctx context.Context, q mysql.Querier, userID uint64) (uint64, error) {
	var v uint64
	err := q.QueryRowContext(ctx, `SELECT version FROM care_versions WHERE user_id = ?`, userID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("records: version: %w", err)
	}
	return v, nil
}

// WriteTx runs fn in a transaction that first bumps the user's records
// version, and commits when fn returns nil (a 4xx error from fn rolls the
// bump back with everything else).
func WriteTx(ctx context.Context, db *sql.DB, userID uint64, fn func(tx *sql.Tx) error) error {
	return mysql.Tx(ctx, db, nil, func(tx *sql.Tx) error {
		if err := BumpVersion(ctx, tx, userID); err != nil {
			return err
		}
		return fn(tx)
	})
}
