package cdc

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// The single-worker lock makes one worker active per pipeline: a
// mysql.NamedLock. When the holder dies its connection closes, the server
// releases the lock, and a waiting worker takes over within a poll. A MySQL
// restart releases it too: the holder's watchdog notices (Held fails) and its
// session stops; whichever worker asks first afterwards is active.

// AcquireLock waits until it holds the lock or ctx ends, calling waiting at
// every poll that finds another worker holding it (first: the first time).
// Query and connection errors (MySQL restarting) are logged and retried with
// backoff: a standby outlives a MySQL restart.
func AcquireLock(ctx context.Context, db *sql.DB, name string, poll time.Duration, logger *slog.Logger, waiting func(ctx context.Context, first bool)) (*mysql.NamedLock, error) {
	told, failures := false, 0
	for {
		l, err := mysql.TryLock(ctx, db, name)
		if l != nil {
			return l, nil
		}
		d := poll // held by another worker: GET_LOCK without a server-side wait, then a pause here
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			d = backoff(failures)
			failures++
			logger.Warn("cannot reach MySQL for the single-worker lock; retrying", "err", err, "in", d.Round(time.Millisecond))
		} else if waiting != nil {
			waiting(ctx, !told)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
	}
}
