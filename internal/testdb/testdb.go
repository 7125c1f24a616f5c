// Package testdb gives integration tests a fresh, migrated MySQL database of
// their own on the test environment's server, dropped when the test ends.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"

	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mysql"
)

// New creates database soomcare_test_<random>, applies every migration and
// returns it with its DSN. It skips unless integration tests are enabled.
func New(t testing.TB) (*sql.DB, string) {
	t.Helper()
	base := testenv.MySQLDSN(t)
	ctx := context.Background()
	admin, err := mysql.Open(ctx, base, mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "soomcare_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	cfg, err := mysql.ParseDSN(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	dsn := cfg.FormatDSN()
	db, err := mysql.Open(ctx, dsn, mysql.Options{MaxOpenConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		admin.Close()
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
