package cdc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// Deterministic tests of invariant 1 with doubles for the engine, MySQL's
// rows and the checkpoint store: whatever the engine does, a saved
// checkpoint never passes a document that was neither acknowledged nor
// recorded as a dead letter.

// world is the doubles' shared truth: which (index, id) the engine holds at
// which version, which are dead letters, and every save.
type world struct {
	mu       sync.Mutex
	acked    map[string]int64 // "index/id" → newest acknowledged version
	dead     map[string]int64
	letters  []DeadLetter
	resolved []DocKey
	external []DocKey // open dead letters another process recorded (a reindex)
	saves    []mysql.Position
	events   []event // what the test fed, in binlog order
	t        *testing.T
}

type event struct {
	key     string
	version int64
	after   mysql.Position // the position that covers this event
}

func newWorld(t *testing.T) *world {
	return &world{acked: map[string]int64{}, dead: map[string]int64{}, t: t}
}

// check asserts invariant 1 for a save at pos.
func (w *world) check(pos mysql.Position) {
	for _, e := range w.events {
		if before(pos, e.after) {
			continue
		}
		if w.acked[e.key] < e.version && w.dead[e.key] < e.version {
			w.t.Errorf("checkpoint %s saved before %s v%d was acknowledged or dead-lettered", pos, e.key, e.version)
		}
	}
}

// engineDouble is the Writer: script decides each call's outcome.
type engineDouble struct {
	w      *world
	mu     sync.Mutex
	calls  int
	script func(call int, ops []bulk.Op) (bulk.Result, error)
}

func (e *engineDouble) Write(ctx context.Context, ops []bulk.Op) (bulk.Result, error) {
	e.mu.Lock()
	e.calls++
	call := e.calls
	e.mu.Unlock()
	res, err := bulk.Result{}, error(nil)
	if e.script != nil {
		res, err = e.script(call, ops)
	}
	if err != nil {
		return bulk.Result{}, err
	}
	failed := map[int]bool{}
	for _, f := range res.Failed {
		failed[f.Pos] = true
	}
	e.w.mu.Lock()
	defer e.w.mu.Unlock()
	for i, op := range ops {
		if !failed[i] {
			k := op.Index + "/" + op.ID
			e.w.acked[k] = max(e.w.acked[k], op.Version)
			res.Indexed++
		}
	}
	return res, nil
}

func (e *engineDouble) Calls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls
}

// storeDouble is the Checkpoints: saves check the invariant.
type storeDouble struct {
	w        *world
	failSave func() error
	failDead func() error
}

func (s *storeDouble) Save(ctx context.Context, st State) error {
	if s.failSave != nil {
		if err := s.failSave(); err != nil {
			return err
		}
	}
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.check(st.Position)
	s.w.saves = append(s.w.saves, st.Position)
	return nil
}

func (s *storeDouble) RecordDeadLetters(ctx context.Context, dl []DeadLetter) error {
	if s.failDead != nil {
		if err := s.failDead(); err != nil {
			return err
		}
	}
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	for _, d := range dl {
		k := d.Index + "/" + d.DocID
		s.w.dead[k] = max(s.w.dead[k], d.Version)
	}
	s.w.letters = append(s.w.letters, dl...)
	return nil
}

func (s *storeDouble) ResolveDeadLetters(ctx context.Context, docs []DocKey) error {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	s.w.resolved = append(s.w.resolved, docs...)
	return nil
}

// OpenDeadLetterDocs: the documents with a dead letter recorded and not
// resolved since (another process's included: external).
func (s *storeDouble) OpenDeadLetterDocs(ctx context.Context) ([]DocKey, error) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	open := map[DocKey]bool{}
	for _, d := range s.w.letters {
		open[DocKey{Index: d.Index, DocID: d.DocID}] = true
	}
	for _, k := range s.w.external {
		open[k] = true
	}
	for _, k := range s.w.resolved {
		delete(open, k)
	}
	var out []DocKey
	for k := range open {
		out = append(out, k)
	}
	return out, nil
}

func (s *storeDouble) lastSave() (mysql.Position, bool) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if len(s.w.saves) == 0 {
		return mysql.Position{}, false
	}
	return s.w.saves[len(s.w.saves)-1], true
}

// rowsDouble is the Reader and Fanout: every row exists; the ids in bad
// cannot become documents.
type rowsDouble struct {
	fail func() error
	mu   sync.Mutex
	bad  map[uint64]string
}

func (r *rowsDouble) setBad(id uint64, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bad == nil {
		r.bad = map[uint64]string{}
	}
	if reason == "" {
		delete(r.bad, id)
		return
	}
	r.bad[id] = reason
}

func (r *rowsDouble) ByIDsRows(ctx context.Context, name string, ids []uint64) ([]indexer.Doc, []indexer.RowError, error) {
	if r.fail != nil {
		if err := r.fail(); err != nil {
			return nil, nil, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var (
		out []indexer.Doc
		bad []indexer.RowError
	)
	for _, id := range ids {
		if reason, ok := r.bad[id]; ok {
			bad = append(bad, indexer.RowError{ID: id, Reason: reason})
			continue
		}
		out = append(out, indexer.Doc{ID: id, Doc: []byte(`{"id":` + strconv.FormatUint(id, 10) + `}`)})
	}
	return out, bad, nil
}

func (r *rowsDouble) IDsByUser(ctx context.Context, index string, users []uint64, after uint64, limit int) ([]uint64, error) {
	return nil, nil
}

type harness struct {
	w         *world
	eng       *engineDouble
	store     *storeDouble
	rows      *rowsDouble
	in        chan item
	stream    chan error
	cancel    context.CancelCauseFunc
	done      chan error
	pos       uint32
	now       func() time.Time // nil: time.Now
	at        int64            // commit time given to the next events (Unix ns)
	app       *applier
	open      map[DocKey]bool // open dead letters at start
	openEvery time.Duration   // how often the open set is re-read (0: the default)
}

func newHarness(t *testing.T) *harness {
	w := newWorld(t)
	return &harness{w: w, eng: &engineDouble{w: w}, store: &storeDouble{w: w}, rows: &rowsDouble{},
		in: make(chan item, 100), stream: make(chan error, 1), pos: 4}
}

func (h *harness) start() {
	a := newApplier(applier{
		reader: h.rows, fanout: h.rows, writer: h.eng, store: h.store,
		aliasOf: func(index string) string { return "alias-" + index },
		logger:  slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: NewMetrics(nil),
		batch: 2, interval: 5 * time.Millisecond, budget: 2 * time.Second, now: h.now, open: h.open, openEvery: h.openEvery,
	}, State{Phase: PhaseStreaming, Position: mysql.Position{File: "binlog.000001", Pos: 4}})
	h.app = a
	ctx, cancel := context.WithCancelCause(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- a.run(ctx, h.in, h.stream) }()
}

// post feeds one row event for posts/id and the position after it.
func (h *harness) post(id uint64) mysql.Position {
	h.pos += 100
	p := mysql.Position{File: "binlog.000001", Pos: h.pos}
	v, err := indexer.VersionOf(mysql.Position{File: p.File, Pos: h.pos - 50})
	if err != nil {
		h.w.t.Fatal(err)
	}
	h.w.mu.Lock()
	h.w.events = append(h.w.events, event{key: "alias-posts/" + strconv.FormatUint(id, 10), version: v, after: p})
	h.w.mu.Unlock()
	h.in <- item{kind: itemRows, table: "posts", keys: []key{{index: mappings.Posts, id: id}}, version: v, at: h.at}
	h.in <- item{kind: itemPos, pos: p}
	return p
}

func (h *harness) stop() error {
	h.cancel(nil)
	return h.wait()
}

func (h *harness) wait() error {
	select {
	case err := <-h.done:
		return err
	case <-time.After(45 * time.Second):
		h.w.t.Fatal("applier did not stop")
		return nil
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestApplierCheckpointNeverPassesUnacknowledged(t *testing.T) {
	temporary := func(ops []bulk.Op, i int) bulk.Result {
		return bulk.Result{Failed: []bulk.ItemError{{Pos: i, Op: ops[i], Status: 429, Type: "es_rejected_execution_exception"}}}
	}
	permanent := func(ops []bulk.Op, i int) bulk.Result {
		return bulk.Result{Failed: []bulk.ItemError{{Pos: i, Op: ops[i], Status: 400, Type: "mapper_parsing_exception"}}}
	}
	cases := []struct {
		name   string
		script func(call int, ops []bulk.Op) (bulk.Result, error)
		dead   int // documents that must end as dead letters
	}{
		{"all acknowledged", nil, 0},
		{"partial ack: one item refused for now, then taken", func(call int, ops []bulk.Op) (bulk.Result, error) {
			if call <= 2 {
				return temporary(ops, len(ops)-1), nil
			}
			return bulk.Result{}, nil
		}, 0},
		{"a write fails between two events", func(call int, ops []bulk.Op) (bulk.Result, error) {
			if call == 2 || call == 3 {
				return bulk.Result{}, errors.New("connection reset")
			}
			return bulk.Result{}, nil
		}, 0},
		{"a rejected document is a dead letter before the save", func(call int, ops []bulk.Op) (bulk.Result, error) {
			if call == 1 {
				return permanent(ops, 0), nil
			}
			return bulk.Result{}, nil
		}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.eng.script = tc.script
			h.start()
			var last mysql.Position
			for id := uint64(1); id <= 7; id++ {
				last = h.post(id)
			}
			eventually(t, "the last position saved", func() bool {
				p, ok := h.store.lastSave()
				return ok && p == last
			})
			if err := h.stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if len(h.w.dead) != tc.dead {
				t.Errorf("dead letters %v, want %d", h.w.dead, tc.dead)
			}
		})
	}
}

// A batch the engine acknowledged but whose dead letters cannot be recorded
// blocks every later checkpoint; shutdown then says it did not save.
func TestApplierNoSavePastUnrecordedDeadLetters(t *testing.T) {
	h := newHarness(t)
	h.eng.script = func(call int, ops []bulk.Op) (bulk.Result, error) {
		return bulk.Result{Failed: []bulk.ItemError{{Pos: 0, Op: ops[0], Status: 400, Type: "mapper_parsing_exception"}}}, nil
	}
	h.store.failDead = func() error { return errors.New("MySQL gone") }
	h.start()
	h.post(1)
	h.post(2)
	eventually(t, "a write", func() bool { return h.eng.Calls() > 0 })
	time.Sleep(50 * time.Millisecond)
	err := h.stop()
	if !errors.Is(err, ErrShutdownSave) {
		t.Fatalf("stop: %v, want ErrShutdownSave", err)
	}
	if p, ok := h.store.lastSave(); ok {
		t.Fatalf("saved %s with dead letters unrecorded", p)
	}
}

// Shutdown reports the truth about the final save.
func TestApplierShutdownSave(t *testing.T) {
	cases := []struct {
		name     string
		failSave bool
		want     error
	}{
		{"saved", false, nil},
		{"save fails", true, ErrShutdownSave},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if tc.failSave {
				h.store.failSave = func() error { return errors.New("MySQL gone") }
			}
			h.start()
			// One event, stopped at once: the final flush writes and saves it.
			h.post(1)
			err := h.stop()
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("stop: %v, want %v", err, tc.want)
			}
			p, ok := h.store.lastSave()
			if tc.failSave == ok {
				t.Fatalf("saved %v (%s), want saved=%v", ok, p, !tc.failSave)
			}
		})
	}
}

// A shutdown that cuts a flush short (the re-read was failing) still
// flushes and saves what was pending, with a fresh budget.
func TestApplierShutdownDuringFailingRead(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	failing := true
	h.rows.fail = func() error {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return fmt.Errorf("MySQL restarting")
		}
		return nil
	}
	h.start()
	last := h.post(1)
	h.post(2)
	last = h.post(3)
	time.Sleep(100 * time.Millisecond) // the applier is retrying the read
	mu.Lock()
	failing = false
	mu.Unlock()
	if err := h.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	p, ok := h.store.lastSave()
	if !ok || p != last {
		t.Fatalf("last save %s (%v), want %s", p, ok, last)
	}
}

// Shutdown while a batch waits for the previous write: the waiting batch is
// not dropped (its keys stay pending) and the final save covers it only
// after the engine took it.
func TestApplierShutdownWhileWaitingForWrite(t *testing.T) {
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
	h.post(2) // batch of two: the first write, held by the engine
	eventually(t, "the first write", func() bool { return h.eng.Calls() == 1 })
	h.post(3)
	last := h.post(4) // the second batch is collected and waits for the first
	time.Sleep(50 * time.Millisecond)
	go func() {
		time.Sleep(100 * time.Millisecond)
		close(release)
	}()
	if err := h.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if p, ok := h.store.lastSave(); !ok || p != last {
		t.Fatalf("last save %s (%v), want %s", p, ok, last)
	}
}
