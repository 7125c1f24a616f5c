package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
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
