package care

import (
	"context"
	"database/sql"

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
