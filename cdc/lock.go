package cdc

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Lock makes one worker active per pipeline: a MySQL named lock held by a
// dedicated connection. When the holder dies its connection closes, the
// server releases the lock, and a waiting worker takes over within a poll.
// A MySQL restart releases it too: the holder's watchdog notices (Held fails)
// and its session stops; whichever worker asks first afterwards is active.
type Lock struct {
	conn *sql.Conn
	name string
}

// errLockTaken means the server says another connection holds the lock.
var errLockTaken = errors.New("another worker holds the lock")

// AcquireLock waits until it holds the lock or ctx ends, calling waiting once
// when another worker holds it. Query and connection errors (MySQL
// restarting) are logged and retried with backoff on a new connection: a
// standby outlives a MySQL restart.
func AcquireLock(ctx context.Context, db *sql.DB, name string, poll time.Duration, logger *slog.Logger, waiting func()) (*Lock, error) {
	told := false
	for attempt := 0; ; attempt++ {
		l, err := tryLock(ctx, db, name, poll, func() {
			if !told && waiting != nil {
				waiting()
				told = true
			}
		})
		if err == nil {
			return l, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d := backoff(attempt)
		logger.Warn("cannot reach MySQL for the single-worker lock; retrying", "err", err, "in", d.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
	}
}

// tryLock polls GET_LOCK on one connection until it holds the lock, ctx ends
// or the connection fails.
func tryLock(ctx context.Context, db *sql.DB, name string, poll time.Duration, busy func()) (*Lock, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock connection: %w", err)
	}
	for {
		var got sql.NullInt64
		// GET_LOCK without a server-side wait, then a pause here: ctx ends the
		// wait at once, and no statement sits for a second (a standby would
		// otherwise log a slow statement every poll).
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", name).Scan(&got); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // a failed lock connection is not reused
			conn.Close()
			return nil, fmt.Errorf("GET_LOCK %s: %w", name, err)
		}
		if got.Valid && got.Int64 == 1 {
			return &Lock{conn: conn, name: name}, nil
		}
		busy()
		select {
		case <-ctx.Done():
			conn.Raw(func(any) error { return driver.ErrBadConn })
			conn.Close()
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Held checks that this connection still holds the lock. A dropped
// connection loses it (the server released it): the session must stop.
func (l *Lock) Held(ctx context.Context) error {
	var mine sql.NullInt64
	err := l.conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", l.name).Scan(&mine)
	if err != nil {
		return fmt.Errorf("check lock %s: %w", l.name, err)
	}
	if !mine.Valid || mine.Int64 != 1 {
		return fmt.Errorf("%w: %s", errLockTaken, l.name)
	}
	return nil
}

// Release frees the lock and its connection.
func (l *Lock) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", l.name)
	l.conn.Raw(func(any) error { return driver.ErrBadConn }) // never back to the pool: it may hold the lock still
	l.conn.Close()
}
