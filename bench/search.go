package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/ecslog"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/insights"
	"github.com/soomcare/soomcare/internal/tick"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/seed"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/telemetry"
)

// LoadFunc runs a load spec in another process and returns its summary.
type LoadFunc func(ctx context.Context, spec LoadSpec) (LoadResult, error)

// SearchReport is the outcome of Search.
type SearchReport struct {
	Docs       int
	Rate       float64
	Load       [2]float64 // 1-min load average before and after the API/direct blocks
	API        LoadResult
	Direct     LoadResult
	APIMetrics LoadResult // Paired.Metrics: the API with the metrics middleware and request logging on, …
	APIPaired  LoadResult // … and with both off, loaded at the same time (rate/2 each)
	// Paired.Insights: the API with search insights on (recorder and
	// popular-query blend), and without, loaded at the same time.
	APIInsights    LoadResult
	APIInsightsOff LoadResult
}

// Paired names the on/off comparisons of Search, each a paired phase after
// the ABBA blocks: a second API server with the feature on, loaded at the
// same time as the plain one (rate/2 each).
type Paired struct {
	// Metrics: the metrics middleware (telemetry.HTTP, its registry gathered
	// every 5 s) and the request log (an ECS JSON line per request at info,
	// written to a file as serve's stdout is in production), against a
	// server with neither (access lines below its level).
	Metrics  bool
	Insights bool // search insights: the recorder writing to a scratch data stream, the popular blend
}

// Search indexes ~docs documents, serves the API on loopback, and offers the
// same queries at rate to the API and straight to the engine (the requests the
// API would send: same bodies, same filter_path), from a second process.
// Each comparison of paired adds a second API server with the feature on and
// a paired phase: both servers loaded at once, rate/2 each, for dur.
func Search(ctx context.Context, env Env, docs int, rate float64, dur time.Duration, load LoadFunc, paired Paired) (SearchReport, error) {
	rep := SearchReport{Rate: rate}
	s, err := searchScratch(ctx, env, docs)
	if err != nil {
		return rep, err
	}
	defer s.close()
	pfx := prefix()
	life := indexer.NewLifecycle(env.Engine.ES, pfx)
	defer cleanupIndices(life)
	rep.Docs, err = indexSearch(ctx, env, s, life)
	if err != nil {
		return rep, err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	srv, err := serveSearch(sctx, env, pfx, paired.Metrics)
	if err != nil {
		return rep, err
	}
	reqs, err := searchRequests(env, life, srv)
	if err != nil {
		return rep, err
	}
	if paired.Insights {
		stop, err := serveInsights(sctx, env, pfx, &reqs)
		if err != nil {
			return rep, err
		}
		defer stop()
	}
	if err := warmCold(ctx, env, life); err != nil {
		return rep, err
	}
	rep.Load[0] = loadAvg()
	if rep.API, rep.Direct, err = loadABBA(ctx, env.Out, load, rate, dur, reqs); err != nil {
		return rep, err
	}
	rep.Load[1] = loadAvg()
	if paired.Metrics {
		if rep.APIPaired, rep.APIMetrics, err = loadPaired(ctx, env.Out, load, rate, dur, "metrics and request logging", reqs.quiet, reqs.metrics); err != nil {
			return rep, err
		}
	}
	if paired.Insights {
		rep.APIInsightsOff, rep.APIInsights, err = loadPaired(ctx, env.Out, load, rate, dur, "search insights", reqs.api, reqs.insights)
	}
	return rep, err
}

// searchWarmup precedes every measured load of Search.
const searchWarmup = JSONDuration(3 * time.Second)

// searchScratch is the scratch database of the search benches, loaded with
// ~docs posts and contents (one in 20).
func searchScratch(ctx context.Context, env Env, docs int) (*scratch, error) {
	s, err := newScratch(ctx, env.DSN, 16)
	if err != nil {
		return nil, err
	}
	contents := docs / 20
	fmt.Fprintf(env.Out, "seeding %d posts and %d contents…\n", docs-contents, contents)
	corpus := seed.Generate(11, seed.Sizes{Users: max(seed.MinUsers, docs/50), Contents: contents, Posts: docs - contents}, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if _, err := seed.Load(ctx, s.db, corpus, seed.LoadOptions{}); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// indexSearch reindexes every index under life and returns the documents
// indexed, users excepted.
func indexSearch(ctx context.Context, env Env, s *scratch, life *indexer.Lifecycle) (int, error) {
	r := indexer.NewReindexer(s.db, env.Engine.ES, life, bulk.NewWriter(env.Engine.ES, bulk.Options{}, env.Logger), env.Logger)
	n := 0
	for _, name := range mappings.Names() {
		fmt.Fprintf(env.Out, "indexing %s…\n", name)
		res, err := r.Run(ctx, name, indexer.ReindexOptions{Profile: env.Profile, BatchSize: 2000})
		if err != nil {
			return n, err
		}
		if name != mappings.Users {
			n += int(res.Indexed)
		}
	}
	return n, settleMerges(ctx, env.Out, env.Engine, life)
}

// settleMerges waits (at most 10 minutes) until no merge runs on the indices
// under life, so that merges left by the load do not fall into the first
// block only. (After the 1M-document load of 2026-12-01 it waited 3 s: the
// slow first searches there were the cold index, see warmCold.)
func settleMerges(ctx context.Context, out io.Writer, es *engine.Client, life *indexer.Lifecycle) error {
	var aliases []string
	for _, name := range mappings.Names() {
		aliases = append(aliases, life.Alias(name))
	}
	start := time.Now()
	for quiet := 0; quiet < 3; {
		running, err := mergesRunning(ctx, es, aliases)
		if err != nil {
			return err
		}
		quiet++
		if running > 0 {
			quiet = 0
		}
		if time.Since(start) > 10*time.Minute {
			fmt.Fprintf(out, "merges still running after 10 min; measuring anyway\n")
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	fmt.Fprintf(out, "no merge running (waited %s)\n", time.Since(start).Round(time.Second))
	return nil
}

// mergesRunning counts the merges running now on indices (primaries and copies).
func mergesRunning(ctx context.Context, es *engine.Client, indices []string) (int64, error) {
	var st struct {
		All struct {
			Total struct {
				Merges struct{ Current int64 } `json:"merges"`
			} `json:"total"`
		} `json:"_all"`
	}
	if err := es.IndexStats(ctx, indices, []string{"merge"}, nil, &st); err != nil {
		return 0, err
	}
	return st.All.Total.Merges.Current, nil
}

// searchServers are the API servers of Search: main logs through the
// command's logger; with Paired.Metrics, quiet has no metrics and drops
// access lines, observed has the metrics middleware and logs every request.
type searchServers struct{ main, quiet, observed net.Addr }

// serveSearch serves the search API over the indices under pfx on loopback
// until ctx ends; with withMetrics also the quiet and observed servers, the
// observed one's registry gathered every 5 s and its ECS JSON lines written
// to a temporary file (removed when ctx ends).
func serveSearch(ctx context.Context, env Env, pfx string, withMetrics bool) (srv searchServers, err error) {
	api := searchapi.New(env.Engine.ES, searchapi.Options{IndexPrefix: pfx, Timeout: 2 * time.Second, Logger: env.Logger})
	listen := func(log *slog.Logger, opts server.Options) (net.Addr, error) {
		s := server.NewWith(config.HTTP{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20},
			log, nil, opts, api.Mount)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		go s.Run(ctx, ln)
		return ln.Addr(), nil
	}
	if srv.main, err = listen(env.Logger, server.Options{}); err != nil || !withMetrics {
		return srv, err
	}
	f, err := os.CreateTemp("", "soomcare-bench-requests-*.json")
	if err != nil {
		return srv, err
	}
	go func() {
		<-ctx.Done()
		f.Close()
		os.Remove(f.Name())
	}()
	quiet := ecslog.New(f, ecslog.Options{Format: ecslog.FormatJSON, Level: slog.LevelWarn, Service: "soomcare-api"})
	if srv.quiet, err = listen(quiet, server.Options{}); err != nil {
		return srv, err
	}
	logged := ecslog.New(f, ecslog.Options{Format: ecslog.FormatJSON, Level: slog.LevelInfo, Service: "soomcare-api"})
	reg := telemetry.NewRegistry()
	if srv.observed, err = listen(logged, server.Options{Metrics: telemetry.NewHTTP(reg)}); err != nil {
		return srv, err
	}
	go scrapeEvery(ctx, reg, 5*time.Second)
	return srv, nil
}

// searchReqs are the requests of Search: through the API, through the
// quiet and the observed API (empty without Paired.Metrics), and straight to
// the engine.
type searchReqs struct {
	api, quiet, metrics, direct []Request
	insights                    []Request // the API with search insights on (serveInsights)
}

// searchRequests builds every benchQuery against posts and contents for
// each target; direct requests carry the bodies and filter_path the API sends.
func searchRequests(env Env, life *indexer.Lifecycle, srv searchServers) (searchReqs, error) {
	engineURL := strings.TrimRight(env.Engine.Addresses[0], "/")
	var reqs searchReqs
	for _, q := range searchapi.CommonQueries {
		for _, kind := range []string{mappings.Posts, mappings.Contents} {
			v := url.Values{"q": {q}}
			get := func(addr net.Addr) Request {
				return Request{Method: "GET", URL: fmt.Sprintf("http://%s/v1/%s/search?%s", addr, kind, v.Encode())}
			}
			reqs.api = append(reqs.api, get(srv.main))
			if srv.observed != nil {
				reqs.quiet = append(reqs.quiet, get(srv.quiet))
				reqs.metrics = append(reqs.metrics, get(srv.observed))
			}
			p, err := searchapi.ParseSearch(kind, v)
			if err != nil {
				return reqs, fmt.Errorf("query %q: %w", q, err)
			}
			body, _ := json.Marshal(searchapi.SearchBody(p))
			reqs.direct = append(reqs.direct, Request{Method: "POST", URL: engineURL + "/" + life.Alias(kind) + "/_search?filter_path=" + url.QueryEscape(searchapi.FilterPath()), Body: body})
		}
	}
	return reqs, nil
}

// loadABBA runs ABBA blocks (API, direct, direct, API), each half the
// duration after its own warm-up: whatever drifts during the run (merges
// after the bulk load, caches, JIT) weighs on both sides alike.
func loadABBA(ctx context.Context, out io.Writer, load LoadFunc, rate float64, dur time.Duration, reqs searchReqs) (api, direct LoadResult, err error) {
	var apiRuns, directRuns []LoadResult
	for i, viaAPI := range []bool{true, false, false, true} {
		rs, runs, what := reqs.api, &apiRuns, "through the API"
		if !viaAPI {
			rs, runs, what = reqs.direct, &directRuns, "straight to the engine"
		}
		fmt.Fprintf(out, "load %d/4: %.0f req/s for %s %s…\n", i+1, rate, dur/2, what)
		r, err := load(ctx, LoadSpec{Requests: rs, Rate: rate, Duration: JSONDuration(dur / 2), Warmup: searchWarmup})
		if err != nil {
			return LoadResult{}, LoadResult{}, err
		}
		*runs = append(*runs, r)
	}
	return MergeLoads(apiRuns...), MergeLoads(directRuns...), nil
}

// loadPaired loads both API servers in one load at rate: their requests
// interleaved off, on, on, off, … (each side first half of the time), on the
// other half of the queries at each moment (the second of two identical
// queries would meet the first's caches), one server's latencies against the
// other's in the same seconds. Two loads started side by side were not
// comparable: their fixed schedules put one's requests right behind the
// other's at the engine, a bias of up to 20 % either way from run to run.
func loadPaired(ctx context.Context, out io.Writer, load LoadFunc, rate float64, dur time.Duration, what string, offReqs, onReqs []Request) (off, on LoadResult, err error) {
	fmt.Fprintf(out, "load paired: %.0f req/s each for %s through the API with %s off and on, interleaved…\n", rate/2, dur, what)
	res, err := load(ctx, LoadSpec{Requests: interleave(offReqs, onReqs), Rate: rate, Duration: JSONDuration(dur), Warmup: searchWarmup})
	if err != nil {
		return off, on, err
	}
	return res.Groups["off"], res.Groups["on"], nil
}

// interleave tags off and on requests and orders them off, on, on, off, …,
// the on side shifted by half the list.
func interleave(offReqs, onReqs []Request) []Request {
	n := min(len(offReqs), len(onReqs))
	out := make([]Request, 0, 2*n)
	for k := range n {
		a, b := offReqs[k], onReqs[(k+n/2)%n]
		a.Group, b.Group = "off", "on"
		if k%2 == 1 {
			a, b = b, a
		}
		out = append(out, a, b)
	}
	return out
}

// scrapeEvery gathers reg like a Prometheus scrape until ctx ends.
func scrapeEvery(ctx context.Context, reg *prometheus.Registry, every time.Duration) {
	tick.Every(ctx, every, func() { _, _ = reg.Gather() })
}

// Print writes the report with its targets.
func (r SearchReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\nsearch over %d documents at %.0f req/s (load from a second process, loopback)\n", r.Docs, r.Rate)
	row := func(name string, l LoadResult) {
		fmt.Fprintf(w, "  %-16s p50 %6.1f ms  p90 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d sent, %d errors, %.0f req/s)\n",
			name, l.P50, l.P90, l.P99, l.Max, l.Sent, l.Errors, l.Achieved)
	}
	row("API", r.API)
	row("engine directly", r.Direct)
	ratio := 0.0
	if r.Direct.P50 > 0 {
		ratio = r.API.P50 / r.Direct.P50
	}
	fmt.Fprintf(w, "  API p50 / direct p50  %.2f   target ≤ 1.15: %s\n", ratio, pass(ratio > 0 && ratio <= 1.15))
	fmt.Fprintf(w, "  API p99               %.1f ms target ≤ 50 ms: %s\n", r.API.P99, pass(r.API.Sent > 0 && r.API.P99 <= 50))
	paired := func(what string, off, on LoadResult) {
		if on.Sent == 0 {
			return
		}
		fmt.Fprintf(w, "  paired, both at %.0f req/s at once:\n", r.Rate/2)
		row("API "+what+" off", off)
		row("API "+what+" on", on)
		over := 0.0
		if off.P50 > 0 {
			over = on.P50 / off.P50
		}
		fmt.Fprintf(w, "  %s on / off p50  %.3f  target ≤ 1.03: %s\n", what, over, pass(over > 0 && over <= 1.03))
	}
	paired("obs.", r.APIPaired, r.APIMetrics) // metrics and the request log
	paired("insights", r.APIInsightsOff, r.APIInsights)
	if r.API.Errors+r.Direct.Errors > 0 {
		fmt.Fprintf(w, "  errors: %d through the API, %d direct\n", r.API.Errors, r.Direct.Errors)
	}
	fmt.Fprintf(w, "  load average          %.2f before, %.2f after the API/direct blocks (1 min)\n", r.Load[0], r.Load[1])
}

// serveInsights serves a third API server with search insights on: the
// recorder writing to a scratch data stream <pfx>-insights (set up here,
// deleted by stop) and a popular list refreshed from it every 5 s. Its
// requests (the API's, to its address) go into reqs.insights.
func serveInsights(ctx context.Context, env Env, pfx string, reqs *searchReqs) (stop func(), err error) {
	cfg := config.Insights{Lifecycle: config.Lifecycle{DataStream: pfx + "-insights", Retention: "1d", RolloverSize: "1gb", RolloverAge: "1d"}}
	if _, err := insights.Setup(ctx, env.Engine, cfg); err != nil {
		return nil, fmt.Errorf("insights setup: %w", err)
	}
	ictx, cancel := context.WithCancel(ctx)
	rec := insights.NewRecorder(env.Engine.ES, insights.NewMetrics(prometheus.NewRegistry()), insights.Options{DataStream: cfg.DataStream, FlushInterval: 2 * time.Second})
	popular, reader := insights.NewPopular(), insights.NewReader(env.Engine.ES, cfg.DataStream)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); rec.Run(ictx) }()
	go func() {
		defer wg.Done()
		popular.Refresh(ictx, reader, insights.RefreshOptions{Every: 5 * time.Second, Window: time.Hour, MinCount: 5})
	}()
	api := searchapi.New(env.Engine.ES, searchapi.Options{IndexPrefix: pfx, Timeout: 2 * time.Second, Logger: env.Logger, Recorder: rec, Popular: popular})
	srv := server.NewWith(config.HTTP{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20},
		env.Logger, nil, server.Options{}, api.Mount)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, err
	}
	go srv.Run(ictx, ln)
	for _, r := range reqs.api {
		u, _ := url.Parse(r.URL)
		u.Host = ln.Addr().String()
		reqs.insights = append(reqs.insights, Request{Method: r.Method, URL: u.String()})
	}
	return func() {
		cancel()
		wg.Wait()
		for _, p := range []string{"/_data_stream/" + cfg.DataStream, "/_index_template/" + cfg.DataStream, "/_plugins/_ism/policies/" + cfg.DataStream, "/_ilm/policy/" + cfg.DataStream} {
			req, _ := http.NewRequest(http.MethodDelete, p, nil)
			if res, err := env.Engine.ES.Perform(req); err == nil {
				res.Body.Close()
			}
		}
	}, nil
}

// warmCold warms every index under life with the API's searches of
// searchapi.CommonQueries (indexer.Warm, as reindex does before a swap),
// until a whole round answers each under 100 ms or is no faster than the
// one before (at most 5 minutes), and prints how long the first search and
// the whole warm-up took. The bench's
// indices are built without the warm-up, and settleMerges runs after the
// build. A freshly built large index answers its first searches slowly (a
// million documents here: seconds each), and a load started then measures
// only that: the first 1M-document run's first API block timed out for
// 7–12 s while the blocks after it did not.
func warmCold(ctx context.Context, env Env, life *indexer.Lifecycle) error {
	for _, name := range mappings.Names() {
		bodies, err := searchapi.WarmBodies(name, searchapi.CommonQueries)
		if err != nil {
			return err
		}
		rep, err := indexer.Warm(ctx, env.Engine.ES, life.Alias(name), indexer.WarmOptions{Bodies: bodies, For: 5 * time.Minute})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Out, "cold start: %s %s\n", name, rep)
	}
	return nil
}
