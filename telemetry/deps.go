package telemetry

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Probe is one dependency checked at every scrape.
type Probe struct {
	Name string                          // "mysql", "elasticsearch", "opensearch"
	Ping func(ctx context.Context) error // nil error means reachable
}

// Dependencies exports, at every scrape, whether each dependency answers:
//
//	soomcare_dependency_up{dependency}                1 reachable, 0 not
//	soomcare_dependency_check_duration_seconds{dependency}
//
// The probes run concurrently, each bounded by timeout, so a scrape takes at
// most timeout however many dependencies are down.
type Dependencies struct {
	probes   []Probe
	timeout  time.Duration
	up, took *prometheus.Desc
}

// NewDependencies returns the collector; register it on the process's registry.
func NewDependencies(timeout time.Duration, probes ...Probe) *Dependencies {
	return &Dependencies{
		probes: probes, timeout: timeout,
		up: prometheus.NewDesc(Namespace+"_dependency_up",
			"1 when the dependency answered a ping during this scrape, 0 when not (engine or MySQL unavailable).", []string{"dependency"}, nil),
		took: prometheus.NewDesc(Namespace+"_dependency_check_duration_seconds",
			"Duration of the ping of the dependency during this scrape.", []string{"dependency"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (d *Dependencies) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.up
	ch <- d.took
}

// Collect implements prometheus.Collector.
func (d *Dependencies) Collect(ch chan<- prometheus.Metric) {
	var wg sync.WaitGroup
	for _, p := range d.probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
			defer cancel()
			start := time.Now()
			up := 1.0
			if err := p.Ping(ctx); err != nil {
				up = 0
			}
			ch <- prometheus.MustNewConstMetric(d.up, prometheus.GaugeValue, up, p.Name)
			ch <- prometheus.MustNewConstMetric(d.took, prometheus.GaugeValue, time.Since(start).Seconds(), p.Name)
		}()
	}
	wg.Wait()
}
