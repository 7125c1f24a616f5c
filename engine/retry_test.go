package engine

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/config"
)

func TestIdempotent(t *testing.T) {
	tests := []struct {
		method, path string
		want         bool
	}{
		{"GET", "/posts/_doc/1", true},
		{"HEAD", "/posts", true},
		{"PUT", "/posts-1/_settings", true},
		{"DELETE", "/posts-1", true},
		{"POST", "/soomcare-posts/_search", true},
		{"POST", "/_msearch", true},
		{"POST", "/soomcare-posts/_count", true},
		{"POST", "/_analyze", true},
		{"POST", "/_bulk", false},
		{"POST", "/soomcare-search-insights/_bulk", false},
		{"PUT", "/_bulk", false},
		{"PUT", "/soomcare-search-insights/_bulk", false},
		{"POST", "/posts/_doc", false},
		{"POST", "/posts/_update/1", false},
		{"POST", "/_aliases", false},
		{"POST", "/_search/scroll", false},
	}
	for _, tt := range tests {
		if got := Idempotent(tt.method, tt.path); got != tt.want {
			t.Errorf("Idempotent(%s %s) = %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}

// A node that dies while a call is in flight (the connection drops before
// an answer): reads go to the next node, writes are not sent twice; a node
// that refuses the connection is skipped for every call.
func TestRetryOnAnotherNode(t *testing.T) {
	var dropped, served atomic.Int32
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dropped.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}))
	defer dying.Close()
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"took":1,"errors":false,"items":[],"hits":{"hits":[]}}`))
	}))
	defer healthy.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name        string
		addrs       []string
		call        func(c *Client) (*esapi.Response, error)
		wantErr     bool
		wantDropped int32
	}{
		{"search retried after a dropped connection", []string{dying.URL, healthy.URL},
			func(c *Client) (*esapi.Response, error) {
				return c.ES.Search(c.ES.Search.WithIndex("posts"), c.ES.Search.WithBody(strings.NewReader(`{}`)))
			}, false, 1},
		{"bulk not sent twice after a dropped connection", []string{dying.URL, healthy.URL},
			func(c *Client) (*esapi.Response, error) {
				return c.ES.Bulk(strings.NewReader(`{"create":{"_index":"s"}}` + "\n{}\n"))
			}, true, 1},
		{"bulk goes to the next node when one refuses", []string{refused, healthy.URL},
			func(c *Client) (*esapi.Response, error) {
				return c.ES.Bulk(strings.NewReader(`{"index":{"_index":"p","_id":"1"}}` + "\n{}\n"))
			}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dropped.Store(0)
			served.Store(0)
			c, err := New(config.Search{Engine: config.EngineOpenSearch, Addresses: tt.addrs, MaxRetries: 2, RequestTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tt.call(c)
			if res != nil {
				res.Body.Close()
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if dropped.Load() != tt.wantDropped || (!tt.wantErr && served.Load() != 1) || (tt.wantErr && served.Load() != 0) {
				t.Errorf("dropped %d, served %d", dropped.Load(), served.Load())
			}
		})
	}
}

// A node that answers 503 once: a read is sent again and succeeds; a write
// that is not idempotent (search insights' _bulk of id-less creates) is sent
// once and its caller gets the 503. A read that gets 503 on every attempt
// fails with ErrUnavailable and the engine's status.
func TestRetryOn5xxOnlyWhenIdempotent(t *testing.T) {
	search := func(c *Client) (*esapi.Response, error) {
		return c.ES.Search(c.ES.Search.WithIndex("posts"), c.ES.Search.WithBody(strings.NewReader(`{}`)))
	}
	tests := []struct {
		name      string
		fail      int32 // 503 answers before a 200
		call      func(c *Client) (*esapi.Response, error)
		wantSent  int32
		wantCode  int // the status the caller sees; 0: an error
		wantUnavl bool
	}{
		{"search retried after a 503", 1, search, 2, 200, false},
		{"bulk of id-less creates sent once", 1, func(c *Client) (*esapi.Response, error) {
			return c.ES.Bulk(strings.NewReader(`{"create":{"_index":"soomcare-search-insights"}}` + "\n{}\n"))
		}, 1, 503, false},
		{"bulk with ids sent once too", 1, func(c *Client) (*esapi.Response, error) {
			return c.ES.Bulk(strings.NewReader(`{"index":{"_index":"p","_id":"1"}}` + "\n{}\n"))
		}, 1, 503, false},
		{"post to _doc sent once", 1, func(c *Client) (*esapi.Response, error) {
			return c.ES.Index("p", strings.NewReader(`{}`))
		}, 1, 503, false},
		{"count retried after a 503", 1, func(c *Client) (*esapi.Response, error) {
			return c.ES.Count(c.ES.Count.WithIndex("posts"))
		}, 2, 200, false},
		{"search failing on every attempt", 10, search, 3, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if sent.Add(1) <= tt.fail {
					w.WriteHeader(http.StatusServiceUnavailable)
					w.Write([]byte(`{"error":{"type":"unavailable_shards_exception","reason":"busy"},"status":503}`))
					return
				}
				w.Write([]byte(`{"took":1,"errors":false,"items":[],"count":0,"hits":{"hits":[]}}`))
			}))
			defer srv.Close()
			c, err := New(config.Search{Engine: config.EngineOpenSearch, Addresses: []string{srv.URL}, MaxRetries: 2, RequestTimeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tt.call(c)
			code := 0
			if res != nil {
				code = res.StatusCode
				res.Body.Close()
			}
			if code != tt.wantCode || sent.Load() != tt.wantSent {
				t.Errorf("status %d after %d sent (err %v), want %d after %d", code, sent.Load(), err, tt.wantCode, tt.wantSent)
			}
			var se *StatusError
			if tt.wantUnavl && (!errors.Is(c.wrap(err), ErrUnavailable) || !errors.As(err, &se) || se.Status != 503) {
				t.Errorf("err = %v, want ErrUnavailable with HTTP 503", err)
			}
		})
	}
}
