// Package server assembles the Gin engine of `soomcare serve`: shared
// middleware, health endpoints, and the route groups that other packages mount.
package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/telemetry"
	"github.com/soomcare/soomcare/web"
)

// Check is one dependency that /readyz reports on.
type Check struct {
	Name string                          // shown in /readyz: "mysql", "elasticsearch", "opensearch"
	Ping func(ctx context.Context) error // nil error means reachable
}

// Server is the HTTP API.
type Server struct {
	cfg    config.HTTP
	logger *slog.Logger
	checks []Check
	engine *gin.Engine
	allow  *allowIndex // the methods of each path, for 405 answers
}

// New builds the router. mounts add route groups (search, records, …).
func New(cfg config.HTTP, logger *slog.Logger, checks []Check, mounts ...func(*gin.Engine)) *Server {
	return NewWith(cfg, logger, checks, Options{}, mounts...)
}

// Options are what only some callers of New want.
type Options struct {
	Metrics *telemetry.HTTP // request series of every answer (the first middleware); nil = none
}

// NewWith is New with options.
func NewWith(cfg config.HTTP, logger *slog.Logger, checks []Check, opts Options, mounts ...func(*gin.Engine)) *Server {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.Use(web.RequestID()) // first: every later log line and error envelope has the request's id
	if opts.Metrics != nil {
		e.Use(opts.Metrics.Middleware())
	}
	e.Use(web.AccessLog(logger, cfg.Proxies()), web.Recovery(logger), web.SecurityHeaders(), web.CORS(cfg.CORS.AllowedOrigins),
		web.LimitBody(cfg.MaxBodyBytes))
	e.NoRoute(web.NotFound)
	s := &Server{cfg: cfg, logger: logger, checks: checks, engine: e}
	e.NoMethod(s.methodNotAllowed)
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	for _, m := range mounts {
		m(e)
	}
	s.allow = newAllowIndex(e.Routes())
	return s
}

// Handler returns the router, for tests and for Run.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// CheckResult is one dependency's state in /readyz.
type CheckResult struct {
	Status    string `json:"status"` // up | down
	LatencyMS int64  `json:"latency_ms"`
	Error     string `json:"error,omitempty"`
}

// readyz pings every dependency concurrently, each bounded by 2 s; its 503
// is the one error envelope (code, message, request_id) with what is down.
func (s *Server) readyz(c *gin.Context) {
	results := make(map[string]CheckResult, len(s.checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range s.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
			defer cancel()
			start := time.Now()
			err := ch.Ping(ctx)
			r := CheckResult{Status: "up", LatencyMS: time.Since(start).Milliseconds()}
			if err != nil {
				r.Status, r.Error = "down", summarize(err)
				s.logger.WarnContext(ctx, "readiness check failed", "check", ch.Name, "err", err)
			}
			mu.Lock()
			results[ch.Name] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	var down []string
	for name, r := range results {
		if r.Status != "up" {
			down = append(down, name)
		}
	}
	sort.Strings(down)
	if len(down) > 0 {
		// the envelope, plus which dependencies are down and every check
		e := web.Unavailable("not ready: "+strings.Join(down, ", ")+" unreachable", nil)
		web.FailWith(c, nil, e, map[string]any{"down": down, "checks": results}) // each failed check was logged above
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": results})
}

// summarize keeps the readiness error short: the class of failure, not
// addresses or stack details.
func summarize(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case strings.Contains(err.Error(), "connection refused"):
		return "connection refused"
	case strings.Contains(err.Error(), "cluster health is red"): // engine.Ping: a primary shard has no copy
		return "cluster health red"
	default:
		var ne net.Error
		if errors.As(err, &ne) {
			return "network error"
		}
		return "unavailable"
	}
}

// Run serves on ln until ctx is cancelled, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.engine,
		ReadTimeout:       s.cfg.ReadTimeout,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
