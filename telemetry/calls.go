package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Calls times the calls a process makes to one dependency by family: MySQL
// statements by mysql.Family ("select posts") or engine calls by
// engine.Family ("POST /{index}/_search"). Families are bounded by the schema
// and the engine's API names; they never carry values or index names.
//
//	soomcare_mysql_statement_duration_seconds{family, outcome}   (NewStatements)
//	soomcare_engine_call_duration_seconds{family, outcome}       (NewEngineCalls)
//
// Observe is meant for the statement wrapper of mysql.Open and the
// RoundTripper of engine.NewWith (an observer hook beside their slow-call log).
type Calls struct{ dur *prometheus.HistogramVec }

// NewStatements registers the MySQL statement histogram on reg.
func NewStatements(reg prometheus.Registerer) *Calls {
	return newCalls(reg, "mysql", "statement_duration_seconds",
		"MySQL statement latency (to the first row) by statement family and outcome.")
}

// NewEngineCalls registers the engine call histogram on reg.
func NewEngineCalls(reg prometheus.Registerer) *Calls {
	return newCalls(reg, "engine", "call_duration_seconds",
		"Search engine call latency by call family and outcome (failure: no answer or a status ≥ 400).")
}

func newCalls(reg prometheus.Registerer, subsystem, name, help string) *Calls {
	c := &Calls{dur: prometheus.NewHistogramVec(histogramOpts(subsystem, name, help,
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .2, .5, 1, 2.5, 5}), []string{"family", "outcome"})}
	reg.MustRegister(c.dur)
	return c
}

// Observe records one call.
func (c *Calls) Observe(family string, d time.Duration, failed bool) {
	outcome := "success"
	if failed {
		outcome = "failure"
	}
	c.dur.WithLabelValues(family, outcome).Observe(d.Seconds())
}
