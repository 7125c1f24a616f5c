package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/insights"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/web"
)

func newReindexCmd(e *env) *cobra.Command {
	var (
		keep       int
		batch      int
		rollback   bool
		noProgress bool
		warm       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "reindex contents|posts|users|all",
		Short: "Rebuild a search index from MySQL and swap its alias with zero downtime",
		Long: `Rebuild a logical search index (contents, posts, users, or all of them) from MySQL.

A new physical index <prefix>-<name>-<timestamp> is built with the configured analysis profile
while searches keep using the old one through the alias <prefix>-<name>. Rows are read in
primary-key pages; every document carries an external version derived from the binlog position
noted before the read, so a CDC worker streaming at the same time can never be overwritten by
older data. After the load, rows changed meanwhile are re-read until quiet, hard deletes are
reconciled by id, and the document count is verified against MySQL. Only then the alias moves,
in one atomic call, followed by one more catch-up round. Before the swap, the new index is warmed
with the searches the API sends (the most searched queries of the insights window when insights are
on, then a built-in list of common ones), one at a time, until a round answers each under 100 ms or
is no faster than the one before, or --warm runs out: an engine that has served no searches for
a while answers its first ones much slower, and live traffic should not meet it cold. A warm-up search the engine
rejects stops the run before the swap. The newest --keep physical indices stay (for --rollback);
older ones are deleted.

If anything fails before the swap (engine down, a rejected document, a count mismatch, a
rejected warm-up search) the new index is deleted and the alias is untouched: rerun the command. With --rollback the alias moves
back to the previous physical index instead.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("reindex needs one index name: contents, posts, users or all")}
			}
			if args[0] != "all" && !slices.Contains(mappings.Names(), args[0]) {
				return usageError{fmt.Errorf("unknown index %q: want contents, posts, users or all", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if keep < 1 {
				return usageError{fmt.Errorf("--keep must be at least 1 (got %d)", keep)}
			}
			if warm < 0 {
				return usageError{fmt.Errorf("--warm must not be negative (got %s; 0 turns the warm-up off)", warm)}
			}
			if batch < 1 || batch > 10000 {
				return usageError{fmt.Errorf("--batch-size must be between 1 and 10000 (got %d)", batch)}
			}
			names := []string{args[0]}
			if args[0] == "all" {
				names = mappings.Names()
			}
			return e.reindex(cmd.Context(), names, indexer.ReindexOptions{BatchSize: batch, Keep: keep, Warm: indexer.WarmOptions{For: warm}}, rollback, noProgress)
		},
	}
	cmd.Flags().IntVar(&keep, "keep", 2, "physical indices to keep per alias (the live one included), for --rollback")
	cmd.Flags().IntVar(&batch, "batch-size", 5000, "rows per MySQL page (and per _bulk request)")
	cmd.Flags().BoolVar(&rollback, "rollback", false, "move the alias back to the previous physical index and exit")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "no progress bar (for logs)")
	cmd.Flags().DurationVar(&warm, "warm", time.Minute, "warm the new index with the API's searches for at most this long before the swap (0: off)")
	return cmd
}

// reindex rebuilds the named indices (or moves their aliases back).
func (e *env) reindex(ctx context.Context, names []string, opts indexer.ReindexOptions, rollback, noProgress bool) error {
	c, err := e.config()
	if err != nil {
		return err
	}
	log := e.logger(c)
	es, err := openEngineLogged(ctx, c, log, nil) // slow engine calls at warn
	if err != nil {
		return err
	}
	rules := &mysqlRules{} // new indices take the editors' dictionary and synonyms from MySQL (cli/dict.go)
	life := newLifecycle(c, es, indexer.WithRules(rules))
	if rollback {
		for _, name := range names {
			prev, err := life.Rollback(ctx, name)
			if err != nil {
				return fmt.Errorf("rollback %s: %w", name, err)
			}
			fmt.Fprintf(e.stdout, "%s: alias %s now on %s\n", name, life.Alias(name), prev)
		}
		return nil
	}
	if err := indexer.CheckProfile(ctx, es, c.Search.AnalysisProfile); err != nil {
		return err
	}
	db, err := openMySQLLogged(ctx, c, log, nil) // slow statements at warn
	if err != nil {
		return err
	}
	defer db.Close()
	rules.db = db
	source, closeSource, err := openCDCSource(ctx, c, log)
	if err != nil {
		return err
	}
	defer closeSource()
	// rows and positions from the CDC's source (its versions), the build lock on the primary
	r := indexer.NewReindexer(db, es.ES, life, bulk.NewWriter(es.ES, bulk.Options{}, log), log).WithSource(source)
	opts.Profile = c.Search.AnalysisProfile
	warm := warmOf(ctx, c, es, log, opts.Warm.For)
	for _, name := range names {
		opts.Warm = warm(name)
		bar := newBar(e.stderr, noProgress, name)
		opts.Progress = bar.update
		rep, err := r.Run(ctx, name, opts)
		bar.finish()
		if err != nil {
			return fmt.Errorf("reindex %s: %w", name, err)
		}
		printReindexReport(e.stdout, life.Alias(name), rep)
	}
	return nil
}

// printReindexReport writes one line about a finished run.
func printReindexReport(w io.Writer, alias string, rep indexer.Report) {
	fmt.Fprintf(w, "%s: %d rows read, %d documents in %s (alias %s), %d caught up, %d reconciled, %s (%.0f rows/s)",
		rep.Index, rep.Rows, rep.Indexed, rep.Physical, alias, rep.CaughtUp, rep.Reconciled,
		rep.Took.Round(time.Millisecond), float64(rep.Rows)/max(rep.Took.Seconds(), 1e-9))
	if rep.Previous != "" {
		fmt.Fprintf(w, "; previous %s", rep.Previous)
	}
	if len(rep.Pruned) > 0 {
		fmt.Fprintf(w, "; deleted %s", strings.Join(rep.Pruned, ", "))
	}
	if rep.Warm.Rounds > 0 {
		fmt.Fprintf(w, "; %s", rep.Warm)
	}
	fmt.Fprintln(w)
}

// maxPopularWarm bounds how many recorded popular queries warm an index.
const maxPopularWarm = 20

// warmOf is the warm-up of each index for at most d (nothing when d is 0):
// the API's searches (searchapi.WarmBodies) of warmQueries, read on the
// first warm-up (a CDC worker that rebuilds nothing never reads them).
func warmOf(ctx context.Context, c *config.Config, es *engine.Client, log *slog.Logger, d time.Duration) func(name string) indexer.WarmOptions {
	if d <= 0 {
		return func(string) indexer.WarmOptions { return indexer.WarmOptions{} }
	}
	queries := sync.OnceValue(func() []string { return warmQueries(ctx, c, es, log) })
	return func(name string) indexer.WarmOptions {
		bodies, err := searchapi.WarmBodies(name, queries())
		if err != nil {
			log.Warn("warm-up: no searches for the index; it is not warmed", "index", name, "error", err)
		}
		return indexer.WarmOptions{Bodies: bodies, For: d}
	}
}

// warmQueries are the warm-up's queries: the most searched of the insights
// window when insights are on (a failure to read them is a warning), then
// searchapi.CommonQueries.
func warmQueries(ctx context.Context, c *config.Config, es *engine.Client, log *slog.Logger) []string {
	if !c.Insights.Enabled {
		return searchapi.CommonQueries
	}
	queries, err := insights.NewReader(es.ES, c.Insights.DataStream).WarmQueries(ctx, time.Now(), c.Insights.PopularWindow,
		c.Insights.PopularMinCount, maxPopularWarm, searchapi.CommonQueries)
	if err != nil {
		log.Warn("warm-up: the popular queries could not be read; warming with the built-in list", "error", web.Withheld(err))
	}
	return queries
}

// progress draws one bar per phase with rate and ETA.
type progress struct {
	w     io.Writer
	off   bool
	name  string
	phase string
	bar   *progressbar.ProgressBar
}

func newBar(w io.Writer, off bool, name string) *progress {
	return &progress{w: w, off: off, name: name}
}

func (p *progress) update(phase string, done, total int64) {
	if p.off {
		return
	}
	if p.bar == nil || phase != p.phase {
		if p.bar != nil {
			_ = p.bar.Finish()
		}
		p.phase = phase
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.name+" "+phase),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
		)
	}
	p.bar.ChangeMax64(max(total, done))
	_ = p.bar.Set64(done)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
