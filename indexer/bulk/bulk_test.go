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
	"strings"
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

func TestBulkSplitsRequestsByOpsAndBytes(t *testing.T) {
	ops := bulkIndexOps(10)
	one := bulkOpBytes(ops[0]) // every op of bulkIndexOps has the same size
	big := bulkIndexOps(3)
	for i := range big {
		big[i].Doc = json.RawMessage(`{"body":"` + strings.Repeat("천식", 100) + `"}`)
	}
	tests := []struct {
		name     string
		opts     bulk.Options
		ops      []bulk.Op
		want     []int // ops per request, in order (Concurrency 1)
		maxBytes int
	}{
		{"by ops", bulk.Options{MaxOps: 3}, ops, []int{3, 3, 3, 1}, 0},
		{"by bytes", bulk.Options{MaxBytes: 2*one + one/2}, ops, []int{2, 2, 2, 2, 2}, 2*one + one/2},
		{"exact fit", bulk.Options{MaxBytes: 5 * one}, ops, []int{5, 5}, 5 * one},
		{"ops before bytes", bulk.Options{MaxOps: 4, MaxBytes: 5 * one}, ops, []int{4, 4, 2}, 5 * one},
		{"oversized op goes alone", bulk.Options{MaxBytes: 100}, big, []int{1, 1, 1}, 0},
		{"defaults: one request", bulk.Options{}, ops, []int{10}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			tt.opts.Concurrency = 1
			w := bulk.NewWriter(f.client(), tt.opts, nil)
			res := bulkWriteOK(t, w, tt.ops)
			if res.Indexed != len(tt.ops) || len(res.Failed) != 0 || res.Retries != 0 {
				t.Errorf("result = %+v", res)
			}
			reqs, sizes := f.snapshot()
			var got []int
			var ids []string
			for i, r := range reqs {
				got = append(got, len(r))
				ids = append(ids, bulkIDs(r)...)
				if tt.maxBytes > 0 && sizes[i] > tt.maxBytes {
					t.Errorf("request %d is %d bytes > MaxBytes %d", i, sizes[i], tt.maxBytes)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ops per request = %v, want %v", got, tt.want)
			}
			if !slices.Equal(ids, bulkIDs(bulkFakeActions(tt.ops))) {
				t.Errorf("ids sent = %v, want the ops in order", ids)
			}
		})
	}
}

func bulkFakeActions(ops []bulk.Op) []bulkFakeAction {
	out := make([]bulkFakeAction, len(ops))
	for i, op := range ops {
		out[i] = bulkFakeAction{Action: string(op.Action), Index: op.Index, ID: op.ID, Version: op.Version}
	}
	return out
}

func TestBulkEveryActionCarriesExternalVersion(t *testing.T) {
	f := newBulkFake(t)
	pretty := json.RawMessage("{\n  \"title\": \"천식 흡입기\",\n  \"n\": 1\n}\n")
	ops := []bulk.Op{
		{Action: bulk.ActionIndex, Index: "posts", ID: "1", Version: 1, Doc: json.RawMessage(`{"a":1}`)},
		{Action: bulk.ActionIndex, Index: "posts", ID: `quo"te\back`, Version: 1 << 40, Doc: pretty},
		{Action: bulk.ActionIndex, Index: "contents", ID: "흡입기-7", Version: 9, Doc: json.RawMessage(`{"b":"x"}`)},
		{Action: bulk.ActionDelete, Index: "posts", ID: "2", Version: 3},
		{Action: bulk.ActionDelete, Index: "users", ID: "tab\there", Version: 5},
	}
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1}, nil)
	res := bulkWriteOK(t, w, ops)
	if res.Indexed != 3 || res.NotFound != 2 || len(res.Failed) != 0 {
		t.Errorf("result = %+v", res)
	}
	reqs, _ := f.snapshot()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	for i, a := range reqs[0] {
		op := ops[i]
		if a.Action != string(op.Action) || a.Index != op.Index || a.ID != op.ID || a.Version != op.Version || a.VersionType != "external_gte" {
			t.Errorf("action %d = %+v, want %+v with version_type external_gte", i, a, op)
		}
	}
	if got := string(reqs[0][1].Doc); got != `{"title":"천식 흡입기","n":1}` {
		t.Errorf("pretty document sent as %q, want it compacted onto one line", got)
	}
}

func TestBulkKeepsPerIDOrderUnderConcurrency(t *testing.T) {
	f := newBulkFake(t)
	f.delay = 3 * time.Millisecond
	const ids, versions = 60, 6
	var ops []bulk.Op
	for v := 1; v <= versions; v++ { // round-robin: v1 of every id, then v2, …
		for id := range ids {
			op := bulk.Op{Action: bulk.ActionIndex, Index: "posts", ID: fmt.Sprint(id), Version: int64(v),
				Doc: json.RawMessage(fmt.Sprintf(`{"v":%d}`, v))}
			if v == versions && id%3 == 0 {
				op = bulk.Op{Action: bulk.ActionDelete, Index: "posts", ID: fmt.Sprint(id), Version: int64(v)}
			}
			ops = append(ops, op)
		}
	}
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 4, MaxOps: 7}, nil)
	res := bulkWriteOK(t, w, ops)
	// Out-of-order delivery would show as conflicts (older after newer) here.
	if res.Conflicts != 0 || len(res.Failed) != 0 || res.Indexed+res.Deleted != len(ops) || res.Deleted != ids/3 {
		t.Errorf("result = %+v, want every op applied in order", res)
	}
	reqs, _ := f.snapshot()
	last := map[string]int64{}
	for _, r := range reqs {
		for _, a := range r {
			if a.Version <= last[a.ID] {
				t.Errorf("id %s: version %d arrived after %d", a.ID, a.Version, last[a.ID])
			}
			last[a.ID] = a.Version
		}
	}
	if got := f.maxInflight.Load(); got < 2 || got > 4 {
		t.Errorf("max requests in flight = %d, want 2..4", got)
	}
}

func TestBulkConcurrencyIsSharedByConcurrentWrites(t *testing.T) {
	f := newBulkFake(t)
	f.delay = 5 * time.Millisecond
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 2, MaxOps: 3}, nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			ops := bulkIndexOps(30)
			for i := range ops {
				ops[i].Index = fmt.Sprintf("posts-%d", g)
			}
			res, err := w.Write(context.Background(), ops)
			if err != nil || res.Indexed != 30 {
				t.Errorf("writer %d: %+v, %v", g, res, err)
			}
		})
	}
	wg.Wait()
	if got := f.maxInflight.Load(); got > 2 {
		t.Errorf("max requests in flight = %d, want <= Concurrency 2", got)
	}
}

// bulkCheckBackoff checks full-jitter waits: retry n waits at most
// min(max, base·2^(n-1)).
func bulkCheckBackoff(t *testing.T, sleeps []time.Duration, base, max time.Duration) {
	t.Helper()
	for i, d := range sleeps {
		limit := min(max, base<<i)
		if d < 0 || d > limit {
			t.Errorf("backoff %d = %v, want within [0, %v]", i+1, d, limit)
		}
	}
}

func TestBulkRetriesWholeRequest(t *testing.T) {
	for _, status := range []int{429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newBulkFake(t)
			f.wholeStatus = func(call int) int {
				if call < 2 {
					return status
				}
				return 0
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
			res := bulkWriteOK(t, w, bulkIndexOps(5))
			if res.Indexed != 5 || res.Retries != 2 || len(res.Failed) != 0 {
				t.Errorf("result = %+v, want 5 indexed after 2 retries", res)
			}
			reqs, _ := f.snapshot()
			if len(reqs) != 3 || len(reqs[2]) != 5 {
				t.Errorf("requests = %d, want 3 whole requests", len(reqs))
			}
			got := sleeps.all()
			if len(got) != 2 {
				t.Fatalf("slept %v, want 2 backoffs", got)
			}
			bulkCheckBackoff(t, got, 200*time.Millisecond, 10*time.Second)
		})
	}
}

// A request that timed out may still be running on the engine: the retry
// waits at least as long as the unanswered attempt took, instead of piling a
// second copy onto a busy engine after the usual short backoff.
func TestBulkRetryAfterTimeoutWaitsOutTheAttempt(t *testing.T) {
	f := newBulkFake(t)
	f.hold = func(call int) time.Duration {
		if call == 0 {
			return 600 * time.Millisecond
		}
		return 0
	}
	const timeout = 200 * time.Millisecond
	c, err := engine.New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{f.srv.URL}, RequestTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(c.ES, bulk.Options{Concurrency: 1, BaseBackoff: 10 * time.Millisecond, Sleep: sleeps.sleep}, nil)
	res := bulkWriteOK(t, w, bulkIndexOps(5))
	if res.Indexed != 5 || res.Retries != 1 {
		t.Errorf("result = %+v, want 5 indexed after 1 retry", res)
	}
	got := sleeps.all()
	if len(got) != 1 || got[0] < timeout {
		t.Errorf("backoffs %v; want one of at least the %s the unanswered attempt took", got, timeout)
	}
}

// A connection refused sent nothing: the usual backoff, nothing to wait out.
func TestBulkRetryAfterRefusedConnectionIsShort(t *testing.T) {
	f := newBulkFake(t)
	addr := f.srv.Listener.Addr().String()
	f.srv.Close()
	c, err := engine.New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{"http://" + addr}, RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(c.ES, bulk.Options{Concurrency: 1, BaseBackoff: 10 * time.Millisecond, MaxRetries: 2, Sleep: sleeps.sleep}, nil)
	if _, err := w.Write(context.Background(), bulkIndexOps(1)); !errors.Is(err, engine.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	bulkCheckBackoff(t, sleeps.all(), 10*time.Millisecond, 10*time.Second)
}

func TestBulkBackoffIsCappedFullJitter(t *testing.T) {
	f := newBulkFake(t)
	f.wholeStatus = func(call int) int {
		if call < 8 {
			return http.StatusTooManyRequests
		}
		return 0
	}
	var sleeps bulkSleeps
	const base, max = 100 * time.Millisecond, 400 * time.Millisecond
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, BaseBackoff: base, MaxBackoff: max,
		MaxRetries: 8, Sleep: sleeps.sleep}, nil)
	res := bulkWriteOK(t, w, bulkIndexOps(2))
	if res.Indexed != 2 || res.Retries != 8 {
		t.Errorf("result = %+v", res)
	}
	got := sleeps.all()
	if len(got) != 8 {
		t.Fatalf("slept %v, want 8 backoffs", got)
	}
	bulkCheckBackoff(t, got, base, max)
	jittered := false
	for i, d := range got {
		if d != min(max, base<<i) {
			jittered = true
		}
	}
	if !jittered {
		t.Errorf("backoffs %v are all exactly the cap: no jitter", got)
	}
}

func TestBulkRetriesOnlyRejectedItems(t *testing.T) {
	for _, status := range []int{429, 503} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			f := newBulkFake(t)
			f.itemStatus = func(call int, a bulkFakeAction) (int, string, string) {
				if call == 0 && (a.ID == "id-003" || a.ID == "id-007") {
					return status, "es_rejected_execution_exception", "rejected execution of coordinating operation"
				}
				return 0, "", ""
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
			res := bulkWriteOK(t, w, bulkIndexOps(10))
			if res.Indexed != 10 || res.Retries != 1 || len(res.Failed) != 0 {
				t.Errorf("result = %+v, want 10 indexed after 1 retry", res)
			}
			reqs, _ := f.snapshot()
			if len(reqs) != 2 {
				t.Fatalf("%d requests, want 2", len(reqs))
			}
			if got := bulkIDs(reqs[1]); !slices.Equal(got, []string{"id-003", "id-007"}) {
				t.Errorf("retry sent %v, want only the rejected items in order", got)
			}
			if len(sleeps.all()) != 1 {
				t.Errorf("slept %v, want one backoff", sleeps.all())
			}
		})
	}
}

func TestBulkItemOutcomes(t *testing.T) {
	const reason = "failed to parse field [n] of type [integer] in document with id 'bad'"
	tests := []struct {
		name   string
		stored map[string]int64 // preloaded versions, index/id
		item   func(a bulkFakeAction) (int, string, string)
		ops    []bulk.Op
		want   bulk.Result
	}{
		{
			name: "mapper_parsing_exception is reported, the rest applied",
			item: func(a bulkFakeAction) (int, string, string) {
				if a.ID == "bad" {
					return 400, "mapper_parsing_exception", reason
				}
				return 0, "", ""
			},
			ops: []bulk.Op{
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 1, Doc: json.RawMessage(`{"n":1}`)},
				{Action: bulk.ActionIndex, Index: "p", ID: "bad", Version: 2, Doc: json.RawMessage(`{"n":"x"}`)},
				{Action: bulk.ActionIndex, Index: "p", ID: "3", Version: 3, Doc: json.RawMessage(`{"n":3}`)},
			},
			want: bulk.Result{Indexed: 2, Failed: []bulk.ItemError{{Pos: 1,
				Op:     bulk.Op{Action: bulk.ActionIndex, Index: "p", ID: "bad", Version: 2},
				Status: 400, Type: "mapper_parsing_exception", Reason: reason}}},
		},
		{
			name:   "409 is a conflict, not a failure",
			stored: map[string]int64{"p/1": 10, "p/2": 10},
			ops: []bulk.Op{
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 5, Doc: json.RawMessage(`{}`)},
				{Action: bulk.ActionDelete, Index: "p", ID: "2", Version: 9},
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 10, Doc: json.RawMessage(`{}`)},
			},
			want: bulk.Result{Indexed: 1, Conflicts: 2},
		},
		{
			name:   "deletes: found, missing, missing index",
			stored: map[string]int64{"p/1": 1},
			item: func(a bulkFakeAction) (int, string, string) {
				if a.Index == "gone" {
					return 404, "index_not_found_exception", "no such index [gone]"
				}
				return 0, "", ""
			},
			ops: []bulk.Op{
				{Action: bulk.ActionDelete, Index: "p", ID: "1", Version: 2},
				{Action: bulk.ActionDelete, Index: "p", ID: "2", Version: 2},
				{Action: bulk.ActionDelete, Index: "gone", ID: "3", Version: 2},
			},
			want: bulk.Result{Deleted: 1, NotFound: 1, Failed: []bulk.ItemError{{Pos: 2,
				Op:     bulk.Op{Action: bulk.ActionDelete, Index: "gone", ID: "3", Version: 2},
				Status: 404, Type: "index_not_found_exception", Reason: "no such index [gone]"}}},
		},
		{
			name: "invalid ops are reported and not sent",
			ops: []bulk.Op{
				{Action: bulk.ActionIndex, Index: "p", ID: "1", Version: 0, Doc: json.RawMessage(`{}`)},
				{Action: bulk.ActionIndex, Index: "p", ID: "2", Version: 1},
				{Action: "update", Index: "p", ID: "3", Version: 1},
				{Action: bulk.ActionDelete, Index: "p", ID: strings.Repeat("x", 513), Version: 1},
				{Action: bulk.ActionIndex, Index: "p", ID: "5", Version: 1, Doc: json.RawMessage("{\n")},
				{Action: bulk.ActionIndex, Index: "p", ID: "6", Version: 1, Doc: json.RawMessage(`{}`)},
			},
			want: bulk.Result{Indexed: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			for k, v := range tt.stored {
				f.store[k] = v
			}
			if tt.item != nil {
				f.itemStatus = func(_ int, a bulkFakeAction) (int, string, string) { return tt.item(a) }
			}
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 2}, nil)
			res := bulkWriteOK(t, w, tt.ops)
			if strings.HasPrefix(tt.name, "invalid") {
				if len(res.Failed) != 5 {
					t.Fatalf("failed = %+v, want 5 invalid ops", res.Failed)
				}
				for i, fe := range res.Failed {
					if fe.Pos != i || fe.Status != 0 || fe.Type != "invalid_op" || fe.Reason == "" {
						t.Errorf("failed[%d] = %+v", i, fe)
					}
				}
				reqs, _ := f.snapshot()
				if len(reqs) != 1 || len(reqs[0]) != 1 || reqs[0][0].ID != "6" {
					t.Errorf("sent %v, want only the valid op", reqs)
				}
				res.Failed = nil
			}
			if res.Indexed != tt.want.Indexed || res.Deleted != tt.want.Deleted || res.Conflicts != tt.want.Conflicts ||
				res.NotFound != tt.want.NotFound || res.Retries != 0 || !slices.EqualFunc(res.Failed, tt.want.Failed, bulkSameItemError) {
				t.Errorf("result = %+v\nwant     %+v", res, tt.want)
			}
			if got, want := res.Acknowledged()+len(res.Failed), len(tt.ops)-strings.Count(tt.name, "invalid")*5; got != want {
				t.Errorf("acknowledged+failed = %d, want %d", got, want)
			}
		})
	}
}

// bulkSameItemError compares item errors; the reported op never carries its Doc.
func bulkSameItemError(a, b bulk.ItemError) bool {
	return a.Pos == b.Pos && a.Status == b.Status && a.Type == b.Type && a.Reason == b.Reason && a.Op.Doc == nil &&
		a.Op.Action == b.Op.Action && a.Op.Index == b.Op.Index && a.Op.ID == b.Op.ID && a.Op.Version == b.Op.Version
}

func TestBulkItemRetriesExhaustedAreReported(t *testing.T) {
	f := newBulkFake(t)
	f.itemStatus = func(_ int, a bulkFakeAction) (int, string, string) {
		if a.ID == "id-001" {
			return 429, "es_rejected_execution_exception", "queue full"
		}
		return 0, "", ""
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, MaxRetries: 3, Sleep: sleeps.sleep}, nil)
	res := bulkWriteOK(t, w, bulkIndexOps(3))
	if res.Indexed != 2 || res.Retries != 3 || len(res.Failed) != 1 {
		t.Fatalf("result = %+v", res)
	}
	if fe := res.Failed[0]; fe.Pos != 1 || fe.Status != 429 || fe.Type != "es_rejected_execution_exception" || !fe.Temporary() {
		t.Errorf("failed = %+v", fe)
	}
	if reqs, _ := f.snapshot(); len(reqs) != 4 {
		t.Errorf("%d requests, want 1 + 3 retries", len(reqs))
	}
}

func TestBulkCancelDuringBackoffReturnsPromptly(t *testing.T) {
	f := newBulkFake(t)
	f.wholeStatus = func(int) int { return http.StatusServiceUnavailable }
	// The real timer, with backoffs of up to an hour.
	w := bulk.NewWriter(f.client(), bulk.Options{BaseBackoff: time.Hour, MaxBackoff: time.Hour}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(ctx, bulkIndexOps(4))
		done <- err
	}()
	select {
	case <-f.arrived:
	case err := <-done:
		t.Fatalf("Write returned before any request: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // let the writer start waiting
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Write returned %v after cancel", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Write did not return after cancel")
	}
}

func TestBulkRequestFailuresReturnError(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	tests := []struct {
		name      string
		status    int  // whole-request status; 0 = connection refused
		retryable bool // retried MaxRetries times before giving up
		wantIs    error
	}{
		{"503 exhausted", 503, true, engine.ErrUnavailable},
		{"429 exhausted", 429, true, engine.ErrUnavailable},
		{"connection refused", 0, true, engine.ErrUnavailable},
		{"401 not retried", 401, false, nil},
		{"400 not retried", 400, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			f.wholeStatus = func(int) int { return tt.status }
			es := f.client()
			if tt.status == 0 {
				es = bulkTestClient(t, closedURL)
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(es, bulk.Options{Concurrency: 1, MaxRetries: 3, Sleep: sleeps.sleep}, nil)
			res, err := w.Write(context.Background(), bulkIndexOps(3))
			if err == nil {
				t.Fatalf("Write = %+v, nil error", res)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want it to wrap %v", err, tt.wantIs)
			}
			var se *engine.StatusError
			if tt.status != 0 && (!errors.As(err, &se) || se.Status != tt.status) {
				t.Errorf("err = %v, want a *engine.StatusError with status %d", err, tt.status)
			}
			wantRetries := 0
			if tt.retryable {
				wantRetries = 3
			}
			if res.Retries != wantRetries || len(sleeps.all()) != wantRetries {
				t.Errorf("retries = %d, sleeps = %v, want %d", res.Retries, sleeps.all(), wantRetries)
			}
			if tt.status != 0 {
				if reqs, _ := f.snapshot(); len(reqs) != wantRetries+1 {
					t.Errorf("%d requests, want %d", len(reqs), wantRetries+1)
				}
			}
			if st := w.Stats(); st.Errors != 1 || st.Writes != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestBulkBadResponseIsRetriedThenError(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"truncated", `{"took":1,"errors":true,"items":[{"index":{"_id":"id-000","status":201}}`},
		{"too few items", `{"took":1,"errors":true,"items":[{"index":{"_id":"id-000","status":201}}]}`},
		{"out of step", `{"errors":true,"items":[{"index":{"_id":"id-001","status":201}},{"index":{"_id":"id-000","status":201}}]}`},
		{"not json", `<html>proxy error</html>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newBulkFake(t)
			f.rawBody = func(call int) []byte {
				if call == 0 {
					return []byte(tt.body)
				}
				return nil
			}
			var sleeps bulkSleeps
			w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
			res := bulkWriteOK(t, w, bulkIndexOps(2))
			if res.Indexed != 2 || res.Retries != 1 {
				t.Errorf("result = %+v, want the request re-sent once and counted once", res)
			}

			f2 := newBulkFake(t)
			f2.rawBody = func(int) []byte { return []byte(tt.body) }
			w = bulk.NewWriter(f2.client(), bulk.Options{Concurrency: 1, MaxRetries: 2, Sleep: sleeps.sleep}, nil)
			if _, err := w.Write(context.Background(), bulkIndexOps(2)); err == nil {
				t.Error("a response that never parses: nil error")
			}
		})
	}
}

func TestBulkSendsRefreshAndFilterPath(t *testing.T) {
	f := newBulkFake(t)
	w := bulk.NewWriter(f.client(), bulk.Options{Refresh: "wait_for"}, nil)
	bulkWriteOK(t, w, bulkIndexOps(1))
	f.mu.Lock()
	q := f.queries[0]
	f.mu.Unlock()
	if q.Get("refresh") != "wait_for" || !strings.Contains(q.Get("filter_path"), "items.*.status") {
		t.Errorf("query = %v", q)
	}
}

func TestBulkStatsAccumulate(t *testing.T) {
	f := newBulkFake(t)
	f.store["posts/id-000"] = 1000
	f.itemStatus = func(call int, a bulkFakeAction) (int, string, string) {
		switch {
		case a.ID == "id-001":
			return 400, "document_parsing_exception", "bad"
		case a.ID == "id-002" && call == 0:
			return 429, "es_rejected_execution_exception", "busy"
		}
		return 0, "", ""
	}
	var sleeps bulkSleeps
	w := bulk.NewWriter(f.client(), bulk.Options{Concurrency: 1, Sleep: sleeps.sleep}, nil)
	ops := append(bulkIndexOps(5), bulk.Op{Action: bulk.ActionDelete, Index: "posts", ID: "id-004", Version: 999},
		bulk.Op{Action: bulk.ActionDelete, Index: "posts", ID: "nope", Version: 1})
	bulkWriteOK(t, w, ops)
	bulkWriteOK(t, w, nil)
	st := w.Stats()
	want := bulk.Stats{Writes: 2, Requests: 2, Retries: 1, Indexed: 3, Deleted: 1, Conflicts: 1, NotFound: 1, Failed: 1}
	_, sizes := f.snapshot()
	want.Bytes = int64(sizes[0] + sizes[1])
	if st != want {
		t.Errorf("stats = %+v\nwant    %+v", st, want)
	}
}
