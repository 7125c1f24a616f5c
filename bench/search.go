package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
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
	API        LoadResult
	Direct     LoadResult
	APIMetrics LoadResult // withMetrics: the API with the metrics middleware on, …
	APIPaired  LoadResult // … and without it, loaded at the same time (rate/2 each)
}

// benchQueries are what app users type; every one is sent to posts and contents.
var benchQueries = []string{
	"천식", "천식이", "소아천식", "흡입기", "흡입기 사용법", "벤토린", "살부타몰", "미세먼지", "기침",
	"밤에 기침", "숨가쁨", "호흡곤란", "최대호기유량", "FEV1", "ICS", "스페이서", "운동유발천식",
	"알레르기비염", "응급실", "꽃가루", "집먼지진드기", "흡입스테로이드", "천식 악화", "네뷸라이저",
}

// Search indexes ~docs documents, serves the API on loopback, and offers the
// same queries at rate to the API and straight to the engine (the requests the
// API would send: same bodies, same filter_path), from a second process.
// withMetrics adds a second API server with the metrics middleware on
// (telemetry.HTTP, its registry gathered every 5 s like a scrape) and a
// paired phase: both servers loaded at once, rate/2 each, for dur.
func Search(ctx context.Context, env Env, docs int, rate float64, dur time.Duration, load LoadFunc, withMetrics bool) (SearchReport, error) {
	rep := SearchReport{Rate: rate}
	s, err := newScratch(ctx, env.DSN, 16)
	if err != nil {
		return rep, err
	}
	defer s.close()
	contents := docs / 20
	fmt.Fprintf(env.Out, "seeding %d posts and %d contents…\n", docs-contents, contents)
	corpus := seed.Generate(11, seed.Sizes{Users: max(seed.MinUsers, docs/50), Contents: contents, Posts: docs - contents}, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if _, err := seed.Load(ctx, s.db, corpus, seed.LoadOptions{}); err != nil {
		return rep, err
	}
	pfx := prefix()
	life := indexer.NewLifecycle(env.Engine.ES, pfx)
	defer cleanupIndices(life)
	r := indexer.NewReindexer(s.db, env.Engine.ES, life, bulk.NewWriter(env.Engine.ES, bulk.Options{}, env.Logger), env.Logger)
	for _, name := range mappings.Names() {
		fmt.Fprintf(env.Out, "indexing %s…\n", name)
		res, err := r.Run(ctx, name, indexer.ReindexOptions{Profile: env.Profile, BatchSize: 2000})
		if err != nil {
			return rep, err
		}
		if name != mappings.Users {
			rep.Docs += int(res.Indexed)
		}
	}

	api := searchapi.New(env.Engine.ES, searchapi.Options{IndexPrefix: pfx, Timeout: 2 * time.Second, Logger: env.Logger})
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	listen := func(opts server.Options) (net.Addr, error) {
		srv := server.NewWith(config.HTTP{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, ShutdownTimeout: 5 * time.Second, MaxBodyBytes: 1 << 20},
			env.Logger, nil, opts, api.Mount)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		go srv.Run(sctx, ln)
		return ln.Addr(), nil
	}
	addr, err := listen(server.Options{})
	if err != nil {
		return rep, err
	}
	var metricsAddr net.Addr
	if withMetrics {
		reg := telemetry.NewRegistry()
		if metricsAddr, err = listen(server.Options{Metrics: telemetry.NewHTTP(reg)}); err != nil {
			return rep, err
		}
		go scrapeEvery(sctx, reg, 5*time.Second)
	}

	engineURL := strings.TrimRight(env.Engine.Addresses[0], "/")
	var apiReqs, metricsReqs, directReqs []Request
	for _, q := range benchQueries {
		for _, kind := range []string{mappings.Posts, mappings.Contents} {
			v := url.Values{"q": {q}}
			apiReqs = append(apiReqs, Request{Method: "GET", URL: fmt.Sprintf("http://%s/v1/%s/search?%s", addr, kind, v.Encode())})
			if metricsAddr != nil {
				metricsReqs = append(metricsReqs, Request{Method: "GET", URL: fmt.Sprintf("http://%s/v1/%s/search?%s", metricsAddr, kind, v.Encode())})
			}
			p, err := searchapi.ParseSearch(kind, v)
			if err != nil {
				return rep, fmt.Errorf("query %q: %w", q, err)
			}
			body, _ := json.Marshal(searchapi.SearchBody(p))
			directReqs = append(directReqs, Request{Method: "POST", URL: engineURL + "/" + life.Alias(kind) + "/_search?filter_path=" + url.QueryEscape(searchapi.FilterPath()), Body: body})
		}
	}
	// ABBA blocks (API, direct, direct, API), each half the duration after
	// its own warm-up: whatever drifts during the run (merges after the
	// bulk load, caches, JIT) weighs on both sides alike.
	warm := JSONDuration(3 * time.Second)
	var apiRuns, directRuns []LoadResult
	for i, viaAPI := range []bool{true, false, false, true} {
		reqs, runs, what := apiReqs, &apiRuns, "through the API"
		if !viaAPI {
			reqs, runs, what = directReqs, &directRuns, "straight to the engine"
		}
		fmt.Fprintf(env.Out, "load %d/4: %.0f req/s for %s %s…\n", i+1, rate, dur/2, what)
		r, err := load(ctx, LoadSpec{Requests: reqs, Rate: rate, Duration: JSONDuration(dur / 2), Warmup: warm})
		if err != nil {
			return rep, err
		}
		*runs = append(*runs, r)
	}
	rep.API, rep.Direct = MergeLoads(apiRuns...), MergeLoads(directRuns...)
	if withMetrics {
		// Paired: both servers under load at the same time (rate/2 each,
		// one load process each), so a busy neighbour on the machine
		// weighs on metrics on and off alike.
		fmt.Fprintf(env.Out, "load paired: %.0f req/s each for %s through the API with metrics off and on at once…\n", rate/2, dur)
		var wg sync.WaitGroup
		var errs [2]error
		for i, reqs := range [][]Request{apiReqs, metricsReqs} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := load(ctx, LoadSpec{Requests: reqs, Rate: rate / 2, Duration: JSONDuration(dur), Warmup: warm})
				errs[i] = err
				if i == 0 {
					rep.APIPaired = r
				} else {
					rep.APIMetrics = r
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs[:]...); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// scrapeEvery gathers reg like a Prometheus scrape until ctx ends.
func scrapeEvery(ctx context.Context, reg *prometheus.Registry, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = reg.Gather()
		}
	}
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
	if r.APIMetrics.Sent > 0 {
		fmt.Fprintf(w, "  paired, both at %.0f req/s at once:\n", r.Rate/2)
		row("API metrics off", r.APIPaired)
		row("API metrics on", r.APIMetrics)
		over := 0.0
		if r.APIPaired.P50 > 0 {
			over = r.APIMetrics.P50 / r.APIPaired.P50
		}
		fmt.Fprintf(w, "  metrics on / off p50  %.3f  target ≤ 1.03: %s\n", over, pass(over > 0 && over <= 1.03))
	}
	if r.API.Errors+r.Direct.Errors > 0 {
		fmt.Fprintf(w, "  errors: %d through the API, %d direct\n", r.API.Errors, r.Direct.Errors)
	}
}
