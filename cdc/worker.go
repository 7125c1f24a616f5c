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
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/canal"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
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
	MetricsAddr       string // "" disables the metrics server
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
	lock, err := AcquireLock(ctx, w.db, lockName, time.Second, w.logger, func() {
		w.logger.Info("another cdc worker holds the lock; waiting to take over", "pipeline", w.cfg.Name)
		w.lag.reset(w.metrics) // a standby's lag means nothing
	})
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

	st, err := store.Load(sctx)
	if errors.Is(err, ErrNoState) {
		st = State{Phase: PhaseSnapshot}
	} else if err != nil {
		return w.cause(ctx, sctx, err)
	}
	if err := w.checkServer(sctx, store, &st); err != nil {
		return w.cause(ctx, sctx, err)
	}
	w.lag.since(st.UpdatedAt)
	w.dropOrphans(sctx, st)
	if st.Phase == PhaseSnapshot {
		if st, err = w.snapshot(sctx, store, st); err != nil {
			return w.cause(ctx, sctx, err)
		}
	}
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
	t := time.NewTicker(w.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.store.Beat(ctx, time.Now()); err != nil && ctx.Err() == nil {
				w.logger.Warn("heartbeat write failed", "err", err)
			}
		}
	}
}

// dropOrphans deletes the physical indices a killed build left behind (a
// SIGKILL during a snapshot or reindex): unfinished, behind no alias, not
// the snapshot this worker resumes, and with nobody building that index now
// (its build lock is free). Failures are logged: they cost disk, not data.
func (w *Worker) dropOrphans(ctx context.Context, st State) {
	for _, name := range w.indices() {
		deleted, err := indexer.DropOrphans(ctx, w.db, w.life, name, st.SnapshotPhysical)
		for _, idx := range deleted {
			w.logger.Info("deleted an index a killed build left unfinished", "index", idx, "alias", w.life.Alias(name))
		}
		if err != nil {
			w.logger.Info("not all orphaned indices were looked at or deleted", "alias", w.life.Alias(name), "err", err)
		}
	}
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

// rebuildStale rebuilds, from MySQL, any index whose alias does not exist
// (deleted by hand, or a new search.index_prefix) or whose mapping is older
// than this binary's (an upgrade added a field: strict mappings would turn
// every new document into a dead letter). The rebuild goes through a new
// physical index and an alias swap, so searches keep working meanwhile.
// Streaming then resumes from the checkpoint: the replay is harmless, the
// rebuild noted its own position.
func (w *Worker) rebuildStale(ctx context.Context, store *Store) error {
	for _, name := range w.indices() {
		want, err := mappings.SchemaVersion(name)
		if err != nil {
			return err
		}
		have, err := w.life.SchemaVersion(ctx, name)
		if err != nil {
			return fmt.Errorf("check index %s: %w", name, err)
		}
		switch {
		case have == 0:
			w.logger.Warn("search index missing; rebuilding it from MySQL before streaming", "alias", w.life.Alias(name))
		case have < want:
			w.logger.Warn("search index built for an older document shape; rebuilding it from MySQL before streaming",
				"alias", w.life.Alias(name), "schema_version", have, "wanted", want)
		case have > want:
			w.logger.Warn("search index built by a newer soomcare; streaming anyway (its extra fields stay unset) — upgrade this worker",
				"alias", w.life.Alias(name), "schema_version", have, "this_binary", want)
			continue
		default:
			continue
		}
		opts := indexer.ReindexOptions{Profile: w.cfg.Profile, Keep: 2}
		if w.cfg.Warm != nil {
			opts.Warm = w.cfg.Warm(name)
		}
		rep, err := w.reindexer(store).Run(ctx, name, opts)
		if err != nil {
			return fmt.Errorf("rebuild index %s: %w", name, err)
		}
		w.logger.Info("rebuilt", "alias", w.life.Alias(name), "documents", rep.Indexed, "took", rep.Took)
	}
	return nil
}

// reindexer builds from the source into physical indices, recording the rows
// that cannot become documents as store's dead letters (fenced, counted).
func (w *Worker) reindexer(store *Store) *indexer.Reindexer {
	return indexer.NewReindexer(w.db, w.es.ES, w.life, w.loader, w.logger).WithSource(w.source).
		WithRowErrors(countedRowErrors{store: store, metrics: w.metrics})
}

// snapshot loads every index from MySQL, resumably, and returns the state to
// stream from: the binlog position noted before the first read.
func (w *Worker) snapshot(ctx context.Context, store *Store, st State) (State, error) {
	if st.Position.File == "" {
		p, err := mysql.CurrentPosition(ctx, w.source)
		if err != nil {
			return st, err
		}
		st.Position = p
		if err := store.Save(ctx, st); err != nil {
			return st, err
		}
	}
	w.logger.Info("snapshot", "from", st.Position, "indices", w.indices(), "done", st.SnapshotDone)
	r := w.reindexer(store)
	for _, name := range w.indices() {
		if slices.Contains(st.SnapshotDone, name) {
			continue
		}
		opts := indexer.ReindexOptions{
			Profile: w.cfg.Profile,
			Keep:    2,
			Progress: func(phase string, done, total int64) {
				if phase == "load" && (done == total || done%10000 < int64(w.cfg.BatchSize)) {
					w.logger.Info("snapshot progress", "index", name, "rows", done, "of", total)
				}
			},
			OnPage: func(rp indexer.ResumePoint) error {
				st.SnapshotIndex, st.SnapshotPhysical, st.SnapshotLastID, st.SnapshotSince = name, rp.Physical, rp.AfterID, rp.Since
				return store.Save(ctx, st)
			},
		}
		if st.SnapshotIndex == name && st.SnapshotPhysical != "" {
			opts.Resume = &indexer.ResumePoint{Physical: st.SnapshotPhysical, AfterID: st.SnapshotLastID, From: st.Position, Since: st.SnapshotSince}
		}
		rep, err := r.Run(ctx, name, opts)
		if err != nil {
			return st, fmt.Errorf("snapshot %s: %w", name, err)
		}
		w.logger.Info("snapshot of index done", "index", name, "documents", rep.Indexed, "physical", rep.Physical, "took", rep.Took)
		st.SnapshotDone = append(st.SnapshotDone, name)
		st.SnapshotIndex, st.SnapshotPhysical, st.SnapshotLastID, st.SnapshotSince = "", "", 0, time.Time{}
		if err := store.Save(ctx, st); err != nil {
			return st, err
		}
	}
	st.Phase = PhaseStreaming
	st.SnapshotDone = nil
	if err := store.Save(ctx, st); err != nil {
		return st, err
	}
	return st, nil
}

// stream runs canal from st.Position until ctx ends or the stream fails.
func (w *Worker) stream(ctx context.Context, store *Store, st State) error {
	dsn, err := mysqldrv.ParseDSN(w.cfg.SourceDSN)
	if err != nil {
		return fmt.Errorf("cdc source dsn: %w", err)
	}
	flavor, err := detectFlavor(ctx, w.source)
	if err != nil {
		return err
	}
	cc := canal.NewDefaultConfig()
	cc.Addr = dsn.Addr
	cc.User = dsn.User
	cc.Password = dsn.Passwd
	cc.Charset = "utf8mb4"
	cc.Flavor = flavor
	cc.ServerID = w.cfg.ServerID
	cc.Dump.ExecutionPath = "" // no mysqldump: snapshots are ours
	cc.ParseTime = true
	cc.TimestampStringLocation = time.UTC
	cc.HeartbeatPeriod = 5 * time.Second // keeps an idle connection alive and detects a dead one
	cc.ReadTimeout = 30 * time.Second
	cc.MaxReconnectAttempts = 0 // infinite: MySQL restarts are waited out
	cc.Logger = slog.New(newWatchedLog(w.logger.Handler(), dsn.DBName, w.tableKeys())).With("component", "canal")
	tables := append(slices.Clone(w.cfg.Tables), heartbeatTable)
	for i, t := range tables {
		tables[i] = "^" + regexpQuote(dsn.DBName) + `\.` + regexpQuote(t) + "$"
	}
	cc.IncludeTableRegex = tables

	open, err := store.OpenDeadLetterDocs(ctx)
	if err != nil {
		return err
	}
	for _, name := range w.indices() { // every series from 0: the alert sees the first dead letter as an increase
		for _, source := range []string{DeadLetterRow, DeadLetterEngine} {
			w.metrics.DeadLetters.WithLabelValues(w.life.Alias(name), source)
		}
	}
	c, err := canal.NewCanal(cc)
	if err != nil {
		return classify(fmt.Errorf("start canal: %w", err))
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	items := make(chan item, 1024)
	h := &handler{ctx: sctx, out: items, db: w.source, schema: dsn.DBName, file: st.Position.File,
		tables: w.tableKeys(), logger: w.logger, metrics: w.metrics}
	c.SetEventHandler(h)
	streamErr := make(chan error, 1)
	go func() {
		streamErr <- classify(c.RunFrom(gomysql.Position{Name: st.Position.File, Pos: st.Position.Pos}))
	}()
	w.logger.Info("streaming", "from", st.Position, "flavor", flavor, "tables", w.cfg.Tables)

	a := newApplier(applier{
		reader: w.src, fanout: w.src, writer: w.writer, store: store, aliasOf: w.life.Alias, open: docSet(open),
		logger: w.logger, metrics: w.metrics, batch: w.cfg.BatchSize, interval: w.cfg.FlushInterval,
		onAck: w.cfg.OnAck, lag: w.lag,
	}, st)
	// Closing canal on shutdown stops the handler; the applier drains what is queued.
	go func() {
		<-sctx.Done()
		c.Close()
	}()
	return a.run(ctx, items, streamErr)
}

func docSet(docs []DocKey) map[DocKey]bool {
	m := make(map[DocKey]bool, len(docs))
	for _, d := range docs {
		m[d] = true
	}
	return m
}

func (w *Worker) tableKeys() map[string]keyColumn {
	known := watchedTables()
	out := map[string]keyColumn{}
	for _, t := range w.cfg.Tables {
		out[t] = known[t]
	}
	return out
}

// classify maps server errors to the worker's fatal errors: MySQL's error
// 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested binlog file or
// position is gone) is a purged binlog. Only the server's error number
// decides, never the message text (a port like 51236 is not a purge).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var my *gomysql.MyError
	if errors.As(err, &my) && my.Code == gomysql.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		return fmt.Errorf("%w: %v", ErrBinlogPurged, err)
	}
	return err
}

func detectFlavor(ctx context.Context, db *sql.DB) (string, error) {
	var v string
	if err := db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&v); err != nil {
		return "", fmt.Errorf("detect MySQL flavor: %w", err)
	}
	if strings.Contains(strings.ToLower(v), "mariadb") {
		return gomysql.MariaDBFlavor, nil
	}
	return gomysql.MySQLFlavor, nil
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
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
