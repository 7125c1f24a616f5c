package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/ecslog"
)

func TestFamilyKeepsAPINamesOnly(t *testing.T) {
	tests := []struct{ method, path, want string }{
		{"POST", "/soomcare-posts/_search", "POST /{index}/_search"},
		{"POST", "/_bulk", "POST /_bulk"},
		{"PUT", "/soomcare-posts-20260101/_doc/12345", "PUT /{index}/_doc/{name}"},
		{"GET", "/_cluster/health", "GET /_cluster/health"},
		{"GET", "/_nodes/_local/plugins", "GET /_nodes/_local/plugins"},
		{"PUT", "/_ilm/policy/logs-soomcare-default", "PUT /_ilm/policy/{name}"},
		{"GET", "/", "GET /"},
		{"HEAD", "", "HEAD /"},
		{"DELETE", "/soomcare-users-1", "DELETE /{index}"},
		{"POST", "/soomcare-posts/_analyze", "POST /{index}/_analyze"},
	}
	for _, tt := range tests {
		if got := Family(tt.method, tt.path); got != tt.want {
			t.Errorf("Family(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

// A call over search.slow_call_threshold logs at warn with its family and
// the request's id, never the query body, the query string or the index;
// a fast call, a zero threshold or no logger logs nothing.
func TestSlowEngineCallsLogFamilyNotValues(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_search") {
			time.Sleep(30 * time.Millisecond)
		}
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"hits":{"hits":[]}}`))
	}))
	defer srv.Close()
	const secret = "소아천식-secret-term"
	tests := []struct {
		name      string
		threshold time.Duration
		noLogger  bool
		lines     int
	}{
		{name: "slow", threshold: 10 * time.Millisecond, lines: 1},
		{name: "fast enough", threshold: time.Hour},
		{name: "off", threshold: 0},
		{name: "no logger", threshold: time.Nanosecond, noLogger: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			opts := Options{Logger: ecslog.New(&out, ecslog.Options{Format: ecslog.FormatJSON})}
			if tt.noLogger {
				opts.Logger = nil
			}
			c, err := NewWith(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{srv.URL}, RequestTimeout: 5 * time.Second, SlowCallThreshold: tt.threshold}, opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx := ecslog.WithAttrs(context.Background(), slog.String("http.request.id", "req-engine"))
			res, err := c.ES.Search(c.ES.Search.WithContext(ctx), c.ES.Search.WithIndex("soomcare-posts"),
				c.ES.Search.WithBody(strings.NewReader(`{"query":{"match":{"title":"`+secret+`"}}}`)),
				c.ES.Search.WithFilterPath("hits.hits._id"))
			if err != nil {
				t.Fatal(err)
			}
			drain(res)
			text := strings.TrimSpace(out.String())
			if tt.lines == 0 {
				if text != "" {
					t.Fatalf("logged %s", text)
				}
				return
			}
			for _, leak := range []string{secret, "soomcare-posts", "filter_path", "hits"} {
				if strings.Contains(text, leak) {
					t.Errorf("%q reached the log: %s", leak, text)
				}
			}
			var l map[string]any
			if err := json.Unmarshal([]byte(text), &l); err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			want := map[string]any{"message": "slow engine call", "log.level": "warn", "engine.call": "POST /{index}/_search",
				"engine.status": float64(200), "event.outcome": "success", "http.request.id": "req-engine"}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("%s = %#v, want %#v", k, l[k], v)
				}
			}
			if d, _ := l["event.duration"].(float64); d < float64(10*time.Millisecond) {
				t.Errorf("event.duration %v", l["event.duration"])
			}
		})
	}
}

// Observe is told every call (fast ones too, and without a logger) with its
// family and outcome: a status ≥ 400 or no answer is a failure.
func TestObserveSeesEveryCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/_doc/404") {
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	type call struct {
		family string
		failed bool
	}
	var got []call
	c, err := NewWith(config.Search{Engine: config.EngineElasticsearch, Addresses: []string{srv.URL}, RequestTimeout: 5 * time.Second},
		Options{Observe: func(family string, d time.Duration, failed bool) {
			if d <= 0 {
				t.Errorf("%s: duration %s", family, d)
			}
			got = append(got, call{family, failed})
		}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "404"} {
		res, err := c.ES.Get("soomcare-posts", id)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	want := []call{{"GET /{index}/_doc/{name}", false}, {"GET /{index}/_doc/{name}", true}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("observed %v, want %v", got, want)
	}
}
