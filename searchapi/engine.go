package searchapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/elastic/go-elasticsearch/v8"
	gojson "github.com/goccy/go-json"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/web"
)

// What the handlers read of an engine answer.
type result struct {
	TimedOut bool `json:"timed_out"`
	Hits     struct {
		Total *Total   `json:"total"`
		Hits  []rawHit `json:"hits"`
	} `json:"hits"`
	Suggest map[string][]struct {
		Options []rawHit `json:"options"`
	} `json:"suggest"`
}

type rawHit struct {
	ID        string              `json:"_id"`
	Source    json.RawMessage     `json:"_source"`
	Highlight map[string][]string `json:"highlight"`
	Sort      []json.RawMessage   `json:"sort"`
}

// msearchItem is one answer of a _msearch: a result or an error with its status.
type msearchItem struct {
	result
	Status int             `json:"status"`
	Error  json.RawMessage `json:"error"`
}

// errTooComplex means the engine refused a query for its size (Lucene's
// clause limit, reached through synonym expansion): the input's fault, not
// the server's, and worth one retry with the simple query.
var errTooComplex = errors.New("query too complex for the engine")

// tooComplexMarkers are what the engines put in the root cause of such a refusal.
var tooComplexMarkers = []string{"too_many_clauses", "too_many_nested_clauses", "maxClauseCount", "TooManyClauses", "TooManyNestedClauses"}

func isTooComplex(raw []byte) bool {
	for _, m := range tooComplexMarkers {
		if bytes.Contains(raw, []byte(m)) {
			return true
		}
	}
	return false
}

// resultFilter asks the engine for only what result reads (less JSON to
// build, send and parse on every keystroke); errors pass through.
var resultFilter = []string{"timed_out", "error", "status", "hits.total", "hits.hits._id", "hits.hits._source",
	"hits.hits.highlight", "hits.hits.sort", "suggest.*.options._id", "suggest.*.options._source", "suggest.*.options.text"}

// FilterPath is the filter_path query parameter of the API's _search calls,
// for benchmarks that send the API's exact requests straight to the engine.
func FilterPath() string { return strings.Join(resultFilter, ",") }

// maxAnswerBytes bounds what is read of one engine answer: pages are at
// most a hundred hits of public fields, far below it.
const maxAnswerBytes = 32 << 20

// decodeAnswer reads an engine answer whole and decodes it with goccy/go-json:
// decoding is most of the API's own CPU per search, and go-json does it in
// about a third of encoding/json's time (BenchmarkPostsPage) with the same
// semantics for the types used here.
func decodeAnswer(r io.Reader, into any) error {
	return decodeSized(r, -1, into)
}

// decodeSized is decodeAnswer for an answer of size bytes (its
// Content-Length; -1 when unknown): read into one buffer of that size, not
// io.ReadAll's doubling ones, which were a third of the bytes the API
// allocates per search (BenchmarkPostsPage) and so of its garbage
// collections under load.
func decodeSized(r io.Reader, size int64, into any) error {
	if size < 0 || size > maxAnswerBytes {
		raw, err := io.ReadAll(io.LimitReader(r, maxAnswerBytes+1))
		if err != nil {
			return err
		}
		if len(raw) > maxAnswerBytes {
			return fmt.Errorf("engine answer larger than %d bytes", maxAnswerBytes)
		}
		return gojson.Unmarshal(raw, into)
	}
	raw := make([]byte, size)
	if _, err := io.ReadFull(r, raw); err != nil {
		return err
	}
	return gojson.Unmarshal(raw, into)
}

// answerSize is an answer's Content-Length, -1 when absent or invalid.
func answerSize(h http.Header) int64 {
	n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// searcher runs request bodies against aliases, one engine round trip per call.
type searcher struct {
	es *elasticsearch.Client
}

// search runs one body against one alias.
func (s searcher) search(ctx context.Context, index string, body M) (result, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return result{}, fmt.Errorf("encode search body: %w", err)
	}
	res, err := s.es.Search(s.es.Search.WithContext(ctx), s.es.Search.WithIndex(index), s.es.Search.WithBody(bytes.NewReader(buf)),
		s.es.Search.WithFilterPath(resultFilter...))
	if err != nil {
		return result{}, transportError(ctx, err)
	}
	defer drain(res.Body)
	if res.StatusCode == http.StatusBadRequest {
		raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		if isTooComplex(raw) {
			return result{}, fmt.Errorf("search %s: %w", index, errTooComplex)
		}
		res.Body = io.NopCloser(bytes.NewReader(raw))
	}
	if err := engine.CheckStatus(res); err != nil {
		return result{}, fmt.Errorf("search %s: %w", index, err)
	}
	var out result
	if err := decodeSized(res.Body, answerSize(res.Header), &out); err != nil {
		return result{}, transportError(ctx, fmt.Errorf("decode search answer: %w", err))
	}
	if out.TimedOut {
		return result{}, fmt.Errorf("search %s: %w: the engine timed out", index, engine.ErrUnavailable)
	}
	return out, nil
}

// msearch runs one body per alias in a single _msearch round trip; results
// come back in the order of the requests. Any failed item fails the call.
func (s searcher) msearch(ctx context.Context, indices []string, bodies []M) ([]result, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for i, b := range bodies {
		if err := enc.Encode(M{"index": indices[i]}); err != nil {
			return nil, fmt.Errorf("encode msearch header: %w", err)
		}
		if err := enc.Encode(b); err != nil {
			return nil, fmt.Errorf("encode msearch body: %w", err)
		}
	}
	res, err := s.es.Msearch(&buf, s.es.Msearch.WithContext(ctx))
	if err != nil {
		return nil, transportError(ctx, err)
	}
	defer drain(res.Body)
	if err := engine.CheckStatus(res); err != nil {
		return nil, fmt.Errorf("msearch: %w", err)
	}
	var out struct {
		Responses []msearchItem `json:"responses"`
	}
	if err := decodeSized(res.Body, answerSize(res.Header), &out); err != nil {
		return nil, transportError(ctx, fmt.Errorf("decode msearch answer: %w", err))
	}
	if len(out.Responses) != len(bodies) {
		return nil, fmt.Errorf("msearch: %d answers to %d searches", len(out.Responses), len(bodies))
	}
	results := make([]result, len(bodies))
	for i, item := range out.Responses {
		if len(item.Error) > 0 && string(item.Error) != "null" {
			if isTooComplex(item.Error) {
				return nil, fmt.Errorf("msearch %s: %w", indices[i], errTooComplex)
			}
			se := &engine.StatusError{Status: item.Status, Reason: string(item.Error)}
			var detail struct{ Type, Reason string }
			if json.Unmarshal(item.Error, &detail) == nil && detail.Type != "" {
				se.Type, se.Reason = detail.Type, detail.Reason
			}
			if se.Status == 0 {
				se.Status = http.StatusInternalServerError
			}
			return nil, fmt.Errorf("msearch %s: %w", indices[i], se)
		}
		if item.TimedOut {
			return nil, fmt.Errorf("msearch %s: %w: the engine timed out", indices[i], engine.ErrUnavailable)
		}
		results[i] = item.result
	}
	return results, nil
}

// transportError marks a failure to get an answer (refused, reset, timed out,
// cut short) as the engine being unavailable.
func transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w (%w)", engine.ErrUnavailable, err, ctx.Err())
	}
	return fmt.Errorf("%w: %w", engine.ErrUnavailable, err)
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 1<<20))
	body.Close()
}

// errorTable maps an engine failure to what the client sees. The engine's
// own message never leaves the server (web.Fail logs it as the cause):
//   - unreachable, timed out, overloaded (429, 5xx), or an alias that does not
//     exist yet (404: indices not built) → 503 unavailable;
//   - refused credentials (401, 403: search.username/password/api_key wrong,
//     expired or without the privilege) → 503 unavailable too: the search is
//     down until ops fix the configuration, and nothing in the request is at
//     fault; the log line names it an engine auth failure;
//   - a query too big for the engine even in its simple form → 400
//     query_too_long: the input's size is the cause;
//   - anything else (a 400 means a query this package built is wrong) → 500.
func errorTable() web.Errors {
	const down = "검색 서버가 응답하지 않습니다. 잠시 후 다시 시도해 주세요."
	return web.Errors{
		{Is: errTooComplex, Code: web.CodeQueryTooLong, Message: "검색어가 너무 길거나 복잡합니다. 줄여서 다시 검색해 주세요."},
		{Is: engine.ErrUnavailable, Code: web.CodeUnavailable, Message: down},
		{Is: context.DeadlineExceeded, Code: web.CodeUnavailable, Message: down},
		{Is: context.Canceled, Code: web.CodeUnavailable, Message: down},
		{Match: indexMissing, Code: web.CodeUnavailable, Message: "검색 색인이 준비되지 않았습니다. 잠시 후 다시 시도해 주세요."},
		{Match: authFailure, Code: web.CodeUnavailable, Message: down},
	}
}

// indexMissing is the engine's 404: the alias does not exist yet.
func indexMissing(err error) *web.Error {
	var se *engine.StatusError
	if errors.As(err, &se) && se.Status == http.StatusNotFound {
		return &web.Error{}
	}
	return nil
}

// authFailure is the engine refusing our credentials (401, 403), named so in
// the log.
func authFailure(err error) *web.Error {
	var se *engine.StatusError
	if !errors.As(err, &se) || (se.Status != http.StatusUnauthorized && se.Status != http.StatusForbidden) {
		return nil
	}
	return &web.Error{Err: fmt.Errorf("engine auth failure (HTTP %d; check search.username, search.password, search.api_key): %w", se.Status, err)}
}
