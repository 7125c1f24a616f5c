package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/soomcare/soomcare/apidoc"
	"github.com/soomcare/soomcare/blobstore"
	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/community"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/content"
	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/insights"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/reminder"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/telemetry"
)

// The composition roots: one function per long-running process (serve,
// cdc, reminders) that builds every dependency of the process from the
// configuration, in order, and returns a value with Run and Close. The
// cobra commands parse flags, load the configuration and call them; the
// policy (what insights run, where uploads go, which searches warm an
// index) lives in the packages they call.

// serveRoot is the `serve` process: the API server and what it owns.
type serveRoot struct {
	log      *slog.Logger
	db       *sql.DB
	insights *insights.Runtime
	metrics  func() // stops the metrics listener
	srv      *server.Server
	ln       net.Listener
}

// newServeRoot builds `serve`: logger → MySQL → engine → services →
// HTTP mounts (the bearer-token middleware first: mounts after it see
// web.Principal) → metrics listener → server and its listener.
func newServeRoot(ctx context.Context, e *env, c *config.Config) (_ *serveRoot, err error) {
	r := &serveRoot{}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	reg := telemetry.NewRegistry() // GET /metrics on http.metrics_addr
	var es *engine.Client
	if r.log, r.db, es, err = e.open(ctx, c, "serve", reg); err != nil {
		return nil, err
	}
	log, db := r.log, r.db
	r.insights = insights.Start(ctx, c.Insights, db, es, log, reg) // search insights and suggestion blocks
	search := searchapi.New(es.ES, r.insights.SearchOptions(searchOptions(c, log)))
	authn, err := authMounts(ctx, c, db, log) // the bearer-token middleware and the auth routes
	if err != nil {
		return nil, err
	}
	uploads, err := blobstore.Open(ctx, c.Uploads, log)
	if err != nil {
		return nil, err
	}
	care, err := careMounts(ctx, c, db, log, reg) // records, medications, reminders, calendar, reports
	if err != nil {
		return nil, err
	}
	mounts := slices.Concat(authn, []func(*gin.Engine){
		community.New(db, communityOptions(c, log)).Mount,
		content.New(db, content.Options{Store: uploads, UploadDir: c.Uploads.Dir, UploadURL: c.Uploads.URLPrefix, MaxUploadBytes: c.Uploads.MaxBytes, Logger: log}).Mount,
	}, care, []func(*gin.Engine){
		r.insights.Mount,
		dictionary.NewAPI(dictionary.NewStore(db, dictionary.NewEngine(es), dictionary.Options{Logger: log}), log).Mount, // editors' dictionary and synonyms
		search.Mount, apidoc.Mount, apidoc.MountDocs,
	})
	checks := []server.Check{
		{Name: "mysql", Ping: func(ctx context.Context) error { return mysql.Ping(ctx, db) }},
		{Name: es.Kind, Ping: es.Ping},
	}
	if r.metrics, err = serveMetrics(ctx, c, log, reg, db, checks); err != nil {
		return nil, err
	}
	r.srv = server.NewWith(c.HTTP, log, checks, server.Options{Metrics: telemetry.NewHTTP(reg)}, mounts...)
	if r.ln, err = net.Listen("tcp", c.HTTP.Addr); err != nil {
		return nil, fmt.Errorf("listen on http.addr %s: %w", c.HTTP.Addr, err)
	}
	return r, nil
}

// Run serves until ctx ends, then drains (http.shutdown_timeout).
func (r *serveRoot) Run(ctx context.Context) error {
	r.log.Info("listening", "addr", r.ln.Addr().String())
	if err := r.srv.Run(ctx, r.ln); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	r.log.Info("stopped")
	return nil
}

// Close stops the metrics listener, then insights after their last
// flush, then closes MySQL.
func (r *serveRoot) Close() {
	if r.metrics != nil {
		r.metrics()
	}
	if r.insights != nil {
		r.insights.Stop()
	}
	if r.db != nil {
		r.db.Close()
	}
}

// cdcRoot is the `cdc` process: the worker and its MySQL handles.
type cdcRoot struct {
	log         *slog.Logger
	db          *sql.DB
	closeSource func()
	w           *cdc.Worker
}

// newCDCRoot builds `cdc`: logger → MySQL → engine (its analysis profile
// checked) → the binlog source (cdc.source_dsn) → lifecycle, bulk writer
// and warm-up → the worker (which serves cdc.metrics_addr).
func newCDCRoot(ctx context.Context, e *env, c *config.Config) (_ *cdcRoot, err error) {
	r := &cdcRoot{closeSource: func() {}}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	reg := telemetry.NewRegistry() // GET /metrics on cdc.metrics_addr
	var es *engine.Client
	if r.log, r.db, es, err = e.open(ctx, c, "cdc", reg); err != nil {
		return nil, err
	}
	log, db := r.log, r.db
	if err := telemetry.RegisterDB(reg, db, "soomcare"); err != nil {
		return nil, err
	}
	if err := indexer.CheckProfile(ctx, es, c.Search.AnalysisProfile); err != nil {
		return nil, err
	}
	source, closeSource, err := openCDCSource(ctx, c, log)
	if err != nil {
		return nil, err
	}
	r.closeSource = closeSource
	if source != nil {
		if err := telemetry.RegisterDB(reg, source, "soomcare_source"); err != nil {
			return nil, err
		}
	}
	life := newLifecycle(c, es, indexer.WithRules(dictionary.NewStore(db, nil, dictionary.Options{})))
	r.w, err = cdc.New(cdc.Config{
		DSN: c.MySQL.DSN, SourceDSN: c.CDC.SourceDSN, Source: source, ServerID: c.CDC.ServerID,
		Tables: c.CDC.Tables, BatchSize: c.CDC.BatchSize, FlushInterval: c.CDC.FlushInterval,
		Profile: c.Search.AnalysisProfile, MetricsAddr: c.CDC.MetricsAddr, Registry: reg,
		Warm: warmup(ctx, c, es, log, time.Minute),
	}, db, es, life, bulk.NewWriter(es.ES, bulk.Options{RequireAlias: true}, log), log)
	if err != nil {
		return nil, usageError{err}
	}
	return r, nil
}

// Run streams until ctx ends or the worker stops with an exit code (cdcExit).
func (r *cdcRoot) Run(ctx context.Context) error {
	err := cdcExit(r.w.Run(ctx))
	if err == nil {
		r.log.Info("stopped; checkpoint saved")
	}
	return err
}

// Close closes the binlog source, then MySQL.
func (r *cdcRoot) Close() {
	r.closeSource()
	if r.db != nil {
		r.db.Close()
	}
}

// warmup is the warm-up of each index rebuilt by a reindex or the CDC
// worker: for at most d, the API's searches of the queries searchapi.Warmup
// chooses (the most searched of the insights window when insights are on).
func warmup(ctx context.Context, c *config.Config, es *engine.Client, log *slog.Logger, d time.Duration) func(string) indexer.WarmOptions {
	return indexer.WarmEach(d, searchapi.Warmup(ctx, insights.WarmSource(es, c.Insights), log))
}

// remindersRoot is the `reminders` process: the dispatcher and its MySQL.
type remindersRoot struct {
	c   *config.Config
	log *slog.Logger
	db  *sql.DB
	reg *prometheus.Registry
	d   *reminder.Dispatcher
}

// newRemindersRoot builds `reminders`: logger → the push sender (push.*
// is required) → MySQL → the dispatcher. Run adds the metrics listener.
func newRemindersRoot(ctx context.Context, e *env, c *config.Config) (*remindersRoot, error) {
	r := &remindersRoot{c: c, log: e.logger(c), reg: telemetry.NewRegistry()}
	sender, err := pushSender(c)
	if err != nil {
		return nil, err
	}
	if sender == nil {
		return nil, usageError{errors.New("reminders: push.project_id is empty: configure push.* (see config.example.yaml)")}
	}
	r.db, err = openMySQLLogged(ctx, c, r.log, r.reg) // slow statements at warn; statement latency on /metrics
	if err != nil {
		return nil, err
	}
	r.d = newDispatcher(c, r.db, sender, r.log, r.reg)
	return r, nil
}

// Tick runs one pass (--once).
func (r *remindersRoot) Tick(ctx context.Context) (reminder.Stats, error) { return r.d.Tick(ctx) }

// Run serves reminders.metrics_addr and dispatches until ctx ends.
func (r *remindersRoot) Run(ctx context.Context) error {
	r.log.Info("starting", "command", "reminders", "version", Version, "interval", r.c.Reminders.Interval)
	if err := telemetry.RegisterDB(r.reg, r.db, "soomcare"); err != nil {
		return err
	}
	stopMetrics, err := telemetry.Start(ctx, "reminders.metrics_addr", r.c.Reminders.MetricsAddr, r.reg, r.log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	return r.d.Run(ctx)
}

// Close closes MySQL.
func (r *remindersRoot) Close() { r.db.Close() }

// process is what a composition root returns.
type process interface {
	Run(ctx context.Context) error
	Close()
}

// runRoot loads the configuration, builds the process with build and runs
// it until ctx ends.
func runRoot[P process](ctx context.Context, e *env, build func(context.Context, *env, *config.Config) (P, error)) error {
	c, err := e.config()
	if err != nil {
		return err
	}
	p, err := build(ctx, e, c)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Run(ctx)
}
