package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/soomcare/soomcare/internal/testenv"
)

// newTestDB creates an empty database with a unique name on the test server,
// drops it when t ends, and returns a pool connected to it.
func newTestDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := testenv.MySQLDSN(t)
	admin, err := Open(t.Context(), dsn, Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "soomcare_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(),
		"CREATE DATABASE `"+name+"` CHARACTER SET "+Charset+" COLLATE "+Collation); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})

	cfg, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	db, err := Open(t.Context(), cfg.FormatDSN(), Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the DROP above
	if err := Ping(t.Context(), db); err != nil {
		t.Fatal(err)
	}
	return db
}

// migrated returns a database with the whole schema applied.
func migrated(t *testing.T) *sql.DB {
	t.Helper()
	db := newTestDB(t)
	m, err := NewMigrator(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

func embeddedCount(t *testing.T) int { return len(readMigrations(t)) }

// createdTables counts the tables the migrations create (the others alter existing ones).
func createdTables(t *testing.T) int {
	n := 0
	for _, f := range readMigrations(t) {
		n += len(createTable.FindAllStringSubmatch(f.up, -1))
	}
	return n
}

func TestMigrateUpThenStatus(t *testing.T) {
	db := newTestDB(t)
	ctx := t.Context()
	m, err := NewMigrator(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := embeddedCount(t)

	res, err := m.Up(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != n {
		t.Fatalf("Up applied %d migrations, want %d", len(res), n)
	}
	sts, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sts) != n {
		t.Fatalf("Status lists %d migrations, want %d", len(sts), n)
	}
	for i, s := range sts {
		if !s.Applied || s.AppliedAt.IsZero() || s.Name == "" || (i > 0 && s.Version <= sts[i-1].Version) {
			t.Errorf("status[%d] = %+v, want an increasing version applied with a time", i, s)
		}
	}
	if v, err := m.Version(ctx); err != nil || v != sts[len(sts)-1].Version {
		t.Errorf("Version = %d, %v; want the last migration's %d", v, err, sts[len(sts)-1].Version)
	}
	if res, err := m.Up(ctx); err != nil || len(res) != 0 {
		t.Errorf("second Up = %v, %v; want nothing to do", res, err)
	}

	// The server, not only the files, must agree on the table options.
	rows, err := db.QueryContext(ctx, `SELECT table_name, engine, table_collation
		FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tables := 0
	for rows.Next() {
		var name, engine, collation string
		if err := rows.Scan(&name, &engine, &collation); err != nil {
			t.Fatal(err)
		}
		tables++
		if engine != "InnoDB" || collation != Collation {
			t.Errorf("table %s: engine %s collation %s", name, engine, collation)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := createdTables(t); tables != want {
		t.Errorf("%d tables, want %d (one per CREATE TABLE migration)", tables, want)
	}
}

func TestMigrateDownAllThenUpAgain(t *testing.T) {
	db := newTestDB(t)
	ctx := t.Context()
	m, err := NewMigrator(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := embeddedCount(t)
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}

	latest, err := m.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	one, err := m.Down(ctx)
	if err != nil || one.Version != latest || one.Direction != "down" {
		t.Fatalf("Down = %+v, %v; want version %d (of %d migrations) down", one, err, latest, n)
	}
	rest, err := m.DownTo(ctx, 0)
	if err != nil || len(rest) != n-1 {
		t.Fatalf("DownTo(0) rolled back %d, %v; want %d", len(rest), err, n-1)
	}
	if v, err := m.Version(ctx); err != nil || v != 0 {
		t.Fatalf("Version after DownTo(0) = %d, %v", v, err)
	}
	if _, err := m.Down(ctx); !errors.Is(err, ErrNoMigrationToRollBack) {
		t.Fatalf("Down on an empty schema: %v, want ErrNoMigrationToRollBack", err)
	}
	var left int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_name <> 'goose_db_version'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d tables left after DownTo(0)", left)
	}

	res, err := m.Up(ctx)
	if err != nil || len(res) != n {
		t.Fatalf("Up again applied %d, %v; want %d", len(res), err, n)
	}
}

func TestEmojiNicknameRoundTrips(t *testing.T) {
	db := migrated(t)
	ctx := t.Context()
	// Both nicknames differ only in a 4-byte character: under utf8mb4_unicode_ci they
	// would collide on the unique key (see 00001_users.sql).
	for _, nick := range []string{"숨쉬기🌸", "숨쉬기🌷"} {
		bio := "천식 5년차 😤💨"
		before := time.Now().UTC().Add(-time.Minute)
		id := insertUser(t, db, nick, bio)
		var gotNick, gotBio string
		var created time.Time
		err := db.QueryRowContext(ctx, "SELECT nickname, bio, created_at FROM users WHERE id = ?", id).
			Scan(&gotNick, &gotBio, &created)
		if err != nil {
			t.Fatal(err)
		}
		if gotNick != nick || gotBio != bio {
			t.Errorf("round trip: got %q %q, want %q %q", gotNick, gotBio, nick, bio)
		}
		if created.Location() != time.UTC || created.Before(before) || created.After(time.Now().Add(time.Minute)) {
			t.Errorf("created_at = %v, want about now in UTC", created)
		}
	}
}

func TestDuplicateNicknameIsRejected(t *testing.T) {
	db := migrated(t)
	insertUser(t, db, "숨케어", "")
	_, err := db.ExecContext(t.Context(), "INSERT INTO users (nickname) VALUES (?)", "숨케어")
	var myErr *mysqldrv.MySQLError
	if !errors.As(err, &myErr) || myErr.Number != 1062 {
		t.Fatalf("duplicate nickname: err = %v, want MySQL error 1062", err)
	}
}

func TestConstraints(t *testing.T) {
	db := migrated(t)
	ctx := t.Context()
	author := insertUser(t, db, "에디터", "")

	var tags string
	res, err := db.ExecContext(ctx, "INSERT INTO contents (author_id, title, body, category) VALUES (?, '흡입기 사용법', '...', 'guide')", author)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if err := db.QueryRowContext(ctx, "SELECT tags FROM contents WHERE id = ?", id).Scan(&tags); err != nil || tags != "[]" {
		t.Errorf("default tags = %q, %v; want []", tags, err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO contents (author_id, title, body, category, tags) VALUES (?, 't', 'b', 'c', 'not json')", author); err == nil {
		t.Error("invalid JSON tags accepted")
	}

	if _, err := db.ExecContext(ctx, "INSERT INTO posts (user_id, category, title, body) VALUES (?, 'free', '안녕하세요', '...')", author); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, "DELETE FROM users WHERE id = ?", author)
	var myErr *mysqldrv.MySQLError
	if !errors.As(err, &myErr) || myErr.Number != 1451 {
		t.Errorf("deleting a user with posts: err = %v, want 1451 (foreign keys RESTRICT)", err)
	}
}

func TestBinlogFormatIsRow(t *testing.T) {
	db, err := Open(t.Context(), testenv.MySQLDSN(t), Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var format, image string
	if err := db.QueryRowContext(t.Context(), "SELECT @@binlog_format, @@binlog_row_image").Scan(&format, &image); err != nil {
		t.Fatal(err)
	}
	if format != "ROW" || image != "FULL" {
		t.Fatalf("binlog_format=%s binlog_row_image=%s, the CDC worker needs ROW and FULL", format, image)
	}
}

func TestSessionSettings(t *testing.T) {
	db := newTestDB(t)
	var tz, charset, collation string
	err := db.QueryRowContext(t.Context(),
		"SELECT @@session.time_zone, @@character_set_connection, @@collation_connection").Scan(&tz, &charset, &collation)
	if err != nil {
		t.Fatal(err)
	}
	if tz != "+00:00" || charset != Charset || collation != Collation {
		t.Errorf("session time_zone=%s charset=%s collation=%s, want +00:00 %s %s", tz, charset, collation, Charset, Collation)
	}
}

func insertUser(t *testing.T, db *sql.DB, nickname, bio string) int64 {
	t.Helper()
	res, err := db.ExecContext(t.Context(), "INSERT INTO users (nickname, bio) VALUES (?, ?)", nickname, bio)
	if err != nil {
		t.Fatalf("insert user %q: %v", nickname, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// QueryAll scans every row, answers an empty (non-nil) slice for no rows, and
// stops at the first scan error; QueryIDs is QueryAll of one id column.
func TestQueryAll(t *testing.T) {
	db := migrated(t)
	ctx := t.Context()
	ids := []int64{insertUser(t, db, "첫째", ""), insertUser(t, db, "둘째", "")}
	type user struct {
		ID   uint64
		Nick string
	}
	scan := func(r Scanner) (u user, err error) { return u, r.Scan(&u.ID, &u.Nick) }
	got, err := QueryAll(ctx, db, scan, "SELECT id, nickname FROM users WHERE id IN (?, ?) ORDER BY id", ids[0], ids[1])
	if err != nil || len(got) != 2 || got[0].Nick != "첫째" || got[1].Nick != "둘째" {
		t.Fatalf("QueryAll = %+v, %v", got, err)
	}
	none, err := QueryAll(ctx, db, scan, "SELECT id, nickname FROM users WHERE id = 0")
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("no rows: %#v, %v; want an empty non-nil slice", none, err)
	}
	if _, err := QueryAll(ctx, db, scan, "SELECT id FROM users"); err == nil {
		t.Error("a scan error (one column for two targets) was not returned")
	}
	if got, err := QueryIDs(ctx, db, "SELECT id FROM users WHERE id IN (?, ?) ORDER BY id", ids[0], ids[1]); err != nil ||
		len(got) != 2 || got[0] != uint64(ids[0]) || got[1] != uint64(ids[1]) {
		t.Errorf("QueryIDs = %v, %v", got, err)
	}
}
