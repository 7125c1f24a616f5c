package cdc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// searchable reports whether a _search (not a realtime get) finds the document.
func (p *pipeline) searchable(index string, id int) bool {
	p.t.Helper()
	body := fmt.Sprintf(`{"query":{"ids":{"values":["%d"]}}}`, id)
	es := p.eng.Client.ES
	res, err := es.Search(es.Search.WithIndex(p.life.Alias(index)), es.Search.WithBody(bytes.NewReader([]byte(body))))
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Hits struct {
			Hits []json.RawMessage `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		p.t.Fatal(err)
	}
	return len(out.Hits.Hits) == 1
}

// The live case (invariant 11): a content row whose tags are valid
// JSON but not an array of strings does not stop the stream: the post
// inserted after it is searchable within 2 s, the bad row is exactly one open
// dead letter without its content, and fixing the row resolves it.
func TestIntegrationCDCPoisonRowNeverBlocks(t *testing.T) {
	for _, eng := range testEngines(t) {
		t.Run(eng.Kind, func(t *testing.T) {
			p, db := streaming(t, eng, Config{})
			ctx := context.Background()
			mustExec(t, db, `INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at)
			  VALUES (50, 2, '독성 행 제목', '독성 행 본문', '약물', '[1]', 'published', NOW())`)
			mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (60, 1, '자유', '독성 행 뒤의 글', '본문')`)
			inserted := time.Now()
			for !p.searchable(mappings.Posts, 60) {
				if time.Since(inserted) > 2*time.Second {
					t.Fatalf("the post inserted after the poisoned row is not searchable within 2 s")
				}
				time.Sleep(50 * time.Millisecond)
			}
			p.caughtUp(30 * time.Second)
			letters, err := p.worker.Store().ListDeadLetters(ctx, DeadLetterFilter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(letters) != 1 {
				t.Fatalf("open dead letters %+v, want exactly one", letters)
			}
			l := letters[0]
			if l.Index != p.life.Alias(mappings.Contents) || l.DocID != "50" || l.Source != DeadLetterRow || l.Version == 0 {
				t.Errorf("dead letter %+v, want contents/50 from a row, with its version", l)
			}
			if !strings.Contains(l.Reason, "tags") || strings.Contains(l.Reason, "독성") || strings.Contains(l.Reason, "[1]") {
				t.Errorf("reason %q: want the column named and no row content", l.Reason)
			}
			if d := p.doc(mappings.Contents, 50); d != nil {
				t.Errorf("the poisoned row's document is indexed: %v", d)
			}
			if got := testutil.ToFloat64(p.worker.Metrics().DeadLetters.WithLabelValues(p.life.Alias(mappings.Contents), DeadLetterRow)); got != 1 {
				t.Errorf("soomcare_cdc_dead_letters_total{source=row} = %v, want 1", got)
			}

			mustExec(t, db, `UPDATE contents SET tags = '["흡입기"]' WHERE id = 50`)
			p.caughtUp(30 * time.Second)
			if d := p.doc(mappings.Contents, 50); d == nil {
				t.Error("the fixed row is not indexed")
			}
			if n, err := p.worker.Store().DeadLetterCount(ctx); err != nil || n != 0 {
				t.Errorf("open dead letters after the fix: %d, %v", n, err)
			}
			all, err := p.worker.Store().ListDeadLetters(ctx, DeadLetterFilter{All: true})
			if err != nil || len(all) != 1 || all[0].ResolvedAt == nil {
				t.Errorf("dead letters after the fix %+v (%v), want the one, resolved", all, err)
			}
			p.assertEqual()
		})
	}
}

// Fenced checkpoints: once the lock is taken away (its connection killed,
// another connection holding it), the former holder's save and dead-letter
// writes are refused by MySQL and change nothing.
func TestIntegrationCDCFencedStore(t *testing.T) {
	db, _ := testdb.New(t)
	ctx := context.Background()
	name := mysql.LockName("soomcare-test-fence:", randomHex(6))
	lock, err := mysql.TryLock(ctx, db, name)
	if err != nil || lock == nil {
		t.Fatalf("lock: %v", err)
	}
	token, err := LockToken(ctx, db, name, lock.Held)
	if err != nil {
		t.Fatal(err)
	}
	a := NewStore(db, "default").Fenced(name, token)
	st := State{Phase: PhaseStreaming, Position: mysql.Position{File: "binlog.000001", Pos: 100}, EventsApplied: 1}
	if err := a.Save(ctx, st); err != nil {
		t.Fatalf("save while holding the lock: %v", err)
	}
	if err := a.Save(ctx, st); err != nil { // the same state again is not mistaken for a refusal
		t.Fatalf("repeated save: %v", err)
	}
	mustExec(t, db, fmt.Sprintf("KILL %d", token))
	var b *mysql.NamedLock
	deadline := time.Now().Add(10 * time.Second)
	for b == nil {
		if b, err = mysql.TryLock(ctx, db, name); err != nil || (b == nil && time.Now().After(deadline)) {
			t.Fatalf("second holder: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer b.Release()
	st.Position.Pos, st.EventsApplied = 900, 99
	if err := a.Save(ctx, st); !errors.Is(err, ErrFenced) {
		t.Fatalf("save after losing the lock: %v, want ErrFenced", err)
	}
	if err := a.RecordDeadLetters(ctx, []DeadLetter{{Index: "x", DocID: "1", Source: DeadLetterRow, Reason: "r"}}); !errors.Is(err, ErrFenced) {
		t.Fatalf("dead letters after losing the lock: %v, want ErrFenced", err)
	}
	got, err := NewStore(db, "default").Load(ctx)
	if err != nil || got.Position.Pos != 100 || got.EventsApplied != 1 {
		t.Errorf("state after the refused save: %+v, %v; want position 100, 1 event", got, err)
	}
	if n, _ := NewStore(db, "default").DeadLetterCount(ctx); n != 0 {
		t.Errorf("%d dead letters written by the fenced-out store", n)
	}
	bToken, err := LockToken(ctx, db, name, b.Held)
	if err != nil {
		t.Fatal(err)
	}
	if err := NewStore(db, "default").Fenced(name, bToken).Save(ctx, st); err != nil {
		t.Errorf("the new holder's save: %v", err)
	}
}

// A running worker whose lock is taken away stops applying at once: it
// saves nothing more and soomcare_cdc_active drops to 0 within the second
// the loss is seen (the watchdog asks every second).
func TestIntegrationCDCLockLossSavesNothing(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{})
	ctx := context.Background()
	lockName, err := p.worker.lockName()
	if err != nil {
		t.Fatal(err)
	}
	var holder int64
	if err := db.QueryRow("SELECT IS_USED_LOCK(?)", lockName).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, fmt.Sprintf("KILL %d", holder))
	var b *mysql.NamedLock
	for deadline := time.Now().Add(10 * time.Second); b == nil; {
		if b, err = mysql.TryLock(ctx, db, lockName); err != nil || (b == nil && time.Now().After(deadline)) {
			t.Fatalf("taking the lock away: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer b.Release()
	// Read the checkpoint only now: a save may land between the test's
	// reads and the KILL, and that one is the holder's right. From here on
	// the fence refuses every write of the former holder.
	before, err := p.worker.Store().Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	taken := time.Now()
	for testutil.ToFloat64(p.worker.Metrics().Active) != 0 {
		if time.Since(taken) > 2*time.Second {
			t.Fatal("soomcare_cdc_active still 1 two seconds after the lock was taken")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (70, 1, '자유', '락을 잃은 뒤', '본문')`)
	time.Sleep(2 * time.Second) // the former holder would have flushed and saved by now
	after, err := p.worker.Store().Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.Position != before.Position || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("checkpoint changed after the lock was lost: %s (%s) → %s (%s)", before.Position, before.UpdatedAt, after.Position, after.UpdatedAt)
	}
	standbyLagGrows(t, p.worker, before.UpdatedAt)
}

// standbyLagGrows: the former holder now waits as a standby while nobody
// saves (the test holds the lock), so its lag gauge is the checkpoint's age —
// growing, never reset to 0.
func standbyLagGrows(t *testing.T, w *Worker, saved time.Time) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		lag := testutil.ToFloat64(w.Metrics().LagSeconds)
		age := time.Since(saved).Seconds()
		if lag > age+0.5 {
			t.Fatalf("standby lag %.2fs, but the checkpoint is %.2fs old", lag, age)
		}
		if lag >= 4 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby lag %.2fs with a checkpoint %.2fs old and no worker saving: want it to grow past 4s", lag, age)
		}
	}
}

// `cdc dead-letters retry`: a row still bad stays open; once fixed, the
// retry writes it with the dead letter's version (never a newer one) and
// resolves it.
func TestIntegrationCDCRetryDeadLetters(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{})
	ctx := context.Background()
	mustExec(t, db, `INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at)
	  VALUES (51, 2, '재시도', '본문', '약물', '{"a": 1}', 'published', NOW())`)
	p.caughtUp(30 * time.Second)
	if err := p.stop(); err != nil { // no worker: only the retry can heal it
		t.Fatal(err)
	}
	store := NewStore(db, "default")
	indexOf := map[string]string{}
	for _, n := range mappings.Names() {
		indexOf[p.life.Alias(n)] = n
	}
	writer := bulk.NewWriter(p.eng.Client.ES, bulk.Options{RequireAlias: true}, testLogger(t))
	retry := func() RetryReport {
		letters, err := store.ListDeadLetters(ctx, DeadLetterFilter{Index: p.life.Alias(mappings.Contents), DocID: "51"})
		if err != nil || len(letters) != 1 {
			t.Fatalf("open dead letters %+v, %v; want one", letters, err)
		}
		rep, err := RetryDeadLetters(ctx, store, indexer.NewSource(db), writer, indexOf, letters)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := retry(); len(rep.Resolved) != 0 || len(rep.Failed) != 1 {
		t.Fatalf("retry of a row still bad: %+v", rep)
	}
	letters, _ := store.ListDeadLetters(ctx, DeadLetterFilter{})
	mustExec(t, db, `UPDATE contents SET tags = '["재시도"]' WHERE id = 51`)
	if rep := retry(); len(rep.Resolved) != 1 || len(rep.Failed) != 0 {
		t.Fatalf("retry of the fixed row: %+v", rep)
	}
	if n, _ := store.DeadLetterCount(ctx); n != 0 {
		t.Errorf("%d open dead letters after the retry", n)
	}
	res, err := p.eng.Client.ES.Get(p.life.Alias(mappings.Contents), "51")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got struct {
		Version int64 `json:"_version"`
	}
	json.NewDecoder(res.Body).Decode(&got)
	if got.Version != letters[0].Version {
		t.Errorf("retried document version %d, want the dead letter's %d", got.Version, letters[0].Version)
	}
}

// A poisoned row never stops a build (invariant 11 for builds): the CDC's
// first snapshot passes it, leaving it one dead letter; a reindex passes it
// too without a second letter for the same document; verify calls the index
// equal and names the row; fixing the row resolves its dead letter.
func TestIntegrationPoisonRowNeverStopsABuild(t *testing.T) {
	eng := testEngines(t)[0]
	db, dsn := testdb.New(t)
	baseRows(t, db)
	mustExec(t, db, `INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at)
	  VALUES (53, 2, '스냅숏 독성 행', '본문', '약물', '{"a": 1}', 'published', NOW()),
	         (54, 2, '그 뒤의 좋은 행', '본문', '약물', '["좋은"]', 'published', NOW())`)
	p := newPipeline(t, db, dsn, eng)
	p.start(Config{})
	p.caughtUp(60 * time.Second) // before: the snapshot failed on row 53 and retried forever
	ctx := context.Background()
	store := NewStore(db, "default")
	alias := p.life.Alias(mappings.Contents)
	letters, err := store.ListDeadLetters(ctx, DeadLetterFilter{})
	if err != nil || len(letters) != 1 || letters[0].Index != alias || letters[0].DocID != "53" || letters[0].Source != DeadLetterRow || letters[0].Version == 0 {
		t.Fatalf("dead letters after the snapshot: %+v, %v; want one row dead letter for %s/53 with its version", letters, err, alias)
	}
	if strings.Contains(letters[0].Reason, "\"a\"") {
		t.Errorf("the dead letter quotes the row: %q", letters[0].Reason)
	}
	if got := testutil.ToFloat64(p.worker.Metrics().DeadLetters.WithLabelValues(alias, DeadLetterRow)); got != 1 {
		t.Errorf("soomcare_cdc_dead_letters_total{source=row} = %v after the snapshot, want 1", got)
	}
	if !p.searchable(mappings.Contents, 54) || p.searchable(mappings.Contents, 53) {
		t.Errorf("after the snapshot: row 54 searchable %v (want true), poisoned row 53 searchable %v (want false)",
			p.searchable(mappings.Contents, 54), p.searchable(mappings.Contents, 53))
	}

	r := indexer.NewReindexer(db, eng.Client.ES, p.life, bulk.NewWriter(eng.Client.ES, bulk.Options{}, testLogger(t)), testLogger(t)).
		WithRowErrors(store)
	rep, err := r.Run(ctx, mappings.Contents, indexer.ReindexOptions{Profile: eng.Profile})
	if err != nil || rep.Unindexable != 1 {
		t.Fatalf("reindex with a poisoned row: %+v, %v; want success with 1 row left out", rep, err)
	}
	if n, _ := store.DeadLetterCount(ctx); n != 1 {
		t.Errorf("%d open dead letters after the reindex, want still 1 (no second letter for the same row)", n)
	}
	d, err := indexer.Compare(ctx, eng.Client.ES, indexer.NewSource(db), alias, mappings.Contents)
	if err != nil || !d.Equal() || len(d.Unindexable) != 1 || d.Unindexable[0] != 53 {
		t.Errorf("verify after the reindex: %v, %v; want equal, naming row 53 as unindexable", d, err)
	}

	mustExec(t, db, `UPDATE contents SET tags = '["고침"]' WHERE id = 53`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n, _ := store.DeadLetterCount(ctx)
		if n == 0 && p.searchable(mappings.Contents, 53) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the fixed row: %d open dead letters, searchable %v after 30 s", n, p.searchable(mappings.Contents, 53))
		}
	}
}

// Open dead letters show on every worker wherever they were recorded: a
// `soomcare reindex` (another process, another Store) records a poisoned row
// without moving this worker's counter, and soomcare_cdc_dead_letters_open
// still counts it from MySQL — and reads 0 once it is resolved.
func TestIntegrationCDCOpenDeadLettersGauge(t *testing.T) {
	eng := testEngines(t)[0]
	p, db := streaming(t, eng, Config{DeadLetterPoll: 100 * time.Millisecond})
	ctx := context.Background()
	alias := p.life.Alias(mappings.Contents)
	gauge := func() float64 { return testutil.ToFloat64(p.worker.Metrics().OpenLetters.WithLabelValues(alias)) }
	waitGauge := func(want float64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); gauge() != want; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("soomcare_cdc_dead_letters_open{index=%s} = %v, want %v", alias, gauge(), want)
			}
		}
	}
	waitGauge(0)                   // every index's series exists from the start
	cli := NewStore(db, "default") // what `soomcare reindex` records through
	bad := []indexer.RowError{{ID: 901, Reason: "tags: not a JSON array of strings"}, {ID: 902, Reason: "tags: not a JSON array of strings"}}
	if err := cli.RecordRowErrors(ctx, alias, 1, bad); err != nil {
		t.Fatal(err)
	}
	waitGauge(2)
	if got := testutil.ToFloat64(p.worker.Metrics().DeadLetters.WithLabelValues(alias, DeadLetterRow)); got != 0 {
		t.Errorf("this worker's counter moved (%v) for letters another process recorded", got)
	}
	if err := cli.ResolveDeadLetters(ctx, []DocKey{{alias, "901"}, {alias, "902"}}); err != nil {
		t.Fatal(err)
	}
	waitGauge(0)
}
