package cdc

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the worker's Prometheus series, on a registry of its own.
type Metrics struct {
	Registry    *prometheus.Registry
	Events      *prometheus.CounterVec // row events by table and operation
	Docs        *prometheus.CounterVec // documents written by index and action
	Conflicts   prometheus.Counter
	DeadLetters *prometheus.CounterVec // new dead letters by index and source (row | engine)
	OpenLetters *prometheus.GaugeVec   // open dead letters by index, counted in MySQL (deadletters_open.go)
	Retries     prometheus.Counter
	BulkSeconds prometheus.Histogram
	LagSeconds  prometheus.Gauge
	Checkpoints prometheus.Counter
	Active      prometheus.Gauge // 1 while this process holds the single-worker lock
}

// NewMetrics registers the series on reg, or on a new registry with the Go
// runtime and process collectors when reg is nil (the command passes the
// process's telemetry registry, which has those and the memory limit).
func NewMetrics(reg *prometheus.Registry) *Metrics {
	runtime := reg == nil
	if runtime {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		Registry: reg,
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soomcare_cdc_events_total", Help: "Binlog row events received, by table and operation.",
		}, []string{"table", "op"}),
		Docs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soomcare_cdc_documents_total", Help: "Documents acknowledged by the engine, by index and action.",
		}, []string{"index", "action"}),
		Conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soomcare_cdc_version_conflicts_total", Help: "Writes the engine skipped because a newer version was already indexed (replays).",
		}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "soomcare_cdc_dead_letters_total", Help: "New dead letters recorded in cdc_dead_letters, by index and source: row (the row cannot become a document) or engine (the engine refused the document).",
		}, []string{"index", "source"}),
		OpenLetters: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "soomcare_cdc_dead_letters_open", Help: "Open dead letters of the pipeline by index, counted in cdc_dead_letters (whoever recorded them: this worker, another, `soomcare reindex` or a rollback): documents missing from search until their row is fixed or retried.",
		}, []string{"index"}),
		Retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soomcare_cdc_retries_total", Help: "Retries after an engine or MySQL failure: flushes, reads, checkpoint saves, stream and session restarts.",
		}),
		BulkSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "soomcare_cdc_bulk_seconds", Help: "Latency of one flush (read rows, _bulk, acknowledge).",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}),
		LagSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "soomcare_cdc_lag_seconds", Help: "Now minus the commit time of the oldest binlog event not yet acknowledged by the engine (and checkpointed); while nothing is pending, the age of the newest acknowledged heartbeat; on a standby, the age of the checkpoint it last read. Grows second by second during any stall, also when no worker is active.",
		}),
		Checkpoints: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "soomcare_cdc_checkpoints_total", Help: "Checkpoints saved.",
		}),
		Active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "soomcare_cdc_active", Help: "1 while this worker holds the single-worker lock and applies events; 0 while it waits (standby, or reconnecting after a MySQL restart).",
		}),
	}
	m.Registry.MustRegister(m.Events, m.Docs, m.Conflicts, m.DeadLetters, m.OpenLetters, m.Retries, m.BulkSeconds, m.LagSeconds, m.Checkpoints, m.Active)
	if runtime {
		m.Registry.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	}
	return m
}
