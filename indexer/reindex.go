package indexer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mysql"
)

// Reindex builds a new physical index from MySQL while the old one keeps
// serving, then moves the alias.
//
// Losing no update while the CDC worker streams into the alias:
//  1. Before reading, note the binlog position P0 and the database clock T0.
//     Every loaded document carries version(P0): any change committed after P0
//     that the CDC applies has a higher version and wins (external_gte).
//  2. Load every row (keyset pages by primary key).
//  3. Catch up: re-read rows changed since T0 (updated_at, or the author's for
//     posts) with version(P1) noted before the read, until a round finds
//     nothing; then reconcile ids so hard deletes disappear too.
//  4. Verify the new index's count equals the searchable rows in MySQL,
//     and warm it with the API's searches (ReindexOptions.Warm).
//  5. Swap the alias atomically, then one more catch-up round and id
//     reconciliation into the new index: changes and hard deletes the CDC
//     applied to the old index between the last round and the swap land in
//     the new one. From the swap on, the CDC writes through the alias into the
//     new index.
// A failure before the swap deletes the new index and leaves the alias as it was.

// ErrVerify means the new index does not match MySQL; the alias was not moved.
var ErrVerify = errors.New("verification failed")

// Writer is what reindex needs of the bulk writer.
type Writer interface {
	Write(ctx context.Context, ops []bulk.Op) (bulk.Result, error)
}

// ReindexOptions tune one run.
type ReindexOptions struct {
	Profile   string
	BatchSize int                                   // rows per page (default 5000)
	Keep      int                                   // the live index and the most recently live ones to keep after the swap (default 2; Lifecycle.Prune)
	Progress  func(phase string, done, total int64) // optional
	// Resume continues a load that a crash interrupted (from OnPage's last
	// report); nil starts a new physical index.
	Resume *ResumePoint
	// OnPage is called after each loaded page is acknowledged by the engine,
	// so a caller can persist where to resume. An error stops the run.
	OnPage func(ResumePoint) error
	// Warm, when Warm.For is set, sends the new index the API's searches
	// after verification and before the alias moves (see Warm). A search
	// the engine rejects fails the run with the alias untouched.
	Warm WarmOptions
}

// ResumePoint is how far a load got: the index being built, the last
// primary key acknowledged, and the binlog/clock marks the load started from.
type ResumePoint struct {
	Physical string
	AfterID  uint64
	From     mysql.Position
	Since    time.Time
}

// Report says what a run did.
type Report struct {
	Index       string
	Physical    string
	Previous    string
	Rows        int64 // rows read in the load
	Indexed     int64 // searchable documents in the new index at the swap
	CaughtUp    int64 // documents rewritten by catch-up rounds
	Reconciled  int64 // documents fixed by the id reconciliation
	Unindexable int64 // rows that cannot become a document: left out, recorded (badrows.go)
	Pruned      []string
	Warm        WarmReport // the warm-up before the swap
	Took        time.Duration
	StartedFrom mysql.Position
}

// Reindexer rebuilds logical indices.
type Reindexer struct {
	db     *sql.DB
	es     *elasticsearch.Client
	src    *Source
	life   *Lifecycle
	writer Writer
	logger *slog.Logger
	// source, when set (WithSource), is a read replica: rows and binlog
	// positions come from it; the build lock stays on db.
	source *sql.DB
	// rowErrors records the rows a build cannot turn into documents (badrows.go).
	rowErrors RowErrorSink
	// beforeSwap, when set (tests), runs after the last verification and
	// before the alias moves: where a concurrent CDC write is hardest to catch.
	beforeSwap func()
	// beforeCompare, when set (tests), runs as a rollback's verification
	// starts comparing its target: where a concurrent write shows as churn.
	beforeCompare func()
}

// NewReindexer wires a reindexer.
func NewReindexer(db *sql.DB, es *elasticsearch.Client, life *Lifecycle, writer Writer, logger *slog.Logger) *Reindexer {
	return &Reindexer{db: db, es: es, src: NewSource(db), life: life, writer: writer, logger: logger}
}

// WithSource makes r read rows and binlog positions from source, a read
// replica the CDC streams from (cdc.source_dsn), so that the versions it
// writes are positions in the same binlog as the CDC's. The build lock stays
// on the database r was made with, which every builder shares.
func (r *Reindexer) WithSource(source *sql.DB) *Reindexer {
	if source != nil && source != r.db {
		r.source, r.src = source, NewSource(source)
	}
	return r
}

// Run rebuilds the logical index name.
func (r *Reindexer) Run(ctx context.Context, name string, opts ReindexOptions) (rep Report, err error) {
	start := time.Now()
	opts = opts.withDefaults()
	rep.Index = name
	lock, err := TryBuildLock(ctx, r.db, r.life.Alias(name))
	if err != nil {
		return rep, err
	}
	defer lock.Release()
	if _, rep.Previous, err = r.life.Physical(ctx, name); err != nil {
		return rep, err
	}
	r.dropOrphans(ctx, name, opts.Resume)
	b, err := r.begin(ctx, name, opts)
	if err != nil {
		return rep, err
	}
	rep.StartedFrom, rep.Physical = b.p0, b.physical
	b.left = newLeftOut(&rep.Unindexable)
	swapped := false
	defer func() {
		if err != nil && !swapped && opts.OnPage == nil {
			r.dropUnfinished(b.physical)
		}
	}()
	if err := r.load(ctx, name, b, opts, &rep); err != nil {
		return rep, err
	}
	if err := r.catchUpUntilQuiet(ctx, name, b, opts, &rep); err != nil {
		return rep, err
	}
	if err := r.verify(ctx, name, b, opts, &rep); err != nil {
		return rep, err
	}

	if rep.Warm, err = Warm(ctx, r.es, b.physical, opts.Warm); err != nil {
		return rep, fmt.Errorf("alias %s left on %q: %w", r.life.Alias(name), rep.Previous, err)
	}
	if rep.Warm.Searches > 0 {
		r.logger.Info("warmed before the swap", "index", name, "physical", b.physical, "searches", rep.Warm.Searches,
			"rounds", rep.Warm.Rounds, "took", rep.Warm.Took, "settled", rep.Warm.Settled)
	}

	// 5. Swap, catch up once more, prune.
	if r.beforeSwap != nil {
		r.beforeSwap()
	}
	if err := r.swap(ctx, name, b.physical, false); err != nil {
		return rep, err
	}
	swapped = true
	if err := r.settleAfterSwap(ctx, name, b.physical, b.since, opts.BatchSize, b.searchable, b.left, &rep); err != nil {
		return rep, fmt.Errorf("alias swapped to %s, but the post-swap catch-up failed (run 'soomcare verify %s'; a reindex again converges it): %w", b.physical, name, err)
	}
	if rep.Pruned, err = r.life.Prune(ctx, name, opts.Keep); err != nil {
		r.logger.Warn("pruning old indices failed", "index", name, "err", err)
	}
	rep.Took = time.Since(start)
	return rep, nil
}

func (o ReindexOptions) withDefaults() ReindexOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.Keep <= 0 {
		o.Keep = 2
	}
	if o.Progress == nil {
		o.Progress = func(string, int64, int64) {}
	}
	return o
}

// build is the new physical index of one run and how far it got.
type build struct {
	physical string
	p0       mysql.Position // binlog position the load started from (step 1)
	t0       time.Time      // database clock at p0
	after    uint64         // last primary key loaded
	since    time.Time      // clock mark of the next catch-up round
	// searchable tracks, per primary key, whether the row is in the index;
	// nil after a resume (the id reconciliation then rescans MySQL).
	searchable map[uint64]bool
	left       *leftOut // rows left out, counted in the run's Report.Unindexable
}

// begin resumes the interrupted load of opts.Resume when its index still
// exists, or notes P0 and T0 and creates a new physical index (step 1).
func (r *Reindexer) begin(ctx context.Context, name string, opts ReindexOptions) (*build, error) {
	if rs := opts.Resume; rs != nil && r.life.Exists(ctx, rs.Physical) {
		r.logger.Info("resuming load", "index", name, "physical", rs.Physical, "after_id", rs.AfterID, "from", rs.From)
		return &build{physical: rs.Physical, p0: rs.From, t0: rs.Since, after: rs.AfterID, since: rs.Since}, nil
	}
	b := &build{searchable: map[uint64]bool{}}
	var err error
	if b.p0, b.t0, err = r.mark(ctx); err != nil {
		return nil, err
	}
	b.since = b.t0
	if b.physical, err = r.life.Create(ctx, name, opts.Profile); err != nil {
		return nil, err
	}
	return b, nil
}

// dropOrphans deletes what killed builds of name left behind (the caller
// holds the build lock), but not the index a resumed load continues.
// Failures are logged: they cost disk, not data.
func (r *Reindexer) dropOrphans(ctx context.Context, name string, resume *ResumePoint) {
	except := ""
	if resume != nil {
		except = resume.Physical
	}
	deleted, err := r.life.deleteOrphans(ctx, name, except)
	for _, idx := range deleted {
		r.logger.Info("deleted an index a killed build left unfinished", "index", idx, "alias", r.life.Alias(name))
	}
	if err != nil {
		r.logger.Warn("could not delete the indices killed builds left unfinished", "alias", r.life.Alias(name), "err", err)
	}
}

// swap moves the alias of name to physical, marking the index it leaves
// retired at the database clock and binlog position noted just before (a
// rollback of it catches up from there), and as left by a rollback when
// rollback is set.
func (r *Reindexer) swap(ctx context.Context, name, physical string, rollback bool) error {
	p, at, err := r.mark(ctx)
	if err != nil {
		return err
	}
	return r.life.swap(ctx, name, physical, retirement{at: at.UTC(), pos: p, rollback: rollback})
}

// dropUnfinished deletes a half-built index (best effort with a fresh
// context); the alias was left alone.
func (r *Reindexer) dropUnfinished(physical string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.life.Delete(ctx, physical); err != nil {
		r.logger.Warn("could not delete the unfinished index", "index", physical, "err", err)
	}
}

// load writes every row after b.after with version(P0) (step 2). The next
// page is read from MySQL while the current one is written, so the load
// runs at the engine's pace.
func (r *Reindexer) load(ctx context.Context, name string, b *build, opts ReindexOptions, rep *Report) error {
	total, err := r.src.CountRows(ctx, name)
	if err != nil {
		return err
	}
	v0, err := VersionOf(b.p0)
	if err != nil {
		return err
	}
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad() // ends the prefetcher if the load fails midway
	for pg := range r.prefetch(lctx, name, b.after, opts.BatchSize) {
		if pg.err != nil {
			return pg.err
		}
		if err := r.badRows(ctx, name, v0, pg.Bad, b.left); err != nil {
			return err
		}
		if _, err := r.apply(ctx, b.physical, pg.Docs, v0, false); err != nil {
			return err
		}
		track(b.searchable, pg.WithoutDocs())
		rep.Rows += int64(len(pg.Docs) + len(pg.Bad))
		b.after = pg.Last
		opts.Progress("load", rep.Rows, max(total, rep.Rows))
		if opts.OnPage != nil {
			if err := opts.OnPage(ResumePoint{Physical: b.physical, AfterID: b.after, From: b.p0, Since: b.t0}); err != nil {
				return err
			}
		}
	}
	return nil
}

// catchUpUntilQuiet runs catch-up rounds until one finds nothing (at most
// five), then turns the index's live settings on (step 3).
func (r *Reindexer) catchUpUntilQuiet(ctx context.Context, name string, b *build, opts ReindexOptions, rep *Report) error {
	for round := 0; round < 5; round++ {
		n, err := r.catchUpRound(ctx, name, b, opts, rep)
		if err != nil {
			return err
		}
		opts.Progress("catch-up", rep.CaughtUp, rep.CaughtUp)
		if n == 0 {
			break
		}
	}
	return r.life.Finish(ctx, b.physical)
}

// catchUpRound rewrites the rows changed since b.since and moves the mark.
func (r *Reindexer) catchUpRound(ctx context.Context, name string, b *build, opts ReindexOptions, rep *Report) (int64, error) {
	n, next, err := r.catchUp(ctx, name, b.physical, b.since, opts.BatchSize, b.searchable, b.left)
	if err != nil {
		return n, err
	}
	rep.CaughtUp += n
	b.since = next
	return n, nil
}

// verify reconciles ids and checks the count against MySQL (step 4); rows
// that keep changing get up to three tries, with a catch-up between them.
func (r *Reindexer) verify(ctx context.Context, name string, b *build, opts ReindexOptions, rep *Report) error {
	for attempt := 1; ; attempt++ {
		fixed, want, err := r.reconcile(ctx, name, b.physical, b.searchable, b.left)
		if err != nil {
			return err
		}
		rep.Reconciled += fixed
		got, err := r.life.Count(ctx, b.physical)
		if err != nil {
			return err
		}
		if got == want {
			rep.Indexed = got
			return nil
		}
		if attempt == 3 {
			return fmt.Errorf("%w: %s has %d documents but MySQL has %d searchable %s rows; alias %s left on %q",
				ErrVerify, b.physical, got, want, name, r.life.Alias(name), rep.Previous)
		}
		if _, err := r.catchUpRound(ctx, name, b, opts, rep); err != nil {
			return err
		}
	}
}

// afterSwap brings into the new index what the CDC applied to the old one
// between the last round and the swap: rows changed since the last round
// (catch-up) and rows hard-deleted meanwhile, which no catch-up can find (an
// id reconciliation: the delete went to the old index only).
func (r *Reindexer) afterSwap(ctx context.Context, name, physical string, since time.Time, batch int, searchable map[uint64]bool, left *leftOut, rep *Report) error {
	n, _, err := r.catchUp(ctx, name, physical, since, batch, searchable, left)
	if err != nil {
		return err
	}
	rep.CaughtUp += n
	fixed, _, err := r.reconcile(ctx, name, physical, searchable, left)
	if err != nil {
		return err
	}
	rep.Reconciled += fixed
	return nil
}

// afterSwapPatience bounds how long settleAfterSwap retries.
const afterSwapPatience = 2 * time.Minute

// settleAfterSwap runs afterSwap until it succeeds, ctx ends or
// afterSwapPatience passes (waits of 1 s doubling to 10 s): the alias has
// moved, so giving up at the first MySQL or engine error would leave the new
// index without what the CDC applied to the old one just before the swap.
func (r *Reindexer) settleAfterSwap(ctx context.Context, name, physical string, since time.Time, batch int, searchable map[uint64]bool, left *leftOut, rep *Report) error {
	deadline := time.Now().Add(afterSwapPatience)
	for wait := time.Second; ; wait = min(2*wait, 10*time.Second) {
		err := r.afterSwap(ctx, name, physical, since, batch, searchable, left, rep)
		if err == nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		r.logger.Warn("catch-up after the swap failed; retrying", "index", name, "physical", physical, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// mark returns the binlog position and the database clock, read in that
// order so that every change after the position is at or after the clock
// reading (less a second for clock granularity).
//
// From a replica (WithSource) the rows' updated_at is the primary's clock and
// a change reaches the replica later: the clock is read on the primary, then
// the replica is waited for until it has applied everything the primary had
// committed, then the position is read on the replica. A change after that
// position was committed on the primary after the clock reading, as on the
// primary alone.
func (r *Reindexer) mark(ctx context.Context) (mysql.Position, time.Time, error) {
	var now time.Time
	if r.source != nil {
		if err := r.db.QueryRowContext(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&now); err != nil {
			return mysql.Position{}, now, fmt.Errorf("read database clock: %w", err)
		}
		if err := mysql.WaitReplica(ctx, r.db, r.source, time.Minute); err != nil {
			return mysql.Position{}, now, err
		}
	}
	posDB := r.db
	if r.source != nil {
		posDB = r.source
	}
	p, err := mysql.CurrentPosition(ctx, posDB)
	if err != nil {
		return p, time.Time{}, fmt.Errorf("reindex needs the binlog position: %w", err)
	}
	if r.source == nil {
		if err := r.db.QueryRowContext(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&now); err != nil {
			return p, now, fmt.Errorf("read database clock: %w", err)
		}
	}
	return p, now.Add(-time.Second), nil
}

// catchUp rewrites every row changed since `since` (a row that cannot become
// a document: a delete, counted in left); it returns how many and the
// clock mark for the next round.
func (r *Reindexer) catchUp(ctx context.Context, name, physical string, since time.Time, batch int, searchable map[uint64]bool, left *leftOut) (int64, time.Time, error) {
	p, next, err := r.mark(ctx)
	if err != nil {
		return 0, since, err
	}
	v, err := VersionOf(p)
	if err != nil {
		return 0, since, err
	}
	var n int64
	for c, err := range r.src.Pages(ctx, name, batch, Filter{Since: since}) {
		if err != nil {
			return n, since, err
		}
		if err := r.badRows(ctx, name, v, c.Bad, left); err != nil {
			return n, since, err
		}
		docs := c.WithoutDocs()
		if _, err := r.apply(ctx, physical, docs, v, true); err != nil {
			return n, since, err
		}
		track(searchable, docs)
		n += int64(len(docs))
	}
	return n, next, nil
}

// apply writes docs (index, or delete when withDeletes and the row is not
// searchable). Any item failure fails the run: a reindex never swaps in an
// index with a document missing.
func (r *Reindexer) apply(ctx context.Context, physical string, docs []Doc, version int64, withDeletes bool) (bulk.Result, error) {
	ops := make([]bulk.Op, 0, len(docs))
	for _, d := range docs {
		if d.Doc != nil || withDeletes {
			ops = append(ops, d.Op(physical, version))
		}
	}
	if len(ops) == 0 {
		return bulk.Result{}, nil
	}
	res, err := r.writer.Write(ctx, ops)
	if err != nil {
		return res, fmt.Errorf("write to %s: %w", physical, err)
	}
	if len(res.Failed) > 0 {
		f := res.Failed[0]
		return res, fmt.Errorf("write to %s: %d documents rejected, first %s/%s: %s: %s", physical, len(res.Failed), f.Op.Index, f.Op.ID, f.Type, f.Reason)
	}
	return res, nil
}

// track records which rows are searchable (nil map: not tracking).
func track(searchable map[uint64]bool, docs []Doc) {
	if searchable == nil {
		return
	}
	for _, d := range docs {
		if d.Doc != nil {
			searchable[d.ID] = true
		} else {
			delete(searchable, d.ID)
		}
	}
}

type page struct {
	Chunk
	err error
}

// prefetch reads pages after `after` in a goroutine, one page ahead.
func (r *Reindexer) prefetch(ctx context.Context, name string, after uint64, batch int) <-chan page {
	out := make(chan page, 1)
	go func() {
		defer close(out)
		for {
			c, err := r.src.Page(ctx, name, after, batch, Filter{})
			if err != nil {
				select {
				case out <- page{err: err}:
				case <-ctx.Done():
				}
				return
			}
			if c.Last == 0 {
				return
			}
			select {
			case out <- page{Chunk: c}:
			case <-ctx.Done():
				return
			}
			after = c.Last
		}
	}()
	return out
}

// indexIDs lists every document id in index (search_after over _id-equivalent id field).
func (r *Reindexer) indexIDs(ctx context.Context, index string) (map[uint64]bool, error) {
	ids := map[uint64]bool{}
	err := walk(ctx, r.es, index, false, func(hits []Hit) error {
		for _, h := range hits {
			id, err := strconv.ParseUint(h.ID, 10, 64)
			if err != nil {
				return fmt.Errorf("list ids of %s: document id %q is not a primary key", index, h.ID)
			}
			ids[id] = true
		}
		return nil
	})
	return ids, err
}
