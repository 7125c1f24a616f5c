// Package insights records what people search for and shows it to editors.
//
// Every answered search and suggest request of searchapi is handed to a
// Recorder (searchapi.Recorder) on the request path: Record stamps it and
// puts it on a bounded queue without waiting; when the queue is full the
// record is dropped and counted (soomcare_search_insights_dropped_total).
// One goroutine (Run) takes records off the queue and writes them in
// batches through _bulk into a data stream on the engine, whose template
// and lifecycle policy are installed by logstore (Store). Nothing about the
// person is stored: the normalised query, endpoint, types, hit count and
// latency, the time, and for searches a keyed hash of the client that
// changes every day (ClientHasher), which counts popular queries by
// distinct clients.
//
// Report answers the editors' questions (top queries, queries that found
// nothing, searches per day) with aggregations over the stream; Popular
// keeps an in-memory list of the most searched queries that found
// something, which suggest blends in (searchapi.Popular).
package insights

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/telemetry"
	"github.com/soomcare/soomcare/web"
)

// Reasons a record is dropped (label values of dropped_total).
const (
	DropQueueFull   = "queue_full"   // the writer was behind: the queue was full
	DropWriteFailed = "write_failed" // the engine refused or did not answer the batch
)

// Metrics are the recorder's series:
//
//	soomcare_search_insights_dropped_total{reason="queue_full|write_failed"}
//	soomcare_search_insights_written_total
type Metrics struct {
	dropped *prometheus.CounterVec
	written prometheus.Counter
}

// NewMetrics registers the recorder's series on reg (the serve registry).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "search_insights", Name: "dropped_total",
			Help: "Search insight records dropped: queue_full (the writer was behind), write_failed (the engine refused the batch).",
		}, []string{"reason"}),
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: telemetry.Namespace, Subsystem: "search_insights", Name: "written_total",
			Help: "Search insight records the engine acknowledged.",
		}),
	}
	for _, r := range []string{DropQueueFull, DropWriteFailed} {
		m.dropped.WithLabelValues(r)
	}
	reg.MustRegister(m.dropped, m.written)
	return m
}

// Options configure a Recorder.
type Options struct {
	DataStream    string        // insights.data_stream
	QueueSize     int           // insights.queue_size (default 10000)
	BatchSize     int           // records per _bulk (default 500)
	FlushInterval time.Duration // insights.flush_interval (default 2s)
	Logger        *slog.Logger
	Now           func() time.Time // the records' clock (tests); nil: time.Now
	// ClientSecret keys the daily client hash (insights.client_hash_secret);
	// empty: a random key for this process.
	ClientSecret []byte
}

// doc is one record as stored (the index template's fields).
type doc struct {
	Timestamp time.Time `json:"@timestamp"`
	Query     string    `json:"query"`
	Endpoint  string    `json:"endpoint"`
	Types     []string  `json:"types"`
	Hits      int64     `json:"hits"`
	// SuggestForm is the query as popular suggestions count and show it
	// (SuggestForm: the Hangul it stands for); absent for suggest requests
	// and for queries that stand for no word (ㅊㅅ).
	SuggestForm string `json:"suggest_form,omitempty"`
	// Client is the day's keyed hash of the client (ClientHasher); absent
	// for suggest requests.
	Client string `json:"client,omitempty"`
	Event  struct {
		Duration int64 `json:"duration"` // ns, as ECS event.duration
	} `json:"event"`
}

// Recorder queues records and writes them to the data stream (Run).
type Recorder struct {
	es      *elasticsearch.Client
	opts    Options
	queue   chan doc
	metrics *Metrics
	clients *ClientHasher
}

var _ searchapi.Recorder = (*Recorder)(nil)

// NewRecorder returns a recorder writing to es; m counts drops and writes.
func NewRecorder(es *elasticsearch.Client, m *Metrics, o Options) *Recorder {
	if o.QueueSize <= 0 {
		o.QueueSize = 10000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Recorder{es: es, opts: o, queue: make(chan doc, o.QueueSize), metrics: m, clients: NewClientHasher(o.ClientSecret)}
}

// Record queues r, or drops and counts it when the queue is full. It never
// blocks. A search's client is hashed here, so the raw id or address never
// waits in the queue.
func (rec *Recorder) Record(r searchapi.Record) {
	d := doc{Timestamp: rec.opts.Now(), Query: r.Query, Endpoint: r.Endpoint, Types: r.Types, Hits: r.Hits}
	d.Event.Duration = r.Latency.Nanoseconds()
	if r.Endpoint != searchapi.EndpointSuggest {
		typed := r.Typed
		if typed == "" {
			typed = r.Query
		}
		d.SuggestForm, _ = SuggestForm(typed)
		d.Client = rec.clients.Hash(r.Client, d.Timestamp)
	}
	select {
	case rec.queue <- d:
	default:
		rec.metrics.dropped.WithLabelValues(DropQueueFull).Inc()
	}
}

// Run writes queued records until ctx ends: a batch goes out when it has
// BatchSize records or its oldest has waited FlushInterval. When ctx ends,
// what is queued is written once more and Run returns. A write is never cut
// short by ctx (only by writeTimeout), so a batch in flight at shutdown is
// not lost.
func (rec *Recorder) Run(ctx context.Context) {
	batch := make([]doc, 0, rec.opts.BatchSize)
	tick := time.NewTicker(rec.opts.FlushInterval)
	defer tick.Stop()
	flush := func() {
		if len(batch) > 0 {
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
			rec.write(wctx, batch)
			cancel()
			batch = batch[:0]
		}
	}
	for {
		select {
		case d := <-rec.queue:
			if batch = append(batch, d); len(batch) == rec.opts.BatchSize {
				flush()
			}
		case <-tick.C:
			flush()
		case <-ctx.Done():
			for {
				select {
				case d := <-rec.queue:
					if batch = append(batch, d); len(batch) == rec.opts.BatchSize {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// writeTimeout bounds one _bulk of the writer.
const writeTimeout = 5 * time.Second

// write sends one batch as _bulk create actions (a data stream takes only
// those) and counts what the engine acknowledged and what it did not. The
// records are not retried: they are observations, and a retry would hold
// the queue behind an engine that is struggling already.
func (rec *Recorder) write(ctx context.Context, batch []doc) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	for _, d := range batch {
		body.WriteString(`{"create":{}}` + "\n")
		_ = enc.Encode(d) // strings, numbers and a time: always encodable
	}
	ok, err := rec.bulk(ctx, body.Bytes())
	rec.metrics.written.Add(float64(ok))
	if failed := len(batch) - ok; failed > 0 {
		if err == nil {
			err = fmt.Errorf("%d of %d items not acknowledged", failed, len(batch))
		}
		rec.metrics.dropped.WithLabelValues(DropWriteFailed).Add(float64(failed))
		// The error names the engine's reason; queries (users' text) are not in it.
		rec.opts.Logger.Warn("search insights: records not written", "records", failed, "error", web.Withheld(err))
	}
}

// bulk sends body to the data stream and returns how many items the engine
// acknowledged.
func (rec *Recorder) bulk(ctx context.Context, body []byte) (int, error) {
	res, err := rec.es.Bulk(bytes.NewReader(body), rec.es.Bulk.WithContext(ctx), rec.es.Bulk.WithIndex(rec.opts.DataStream),
		rec.es.Bulk.WithFilterPath("errors", "items.*.status", "items.*.error.type"))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", engine.ErrUnavailable, err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return 0, err
	}
	var out struct {
		Items []map[string]struct {
			Status int `json:"status"`
			Error  struct {
				Type string `json:"type"`
			} `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 8<<20)).Decode(&out); err != nil {
		return 0, fmt.Errorf("decode bulk answer: %w", err)
	}
	ok, firstErr := 0, ""
	for _, it := range out.Items {
		for _, r := range it {
			if r.Status >= 200 && r.Status < 300 {
				ok++
			} else if firstErr == "" {
				firstErr = fmt.Sprintf("HTTP %d %s", r.Status, r.Error.Type)
			}
		}
	}
	if firstErr != "" {
		return ok, fmt.Errorf("bulk item refused: %s", firstErr)
	}
	return ok, nil
}
