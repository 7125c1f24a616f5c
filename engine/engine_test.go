package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
)

func searchCfg(kind string, addr ...string) config.Search {
	return config.Search{Engine: kind, Addresses: addr, RequestTimeout: 2 * time.Second, MaxRetries: 0}
}

// fakeOpenSearch answers like OpenSearch: no X-Elastic-Product header.
func fakeOpenSearch(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/":
			w.Write([]byte(`{"name":"n1","cluster_name":"c1","version":{"distribution":"opensearch","number":"3.8.0"}}`))
		case "/_cluster/health":
			w.Write([]byte(`{"status":"green"}`))
		default:
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":{"type":"es_rejected_execution_exception","reason":"queue full"},"status":429}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestEngineSettingDecidesProductCheck(t *testing.T) {
	srv := fakeOpenSearch(t)
	tests := []struct {
		kind    string
		wantErr error
	}{
		{config.EngineOpenSearch, nil},
		{config.EngineElasticsearch, ErrWrongProduct},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			c, err := New(searchCfg(tt.kind, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.Info(context.Background())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Info err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (info.Distribution != "opensearch" || info.Version != "3.8.0") {
				t.Errorf("info = %+v", info)
			}
			if tt.wantErr != nil && !strings.Contains(err.Error(), "search.engine: opensearch") {
				t.Errorf("error should tell the operator which setting to use: %v", err)
			}
		})
	}
}

func TestStatusErrorClassifies(t *testing.T) {
	tests := []struct {
		status      int
		unavailable bool
	}{{400, false}, {404, false}, {429, true}, {500, true}, {503, true}}
	for _, tt := range tests {
		err := &StatusError{Status: tt.status}
		if got := errors.Is(err, ErrUnavailable); got != tt.unavailable {
			t.Errorf("status %d: errors.Is(ErrUnavailable) = %v", tt.status, got)
		}
	}
}

func TestStatusErrorParsesEngineError(t *testing.T) {
	srv := fakeOpenSearch(t)
	c, err := New(searchCfg(config.EngineOpenSearch, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Plugins(context.Background())
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 429 || se.Type != "es_rejected_execution_exception" {
		t.Fatalf("err = %#v", err)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Error("429 must count as unavailable")
	}
}

func TestUnreachableIsUnavailable(t *testing.T) {
	c, err := New(searchCfg(config.EngineElasticsearch, "http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(context.Background()); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ping err = %v", err)
	}
}

func TestNewRejectsUnreadableCA(t *testing.T) {
	cfg := searchCfg(config.EngineElasticsearch, "https://127.0.0.1:9200")
	cfg.TLS.CAFile = "/nonexistent/ca.pem"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Fatalf("err = %v", err)
	}
}

func TestOpenSearchRefusesCompatibilityMode(t *testing.T) {
	t.Setenv("ELASTIC_CLIENT_APIVERSIONING", "true")
	if _, err := New(searchCfg(config.EngineOpenSearch, "http://127.0.0.1:9200")); err == nil {
		t.Fatal("compatibility mode must be refused for OpenSearch")
	}
}

func TestBackoffIsBoundedAndJittered(t *testing.T) {
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt < 20; attempt++ {
		d := backoff(attempt)
		if d <= 0 || d > 5*time.Second {
			t.Fatalf("backoff(%d) = %s", attempt, d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("backoff is not jittered: %d distinct values", len(seen))
	}
}

// search.compression decides whether the engine is asked to gzip its answers.
func TestCompressionSetting(t *testing.T) {
	for _, on := range []bool{false, true} {
		var got string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Get("Accept-Encoding")
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"green"}`))
		}))
		cfg := searchCfg(config.EngineOpenSearch, srv.URL)
		cfg.Compression = on
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.ES.Cluster.Health()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		srv.Close()
		if asked := strings.Contains(got, "gzip"); asked != on {
			t.Errorf("compression %v: Accept-Encoding %q", on, got)
		}
	}
}
