package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/mappings"
)

// reindexFlags are the flags of `soomcare reindex`.
type reindexFlags struct {
	keep, batch                 int
	rollback, noProgress, force bool
	warm, maxAge                time.Duration
}

func newReindexCmd(e *env) *cobra.Command {
	var f reindexFlags
	cmd := &cobra.Command{
		Use:   "reindex contents|posts|users|all",
		Short: "Rebuild a search index from MySQL and swap its alias with zero downtime",
		Long:  reindexHelp,
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
			if err := f.check(cmd.Flags().Changed); err != nil {
				return err
			}
			names := []string{args[0]}
			if args[0] == "all" {
				names = mappings.Names()
			}
			if f.rollback {
				return e.rollback(cmd.Context(), names, indexer.RollbackOptions{BatchSize: f.batch, MaxAge: f.maxAge, Force: f.force})
			}
			return e.reindex(cmd.Context(), names, indexer.ReindexOptions{BatchSize: f.batch, Keep: f.keep, Warm: indexer.WarmOptions{For: f.warm}}, f.noProgress)
		},
	}
	cmd.Flags().IntVar(&f.keep, "keep", 2, "physical indices to keep per alias: the live one and those live most recently before it, for --rollback")
	cmd.Flags().IntVar(&f.batch, "batch-size", 5000, "rows per MySQL page (and per _bulk request)")
	cmd.Flags().BoolVar(&f.rollback, "rollback", false, "move the alias back to the index live most recently before, caught up and verified against MySQL first, and exit")
	cmd.Flags().DurationVar(&f.maxAge, "max-age", indexer.DefaultRollbackMaxAge, "with --rollback: refuse a target that stopped being live longer ago than this")
	cmd.Flags().BoolVar(&f.force, "force", false, "with --rollback: roll back to a target older than --max-age (still caught up and verified first)")
	cmd.Flags().BoolVar(&f.noProgress, "no-progress", false, "no progress bar (for logs)")
	cmd.Flags().DurationVar(&f.warm, "warm", time.Minute, "warm the new index with the API's searches for at most this long before the swap (0: off)")
	return cmd
}

// check refuses flag values out of range; changed reports whether a flag
// was given.
func (f reindexFlags) check(changed func(name string) bool) error {
	switch {
	case f.keep < 1:
		return usageError{fmt.Errorf("--keep must be at least 1 (got %d)", f.keep)}
	case f.warm < 0:
		return usageError{fmt.Errorf("--warm must not be negative (got %s; 0 turns the warm-up off)", f.warm)}
	case !f.rollback && (changed("max-age") || changed("force")):
		return usageError{errors.New("--max-age and --force go with --rollback")}
	case f.maxAge <= 0:
		return usageError{fmt.Errorf("--max-age must be positive (got %s)", f.maxAge)}
	case f.batch < 1 || f.batch > 10000:
		return usageError{fmt.Errorf("--batch-size must be between 1 and 10000 (got %d)", f.batch)}
	}
	return nil
}

const reindexHelp = `Rebuild a logical search index (contents, posts, users, or all of them) from MySQL.

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
rejects stops the run before the swap.

If anything fails before the swap (engine down, a rejected document, a count mismatch, a
rejected warm-up search) the new index is deleted and the alias is untouched: rerun the command.
Before building, it deletes what killed builds of the index left behind (half-built indices behind
no alias). After the swap it keeps --keep indices: the live one and those live most recently before
it (by live history, not by name; half-built indices and indices a rollback left never count).

With --rollback the alias moves back to the index that was live most recently before the current
one, brought up to date first: every row changed since that index stopped being live is re-read
and written with its binlog version, then its ids and content hashes are compared with MySQL and
what differs is rewritten (up to three comparisons) before the alias moves, then it is caught up
once more. A target that never finished building, whose schema version is not this binary's, or
that stopped being live longer ago than --max-age (unless --force) is refused. "all" is all or
nothing: every index's target is checked before any alias moves, and if one fails the ones already
moved are moved back. A rollback holds each index's build lock, so it is refused at once while a
reindex or a CDC snapshot/rebuild of that index runs (and the other way round). The index the
rollback left is not a target of the next rollback.`

// reindexDeps is what a reindex or a rollback needs: the engine, MySQL and
// the CDC's source, wired into a Reindexer.
type reindexDeps struct {
	r     *indexer.Reindexer
	life  *indexer.Lifecycle
	c     *config.Config
	es    *engine.Client
	log   *slog.Logger
	close func() // releases the database handles
}

func (e *env) reindexDeps(ctx context.Context) (*reindexDeps, error) {
	c, err := e.config()
	if err != nil {
		return nil, err
	}
	d := &reindexDeps{c: c, log: e.logger(c)}
	if d.es, err = openEngineLogged(ctx, c, d.log, nil); err != nil { // slow engine calls at warn
		return nil, err
	}
	rules := &mysqlRules{} // new indices take the editors' dictionary and synonyms from MySQL (cli/dict.go)
	d.life = newLifecycle(c, d.es, indexer.WithRules(rules))
	db, err := openMySQLLogged(ctx, c, d.log, nil) // slow statements at warn
	if err != nil {
		return nil, err
	}
	rules.db = db
	source, closeSource, err := openCDCSource(ctx, c, d.log)
	if err != nil {
		db.Close()
		return nil, err
	}
	d.close = func() { closeSource(); db.Close() }
	// rows and positions from the CDC's source (its versions), the build lock on the primary
	// rows that cannot become documents: the CDC's dead letters (cdc dead-letters list)
	d.r = indexer.NewReindexer(db, d.es.ES, d.life, bulk.NewWriter(d.es.ES, bulk.Options{}, d.log), d.log).WithSource(source).
		WithRowErrors(cdc.NewStore(db, "default"))
	return d, nil
}

// reindex rebuilds the named indices.
func (e *env) reindex(ctx context.Context, names []string, opts indexer.ReindexOptions, noProgress bool) error {
	d, err := e.reindexDeps(ctx)
	if err != nil {
		return err
	}
	defer d.close()
	if err := indexer.CheckProfile(ctx, d.es, d.c.Search.AnalysisProfile); err != nil {
		return err
	}
	opts.Profile = d.c.Search.AnalysisProfile
	warm := warmup(ctx, d.c, d.es, d.log, opts.Warm.For) // cli/roots.go
	for _, name := range names {
		opts.Warm = warm(name)
		bar := newBar(e.stderr, noProgress, name)
		opts.Progress = bar.update
		rep, err := d.r.Run(ctx, name, opts)
		bar.finish()
		if err != nil {
			return fmt.Errorf("reindex %s: %w", name, err)
		}
		printReindexReport(e.stdout, d.life.Alias(name), rep)
	}
	return nil
}

// rollback moves the aliases of names back, all or none (Reindexer.Rollback).
func (e *env) rollback(ctx context.Context, names []string, opts indexer.RollbackOptions) error {
	d, err := e.reindexDeps(ctx)
	if err != nil {
		return err
	}
	defer d.close()
	reps, err := d.r.Rollback(ctx, names, opts)
	if err != nil {
		return err
	}
	for _, rep := range reps {
		printRollbackReport(e.stdout, d.life.Alias(rep.Index), rep)
	}
	return nil
}

// printRollbackReport writes one line about a rollback.
func printRollbackReport(w io.Writer, alias string, rep indexer.RollbackReport) {
	since := "since it stopped being live at " + rep.Since.UTC().Format(time.RFC3339)
	if rep.FullReread {
		since = "since it was created (it had no retirement mark: a full re-read)"
	}
	fmt.Fprintf(w, "%s: alias %s now on %s (was %s); %d documents caught up %s, %d rewritten after comparing, verified equal to MySQL (%d documents), %s%s\n",
		rep.Index, alias, rep.To, rep.From, rep.CaughtUp, since, rep.Fixed, rep.Documents, rep.Took.Round(time.Millisecond), unindexable(rep.Unindexable))
}

// unindexable is the report's note of rows left without a document ("" for none).
func unindexable(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d rows cannot become documents and were left out (soomcare cdc dead-letters list)", n)
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
	fmt.Fprintln(w, unindexable(rep.Unindexable))
}

// progress draws one bar per phase with its rate and time left, measured
// by its own clock from the phase's start (the bar's creation for the first
// phase, the previous phase's last report after): the bar library's rate,
// sampled from its first report, showed "0 rows/hr" and then hundreds of
// thousands of rows/s after a first page that arrived at once.
type progress struct {
	w     io.Writer
	off   bool
	name  string
	phase string
	bar   *progressbar.ProgressBar
	now   func() time.Time
	start time.Time // the phase's start
	last  time.Time // the last report
	drawn time.Time // the last draw
}

func newBar(w io.Writer, off bool, name string) *progress {
	p := &progress{w: w, off: off, name: name, now: time.Now}
	p.start = p.now()
	p.last = p.start
	return p
}

func (p *progress) update(phase string, done, total int64) {
	if p.off {
		return
	}
	now := p.now()
	if p.bar == nil || phase != p.phase {
		if p.bar != nil {
			_ = p.bar.Finish()
			p.start = p.last
		}
		p.phase = phase
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
		)
	} else if now.Sub(p.drawn) < 200*time.Millisecond && done < total {
		p.last = now
		return // at most five draws a second
	}
	p.last, p.drawn = now, now
	p.bar.Describe(fmt.Sprintf("%s %s (%s)", p.name, p.phase, rateText(done, total, now.Sub(p.start))))
	p.bar.ChangeMax64(max(total, done))
	_ = p.bar.Set64(done)
}

// rateText is "451 rows/s, 3m20s left" for done of total rows in elapsed
// ("… rows/s" before there is a second's worth of measure).
func rateText(done, total int64, elapsed time.Duration) string {
	if done <= 0 || elapsed < time.Second {
		return "… rows/s"
	}
	rate := float64(done) / elapsed.Seconds()
	out := fmt.Sprintf("%.0f rows/s", rate)
	if total > done {
		out += ", " + time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second).String() + " left"
	}
	return out
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
