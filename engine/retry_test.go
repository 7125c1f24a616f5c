package engine

import (
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
