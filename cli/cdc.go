package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/mappings"
)

// Exit codes of `soomcare cdc` that operators script against.
const (
	ExitBinlogPurged = 4 // the checkpoint's binlog file is gone: run `soomcare cdc reset`, restart
	ExitTableDropped = 5 // a watched table disappeared
	ExitNotSaved     = 6 // stopped by a signal, but the final checkpoint could not be saved (events replay)
	ExitSourceMoved  = 7 // the checkpoint is in another server's binlog: point the source back, or `soomcare cdc reset`
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
	case errors.Is(err, cdc.ErrSourceMoved):
		return codedError{err, ExitSourceMoved}
	}
	return err
}

func newCDCCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cdc",
		Short: "Stream MySQL binlog changes into the search indices",
		Long:  cdcHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRoot(cmd.Context(), e, newCDCRoot) // cli/roots.go
		},
	}
	cmd.AddCommand(newCDCStatusCmd(e), newCDCResetCmd(e), newCDCDeadLettersCmd(e))
	return cmd
}

const cdcHelp = `Run the CDC worker: MySQL binlog (go-mysql canal) → documents → the search engine.

Without a checkpoint it first snapshots every index from MySQL (resumable after a crash) from a
recorded binlog position, then streams from there. The checkpoint lives in MySQL (cdc_state) and is
saved only after the engine acknowledged every document before it; documents carry an external
version derived from the binlog position, so replays after a crash are harmless. Rejected documents
go to cdc_dead_letters, and so does a row that cannot become a document (malformed JSON, a value
out of range, an unreadable id): its document is deleted from the index and the stream moves on
(see 'soomcare cdc dead-letters --help'). Engine or MySQL outages are retried with backoff; nothing
is skipped.

Only one worker is active per pipeline: a second one waits on a MySQL lock and takes over within
seconds when the first dies. MySQL restarts and failovers are waited out: the worker stops applying,
reconnects with backoff, takes the lock again (or waits as a standby if another worker got it) and
resumes from the checkpoint. A worker that lost the lock stops applying at once and saves nothing:
its checkpoint and dead-letter writes are fenced by the lock connection's id, so MySQL refuses them
once another worker holds the lock. It exits only on a signal or one of the codes below.
SIGTERM flushes, saves the checkpoint and exits 0.

Exit codes: 0 stopped by a signal with the checkpoint saved, 1 failure at start (MySQL or the engine
  unreachable, bad analysis profile), 2 bad configuration,
4 the saved binlog position was purged from the server (run 'soomcare cdc reset', then start again:
  it snapshots into fresh indices), 5 a watched table was dropped,
6 stopped by a signal but the final checkpoint could not be saved within 30 s (nothing is lost: the
  next start replays the events since the last saved checkpoint),
7 the checkpoint is a position in another server's binlog than the one the worker now reads
  (cdc.source_dsn or mysql.dsn was changed): point it back, or run 'soomcare cdc reset'.
Metrics: http://<cdc.metrics_addr>/metrics (Prometheus), /healthz.`

// newCDCStatusCmd is `soomcare cdc status` (cdc.Store.Status, printed).
func newCDCStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Print the worker's position, lag, counts and dead letters",
		Long: `Print the pipeline's progress, read from MySQL (any machine with the configuration can ask;
the same figures are served as JSON at GET /status on cdc.metrics_addr):

  phase            snapshot (loading the indices from MySQL) or streaming (following the binlog)
  checkpoint       the saved binlog position: everything before it is acknowledged by the engine
  server position  where MySQL writes its binlog now, and how far behind the checkpoint is (bytes
                   across binlog files, and how many files); "purged" means the worker exits 4
  events applied   row changes read from the binlog and acknowledged (an UPDATE of 3 rows counts 3)
  docs written     index and delete operations the engine acknowledged while streaming (not the
                   snapshot's bulk load, which its log line counts), conflicts included: each
                   changed document once per batch (several changes to one row in a batch write it
                   once), plus fan-out (a nickname change rewrites the user's posts and contents)
  conflicts        the part of docs written that the engine skipped because the document already
                   had a newer version (invariant 2): a replay, never a loss. Replays happen after a
                   crash (the events since the last checkpoint) and right after a snapshot: the
                   stream starts from the position noted before the snapshot, and every change the
                   snapshot's catch-up already wrote with a newer version conflicts. After a
                   snapshot under steady writes (or one resumed after several crashes) conflicts can
                   equal docs written; that is expected.
  dead letters     open dead letters in cdc_dead_letters: rows that cannot become a document and
                   documents the engine rejected, not yet healed ('soomcare cdc dead-letters list')

The counters are saved with the checkpoint: they cover the pipeline since its first start or the
last 'cdc reset', and work done after the last checkpoint of a crashed worker is counted once, when
it is replayed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withCDCStore(cmd.Context(), func(store *cdc.Store) error {
				st, err := store.Status(cmd.Context(), time.Now())
				if err != nil {
					return err
				}
				printCDCStatus(e.stdout, st)
				if c, err := e.config(); err == nil {
					if es, err := engine.New(c.Search); err == nil {
						printShapes(cmd.Context(), e.stdout, c, es, mappings.Names())
					}
				}
				return nil
			})
		},
	}
}

// newCDCResetCmd is `soomcare cdc reset`.
func newCDCResetCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "reset",
		Short: "Forget the checkpoint so the next start snapshots MySQL again",
		Long: `Delete the CDC checkpoint. The next 'soomcare cdc' snapshots every index from MySQL into fresh
physical indices (swapping the aliases when each is complete) and streams from the position noted
before the snapshot. Use it after exit code 4 (binlog purged) or to rebuild from scratch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withCDCStore(cmd.Context(), func(store *cdc.Store) error {
				if err := store.Reset(cmd.Context()); err != nil {
					return err
				}
				fmt.Fprintln(e.stdout, "checkpoint deleted: the next 'soomcare cdc' starts with a snapshot")
				return nil
			})
		},
	}
}

// withCDCStore opens MySQL (and cdc.source_dsn) and runs fn with the
// checkpoint store of the pipeline the worker runs ("default").
func (e *env) withCDCStore(ctx context.Context, fn func(*cdc.Store) error) error {
	return e.withConfigDB(ctx, func(c *config.Config, db *sql.DB) error {
		source, closeSource, err := openCDCSource(ctx, c, nil)
		if err != nil {
			return err
		}
		defer closeSource()
		return fn(cdc.NewStore(db, "default").WithBinlog(source))
	})
}

// openCDCSource opens cdc.source_dsn, the read replica the CDC follows (and
// reindex reads), waiting for it like mysql.dsn; nil and a no-op when unset.
func openCDCSource(ctx context.Context, c *config.Config, log *slog.Logger) (*sql.DB, func(), error) {
	if c.CDC.SourceDSN == "" {
		return nil, func() {}, nil
	}
	sc := *c
	sc.MySQL.DSN = c.CDC.SourceDSN
	db, err := openMySQLLogged(ctx, &sc, log, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("cdc.source_dsn: %w", err)
	}
	return db, func() { db.Close() }, nil
}

// printCDCStatus writes st for humans; the JSON of GET /status has the same fields.
func printCDCStatus(w io.Writer, st cdc.Status) {
	if st.Phase == cdc.PhaseNone {
		fmt.Fprintln(w, "no checkpoint: the worker has not run yet (it will snapshot first)")
		return
	}
	behind := fmt.Sprintf("%d bytes behind", st.BytesBehind)
	switch {
	case st.SourceMoved:
		behind = fmt.Sprintf("the checkpoint is in the binlog of %s, not this server's: point the source back or run 'soomcare cdc reset'", st.CheckpointServer)
	case st.CheckpointPurged:
		behind = "the checkpoint's binlog file was purged: run 'soomcare cdc reset'"
	case st.FilesBehind > 0:
		behind += fmt.Sprintf(", %d binlog files further", st.FilesBehind)
	}
	ago := time.Duration(st.SavedAgoSeconds * float64(time.Second)).Round(time.Millisecond)
	fmt.Fprintf(w, "phase:           %s\n", st.Phase)
	fmt.Fprintf(w, "checkpoint:      %s (saved %s ago)\n", st.Checkpoint, ago)
	fmt.Fprintf(w, "server position: %s (%s)\n", st.Server, behind)
	if st.SourceServer != "" {
		fmt.Fprintf(w, "binlog server:   %s\n", st.SourceServer)
	}
	if s := st.Snapshot; s != nil {
		fmt.Fprintf(w, "snapshot:        done %v, loading %q after id %d\n", s.Done, s.Index, s.AfterID)
	}
	fmt.Fprintf(w, "events applied:  %d\ndocs written:    %d\nconflicts:       %d (replays, harmless: see --help)\ndead letters:    %d\n",
		st.EventsApplied, st.DocsWritten, st.Conflicts, st.DeadLetters)
}
