package testdb

import (
	"context"
	"database/sql"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/soomcare/soomcare/mysql"
)

// OnReplica opens db's database on the replica (replica: a DSN without a
// database) once the replica has applied everything db's server committed,
// and returns the pool and its configuration.
func OnReplica(t testing.TB, db *sql.DB, replica string) (*sql.DB, *mysqldrv.Config) {
	t.Helper()
	ctx := context.Background()
	var name string
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	rc, err := mysql.ParseDSN(replica)
	if err != nil {
		t.Fatal(err)
	}
	// Wait on a connection without the database first: until the replica
	// has applied its CREATE DATABASE, naming it fails (Error 1049).
	waiter, err := mysql.Open(ctx, rc.FormatDSN(), mysql.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	if err := mysql.WaitReplica(ctx, db, waiter, time.Minute); err != nil {
		t.Fatal(err)
	}
	rc.DBName = name
	source, err := mysql.Open(ctx, rc.FormatDSN(), mysql.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { source.Close() })
	return source, rc
}
