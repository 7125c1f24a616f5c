package indexer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/mappings"
)

// rollbackFixture is the fixture with two more visible posts (5, 6) and two
// builds of posts: the first is the rollback target, the second live.
func rollbackFixture(t *testing.T, e testEngine, w Writer, names ...string) (*sql.DB, *Reindexer, *Lifecycle, map[string][2]string) {
	t.Helper()
	db, _ := testdb.New(t)
	fixture(t, db)
	mustExecT(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES
		(5, 1, '질문', '흡입기 소리가 나요', '본문'), (6, 1, '자유', '지워질 글', '본문')`)
	r, life := newReindexer(t, db, e, randomPrefix(t), w)
	built := map[string][2]string{}
	for _, name := range names {
		var b [2]string
		for i := range b {
			rep, err := r.Run(context.Background(), name, ReindexOptions{Profile: e.Profile})
			if err != nil {
				t.Fatalf("reindex %s: %v", name, err)
			}
			b[i] = rep.Physical
			time.Sleep(5 * time.Millisecond) // distinct timestamps in names
		}
		built[name] = b
	}
	return db, r, life, built
}

func aliasOn(t *testing.T, life *Lifecycle, name string) string {
	t.Helper()
	_, current, err := life.Physical(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return current
}

func postIDs(t *testing.T, c *engine.Client, life *Lifecycle) []string {
	t.Helper()
	if err := life.Refresh(context.Background(), life.Alias(mappings.Posts)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range search(t, c, life.Alias(mappings.Posts), map[string]any{"size": 100}) {
		ids = append(ids, fmt.Sprint(d["id"]))
	}
	slices.Sort(ids)
	return ids
}

// Issue #20, hole 3: reindex, then a new post, a hidden post and a
// hard-deleted one, then a rollback with no CDC running. The rollback
// brings its target up to date before the alias moves: the index equals
// MySQL, the new post is searchable, the hidden and deleted ones are not.
func TestIntegrationRollbackCatchesUpTheTarget(t *testing.T) {
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			db, r, life, built := rollbackFixture(t, e, nil, mappings.Posts)
			if got := postIDs(t, e.Client, life); !slices.Equal(got, []string{"1", "5", "6"}) {
				t.Fatalf("posts before = %v", got)
			}
			mustExecT(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (10, 1, '자유', '롤백 전에 쓴 글', '본문')`)
			mustExecT(t, db, `UPDATE posts SET status = 'hidden' WHERE id = 5`)
			mustExecT(t, db, `DELETE FROM posts WHERE id = 6`)

			reps, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if on := aliasOn(t, life, mappings.Posts); on != built[mappings.Posts][0] || len(reps) != 1 || reps[0].To != on {
				t.Fatalf("alias on %s, reports %+v; want the first build %s", on, reps, built[mappings.Posts][0])
			}
			if rep := reps[0]; rep.FullReread || rep.CaughtUp < 2 {
				t.Errorf("rollback report %+v: want a catch-up from the retirement mark of at least the 2 changed rows", rep)
			}
			assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Posts)
			if got := postIDs(t, e.Client, life); !slices.Equal(got, []string{"1", "10"}) {
				t.Errorf("posts searchable after the rollback = %v, want [1 10] (5 hidden, 6 deleted)", got)
			}
		})
	}
}

// Issue #27: reindex → rollback → reindex must keep the index that had just
// been live, and the next rollback goes to it (--keep by live history, not
// by name). The index a rollback left is not a target again.
func TestIntegrationKeepByLiveHistory(t *testing.T) {
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			_, r, life, built := rollbackFixture(t, e, nil, mappings.Posts)
			a, b := built[mappings.Posts][0], built[mappings.Posts][1]
			if _, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{}); err != nil {
				t.Fatal(err)
			}
			if on := aliasOn(t, life, mappings.Posts); on != a {
				t.Fatalf("rollback: alias on %s, want %s", on, a)
			}
			rep, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile, Keep: 2})
			if err != nil {
				t.Fatal(err)
			}
			all, current, err := life.Physical(ctx, mappings.Posts)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{a, rep.Physical}; !slices.Equal(all, want) || current != rep.Physical {
				t.Fatalf("after reindex → rollback → reindex with keep 2: indices %v alias on %s; want %v (the one live before kept, the one rolled back from deleted: %s)",
					all, current, want, b)
			}
			reps, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{})
			if err != nil || reps[0].To != a {
				t.Fatalf("second rollback = %+v, %v; want to %s", reps, err, a)
			}
			if _, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{}); !errors.Is(err, ErrNoPrevious) {
				t.Fatalf("rollback after rolling back from the only other index: %v, want ErrNoPrevious", err)
			}
		})
	}
}

// A rollback never lands on a half-built index, nor on one of another
// schema version, nor (without Force) on one retired longer than MaxAge;
// reindex deletes the half-built index a killed build left and --keep does
// not count it.
func TestIntegrationRollbackRefusesUnfitTargets(t *testing.T) {
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			_, r, life, built := rollbackFixture(t, e, nil, mappings.Posts)
			a, b := built[mappings.Posts][0], built[mappings.Posts][1]
			half, err := life.Create(ctx, mappings.Posts, e.Profile) // a killed build: never finished
			if err != nil {
				t.Fatal(err)
			}
			if target, err := life.RollbackTarget(ctx, mappings.Posts); err != nil || target.Physical != a {
				t.Fatalf("rollback target = %s, %v; want %s, not the half-built %s", target.Physical, err, a, half)
			}

			if _, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{MaxAge: time.Nanosecond}); !errors.Is(err, ErrRollbackRefused) {
				t.Errorf("rollback to a target older than MaxAge: %v, want ErrRollbackRefused", err)
			}
			setSchemaVersion(t, e.Client, a, 1)
			if _, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{Force: true}); !errors.Is(err, ErrRollbackRefused) ||
				!strings.Contains(err.Error(), "schema version 1") {
				t.Errorf("rollback across a schema version: %v, want ErrRollbackRefused naming version 1", err)
			}
			if on := aliasOn(t, life, mappings.Posts); on != b {
				t.Fatalf("refused rollbacks moved the alias to %s", on)
			}
			want, _ := mappings.SchemaVersion(mappings.Posts)
			setSchemaVersion(t, e.Client, a, want)
			if _, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{MaxAge: time.Nanosecond, Force: true}); err != nil {
				t.Fatalf("rollback with Force past MaxAge: %v", err)
			}

			half2, err := life.Create(ctx, mappings.Posts, e.Profile)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile, Keep: 2})
			if err != nil {
				t.Fatal(err)
			}
			all, _, _ := life.Physical(ctx, mappings.Posts)
			if want := []string{a, rep.Physical}; !slices.Equal(all, want) {
				t.Errorf("after a reindex with keep 2: %v, want %v (half-built %s and %s deleted, not counted)", all, want, half, half2)
			}
		})
	}
}

func setSchemaVersion(t *testing.T, c *engine.Client, physical string, v int) {
	t.Helper()
	l := &Lifecycle{es: c.ES}
	metas, err := l.metas(context.Background(), []string{physical})
	if err != nil {
		t.Fatal(err)
	}
	meta := metas[physical]
	meta["schema_version"] = v
	body := fmt.Sprintf(`{"_meta":%s}`, mustJSON(t, meta))
	res, err := c.ES.Indices.PutMapping([]string{physical}, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// failIndex fails every write to one physical index, as an engine whose
// index went read-only would.
type failIndex struct {
	Writer
	physical string
}

func (f *failIndex) Write(ctx context.Context, ops []bulk.Op) (bulk.Result, error) {
	for _, op := range ops {
		if op.Index == f.physical {
			return bulk.Result{}, fmt.Errorf("bulk: %w: index read-only", engine.ErrUnavailable)
		}
	}
	return f.Writer.Write(ctx, ops)
}

// Issue #27: `--rollback all` is all or nothing. An index without a
// previous one stops it before any alias moves; a failure midway moves back
// the aliases already rolled back. A rollback takes the build lock, so it is
// refused at once (ErrBuildBusy) while a build of that index runs.
func TestIntegrationRollbackAllIsAllOrNothing(t *testing.T) {
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			fail := &failIndex{Writer: bulk.NewWriter(e.Client.ES, bulk.Options{}, slog.Default())}
			db, r, life, built := rollbackFixture(t, e, fail, mappings.Contents, mappings.Posts)
			if _, err := r.Run(ctx, mappings.Users, ReindexOptions{Profile: e.Profile}); err != nil {
				t.Fatal(err)
			}
			live := map[string]string{mappings.Contents: built[mappings.Contents][1], mappings.Posts: built[mappings.Posts][1], mappings.Users: aliasOn(t, life, mappings.Users)}
			unmoved := func(when string) {
				t.Helper()
				for name, want := range live {
					if on := aliasOn(t, life, name); on != want {
						t.Errorf("%s: %s on %s, want %s", when, name, on, want)
					}
				}
			}

			if _, err := r.Rollback(ctx, []string{mappings.Contents, mappings.Posts, mappings.Users}, RollbackOptions{}); !errors.Is(err, ErrNoPrevious) {
				t.Fatalf("rollback all with users never rebuilt: %v, want ErrNoPrevious", err)
			}
			unmoved("after a refused rollback all")

			lock, err := TryBuildLock(ctx, db, life.Alias(mappings.Posts))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Rollback(ctx, []string{mappings.Contents, mappings.Posts}, RollbackOptions{}); !errors.Is(err, ErrBuildBusy) {
				t.Errorf("rollback during a build of posts: %v, want ErrBuildBusy", err)
			}
			lock.Release()
			unmoved("after a rollback refused for a running build")

			// contents rolls back first, then the catch-up of posts fails:
			// contents is moved back, caught up with its change.
			mustExecT(t, db, `UPDATE contents SET title = '천식 흡입기 바르게 쓰기' WHERE id = 1`)
			mustExecT(t, db, `UPDATE posts SET title = '아이의 천식이 새벽에 심해져요' WHERE id = 1`)
			fail.physical = built[mappings.Posts][0]
			if _, err := r.Rollback(ctx, []string{mappings.Contents, mappings.Posts}, RollbackOptions{}); err == nil {
				t.Fatal("rollback with the posts target failing: no error")
			}
			unmoved("after a rollback that failed midway")
			assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Contents)

			fail.physical = ""
			reps, err := r.Rollback(ctx, []string{mappings.Contents, mappings.Posts}, RollbackOptions{})
			if err != nil || len(reps) != 2 {
				t.Fatalf("rollback after the failure: %+v, %v", reps, err)
			}
			for _, name := range []string{mappings.Contents, mappings.Posts} {
				if on := aliasOn(t, life, name); on != built[name][0] {
					t.Errorf("%s on %s after the rollback, want %s", name, on, built[name][0])
				}
				assertIndexEqualsMySQL(t, db, e.Client, life, name)
			}
		})
	}
}

// A busy table never stops changing: rows written while the rollback compares
// its target show up as differences at every comparison. They are accepted
// once they are all rows changed since the previous comparison began, and
// the catch-up after the swap brings them in: the rollback succeeds and the
// index equals MySQL.
func TestIntegrationRollbackUnderChurn(t *testing.T) {
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			db, r, life, built := rollbackFixture(t, e, nil, mappings.Posts)
			n := 0
			r.beforeCompare = func() { // a write lands during every comparison
				n++
				mustExecT(t, db, `UPDATE posts SET title = ? WHERE id = 5`, fmt.Sprintf("흡입기 소리가 나요 %d", n))
			}
			reps, err := r.Rollback(ctx, []string{mappings.Posts}, RollbackOptions{})
			if err != nil {
				t.Fatalf("rollback while rows change during each comparison (%d comparisons): %v", n, err)
			}
			if reps[0].To != built[mappings.Posts][0] || n < 2 {
				t.Errorf("rollback %+v after %d comparisons; want to %s after at least 2", reps[0], n, built[mappings.Posts][0])
			}
			assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Posts)
		})
	}
}

// flakyWriter fails the next `fails` writes once armed, then passes again:
// MySQL or the engine away for a moment.
type flakyWriter struct {
	Writer
	fails atomic.Int32
}

func (f *flakyWriter) Write(ctx context.Context, ops []bulk.Op) (bulk.Result, error) {
	if f.fails.Add(-1) >= 0 {
		return bulk.Result{}, fmt.Errorf("bulk: %w: connection refused", engine.ErrUnavailable)
	}
	return f.Writer.Write(ctx, ops)
}

// Once the alias has moved, a failing catch-up is retried (a MySQL or engine
// outage of seconds), so a reindex or rollback mid-outage still ends with
// the index equal to MySQL instead of an error and a stale index.
func TestIntegrationCatchUpAfterSwapIsRetried(t *testing.T) {
	e := testEngines(t)[0]
	ctx := context.Background()
	w := &flakyWriter{Writer: bulk.NewWriter(e.Client.ES, bulk.Options{}, slog.Default())}
	db, r, life, _ := rollbackFixture(t, e, w, mappings.Posts)
	r.beforeSwap = func() {
		mustExecT(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (11, 1, '자유', '스왑 직전 글', '본문')`)
		w.fails.Store(2)
	}
	if _, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile}); err != nil {
		t.Fatalf("reindex with the engine away for two writes after the swap: %v", err)
	}
	assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Posts)
}
