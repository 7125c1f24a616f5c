package indexer

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/mappings"
)

// A page of posts reads posts in primary-key order and stops at its limit:
// MySQL must start the join from posts. With many users and the statistics a
// bulk load leaves, MariaDB's optimizer otherwise started from users (a
// covering index) and sorted every post above the cursor into a temporary
// table for each page: 5 s a page at 950k posts, hours for a reindex (seen in
// `bench search --docs 1000000`).
func TestIntegrationPostsPageReadsPostsInOrder(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO users (id, email, nickname) SELECT seq, CONCAT('u', seq, '@example.test'), CONCAT('별명', seq) FROM seq_1_to_20000`)
	exec(`INSERT INTO posts (user_id, category, title, body) SELECT 1 + seq % 20000, '자유', CONCAT('글 ', seq), '본문' FROM seq_1_to_300000`)
	sel, since, idCol, err := queryParts(mappings.Posts)
	if err != nil {
		t.Fatal(err)
	}
	q, args := pageQuery(sel, since, idCol, 46000, 2000, Filter{})
	plan := explain(t, db, q, args...)
	if len(plan) == 0 || plan[0].table != "p" {
		t.Fatalf("the page query starts from %v, want posts (p) first", plan)
	}
	for _, row := range plan {
		if row.temporary {
			t.Errorf("the page query sorts through a temporary table: %+v", plan)
		}
	}
}

type planRow struct {
	table     string
	temporary bool
}

func explain(t *testing.T, db *sql.DB, q string, args ...any) []planRow {
	t.Helper()
	rows, err := db.Query("EXPLAIN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []planRow
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var r planRow
		for i, c := range cols {
			switch c {
			case "table":
				r.table = vals[i].String
			case "Extra":
				r.temporary = vals[i].Valid && strings.Contains(vals[i].String, "Using temporary")
			}
		}
		out = append(out, r)
	}
	return out
}
