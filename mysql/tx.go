package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// Querier runs statements: a *sql.DB, *sql.Tx or *sql.Conn. Code that works
// inside or outside a transaction takes one.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Tx)(nil)
	_ Querier = (*sql.Conn)(nil)
)

// Tx runs fn in a transaction of db (opts nil: the server's default
// isolation) and commits when fn returns nil. When fn fails (or panics) the
// transaction is rolled back and fn's error returned as is, so callers can
// still match their sentinel errors.
func Tx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("mysql: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback() // after a failed Commit: sql.ErrTxDone, harmless
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("mysql: commit: %w", err)
	}
	return nil
}

// Error numbers of the server that callers act on.
const (
	errDuplicateKey = 1062 // ER_DUP_ENTRY
	errDeadlock     = 1213 // ER_LOCK_DEADLOCK
)

// DuplicateKey reports whether err is a duplicate-key error (1062) and, if
// so, the name of the unique key it names ("uk_users_email"; MySQL 8 writes
// "users.uk_users_email", the table is dropped). The key is read from the
// end of the message, so a duplicate value that looks like a key name
// cannot mislead it.
func DuplicateKey(err error) (key string, ok bool) {
	var me *mysqldrv.MySQLError
	if !errors.As(err, &me) || me.Number != errDuplicateKey {
		return "", false
	}
	msg := me.Message
	i := strings.LastIndex(msg, " for key '")
	if i < 0 || !strings.HasSuffix(msg, "'") {
		return "", true
	}
	key = msg[i+len(" for key '") : len(msg)-1]
	if j := strings.LastIndexByte(key, '.'); j >= 0 {
		key = key[j+1:]
	}
	return key, true
}

// IsDuplicateKey reports whether err is a duplicate-key error (1062).
func IsDuplicateKey(err error) bool {
	_, ok := DuplicateKey(err)
	return ok
}

// IsDeadlock reports whether err is InnoDB choosing the transaction as a
// deadlock victim (1213); the whole transaction may be run again.
func IsDeadlock(err error) bool {
	var me *mysqldrv.MySQLError
	return errors.As(err, &me) && me.Number == errDeadlock
}
