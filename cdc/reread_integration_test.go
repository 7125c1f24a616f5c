package cdc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/mappings"
)

// The binlog can reach the worker before the InnoDB commit it announces is
// visible (two-phase commit writes the binlog first). The worker's re-reads
// must wait for such a commit instead of reading the row as missing (which
// would index a delete carrying the new version). A transaction held open
// after its insert stands in for that window: the re-read the worker's
// applier uses must block on it and return the committed row.
func TestIntegrationCDCReReadWaitsForCommit(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{})
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	w := p.worker
	ctx := context.Background()

	cases := []struct {
		name  string
		write string
		index string
		id    uint64
		want  bool // searchable after the commit
	}{
		{"insert", `INSERT INTO posts (id, user_id, category, title, body) VALUES (901, 1, '자유', '커밋 전 글', '본문')`, mappings.Posts, 901, true},
		{"soft delete", `UPDATE posts SET deleted_at = NOW(6) WHERE id = 1`, mappings.Posts, 1, false},
		{"user insert", `INSERT INTO users (id, nickname, bio) VALUES (902, '커밋전', '')`, mappings.Users, 902, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(tc.write); err != nil {
				tx.Rollback()
				t.Fatal(err)
			}
			var (
				mu   sync.Mutex
				docs []indexer.Doc
				rerr error
				at   time.Time
			)
			done := make(chan struct{})
			go func() {
				d, err := w.src.ByIDs(ctx, tc.index, []uint64{tc.id})
				mu.Lock()
				docs, rerr, at = d, err, time.Now()
				mu.Unlock()
				close(done)
			}()
			time.Sleep(300 * time.Millisecond)
			committed := time.Now()
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("re-read still blocked 30 s after the commit")
			}
			mu.Lock()
			defer mu.Unlock()
			if rerr != nil {
				t.Fatal(rerr)
			}
			if at.Before(committed) {
				t.Errorf("the re-read returned before the commit (a plain read sees the row's old state)")
			}
			if got := len(docs) == 1 && docs[0].Doc != nil; got != tc.want {
				t.Errorf("searchable after the commit = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("fan-out", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO posts (id, user_id, category, title, body) VALUES (903, 1, '자유', '팬아웃', '본문')`); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
		done := make(chan []uint64, 1)
		go func() {
			ids, err := w.src.IDsByUser(ctx, mappings.Posts, []uint64{1}, 0, 100)
			if err != nil {
				t.Error(err)
			}
			done <- ids
		}()
		time.Sleep(300 * time.Millisecond)
		tx.Commit()
		ids := <-done
		found := false
		for _, id := range ids {
			found = found || id == 903
		}
		if !found {
			t.Errorf("fan-out read %v before the commit of post 903", ids)
		}
	})
}

// A reindex (alias swap) while the worker streams under concurrent writers
// loses nothing: after catch-up the index equals MySQL.
func TestIntegrationCDCReindexWhileStreaming(t *testing.T) {
	for _, eng := range testEngines(t) {
		t.Run(eng.Kind, func(t *testing.T) {
			db, dsn := testdb.New(t)
			seedRows(t, db)
			p := newPipeline(t, db, dsn, eng)
			p.start(Config{})
			p.caughtUp(60 * time.Second)
			_, before, err := p.life.Physical(context.Background(), mappings.Posts)
			if err != nil {
				t.Fatal(err)
			}

			stop := make(chan struct{})
			wait := pacedWriters(t, db, 2, 10*time.Millisecond, false, stop) // ~150 writes/s
			time.Sleep(500 * time.Millisecond)
			log := testLogger(t)
			r := indexer.NewReindexer(db, eng.Client.ES, p.life, bulk.NewWriter(eng.Client.ES, bulk.Options{}, log), log)
			// Three rebuilds: a hard delete landing between the last id
			// reconciliation and the swap is a narrow window.
			var rep indexer.Report
			for range 3 {
				if rep, err = r.Run(context.Background(), mappings.Posts, indexer.ReindexOptions{Profile: eng.Profile, BatchSize: 50}); err != nil {
					t.Fatalf("reindex: %v", err)
				}
			}
			time.Sleep(500 * time.Millisecond)
			close(stop)
			writes := wait()
			if rep.Physical == before {
				t.Fatalf("reindex did not build a new physical index (%s)", rep.Physical)
			}
			p.caughtUp(60 * time.Second)
			t.Logf("%d writes during a reindex of %d rows (caught up %d, reconciled %d)", writes, rep.Rows, rep.CaughtUp, rep.Reconciled)
			p.assertEqual()
			if err := p.stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}
}

// A killed build leaves an unfinished physical index behind no alias; the
// next start deletes it, but never the live index, an older finished one
// kept for rollback, the snapshot it resumes, or one a build is writing now.
func TestIntegrationCDCDropsOrphanedIndices(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{})
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	create := func(name string, finish bool) string {
		time.Sleep(5 * time.Millisecond) // physical names carry milliseconds
		idx, err := p.life.Create(ctx, name, eng.Profile)
		if err != nil {
			t.Fatal(err)
		}
		if finish {
			if err := p.life.Finish(ctx, idx); err != nil {
				t.Fatal(err)
			}
		}
		return idx
	}
	orphan := create(mappings.Posts, false)
	kept := create(mappings.Posts, true)
	busy := create(mappings.Contents, false)
	lock, err := indexer.TryBuildLock(ctx, db, p.life.Alias(mappings.Contents)) // a reindex of contents is running
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	if _, err := indexer.TryBuildLock(ctx, db, p.life.Alias(mappings.Contents)); !errors.Is(err, indexer.ErrBuildBusy) {
		t.Fatalf("second build lock: %v, want ErrBuildBusy", err)
	}

	p.start(Config{})
	p.caughtUp(60 * time.Second)
	if p.life.Exists(ctx, orphan) {
		t.Errorf("orphan %s still there", orphan)
	}
	for _, idx := range []string{kept, busy} {
		if !p.life.Exists(ctx, idx) {
			t.Errorf("%s was deleted", idx)
		}
	}
	for _, name := range []string{mappings.Posts, mappings.Contents, mappings.Users} {
		if _, cur, err := p.life.Physical(ctx, name); err != nil || cur == "" {
			t.Errorf("alias of %s points nowhere (%v)", name, err)
		}
	}
	p.assertEqual()
}
