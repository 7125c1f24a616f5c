// Package testdb gives integration tests a fresh, migrated MySQL database of
// their own on the test environment's server, dropped when the test ends.
package testdb

import (
	"context"
	"database/sql"
	"testing"

	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mysql"
)

// New creates database soomcare_test_<random>, applies every migration and
// returns it with its DSN. It skips unless integration tests are enabled.
func New(t testing.TB) (*sql.DB, string) {
	t.Helper()
	ctx := context.Background()
	dsn, drop, err := mysql.CreateScratch(ctx, testenv.MySQLDSN(t), "soomcare_test")
	if err != nil {
		t.Fatal(err)
	}
	db, err := mysql.Open(ctx, dsn, mysql.Options{MaxOpenConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		drop(context.Background())
	})
	m, err := mysql.NewMigrator(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	return db, dsn
}
