package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Position is a binlog coordinate: the file and the offset in it.
type Position struct {
	File string `json:"file"`
	Pos  uint32 `json:"pos"`
}

func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Pos) }

// ErrNoBinlog means the server does not write a binlog.
var ErrNoBinlog = errors.New("the MySQL server has no binary log (enable log_bin with binlog_format=ROW)")

// CurrentPosition returns the server's current binlog write position.
func CurrentPosition(ctx context.Context, db *sql.DB) (Position, error) {
	var p Position
	var err error
	for _, q := range []string{"SHOW BINARY LOG STATUS", "SHOW MASTER STATUS"} { // MySQL 8.4 renamed it
		p, err = scanStatus(ctx, db, q)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, ErrNoBinlog) {
			return p, err
		}
	}
	return p, err
}

func scanStatus(ctx context.Context, db *sql.DB, q string) (Position, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return Position{}, fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return Position{}, err
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Position{}, err
		}
		return Position{}, ErrNoBinlog
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return Position{}, err
	}
	pos, err := strconv.ParseUint(string(vals[1]), 10, 32)
	if err != nil {
		return Position{}, fmt.Errorf("%s: position %q: %w", q, vals[1], err)
	}
	return Position{File: string(vals[0]), Pos: uint32(pos)}, rows.Err()
}

// BinlogServer names the server whose binlog db reads: its server_id and,
// on MySQL, its server_uuid (MariaDB has none). Binlog positions compare
// only within one server: a replica writes its own binlog, with its own file
// names and offsets, so a checkpoint taken on one server means nothing on
// another. server_id is unique within a replication topology (replication
// requires it) and stays with the server across restarts.
func BinlogServer(ctx context.Context, db *sql.DB) (string, error) {
	var (
		id      uint64
		version string
	)
	if err := db.QueryRowContext(ctx, "SELECT @@server_id, VERSION()").Scan(&id, &version); err != nil {
		return "", fmt.Errorf("server_id: %w", err)
	}
	name := fmt.Sprintf("server_id %d", id)
	if strings.Contains(version, "MariaDB") {
		return name, nil
	}
	var uuid string
	if err := db.QueryRowContext(ctx, "SELECT @@server_uuid").Scan(&uuid); err != nil {
		return "", fmt.Errorf("server_uuid: %w", err)
	}
	return name + ", server_uuid " + uuid, nil
}
