package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/mysql"
)

// Exit codes of `soomcare cdc` that operators script against.
const (
	ExitBinlogPurged = 4 // the checkpoint's binlog file is gone: run `soomcare cdc reset`, restart
	ExitTableDropped = 5 // a watched table disappeared
	ExitNotSaved     = 6 // stopped by a signal, but the final checkpoint could not be saved (events replay)
)

// exitCoder lets a command choose its process exit code.
type exitCoder interface{ ExitCode() int }

type codedError struct {
	err  error
	code int
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }
func (e codedError) ExitCode() int { return e.code }

// cdcExit maps the worker's result to the command's error and exit code.
func cdcExit(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cdc.ErrBinlogPurged):
		return codedError{err, ExitBinlogPurged}
	case errors.Is(err, cdc.ErrTableDropped):
		return codedError{err, ExitTableDropped}
	case errors.Is(err, cdc.ErrShutdownSave):
		return codedError{err, ExitNotSaved}
	}
	return err
}

func newCDCCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cdc",
		Short: "Stream MySQL binlog changes into the search indices",
		Long: `Run the CDC worker: MySQL binlog (go-mysql canal) → documents → the search engine.

Without a checkpoint it first snapshots every index from MySQL (resumable after a crash) from a
recorded binlog position, then streams from there. The checkpoint lives in MySQL (cdc_state) and is
saved only after the engine acknowledged every document before it; documents carry an external
version derived from the binlog position, so replays after a crash are harmless. Rejected documents
go to cdc_dead_letters. Engine or MySQL outages are retried with backoff; nothing is skipped.

Only one worker is active per pipeline: a second one waits on a MySQL lock and takes over within
seconds when the first dies. MySQL restarts and failovers are waited out: the worker stops applying,
reconnects with backoff, takes the lock again (or waits as a standby if another worker got it) and
resumes from the checkpoint. It exits only on a signal or one of the codes below.
SIGTERM flushes, saves the checkpoint and exits 0.

Exit codes: 0 stopped by a signal with the checkpoint saved, 1 failure at start (MySQL or the engine
  unreachable, bad analysis profile), 2 bad configuration,
4 the saved binlog position was purged from the server (run 'soomcare cdc reset', then start again:
  it snapshots into fresh indices), 5 a watched table was dropped,
6 stopped by a signal but the final checkpoint could not be saved within 30 s (nothing is lost: the
  next start replays the events since the last saved checkpoint).
Metrics: http://<cdc.metrics_addr>/metrics (Prometheus), /healthz.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, log, db, es, err := e.start(ctx, "cdc")
			if err != nil {
				return err
			}
			defer db.Close()
			if err := indexer.CheckProfile(ctx, es, c.Search.AnalysisProfile); err != nil {
				return err
			}
			w, err := cdc.New(cdc.Config{
				DSN:           c.MySQL.DSN,
				ServerID:      c.CDC.ServerID,
				Tables:        c.CDC.Tables,
				BatchSize:     c.CDC.BatchSize,
				FlushInterval: c.CDC.FlushInterval,
				Profile:       c.Search.AnalysisProfile,
				MetricsAddr:   c.CDC.MetricsAddr,
			}, db, es, indexer.NewLifecycle(es.ES, c.Search.IndexPrefix), indexer.NewBulkWriter(es.ES, indexer.BulkOptions{RequireAlias: true}, log), log)
			if err != nil {
				return usageError{err}
			}
			err = cdcExit(w.Run(ctx))
			if err == nil {
				log.Info("stopped; checkpoint saved")
			}
			return err
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "Print the worker's position, lag, counts and dead letters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, db, err := e.configAndDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			store := cdc.NewStore(db, "default")
			st, err := store.Load(ctx)
			if errors.Is(err, cdc.ErrNoState) {
				fmt.Fprintln(e.stdout, "no checkpoint: the worker has not run yet (it will snapshot first)")
				return nil
			}
			if err != nil {
				return err
			}
			server, err := mysql.CurrentPosition(ctx, db)
			if err != nil {
				return err
			}
			dead, err := store.DeadLetterCount(ctx)
			if err != nil {
				return err
			}
			behind := "unknown"
			if server.File == st.Position.File && server.Pos >= st.Position.Pos {
				behind = fmt.Sprintf("%d bytes", server.Pos-st.Position.Pos)
			} else if server.File != st.Position.File {
				behind = "at least one binlog file"
			}
			fmt.Fprintf(e.stdout, "phase:           %s\n", st.Phase)
			fmt.Fprintf(e.stdout, "checkpoint:      %s (saved %s ago)\n", st.Position, time.Since(st.UpdatedAt).Round(time.Millisecond))
			fmt.Fprintf(e.stdout, "server position: %s (%s behind)\n", server, behind)
			if st.Phase == cdc.PhaseSnapshot {
				fmt.Fprintf(e.stdout, "snapshot:        done %v, loading %q after id %d\n", st.SnapshotDone, st.SnapshotIndex, st.SnapshotLastID)
			}
			fmt.Fprintf(e.stdout, "events applied:  %d\ndocs written:    %d\nconflicts:       %d (replays; harmless)\ndead letters:    %d\n",
				st.EventsApplied, st.DocsWritten, st.Conflicts, dead)
			return nil
		},
	}
	reset := &cobra.Command{
		Use:   "reset",
		Short: "Forget the checkpoint so the next start snapshots MySQL again",
		Long: `Delete the CDC checkpoint. The next 'soomcare cdc' snapshots every index from MySQL into fresh
physical indices (swapping the aliases when each is complete) and streams from the position noted
before the snapshot. Use it after exit code 4 (binlog purged) or to rebuild from scratch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, db, err := e.configAndDB(ctx)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := cdc.NewStore(db, "default").Reset(ctx); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "checkpoint deleted: the next 'soomcare cdc' starts with a snapshot")
			return nil
		},
	}
	cmd.AddCommand(status, reset)
	return cmd
}
