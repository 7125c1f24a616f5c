// Package bench measures the indexing paths against the engine's own raw
// _bulk ceiling for the same documents, in the same run, so the figures are
// ratios that mean something on any machine.
package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/seed"
)

// Env is what a benchmark runs against.
type Env struct {
	DSN      string // a MySQL server (the benchmark creates and drops its own database)
	Engine   *engine.Client
	Profile  string
	ServerID uint32
	Out      io.Writer
	Logger   *slog.Logger
}

// scratch is a migrated throwaway database.
type scratch struct {
	db   *sql.DB
	dsn  string
	drop func(context.Context) error
}

// newScratch creates and migrates a scratch database with a pool of conns.
func newScratch(ctx context.Context, dsn string, conns int) (*scratch, error) {
	sdsn, drop, err := mysql.CreateScratch(ctx, dsn, "soomcare_bench")
	if err != nil {
		return nil, err
	}
	db, err := mysql.Open(ctx, sdsn, mysql.Options{MaxOpenConns: conns, MaxIdleConns: conns})
	if err != nil {
		drop(ctx)
		return nil, err
	}
	m, err := mysql.NewMigrator(db, nil)
	if err == nil {
		_, err = m.Up(ctx)
	}
	if err != nil {
		db.Close()
		drop(ctx)
		return nil, err
	}
	return &scratch{db: db, dsn: sdsn, drop: drop}, nil
}

func (s *scratch) close() {
	s.db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.drop(ctx)
}

func prefix() string { return fmt.Sprintf("bench%d", time.Now().UnixNano()%1_000_000_000) }

// cleanupIndices deletes every physical index under prefix.
func cleanupIndices(life *indexer.Lifecycle) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range mappings.Names() {
		all, _, _ := life.Physical(ctx, n)
		for _, idx := range all {
			life.Delete(ctx, idx)
		}
	}
}

// readAll builds every searchable posts document from MySQL (untimed).
func readAll(ctx context.Context, db *sql.DB, index string) ([]indexer.Op, error) {
	src := indexer.NewSource(db)
	var ops []indexer.Op
	var after uint64
	for {
		docs, last, err := src.Page(ctx, mappings.Posts, after, 5000, indexer.Filter{})
		if err != nil {
			return nil, err
		}
		if len(docs) == 0 {
			return ops, nil
		}
		for _, d := range docs {
			if d.Doc != nil {
				ops = append(ops, d.Op(index, 1))
			}
		}
		after = last
	}
}

// ceiling creates a physical posts index and times the raw _bulk of ops
// (re-targeted at it), returning docs/s. With live false the index keeps the
// bulk-load settings reindex uses (no refresh, no replicas); with live true
// it has the settings of a searchable index (refresh every second), which is
// what a streaming writer such as the CDC worker always writes into.
func ceiling(ctx context.Context, env Env, life *indexer.Lifecycle, ops []indexer.Op, live bool) (float64, time.Duration, error) {
	physical, err := life.Create(ctx, mappings.Posts, env.Profile)
	if err != nil {
		return 0, 0, err
	}
	defer life.Delete(context.Background(), physical)
	if live {
		if err := life.Finish(ctx, physical); err != nil {
			return 0, 0, err
		}
	}
	for i := range ops {
		ops[i].Index = physical
	}
	w := indexer.NewBulkWriter(env.Engine.ES, indexer.BulkOptions{}, env.Logger)
	start := time.Now()
	for i := 0; i < len(ops); i += 5000 {
		res, err := w.Write(ctx, ops[i:min(i+5000, len(ops))])
		if err != nil {
			return 0, 0, err
		}
		if len(res.Failed) > 0 {
			return 0, 0, fmt.Errorf("ceiling: %d documents rejected: %s", len(res.Failed), res.Failed[0].Reason)
		}
	}
	if err := life.Refresh(ctx, physical); err != nil {
		return 0, 0, err
	}
	took := time.Since(start)
	return float64(len(ops)) / took.Seconds(), took, nil
}

// ReindexReport is the outcome of Reindex.
type ReindexReport struct {
	Docs          int
	Ceiling       float64 // raw _bulk docs/s
	CeilingTook   time.Duration
	Reindex       float64 // soomcare reindex docs/s (read MySQL, build, write, verify, swap)
	ReindexTook   time.Duration
	Ratio         float64
	PeakRSSMiB    float64
	TargetSeconds float64
}

// Reindex seeds n posts, then times the raw _bulk ceiling of their documents
// and a full reindex of the same rows.
func Reindex(ctx context.Context, env Env, n int) (ReindexReport, error) {
	rep := ReindexReport{TargetSeconds: 60}
	s, err := newScratch(ctx, env.DSN, 16)
	if err != nil {
		return rep, err
	}
	defer s.close()
	fmt.Fprintf(env.Out, "seeding %d posts into a scratch database…\n", n)
	corpus := seed.Generate(7, seed.Sizes{Users: max(seed.MinUsers, n/50), Posts: n}, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if _, err := seed.Load(ctx, s.db, corpus, seed.LoadOptions{}); err != nil {
		return rep, err
	}
	life := indexer.NewLifecycle(env.Engine.ES, prefix())
	defer cleanupIndices(life)

	ops, err := readAll(ctx, s.db, "")
	if err != nil {
		return rep, err
	}
	rep.Docs = len(ops)
	fmt.Fprintf(env.Out, "raw _bulk ceiling: %d documents…\n", len(ops))
	if rep.Ceiling, rep.CeilingTook, err = ceiling(ctx, env, life, ops, false); err != nil {
		return rep, err
	}
	ops = nil

	fmt.Fprintf(env.Out, "soomcare reindex posts…\n")
	w := indexer.NewBulkWriter(env.Engine.ES, indexer.BulkOptions{}, env.Logger)
	r := indexer.NewReindexer(s.db, env.Engine.ES, life, w, env.Logger)
	start := time.Now()
	res, err := r.Run(ctx, mappings.Posts, indexer.ReindexOptions{Profile: env.Profile, BatchSize: 5000})
	if err != nil {
		return rep, err
	}
	rep.ReindexTook = time.Since(start)
	rep.Reindex = float64(res.Indexed) / rep.ReindexTook.Seconds()
	rep.Ratio = rep.Reindex / rep.Ceiling
	rep.PeakRSSMiB = peakRSS()
	return rep, nil
}

// Print writes the report with its targets.
func (r ReindexReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\nreindex of %d documents\n", r.Docs)
	fmt.Fprintf(w, "  raw _bulk ceiling   %9.0f docs/s  (%s)\n", r.Ceiling, r.CeilingTook.Round(time.Millisecond))
	fmt.Fprintf(w, "  soomcare reindex    %9.0f docs/s  (%s, incl. MySQL reads, catch-up, id reconcile, verify, swap)\n", r.Reindex, r.ReindexTook.Round(time.Millisecond))
	fmt.Fprintf(w, "  ratio               %9.2f        target ≥ 0.80: %s\n", r.Ratio, pass(r.Ratio >= 0.8))
	fmt.Fprintf(w, "  duration            %9.1f s      target ≤ %.0f s: %s\n", r.ReindexTook.Seconds(), r.TargetSeconds, pass(r.ReindexTook.Seconds() <= r.TargetSeconds))
	fmt.Fprintf(w, "  peak RSS (process)  %9.0f MiB\n", r.PeakRSSMiB)
}

func pass(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

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
}

// CDC streams n inserted rows through the worker, measures the raw ceiling
// of the same documents, then the end-to-end lag at a steady rate for d.
func CDC(ctx context.Context, env Env, n int, rate int, d time.Duration) (CDCReport, error) {
	rep := CDCReport{Events: n}
	s, err := newScratch(ctx, env.DSN, 16)
	if err != nil {
		return rep, err
	}
	defer s.close()
	for u := 1; u <= 20; u++ {
		if _, err := s.db.ExecContext(ctx, "INSERT INTO users (id, nickname, bio) VALUES (?, ?, '')", u, "벤치"+strconv.Itoa(u)); err != nil {
			return rep, err
		}
	}
	life := indexer.NewLifecycle(env.Engine.ES, prefix())
	defer cleanupIndices(life)

	var (
		mu       sync.Mutex
		acked    = map[string]time.Time{}
		ackCount int
	)
	onAck := func(at time.Time, ops []indexer.Op) {
		mu.Lock()
		defer mu.Unlock()
		for _, op := range ops {
			if _, ok := acked[op.ID]; !ok {
				acked[op.ID] = at
				ackCount++
			}
		}
	}
	w, err := cdc.New(cdc.Config{
		Name: "bench", DSN: s.dsn, ServerID: env.ServerID, Tables: []string{"users", "posts"},
		BatchSize: 2000, FlushInterval: 50 * time.Millisecond, HeartbeatInterval: time.Second,
		Profile: env.Profile, OnAck: onAck,
	}, s.db, env.Engine, life, indexer.NewBulkWriter(env.Engine.ES, indexer.BulkOptions{RequireAlias: true}, env.Logger), env.Logger)
	if err != nil {
		return rep, err
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	defer func() { stop(); <-done }()
	if err := waitStreaming(ctx, w, done); err != nil {
		return rep, err
	}

	// waitAcked waits until want distinct documents are acknowledged and
	// returns the latest acknowledgement time.
	waitAcked := func(want int) (time.Time, error) {
		if want <= 0 {
			return time.Now(), nil
		}
		for {
			mu.Lock()
			var last time.Time
			if ackCount >= want {
				for _, t := range acked {
					if t.After(last) {
						last = t
					}
				}
			}
			mu.Unlock()
			if !last.IsZero() {
				return last, nil
			}
			select {
			case err := <-done:
				return last, fmt.Errorf("worker stopped: %v", err)
			case <-ctx.Done():
				return last, ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}

	// Phase 0: warm-up, untimed: the engine's JIT compiles the analysis path
	// and every connection is open before anything is measured.
	rep.Warmup = min(n/5, 20000)
	fmt.Fprintf(env.Out, "cdc: warm-up, %d posts…\n", rep.Warmup)
	if err := insertPosts(ctx, s.db, 1, rep.Warmup, 1000); err != nil {
		return rep, err
	}
	if _, err := waitAcked(rep.Warmup); err != nil {
		return rep, err
	}

	// Phase 1: n row events as fast as MySQL takes them.
	fmt.Fprintf(env.Out, "cdc: inserting %d posts…\n", n)
	mu.Lock()
	acked, ackCount = map[string]time.Time{}, 0
	mu.Unlock()
	start := time.Now()
	if err := insertPosts(ctx, s.db, uint64(rep.Warmup)+1, n, 1000); err != nil {
		return rep, err
	}
	rep.InsertTook = time.Since(start)
	last, err := waitAcked(n)
	if err != nil {
		return rep, err
	}
	rep.CDCTook = last.Sub(start)
	rep.CDC = float64(n) / rep.CDCTook.Seconds()

	// Phase 2: the lag of each row at a steady rate (commit → acknowledged).
	fmt.Fprintf(env.Out, "cdc: %d events/s for %s…\n", rate, d)
	committed := map[string]time.Time{}
	mu.Lock()
	acked, ackCount = map[string]time.Time{}, 0
	mu.Unlock()
	tick := 10 * time.Millisecond
	perTick := max(1, rate*int(tick/time.Millisecond)/1000)
	next := uint64(rep.Warmup + n + 1)
	deadline := time.Now().Add(d)
	t := time.NewTicker(tick)
	for time.Now().Before(deadline) {
		<-t.C
		if err := insertPosts(ctx, s.db, next, perTick, perTick); err != nil {
			t.Stop()
			return rep, err
		}
		now := time.Now()
		for i := range perTick {
			committed[indexer.DocID(next+uint64(i))] = now
		}
		next += uint64(perTick)
	}
	t.Stop()
	rep.SteadyTotal = len(committed)
	rep.SteadyRate = float64(len(committed)) / d.Seconds()
	waitUntil := time.Now().Add(30 * time.Second)
	for time.Now().Before(waitUntil) {
		mu.Lock()
		c := ackCount
		mu.Unlock()
		if c >= len(committed) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var lags []time.Duration
	mu.Lock()
	for id, c := range committed {
		if a, ok := acked[id]; ok {
			lags = append(lags, a.Sub(c))
		}
	}
	mu.Unlock()
	slices.Sort(lags)
	rep.LagSamples = len(lags)
	if len(lags) > 0 {
		rep.LagP50 = lags[len(lags)*50/100]
		rep.LagP99 = lags[min(len(lags)-1, len(lags)*99/100)]
	}

	// Phase 3: the raw ceiling of the same documents (untimed read).
	ops, err := readAll(ctx, s.db, "")
	if err != nil {
		return rep, err
	}
	ops = ops[:min(len(ops), n)]
	fmt.Fprintf(env.Out, "raw _bulk ceiling: %d documents into a live-configured index, then with bulk-load settings…\n", len(ops))
	if rep.Ceiling, _, err = ceiling(ctx, env, life, ops, true); err != nil {
		return rep, err
	}
	if rep.BulkCeiling, _, err = ceiling(ctx, env, life, ops, false); err != nil {
		return rep, err
	}
	rep.Ratio = rep.CDC / rep.Ceiling
	rep.PeakRSSMiB = peakRSS()
	return rep, nil
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
}

// peakRSS reads VmHWM of this process (Linux), in MiB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}
