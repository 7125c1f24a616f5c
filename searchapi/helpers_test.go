package searchapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/apidoc"
	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/server"
)

// fakeEngine is an httptest server that speaks enough of the engine's REST
// API for the handlers: _search and _msearch answer empty results unless a
// test scripts an answer.
type fakeEngine struct {
	*httptest.Server
	mu       sync.Mutex
	requests []fakeRequest
	// answer, when set, replaces the empty answer of a search. For _msearch
	// it is called once per item and the items are assembled.
	answer func(index string, body map[string]any) (status int, resp string)
}

type fakeRequest struct {
	Path  string
	Index string
	Body  map[string]any
}

const emptyResult = `{"took":1,"timed_out":false,"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}`

func newFakeEngine(t testing.TB) *fakeEngine {
	f := &fakeEngine{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeEngine) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	raw, _ := io.ReadAll(r.Body)
	switch {
	case strings.HasSuffix(r.URL.Path, "/_msearch"):
		var items []string
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var header map[string]any
		for n := 0; sc.Scan(); n++ {
			if n%2 == 0 {
				header = nil
				json.Unmarshal(sc.Bytes(), &header)
				continue
			}
			var body map[string]any
			json.Unmarshal(sc.Bytes(), &body)
			index, _ := header["index"].(string)
			f.record(fakeRequest{Path: r.URL.Path, Index: index, Body: body})
			status, resp := f.respond(index, body)
			var m map[string]any
			if json.Unmarshal([]byte(resp), &m) != nil {
				io.WriteString(w, resp) // garbled item: garble the whole answer
				return
			}
			m["status"] = status
			b, _ := json.Marshal(m)
			items = append(items, string(b))
		}
		io.WriteString(w, `{"took":1,"responses":[`+strings.Join(items, ",")+`]}`)
	case strings.HasSuffix(r.URL.Path, "/_search"):
		index := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/_search")
		var body map[string]any
		json.Unmarshal(raw, &body)
		f.record(fakeRequest{Path: r.URL.Path, Index: index, Body: body})
		status, resp := f.respond(index, body)
		w.WriteHeader(status)
		io.WriteString(w, resp)
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"type":"not_found","reason":"fake engine"},"status":404}`)
	}
}

func (f *fakeEngine) respond(index string, body map[string]any) (int, string) {
	f.mu.Lock()
	answer := f.answer
	f.mu.Unlock()
	if answer == nil {
		return http.StatusOK, emptyResult
	}
	return answer(index, body)
}

func (f *fakeEngine) record(r fakeRequest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
}

func (f *fakeEngine) setAnswer(a func(index string, body map[string]any) (int, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = a
}

func (f *fakeEngine) last() fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return fakeRequest{}
	}
	return f.requests[len(f.requests)-1]
}

// newRouter builds the real server with the search routes and the document
// over an engine at url.
func newRouter(t testing.TB, url string, opts Options) http.Handler {
	t.Helper()
	es, err := engine.New(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{url}, RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if opts.IndexPrefix == "" {
		opts.IndexPrefix = "test"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	api := New(es.ES, opts)
	srv := server.New(config.HTTP{MaxBodyBytes: 1 << 20}, opts.Logger, nil, api.Mount, apidoc.Mount)
	return srv.Handler()
}

// get runs a GET through the router and validates the response against the
// OpenAPI document.
func get(t testing.TB, v *apidoctest.Validator, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	return v.Serve(t, h, httptest.NewRequest(http.MethodGet, target, nil))
}

// envelope decodes an error response.
func envelope(t testing.TB, rec *httptest.ResponseRecorder) (code, message string) {
	t.Helper()
	var e struct{ Code, Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("not an error envelope (%d): %s", rec.Code, rec.Body.String())
	}
	return e.Code, e.Message
}
