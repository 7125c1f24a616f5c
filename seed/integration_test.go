package seed

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mysql"
)

// migratedDB creates soomcare_test_<hex> with the whole schema and drops it
// when t ends.
func migratedDB(t *testing.T) *sql.DB {
	t.Helper()
	dsn := testenv.MySQLDSN(t)
	admin, err := mysql.Open(t.Context(), dsn, mysql.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "soomcare_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(t.Context(), "CREATE DATABASE `"+name+"` CHARACTER SET "+mysql.Charset+" COLLATE "+mysql.Collation); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	db, err := mysql.Open(t.Context(), cfg.FormatDSN(), mysql.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() }) // before the DROP above
	m, err := mysql.NewMigrator(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(t.Context()); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func checkCounts(t *testing.T, db *sql.DB, st Stats) {
	t.Helper()
	for _, tb := range st.Tables() {
		if n := count(t, db, "SELECT COUNT(*) FROM "+tb.Name); n != tb.Rows {
			t.Errorf("%s: %d rows, Stats says %d", tb.Name, n, tb.Rows)
		}
	}
	for q, want := range map[string]int{
		"SELECT COUNT(*) FROM posts p WHERE p.like_count <> (SELECT COUNT(*) FROM post_likes l WHERE l.post_id = p.id)":                           0,
		"SELECT COUNT(*) FROM posts p WHERE p.comment_count <> (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id AND c.deleted_at IS NULL)": 0,
		"SELECT COUNT(*) FROM comments c JOIN comments pc ON pc.id = c.parent_id WHERE pc.post_id <> c.post_id OR pc.parent_id IS NOT NULL":       0,
		"SELECT COUNT(*) FROM posts WHERE title = '" + RequiredTitle + "' AND status = 'visible' AND deleted_at IS NULL":                          1,
		"SELECT COUNT(*) FROM contents WHERE JSON_LENGTH(tags) NOT BETWEEN 2 AND 5":                                                               0,
	} {
		if n := count(t, db, q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
}

func TestLoadIntegration(t *testing.T) {
	db := migratedDB(t)
	ctx := t.Context()
	c := Generate(20261125, Sizes{Users: 50, Contents: 20, Posts: 100, MaxCommentsPerPost: 6, MaxLikesPerPost: 20}, time.Now())
	var calls int
	st, err := Load(ctx, db, c, LoadOptions{Progress: func(string, int, int) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Users != 50 || st.Contents != 20 || st.Posts != 100 || st.Comments != len(c.Comments) || st.PostLikes != len(c.PostLikes) || calls < 10 {
		t.Fatalf("stats %+v, %d progress calls", st, calls)
	}
	checkCounts(t, db, st)

	if _, err := Load(ctx, db, c, LoadOptions{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("second load: %v, want ErrNotEmpty", err)
	}
	// a row Load does not write must go too
	if _, err := db.ExecContext(ctx, "INSERT INTO user_identities (user_id, provider, subject) VALUES (3, 'kakao', 'k-1')"); err != nil {
		t.Fatal(err)
	}
	c2 := Generate(99, Sizes{Users: 30, Contents: 5, Posts: 40, MaxCommentsPerPost: 3, MaxLikesPerPost: 5}, time.Now())
	st2, err := Load(ctx, db, c2, LoadOptions{Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(st.Users + st.Contents + st.Posts + st.Comments + st.PostLikes + 1); st2.Deleted != want {
		t.Errorf("replace deleted %d rows, want %d", st2.Deleted, want)
	}
	checkCounts(t, db, st2)
	if n := count(t, db, "SELECT COUNT(*) FROM user_identities"); n != 0 {
		t.Errorf("%d user_identities left", n)
	}
}

// TestLoadDefaultSizes loads the whole demo corpus (what `soomcare seed`
// loads). It runs with every integration run, without a switch of its own:
// it takes about 3 s of loading on the test MariaDB (4 s with the schema,
// measured with the machine's load average above 10).
func TestLoadDefaultSizes(t *testing.T) {
	db := migratedDB(t)
	start := time.Now()
	c := Generate(20261125, DefaultSizes(), time.Now())
	gen := time.Since(start)
	st, err := Load(t.Context(), db, c, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("generate %s, load %s: %+v", gen, time.Since(start)-gen, st)
	checkCounts(t, db, st)
}
