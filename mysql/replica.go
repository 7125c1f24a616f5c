package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrReplicaBehind means a replica did not apply the primary's transactions
// within the wait.
var ErrReplicaBehind = errors.New("the replica did not catch up with the primary in time")

// WaitReplica returns once replica has applied every transaction primary had
// committed when it was called (GTIDs: MariaDB's MASTER_GTID_WAIT, MySQL's
// WAIT_FOR_EXECUTED_GTID_SET), or ErrReplicaBehind after timeout. After it,
// a read on the replica sees at least what a read on the primary saw before.
func WaitReplica(ctx context.Context, primary, replica *sql.DB, timeout time.Duration) error {
	secs := max(1, int(timeout.Seconds()))
	var gtid string
	if err := primary.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_binlog_pos").Scan(&gtid); err == nil { // MariaDB
		var got sql.NullInt64
		if err := replica.QueryRowContext(ctx, "SELECT MASTER_GTID_WAIT(?, ?)", gtid, secs).Scan(&got); err != nil {
			return fmt.Errorf("wait for the replica (GTID %s): %w", gtid, err)
		}
		if !got.Valid || got.Int64 != 0 {
			return fmt.Errorf("%w: GTID %s after %ds", ErrReplicaBehind, gtid, secs)
		}
		return nil
	}
	if err := primary.QueryRowContext(ctx, "SELECT @@GLOBAL.gtid_executed").Scan(&gtid); err != nil {
		return fmt.Errorf("read the primary's GTID position (the source must replicate by GTID): %w", err)
	}
	gtid = strings.ReplaceAll(gtid, "\n", "")
	var got sql.NullInt64
	if err := replica.QueryRowContext(ctx, "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)", gtid, secs).Scan(&got); err != nil {
		return fmt.Errorf("wait for the replica (GTID %s): %w", gtid, err)
	}
	if !got.Valid || got.Int64 != 0 {
		return fmt.Errorf("%w: GTID set %s after %ds", ErrReplicaBehind, gtid, secs)
	}
	return nil
}
