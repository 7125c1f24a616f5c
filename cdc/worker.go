// Package cdc streams MySQL's binlog into the search indices: `soomcare cdc`.
//
// One worker is active per pipeline (a MySQL named lock). Without a
// checkpoint it snapshots every index (indexer.Reindexer, resumable page by
// page) from a recorded binlog position, then streams from that position with
// go-mysql's canal. Events name documents; the applier re-reads those rows by
// primary key, so every write carries the row's current state and the
// version of the event that caused it (external_gte): replays and reordering
// can never leave an older state behind. The checkpoint is saved only after
// the engine acknowledged everything before it.
package cdc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/tick"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// ErrBinlogPurged means the saved position is no longer on the server.
var ErrBinlogPurged = errors.New("the saved binlog position is no longer on the MySQL server (purged)")

// ErrSourceMoved means the checkpoint is a position in the binlog of
// another server than the one the worker now reads (cdc.source_dsn, or
// mysql.dsn without it, was changed): positions mean nothing across
// servers, so streaming from it could skip or replay anything.
var ErrSourceMoved = errors.New("the checkpoint is a position in another server's binlog")

// ErrLockLost means this worker could no longer prove it holds the lock
// (MySQL restarted, or another worker may have taken over). Run does not
// return it: the session stops applying and a new one takes the lock again.
var ErrLockLost = errors.New("lost the single-worker lock")

// ErrShutdownSave means the worker was asked to stop but could not save its
// final checkpoint (MySQL or the engine unreachable within the shutdown
// budget). Nothing is lost: the events after the last saved checkpoint are
// replayed by the next start.
var ErrShutdownSave = errors.New("stopped without saving the final checkpoint")

// Config is what a worker needs to know.
type Config struct {
	Name string // pipeline name (cdc_state.name), default "default"
	DSN  string // the primary (go-sql-driver DSN with the schema): lock, checkpoints, heartbeats
	// SourceDSN is where the binlog is read and rows are re-read: a read
	// replica (cdc.source_dsn) with log_slave_updates, or "" for DSN. Source
	// is the pool over it (nil: the db given to New).
	SourceDSN         string
	Source            *sql.DB
	ServerID          uint32
	Tables            []string
	BatchSize         int
	FlushInterval     time.Duration
	HeartbeatInterval time.Duration
	Profile           string // analysis profile for snapshot indices
	// DeadLetterPoll is how often the open dead letters are counted for
	// soomcare_cdc_dead_letters_open (default 30 s).
	DeadLetterPoll time.Duration
	MetricsAddr    string // "" disables the metrics server
	// Registry, when set, carries the worker's series (nil: a new one).
	Registry *prometheus.Registry
	// OnAck, when set, is told which documents the engine acknowledged and
	// when (benchmarks measure end-to-end lag with it).
	OnAck func(at time.Time, ops []bulk.Op)
	// Warm, when set, is the warm-up of an index rebuilt at start (an older
	// schema behind a live alias) before its alias moves: the API's searches
	// (indexer.Warm). Snapshots build indices nothing searches yet.
	Warm func(name string) indexer.WarmOptions
}

// Worker is one CDC pipeline.
type Worker struct {
	cfg     Config
	db      *sql.DB // the primary: lock, checkpoints, heartbeats, build locks
	source  *sql.DB // binlog, positions and row reads (cfg.Source, or db)
	es      *engine.Client
	life    *indexer.Lifecycle
	writer  Writer         // streaming: writes through aliases (require_alias)
	loader  indexer.Writer // snapshots and rebuilds: write physical indices
	store   *Store
	src     *indexer.Source // locking re-reads: see indexer.NewLockingSource
	logger  *slog.Logger
	metrics *Metrics
	lag     *lagClock // outlives sessions (lag.go)
}

// New wires a worker. writer is usually an *bulk.Writer.
func New(cfg Config, db *sql.DB, es *engine.Client, life *indexer.Lifecycle, writer Writer, logger *slog.Logger) (*Worker, error) {
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 500 * time.Millisecond
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = time.Second
	}
	if cfg.DeadLetterPoll <= 0 {
		cfg.DeadLetterPoll = 30 * time.Second
	}
	known := watchedTables()
	for _, t := range cfg.Tables {
		if _, ok := known[t]; !ok {
			return nil, fmt.Errorf("cdc.tables: %q is not a table the CDC indexes (known: users, contents, posts, comments, post_likes)", t)
		}
	}
	source := cfg.Source
	if source == nil || cfg.SourceDSN == "" {
		source, cfg.SourceDSN = db, cfg.DSN
	}
	return &Worker{cfg: cfg, db: db, source: source, es: es, life: life, writer: writer, loader: bulk.NewWriter(es.ES, bulk.Options{}, logger),
		store: NewStore(db, cfg.Name).WithBinlog(source),
		src:   indexer.NewLockingSource(source), logger: logger, metrics: NewMetrics(cfg.Registry), lag: &lagClock{}}, nil
}

// Metrics exposes the worker's series (tests read them).
func (w *Worker) Metrics() *Metrics { return w.metrics }

// Store exposes the checkpoint store (status, reset).
func (w *Worker) Store() *Store { return w.store }

// indices returns the logical indices fed by the watched tables.
func (w *Worker) indices() []string {
	known := watchedTables()
	var out []string
	for _, name := range mappings.Names() {
		for _, t := range w.cfg.Tables {
			if known[t].index == name && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// Run keeps this worker's pipeline going until ctx ends or a fatal error.
//
// Each session takes the single-worker lock (waiting as a standby while
// another worker holds it), snapshots if needed and streams. A session that
// fails for any other reason — MySQL restarted or failed over (the lock's
// connection died with it), the engine down while a stream restarts, a lost
// lock — ends, and after a backoff with jitter a new session takes the lock
// again and resumes from the checkpoint, forever.
//
// Run returns nil when ctx ended and the final checkpoint was saved (or
// nothing was pending); an error wrapping ErrShutdownSave when ctx ended but
// the final save failed (nothing is lost: those events replay); and the fatal
// ErrBinlogPurged or ErrTableDropped, which need an operator.
func (w *Worker) Run(ctx context.Context) error {
	lockName, err := w.lockName()
	if err != nil {
		return err
	}
	if w.cfg.MetricsAddr != "" {
		stop, err := w.serveMetrics(w.cfg.MetricsAddr)
		if err != nil {
			return err
		}
		defer stop()
	}
	go w.lag.run(ctx, w.cfg.FlushInterval, time.Now, w.metrics)
	go w.watchOpenLetters(ctx)
	for attempt := 0; ; attempt++ {
		began := time.Now()
		err := w.session(ctx, lockName)
		if ctx.Err() != nil || isFatal(err) {
			return err
		}
		if time.Since(began) > time.Minute {
			attempt = 0 // a session that ran for a while starts the backoff afresh
		}
		d := backoff(attempt)
		w.logger.Warn("cdc session ended; taking the lock again and resuming from the checkpoint", "err", err, "in", d.Round(time.Millisecond))
		w.metrics.Retries.Inc()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// isFatal reports the errors that retrying cannot fix.
func isFatal(err error) bool {
	return errors.Is(err, ErrBinlogPurged) || errors.Is(err, ErrTableDropped) || errors.Is(err, ErrSourceMoved)
}

// backoff is exponential from 1 s, capped at 30 s, with full jitter above half.
func backoff(attempt int) time.Duration {
	d := min(30*time.Second, time.Second<<min(attempt, 5))
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// lockName is one lock per source database and pipeline (MySQL caps lock
// names at 64 characters).
func (w *Worker) lockName() (string, error) {
	dsn, err := mysqldrv.ParseDSN(w.cfg.DSN)
	if err != nil {
		return "", fmt.Errorf("cdc dsn: %w", err)
	}
	name := "soomcare-cdc:" + dsn.DBName + ":" + w.cfg.Name
	if len(name) > 64 {
		name = name[:64]
	}
	return name, nil
}

// session holds the lock for one stretch of work: it returns when ctx ends
// (nil or ErrShutdownSave), when the lock is lost (ErrLockLost) or on the
// first error it cannot retry in place.
func (w *Worker) session(ctx context.Context, lockName string) error {
	lock, err := AcquireLock(ctx, w.db, lockName, time.Second, w.logger, w.standby)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer lock.Release()
	w.metrics.Active.Set(1)
	defer w.metrics.Active.Set(0)
	w.logger.Info("lock acquired; this worker is active", "pipeline", w.cfg.Name)

	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// Every checkpoint and dead-letter write of this session is fenced by
	// the lock connection's id: MySQL refuses it once another worker holds
	// the lock, whatever this process believes.
	token, err := LockToken(sctx, w.db, lockName, lock.Held)
	if err != nil {
		return w.cause(ctx, sctx, err)
	}
	store := w.store.Fenced(lockName, token)
	go w.watchLock(sctx, lock, lockName, token, cancel)
	go w.heartbeat(sctx)

	st, err := w.prepare(sctx, store)
	if err != nil {
		return w.cause(ctx, sctx, err)
	}
	return w.streamUntilDone(ctx, sctx, store, st)
}

// standby runs at every lock poll while another worker holds the lock: it
// publishes the pipeline's lag as the checkpoint's age (lag.go). A failed
// read leaves the clock running from the last save seen.
func (w *Worker) standby(ctx context.Context, first bool) {
	if first {
		w.logger.Info("another cdc worker holds the lock; waiting to take over", "pipeline", w.cfg.Name)
		w.lag.reset(w.metrics) // what was pending belongs to the session that ended
	}
	st, err := w.store.Load(ctx)
	if err != nil {
		return // no checkpoint yet (the active worker snapshots) or MySQL unreachable
	}
	w.lag.standby(st.UpdatedAt)
	w.lag.observe(time.Now(), w.metrics)
}

// prepare loads the checkpoint (none: a snapshot is due), checks it belongs
// to the source's server, starts the lag clock from it, clears what killed
// builds left and runs or resumes the snapshot.
func (w *Worker) prepare(sctx context.Context, store *Store) (State, error) {
	st, err := store.Load(sctx)
	if errors.Is(err, ErrNoState) {
		st = State{Phase: PhaseSnapshot}
	} else if err != nil {
		return st, err
	}
	if err := w.checkServer(sctx, store, &st); err != nil {
		return st, err
	}
	w.lag.since(st.UpdatedAt)
	w.dropOrphans(sctx, st)
	if st.Phase == PhaseSnapshot {
		return w.snapshot(sctx, store, st)
	}
	return st, nil
}

// streamUntilDone streams, restarting from the last checkpoint after a
// stream failure (with backoff), until the session ends: ctx or sctx done,
// a fatal error, or MySQL refusing a fenced write.
func (w *Worker) streamUntilDone(ctx, sctx context.Context, store *Store, st State) error {
	for attempt := 0; ; attempt++ {
		if err := w.checkPosition(sctx, st.Position); err != nil {
			return w.cause(ctx, sctx, err)
		}
		if err := w.rebuildStale(sctx, store); err != nil {
			return w.cause(ctx, sctx, err)
		}
		err := w.stream(sctx, store, st)
		if sctx.Err() != nil {
			return w.cause(ctx, sctx, err)
		}
		if isFatal(err) {
			return err
		}
		if errors.Is(err, ErrFenced) { // MySQL says another worker holds the lock
			w.metrics.Active.Set(0)
			return err
		}
		d := backoff(attempt)
		w.logger.Warn("binlog stream stopped; restarting from the last checkpoint", "err", err, "in", d.Round(time.Millisecond))
		w.metrics.Retries.Inc()
		select {
		case <-sctx.Done():
			return w.cause(ctx, sctx, nil)
		case <-time.After(d):
		}
		if st, err = store.Load(sctx); err != nil {
			return w.cause(ctx, sctx, err)
		}
		// again at every restart: a reconnect may reach another server (a
		// failover behind one address)
		if err := w.checkServer(sctx, store, &st); err != nil {
			return w.cause(ctx, sctx, err)
		}
	}
}

// cause explains how a session ended: when the caller's ctx ended, err is
// the truth about the final save (nil or ErrShutdownSave) and any other
// error is the cancellation's echo; a lost lock (the watchdog cancelled the
// session) is ErrLockLost; otherwise err itself.
func (w *Worker) cause(ctx, sctx context.Context, err error) error {
	if ctx.Err() != nil {
		if errors.Is(err, ErrShutdownSave) {
			return err
		}
		return nil
	}
	if c := context.Cause(sctx); c != nil && errors.Is(c, ErrLockLost) {
		if err != nil {
			return errors.Join(c, err)
		}
		return c
	}
	return err
}

// watchLock cancels the session when the lock is no longer provably held:
// its connection died (a MySQL restart releases every named lock) or the
// server says another connection has it. The applier then stops at once
// (no final flush, no save: they would be fenced anyway) and
// soomcare_cdc_active drops to 0 before the session has even ended.
func (w *Worker) watchLock(ctx context.Context, lock *mysql.NamedLock, name string, token int64, cancel context.CancelCauseFunc) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cctx, c := context.WithTimeout(ctx, 2*time.Second)
		err := lock.Held(cctx)
		c()
		if err == nil {
			failures = 0
			continue
		}
		if failures++; failures >= 3 || errors.Is(err, mysql.ErrLockLost) || w.heldByOther(ctx, name, token) {
			w.logger.Warn("lost the single-worker lock; stopping this session without saving", "err", err)
			w.metrics.Active.Set(0)
			cancel(fmt.Errorf("%w: %v", ErrLockLost, err))
			return
		}
	}
}

// heldByOther asks, through the pool, whether the lock is now free or held
// by another connection than token's (the lock connection itself may be the
// one that died): then the loss is certain at once.
func (w *Worker) heldByOther(ctx context.Context, name string, token int64) bool {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var holder sql.NullInt64
	if err := w.db.QueryRowContext(cctx, "SELECT IS_USED_LOCK(?)", name).Scan(&holder); err != nil {
		return false // MySQL unreachable: the failure count decides
	}
	return !holder.Valid || holder.Int64 != token
}

func (w *Worker) heartbeat(ctx context.Context) {
	tick.Every(ctx, w.cfg.HeartbeatInterval, func() {
		if err := w.store.Beat(ctx, time.Now()); err != nil && ctx.Err() == nil {
			w.logger.Warn("heartbeat write failed", "err", err)
		}
	})
}

// checkPosition fails with ErrBinlogPurged when the file is gone.
func (w *Worker) checkPosition(ctx context.Context, p mysql.Position) error {
	files, err := BinlogFiles(ctx, w.source)
	if err != nil {
		return err
	}
	if !slices.Contains(files, p.File) {
		return fmt.Errorf("%w: checkpoint %s, server has %s…%s. Nothing was skipped: run 'soomcare cdc reset' and start the worker again to snapshot MySQL into fresh indices and stream from there",
			ErrBinlogPurged, p, first(files), last(files))
	}
	return nil
}

// checkServer refuses a checkpoint taken on another server than the source
// (ErrSourceMoved). A state without a position yet takes the source's
// server for the snapshot to note; a checkpoint saved before the server was
// recorded takes it now.
func (w *Worker) checkServer(ctx context.Context, store *Store, st *State) error {
	server, err := mysql.BinlogServer(ctx, w.source)
	if err != nil {
		return err
	}
	switch {
	case st.Position.File == "":
		st.Server = server
	case st.Server == "":
		st.Server = server
		w.logger.Info("checkpoint: recorded the server its binlog position is in", "server", server, "position", st.Position)
		return store.Save(ctx, *st)
	case st.Server != server:
		return fmt.Errorf("%w: checkpoint %s is in the binlog of %s, but the source is now %s (was cdc.source_dsn or mysql.dsn changed?). Nothing was streamed: point the source back at %s, or run 'soomcare cdc reset' and start the worker again to snapshot MySQL into fresh indices and stream from there",
			ErrSourceMoved, st.Position, st.Server, server, st.Server)
	}
	return nil
}

func first(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return s[len(s)-1]
}

func (w *Worker) serveMetrics(addr string) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cdc.metrics_addr %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) { rw.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /status", w.statusHandler) // what `soomcare cdc status` prints, as JSON
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	w.logger.Info("metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}
