package cdc

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

type testEngine = testengine.Engine

func testEngines(t *testing.T) []testEngine { return testengine.All(t) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("SOOMCARE_TEST_VERBOSE") == "1" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// pipeline is one worker on its own database and index prefix.
type pipeline struct {
	t      *testing.T
	db     *sql.DB
	dsn    string
	eng    testEngine
	prefix string // search.index_prefix of this pipeline
	life   *indexer.Lifecycle
	worker *Worker
	cancel context.CancelFunc
	done   chan error
}

func newPipeline(t *testing.T, db *sql.DB, dsn string, eng testEngine) *pipeline {
	t.Helper()
	prefix := "c" + randomHex(4)
	life := indexer.NewLifecycle(eng.Client.ES, prefix)
	t.Cleanup(func() {
		for _, n := range mappings.Names() {
			all, _, _ := life.Physical(context.Background(), n)
			for _, idx := range all {
				life.Delete(context.Background(), idx)
			}
		}
	})
	return &pipeline{t: t, db: db, dsn: dsn, eng: eng, prefix: prefix, life: life}
}

func (p *pipeline) start(cfg Config) {
	p.t.Helper()
	cfg.DSN = p.dsn
	if cfg.ServerID == 0 {
		cfg.ServerID = 2000 + mrand.Uint32N(1_000_000)
	}
	if cfg.Tables == nil {
		cfg.Tables = []string{"users", "contents", "posts", "comments", "post_likes"}
	}
	cfg.Profile = p.eng.Profile
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 100 * time.Millisecond
	}
	log := testLogger(p.t)
	w, err := New(cfg, p.db, p.eng.Client, p.life, bulk.NewWriter(p.eng.Client.ES, bulk.Options{RequireAlias: true}, log), log)
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.worker, p.cancel, p.done = w, cancel, make(chan error, 1)
	go func() { p.done <- w.Run(ctx) }()
	p.t.Cleanup(func() { p.stop() })
}

// stop cancels the worker (as SIGTERM does) and returns its result.
func (p *pipeline) stop() error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	p.cancel = nil
	select {
	case err := <-p.done:
		return err
	case <-time.After(60 * time.Second):
		p.t.Fatal("worker did not stop within 60s")
		return nil
	}
}

// exited waits for the worker to stop by itself and returns its error.
func (p *pipeline) exited(timeout time.Duration) error {
	p.t.Helper()
	select {
	case err := <-p.done:
		p.cancel = nil
		return err
	case <-time.After(timeout):
		p.t.Fatalf("worker still running after %s", timeout)
		return nil
	}
}

// caughtUp waits until the checkpoint reaches the server's current position
// (everything committed so far is acknowledged), then refreshes the indices.
func (p *pipeline) caughtUp(timeout time.Duration) {
	p.t.Helper()
	ctx := context.Background()
	target, err := mysql.CurrentPosition(ctx, p.db)
	if err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(timeout)
	for {
		st, err := p.worker.Store().Load(ctx)
		if err == nil && st.Phase == PhaseStreaming && !before(st.Position, target) {
			break
		}
		select {
		case err := <-p.done:
			p.cancel = nil
			p.t.Fatalf("worker stopped while catching up: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("not caught up within %s: checkpoint %+v, target %s", timeout, st, target)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, n := range mappings.Names() {
		if err := p.life.Refresh(ctx, p.life.Alias(n)); err != nil {
			p.t.Fatal(err)
		}
	}
}

func before(a, b mysql.Position) bool {
	va, _ := indexer.VersionOf(a)
	vb, _ := indexer.VersionOf(b)
	return va < vb
}

// assertEqual compares every index with MySQL: ids and content hashes.
func (p *pipeline) assertEqual() {
	p.t.Helper()
	for _, n := range mappings.Names() {
		d, err := indexer.Compare(context.Background(), p.eng.Client.ES, indexer.NewSource(p.db), p.life.Alias(n), n)
		if err != nil {
			p.t.Fatal(err)
		}
		if !d.Equal() {
			p.t.Errorf("index differs from MySQL: %s", d)
		}
	}
}

func (p *pipeline) doc(index string, id int) map[string]any {
	p.t.Helper()
	res, err := p.eng.Client.ES.Get(p.life.Alias(index), fmt.Sprint(id))
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == 404 {
		return nil
	}
	var out struct {
		Source map[string]any `json:"_source"`
	}
	json.NewDecoder(res.Body).Decode(&out)
	return out.Source
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func baseRows(t *testing.T, db *sql.DB) {
	mustExec(t, db, `INSERT INTO users (id, nickname, bio, role) VALUES (1, '숨쉬는고래', '소아천식 엄마', 'user'), (2, '편집자', '', 'editor')`)
	mustExec(t, db, `INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at) VALUES
	  (1, 2, '흡입기 사용법', '흡입 전에 숨을 내쉬세요', '약물', '["흡입기"]', 'published', NOW())`)
	mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (1, 1, '질문', '아이의 천식이 밤에 심해져요', '밤마다 기침')`)
}

func TestIntegrationCDCRoundTrip(t *testing.T) {
	for _, eng := range testEngines(t) {
		t.Run(eng.Kind, func(t *testing.T) {
			p, db := streaming(t, eng, Config{})
			if d := p.doc(mappings.Posts, 1); d == nil || d["author_nickname"] != "숨쉬는고래" {
				t.Fatalf("snapshot post 1 = %v", d)
			}

			mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (2, 1, '자유', '벤토린을 쓰면 떨려요', '손이 떨려요')`)
			mustExec(t, db, `UPDATE posts SET title = '밤기침이 심해요' WHERE id = 1`)
			mustExec(t, db, `UPDATE contents SET status = 'draft' WHERE id = 1`) // unpublished: removed
			mustExec(t, db, `UPDATE users SET nickname = '새벽고래' WHERE id = 1`)   // fan-out to posts
			tx, _ := db.Begin()
			tx.Exec(`INSERT INTO comments (post_id, user_id, body) VALUES (2, 1, '저도요')`)
			tx.Exec(`UPDATE posts SET comment_count = comment_count + 1 WHERE id = 2`)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			p.caughtUp(30 * time.Second)
			if d := p.doc(mappings.Posts, 2); d == nil || d["author_nickname"] != "새벽고래" || d["comment_count"] != float64(1) {
				t.Errorf("post 2 after insert, comment and nickname change = %v", d)
			}
			if d := p.doc(mappings.Posts, 1); d == nil || d["title"] != "밤기침이 심해요" || d["author_nickname"] != "새벽고래" {
				t.Errorf("post 1 after update and nickname change = %v", d)
			}
			if d := p.doc(mappings.Contents, 1); d != nil {
				t.Errorf("unpublished content still indexed: %v", d)
			}

			mustExec(t, db, `UPDATE posts SET deleted_at = NOW(6) WHERE id = 1`) // soft delete
			mustExec(t, db, `DELETE FROM comments WHERE post_id = 2`)
			mustExec(t, db, `DELETE FROM posts WHERE id = 2`) // hard delete
			mustExec(t, db, `UPDATE users SET status = 'blocked' WHERE id = 2`)
			p.caughtUp(30 * time.Second)
			for _, id := range []int{1, 2} {
				if d := p.doc(mappings.Posts, id); d != nil {
					t.Errorf("deleted post %d still indexed: %v", id, d)
				}
			}
			if d := p.doc(mappings.Users, 2); d != nil {
				t.Errorf("blocked user still indexed: %v", d)
			}
			p.assertEqual()
			if got := testutil.ToFloat64(p.worker.Metrics().Events.WithLabelValues("posts", "update")); got < 2 {
				t.Errorf("events{posts,update} = %v", got)
			}
			if err := p.stop(); err != nil {
				t.Errorf("graceful stop: %v", err)
			}
		})
	}
}

// DDL on a watched table keeps the stream going; a dropped one stops it.
func TestIntegrationCDCSchemaChanges(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{})
	mustExec(t, db, `ALTER TABLE posts ADD COLUMN mood VARCHAR(20) NULL`)
	mustExec(t, db, `UPDATE posts SET title = '컬럼 추가 후 수정', mood = '좋음' WHERE id = 1`)
	mustExec(t, db, `ALTER TABLE posts MODIFY COLUMN mood VARCHAR(40) NULL`)
	mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body, mood) VALUES (5, 1, '자유', '새 컬럼과 함께', '본문', '보통')`)
	mustExec(t, db, `ALTER TABLE posts DROP COLUMN mood`)
	mustExec(t, db, `UPDATE posts SET title = '컬럼 삭제 후 수정' WHERE id = 5`)
	p.caughtUp(30 * time.Second)
	if d := p.doc(mappings.Posts, 1); d == nil || d["title"] != "컬럼 추가 후 수정" {
		t.Errorf("post 1 after ADD COLUMN = %v", d)
	}
	if d := p.doc(mappings.Posts, 5); d == nil || d["title"] != "컬럼 삭제 후 수정" {
		t.Errorf("post 5 after DROP COLUMN = %v", d)
	}
	p.assertEqual()

	mustExec(t, db, `DROP TABLE post_likes`)
	if err := p.exited(30 * time.Second); !errors.Is(err, ErrTableDropped) || !strings.Contains(err.Error(), "post_likes") {
		t.Fatalf("worker stopped with %v, want ErrTableDropped naming post_likes", err)
	}
}

// streaming is a pipeline over the base rows, started with cfg, that has
// caught up (snapshot, then streaming).
func streaming(t *testing.T, eng testEngine, cfg Config) (*pipeline, *sql.DB) {
	t.Helper()
	db, dsn := testdb.New(t)
	baseRows(t, db)
	p := newPipeline(t, db, dsn, eng)
	p.start(cfg)
	p.caughtUp(60 * time.Second)
	return p, db
}

// caughtUpAndStopped is a streaming pipeline that was then stopped, with its
// checkpoint saved.
func caughtUpAndStopped(t *testing.T, eng testEngine) (*pipeline, *sql.DB) {
	t.Helper()
	p, db := streaming(t, eng, Config{})
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	return p, db
}

// A purged checkpoint position is an error that names the fix, never a skip.
func TestIntegrationCDCPurgedBinlog(t *testing.T) {
	p, db := caughtUpAndStopped(t, testEngines(t)[0])
	// Point the checkpoint at a file the server no longer has (purging the
	// shared test server's binlogs would disturb other pipelines).
	mustExec(t, db, `UPDATE cdc_state SET binlog_file = 'binlog.000000', binlog_pos = 4`)
	p.start(Config{})
	if err := p.exited(30 * time.Second); !errors.Is(err, ErrBinlogPurged) || !strings.Contains(err.Error(), "soomcare cdc reset") {
		t.Fatalf("err = %v, want ErrBinlogPurged telling the operator to reset", err)
	}
}

// One transaction of 100k rows streams with bounded memory.
func TestIntegrationCDCLargeTransaction(t *testing.T) {
	if testing.Short() {
		t.Skip("large transaction")
	}
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{BatchSize: 1000})

	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	mustExec(t, db, `SET SESSION max_recursive_iterations = 1000000`)
	mustExec(t, db, `INSERT INTO posts (user_id, category, title, body)
	  WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 100000)
	  SELECT 1, '자유', CONCAT('대량 글 ', n), '한 트랜잭션에 십만 행' FROM s`)
	p.caughtUp(5 * time.Minute)
	close(stopSampling)
	wg.Wait()
	n, err := p.life.Count(context.Background(), p.life.Alias(mappings.Posts))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("100k-row transaction indexed in %s; peak heap in use %d MiB", time.Since(start).Round(time.Millisecond), peak.Load()>>20)
	if n != 100001 {
		t.Fatalf("posts index has %d documents, want 100001", n)
	}
	if peak.Load() > 256<<20 {
		t.Errorf("peak heap %d MiB: memory is not bounded by the batch size", peak.Load()>>20)
	}
}

// An index deleted under a running worker is rebuilt from MySQL (never
// auto-created with dynamic mappings), and streaming goes on.
func TestIntegrationCDCRebuildsMissingIndex(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{})
	all, _, err := p.life.Physical(context.Background(), mappings.Posts)
	if err != nil || len(all) == 0 {
		t.Fatalf("physical posts indices %v, %v", all, err)
	}
	for _, idx := range all {
		if err := p.life.Delete(context.Background(), idx); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (9, 1, '자유', '색인이 지워진 뒤의 글', '본문')`)
	deadline := time.Now().Add(60 * time.Second)
	for !p.life.Exists(context.Background(), p.life.Alias(mappings.Posts)) {
		if time.Now().After(deadline) {
			t.Fatal("the deleted posts index was not rebuilt")
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.caughtUp(60 * time.Second)
	if d := p.doc(mappings.Posts, 9); d == nil {
		t.Error("post 9 missing after the rebuild")
	}
	// No concrete index may have been auto-created under the alias name.
	res, err := eng.Client.ES.Indices.Get([]string{p.life.Alias(mappings.Posts)})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got map[string]json.RawMessage
	json.NewDecoder(res.Body).Decode(&got)
	if _, concrete := got[p.life.Alias(mappings.Posts)]; concrete {
		t.Error("a concrete index was auto-created with the alias's name")
	}
	p.assertEqual()
}

// An upgrade that changes a document's shape (posts gained excerpt in schema
// version 2) finds the index of the older version behind the alias: the
// worker rebuilds it from MySQL before streaming, instead of sending documents
// its strict mapping would reject.
func TestIntegrationCDCRebuildsOlderSchema(t *testing.T) {
	eng := testEngines(t)[0]
	ctx := context.Background()
	p, db := caughtUpAndStopped(t, eng)

	// The posts index as version 1 built it: no excerpt field, version 1 in _meta.
	raw, err := mappings.Index(mappings.Posts, eng.Profile)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatal(err)
	}
	body["mappings"]["_meta"].(map[string]any)["schema_version"] = 1
	delete(body["mappings"]["properties"].(map[string]any), "excerpt")
	old := p.prefix + "-posts-00000000000001"
	buf, _ := json.Marshal(body)
	res, err := eng.Client.ES.Indices.Create(old, eng.Client.ES.Indices.Create.WithBody(bytes.NewReader(buf)))
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.CheckStatus(res); err != nil {
		t.Fatalf("create %s: %v", old, err)
	}
	res.Body.Close()
	if err := p.life.Swap(ctx, mappings.Posts, old); err != nil {
		t.Fatal(err)
	}
	if v, err := p.life.SchemaVersion(ctx, mappings.Posts); v != 1 || err != nil {
		t.Fatalf("schema version behind the alias = %d, %v; want 1", v, err)
	}

	mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (9, 1, '자유', '업그레이드 뒤의 글', '새   본문')`)
	// The warm-up's searches carry a stats group, so the engine counts them apart.
	warm := func(name string) indexer.WarmOptions {
		return indexer.WarmOptions{Bodies: [][]byte{[]byte(`{"stats":["warm-` + name + `"],"query":{"match":{"text":"천식"}}}`)}, For: time.Minute}
	}
	p.start(Config{Warm: warm})
	p.caughtUp(60 * time.Second)
	want, _ := mappings.SchemaVersion(mappings.Posts)
	if v, err := p.life.SchemaVersion(ctx, mappings.Posts); v != want || err != nil {
		t.Fatalf("schema version behind the alias after start = %d, %v; want %d", v, err, want)
	}
	if n := testengine.Searches(t, eng.Client, p.life.Alias(mappings.Posts), "warm-posts"); n < 1 {
		t.Errorf("the rebuilt posts index ran %d warm-up searches, want at least 1", n)
	}
	for id, excerpt := range map[int]string{1: "밤마다 기침", 9: "새 본문"} {
		d := p.doc(mappings.Posts, id)
		if d == nil || d["excerpt"] != excerpt {
			t.Errorf("post %d after the rebuild = %v, want excerpt %q", id, d, excerpt)
		}
	}
	var dead int
	if err := db.QueryRow(`SELECT COUNT(*) FROM cdc_dead_letters`).Scan(&dead); err != nil || dead != 0 {
		t.Errorf("dead letters = %d, %v; want none", dead, err)
	}
	p.assertEqual()
}

// A document the engine rejects goes to cdc_dead_letters with its key and
// reason; the stream and the checkpoint go on past it, and nothing else is lost.
func TestIntegrationCDCDeadLetter(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{})
	huge := strings.Repeat("천식", 6000) // one 36 KB keyword term: Lucene refuses terms over 32766 bytes
	mustExec(t, db, `INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at)
	  VALUES (7, 2, '거대한 태그', '본문', '약물', JSON_ARRAY(?), 'published', NOW())`, huge)
	mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (8, 1, '자유', '뒤따르는 글', '본문')`)
	p.caughtUp(60 * time.Second)
	var index, docID, reason string
	if err := db.QueryRow(`SELECT index_name, doc_id, reason FROM cdc_dead_letters`).Scan(&index, &docID, &reason); err != nil {
		t.Fatalf("no dead letter recorded: %v", err)
	}
	if index != p.life.Alias(mappings.Contents) || docID != "7" || !strings.Contains(reason, "immense term") {
		t.Errorf("dead letter = %s/%s %q", index, docID, reason)
	}
	// The reason explains, but never quotes the tag: the engine's term prefix is withheld.
	if strings.Contains(reason, "천식") || strings.Contains(reason, "[-") || !strings.Contains(reason, "[withheld]") {
		t.Errorf("dead letter reason quotes the document: %q", reason)
	}
	if d := p.doc(mappings.Posts, 8); d == nil {
		t.Error("the post after the rejected document is missing")
	}
	n, err := p.worker.Store().DeadLetterCount(context.Background())
	if err != nil || n != 1 {
		t.Errorf("dead letters = %d, %v", n, err)
	}
	if got := testutil.ToFloat64(p.worker.Metrics().DeadLetters.WithLabelValues(p.life.Alias(mappings.Contents), DeadLetterEngine)); got != 1 {
		t.Errorf("dead letter metric = %v", got)
	}
}
