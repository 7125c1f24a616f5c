package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/soomcare/soomcare/mysql"
)

// ErrBuildBusy means another process is building a physical index of the
// same logical index right now (a reindex, a CDC snapshot or rebuild).
var ErrBuildBusy = errors.New("another build of this index is running")

// TryBuildLock takes the build lock of alias without waiting: a
// mysql.NamedLock held for as long as a physical index of one logical index
// is being built. Two builds of one index never run at once, and a CDC
// worker can tell what a killed build left behind (no one holds the lock)
// from a build in progress.
func TryBuildLock(ctx context.Context, db *sql.DB, alias string) (*mysql.NamedLock, error) {
	lock, err := mysql.TryLock(ctx, db, mysql.LockName("soomcare-build:", alias))
	if err != nil {
		return nil, fmt.Errorf("build lock %s: %w", alias, err)
	}
	if lock == nil {
		return nil, fmt.Errorf("%w: %s", ErrBuildBusy, alias)
	}
	return lock, nil
}
