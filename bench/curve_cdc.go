package bench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/soomcare/soomcare/indexer"
)

// CDCSetting is one worker configuration of a CDC sweep.
type CDCSetting struct {
	Batch int
	Flush time.Duration
}

// CDCSweepPoint is one setting's outcome.
type CDCSweepPoint struct {
	CDCSetting
	Rate      float64 // events/s, first insert → last acknowledgement
	Took      time.Duration
	LagP50    time.Duration // at the steady rate
	LagP99    time.Duration
	LagRows   int // acknowledged rows of the lag phase …
	LagOffers int // … of those committed
	Load      float64
}

// CDCSweepReport is the outcome of CDCSweep.
type CDCSweepReport struct {
	Events     int
	SteadyRate int
	Ceiling    float64 // raw _bulk into a live-configured index, docs/s
	Points     []CDCSweepPoint
}

// CDCSweep streams n inserted rows through a worker with each setting in
// turn (one scratch database and one set of indices; the worker is stopped
// and started again with the next setting, resuming from its checkpoint),
// measures events/s and the lag at rate events/s for d, then the raw
// _bulk ceiling of the same documents once. The first setting is measured
// again at the end, so drift over the sweep (the indices grow, neighbours
// come and go) shows as the difference between its two rows.
func CDCSweep(ctx context.Context, env Env, n int, settings []CDCSetting, rate int, d time.Duration) (CDCSweepReport, error) {
	rep := CDCSweepReport{Events: n, SteadyRate: rate}
	s, life, done, err := cdcScratch(ctx, env)
	if err != nil {
		return rep, err
	}
	defer done()
	next := uint64(1)
	if len(settings) > 1 {
		settings = append(settings, settings[0])
	}
	for i, st := range settings {
		fmt.Fprintf(env.Out, "cdc sweep %d/%d: batch %d, flush %s\n", i+1, len(settings), st.Batch, st.Flush)
		p, err := sweepPoint(ctx, env, s, life, st, &next, n, i == 0, rate, d)
		if err != nil {
			return rep, fmt.Errorf("batch %d, flush %s: %w", st.Batch, st.Flush, err)
		}
		rep.Points = append(rep.Points, p)
	}
	ops, err := readAll(ctx, s.db, "")
	if err != nil {
		return rep, err
	}
	ops = ops[:min(len(ops), n)]
	fmt.Fprintf(env.Out, "raw _bulk ceiling: %d documents into a live-configured index…\n", len(ops))
	rep.Ceiling, _, err = ceiling(ctx, env, life, ops, true)
	return rep, err
}

// sweepPoint runs one worker setting: an untimed warm-up the first time,
// then n inserts timed to their acknowledgement, then the lag phase.
func sweepPoint(ctx context.Context, env Env, s *scratch, life *indexer.Lifecycle, st CDCSetting, next *uint64, n int, warm bool, rate int, d time.Duration) (CDCSweepPoint, error) {
	p := CDCSweepPoint{CDCSetting: st}
	r, stop, err := startCDCWith(ctx, env, s, life, st.Batch, st.Flush)
	if err != nil {
		return p, err
	}
	defer stop()
	if warm {
		k := min(n/5, 20000)
		if err := insertPosts(ctx, s.db, *next, k, 1000); err != nil {
			return p, err
		}
		if _, err := r.acks.wait(ctx, k, r.done); err != nil {
			return p, err
		}
		*next += uint64(k)
	}
	time.Sleep(time.Second) // a restarted worker may replay events after its last checkpoint
	r.acks.reset()
	p.Load = loadAvg()
	start := time.Now()
	if err := insertPosts(ctx, s.db, *next, n, 1000); err != nil {
		return p, err
	}
	last, err := r.acks.wait(ctx, n, r.done)
	if err != nil {
		return p, err
	}
	*next += uint64(n)
	p.Took = last.Sub(start)
	p.Rate = float64(n) / p.Took.Seconds()
	var lag CDCReport
	if err := r.steadyLag(ctx, &lag, *next, rate, d); err != nil {
		return p, err
	}
	*next += uint64(lag.SteadyTotal)
	p.LagP50, p.LagP99, p.LagRows, p.LagOffers = lag.LagP50, lag.LagP99, lag.LagSamples, lag.SteadyTotal
	return p, nil
}

// Print writes the sweep as a table.
func (r CDCSweepReport) Print(w io.Writer) {
	fmt.Fprintf(w, "\ncdc sweep: %d row events per setting, then %d events/s for the lag; raw _bulk ceiling (live-configured index) %.0f docs/s\n",
		r.Events, r.SteadyRate, r.Ceiling)
	fmt.Fprintf(w, "  %6s %8s  %9s %8s  %9s %9s  %11s  %s\n", "batch", "flush", "events/s", "ratio", "lag p50", "lag p99", "rows acked", "load 1m")
	for _, p := range r.Points {
		fmt.Fprintf(w, "  %6d %8s  %9.0f %8.2f  %9s %9s  %5d/%-5d  %.1f\n", p.Batch, p.Flush, p.Rate, ratio(p.Rate, r.Ceiling),
			p.LagP50.Round(time.Millisecond), p.LagP99.Round(time.Millisecond), p.LagRows, p.LagOffers, p.Load)
	}
	fmt.Fprintf(w, "  (the first setting is measured again last: the difference between its two rows is the drift over the sweep)\n")
}
