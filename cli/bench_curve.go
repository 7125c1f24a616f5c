package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/bench"
)

// checkSizes validates a --sizes list: 1 to 6 corpus sizes within [lo, hi].
func checkSizes(sizes []int, lo, hi int) error {
	if len(sizes) > 6 {
		return usageError{fmt.Errorf("--sizes takes at most 6 sizes (got %d)", len(sizes))}
	}
	for _, n := range sizes {
		if n < lo || n > hi {
			return usageError{fmt.Errorf("--sizes: each size must be between %d and %d (got %d)", lo, hi, n)}
		}
	}
	return nil
}

// runSearchCurve is `bench search --sizes …`: Search's API/direct blocks at
// each size, printed as one table.
func (e *env) runSearchCurve(cmd *cobra.Command, o bench.CurveOptions, profile string) error {
	if err := checkSizes(o.Sizes, 1000, 2_000_000); err != nil {
		return err
	}
	if o.GCPercent < 0 || o.GCPercent > 10_000 {
		return usageError{fmt.Errorf("--gc-percent must be between 0 (off) and 10000 (got %d)", o.GCPercent)}
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		o.APIProfile = f
	}
	return runBench(e, cmd, true, func(ctx context.Context, env bench.Env) (bench.SearchCurveReport, error) {
		return bench.SearchCurve(ctx, env, o, loadInSecondProcess)
	})
}

// parseSweep reads --sweep: comma-separated BATCH/FLUSH pairs ("2000/50ms").
func parseSweep(in []string) ([]bench.CDCSetting, error) {
	if len(in) > 12 {
		return nil, usageError{fmt.Errorf("--sweep takes at most 12 settings (got %d)", len(in))}
	}
	var out []bench.CDCSetting
	for _, s := range in {
		b, f, ok := strings.Cut(s, "/")
		batch, err := strconv.Atoi(b)
		flush, ferr := time.ParseDuration(f)
		if !ok || err != nil || ferr != nil || batch < 1 || batch > 50000 || flush < time.Millisecond || flush > time.Minute {
			return nil, usageError{fmt.Errorf("--sweep: %q is not BATCH/FLUSH with 1 ≤ BATCH ≤ 50000 and 1ms ≤ FLUSH ≤ 1m (e.g. 2000/50ms)", s)}
		}
		out = append(out, bench.CDCSetting{Batch: batch, Flush: flush})
	}
	return out, nil
}

// runCDCSweep is `bench cdc --sweep …`.
func (e *env) runCDCSweep(cmd *cobra.Command, sweep []string, n, rate int, dur time.Duration) error {
	settings, err := parseSweep(sweep)
	if err != nil {
		return err
	}
	return runBench(e, cmd, true, func(ctx context.Context, env bench.Env) (bench.CDCSweepReport, error) {
		return bench.CDCSweep(ctx, env, n, settings, rate, dur)
	})
}

// runReindexCurve is `bench reindex --sizes …`.
func (e *env) runReindexCurve(cmd *cobra.Command, sizes []int) error {
	if err := checkSizes(sizes, 1000, 2_000_000); err != nil {
		return err
	}
	return runBench(e, cmd, true, func(ctx context.Context, env bench.Env) (bench.ReindexCurveReport, error) {
		return bench.ReindexCurve(ctx, env, sizes)
	})
}
