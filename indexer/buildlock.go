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

// DropOrphans deletes what killed builds of name left behind (Orphans:
// half-built, behind no alias), except the index except (a build the caller
// resumes), when nobody is building name now: it takes the build lock
// without waiting and returns ErrBuildBusy when another process holds it.
// The CDC worker calls it at each session's start; reindex does the same
// under the lock it already holds.
func DropOrphans(ctx context.Context, db *sql.DB, life *Lifecycle, name, except string) ([]string, error) {
	lock, err := TryBuildLock(ctx, db, life.Alias(name))
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	return life.deleteOrphans(ctx, name, except)
}

// deleteOrphans is DropOrphans for a caller that holds name's build lock.
func (l *Lifecycle) deleteOrphans(ctx context.Context, name, except string) ([]string, error) {
	orphans, err := l.Unfinished(ctx, name)
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, idx := range orphans {
		if idx == except {
			continue
		}
		if err := l.Delete(ctx, idx); err != nil {
			return deleted, err
		}
		deleted = append(deleted, idx)
	}
	return deleted, nil
}
