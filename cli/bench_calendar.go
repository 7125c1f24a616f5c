package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/bench"
)

// newBenchCalendarCmd is `soomcare bench calendar`: the month calendar of a
// user with a year of records, served on loopback and driven by a bounded
// pool of load-generator goroutines (bench.Calendar).
func newBenchCalendarCmd(e *env) *cobra.Command {
	spec := bench.CalendarSpec{Out: e.stdout}
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: "Month calendar throughput and latency (target ≥ 3000 req/s, p99 ≤ 20 ms)",
		Long: `Creates a scratch database on the configured MySQL server (dropped at the end), loads one user
with a year of records (2 peak-flow readings, a symptom check-in, 2 controller doses and some reliever
puffs a day) among --other-users users with the same volume, serves
GET /v1/me/calendar on 127.0.0.1 with real access tokens, and requests random months of that year from
--concurrency goroutines for --duration (or --requests) in three phases:

  uncached     the month cache off: every request reads the month from MySQL and computes it
               (what the first view of a month, or any view after a write, costs)
  cached       the cache on (warmed up by the 1 s warm-up): one version lookup per request, the
               month from memory
  revalidated  the cache on and the client sending If-None-Match with the ETag it got: 304, no body

Prints req/s and p50/p90/p99 latency of each phase.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.config()
			if err != nil {
				return err
			}
			if err := spec.Validate(); err != nil {
				return usageError{err}
			}
			spec.DSN, spec.MaxOpenConns = c.MySQL.DSN, c.MySQL.MaxOpenConns
			rep, err := bench.Calendar(cmd.Context(), spec)
			if err != nil {
				return err
			}
			rep.Print(e.stdout)
			return nil
		},
	}
	cmd.Flags().IntVar(&spec.Concurrency, "concurrency", 8, "load-generator goroutines (a few per core: more only adds queueing)")
	cmd.Flags().DurationVar(&spec.Duration, "duration", 10*time.Second, "how long to measure (after a 1 s warm-up)")
	cmd.Flags().IntVar(&spec.MaxRequests, "requests", 1_000_000, "stop after this many requests")
	cmd.Flags().IntVar(&spec.OtherUsers, "other-users", 20, "users with the same volume of records beside the measured one")
	cmd.Flags().StringSliceVar(&spec.Phases, "phases", bench.CalendarPhases, "phases to run (for profiling one of them)")
	return cmd
}
