package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
)

// CDCReport is the outcome of CDC.
type CDCReport struct {
	Events      int
	Warmup      int     // row events streamed before the timed phase
	Ceiling     float64 // raw _bulk docs/s for the same documents into a live-configured index
	BulkCeiling float64 // the same into an index with bulk-load settings (refresh off)
	CDC         float64 // row events/s, first insert to acknowledgement
	CDCTook     time.Duration
	Ratio       float64
	SteadyRate  float64 // events/s offered in the lag phase
	LagP50      time.Duration
	LagP99      time.Duration
	LagSamples  int
	PeakRSSMiB  float64
	InsertTook  time.Duration
	SteadyTotal int
	Load        [2]float64 // 1-min load average before the throughput phase and after the lag phase
}

// cdcScratch is the scratch database of the CDC benches, with the 20
// users their posts belong to, and the lifecycle of their scratch indices;
// done deletes the indices, then drops the database.
func cdcScratch(ctx context.Context, env Env) (s *scratch, life *indexer.Lifecycle, done func(), err error) {
	s, err = newScratch(ctx, env.DSN, 16)
	if err != nil {
		return nil, nil, nil, err
	}
	for u := 1; u <= 20; u++ {
		if _, err := s.db.ExecContext(ctx, "INSERT INTO users (id, nickname, bio) VALUES (?, ?, '')", u, "벤치"+strconv.Itoa(u)); err != nil {
			s.close()
			return nil, nil, nil, err
		}
	}
	life = indexer.NewLifecycle(env.Engine.ES, prefix())
	return s, life, func() { cleanupIndices(life); s.close() }, nil
}

// CDC streams n inserted rows through the worker, measures the raw ceiling
// of the same documents, then the end-to-end lag at a steady rate for d.
func CDC(ctx context.Context, env Env, n int, rate int, d time.Duration) (CDCReport, error) {
	rep := CDCReport{Events: n}
	s, life, done, err := cdcScratch(ctx, env)
	if err != nil {
		return rep, err
	}
	defer done()
	r, stop, err := startCDC(ctx, env, s, life)
	if err != nil {
		return rep, err
	}
	defer stop()

	// Untimed warm-up: the engine's JIT compiles the analysis path and every
	// connection is open before anything is measured.
	rep.Warmup = min(n/5, 20000)
	fmt.Fprintf(env.Out, "cdc: warm-up, %d posts…\n", rep.Warmup)
	if err := insertPosts(ctx, s.db, 1, rep.Warmup, 1000); err != nil {
		return rep, err
	}
	if _, err := r.acks.wait(ctx, rep.Warmup, r.done); err != nil {
		return rep, err
	}
	rep.Load[0] = loadAvg()
	if err := r.throughput(ctx, &rep, n); err != nil {
		return rep, err
	}
	if err := r.steadyLag(ctx, &rep, uint64(rep.Warmup+n+1), rate, d); err != nil {
		return rep, err
	}
	rep.Load[1] = loadAvg()
	if err := r.ceilings(ctx, &rep, n); err != nil {
		return rep, err
	}
	rep.Ratio = rep.CDC / rep.Ceiling
	rep.PeakRSSMiB = peakRSS()
	return rep, nil
}

// cdcRun is a worker streaming a scratch database into life's indices.
type cdcRun struct {
	env  Env
	s    *scratch
	life *indexer.Lifecycle
	acks *ackTracker
	done <-chan error // the worker's result
}

// startCDC starts a worker on s and waits until it streams; stop ends it.
func startCDC(ctx context.Context, env Env, s *scratch, life *indexer.Lifecycle) (*cdcRun, func(), error) {
	return startCDCWith(ctx, env, s, life, 2000, 50*time.Millisecond)
}

// startCDCWith is startCDC with the worker's batch size and flush interval.
func startCDCWith(ctx context.Context, env Env, s *scratch, life *indexer.Lifecycle, batch int, flush time.Duration) (*cdcRun, func(), error) {
	acks := &ackTracker{acked: map[string]time.Time{}}
	w, err := cdc.New(cdc.Config{
		Name: "bench", DSN: s.dsn, ServerID: env.ServerID, Tables: []string{"users", "posts"},
		BatchSize: batch, FlushInterval: flush, HeartbeatInterval: time.Second,
		Profile: env.Profile, OnAck: acks.onAck,
	}, s.db, env.Engine, life, bulk.NewWriter(env.Engine.ES, bulk.Options{RequireAlias: true}, env.Logger), env.Logger)
	if err != nil {
		return nil, nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	stop := func() { cancel(); <-done }
	if err := waitStreaming(ctx, w, done); err != nil {
		stop()
		return nil, nil, err
	}
	return &cdcRun{env: env, s: s, life: life, acks: acks, done: done}, stop, nil
}

// throughput inserts n posts as fast as MySQL takes them and times first
// insert → last acknowledgement.
func (r *cdcRun) throughput(ctx context.Context, rep *CDCReport, n int) error {
	fmt.Fprintf(r.env.Out, "cdc: inserting %d posts…\n", n)
	r.acks.reset()
	start := time.Now()
	if err := insertPosts(ctx, r.s.db, uint64(rep.Warmup)+1, n, 1000); err != nil {
		return err
	}
	rep.InsertTook = time.Since(start)
	last, err := r.acks.wait(ctx, n, r.done)
	if err != nil {
		return err
	}
	rep.CDCTook = last.Sub(start)
	rep.CDC = float64(n) / rep.CDCTook.Seconds()
	return nil
}

// steadyLag offers rate inserts/s (ids from next) for d and measures each
// row's commit → acknowledgement lag.
func (r *cdcRun) steadyLag(ctx context.Context, rep *CDCReport, next uint64, rate int, d time.Duration) error {
	fmt.Fprintf(r.env.Out, "cdc: %d events/s for %s…\n", rate, d)
	r.acks.reset()
	committed := map[string]time.Time{}
	tick := 10 * time.Millisecond
	perTick := max(1, rate*int(tick/time.Millisecond)/1000)
	deadline := time.Now().Add(d)
	t := time.NewTicker(tick)
	defer t.Stop()
	for time.Now().Before(deadline) {
		<-t.C
		if err := insertPosts(ctx, r.s.db, next, perTick, perTick); err != nil {
			return err
		}
		now := time.Now()
		for i := range perTick {
			committed[indexer.DocID(next+uint64(i))] = now
		}
		next += uint64(perTick)
	}
	rep.SteadyTotal = len(committed)
	rep.SteadyRate = float64(len(committed)) / d.Seconds()
	r.acks.waitCount(len(committed), 30*time.Second)
	lags := r.acks.lags(committed)
	rep.LagSamples = len(lags)
	if len(lags) > 0 {
		rep.LagP50 = lags[len(lags)*50/100]
		rep.LagP99 = lags[min(len(lags)-1, len(lags)*99/100)]
	}
	return nil
}

// ceilings times the raw _bulk of the first n documents (read untimed) into
// a live-configured index and into one with bulk-load settings.
func (r *cdcRun) ceilings(ctx context.Context, rep *CDCReport, n int) error {
	ops, err := readAll(ctx, r.s.db, "")
	if err != nil {
		return err
	}
	ops = ops[:min(len(ops), n)]
	fmt.Fprintf(r.env.Out, "raw _bulk ceiling: %d documents into a live-configured index, then with bulk-load settings…\n", len(ops))
	if rep.Ceiling, _, err = ceiling(ctx, r.env, r.life, ops, true); err != nil {
		return err
	}
	rep.BulkCeiling, _, err = ceiling(ctx, r.env, r.life, ops, false)
	return err
}

// ackTracker records when the worker acknowledged each document first.
type ackTracker struct {
	mu    sync.Mutex
	acked map[string]time.Time
}

// onAck is the worker's cdc.Config.OnAck.
func (a *ackTracker) onAck(at time.Time, ops []bulk.Op) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, op := range ops {
		if _, ok := a.acked[op.ID]; !ok {
			a.acked[op.ID] = at
		}
	}
}

// reset forgets what was acknowledged so far.
func (a *ackTracker) reset() {
	a.mu.Lock()
	a.acked = map[string]time.Time{}
	a.mu.Unlock()
}

func (a *ackTracker) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.acked)
}

// wait waits until want distinct documents are acknowledged and returns the
// latest acknowledgement time; it fails when the worker stops or ctx ends.
func (a *ackTracker) wait(ctx context.Context, want int, done <-chan error) (time.Time, error) {
	if want <= 0 {
		return time.Now(), nil
	}
	for {
		if last := a.latest(want); !last.IsZero() {
			return last, nil
		}
		select {
		case err := <-done:
			return time.Time{}, fmt.Errorf("worker stopped: %v", err)
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// latest is the latest acknowledgement once want documents are in, else zero.
func (a *ackTracker) latest(want int) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	var last time.Time
	if len(a.acked) < want {
		return last
	}
	for _, t := range a.acked {
		if t.After(last) {
			last = t
		}
	}
	return last
}

// waitCount waits up to timeout for want acknowledgements (a shortfall shows
// in the report's sample count).
func (a *ackTracker) waitCount(want int, timeout time.Duration) {
	for until := time.Now().Add(timeout); time.Now().Before(until) && a.count() < want; {
		time.Sleep(20 * time.Millisecond)
	}
}

// lags returns commit → acknowledgement of every acknowledged document of
// committed, sorted.
func (a *ackTracker) lags(committed map[string]time.Time) []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var lags []time.Duration
	for id, c := range committed {
		if at, ok := a.acked[id]; ok {
			lags = append(lags, at.Sub(c))
		}
	}
	slices.Sort(lags)
	return lags
}

func waitStreaming(ctx context.Context, w *cdc.Worker, done <-chan error) error {
	for {
		st, err := w.Store().Load(ctx)
		if err == nil && st.Phase == cdc.PhaseStreaming {
			time.Sleep(300 * time.Millisecond) // canal connected
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("worker stopped before streaming: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// insertPosts inserts count posts with ids from first, per rows per statement.
func insertPosts(ctx context.Context, db *sql.DB, first uint64, count, per int) error {
	for done := 0; done < count; done += per {
		k := min(per, count-done)
		var b strings.Builder
		b.WriteString("INSERT INTO posts (id, user_id, category, title, body) VALUES ")
		args := make([]any, 0, k*4)
		for i := range k {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(?, ?, '자유', ?, '흡입기를 쓰고 나서 숨이 편해졌어요')")
			id := first + uint64(done+i)
			args = append(args, id, 1+id%20, "천식 일기 "+strconv.FormatUint(id, 10))
		}
		if _, err := db.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("insert posts: %w", err)
		}
	}
	return nil
}

// Print writes the report with its targets.
func (r CDCReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\ncdc of %d row events (inserted in %s, after %d untimed warm-up events)\n", r.Events, r.InsertTook.Round(time.Millisecond), r.Warmup)
	fmt.Fprintf(w, "  raw _bulk ceiling   %9.0f docs/s  into a live-configured index (refresh 1s), as the worker writes\n", r.Ceiling)
	fmt.Fprintf(w, "                      %9.0f docs/s  with bulk-load settings (refresh off), as reindex writes\n", r.BulkCeiling)
	fmt.Fprintf(w, "  cdc end to end      %9.0f events/s (%s)  target ≥ 20000: %s\n", r.CDC, r.CDCTook.Round(time.Millisecond), pass(r.CDC >= 20000))
	fmt.Fprintf(w, "  ratio to the live ceiling %5.2f   target ≥ 0.80: %s  (%.2f of the bulk-load one)\n", r.Ratio, pass(r.Ratio >= 0.8), r.CDC/max(r.BulkCeiling, 1))
	fmt.Fprintf(w, "  lag at %.0f events/s  p50 %s  p99 %s  (%d of %d rows)  target p99 ≤ 1s: %s\n",
		r.SteadyRate, r.LagP50.Round(time.Millisecond), r.LagP99.Round(time.Millisecond), r.LagSamples, r.SteadyTotal, pass(r.LagSamples == r.SteadyTotal && r.LagP99 <= time.Second))
	fmt.Fprintf(w, "  peak RSS (process)  %9.0f MiB\n", r.PeakRSSMiB)
	fmt.Fprintf(w, "  load average        %.2f before, %.2f after the measured phases (1 min)\n", r.Load[0], r.Load[1])
}
