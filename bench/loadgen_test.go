package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestMergeLoadsPercentilesOverAllRuns(t *testing.T) {
	a := LoadResult{Sent: 5, Errors: 1, Seconds: 1, Latencies: []float64{1, 2, 3, 4}}
	b := LoadResult{Sent: 6, Errors: 0, Seconds: 1, Latencies: []float64{10, 20, 30, 40, 50, 60}}
	m := MergeLoads(a, b)
	if m.Sent != 11 || m.Errors != 1 || m.Achieved != 5.5 || len(m.Latencies) != 10 {
		t.Fatalf("merged %+v", m)
	}
	// sorted: 1 2 3 4 10 20 30 40 50 60 → p50 = lats[5] = 20, p90 = lats[9] = 60
	if m.P50 != 20 || m.P90 != 60 || m.P99 != 60 || m.Max != 60 {
		t.Errorf("p50 %v p90 %v p99 %v max %v", m.P50, m.P90, m.P99, m.Max)
	}
	if e := MergeLoads(); e.Sent != 0 || e.P50 != 0 || e.Achieved != 0 {
		t.Errorf("empty merge %+v", e)
	}
}

func TestLoadSpecStaysOnLoopback(t *testing.T) {
	ok := LoadSpec{Requests: []Request{{Method: "GET", URL: "http://127.0.0.1:1/x"}}, Rate: 10, Duration: JSONDuration(time.Second)}
	tests := []struct {
		name string
		mut  func(*LoadSpec)
		want string
	}{
		{"loopback", func(*LoadSpec) {}, ""},
		{"remote host", func(s *LoadSpec) { s.Requests = []Request{{Method: "GET", URL: "http://10.0.0.1/x"}} }, "loopback"},
		{"no requests", func(s *LoadSpec) { s.Requests = nil }, "no requests"},
		{"rate too high", func(s *LoadSpec) { s.Rate = 10000 }, "rate"},
		{"unbounded duration", func(s *LoadSpec) { s.Duration = JSONDuration(time.Hour) }, "duration"},
	}
	for _, tt := range tests {
		s := ok
		tt.mut(&s)
		err := s.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// RunLoad keeps its schedule, measures only after the warm-up, and hands
// back the sorted latencies the percentiles come from; it never asks for gzip.
func TestRunLoad(t *testing.T) {
	var hits, gzip atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			gzip.Add(1)
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	spec := LoadSpec{Requests: []Request{{Method: "GET", URL: srv.URL}}, Rate: 100, Duration: JSONDuration(time.Second), Warmup: JSONDuration(200 * time.Millisecond)}
	r, err := RunLoad(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent < 80 || r.Sent > 101 || r.Errors != 0 || len(r.Latencies) != r.Sent {
		t.Errorf("sent %d, errors %d, %d latencies; want about 100 measured", r.Sent, r.Errors, len(r.Latencies))
	}
	if int(hits.Load()) <= r.Sent {
		t.Errorf("server saw %d requests, measured %d: the warm-up was measured", hits.Load(), r.Sent)
	}
	for i := 1; i < len(r.Latencies); i++ {
		if r.Latencies[i] < r.Latencies[i-1] {
			t.Fatal("latencies not sorted")
		}
	}
	if r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max {
		t.Errorf("p50 %v p99 %v max %v", r.P50, r.P99, r.Max)
	}
	if gzip.Load() != 0 {
		t.Errorf("%d requests asked for gzip", gzip.Load())
	}
}

// A paired load interleaves the two sides (each first half of the time,
// on different queries at each moment) and summarises each group apart:
// a slower "on" server shows in its group only.
func TestPairedLoadGroups(t *testing.T) {
	off := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	defer off.Close()
	on := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.Write([]byte(`{}`))
	}))
	defer on.Close()
	var offReqs, onReqs []Request
	for _, q := range []string{"a", "b", "c", "d"} {
		offReqs = append(offReqs, Request{Method: "GET", URL: off.URL + "/?q=" + q})
		onReqs = append(onReqs, Request{Method: "GET", URL: on.URL + "/?q=" + q})
	}
	order := interleave(offReqs, onReqs)
	var got []string
	for _, r := range order {
		got = append(got, r.Group+" "+r.URL[strings.Index(r.URL, "?"):])
	}
	want := []string{"off ?q=a", "on ?q=c", "on ?q=d", "off ?q=b", "off ?q=c", "on ?q=a", "on ?q=b", "off ?q=d"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("interleaved %v, want %v", got, want)
	}
	load := func(ctx context.Context, s LoadSpec) (LoadResult, error) { return RunLoad(ctx, s) }
	resOff, resOn, err := loadPaired(context.Background(), io.Discard, load, 100, time.Second, "x", offReqs, onReqs)
	if err != nil {
		t.Fatal(err)
	}
	if resOff.Sent < 40 || resOn.Sent < 40 || resOff.Errors+resOn.Errors != 0 {
		t.Fatalf("off %d sent, on %d sent, %d errors", resOff.Sent, resOn.Sent, resOff.Errors+resOn.Errors)
	}
	if resOn.P50 < 20 || resOff.P50 >= 20 {
		t.Errorf("p50 off %.1f ms, on %.1f ms: the groups are mixed", resOff.P50, resOn.P50)
	}
}
