package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/engine"
)

// filterPath keeps the response to what the writer reads: no _index,
// _version, _shards, _seq_no or result per item.
var filterPath = []string{"errors", "items.*._id", "items.*.status", "items.*.error"}

// roundTrip sends one _bulk request (the ops at positions pending, encoded
// in body) and sorts what its answer settled.
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
