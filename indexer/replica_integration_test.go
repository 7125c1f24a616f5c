package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// A reindex reading from the replica the CDC follows (WithSource): rows and
// positions come from the replica, so the versions it writes are positions in
// the replica's binlog (the CDC's), while rows change on the primary; after
// the replica caught up, the index equals MySQL.
func TestIntegrationReindexFromReplica(t *testing.T) {
	replica := testenv.MySQLReplicaDSN(t)
	db, _ := testdb.New(t)
	fixture(t, db)
	for i := 10; i < 410; i++ {
		mustExecT(t, db, "INSERT INTO posts (id, user_id, category, title, body) VALUES (?, 1, '자유', ?, '흡입기 이야기')", i, fmt.Sprintf("천식 일기 %d", i))
	}
	ctx := context.Background()
	source, _ := testdb.OnReplica(t, db, replica)
	e := testEngines(t)[0]
	r, life := newReindexer(t, db, e, randomPrefix(t), nil)
	r.WithSource(source)

	stop, stopped := make(chan struct{}), make(chan struct{})
	var writes atomic.Int64
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := 10 + (i*37)%400
			var err error
			switch i % 3 {
			case 0:
				_, err = db.Exec("UPDATE posts SET title = ? WHERE id = ?", fmt.Sprintf("수정된 제목 %d", i), id)
			case 1:
				_, err = db.Exec("DELETE FROM posts WHERE id = ?", id)
			case 2:
				_, err = db.Exec("INSERT INTO posts (user_id, category, title, body) VALUES (1, '질문', ?, '새 글')", fmt.Sprintf("새 질문 %d", i))
			}
			if err != nil {
				t.Error(err)
				return
			}
			writes.Add(1)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	stopWriting := func() {
		select {
		case <-stop:
		default:
			close(stop)
			<-stopped
		}
	}
	rep, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile, BatchSize: 25, Progress: func(phase string, done, _ int64) {
		if phase == "load" && done >= 300 {
			stopWriting()
		}
	}})
	stopWriting()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes on the primary during the load; started from %s", writes.Load(), rep.StartedFrom)
	onReplica, onPrimary := binlogNames(t, source), binlogNames(t, db)
	if !slices.Contains(onReplica, rep.StartedFrom.File) || slices.Contains(onPrimary, rep.StartedFrom.File) {
		t.Errorf("versions from %s: want a file of the replica's binlog %v, not of the primary's %v", rep.StartedFrom, onReplica, onPrimary)
	}
	if err := mysql.WaitReplica(ctx, db, source, time.Minute); err != nil {
		t.Fatal(err)
	}
	assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Posts)
}

func binlogNames(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SHOW BINARY LOGS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		var name string
		vals[0] = &name
		for i := 1; i < len(vals); i++ {
			vals[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(vals...); err != nil {
			t.Fatal(err)
		}
		out = append(out, name)
	}
	return out
}

func mustExecT(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}
