// Package bulk is the bulk writer: the one path every document takes to the
// search engine (CDC and reindex alike), with external versions, ordered
// lanes per document, retries and per-item outcomes.
package bulk

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

// Action is what an Op does to its document.
type Action string

// The actions a Writer sends.
const (
	ActionIndex  Action = "index"  // create or replace the document with Op.Doc
	ActionDelete Action = "delete" // remove the document
)

// Op is one document change bound for the engine.
type Op struct {
	Action Action
	Index  string // concrete index or alias with a single write index
	ID     string // the MySQL primary key (invariant 7); at most 512 bytes
	// Version is the external version derived from the binlog position
	// (invariant 2); it must be > 0. Every action is sent with
	// version_type=external_gte: the engine applies the op only when Version
	// is >= the stored version, so an older event can never overwrite a newer
	// one, and replaying an event with the same version re-applies it
	// harmlessly (the engine answers "updated", not a conflict).
	Version int64
	// Doc is the JSON source for ActionIndex (nil for ActionDelete). Line
	// breaks are allowed: a Doc containing '\n' is compacted before sending.
	Doc json.RawMessage
}

// Options tunes a Writer. Zero values take the defaults shown.
type Options struct {
	// MaxBytes bounds the NDJSON body of one _bulk request (default 5 MiB).
	// An op larger than MaxBytes on its own is sent alone in its request.
	MaxBytes int
	// MaxOps bounds the number of ops in one _bulk request (default 2000).
	MaxOps int
	// Concurrency is how many _bulk requests may be in flight at once across
	// all Write calls of the writer, and how many request bodies it holds in
	// memory at most (default 2).
	Concurrency int
	// MaxRetries is how many times a request, or the failed items of a
	// request, are re-sent after a retryable failure (default 8; a negative
	// value disables retries).
	MaxRetries int
	// BaseBackoff and MaxBackoff shape the exponential backoff with full
	// jitter: before retry n the writer sleeps a uniformly random duration in
	// [0, min(MaxBackoff, BaseBackoff·2^(n-1))] (defaults 200 ms and 10 s).
	BaseBackoff, MaxBackoff time.Duration
	// Refresh is the _bulk refresh parameter: "" (default, no refresh),
	// "wait_for" or "true". The engine rejects other values (HTTP 400), and
	// Write then returns the error.
	Refresh string
	// RequireAlias makes the engine refuse index operations whose target is
	// not an alias (require_alias), instead of auto-creating a concrete index
	// with dynamic mappings when an alias is missing. The CDC sets it: it
	// always writes through aliases.
	RequireAlias bool
	// Sleep waits for d or until ctx is done, returning ctx's error in the
	// latter case. Nil means a timer; tests inject their own.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Defaults of Options.
const (
	bulkDefaultMaxBytes    = 5 << 20
	bulkDefaultMaxOps      = 2000
	bulkDefaultConcurrency = 2
	bulkDefaultMaxRetries  = 8
	bulkDefaultBaseBackoff = 200 * time.Millisecond
	bulkDefaultMaxBackoff  = 10 * time.Second
	bulkMaxIDBytes         = 512 // the engines reject longer ids for the whole request
)

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = bulkDefaultMaxBytes
	}
	if o.MaxOps <= 0 {
		o.MaxOps = bulkDefaultMaxOps
	}
	if o.Concurrency <= 0 {
		o.Concurrency = bulkDefaultConcurrency
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = bulkDefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = bulkDefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = bulkDefaultMaxBackoff
	}
	if o.MaxBackoff < o.BaseBackoff {
		o.MaxBackoff = o.BaseBackoff
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return o
}

// Result is the outcome of one Write, op by op. Every op given to Write is
// counted exactly once: in one of the counters or in Failed.
type Result struct {
	Indexed int // index ops applied (created or updated)
	Deleted int // delete ops that removed a document
	// Conflicts counts ops the engine refused with 409
	// version_conflict_engine_exception: the stored document has a newer
	// version, so this op is an older or reordered event. Expected and
	// acknowledged, not an error (invariant 2).
	Conflicts int
	NotFound  int // delete ops whose document did not exist: acknowledged
	// Retries counts re-sent requests: whole requests after a connection
	// error, 429 or 5xx, and partial requests carrying only the items that
	// failed with 429 or 5xx. Retries done inside the go-elasticsearch
	// transport (see Writer) are not visible here.
	Retries int
	// Failed lists every op the engine did not apply for another reason
	// (mapper_parsing_exception, index_not_found_exception, …), the ops
	// rejected before sending (Status 0, Type "invalid_op") and the items
	// still failing with 429/5xx after MaxRetries, ordered by ItemError.Pos.
	Failed []ItemError
}

// Acknowledged is the number of ops the engine accepted as final: indexed,
// deleted, conflicting (a newer version is already there) or deleted-missing.
func (r Result) Acknowledged() int { return r.Indexed + r.Deleted + r.Conflicts + r.NotFound }

// ItemError is one op the engine did not apply.
type ItemError struct {
	Pos    int    // position of the op in the slice given to Write
	Op     Op     // the op, with Doc set to nil
	Status int    // the item's HTTP status; 0 when the op was rejected before sending
	Type   string // the engine's error type, e.g. mapper_parsing_exception
	Reason string // the engine's reason, with its caused_by appended when present
}

func (e ItemError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("indexer: %s %s/%s v%d: not sent: %s: %s",
			e.Op.Action, e.Op.Index, e.Op.ID, e.Op.Version, e.Type, e.Reason)
	}
	return fmt.Sprintf("indexer: %s %s/%s v%d: HTTP %d: %s: %s",
		e.Op.Action, e.Op.Index, e.Op.ID, e.Op.Version, e.Status, e.Type, e.Reason)
}

// Temporary reports whether the engine refused the op for lack of capacity
// (429, 5xx) and kept doing so through every retry: re-sending it later may
// succeed, so a caller may prefer retrying the batch to dead-lettering it.
func (e ItemError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Stats are cumulative counters of a Writer since it was created.
type Stats struct {
	Writes    int64 // Write calls
	Errors    int64 // Write calls that returned an error
	Requests  int64 // _bulk requests sent, retries included
	Bytes     int64 // NDJSON bytes sent, retries included
	Retries   int64 // re-sent requests (see Result.Retries)
	Indexed   int64
	Deleted   int64
	Conflicts int64
	NotFound  int64
	Failed    int64
}

// Writer sends document changes to the engine with the _bulk API. It is
// safe for concurrent use; all Write calls share the Concurrency limit.
//
// Retries: the writer retries what the engine could not take (connection
// errors, 429 and 5xx for a whole request; 429 and 5xx for single items) with
// its own backoff; after a request that got no answer (a timeout), the
// backoff is at least as long as that attempt took, since the engine may
// still be working on it. The go-elasticsearch transport may retry too: engine.New
// enables the client's retry on 502/503/504 and connection errors when
// search.max_retries > 0. Those retries happen inside one request of this
// writer and are not counted in Result.Retries or Stats.Retries; the worst
// case is (1+search.max_retries)·(1+MaxRetries) attempts per request. A
// client built with search.max_retries 0 leaves all retrying to the writer.
type Writer struct {
	es     *elasticsearch.Client
	opts   Options
	logger *slog.Logger
	// bodies holds Concurrency request buffers: taking one is the permit to
	// build and send a request, so in-flight requests and buffered bodies are
	// both bounded by Concurrency.
	bodies chan *buffer
	stats  counters
}

type buffer struct{ b []byte }

type counters struct {
	writes, errors, requests, bytes, retries      atomic.Int64
	indexed, deleted, conflicts, notFound, failed atomic.Int64
}

// NewWriter returns a writer that sends through client. A nil logger
// discards logs.
func NewWriter(client *elasticsearch.Client, opts Options, logger *slog.Logger) *Writer {
	if client == nil {
		panic("indexer: NewWriter: nil client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	w := &Writer{es: client, opts: opts, logger: logger, bodies: make(chan *buffer, opts.Concurrency)}
	for range opts.Concurrency {
		w.bodies <- &buffer{}
	}
	return w
}

// Stats returns the writer's cumulative counters.
func (w *Writer) Stats() Stats {
	s := &w.stats
	return Stats{
		Writes: s.writes.Load(), Errors: s.errors.Load(), Requests: s.requests.Load(), Bytes: s.bytes.Load(),
		Retries: s.retries.Load(), Indexed: s.indexed.Load(), Deleted: s.deleted.Load(),
		Conflicts: s.conflicts.Load(), NotFound: s.notFound.Load(), Failed: s.failed.Load(),
	}
}

// Write sends ops to the engine and waits until every one is settled.
//
// Ops are split into _bulk requests of at most MaxOps ops and MaxBytes bytes,
// with at most Concurrency requests in flight. Ops for the same (Index, ID)
// keep their relative order: they are hashed to the same lane, and a lane
// sends its next request only after the previous one (with its retries) is
// settled. Every action carries Version with version_type=external_gte.
//
// Item outcomes are in the Result: applied ops are counted, 409 version
// conflicts and deletes of missing documents are counted as acknowledged, and
// every other refusal is listed in Result.Failed — with a nil error, so the
// caller can dead-letter exactly those ops and move on. Items failing with
// 429/5xx are re-sent alone until MaxRetries, then listed in Failed.
//
// A non-nil error means the batch could not be completed: a request kept
// failing through MaxRetries with a connection error, 429 or 5xx (the error
// wraps engine.ErrUnavailable) or an unreadable answer, the engine refused a
// whole request (a *engine.StatusError, e.g. 401), or ctx ended (the error
// wraps ctx's error). The caller must then treat the whole batch as not acknowledged and write it
// again later: some ops may have been applied, and replaying them is harmless
// because of the external versions. The Result returned with an error holds
// what was observed before the failure, for logging only.
//
// Concurrent Write calls are safe, but ordering holds only within one call:
// ops for the same document must not be in flight in two calls at once, and
// must name it with the same Index string (an alias and its physical index
// are different lanes).
func (w *Writer) Write(ctx context.Context, ops []Op) (Result, error) {
	w.stats.writes.Add(1)
	res, err := w.write(ctx, ops)
	if err != nil {
		w.stats.errors.Add(1)
	}
	if len(res.Failed) > 0 {
		first := res.Failed[0]
		w.logger.WarnContext(ctx, "bulk items failed", "failed", len(res.Failed), "ops", len(ops),
			"first_index", first.Op.Index, "first_id", first.Op.ID, "first_status", first.Status,
			"first_type", first.Type, "first_reason", first.Reason)
	}
	return res, err
}

// acquire takes a request buffer: the permit to build and send one request.
func (w *Writer) acquire(ctx context.Context) (*buffer, error) {
	select {
	case b := <-w.bodies:
		return b, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("indexer: bulk write: %w", ctx.Err())
	}
}

// release returns a buffer, dropping one grown far beyond MaxBytes by an
// oversized document.
func (w *Writer) release(b *buffer) {
	if cap(b.b) > 2*w.opts.MaxBytes {
		b.b = nil
	} else {
		b.b = b.b[:0]
	}
	w.bodies <- b
}

// backoff returns the wait before retry n (1-based): full jitter over
// [0, min(MaxBackoff, BaseBackoff·2^(n-1))].
func (w *Writer) backoff(n int) time.Duration {
	d := w.opts.BaseBackoff
	for i := 1; i < n && d < w.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, w.opts.MaxBackoff)
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
