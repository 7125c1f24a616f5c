package insights

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/soomcare/soomcare/searchapi"
)

func testRecorder(t *testing.T, url string, o Options) (*Recorder, *Metrics) {
	t.Helper()
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}, DisableRetry: true})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(prometheus.NewRegistry())
	return NewRecorder(es, m, o), m
}

func rec(q string, hits int64) searchapi.Record {
	return searchapi.Record{Endpoint: searchapi.EndpointSearch, Query: q, Types: []string{"posts"}, Hits: hits, Latency: time.Millisecond}
}

// A full queue drops and counts; Record never waits, with or without a
// writer stuck on a hung engine.
func TestRecordDropsWhenFull(t *testing.T) {
	hung := make(chan struct{})
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		select { // never answers while the test runs
		case <-hung:
		case <-r.Context().Done():
		}
	}))
	defer engine.Close()
	defer close(hung)
	tests := []struct {
		name       string
		run        bool // a writer is running (and stuck in _bulk)
		queue, n   int
		wantQueued int // exact when no writer takes records
	}{
		{"no writer, queue of 3", false, 3, 10, 3},
		{"no writer, queue of 1", false, 1, 1000, 1},
		{"writer stuck on the engine", true, 4, 10_000, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, m := testRecorder(t, engine.URL, Options{DataStream: "x", QueueSize: tt.queue, BatchSize: 2, FlushInterval: 10 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.run {
				go r.Run(ctx)
				time.Sleep(50 * time.Millisecond)
			}
			start := time.Now()
			for i := 0; i < tt.n; i++ {
				r.Record(rec("천식", 1))
			}
			if took := time.Since(start); took > time.Second {
				t.Fatalf("%d records took %s: Record waited", tt.n, took)
			}
			dropped := int(testutil.ToFloat64(m.dropped.WithLabelValues(DropQueueFull)))
			if tt.wantQueued >= 0 && (len(r.queue) != tt.wantQueued || dropped != tt.n-tt.wantQueued) {
				t.Fatalf("queued %d, dropped %d; want %d and %d", len(r.queue), dropped, tt.wantQueued, tt.n-tt.wantQueued)
			}
			// With a stuck writer at most one batch is out of the queue.
			if tt.wantQueued < 0 && dropped < tt.n-tt.queue-2 {
				t.Fatalf("dropped %d of %d with a queue of %d and a stuck writer", dropped, tt.n, tt.queue)
			}
		})
	}
}

// The writer sends create actions to the data stream in batches, flushes
// what is left when its context ends, and counts refused items as dropped.
func TestWriterBatchesAndCountsFailures(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.URL.Path+"\n"+string(b))
		mu.Unlock()
		lines := strings.Count(string(b), "\n") / 2
		items := make([]string, lines)
		for i := range items {
			items[i] = `{"create":{"status":201}}`
		}
		if strings.Contains(string(b), `"query":"bad"`) {
			items[len(items)-1] = `{"create":{"status":400,"error":{"type":"document_parsing_exception"}}}`
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errors":false,"items":[`+strings.Join(items, ",")+`]}`)
	}))
	defer engine.Close()
	r, m := testRecorder(t, engine.URL, Options{DataStream: "ins", QueueSize: 100, BatchSize: 3, FlushInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for _, q := range []string{"a", "b", "c", "d", "bad"} {
		r.Record(rec(q, 0))
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	<-done
	if len(bodies) != 2 {
		t.Fatalf("%d bulk requests, want 2 (a full batch of 3, then the rest at the end): %q", len(bodies), bodies)
	}
	if !strings.HasPrefix(bodies[0], "/ins/_bulk\n") || strings.Count(bodies[0], `{"create":{}}`) != 3 || !strings.Contains(bodies[0], `"event":{"duration":1000000}`) {
		t.Fatalf("first request %q", bodies[0])
	}
	if got := testutil.ToFloat64(m.written); got != 4 {
		t.Fatalf("written %v, want 4", got)
	}
	if got := testutil.ToFloat64(m.dropped.WithLabelValues(DropWriteFailed)); got != 1 {
		t.Fatalf("write_failed %v, want 1", got)
	}
}

func prometheusRegistry() *prometheus.Registry { return prometheus.NewRegistry() }
