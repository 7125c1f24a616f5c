// Package bulk is the bulk writer: the one path every document takes to the
// search engine (CDC and reindex alike), with external versions, ordered
// lanes per document, retries and per-item outcomes.
package bulk

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/engine"
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

func (w *Writer) write(ctx context.Context, ops []Op) (Result, error) {
	var res Result
	if len(ops) == 0 {
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("indexer: bulk write: %w", err)
	}

	lanes := make([][]int, w.opts.Concurrency)
	for pos := range ops {
		op := &ops[pos]
		if reason := validate(op); reason != "" {
			res.Failed = append(res.Failed, newItemError(pos, op, 0, "invalid_op", reason))
			continue
		}
		l := laneOf(op.Index, op.ID, len(lanes))
		lanes[l] = append(lanes[l], pos)
	}
	w.stats.failed.Add(int64(len(res.Failed)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		results  = make([]Result, len(lanes))
		errOnce  sync.Once
		firstErr error
	)
	for l, lane := range lanes {
		if len(lane) == 0 {
			continue
		}
		wg.Go(func() {
			if err := w.runLane(ctx, ops, lane, &results[l]); err != nil {
				// The first failure wins; the others are its consequences.
				errOnce.Do(func() { firstErr = err })
				cancel()
			}
		})
	}
	wg.Wait()

	for _, r := range results {
		res.Indexed += r.Indexed
		res.Deleted += r.Deleted
		res.Conflicts += r.Conflicts
		res.NotFound += r.NotFound
		res.Retries += r.Retries
		res.Failed = append(res.Failed, r.Failed...)
	}
	slices.SortFunc(res.Failed, func(a, b ItemError) int { return cmp.Compare(a.Pos, b.Pos) })
	return res, firstErr
}

// runLane sends the ops at positions lane, in order, one request at a time.
func (w *Writer) runLane(ctx context.Context, ops []Op, lane []int, res *Result) error {
	for len(lane) > 0 {
		body, err := w.acquire(ctx)
		if err != nil {
			return err
		}
		n := w.fill(body, ops, lane)
		if err := w.deliver(ctx, body, ops, lane[:n], res); err != nil {
			return err
		}
		lane = lane[n:]
	}
	return nil
}

// fill encodes as many ops of lane as fit in one request into body (at least
// one) and returns how many.
func (w *Writer) fill(body *buffer, ops []Op, lane []int) int {
	b := body.b[:0]
	n := 0
	for _, pos := range lane {
		if n == w.opts.MaxOps {
			break
		}
		before := len(b)
		b = appendOp(b, &ops[pos])
		if len(b) > w.opts.MaxBytes && n > 0 {
			b = b[:before]
			break
		}
		n++
	}
	body.b = b
	return n
}

// deliver sends the request in body (the ops at positions batch) and re-sends
// what failed until it is settled or retries run out. It releases body.
func (w *Writer) deliver(ctx context.Context, body *buffer, ops []Op, batch []int, res *Result) error {
	pending := batch
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			var err error
			if body, err = w.acquire(ctx); err != nil {
				return err
			}
			b := body.b[:0]
			for _, pos := range pending {
				b = appendOp(b, &ops[pos])
			}
			body.b = b
			res.Retries++
			w.stats.retries.Add(1)
		}
		out := w.roundTrip(ctx, body.b, ops, pending)
		w.release(body)

		switch {
		case out.fatal != nil:
			return out.fatal
		case out.retryErr != nil:
			if attempt >= w.opts.MaxRetries {
				return fmt.Errorf("indexer: bulk request of %d ops failed after %d attempts: %w", len(pending), attempt+1, out.retryErr)
			}
			d := w.backoff(attempt + 1)
			if out.unanswered {
				// Re-sending at once would pile a second copy onto an engine
				// still busy with the first (the retry storm of a slow engine):
				// wait at least as long as the unanswered attempt did.
				d = max(d, out.waited)
			}
			w.logger.WarnContext(ctx, "bulk request failed, retrying", "ops", len(pending), "attempt", attempt+1,
				"backoff", d, "err", out.retryErr)
			if err := w.opts.Sleep(ctx, d); err != nil {
				return fmt.Errorf("indexer: bulk write: waiting to retry: %w", err)
			}
			continue
		}

		w.commit(res, &out.tally)
		if len(out.retry) == 0 {
			return nil
		}
		if attempt >= w.opts.MaxRetries {
			res.Failed = append(res.Failed, out.retryErrs...)
			w.stats.failed.Add(int64(len(out.retryErrs)))
			return nil
		}
		d := w.backoff(attempt + 1)
		w.logger.WarnContext(ctx, "bulk items rejected, retrying them", "items", len(out.retry), "ops", len(pending),
			"attempt", attempt+1, "backoff", d, "status", out.retryErrs[0].Status, "type", out.retryErrs[0].Type)
		if err := w.opts.Sleep(ctx, d); err != nil {
			return fmt.Errorf("indexer: bulk write: waiting to retry: %w", err)
		}
		pending = out.retry
	}
}

// outcome is what one _bulk round trip settled.
type outcome struct {
	fatal    error // give up now: ctx ended or the engine refused the request for good
	retryErr error // the whole request may be re-sent: connection error, 429, 5xx, unreadable answer
	// unanswered: the request was sent and no answer came (a timeout, a
	// connection lost mid-request): the engine may still be working on it
	// for as long again. waited is how long the attempt took.
	unanswered bool
	waited     time.Duration
	tally      tally
	retry      []int       // positions of the items to re-send (429/5xx)
	retryErrs  []ItemError // their errors, reported if retries run out
}

// tally counts the settled items of one response.
type tally struct {
	indexed, deleted, conflicts, notFound int
	failed                                []ItemError
}

func (w *Writer) commit(res *Result, t *tally) {
	res.Indexed += t.indexed
	res.Deleted += t.deleted
	res.Conflicts += t.conflicts
	res.NotFound += t.notFound
	res.Failed = append(res.Failed, t.failed...)
	w.stats.indexed.Add(int64(t.indexed))
	w.stats.deleted.Add(int64(t.deleted))
	w.stats.conflicts.Add(int64(t.conflicts))
	w.stats.notFound.Add(int64(t.notFound))
	w.stats.failed.Add(int64(len(t.failed)))
}

// filterPath keeps the response to what the writer reads: no _index,
// _version, _shards, _seq_no or result per item.
var filterPath = []string{"errors", "items.*._id", "items.*.status", "items.*.error"}

func (w *Writer) roundTrip(ctx context.Context, body []byte, ops []Op, pending []int) outcome {
	w.stats.requests.Add(1)
	w.stats.bytes.Add(int64(len(body)))
	req := esapi.BulkRequest{
		Body:       bytes.NewReader(body), // http.NewRequest sets GetBody: transport retries re-read it without a copy
		Refresh:    w.opts.Refresh,
		FilterPath: filterPath,
	}
	if w.opts.RequireAlias {
		t := true
		req.RequireAlias = &t
	}
	sent := time.Now()
	resp, err := req.Do(ctx, w.es)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return outcome{fatal: fmt.Errorf("indexer: bulk write: %w", ctxErr)}
		}
		return outcome{retryErr: fmt.Errorf("%w: bulk: %w", engine.ErrUnavailable, err),
			unanswered: !engine.NotSent(err), waited: time.Since(sent)}
	}
	defer drain(resp)

	switch status := resp.StatusCode; {
	case status == http.StatusTooManyRequests || status >= 500:
		return outcome{retryErr: engine.CheckStatus(resp)}
	case status == http.StatusRequestEntityTooLarge && len(pending) == 1:
		// One document larger than the engine's http.max_content_length: its
		// own failure, not the batch's.
		se := statusError(engine.CheckStatus(resp))
		pos := pending[0]
		return outcome{tally: tally{failed: []ItemError{
			newItemError(pos, &ops[pos], status, "request_entity_too_large", WithholdValues(se.Reason))}}}
	case resp.IsError():
		return outcome{fatal: fmt.Errorf("indexer: bulk request refused: %w", engine.CheckStatus(resp))}
	}

	out, err := parseResponse(resp.Body, ops, pending)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return outcome{fatal: fmt.Errorf("indexer: bulk write: %w", ctxErr)}
		}
		// A truncated answer is a broken connection; re-sending is safe
		// because the versions make every op idempotent.
		return outcome{retryErr: fmt.Errorf("indexer: bulk: read response: %w", err)}
	}
	return out
}

// item is the part of a _bulk response item the writer reads.
type item struct {
	ID     string     `json:"_id"`
	Status int        `json:"status"`
	Error  *itemError `json:"error"`
}

type itemError struct {
	Type     string `json:"type"`
	Reason   string `json:"reason"`
	CausedBy *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"caused_by"`
}

// UnmarshalJSON also accepts the bare-string errors of very old engines.
func (e *itemError) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		return json.Unmarshal(data, &e.Reason)
	}
	type plain itemError
	return json.Unmarshal(data, (*plain)(e))
}

// parseResponse reads a _bulk response with a streaming decoder. When the
// engine says errors:false and the request had no deletes, it stops there: all
// items were indexed.
func parseResponse(r io.Reader, ops []Op, pending []int) (outcome, error) {
	var out outcome
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return out, err
	}
	hasDelete := false
	for _, pos := range pending {
		if ops[pos].Action == ActionDelete {
			hasDelete = true
			break
		}
	}
	sawItems := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out, err
		}
		switch tok {
		case "errors":
			var anyErr bool
			if err := dec.Decode(&anyErr); err != nil {
				return out, fmt.Errorf("errors: %w", err)
			}
			if !anyErr && !hasDelete && !sawItems {
				return outcome{tally: tally{indexed: len(pending)}}, nil
			}
		case "items":
			if err := parseItems(dec, ops, pending, &out); err != nil {
				return out, err
			}
			sawItems = true
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return out, err
			}
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return out, err
	}
	if !sawItems {
		return out, errors.New("response has no items")
	}
	return out, nil
}

func parseItems(dec *json.Decoder, ops []Op, pending []int, out *outcome) error {
	if err := expectDelim(dec, '['); err != nil {
		return err
	}
	i := 0
	for ; dec.More(); i++ {
		if err := expectDelim(dec, '{'); err != nil {
			return err
		}
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		action, _ := tok.(string)
		var it item
		if err := dec.Decode(&it); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		if err := expectDelim(dec, '}'); err != nil {
			return err
		}
		if i >= len(pending) {
			return fmt.Errorf("response has more items than the %d ops sent", len(pending))
		}
		pos := pending[i]
		op := &ops[pos]
		if action != string(op.Action) || (it.ID != "" && it.ID != op.ID) {
			return fmt.Errorf("item %d is %s %q, want %s %q: response out of step with request", i, action, it.ID, op.Action, op.ID)
		}
		classifyItem(out, pos, op, &it)
	}
	if err := expectDelim(dec, ']'); err != nil {
		return err
	}
	if i != len(pending) {
		return fmt.Errorf("response has %d items for %d ops", i, len(pending))
	}
	return nil
}

func classifyItem(out *outcome, pos int, op *Op, it *item) {
	t := &out.tally
	switch st := it.Status; {
	case st >= 200 && st < 300:
		if op.Action == ActionDelete {
			t.deleted++
		} else {
			t.indexed++
		}
	case st == http.StatusNotFound && op.Action == ActionDelete && it.Error == nil:
		t.notFound++ // result "not_found": nothing to delete
	case st == http.StatusConflict:
		t.conflicts++ // version_conflict_engine_exception: a newer version is stored
	case st == http.StatusTooManyRequests || st >= 500:
		out.retry = append(out.retry, pos)
		out.retryErrs = append(out.retryErrs, itemFailure(pos, op, it))
	default:
		t.failed = append(t.failed, itemFailure(pos, op, it))
	}
}

func itemFailure(pos int, op *Op, it *item) ItemError {
	typ, reason := "unknown", "no error in response"
	if e := it.Error; e != nil {
		// Each part is redacted on its own: a value whose end cannot be told
		// then withholds the rest of its part only, not the other's explanation.
		typ, reason = e.Type, WithholdValues(e.Reason)
		if c := e.CausedBy; c != nil && c.Reason != "" {
			reason += " (caused by " + c.Type + ": " + WithholdValues(c.Reason) + ")"
		}
	}
	return newItemError(pos, op, it.Status, typ, reason)
}

// newItemError keeps reason as it is: an engine's reason must have been
// through WithholdValues.
func newItemError(pos int, op *Op, status int, typ, reason string) ItemError {
	o := *op
	o.Doc = nil
	return ItemError{Pos: pos, Op: o, Status: status, Type: typ, Reason: reason}
}

func statusError(err error) *engine.StatusError {
	var se *engine.StatusError
	if errors.As(err, &se) {
		return se
	}
	return &engine.StatusError{Reason: fmt.Sprint(err)}
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("unexpected %v, want %v", tok, want)
	}
	return nil
}

func drain(res *esapi.Response) {
	if res != nil && res.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<20))
		res.Body.Close()
	}
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

// validate returns why op cannot be sent, or "". Such ops would make the
// engine refuse the whole request, so they are reported on their own.
func validate(op *Op) string {
	switch {
	case op.Action != ActionIndex && op.Action != ActionDelete:
		return fmt.Sprintf("unknown action %q", op.Action)
	case op.Index == "":
		return "empty index"
	case op.ID == "":
		return "empty id"
	case len(op.ID) > bulkMaxIDBytes:
		return fmt.Sprintf("id is %d bytes, longer than %d", len(op.ID), bulkMaxIDBytes)
	case op.Version <= 0:
		return fmt.Sprintf("version %d is not > 0", op.Version)
	case op.Action == ActionIndex && len(bytes.TrimSpace(op.Doc)) == 0:
		return "index op without a document"
	case op.Action == ActionIndex && bytes.IndexByte(op.Doc, '\n') >= 0 && !json.Valid(op.Doc):
		return "document with line breaks is not valid JSON"
	}
	return ""
}

// laneOf hashes (index, id) with FNV-1a onto one of n lanes.
func laneOf(index, id string, n int) int {
	if n == 1 {
		return 0
	}
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(index); i++ {
		h = (h ^ uint64(index[i])) * prime
	}
	h *= prime // a 0 byte between index and id
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * prime
	}
	return int(h % uint64(n))
}

// appendOp appends op's NDJSON lines: the action line with its external
// version and, for index, the document on one line.
func appendOp(b []byte, op *Op) []byte {
	b = append(b, `{"`...)
	b = append(b, op.Action...)
	b = append(b, `":{"_index":`...)
	b = appendString(b, op.Index)
	b = append(b, `,"_id":`...)
	b = appendString(b, op.ID)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, op.Version, 10)
	b = append(b, `,"version_type":"external_gte"}}`+"\n"...)
	if op.Action != ActionIndex {
		return b
	}
	doc := bytes.TrimSpace(op.Doc)
	if bytes.IndexByte(doc, '\n') >= 0 {
		buf := bytes.NewBuffer(b)
		if json.Compact(buf, doc) == nil { // validated by validate
			return append(buf.Bytes(), '\n')
		}
	}
	b = append(b, doc...)
	return append(b, '\n')
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			plain = false
		}
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // strings always marshal
	return append(b, q...)
}
