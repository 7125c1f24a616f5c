// Package telemetry gives every long-running process (serve, reminders) its
// Prometheus metrics: one registry per process with the Go runtime and
// process collectors, a listener of its own serving /metrics (never the
// public port), the HTTP middleware of the API, the MySQL pool, the
// dependency probes and the reminder dispatcher's counters.
//
// Labels are bounded by construction: Gin route templates ("unmatched" for
// unknown paths), status classes, statement families, dependency names.
// Never ids, raw paths or user text.
package telemetry

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every series this package defines.
const Namespace = "soomcare"

// counter, counterVec, gauge and histogramOpts describe the series
// soomcare_<subsystem>_<name> of this package.
func counter(subsystem, name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help})
}

func counterVec(subsystem, name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help}, labels)
}

func gauge(subsystem, name, help string) prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help})
}

func histogramOpts(subsystem, name, help string, buckets []float64) prometheus.HistogramOpts {
	return prometheus.HistogramOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help, Buckets: buckets}
}

// NewRegistry returns a registry with the Go runtime collector (GC,
// goroutines, GOMAXPROCS, GOMEMLIMIT), the process collector (CPU, RSS, file
// descriptors) and soomcare_memory_limit_bytes.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		memoryLimit())
	return reg
}

// RegisterDB adds the database/sql pool series of db (go_sql_open_connections,
// go_sql_in_use_connections, go_sql_idle_connections, go_sql_wait_count_total,
// go_sql_wait_duration_seconds_total, …) labelled db_name=name.
func RegisterDB(reg prometheus.Registerer, db *sql.DB, name string) error {
	return reg.Register(collectors.NewDBStatsCollector(db, name))
}

// memoryLimit exports the memory the process may use: the cgroup v2 limit
// (memory.max) when there is one, else the machine's MemTotal. The rule on
// RSS divides by it. Read once: neither changes while the process runs.
func memoryLimit() prometheus.Collector {
	limit := readMemoryLimit("/sys/fs/cgroup/memory.max", "/proc/meminfo")
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "memory_limit_bytes",
		Help: "Memory this process may use: the cgroup limit (memory.max), else the machine's total memory.",
	}, func() float64 { return limit })
}

func readMemoryLimit(cgroupMax, meminfo string) float64 {
	if b, err := os.ReadFile(cgroupMax); err == nil {
		if v, err := strconv.ParseFloat(strings.TrimSpace(string(b)), 64); err == nil && v > 0 {
			return v
		}
	}
	f, err := os.Open(meminfo)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			fields := strings.Fields(rest) // "16318408 kB"
			if len(fields) > 0 {
				if kb, err := strconv.ParseFloat(fields[0], 64); err == nil {
					return kb * 1024
				}
			}
		}
	}
	return 0
}

// Listener is a process's metrics endpoint: GET /metrics (Prometheus text
// format) and GET /healthz.
type Listener struct {
	ln  net.Listener
	srv *http.Server
}

// Listen binds addr (key names the configuration key in errors).
func Listen(key, addr string, reg prometheus.Gatherer) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", key, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return &Listener{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}}, nil
}

// Addr is where the listener is bound (useful with port 0).
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// Serve answers until ctx ends, then closes within 2 s.
func (l *Listener) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- l.srv.Serve(l.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := l.srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}

// Start is Listen plus Serve in the background for a command; an empty addr
// turns metrics off. stop closes the listener (at the latest when ctx ends)
// and waits for it.
func Start(ctx context.Context, key, addr string, reg prometheus.Gatherer, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	l, err := Listen(key, addr, reg)
	if err != nil {
		return nil, err
	}
	logger.Info("metrics", "addr", l.Addr())
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := l.Serve(ctx); err != nil {
			logger.Error("metrics listener", "err", err)
		}
	}()
	return func() { cancel(); <-done }, nil
}
