package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Lock makes one worker active per pipeline: a MySQL named lock held by a
// dedicated connection. When the holder dies its connection closes, the
// server releases the lock, and a waiting worker takes over within a poll.
type Lock struct {
	conn *sql.Conn
	name string
}

// AcquireLock waits until it holds the lock or ctx ends, calling waiting once
// when another worker holds it.
func AcquireLock(ctx context.Context, db *sql.DB, name string, poll time.Duration, waiting func()) (*Lock, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock connection: %w", err)
	}
	told := false
	for {
		var got sql.NullInt64
		// GET_LOCK with a short server-side wait; loop so ctx cancellation is honoured.
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, max(1, int(poll.Seconds()))).Scan(&got); err != nil {
			conn.Close()
			return nil, fmt.Errorf("GET_LOCK %s: %w", name, err)
		}
		if got.Valid && got.Int64 == 1 {
			return &Lock{conn: conn, name: name}, nil
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, ctx.Err()
		default:
		}
	}
}

// Held checks that this connection still holds the lock (a dropped
// connection loses it: the worker must stop, another may be active).
func (l *Lock) Held(ctx context.Context) error {
	var mine sql.NullInt64
	err := l.conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", l.name).Scan(&mine)
	if err != nil {
		return fmt.Errorf("check lock %s: %w", l.name, err)
	}
	if !mine.Valid || mine.Int64 != 1 {
		return fmt.Errorf("lost lock %s: another worker may be active", l.name)
	}
	return nil
}

// Release frees the lock and its connection.
func (l *Lock) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", l.name)
	l.conn.Close()
}
