package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mappings"
)

// Growth curves: the same measurement at several corpus sizes, each size on
// its own scratch database and indices, printed as one table with the
// machine's load average beside every point (the build machine is shared,
// so a point is only comparable with the baseline measured beside it).

// IndexSize is what one index takes on disk after a bench's indexing.
type IndexSize struct {
	Name       string // logical index (posts, contents, users)
	Docs       int64  // top-level documents (_count)
	StoreBytes int64  // primary store size (_stats)
	Segments   int64  // primary segments when measured
}

// BytesPerDoc is StoreBytes / Docs (0 without documents).
func (s IndexSize) BytesPerDoc() float64 {
	if s.Docs == 0 {
		return 0
	}
	return float64(s.StoreBytes) / float64(s.Docs)
}

// indexSizes reads the primary store size and document count of every
// logical index under life, as left by the indexing before it.
func indexSizes(ctx context.Context, es *engine.Client, life *indexer.Lifecycle) ([]IndexSize, error) {
	var out []IndexSize
	for _, name := range mappings.Names() {
		alias := life.Alias(name)
		if !life.Exists(ctx, alias) {
			continue
		}
		sz := IndexSize{Name: name}
		if err := life.Refresh(ctx, alias); err != nil {
			return out, err
		}
		n, err := life.Count(ctx, alias)
		if err != nil {
			return out, err
		}
		sz.Docs = n
		var st struct {
			All struct {
				Primaries struct {
					Store struct {
						SizeInBytes int64 `json:"size_in_bytes"`
					} `json:"store"`
					Segments struct{ Count int64 } `json:"segments"`
				} `json:"primaries"`
			} `json:"_all"`
		}
		if err := es.IndexStats(ctx, []string{alias}, []string{"store", "segments"}, nil, &st); err != nil {
			return out, err
		}
		sz.StoreBytes, sz.Segments = st.All.Primaries.Store.SizeInBytes, st.All.Primaries.Segments.Count
		out = append(out, sz)
	}
	return out, nil
}

// printSizes writes one line per index: documents, store, bytes per document.
func printSizes(w io.Writer, sizes []IndexSize) {
	for _, s := range sizes {
		fmt.Fprintf(w, "  index %-9s %9d docs  %8.1f MiB primary store  %6.0f bytes/doc  (%d segments)\n",
			s.Name, s.Docs, float64(s.StoreBytes)/(1<<20), s.BytesPerDoc(), s.Segments)
	}
}

// loadAvg is the 1-minute load average of the machine (Linux), for the
// record beside each figure; 0 where it cannot be read.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscan(strings.Fields(string(b) + " 0")[0], &l)
	return l
}

// SearchPoint is one size of a search growth curve.
type SearchPoint struct {
	Docs   int
	API    APIVariant  // the API as configured (Go's default GOGC unless set)
	Tuned  *APIVariant // with SearchCurve's gcPercent, when asked for
	Direct LoadResult
	// Both loads at once, interleaved in one load process (rate/2 each,
	// --duration): the machine's drift and neighbours weigh on both alike.
	Together       APIVariant
	TogetherDirect LoadResult
	Sizes          []IndexSize
	Tables         []TableSize
	LoadBefore     float64 // 1-minute load average when the load began …
	LoadAfter      float64 // … and when it ended
}

// APIVariant is the API's side of a point: the load generator's latencies
// and, inside the API process (warm-ups included), the access-log span of
// each request, each engine call, and the garbage collections meanwhile.
type APIVariant struct {
	GCPercent          int // 0: the process's setting as started
	API                LoadResult
	Server, EngineCall LoadResult
	GCs                uint32
	GCPause            time.Duration // stop-the-world total
	Seconds            float64       // wall time of its blocks, warm-ups included
}

// SearchCurveReport is the outcome of SearchCurve.
type SearchCurveReport struct {
	Rate      float64
	GCPercent int
	Points    []SearchPoint
}

// SearchCurve measures Search's API and direct latencies (ABBA blocks) at
// each size in sizes, each on a fresh scratch database and fresh indices,
// and the index sizes after each indexing. With gcPercent > 0 the API is
// also measured with that GOGC (debug.SetGCPercent in this process, which
// serves the API), in blocks A, A′, D, D, A′, A.
func SearchCurve(ctx context.Context, env Env, o CurveOptions, load LoadFunc) (SearchCurveReport, error) {
	rep := SearchCurveReport{Rate: o.Rate, GCPercent: o.GCPercent}
	for _, n := range o.Sizes {
		fmt.Fprintf(env.Out, "curve point: %d documents\n", n)
		p, err := searchPoint(ctx, env, n, o, load)
		o.APIProfile = nil // one profile, of the first point
		if err != nil {
			return rep, fmt.Errorf("%d documents: %w", n, err)
		}
		rep.Points = append(rep.Points, p)
	}
	return rep, nil
}

// CurveOptions are SearchCurve's.
type CurveOptions struct {
	Sizes     []int
	Rate      float64
	Duration  time.Duration
	GCPercent int // > 0: also measure the API with this GOGC
	// APIProfile, when set, receives a CPU profile of this process from
	// the first API block of the first point to the end of its blocks
	// (during the direct blocks the process only waits).
	APIProfile io.Writer
}

// searchPoint is one point of SearchCurve.
func searchPoint(ctx context.Context, env Env, docs int, o CurveOptions, load LoadFunc) (SearchPoint, error) {
	var p SearchPoint
	s, err := searchScratch(ctx, env, docs)
	if err != nil {
		return p, err
	}
	defer s.close()
	if p.Tables, err = tableSizes(ctx, s.db, "posts", "contents", "users", "comments", "post_likes"); err != nil {
		return p, err
	}
	pfx := prefix()
	life := indexer.NewLifecycle(env.Engine.ES, pfx)
	defer cleanupIndices(life)
	if p.Docs, err = indexSearch(ctx, env, s, life); err != nil {
		return p, err
	}
	if p.Sizes, err = indexSizes(ctx, env.Engine, life); err != nil {
		return p, err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	sp := &spans{}
	senv := env
	senv.Engine = timedEngine(env.Engine, sp)
	senv.Logger = slog.New(spanLog{next: env.Logger.Handler(), sp: sp})
	srv, err := serveSearch(sctx, senv, pfx, false)
	if err != nil {
		return p, err
	}
	reqs, err := searchRequests(env, life, srv)
	if err != nil {
		return p, err
	}
	if err := warmCold(ctx, env, life); err != nil {
		return p, err
	}
	if o.APIProfile != nil {
		if err := pprof.StartCPUProfile(o.APIProfile); err != nil {
			return p, fmt.Errorf("API profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	p.LoadBefore = loadAvg()
	err = curveBlocks(ctx, env.Out, load, o.Rate, o.Duration, reqs, sp, o.GCPercent, &p)
	p.LoadAfter = loadAvg()
	return p, err
}

// curveBlocks runs A D D A (A′ beside each A with gcPercent) and fills p.
func curveBlocks(ctx context.Context, out io.Writer, load LoadFunc, rate float64, dur time.Duration, reqs searchReqs, sp *spans, gcPercent int, p *SearchPoint) error {
	order := []int{0, -1, -1, 0} // a GOGC for the API (0: as started), -1 for direct
	if gcPercent > 0 {
		order = []int{0, gcPercent, -1, -1, gcPercent, 0}
		p.Tuned = &APIVariant{GCPercent: gcPercent}
	}
	var direct []LoadResult
	apiRuns := map[int]*[]LoadResult{}
	for i, gc := range order {
		if gc < 0 {
			fmt.Fprintf(out, "load %d/%d: %.0f req/s for %s straight to the engine…\n", i+1, len(order), rate, dur/2)
			r, err := load(ctx, LoadSpec{Requests: reqs.direct, Rate: rate, Duration: JSONDuration(dur / 2), Warmup: searchWarmup})
			if err != nil {
				return err
			}
			direct = append(direct, r)
			continue
		}
		v := &p.API
		if gc > 0 {
			v = p.Tuned
		}
		fmt.Fprintf(out, "load %d/%d: %.0f req/s for %s through the API (GOGC %s)…\n", i+1, len(order), rate, dur/2, gcName(gc))
		if err := apiBlock(ctx, load, LoadSpec{Requests: reqs.api, Rate: rate, Duration: JSONDuration(dur / 2), Warmup: searchWarmup}, sp, gc, v, apiRuns); err != nil {
			return err
		}
	}
	p.Direct = MergeLoads(direct...)
	return together(ctx, out, load, rate, dur, reqs, sp, p)
}

// together loads the API and the engine directly at the same time: one
// load process, the two kinds interleaved (API, direct, direct, API, …) at
// rate in total, summarised per group, so both meet the same moments of the
// machine and the same schedule of the load generator. The direct side
// starts half way through the queries, so the two never send one query at
// the same moment (the second would meet the first's caches or queue
// behind it).
func together(ctx context.Context, out io.Writer, load LoadFunc, rate float64, dur time.Duration, reqs searchReqs, sp *spans, p *SearchPoint) error {
	fmt.Fprintf(out, "load together: %.0f req/s each for %s through the API and straight to the engine, interleaved…\n", rate/2, dur)
	half := len(reqs.direct) / 2
	var mixed []Request
	for i, a := range reqs.api {
		d := reqs.direct[(i+half)%len(reqs.direct)]
		a.Group, d.Group = "api", "direct"
		if i%2 == 0 {
			mixed = append(mixed, a, d)
		} else {
			mixed = append(mixed, d, a)
		}
	}
	runs := map[int]*[]LoadResult{}
	err := apiBlock(ctx, load, LoadSpec{Requests: mixed, Rate: rate, Duration: JSONDuration(dur), Warmup: searchWarmup}, sp, 0, &p.Together, runs)
	if err != nil {
		return err
	}
	r := (*runs[0])[0]
	p.Together.API, p.TogetherDirect = r.Groups["api"], r.Groups["direct"]
	return nil
}

func gcName(gc int) string {
	switch gc {
	case 0:
		return "as started"
	case -1:
		return "together"
	}
	return strconv.Itoa(gc)
}

// apiBlock runs one API block with GOGC gc (0: unchanged) and adds its
// latencies, spans and collections to v.
func apiBlock(ctx context.Context, load LoadFunc, spec LoadSpec, sp *spans, gc int, v *APIVariant, runs map[int]*[]LoadResult) error {
	if gc > 0 {
		old := debug.SetGCPercent(gc)
		defer debug.SetGCPercent(old)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sp.resume(v)
	t0 := time.Now()
	r, err := load(ctx, spec)
	v.Seconds += time.Since(t0).Seconds()
	sp.pause(v)
	runtime.ReadMemStats(&after)
	if err != nil {
		return err
	}
	v.GCs += after.NumGC - before.NumGC
	v.GCPause += time.Duration(after.PauseTotalNs - before.PauseTotalNs)
	if runs[gc] == nil {
		runs[gc] = &[]LoadResult{}
	}
	*runs[gc] = append(*runs[gc], r)
	v.API = MergeLoads(*runs[gc]...)
	return nil
}

// ratio is a / b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// Print writes the curve as a table, where the API's time goes, then the
// index sizes of every point.
func (r SearchCurveReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\nsearch growth curve at %.0f req/s (load from a second process, loopback; ABBA blocks per point, then both at once at half the rate each: \"together\")\n", r.Rate)
	fmt.Fprintf(w, "  %9s %-10s  %8s %8s  %8s %8s  %9s %9s  %7s %7s  %s\n",
		"docs", "API GOGC", "API p50", "API p99", "dir p50", "dir p99", "p50 ratio", "p99 ratio", "errors", "sent", "load 1m before→after")
	row := func(p SearchPoint, v APIVariant) {
		fmt.Fprintf(w, "  %9d %-10s  %8.1f %8.1f  %8.1f %8.1f  %9.2f %9.2f  %7d %7d  %.1f→%.1f\n",
			p.Docs, gcName(v.GCPercent), v.API.P50, v.API.P99, p.Direct.P50, p.Direct.P99, ratio(v.API.P50, p.Direct.P50), ratio(v.API.P99, p.Direct.P99),
			v.API.Errors+p.Direct.Errors, v.API.Sent+p.Direct.Sent, p.LoadBefore, p.LoadAfter)
	}
	for _, p := range r.Points {
		row(p, p.API)
		if p.Tuned != nil {
			row(p, *p.Tuned)
		}
		t := p
		t.Direct = p.TogetherDirect
		t.Together.GCPercent = -1
		row(t, t.Together)
	}
	fmt.Fprintf(w, "  (latencies in ms; targets: API p50 ≤ 1.15 × direct, API p99 ≤ 1.3 × direct)\n")
	fmt.Fprintf(w, " where the API's time goes (inside the API process over its blocks, warm-ups included; ms):\n")
	fmt.Fprintf(w, "  %9s %-10s  %-22s %-22s %-22s %-22s  %s\n", "docs", "API GOGC", "load generator (API)", "server span", "engine call", "load generator (dir)", "GC cycles")
	pp := func(l LoadResult) string { return fmt.Sprintf("p50 %5.1f p99 %6.1f", l.P50, l.P99) }
	for _, p := range r.Points {
		for _, v := range []*APIVariant{&p.API, p.Tuned, &p.Together} {
			if v == nil {
				continue
			}
			d := p.Direct
			if v == &p.Together {
				d = p.TogetherDirect
			}
			fmt.Fprintf(w, "  %9d %-10s  %-22s %-22s %-22s %-22s  %d (%.1f/s, pauses %s)\n", p.Docs, gcName(v.GCPercent), pp(v.API), pp(v.Server), pp(v.EngineCall), pp(d),
				v.GCs, ratio(float64(v.GCs), v.Seconds), v.GCPause.Round(10*time.Microsecond))
		}
	}
	for _, p := range r.Points {
		fmt.Fprintf(w, " after indexing %d documents:\n", p.Docs)
		printSizes(w, p.Sizes)
		for _, t := range p.Tables {
			fmt.Fprintf(w, "  table %-10s %9d rows  %8.1f MiB data+indexes  %6.0f bytes/row (InnoDB pages)\n",
				t.Name, t.Rows, float64(t.Bytes)/(1<<20), ratio(float64(t.Bytes), float64(t.Rows)))
		}
	}
}

// TableSize is a MySQL table's rows and InnoDB data + index bytes.
type TableSize struct {
	Name  string
	Rows  int64
	Bytes int64
}

// tableSizes analyzes and measures tables of db's current schema.
func tableSizes(ctx context.Context, db *sql.DB, tables ...string) ([]TableSize, error) {
	var out []TableSize
	for _, t := range tables {
		if _, err := db.ExecContext(ctx, "ANALYZE TABLE "+t); err != nil { // refreshes the page counts below
			return out, fmt.Errorf("analyze %s: %w", t, err)
		}
		ts := TableSize{Name: t}
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&ts.Rows); err != nil {
			return out, fmt.Errorf("count %s: %w", t, err)
		}
		err := db.QueryRowContext(ctx, `SELECT data_length + index_length FROM information_schema.tables
			WHERE table_schema = DATABASE() AND table_name = ?`, t).Scan(&ts.Bytes)
		if err != nil {
			return out, fmt.Errorf("size of %s: %w", t, err)
		}
		out = append(out, ts)
	}
	return out, nil
}

// ReindexCurveReport is the outcome of ReindexCurve.
type ReindexCurveReport struct{ Points []ReindexReport }

// ReindexCurve runs Reindex at each size, each on its own scratch database.
func ReindexCurve(ctx context.Context, env Env, sizes []int) (ReindexCurveReport, error) {
	var rep ReindexCurveReport
	for _, n := range sizes {
		fmt.Fprintf(env.Out, "curve point: %d posts\n", n)
		p, err := Reindex(ctx, env, n)
		if err != nil {
			return rep, fmt.Errorf("%d posts: %w", n, err)
		}
		rep.Points = append(rep.Points, p)
	}
	return rep, nil
}

// Print writes the curve as a table, then the index size of every point.
func (r ReindexCurveReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\nreindex growth curve (posts; each size on its own database)\n")
	fmt.Fprintf(w, "  %9s  %12s %9s  %12s %9s  %6s  %8s  %s\n", "docs", "ceiling/s", "took", "reindex/s", "took", "ratio", "RSS MiB", "load 1m")
	for _, p := range r.Points {
		fmt.Fprintf(w, "  %9d  %12.0f %9s  %12.0f %9s  %6.2f  %8.0f  %.1f\n", p.Docs, p.Ceiling, p.CeilingTook.Round(100*time.Millisecond),
			p.Reindex, p.ReindexTook.Round(100*time.Millisecond), p.Ratio, p.PeakRSSMiB, p.Load)
	}
	fmt.Fprintf(w, "  (targets: ratio ≥ 0.80; ≤ 60 s per 100k documents)\n")
	for _, p := range r.Points {
		fmt.Fprintf(w, " after reindexing %d documents:\n", p.Docs)
		printSizes(w, p.Sizes)
	}
}
