package indexer

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// ErrBuildBusy means another process is building a physical index of the
// same logical index right now (a reindex, a CDC snapshot or rebuild).
var ErrBuildBusy = errors.New("another build of this index is running")

// BuildLock is held, as a MySQL named lock on a connection of its own, for
// as long as a physical index of one logical index is being built. Two
// builds of one index never run at once, and a CDC worker can tell what a
// killed build left behind (no one holds the lock) from a build in progress.
type BuildLock struct {
	conn *sql.Conn
	name string
}

// TryBuildLock takes the build lock of alias without waiting.
func TryBuildLock(ctx context.Context, db *sql.DB, alias string) (*BuildLock, error) {
	name := "soomcare-build:" + alias
	if len(name) > 64 { // MySQL's limit for lock names
		name = name[:64]
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("build lock %s: %w", alias, err)
	}
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", name).Scan(&got); err != nil {
		discard(conn)
		return nil, fmt.Errorf("build lock %s: %w", alias, err)
	}
	if !got.Valid || got.Int64 != 1 {
		conn.Close()
		return nil, fmt.Errorf("%w: %s", ErrBuildBusy, alias)
	}
	return &BuildLock{conn: conn, name: name}, nil
}

// Release frees the lock; its connection never goes back to the pool.
func (l *BuildLock) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", l.name)
	discard(l.conn)
}

// discard closes conn without returning it to the pool (it may hold a lock).
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
