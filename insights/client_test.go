package insights

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/searchapi"
)

// The client hash is stable within a day in Korea, changes the next day and
// with the secret, differs per client, and never is or holds the raw id or
// address.
func TestClientHash(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	h := NewClientHasher(secret)
	morning := time.Date(2026, 12, 7, 0, 30, 0, 0, Zone)
	evening := time.Date(2026, 12, 7, 23, 30, 0, 0, Zone)
	tomorrow := time.Date(2026, 12, 8, 0, 30, 0, 0, Zone)
	a := h.Hash("ip:203.0.113.7", morning)
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"same client, same day", h.Hash("ip:203.0.113.7", evening), true},
		{"same client, same day in Korea (UTC evening before)", h.Hash("ip:203.0.113.7", morning.UTC()), true},
		{"next day", h.Hash("ip:203.0.113.7", tomorrow), false},
		{"another client", h.Hash("ip:203.0.113.8", morning), false},
		{"another secret", NewClientHasher([]byte(strings.Repeat("j", 32))).Hash("ip:203.0.113.7", morning), false},
		{"no secret: random key", NewClientHasher(nil).Hash("ip:203.0.113.7", morning), false},
	}
	for _, tt := range tests {
		if (tt.got == a) != tt.same {
			t.Errorf("%s: %q vs %q, want same %v", tt.name, tt.got, a, tt.same)
		}
	}
	for _, raw := range []string{"ip:203.0.113.7", "user:42"} {
		got := h.Hash(raw, morning)
		if len(got) != 22 || strings.Contains(got, "203.0.113") || strings.Contains(got, "42") && strings.Contains(got, "user") {
			t.Errorf("Hash(%q) = %q: not 22 opaque characters", raw, got)
		}
	}
	if h.Hash("", morning) != "" {
		t.Error("no client must give no hash")
	}
}

// What the recorder sends to the engine holds the day's hash of the client
// and the query's suggest form, never the raw user id or IP; a suggest
// request carries neither.
func TestRecorderStoresOnlyTheClientHash(t *testing.T) {
	var mu sync.Mutex
	var docs []map[string]any
	engine := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		b, _ := io.ReadAll(r.Body)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		items := []string{}
		mu.Lock()
		for i := 1; i < len(lines); i += 2 {
			var d map[string]any
			if err := json.Unmarshal([]byte(lines[i]), &d); err != nil {
				t.Error(err)
			}
			docs = append(docs, d)
			items = append(items, `{"create":{"status":201}}`)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errors":false,"items":[`+strings.Join(items, ",")+`]}`)
	}))
	defer engine.Close()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, Zone)
	secret := []byte(strings.Repeat("s", 32))
	r, _ := testRecorder(t, engine.URL, Options{DataStream: "ins", FlushInterval: time.Hour, ClientSecret: secret, Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	r.Record(searchapi.Record{Endpoint: searchapi.EndpointSearch, Query: "cjstlr", Typed: "cjstlr", Client: "ip:198.51.100.23", Hits: 3})
	r.Record(searchapi.Record{Endpoint: searchapi.EndpointPosts, Query: "ㅊㅅ", Typed: "ㅊㅅ", Client: "user:4242", Hits: 1})
	r.Record(searchapi.Record{Endpoint: searchapi.EndpointSuggest, Query: "천", Typed: "천", Client: "user:4242", Hits: 5})
	cancel()
	<-done
	if len(docs) != 3 {
		t.Fatalf("%d docs", len(docs))
	}
	want := []struct{ client, form any }{
		{NewClientHasher(secret).Hash("ip:198.51.100.23", now), "천식"},
		{NewClientHasher(secret).Hash("user:4242", now), nil}, // 초성 input: no suggest form
		{nil, nil}, // suggest: neither
	}
	for i, d := range docs {
		if d["client"] != want[i].client || d["suggest_form"] != want[i].form {
			t.Errorf("doc %d: client %v, suggest_form %v; want %v, %v", i, d["client"], d["suggest_form"], want[i].client, want[i].form)
		}
		raw, _ := json.Marshal(d)
		if strings.Contains(string(raw), "198.51.100") || strings.Contains(string(raw), "4242") {
			t.Errorf("doc %d holds the raw client: %s", i, raw)
		}
	}
}

// Record's cost on the request path, with the client hash and suggest form.
func BenchmarkRecord(b *testing.B) {
	r := NewRecorder(nil, NewMetrics(prometheusRegistry()), Options{DataStream: "x", QueueSize: 1})
	rec := searchapi.Record{Endpoint: searchapi.EndpointSearch, Query: "cjstlr gmqdlqrl", Typed: "cjstlr gmqdlqrl", Client: "ip:198.51.100.23", Hits: 3}
	for b.Loop() {
		r.Record(rec) // the queue stays full: the cost measured is the work before the drop
	}
}

// The same for a suggest request (no hash, no suggest form): the baseline.
func BenchmarkRecordSuggest(b *testing.B) {
	r := NewRecorder(nil, NewMetrics(prometheusRegistry()), Options{DataStream: "x", QueueSize: 1})
	rec := searchapi.Record{Endpoint: searchapi.EndpointSuggest, Query: "cjstlr gmqdlqrl", Typed: "cjstlr gmqdlqrl", Client: "ip:198.51.100.23", Hits: 3}
	for b.Loop() {
		r.Record(rec)
	}
}
