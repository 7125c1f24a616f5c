package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mysql"
)

// The applier is the one goroutine that owns batching, writing and the
// checkpoint. Invariant 1: the checkpoint is saved only after the engine
// acknowledged (or the dead-letter table recorded) every document of every
// event before it.

// Writer is what the applier needs of the bulk writer.
type Writer interface {
	Write(ctx context.Context, ops []bulk.Op) (bulk.Result, error)
}

// Checkpoints is what the applier needs of the Store: the position and the
// dead letters, both durable before the applier goes on. On the worker's
// store every write is fenced (Store.Fenced): ErrFenced once the lock is gone.
type Checkpoints interface {
	Save(ctx context.Context, st State) error
	RecordDeadLetters(ctx context.Context, dl []DeadLetter) error
	ResolveDeadLetters(ctx context.Context, docs []DocKey) error
	OpenDeadLetterDocs(ctx context.Context) ([]DocKey, error)
}

var _ Checkpoints = (*Store)(nil)

// Reader re-reads rows by primary key (indexer.Source): the good rows'
// documents, the rows that cannot become one (dead letters), and an error
// only for a failed read (retried).
type Reader interface {
	ByIDsRows(ctx context.Context, name string, ids []uint64) ([]indexer.Doc, []indexer.RowError, error)
}

// Fanout lists the documents that denormalise a user (posts and contents).
type Fanout interface {
	IDsByUser(ctx context.Context, index string, userIDs []uint64, after uint64, limit int) ([]uint64, error)
}

// pend is what the events of a batch say about one document.
type pend struct {
	version int64 // newest event's version
}

// errAliasMissing means an index the worker writes to no longer exists.
var errAliasMissing = errors.New("search index alias missing")

type applier struct {
	reader   Reader
	fanout   Fanout
	writer   Writer
	store    Checkpoints
	aliasOf  func(index string) string
	logger   *slog.Logger
	metrics  *Metrics
	batch    int
	interval time.Duration
	now      func() time.Time
	onAck    func(at time.Time, ops []bulk.Op)
	budget   time.Duration   // for the final flush and save after ctx ends (default 30 s)
	open     map[DocKey]bool // documents with an open dead letter: resolved when a later state is acknowledged
	// openEvery is how often open is re-read from the store, for the dead
	// letters other processes record (a reindex; default 30 s).
	openEvery time.Duration
	openAt    time.Time

	state    State
	wctx     context.Context // writes: survives the shutdown signal until the final flush ends
	inflight *job
	pending  map[string]map[uint64]*pend // index → id → what the newest events say
	users    map[uint64]int64            // users whose posts/contents need the new nickname
	nPending int
	events   int64
	beat     time.Time // newest heartbeat waiting for a flush
	lastPos  mysql.Position
	lastGTID string
	posDirty bool
	lastSave time.Time
	// unsettled is set when an acknowledged batch could not be settled (its
	// dead letters not recorded): no checkpoint may be saved past it.
	unsettled error
	rowDead   []DeadLetter // rows the handler could not key (unreadable id), for the next batch

	// Lag (lag.go): commit times (Unix ns) of the oldest event pending and of
	// the oldest in the batch being written or settled (0: none), and what the
	// lag goroutine reads.
	pendOldest, jobOldest int64
	lag                   *lagClock // the worker's (nil: one of the applier's own, which it observes itself)
	ownLag                bool
}

func newApplier(a applier, st State) *applier {
	a.state = st
	a.lastPos = st.Position
	a.pending = map[string]map[uint64]*pend{}
	a.users = map[uint64]int64{}
	if a.open == nil {
		a.open = map[DocKey]bool{}
	}
	if a.lag == nil {
		a.lag, a.ownLag = &lagClock{}, true
	}
	a.lag.oldest.Store(0) // a new session replays everything not acknowledged from the checkpoint
	if a.now == nil {
		a.now = time.Now
	}
	if a.budget <= 0 {
		a.budget = 30 * time.Second
	}
	if a.openEvery <= 0 {
		a.openEvery = 30 * time.Second
	}
	a.openAt = a.now()
	return &a
}

// A flush has two stages: collect (re-read rows from MySQL) and write (the
// engine). One write is in flight at a time while the next batch is
// collected, so MySQL reads overlap engine writes; a batch's checkpoint is
// saved only after its write — and so every earlier write — is acknowledged.
type job struct {
	ops    []bulk.Op
	events int64
	beat   time.Time
	pos    mysql.Position
	gtid   string
	hasPos bool
	start  time.Time
	dead   []DeadLetter // rows that could not become documents (their ops delete the document)
	oldest int64        // commit time (Unix ns) of the batch's oldest event, 0 for none
	done   chan jobResult
}

type jobResult struct {
	res bulk.Result
	err error
}

// run consumes items until the stream ends. On ctx cancellation it drains
// what the handler already queued, flushes and saves: nil means the final
// checkpoint was saved, ErrShutdownSave that it was not.
func (a *applier) run(ctx context.Context, in <-chan item, streamErr <-chan error) error {
	// Writes outlive a cancelled ctx until the final flush is done or its budget ends.
	wctx, stopWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWrites()
	a.wctx = wctx
	if a.ownLag { // tests without a worker: the worker runs the lag goroutine across sessions
		lctx, stopLag := context.WithCancel(ctx)
		defer stopLag()
		go a.lag.run(lctx, a.interval, a.now, a.metrics)
	}
	ticker := time.NewTicker(a.interval)
	defer ticker.Stop()
	for {
		var err error
		select {
		case it := <-in:
			err = a.take(ctx, it)
		case <-ticker.C:
			err = a.maybeFlush(ctx, true)
		case serr := <-streamErr:
			if lost := lockLost(ctx); lost != nil {
				return errors.Join(serr, lost)
			}
			a.drain(in)
			if ferr := a.finalFlush(ctx); ferr != nil {
				return errors.Join(serr, ferr)
			}
			return serr
		case <-ctx.Done():
		}
		if lost := lockLost(ctx); lost != nil || errors.Is(err, ErrFenced) {
			// Another worker may hold the lock: stop at once, no final
			// flush, no save (MySQL would refuse them anyway).
			return errors.Join(lost, err)
		}
		if ctx.Err() != nil {
			// Shutdown (also when it cut a flush short): the final flush and
			// save must not be cut by the cancellation that asked for them.
			a.drain(in)
			if ferr := a.finalFlush(ctx); ferr != nil {
				return fmt.Errorf("%w: %v", ErrShutdownSave, ferr)
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// finalFlush writes and saves everything within a bounded budget that
// survives ctx's cancellation.
func (a *applier) finalFlush(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.budget)
	defer cancel()
	return a.flushAndSave(fctx)
}

// lockLost is the cause of ctx's end when the worker lost its lock, else nil.
func lockLost(ctx context.Context) error {
	if c := context.Cause(ctx); c != nil && errors.Is(c, ErrLockLost) {
		return c
	}
	return nil
}

func (a *applier) drain(in <-chan item) {
	for {
		select {
		case it := <-in:
			a.add(it)
		default:
			return
		}
	}
}

func (a *applier) take(ctx context.Context, it item) error {
	a.add(it)
	if it.kind == itemPos && it.force {
		return a.flushAndSave(ctx)
	}
	return a.maybeFlush(ctx, false)
}

func (a *applier) add(it item) {
	switch it.kind {
	case itemRows:
		a.events += int64(it.rows) // not len(it.keys): an update carries two images of one row
		if it.at > 0 && (a.pendOldest == 0 || it.at < a.pendOldest) {
			a.pendOldest = it.at
			a.publishOldest()
		}
		for _, d := range it.dead {
			d.Index = a.aliasOf(d.Index)
			a.rowDead = append(a.rowDead, d)
		}
		for _, k := range it.keys {
			m := a.pending[k.index]
			if m == nil {
				m = map[uint64]*pend{}
				a.pending[k.index] = m
			}
			p := m[k.id]
			if p == nil {
				p = &pend{}
				m[k.id] = p
				a.nPending++
			}
			p.version = max(p.version, it.version)
			if k.fanout {
				a.users[k.id] = max(a.users[k.id], it.version)
			}
		}
	case itemPos:
		a.lastPos, a.lastGTID, a.posDirty = it.pos, it.gtid, true
	case itemBeat:
		if it.beatAt.After(a.beat) {
			a.beat = it.beatAt
		}
	}
}

// maybeFlush flushes a full batch, or on tick anything pending; on tick it
// also settles a finished write and saves a position that moved without
// work (idle tables, heartbeats).
func (a *applier) maybeFlush(ctx context.Context, tick bool) error {
	if a.nPending >= a.batch || (tick && a.hasWork()) {
		return a.flush(ctx)
	}
	if !tick {
		return nil
	}
	if a.inflight != nil {
		select {
		case r := <-a.inflight.done:
			if err := a.settle(ctx, r); err != nil {
				return err
			}
		default:
			return nil // a write is in flight: no position may be saved past it yet
		}
	}
	if !a.beat.IsZero() {
		a.lag.beat(a.beat)
		a.beat = time.Time{}
	}
	if a.posDirty && a.now().Sub(a.lastSave) >= time.Second {
		return a.save(ctx, a.lastPos, a.lastGTID)
	}
	return nil
}

// flushAndSave writes everything pending, waits for it, and saves the newest
// position seen.
func (a *applier) flushAndSave(ctx context.Context) error {
	if a.unsettled != nil {
		return fmt.Errorf("no checkpoint past a batch that was not settled: %w", a.unsettled)
	}
	if err := a.flush(ctx); err != nil {
		return err
	}
	if err := a.wait(ctx); err != nil {
		return err
	}
	if a.posDirty {
		return a.save(ctx, a.lastPos, a.lastGTID)
	}
	return nil
}

func (a *applier) save(ctx context.Context, pos mysql.Position, gtid string) error {
	if a.unsettled != nil {
		return fmt.Errorf("no checkpoint past a batch that was not settled: %w", a.unsettled)
	}
	st := a.state
	st.Phase = PhaseStreaming
	st.Position = pos
	st.GTIDSet = gtid
	if err := retry(ctx, a.logger, a.metrics, "save checkpoint", func() error { return a.store.Save(ctx, st) }); err != nil {
		return err
	}
	a.state = st
	if pos == a.lastPos {
		a.posDirty = false
	}
	a.lastSave = a.now()
	a.metrics.Checkpoints.Inc()
	return nil
}

// flush collects the pending batch's documents (while the previous write is
// in flight), waits for that write, then cuts the batch and starts its
// write. Until the cut the keys stay pending, so a failure anywhere before
// it only means they are collected again.
func (a *applier) flush(ctx context.Context) error {
	if !a.hasWork() {
		return nil
	}
	start := a.now()
	ops, dead, err := a.collect(ctx)
	if err != nil {
		return err
	}
	if err := a.wait(ctx); err != nil {
		return err
	}
	j := &job{ops: ops, events: a.events, beat: a.beat, start: start, dead: append(a.rowDead, dead...),
		oldest: a.pendOldest, done: make(chan jobResult, 1)}
	if a.posDirty { // every event before this position is in this batch or an earlier one
		j.pos, j.gtid, j.hasPos = a.lastPos, a.lastGTID, true
	}
	a.pending = map[string]map[uint64]*pend{}
	a.users = map[uint64]int64{}
	a.nPending, a.events, a.beat, a.rowDead = 0, 0, time.Time{}, nil
	a.jobOldest, a.pendOldest = j.oldest, 0
	a.inflight = j
	go func() { j.done <- a.write(j) }()
	return nil
}

// wait settles the in-flight write, if any.
func (a *applier) wait(ctx context.Context) error {
	if a.inflight == nil {
		return nil
	}
	select {
	case r := <-a.inflight.done:
		return a.settle(ctx, r)
	case <-ctx.Done():
		return fmt.Errorf("waiting for the engine to acknowledge a batch: %w", ctx.Err())
	}
}

// hasWork reports keys to re-read or dead letters to record.
func (a *applier) hasWork() bool { return a.nPending > 0 || len(a.rowDead) > 0 }

// write sends one batch, retrying until the engine takes it.
func (a *applier) write(j *job) jobResult {
	var res bulk.Result
	if len(j.ops) == 0 { // only dead letters
		return jobResult{}
	}
	err := retry(a.wctx, a.logger, a.metrics, "bulk write", func() error {
		var werr error
		res, werr = a.writer.Write(a.wctx, j.ops)
		if werr == nil {
			// Items the engine could not take *now* (429/5xx after the writer's
			// own retries) are an outage, not a bad document: retry the batch
			// (re-applying acknowledged items is harmless) instead of dead-lettering.
			for _, f := range res.Failed {
				// cluster blocks (a write block set by an operator) lift: wait, do not dead-letter
				if f.Temporary() || strings.Contains(f.Type, "cluster_block_exception") {
					return fmt.Errorf("engine refused %d documents for now, e.g. %s/%s: %s", len(res.Failed), f.Op.Index, f.Op.ID, f.Type)
				}
			}
		}
		return werr
	})
	return jobResult{res: res, err: err}
}

// settle records the outcome of the in-flight write: dead letters first,
// then counters, then the batch's checkpoint.
func (a *applier) settle(ctx context.Context, r jobResult) error {
	j := a.inflight
	a.inflight = nil
	err := a.settleJob(ctx, j, r)
	if err != nil {
		a.unsettled = err
		return err
	}
	a.jobOldest = 0 // acknowledged and saved (or covered by the next save)
	a.publishOldest()
	return nil
}

func (a *applier) settleJob(ctx context.Context, j *job, r jobResult) error {
	if r.err != nil {
		return r.err
	}
	res := r.res
	for _, f := range res.Failed {
		if strings.Contains(f.Type, "index_not_found") {
			// An alias disappeared under the worker: stop (nothing is saved past
			// this batch); the restart rebuilds missing indices from MySQL.
			return fmt.Errorf("%w: %s (%s)", errAliasMissing, f.Op.Index, f.Reason)
		}
	}
	if err := a.settleDeadLetters(ctx, j, res); err != nil {
		return err
	}
	perSeries := map[[2]string]int{} // one label lookup per series, not per document
	for _, op := range j.ops {
		perSeries[[2]string{op.Index, string(op.Action)}]++
	}
	for k, n := range perSeries {
		a.metrics.Docs.WithLabelValues(k[0], k[1]).Add(float64(n))
	}
	now := a.now()
	if a.onAck != nil {
		a.onAck(now, j.ops)
	}
	a.metrics.Conflicts.Add(float64(res.Conflicts))
	a.metrics.BulkSeconds.Observe(now.Sub(j.start).Seconds())
	a.state.EventsApplied += j.events
	a.state.DocsWritten += int64(len(j.ops))
	a.state.Conflicts += int64(res.Conflicts)
	if !j.beat.IsZero() {
		a.lag.beat(j.beat)
	}
	if j.hasPos {
		return a.save(ctx, j.pos, j.gtid)
	}
	return nil
}

// retry runs f until it succeeds, with exponential backoff and full jitter
// capped at 30 s, logging each failure. Only ctx ends it early.
func retry(ctx context.Context, logger *slog.Logger, m *Metrics, what string, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrFenced) { // another worker holds the lock: retrying cannot help
			return fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (stopped while retrying: %v)", what, ctx.Err(), err)
		}
		d := min(30*time.Second, 200*time.Millisecond<<min(attempt, 8))
		d = time.Duration(rand.Int64N(int64(d))) + 50*time.Millisecond
		logger.Warn("retrying", "what", what, "attempt", attempt+1, "in", d.Round(time.Millisecond), "err", err)
		m.Retries.Inc()
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(d):
		}
	}
}
