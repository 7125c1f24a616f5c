package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/bench"
)

func newBenchCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the platform against baselines measured in the same run",
		Long: `Benchmarks print figures as ratios against a baseline measured in the same run (the engine's
raw _bulk ceiling for the same documents, MySQL LIKE, the standard analyzer), so they mean something on
any machine. Each creates and drops its own scratch database on the configured MySQL server and its own
indices (random prefix) on the configured engine; nothing of yours is touched. Load stays on loopback.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("bench needs a subcommand (see soomcare bench --help)")}
		},
	}
	cmd.AddCommand(newBenchReindexCmd(e), newBenchCDCCmd(e), newBenchSearchCmd(e), newBenchRelevanceCmd(e), newBenchCalendarCmd(e), newBenchLoadgenCmd(e))
	return cmd
}

// runBench runs one benchmark of `soomcare bench NAME` in a fresh bench.Env
// and prints its report. A benchmark's error is "bench NAME: …"; a growth
// curve or a sweep (partial) prints the points it measured before the error
// too, a single run prints nothing then.
func runBench[R bench.Report](e *env, cmd *cobra.Command, partial bool, run func(context.Context, bench.Env) (R, error)) error {
	env, err := e.benchEnv(cmd)
	if err != nil {
		return err
	}
	rep, err := run(cmd.Context(), env)
	if err == nil || partial {
		rep.Print(e.stdout)
	}
	if err != nil {
		return fmt.Errorf("bench %s: %w", cmd.Name(), err)
	}
	return nil
}

// benchEnv loads config, waits for MySQL and the engine, and returns the env.
func (e *env) benchEnv(cmd *cobra.Command) (bench.Env, error) {
	c, log, db, es, err := e.start(cmd.Context(), "bench "+cmd.Name(), nil)
	if err != nil {
		return bench.Env{}, err
	}
	db.Close() // a reachability check: each bench opens its own scratch database
	return bench.Env{DSN: c.MySQL.DSN, Engine: es, Profile: c.Search.AnalysisProfile,
		ServerID: 100_000 + rand.Uint32N(1_000_000), Out: e.stdout, Logger: log}, nil
}

func newBenchReindexCmd(e *env) *cobra.Command {
	var (
		n     int
		sizes []int
	)
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Reindex N posts; docs/s beside the raw _bulk ceiling of the same documents",
		Long: `Seed N posts into a scratch database, time the engine's raw _bulk of their documents (the
ceiling), then time 'soomcare reindex posts' over the same rows (MySQL reads, document building,
_bulk, catch-up, id reconciliation, count verification, alias swap). Targets: ≤ 60 s for 100k
documents and ≥ 0.8 of the ceiling.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1000 || n > 2_000_000 {
				return usageError{fmt.Errorf("--docs must be between 1000 and 2000000 (got %d)", n)}
			}
			if len(sizes) > 0 {
				return e.runReindexCurve(cmd, sizes)
			}
			return runBench(e, cmd, false, func(ctx context.Context, env bench.Env) (bench.ReindexReport, error) {
				return bench.Reindex(ctx, env, n)
			})
		},
	}
	cmd.Flags().IntVar(&n, "docs", 100_000, "posts to seed and index")
	cmd.Flags().IntSliceVar(&sizes, "sizes", nil, "a growth curve instead of --docs: the same at each of these sizes (fresh database each), one table")
	return cmd
}

func newBenchCDCCmd(e *env) *cobra.Command {
	var (
		n     int
		rate  int
		dur   time.Duration
		sweep []string
	)
	cmd := &cobra.Command{
		Use:   "cdc",
		Short: "CDC events/s beside the raw _bulk ceiling; lag p50/p99 at a steady rate; peak RSS",
		Long: `Run the CDC worker on a scratch database, stream N/5 (at most 20k) posts as an untimed warm-up,
then insert N posts as fast as MySQL takes them and time first insert → last acknowledgement
(events/s); then offer a steady --rate of inserts for --duration and measure each row's commit →
acknowledgement lag (p50/p99); then time the engine's raw _bulk of the same documents (the ceiling),
into an index configured like a live one (refresh every second, what the worker writes into; the
ratio's baseline) and into one with reindex's bulk-load settings (refresh off, printed beside it).
Targets: ≥ 20k events/s, ≥ 0.8 of the ceiling, lag p99 ≤ 1 s.
The binlog must be on (it is the product's source). Needs REPLICATION privileges.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1000 || n > 2_000_000 || rate < 1 || rate > 50_000 || dur < time.Second || dur > 10*time.Minute {
				return usageError{fmt.Errorf("want 1000 ≤ --events ≤ 2000000, 1 ≤ --rate ≤ 50000, 1s ≤ --duration ≤ 10m")}
			}
			if len(sweep) > 0 {
				return e.runCDCSweep(cmd, sweep, n, rate, dur)
			}
			return runBench(e, cmd, false, func(ctx context.Context, env bench.Env) (bench.CDCReport, error) {
				return bench.CDC(ctx, env, n, rate, dur)
			})
		},
	}
	cmd.Flags().IntVar(&n, "events", 100_000, "row events for the throughput phase")
	cmd.Flags().IntVar(&rate, "rate", 2000, "events/s offered in the lag phase")
	cmd.Flags().DurationVar(&dur, "duration", 10*time.Second, "length of the lag phase")
	cmd.Flags().StringSliceVar(&sweep, "sweep", nil, "worker settings to compare instead, as BATCH/FLUSH pairs (e.g. 500/50ms,2000/50ms,5000/200ms): --events and the lag phase for each on one database, the first again last, one raw _bulk ceiling; one table")
	return cmd
}

func newBenchSearchCmd(e *env) *cobra.Command {
	var (
		docs         int
		rate         float64
		dur          time.Duration
		withMetrics  bool
		withInsights bool
		sizes        []int
		gcPercent    int
		apiProfile   string
	)
	cmd := &cobra.Command{
		Use:   "search",
		Short: "API latency beside the same queries sent straight to the engine, at a fixed rate",
		Long: `Seed ~--docs posts and contents into a scratch database, index them with the configured profile,
serve the search API on loopback, then offer --rate requests/s from a second process ('soomcare bench
loadgen') through the API and, with the exact requests the API sends (bodies and filter_path), straight
to the engine: four blocks of --duration/2 each after a 3 s warm-up, in the order API, direct, direct,
API, so drift during the run (merges after the load, caches) weighs on both alike. Prints p50/p90/p99 of
both over all their blocks. Targets: API p50 ≤ 1.15 × direct, API p99 ≤ 50 ms.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if docs < 1000 || docs > 2_000_000 || rate <= 0 || rate > 5000 || dur < time.Second || dur > 10*time.Minute {
				return usageError{errors.New("want 1000 ≤ --docs ≤ 2000000, 0 < --rate ≤ 5000, 1s ≤ --duration ≤ 10m")}
			}
			if len(sizes) > 0 {
				return e.runSearchCurve(cmd, bench.CurveOptions{Sizes: sizes, Rate: rate, Duration: dur, GCPercent: gcPercent}, apiProfile)
			}
			return runBench(e, cmd, false, func(ctx context.Context, env bench.Env) (bench.SearchReport, error) {
				return bench.Search(ctx, env, docs, rate, dur, loadInSecondProcess, bench.Paired{Metrics: withMetrics, Insights: withInsights})
			})
		},
	}
	cmd.Flags().IntVar(&docs, "docs", 100_000, "documents to index (posts and contents)")
	cmd.Flags().Float64Var(&rate, "rate", 200, "requests per second")
	cmd.Flags().DurationVar(&dur, "duration", 20*time.Second, "measured load per phase (after a 3 s warm-up)")
	cmd.Flags().IntSliceVar(&sizes, "sizes", nil, "a growth curve instead of --docs: the API/direct blocks at each of these corpus sizes (fresh database and indices each), one table with p50/p99 ratios, where the API's time goes, and index bytes per document")
	cmd.Flags().IntVar(&gcPercent, "gc-percent", 0, "with --sizes: also measure the API with this GOGC, in blocks A, A′, direct, direct, A′, A (0: off)")
	cmd.Flags().StringVar(&apiProfile, "api-cpuprofile", "", "with --sizes: a CPU profile of the first point's load blocks only (the API's work, without seeding and indexing), for go tool pprof")
	cmd.Flags().BoolVar(&withMetrics, "metrics", false, "then load the API with the metrics middleware and request logging (ECS JSON lines at info, to a file) both off and both on, in one load whose requests alternate between them (rate/2 each, --duration); prints the on/off p50 ratio")
	cmd.Flags().BoolVar(&withInsights, "insights", false, "then load the API with search insights off and on in one alternating load (recorder into a scratch data stream, popular blend; rate/2 each, --duration); prints the on/off p50 ratio")
	return cmd
}

// loadInSecondProcess runs `soomcare bench loadgen` with the spec on stdin.
func loadInSecondProcess(ctx context.Context, spec bench.LoadSpec) (bench.LoadResult, error) {
	self, err := os.Executable()
	if err != nil {
		return bench.LoadResult{}, err
	}
	in, _ := json.Marshal(spec)
	c := exec.CommandContext(ctx, self, "bench", "loadgen")
	c.Stdin = bytes.NewReader(in)
	var out, stderr bytes.Buffer
	c.Stdout, c.Stderr = &out, &stderr
	if err := c.Run(); err != nil {
		return bench.LoadResult{}, fmt.Errorf("loadgen process: %w: %s", err, stderr.String())
	}
	var res bench.LoadResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return res, fmt.Errorf("loadgen output: %w", err)
	}
	return res, nil
}

func newBenchLoadgenCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:    "loadgen",
		Short:  "Offer a load spec (JSON on stdin) to loopback targets; print a latency summary (JSON)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var spec bench.LoadSpec
			if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
				return usageError{fmt.Errorf("loadgen: spec on stdin: %w", err)}
			}
			if err := spec.Validate(); err != nil {
				return usageError{err}
			}
			res, err := bench.RunLoad(cmd.Context(), spec)
			if err != nil {
				return err
			}
			return json.NewEncoder(e.stdout).Encode(res)
		},
	}
}
