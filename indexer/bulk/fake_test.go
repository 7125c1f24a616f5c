package bulk_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer/bulk"
)

// bulkFakeAction is one action of a _bulk request as the fake engine received it.
type bulkFakeAction struct {
	Action      string
	Index, ID   string
	Version     int64
	VersionType string
	Doc         json.RawMessage
}

// bulkFake speaks the _bulk protocol: NDJSON in, one JSON item per action out,
// with the X-Elastic-Product header go-elasticsearch insists on. Its store
// applies external_gte versioning like the real engines.
type bulkFake struct {
	t   *testing.T
	srv *httptest.Server

	// wholeStatus, when it returns non-zero, answers request number call
	// (0-based) with that status for the whole request.
	wholeStatus func(call int) int
	// itemStatus, when it returns non-zero, answers one action with that
	// status and error instead of the store's verdict.
	itemStatus func(call int, a bulkFakeAction) (status int, typ, reason string)
	// rawBody, when it returns non-nil, is sent as the 200 answer verbatim.
	rawBody func(call int) []byte
	// delay holds each request open to let concurrent requests overlap.
	delay time.Duration
	// hold, when set, holds request number call open that long before
	// answering (past the client's timeout: an engine still at work on a
	// request its client gave up on).
	hold func(call int) time.Duration

	mu       sync.Mutex
	requests [][]bulkFakeAction // in arrival order
	sizes    []int              // body bytes per request
	queries  []url.Values
	store    map[string]int64 // index/id -> stored version
	arrived  chan struct{}    // one send per request, never blocking

	inflight, maxInflight atomic.Int32
}

func newBulkFake(t *testing.T) *bulkFake {
	t.Helper()
	f := &bulkFake{t: t, store: map[string]int64{}, arrived: make(chan struct{}, 1)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a go-elasticsearch client for the fake, with the transport's
// own retries off.
func (f *bulkFake) client() *elasticsearch.Client {
	f.t.Helper()
	return bulkTestClient(f.t, f.srv.URL)
}

func bulkTestClient(t *testing.T, url string) *elasticsearch.Client {
	t.Helper()
	c, err := engine.New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{url}, RequestTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c.ES
}

func (f *bulkFake) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/_bulk" {
		f.t.Errorf("fake engine: unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, `{"error":"unexpected"}`, http.StatusBadRequest)
		return
	}
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("fake engine: read body: %v", err)
		return
	}
	acts, err := bulkParseNDJSON(raw)
	if err != nil {
		f.t.Errorf("fake engine: %v\nbody:\n%s", err, raw)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"type":"illegal_argument_exception","reason":%q},"status":400}`, err.Error())
		return
	}
	for _, a := range acts {
		if a.Version <= 0 || a.VersionType != "external_gte" {
			f.t.Errorf("fake engine: action %s %s/%s has version %d version_type %q", a.Action, a.Index, a.ID, a.Version, a.VersionType)
		}
	}

	f.mu.Lock()
	call := len(f.requests)
	f.requests = append(f.requests, acts)
	f.sizes = append(f.sizes, len(raw))
	f.queries = append(f.queries, r.URL.Query())
	f.mu.Unlock()
	select {
	case f.arrived <- struct{}{}:
	default:
	}
	if f.delay > 0 {
		time.Sleep(time.Duration(rand.Int64N(int64(f.delay)) + 1))
	}
	if f.hold != nil {
		time.Sleep(f.hold(call))
	}

	if f.wholeStatus != nil {
		if st := f.wholeStatus(call); st != 0 {
			w.WriteHeader(st)
			fmt.Fprintf(w, `{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of bulk request %d"},"status":%d}`, call, st)
			return
		}
	}
	if f.rawBody != nil {
		if b := f.rawBody(call); b != nil {
			w.Write(b)
			return
		}
	}

	type itemErr struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	type item struct {
		Index   string   `json:"_index"`
		ID      string   `json:"_id"`
		Version int64    `json:"_version,omitempty"`
		Result  string   `json:"result,omitempty"`
		Shards  any      `json:"_shards,omitempty"`
		Status  int      `json:"status"`
		Error   *itemErr `json:"error,omitempty"`
	}
	items := make([]map[string]item, 0, len(acts))
	anyErr := false
	f.mu.Lock()
	for _, a := range acts {
		it := item{Index: a.Index, ID: a.ID}
		st, typ, reason := 0, "", ""
		if f.itemStatus != nil {
			st, typ, reason = f.itemStatus(call, a)
		}
		key := a.Index + "/" + a.ID
		stored, exists := f.store[key]
		switch {
		case st != 0:
			it.Status, it.Error = st, &itemErr{typ, reason}
		case exists && a.Version < stored:
			it.Status, it.Error = 409, &itemErr{"version_conflict_engine_exception",
				fmt.Sprintf("[%s]: version conflict, current version [%d] is higher than the one provided [%d]", a.ID, stored, a.Version)}
		case a.Action == "delete" && !exists:
			it.Status, it.Result, it.Version = 404, "not_found", a.Version
		case a.Action == "delete":
			delete(f.store, key)
			it.Status, it.Result, it.Version = 200, "deleted", a.Version
		case exists:
			f.store[key] = a.Version
			it.Status, it.Result, it.Version = 200, "updated", a.Version
		default:
			f.store[key] = a.Version
			it.Status, it.Result, it.Version = 201, "created", a.Version
		}
		if it.Error != nil {
			anyErr = true
		} else {
			it.Shards = map[string]int{"total": 1, "successful": 1, "failed": 0}
		}
		items = append(items, map[string]item{a.Action: it})
	}
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"took": 3, "errors": anyErr, "items": items})
}

// bulkParseNDJSON parses a _bulk body strictly: action line, then a document
// line for index; every line newline-terminated.
func bulkParseNDJSON(raw []byte) ([]bulkFakeAction, error) {
	if len(raw) == 0 || raw[len(raw)-1] != '\n' {
		return nil, errors.New("body does not end with a newline")
	}
	var acts []bulkFakeAction
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line map[string]struct {
			Index       string `json:"_index"`
			ID          string `json:"_id"`
			Version     int64  `json:"version"`
			VersionType string `json:"version_type"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil || len(line) != 1 {
			return nil, fmt.Errorf("bad action line %q: %v", sc.Text(), err)
		}
		for action, m := range line {
			a := bulkFakeAction{Action: action, Index: m.Index, ID: m.ID, Version: m.Version, VersionType: m.VersionType}
			switch action {
			case "index":
				if !sc.Scan() || !json.Valid(sc.Bytes()) {
					return nil, fmt.Errorf("index %s: missing or invalid document line", m.ID)
				}
				a.Doc = bytes.Clone(sc.Bytes())
			case "delete":
			default:
				return nil, fmt.Errorf("unexpected action %q", action)
			}
			acts = append(acts, a)
		}
	}
	return acts, sc.Err()
}

func (f *bulkFake) snapshot() (requests [][]bulkFakeAction, sizes []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests), slices.Clone(f.sizes)
}

// bulkSleeps records the backoffs a writer asks for, without sleeping.
type bulkSleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *bulkSleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *bulkSleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

func bulkIndexOps(n int) []bulk.Op {
	ops := make([]bulk.Op, n)
	for i := range ops {
		ops[i] = bulk.Op{Action: bulk.ActionIndex, Index: "posts", ID: fmt.Sprintf("id-%03d", i),
			Version: int64(100 + i), Doc: json.RawMessage(fmt.Sprintf(`{"n":"%03d"}`, i))}
	}
	return ops
}

func bulkIDs(acts []bulkFakeAction) []string {
	ids := make([]string, len(acts))
	for i, a := range acts {
		ids[i] = a.ID
	}
	return ids
}

func bulkWriteOK(t *testing.T, w *bulk.Writer, ops []bulk.Op) bulk.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := w.Write(ctx, ops)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	return res
}

// bulkOpBytes is the NDJSON size of an op as the writer must encode it.
func bulkOpBytes(op bulk.Op) int {
	n := len(fmt.Sprintf(`{"%s":{"_index":%q,"_id":%q,"version":%d,"version_type":"external_gte"}}`+"\n",
		op.Action, op.Index, op.ID, op.Version))
	if op.Action == bulk.ActionIndex {
		n += len(op.Doc) + 1
	}
	return n
}
