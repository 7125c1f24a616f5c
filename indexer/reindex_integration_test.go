package indexer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

type testEngine = testengine.Engine

func testEngines(t *testing.T) []testEngine { return testengine.All(t) }

func randomPrefix(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}

// fixture: users 1 active, 2 blocked, 3 deleted, 4 editor; contents and posts
// in every state the builders distinguish.
func fixture(t *testing.T, db *sql.DB) {
	t.Helper()
	stmts := []string{
		`INSERT INTO users (id, email, nickname, bio, role, status, deleted_at) VALUES
		 (1, 'a@example.test', '숨쉬는고래', '소아천식 아이를 키워요', 'user', 'active', NULL),
		 (2, 'b@example.test', '차단된사람', '', 'user', 'blocked', NULL),
		 (3, 'c@example.test', '탈퇴한사람', '', 'user', 'deleted', NOW()),
		 (4, 'd@example.test', '편집자', '호흡기 내과 간호사', 'editor', 'active', NULL)`,
		`INSERT INTO contents (id, author_id, title, body, summary, category, tags, status, published_at, deleted_at) VALUES
		 (1, 4, '천식 흡입기 사용법', '흡입기를 쓰기 전에 숨을 충분히 내쉬세요. 벤토린은 완화제입니다.', '흡입기 바르게 쓰기', '약물', '["흡입기","벤토린"]', 'published', NOW(), NULL),
		 (2, 4, '초안: 최대호기유량', '작성 중', '', '검사', '[]', 'draft', NULL, NULL),
		 (3, 4, '삭제된 글', '삭제됨', '', '검사', '[]', 'published', NOW(), NOW())`,
		`INSERT INTO posts (id, user_id, category, title, body, status, deleted_at) VALUES
		 (1, 1, '질문', '아이의 천식이 밤에 심해져요', '밤마다 기침을 해서 잠을 못 자요. 흡입기를 써도 될까요?', 'visible', NULL),
		 (2, 1, '자유', '숨겨진 글', '신고로 숨김', 'hidden', NULL),
		 (3, 1, '자유', '지운 글', '삭제', 'visible', NOW()),
		 (4, 2, '자유', '차단된 사용자의 글', '보이면 안 됨', 'visible', NULL)`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
}

func newReindexer(t *testing.T, db *sql.DB, e testEngine, prefix string, w Writer) (*Reindexer, *Lifecycle) {
	t.Helper()
	life := NewLifecycle(e.Client.ES, prefix)
	if w == nil {
		w = bulk.NewWriter(e.Client.ES, bulk.Options{}, slog.Default())
	}
	t.Cleanup(func() {
		for _, n := range mappings.Names() {
			all, _, _ := life.Physical(context.Background(), n)
			for _, idx := range all {
				life.Delete(context.Background(), idx)
			}
		}
	})
	return NewReindexer(db, e.Client.ES, life, w, slog.Default()), life
}

func search(t *testing.T, c *engine.Client, index string, query map[string]any) []map[string]any {
	t.Helper()
	body, _ := json.Marshal(query)
	res, err := c.ES.Search(c.ES.Search.WithIndex(index), c.ES.Search.WithBody(strings.NewReader(string(body))))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatalf("search %s %s: %v", index, body, err)
	}
	var out struct {
		Hits struct {
			Hits []struct {
				ID     string         `json:"_id"`
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
		Suggest map[string][]struct {
			Options []struct {
				Text   string         `json:"text"`
				Source map[string]any `json:"_source"`
			} `json:"options"`
		} `json:"suggest"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, h := range out.Hits.Hits {
		docs = append(docs, h.Source)
	}
	for _, s := range out.Suggest {
		for _, e := range s {
			for _, o := range e.Options {
				docs = append(docs, o.Source)
			}
		}
	}
	return docs
}

func titles(docs []map[string]any) []string {
	var out []string
	for _, d := range docs {
		if s, ok := d["title"].(string); ok {
			out = append(out, s)
		} else if s, ok := d["nickname"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestIntegrationReindexBuildsSearchableIndices(t *testing.T) {
	db, _ := testdb.New(t)
	fixture(t, db)
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			r, life := newReindexer(t, db, e, randomPrefix(t), nil)
			want := map[string][]string{
				mappings.Contents: {"1"},
				mappings.Posts:    {"1"},
				mappings.Users:    {"1", "4"},
			}
			for _, name := range mappings.Names() {
				rep, err := r.Run(ctx, name, ReindexOptions{Profile: e.Profile})
				if err != nil {
					t.Fatalf("reindex %s: %v", name, err)
				}
				_, current, _ := life.Physical(ctx, name)
				if current != rep.Physical {
					t.Errorf("%s: alias on %q, want %q", name, current, rep.Physical)
				}
				if rep.Indexed != int64(len(want[name])) {
					t.Errorf("%s: %d documents, want %v", name, rep.Indexed, want[name])
				}
				var ids []string
				for _, d := range search(t, e.Client, life.Alias(name), map[string]any{"size": 100}) {
					ids = append(ids, fmt.Sprint(d["id"]))
				}
				slices.Sort(ids)
				if !slices.Equal(ids, want[name]) {
					t.Errorf("%s: ids %v, want %v (drafts, hidden, deleted and blocked authors excluded)", name, ids, want[name])
				}
			}
			users := search(t, e.Client, life.Alias(mappings.Users), map[string]any{"size": 10})
			for _, u := range users {
				for _, private := range []string{"email", "status", "role", "password_hash"} {
					if _, ok := u[private]; ok {
						t.Errorf("users document carries private field %q: %v", private, u)
					}
				}
			}
			if e.Profile != mappings.ProfileNori {
				return
			}
			// Nori: particles stripped, so 천식 finds 천식이.
			got := titles(search(t, e.Client, life.Alias(mappings.Posts), map[string]any{
				"query": map[string]any{"match": map[string]any{"title": "천식"}}}))
			if !slices.Contains(got, "아이의 천식이 밤에 심해져요") {
				t.Errorf("search 천식 on posts = %v", got)
			}
			for _, prefix := range []string{"ㅊㅅ", "cjstlr"} {
				got := titles(search(t, e.Client, life.Alias(mappings.Contents), map[string]any{
					"suggest": map[string]any{"s": map[string]any{"prefix": prefix, "completion": map[string]any{"field": "suggest"}}}}))
				if !slices.Contains(got, "천식 흡입기 사용법") {
					t.Errorf("suggest %q = %v, want 천식 흡입기 사용법", prefix, got)
				}
			}
		})
	}
}

func TestIntegrationReindexSwapKeepAndRollback(t *testing.T) {
	db, _ := testdb.New(t)
	fixture(t, db)
	e := testEngines(t)[0]
	ctx := context.Background()
	r, life := newReindexer(t, db, e, randomPrefix(t), nil)
	var built []string
	for i := 0; i < 3; i++ {
		rep, err := r.Run(ctx, mappings.Users, ReindexOptions{Profile: e.Profile, Keep: 2})
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, rep.Physical)
		time.Sleep(5 * time.Millisecond) // distinct timestamps in names
	}
	all, current, err := life.Physical(ctx, mappings.Users)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(all, built[1:]) || current != built[2] {
		t.Fatalf("after 3 builds with keep 2: indices %v alias on %q; built %v", all, current, built)
	}
	reps, err := r.Rollback(ctx, []string{mappings.Users}, RollbackOptions{})
	if err != nil || reps[0].To != built[1] {
		t.Fatalf("rollback = %+v, %v; want to %q", reps, err, built[1])
	}
	if _, err := r.Rollback(ctx, []string{mappings.Users}, RollbackOptions{}); !errors.Is(err, ErrNoPrevious) {
		t.Fatalf("second rollback err = %v, want ErrNoPrevious", err)
	}
}

// failingWriter passes the first n writes, then answers as an engine that went away.
type failingWriter struct {
	Writer
	n atomic.Int32
}

func (f *failingWriter) Write(ctx context.Context, ops []bulk.Op) (bulk.Result, error) {
	if f.n.Add(-1) < 0 {
		return bulk.Result{}, fmt.Errorf("bulk: %w: connection refused", engine.ErrUnavailable)
	}
	return f.Writer.Write(ctx, ops)
}

func TestIntegrationReindexFailureLeavesAliasUntouched(t *testing.T) {
	db, _ := testdb.New(t)
	fixture(t, db)
	for i := 5; i < 60; i++ {
		db.Exec("INSERT INTO users (id, nickname, status) VALUES (?, ?, 'active')", i, fmt.Sprintf("사용자%d", i))
	}
	e := testEngines(t)[0]
	ctx := context.Background()
	prefix := randomPrefix(t)
	good, life := newReindexer(t, db, e, prefix, nil)
	first, err := good.Run(ctx, mappings.Users, ReindexOptions{Profile: e.Profile})
	if err != nil {
		t.Fatal(err)
	}
	fw := &failingWriter{Writer: bulk.NewWriter(e.Client.ES, bulk.Options{}, slog.Default())}
	fw.n.Store(2)
	bad := NewReindexer(db, e.Client.ES, life, fw, slog.Default())
	_, err = bad.Run(ctx, mappings.Users, ReindexOptions{Profile: e.Profile, BatchSize: 10})
	if !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	all, current, _ := life.Physical(ctx, mappings.Users)
	if current != first.Physical || !slices.Equal(all, []string{first.Physical}) {
		t.Fatalf("after a failed rebuild: indices %v alias on %q; want only %q", all, current, first.Physical)
	}
}

// Searches hammer the alias while it is rebuilt and swapped: none may fail.
func TestIntegrationReindexUnderSearchLoad(t *testing.T) {
	db, _ := testdb.New(t)
	fixture(t, db)
	e := testEngines(t)[0]
	ctx := context.Background()
	r, life := newReindexer(t, db, e, randomPrefix(t), nil)
	if _, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 천식이 as the title has it: one token on the basic profile, 천식 on nori
			body := `{"query":{"match":{"title":"천식이"}}}`
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := e.Client.ES.Search(e.Client.ES.Search.WithIndex(life.Alias(mappings.Posts)), e.Client.ES.Search.WithBody(strings.NewReader(body)))
				if err == nil && !res.IsError() {
					var out struct {
						Hits struct{ Hits []json.RawMessage } `json:"hits"`
					}
					json.NewDecoder(res.Body).Decode(&out)
					if len(out.Hits.Hits) == 1 {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				} else {
					failed.Add(1)
				}
				if res != nil {
					res.Body.Close()
				}
			}
		}()
	}
	for range 3 {
		if _, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d searches during 3 rebuilds, %d failed or empty", ok.Load(), failed.Load())
	if failed.Load() != 0 || ok.Load() < 20 {
		t.Fatalf("searches: %d ok, %d failed or empty", ok.Load(), failed.Load())
	}
}

// Rows change while the load runs; the finished index must equal MySQL.
func TestIntegrationReindexWhileRowsChange(t *testing.T) {
	db, _ := testdb.New(t)
	fixture(t, db)
	for i := 10; i < 410; i++ {
		if _, err := db.Exec("INSERT INTO posts (id, user_id, category, title, body) VALUES (?, 1, '자유', ?, '흡입기와 벤토린 이야기')", i, fmt.Sprintf("천식 일기 %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			r, life := newReindexer(t, db, e, randomPrefix(t), nil)
			stop, stopped := make(chan struct{}), make(chan struct{})
			var writes atomic.Int64
			go func() { // updates, soft deletes, hard deletes, inserts, a nickname change
				defer close(stopped)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := 10 + (i*37)%400
					var err error
					switch i % 5 {
					case 0:
						_, err = db.Exec("UPDATE posts SET title = ? WHERE id = ?", fmt.Sprintf("수정된 제목 %d", i), id)
					case 1:
						_, err = db.Exec("UPDATE posts SET deleted_at = NOW(6) WHERE id = ?", id)
					case 2:
						_, err = db.Exec("DELETE FROM posts WHERE id = ?", id)
					case 3:
						_, err = db.Exec("INSERT INTO posts (user_id, category, title, body) VALUES (1, '질문', ?, '새 글')", fmt.Sprintf("새 천식 질문 %d", i))
					case 4:
						_, err = db.Exec("UPDATE users SET nickname = ? WHERE id = 1", fmt.Sprintf("고래%d", i))
					}
					if err != nil {
						t.Error(err)
						return
					}
					writes.Add(1)
					time.Sleep(2 * time.Millisecond)
				}
			}()
			once := sync.Once{}
			rep, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile, BatchSize: 25, Progress: func(phase string, done, total int64) {
				if phase == "load" && done >= 300 { // let rows change during most of the load, then settle
					once.Do(func() { close(stop); <-stopped })
				}
			}})
			once.Do(func() { close(stop); <-stopped })
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d writes during the load; report %+v", writes.Load(), rep)
			if writes.Load() < 20 {
				t.Fatalf("only %d writes happened during the load", writes.Load())
			}
			assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Posts)
		})
	}
}

// assertIndexEqualsMySQL compares ids and full documents of an index with
// what the builders make of the current rows.
func assertIndexEqualsMySQL(t *testing.T, db *sql.DB, c *engine.Client, life *Lifecycle, name string) {
	t.Helper()
	ctx := context.Background()
	if err := life.Refresh(ctx, life.Alias(name)); err != nil {
		t.Fatal(err)
	}
	d, err := Compare(ctx, c.ES, NewSource(db), life.Alias(name), name)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Equal() || d.Docs == 0 {
		t.Fatalf("index differs from MySQL: %s", d)
	}
}

// Compare pages through indices larger than one page.
func TestIntegrationCompareManyPages(t *testing.T) {
	db, _ := testdb.New(t)
	fixture(t, db)
	var b strings.Builder
	b.WriteString("INSERT INTO posts (id, user_id, category, title, body) VALUES ")
	for i := 10; i < 4510; i++ {
		if i > 10 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "(%d, 1, '자유', '글 %d', '본문')", i, i)
	}
	if _, err := db.Exec(b.String()); err != nil {
		t.Fatal(err)
	}
	e := testEngines(t)[0]
	r, life := newReindexer(t, db, e, randomPrefix(t), nil)
	if _, err := r.Run(context.Background(), mappings.Posts, ReindexOptions{Profile: e.Profile}); err != nil {
		t.Fatal(err)
	}
	assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Posts)
}

// Rows deleted between the last verification and the swap: the CDC applies
// the delete through the alias to the old index only, and no catch-up by
// updated_at can find a hard-deleted row. The new index must not keep it.
func TestIntegrationReindexHardDeleteBeforeSwap(t *testing.T) {
	for _, e := range testEngines(t) {
		t.Run(e.Kind, func(t *testing.T) {
			ctx := context.Background()
			db, _ := testdb.New(t)
			fixture(t, db)
			r, life := newReindexer(t, db, e, randomPrefix(t), nil)
			if _, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile}); err != nil {
				t.Fatal(err)
			}
			cdc := bulk.NewWriter(e.Client.ES, bulk.Options{RequireAlias: true}, slog.Default())
			r.beforeSwap = func() {
				// What the CDC does for `DELETE FROM posts WHERE id = 1` and an
				// insert of post 9, through the alias (still the old index).
				if _, err := db.Exec(`DELETE FROM posts WHERE id = 1`); err != nil {
					t.Error(err)
				}
				if _, err := db.Exec(`INSERT INTO posts (id, user_id, category, title, body) VALUES (9, 1, '자유', '스왑 직전 글', '본문')`); err != nil {
					t.Error(err)
				}
				p, err := mysql.CurrentPosition(ctx, db)
				if err != nil {
					t.Error(err)
					return
				}
				v, _ := VersionOf(p)
				docs, err := NewSource(db).ByIDs(ctx, mappings.Posts, []uint64{1, 9})
				if err != nil {
					t.Error(err)
					return
				}
				ops := []bulk.Op{docs[0].Op(life.Alias(mappings.Posts), v), docs[1].Op(life.Alias(mappings.Posts), v)}
				if res, err := cdc.Write(ctx, ops); err != nil || len(res.Failed) > 0 {
					t.Errorf("cdc write: %v %v", err, res.Failed)
				}
			}
			if _, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile}); err != nil {
				t.Fatal(err)
			}
			assertIndexEqualsMySQL(t, db, e.Client, life, mappings.Posts)
		})
	}
}

// Two builds of one index never run at once: the second is refused at once,
// with the alias and the running build untouched.
func TestIntegrationReindexRefusesConcurrentBuild(t *testing.T) {
	e := testEngines(t)[0]
	ctx := context.Background()
	db, _ := testdb.New(t)
	fixture(t, db)
	r, life := newReindexer(t, db, e, randomPrefix(t), nil)
	lock, err := TryBuildLock(ctx, db, life.Alias(mappings.Posts))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile}); !errors.Is(err, ErrBuildBusy) {
		t.Fatalf("reindex during another build: %v, want ErrBuildBusy", err)
	}
	lock.Release()
	if _, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile}); err != nil {
		t.Fatalf("reindex after the other build: %v", err)
	}
}
