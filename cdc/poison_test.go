package cdc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/canal"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/go-mysql-org/go-mysql/schema"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// Invariant 11: a row that cannot become a document is a dead letter, the
// stream moves on past it, its document is deleted, and a later valid change
// of the row resolves the dead letter.
func TestApplierPoisonRowNeverBlocks(t *testing.T) {
	h := newHarness(t)
	h.rows.setBad(2, "column tags: JSON number where string was expected")
	deletes := map[string]bulk.Action{}
	h.eng.script = func(call int, ops []bulk.Op) (bulk.Result, error) {
		h.w.mu.Lock()
		defer h.w.mu.Unlock()
		for _, op := range ops {
			deletes[op.ID] = op.Action
		}
		return bulk.Result{}, nil
	}
	h.start()
	var last mysql.Position
	for id := uint64(1); id <= 5; id++ {
		last = h.post(id)
	}
	eventually(t, "the stream to pass the poisoned row", func() bool {
		p, ok := h.store.lastSave()
		return ok && p == last
	})
	h.w.mu.Lock()
	if len(h.w.letters) != 1 || h.w.letters[0].DocID != "2" || h.w.letters[0].Source != DeadLetterRow ||
		h.w.letters[0].Index != "alias-posts" || h.w.letters[0].Version == 0 {
		t.Errorf("dead letters %+v, want one row dead letter for alias-posts/2 with its version", h.w.letters)
	}
	if deletes["2"] != bulk.ActionDelete || deletes["3"] != bulk.ActionIndex {
		t.Errorf("writes %v: want the poisoned row's document deleted and the others indexed", deletes)
	}
	if len(h.w.resolved) != 0 {
		t.Errorf("resolved %v while the row is still poisoned", h.w.resolved)
	}
	h.w.mu.Unlock()
	if got := testutil.ToFloat64(h.app.metrics.DeadLetters.WithLabelValues("alias-posts", DeadLetterRow)); got != 1 {
		t.Errorf("soomcare_cdc_dead_letters_total{source=row} = %v, want 1", got)
	}

	h.post(2) // the same row, still bad: a second dead letter, nothing resolved
	h.rows.setBad(2, "")
	last = h.post(2) // fixed: acknowledged, so its dead letters are resolved
	eventually(t, "the fixed row's dead letter resolved", func() bool {
		h.w.mu.Lock()
		defer h.w.mu.Unlock()
		return len(h.w.resolved) == 1 && h.w.resolved[0] == DocKey{Index: "alias-posts", DocID: "2"}
	})
	eventually(t, "the last position saved", func() bool {
		p, ok := h.store.lastSave()
		return ok && p == last
	})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
}

// A dead letter the worker found open at start is resolved by the first
// acknowledged write of its document; other acknowledged writes touch nothing.
func TestApplierResolvesDeadLettersOpenAtStart(t *testing.T) {
	h := newHarness(t)
	h.open = map[DocKey]bool{{Index: "alias-posts", DocID: "7"}: true}
	h.start()
	h.post(1)
	last := h.post(7)
	eventually(t, "the last position saved", func() bool {
		p, ok := h.store.lastSave()
		return ok && p == last
	})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if len(h.w.resolved) != 1 || h.w.resolved[0].DocID != "7" {
		t.Fatalf("resolved %v, want alias-posts/7 only", h.w.resolved)
	}
}

// A dead letter another process records while the worker runs (a reindex
// that met a poisoned row) is resolved by the worker once the row's next
// state is acknowledged: the worker re-reads the open set.
func TestApplierResolvesDeadLettersRecordedElsewhere(t *testing.T) {
	h := newHarness(t)
	h.openEvery = 10 * time.Millisecond
	h.start()
	h.post(1)
	h.w.mu.Lock()
	h.w.external = append(h.w.external, DocKey{Index: "alias-posts", DocID: "9"})
	h.w.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	h.post(2) // a settle after the interval re-reads the open set
	last := h.post(9)
	eventually(t, "the last position saved", func() bool {
		p, ok := h.store.lastSave()
		return ok && p == last
	})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if len(h.w.resolved) != 1 || h.w.resolved[0].DocID != "9" {
		t.Fatalf("resolved %v, want alias-posts/9 (recorded by another process)", h.w.resolved)
	}
}

// The handler does not skip a row whose id cannot be read: it becomes a
// dead letter (the value's type only), recorded before the checkpoint passes it.
func TestHandlerUnreadableIDIsDeadLetter(t *testing.T) {
	out := make(chan item, 1)
	h := &handler{ctx: context.Background(), out: out, file: "binlog.000001", tables: watchedTables(),
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: NewMetrics(nil)}
	e := &canal.RowsEvent{
		Table:  &schema.Table{Name: "comments", Columns: []schema.TableColumn{{Name: "id"}, {Name: "post_id"}, {Name: "body"}}},
		Action: canal.InsertAction,
		Rows:   [][]any{{uint64(1), uint64(10), "좋은 글"}, {uint64(2), nil, "비밀 내용"}},
		Header: &replication.EventHeader{Timestamp: 1_700_000_000, LogPos: 500},
	}
	if err := h.OnRow(e); err != nil {
		t.Fatal(err)
	}
	it := <-out
	if len(it.keys) != 1 || it.keys[0].id != 10 {
		t.Errorf("keys %+v, want post 10", it.keys)
	}
	if len(it.dead) != 1 || it.dead[0].Index != mappings.Posts || it.dead[0].Source != DeadLetterRow || it.dead[0].Version == 0 {
		t.Fatalf("dead %+v, want one row dead letter on posts with the event's version", it.dead)
	}
	if strings.Contains(it.dead[0].Reason, "비밀") {
		t.Errorf("reason %q carries row content", it.dead[0].Reason)
	}
	if it.at != 1_700_000_000*int64(time.Second) {
		t.Errorf("commit time %d, want the header's timestamp", it.at)
	}

	// And the applier records it although the event named no document.
	hs := newHarness(t)
	hs.start()
	v := it.version
	hs.in <- item{kind: itemRows, table: "comments", dead: it.dead, rows: 1, version: v}
	p := mysql.Position{File: "binlog.000001", Pos: 600}
	hs.in <- item{kind: itemPos, pos: p}
	eventually(t, "the position past the unreadable row saved", func() bool {
		got, ok := hs.store.lastSave()
		return ok && got == p
	})
	if err := hs.stop(); err != nil {
		t.Fatal(err)
	}
	if len(hs.w.letters) != 1 || hs.w.letters[0].Index != "alias-posts" {
		t.Fatalf("dead letters %+v, want the unreadable row's, on the alias", hs.w.letters)
	}
}

// A worker that lost the lock stops at once: no final flush, no save.
func TestApplierNoFinalFlushOnLockLoss(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	h.eng.script = func(call int, ops []bulk.Op) (bulk.Result, error) {
		if call == 1 {
			<-release
		}
		return bulk.Result{}, nil
	}
	h.start()
	h.post(1)
	h.post(2)
	eventually(t, "the first write", func() bool { return h.eng.Calls() == 1 })
	h.post(3) // pending
	time.Sleep(20 * time.Millisecond)
	h.cancel(ErrLockLost)
	go func() {
		time.Sleep(100 * time.Millisecond)
		close(release) // the engine answers after the loss: too late to save
	}()
	start := time.Now()
	err := h.wait()
	if !errors.Is(err, ErrLockLost) {
		t.Fatalf("run: %v, want ErrLockLost", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("stopped after %s, want at once", d)
	}
	time.Sleep(200 * time.Millisecond)
	if p, ok := h.store.lastSave(); ok {
		t.Errorf("saved %s after losing the lock", p)
	}
	if n := h.eng.Calls(); n != 1 {
		t.Errorf("%d writes, want no write after the loss", n)
	}
}

// A save MySQL refused (fenced: another worker holds the lock) is not
// retried: the applier stops and saves nothing.
func TestApplierStopsOnFencedSave(t *testing.T) {
	h := newHarness(t)
	h.store.failSave = func() error { return ErrFenced }
	h.start()
	h.post(1)
	h.post(2)
	select {
	case err := <-h.done:
		if !errors.Is(err, ErrFenced) {
			t.Fatalf("run: %v, want ErrFenced", err)
		}
	case <-time.After(5 * time.Second):
		h.cancel(nil)
		t.Fatal("the applier kept retrying a fenced save")
	}
}
