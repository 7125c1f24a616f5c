package bench

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/engine"
)

// Where an API request's time goes, seen from inside the API process: the
// server's access-log span (gin's middleware chain: routing, the handler's
// parsing, the engine call, decoding, page building, encoding and writing)
// and the engine call alone (the client's Perform: request written →
// response headers). With the load generator's latency of the same
// requests, outside − server span is what happens before the router runs or
// after it returns (accepting, reading and parsing the request, waiting for
// a CPU), and server span − engine call is the handler's own work.

// spans collects durations (ms) of API requests and engine calls into the
// variant it is resumed with; paused, it drops them.
type spans struct {
	mu     sync.Mutex
	into   *APIVariant
	server []float64
	engine []float64
}

func (s *spans) add(server bool, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.into == nil {
		return
	}
	ms := float64(d.Microseconds()) / 1000
	if server {
		s.server = append(s.server, ms)
	} else {
		s.engine = append(s.engine, ms)
	}
}

// resume records into v (adding to what v's earlier blocks recorded).
func (s *spans) resume(v *APIVariant) {
	s.mu.Lock()
	s.into, s.server, s.engine = v, v.Server.Latencies, v.EngineCall.Latencies
	s.mu.Unlock()
}

// pause stops recording and writes the percentiles into the variant.
func (s *spans) pause(v *APIVariant) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mk := func(vals []float64) LoadResult {
		r := LoadResult{Sent: len(vals), Latencies: vals}
		slices.Sort(r.Latencies)
		r.summarize()
		return r
	}
	v.Server, v.EngineCall = mk(s.server), mk(s.engine)
	s.into, s.server, s.engine = nil, nil, nil
}

// timedEngine returns a client whose every call is timed into sp; it sends
// through c's own client (same transport, same connection pool).
func timedEngine(c *engine.Client, sp *spans) *engine.Client {
	t := timedTransport{next: c.ES, sp: sp}
	es := &elasticsearch.Client{BaseClient: elasticsearch.BaseClient{Transport: t}, API: esapi.New(t)}
	return &engine.Client{ES: es, Kind: c.Kind, Addresses: c.Addresses}
}

type timedTransport struct {
	next esapi.Transport
	sp   *spans
}

func (t timedTransport) Perform(req *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.next.Perform(req)
	t.sp.add(false, time.Since(start))
	return res, err
}

// spanLog is a slog handler that records the event.duration of the
// server's access-log lines ("request") into sp and passes every record on.
type spanLog struct {
	next slog.Handler
	sp   *spans
}

func (h spanLog) Enabled(ctx context.Context, l slog.Level) bool {
	return l == slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h spanLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "request" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "event.duration" {
				h.sp.add(true, time.Duration(a.Value.Int64()))
				return false
			}
			return true
		})
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h spanLog) WithAttrs(as []slog.Attr) slog.Handler {
	return spanLog{next: h.next.WithAttrs(as), sp: h.sp}
}

func (h spanLog) WithGroup(g string) slog.Handler {
	return spanLog{next: h.next.WithGroup(g), sp: h.sp}
}
