package indexer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/soomcare/soomcare/mappings"
)

// Rollback moves an alias back to the index that was live before, without
// regressing what searches see (invariant 13):
//  1. Under the build lock of every index rolled back (so no reindex, CDC
//     snapshot or rebuild races it), each target is chosen by live history
//     (Lifecycle.RollbackTarget) and checked: finished, of this binary's
//     schema version, and retired no longer than MaxAge ago (Force lifts the
//     age limit only). One refusal moves no alias.
//  2. The target is caught up: every row changed since it stopped being live
//     (its retired_at mark; without one, since the index was created: a full
//     re-read) is written with the external version of the binlog position
//     noted before the read, as a reindex catch-up does.
//  3. Its ids and content hashes are compared with MySQL (Compare); missing,
//     extra and different documents are rewritten by id and the comparison
//     repeated, at most three times, before the alias may move. This also
//     catches what the CDC had not yet applied to the target when the alias
//     left it.
//  4. The alias moves (the index it leaves is marked as left by a rollback, so
//     the next rollback does not return to it), then one more catch-up and id
//     reconciliation, as after a reindex's swap.
// If one index of several fails, the ones already moved are moved back the
// same way (caught up and verified), so a rollback of all is all or nothing.

// ErrRollbackRefused means the rollback target is not fit to serve: half
// built, of another schema version, or older than the age limit.
var ErrRollbackRefused = errors.New("rollback refused")

// DefaultRollbackMaxAge is how long after an index stopped being live a
// rollback returns to it without Force.
const DefaultRollbackMaxAge = 7 * 24 * time.Hour

// RollbackOptions tune a rollback.
type RollbackOptions struct {
	MaxAge    time.Duration // default DefaultRollbackMaxAge
	Force     bool          // roll back to a target older than MaxAge
	BatchSize int           // rows per page of the catch-up (default 5000)
	Progress  func(phase string, done, total int64)
}

// RollbackReport says what one index's rollback did.
type RollbackReport struct {
	Index      string
	From, To   string    // the index the alias left and the one it is on
	Since      time.Time // rows changed since then were re-read
	FullReread bool      // the target had no retirement mark: re-read since its creation
	CaughtUp   int64     // documents rewritten by the catch-up rounds
	Fixed      int64     // documents rewritten after a comparison found them different
	Documents  int       // documents in the target when it was verified equal
	// Unindexable counts rows that cannot become a document: left out of
	// the target and recorded (badrows.go).
	Unindexable int64
	Took        time.Duration
}

// rollbackPlan is one index's rollback: from the live index to the target.
type rollbackPlan struct {
	name string
	from string
	to   IndexState
}

// Rollback moves the aliases of names back to the indices live before, all
// or none (see above). It returns a report per index moved.
func (r *Reindexer) Rollback(ctx context.Context, names []string, opts RollbackOptions) ([]RollbackReport, error) {
	opts = opts.withDefaults()
	for _, name := range names {
		lock, err := TryBuildLock(ctx, r.db, r.life.Alias(name))
		if err != nil {
			return nil, fmt.Errorf("rollback %s: %w", name, err)
		}
		defer lock.Release()
	}
	plans := make([]rollbackPlan, 0, len(names))
	for _, name := range names {
		p, err := r.planRollback(ctx, name, opts)
		if err != nil {
			return nil, fmt.Errorf("rollback %s: %w; no alias was moved", name, err)
		}
		plans = append(plans, p)
	}
	reps := make([]RollbackReport, 0, len(plans))
	for _, p := range plans {
		rep, moved, err := r.rollbackTo(ctx, p, true, opts)
		if moved {
			reps = append(reps, rep)
		}
		if err != nil {
			err = fmt.Errorf("rollback %s: %w", p.name, err)
			return nil, errors.Join(err, r.undoRollbacks(ctx, reps, opts))
		}
	}
	return reps, nil
}

func (o RollbackOptions) withDefaults() RollbackOptions {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultRollbackMaxAge
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.Progress == nil {
		o.Progress = func(string, int64, int64) {}
	}
	return o
}

// planRollback chooses and checks the target of name (step 1).
func (r *Reindexer) planRollback(ctx context.Context, name string, opts RollbackOptions) (rollbackPlan, error) {
	_, current, err := r.life.Physical(ctx, name)
	if err != nil {
		return rollbackPlan{}, err
	}
	if current == "" {
		return rollbackPlan{}, fmt.Errorf("alias %s does not exist: %w", r.life.Alias(name), ErrNoPrevious)
	}
	target, err := r.life.RollbackTarget(ctx, name)
	if err != nil {
		return rollbackPlan{}, err
	}
	want, err := mappings.SchemaVersion(name)
	if err != nil {
		return rollbackPlan{}, err
	}
	if err := checkTarget(target, want, time.Now(), opts); err != nil {
		return rollbackPlan{}, err
	}
	return rollbackPlan{name: name, from: current, to: target}, nil
}

// checkTarget refuses a target that cannot serve: half built, of another
// schema version than want, or retired longer than opts.MaxAge before now
// (unless opts.Force).
func checkTarget(t IndexState, want int, now time.Time, opts RollbackOptions) error {
	switch {
	case t.HalfBuilt():
		return fmt.Errorf("%w: %s is a build that never finished", ErrRollbackRefused, t.Physical)
	case t.SchemaVersion != want:
		return fmt.Errorf("%w: %s has documents of schema version %d and this binary writes %d (every later write would be refused); run 'soomcare reindex' instead, or roll back the binary",
			ErrRollbackRefused, t.Physical, t.SchemaVersion, want)
	}
	since := t.Marks.Retired
	if since.IsZero() {
		since = t.Created
	}
	if age := now.Sub(since); age > opts.MaxAge && !opts.Force {
		return fmt.Errorf("%w: %s stopped being live %s ago, longer than --max-age %s; --force rolls back anyway (it is caught up from MySQL first)",
			ErrRollbackRefused, t.Physical, age.Round(time.Minute), opts.MaxAge)
	}
	return nil
}

// rollbackTo catches p.to up, verifies it and moves the alias to it (steps
// 2–4); byRollback marks p.from as left by a rollback. moved says whether
// the alias moved.
func (r *Reindexer) rollbackTo(ctx context.Context, p rollbackPlan, byRollback bool, opts RollbackOptions) (rep RollbackReport, moved bool, err error) {
	start := time.Now()
	rep = RollbackReport{Index: p.name, From: p.from, To: p.to.Physical, Since: p.to.Marks.Retired}
	if rep.Since.IsZero() {
		rep.Since, rep.FullReread = p.to.Created.Add(-time.Minute), true
		r.logger.Warn("rollback target has no retirement mark; re-reading every row changed since it was created",
			"index", p.name, "physical", p.to.Physical, "since", rep.Since)
	}
	opts.Progress("catch-up", 0, 0)
	left := newLeftOut(&rep.Unindexable)
	n, next, err := r.catchUp(ctx, p.name, p.to.Physical, rep.Since, opts.BatchSize, nil, left)
	if err != nil {
		return rep, false, err
	}
	rep.CaughtUp = n
	opts.Progress("catch-up", n, n)
	if rep.Documents, rep.Fixed, err = r.verifyTarget(ctx, p.name, p.to.Physical, left); err != nil {
		return rep, false, fmt.Errorf("alias %s left on %s: %w", r.life.Alias(p.name), p.from, err)
	}
	if err := r.swap(ctx, p.name, p.to.Physical, byRollback); err != nil {
		return rep, false, err
	}
	var after Report
	if err := r.settleAfterSwap(ctx, p.name, p.to.Physical, next, opts.BatchSize, nil, left, &after); err != nil {
		return rep, true, fmt.Errorf("alias moved to %s, but the catch-up after the move failed (run 'soomcare verify %s'; a reindex converges it): %w", p.to.Physical, p.name, err)
	}
	rep.CaughtUp += after.CaughtUp
	rep.Fixed += after.Reconciled
	rep.Took = time.Since(start)
	return rep, true, nil
}

// verifyTarget compares physical with MySQL and rewrites what differs
// (step 3). The first comparison finds what the catch-up cannot (content
// stale without a newer updated_at: what the CDC had not applied when the
// alias left the index). A later one may still differ where rows changed
// during the comparison — churn that never stops on a busy table. Those
// differences are accepted once every one of them is a row changed since
// the previous comparison started (or a row gone): they are rewritten now,
// and the catch-up and id reconciliation after the swap cover them again.
// Any other difference after three comparisons fails with ErrVerify. It
// returns the documents and how many it rewrote.
func (r *Reindexer) verifyTarget(ctx context.Context, name, physical string, left *leftOut) (docs int, fixed int64, err error) {
	var prev time.Time // database clock before the previous comparison
	for attempt := 1; ; attempt++ {
		if err := r.life.Refresh(ctx, physical); err != nil {
			return 0, fixed, err
		}
		_, started, err := r.mark(ctx)
		if err != nil {
			return 0, fixed, err
		}
		if r.beforeCompare != nil {
			r.beforeCompare()
		}
		d, err := Compare(ctx, r.es, r.src, physical, name)
		if err != nil {
			return 0, fixed, err
		}
		if d.Equal() {
			return d.Docs, fixed, nil
		}
		ids := slices.Concat(d.Missing, d.Extra, d.Different)
		churn := false
		if attempt > 1 {
			if churn, err = r.changedSince(ctx, name, prev, ids); err != nil {
				return 0, fixed, err
			}
		}
		if !churn && attempt == 3 {
			return 0, fixed, fmt.Errorf("%w: %s", ErrVerify, d)
		}
		if err := r.rewrite(ctx, name, physical, ids, left, nil); err != nil {
			return 0, fixed, err
		}
		fixed += int64(len(ids))
		if churn {
			r.logger.Info("rollback target differs only in rows changed during its comparison; rewritten, and caught up again after the swap",
				"index", name, "physical", physical, "rows", len(ids))
			return d.Docs, fixed, nil
		}
		prev = started
	}
}

// changedSince reports whether every row of ids changed at or after since
// (its updated_at, or its author's for posts) or no longer exists.
func (r *Reindexer) changedSince(ctx context.Context, name string, since time.Time, ids []uint64) (bool, error) {
	want := map[uint64]bool{}
	for _, id := range ids {
		want[id] = true
	}
	existing, err := r.src.IDs(ctx, name)
	if err != nil {
		return false, err
	}
	for _, id := range ids { // rows gone (hard deletes)
		if _, found := slices.BinarySearch(existing, id); !found {
			delete(want, id)
		}
	}
	var after uint64
	for len(want) > 0 {
		c, err := r.src.Page(ctx, name, after, 5000, Filter{Since: since})
		if err != nil {
			return false, err
		}
		if c.Last == 0 {
			break
		}
		for _, d := range c.WithoutDocs() {
			delete(want, d.ID)
		}
		after = c.Last
	}
	return len(want) == 0, nil
}

// undoRollbacks moves the aliases of moved back to the indices they left,
// caught up and verified the same way.
func (r *Reindexer) undoRollbacks(ctx context.Context, moved []RollbackReport, opts RollbackOptions) error {
	var errs []error
	for _, m := range slices.Backward(moved) {
		states, err := r.life.States(ctx, m.Index)
		if err != nil {
			errs = append(errs, fmt.Errorf("move %s back to %s: %w", m.Index, m.From, err))
			continue
		}
		i := slices.IndexFunc(states, func(s IndexState) bool { return s.Physical == m.From })
		if i < 0 {
			errs = append(errs, fmt.Errorf("move %s back to %s: the index is gone", m.Index, m.From))
			continue
		}
		p := rollbackPlan{name: m.Index, from: m.To, to: states[i]}
		if _, _, err := r.rollbackTo(ctx, p, false, opts); err != nil {
			errs = append(errs, fmt.Errorf("move %s back to %s: %w", m.Index, m.From, err))
			continue
		}
		r.logger.Warn("rollback undone: alias moved back", "index", m.Index, "physical", m.From)
	}
	if len(errs) > 0 {
		return fmt.Errorf("the aliases already rolled back could not all be moved back: %w", errors.Join(errs...))
	}
	return nil
}
