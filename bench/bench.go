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
	"strconv"
	"strings"
	"time"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
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

// Report is what a benchmark returns: its figures, printed with their
// targets by Print.
type Report interface{ Print(w io.Writer) }

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
func readAll(ctx context.Context, db *sql.DB, index string) ([]bulk.Op, error) {
	var ops []bulk.Op
	for c, err := range indexer.NewSource(db).Pages(ctx, mappings.Posts, 5000, indexer.Filter{}) {
		if err != nil {
			return nil, err
		}
		for _, d := range c.Docs {
			if d.Doc != nil {
				ops = append(ops, d.Op(index, 1))
			}
		}
	}
	return ops, nil
}

// ceiling creates a physical posts index and times the raw _bulk of ops
// (re-targeted at it), returning docs/s. With live false the index keeps the
// bulk-load settings reindex uses (no refresh, no replicas); with live true
// it has the settings of a searchable index (refresh every second), which is
// what a streaming writer such as the CDC worker always writes into.
func ceiling(ctx context.Context, env Env, life *indexer.Lifecycle, ops []bulk.Op, live bool) (float64, time.Duration, error) {
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
	w := bulk.NewWriter(env.Engine.ES, bulk.Options{}, env.Logger)
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
	Sizes         []IndexSize // the reindexed index (curve.go)
	Load          float64     // 1-minute load average when the reindex began
}

// Reindex seeds n posts, then times the raw _bulk ceiling of their documents
// and a full reindex of the same rows.
func Reindex(ctx context.Context, env Env, n int) (ReindexReport, error) {
	rep := ReindexReport{TargetSeconds: 60 * max(1, float64(n)/100_000)} // ≤ 60 s per 100k documents
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
	w := bulk.NewWriter(env.Engine.ES, bulk.Options{}, env.Logger)
	r := indexer.NewReindexer(s.db, env.Engine.ES, life, w, env.Logger)
	rep.Load = loadAvg()
	start := time.Now()
	res, err := r.Run(ctx, mappings.Posts, indexer.ReindexOptions{Profile: env.Profile, BatchSize: 5000})
	if err != nil {
		return rep, err
	}
	rep.ReindexTook = time.Since(start)
	if rep.Sizes, err = indexSizes(ctx, env.Engine, life); err != nil {
		return rep, err
	}
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
	fmt.Fprintf(w, "  load average        %9.2f        (1 min, as the reindex began; compare runs only at a like load)\n", r.Load)
	printSizes(w, r.Sizes)
}

func pass(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
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
