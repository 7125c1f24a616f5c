package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// ErrLockLost means a lock's connection no longer holds it: the connection
// dropped (the server released the lock, e.g. on a restart) and another
// connection may have it now.
var ErrLockLost = errors.New("named lock lost")

// NamedLock is a MySQL named lock (GET_LOCK) held by a connection of its
// own, taken out of the pool for as long as the lock is held and never
// returned to it: when the holder dies its connection closes and the server
// releases the lock. The single-worker lock of the CDC worker and the build
// lock of each index are NamedLocks.
type NamedLock struct {
	conn *sql.Conn
	name string
}

// LockName is prefix+key cut to MySQL's limit of 64 characters for a lock name.
func LockName(prefix, key string) string {
	name := prefix + key
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// TryLock takes the named lock without waiting on the server. It returns
// (nil, nil) when another connection holds the lock, and an error when the
// server could not be asked; either way no connection is left open.
func TryLock(ctx context.Context, db *sql.DB, name string) (*NamedLock, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: connection: %w", name, err)
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", name).Scan(&got); err != nil {
		discard(conn) // a failed lock connection is not reused
		return nil, fmt.Errorf("GET_LOCK %s: %w", name, err)
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close() // holds nothing: back to the pool
		return nil, nil
	}
	return &NamedLock{conn: conn, name: name}, nil
}

// Held checks that this connection still holds the lock; ErrLockLost when
// it does not, another error when the server could not be asked.
func (l *NamedLock) Held(ctx context.Context) error {
	var mine sql.NullInt64
	err := l.conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", l.name).Scan(&mine)
	if err != nil {
		return fmt.Errorf("check lock %s: %w", l.name, err)
	}
	if !mine.Valid || mine.Int64 != 1 {
		return fmt.Errorf("%w: %s", ErrLockLost, l.name)
	}
	return nil
}

// Release frees the lock and closes its connection, which never goes back
// to the pool (it may still hold the lock if RELEASE_LOCK failed).
func (l *NamedLock) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", l.name)
	discard(l.conn)
}

// discard closes conn without returning it to the pool.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
