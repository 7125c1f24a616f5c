package cli

import (
	"errors"
	"fmt"
	"math/rand/v2"
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
	cmd.AddCommand(newBenchReindexCmd(e), newBenchCDCCmd(e))
	return cmd
}

// benchEnv loads config, waits for MySQL and the engine, and returns the env.
func (e *env) benchEnv(cmd *cobra.Command) (bench.Env, func(), error) {
	ctx := cmd.Context()
	c, err := e.config()
	if err != nil {
		return bench.Env{}, nil, err
	}
	db, err := openMySQL(ctx, c) // reachability check; the bench opens its own scratch database
	if err != nil {
		return bench.Env{}, nil, err
	}
	db.Close()
	es, err := openEngine(ctx, c)
	if err != nil {
		return bench.Env{}, nil, err
	}
	log := e.logger(c)
	return bench.Env{DSN: c.MySQL.DSN, Engine: es, Profile: c.Search.AnalysisProfile,
		ServerID: 100_000 + rand.Uint32N(1_000_000), Out: e.stdout, Logger: log}, func() {}, nil
}

func newBenchReindexCmd(e *env) *cobra.Command {
	var n int
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
			env, done, err := e.benchEnv(cmd)
			if err != nil {
				return err
			}
			defer done()
			rep, err := bench.Reindex(cmd.Context(), env, n)
			if err != nil {
				return fmt.Errorf("bench reindex: %w", err)
			}
			rep.Print(e.stdout)
			return nil
		},
	}
	cmd.Flags().IntVar(&n, "docs", 100_000, "posts to seed and index")
	return cmd
}

func newBenchCDCCmd(e *env) *cobra.Command {
	var (
		n    int
		rate int
		dur  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "cdc",
		Short: "CDC events/s beside the raw _bulk ceiling; lag p50/p99 at a steady rate; peak RSS",
		Long: `Run the CDC worker on a scratch database, insert N posts as fast as MySQL takes them and time
first insert → last acknowledgement (events/s); then offer a steady --rate of inserts for --duration
and measure each row's commit → acknowledgement lag (p50/p99); then time the engine's raw _bulk of
the same documents (the ceiling). Targets: ≥ 20k events/s, ≥ 0.8 of the ceiling, lag p99 ≤ 1 s.
The binlog must be on (it is the product's source). Needs REPLICATION privileges.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1000 || n > 2_000_000 || rate < 1 || rate > 50_000 || dur < time.Second || dur > 10*time.Minute {
				return usageError{fmt.Errorf("want 1000 ≤ --events ≤ 2000000, 1 ≤ --rate ≤ 50000, 1s ≤ --duration ≤ 10m")}
			}
			env, done, err := e.benchEnv(cmd)
			if err != nil {
				return err
			}
			defer done()
			rep, err := bench.CDC(cmd.Context(), env, n, rate, dur)
			if err != nil {
				return fmt.Errorf("bench cdc: %w", err)
			}
			rep.Print(e.stdout)
			return nil
		},
	}
	cmd.Flags().IntVar(&n, "events", 100_000, "row events for the throughput phase")
	cmd.Flags().IntVar(&rate, "rate", 2000, "events/s offered in the lag phase")
	cmd.Flags().DurationVar(&dur, "duration", 10*time.Second, "length of the lag phase")
	return cmd
}
