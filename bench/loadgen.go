package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The load generator runs in a second process (`soomcare bench loadgen`,
// spec on stdin, summary on stdout) so the server under test does not share
// a Go runtime with its client. It is open-loop: requests start on a fixed
// schedule whatever the latency, bounded in count, concurrency and time, and
// it only ever targets loopback addresses.

// Request is one request of the rotation.
type Request struct {
	Method string          `json:"method"`
	URL    string          `json:"url"`
	Body   json.RawMessage `json:"body,omitempty"`
	// Group, when set, names the request's group: the result has a summary
	// per group too (a paired comparison interleaves two groups in one load).
	Group string `json:"group,omitempty"`
}

// LoadSpec is what the generator runs.
type LoadSpec struct {
	Requests []Request    `json:"requests"`
	Rate     float64      `json:"rate"`     // requests per second
	Duration JSONDuration `json:"duration"` // how long to offer load
	Warmup   JSONDuration `json:"warmup"`   // load whose latencies are discarded
}

// JSONDuration marshals as a Go duration string.
type JSONDuration time.Duration

func (d JSONDuration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *JSONDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = JSONDuration(v)
	return err
}

// LoadResult summarises latencies in milliseconds.
type LoadResult struct {
	Sent     int     `json:"sent"`
	Errors   int     `json:"errors"` // transport errors and non-2xx
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	Achieved float64 `json:"achieved_rps"`
	// Latencies are the measured successful requests, sorted, so that runs
	// can be merged (MergeLoads) into exact percentiles.
	Latencies []float64 `json:"latencies_ms,omitempty"`
	Seconds   float64   `json:"seconds"` // measured duration
	// Groups summarises the requests of each Request.Group (none: nil).
	Groups map[string]LoadResult `json:"groups,omitempty"`
}

// MergeLoads combines runs of the same requests into one summary, with
// percentiles over all their latencies.
func MergeLoads(runs ...LoadResult) LoadResult {
	var out LoadResult
	for _, r := range runs {
		out.Sent += r.Sent
		out.Errors += r.Errors
		out.Seconds += r.Seconds
		out.Latencies = append(out.Latencies, r.Latencies...)
	}
	slices.Sort(out.Latencies)
	out.summarize()
	return out
}

// summarize fills the percentiles and rate from Latencies, Sent and Seconds.
func (r *LoadResult) summarize() {
	if r.Seconds > 0 {
		r.Achieved = float64(r.Sent) / r.Seconds
	}
	lats := r.Latencies
	if len(lats) == 0 {
		return
	}
	q := func(p float64) float64 { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
	r.P50, r.P90, r.P99, r.Max = q(0.50), q(0.90), q(0.99), lats[len(lats)-1]
}

// Validate refuses anything but bounded loopback load.
func (s LoadSpec) Validate() error {
	if len(s.Requests) == 0 {
		return fmt.Errorf("loadgen: no requests")
	}
	if s.Rate <= 0 || s.Rate > 5000 {
		return fmt.Errorf("loadgen: rate must be in (0, 5000] (got %v)", s.Rate)
	}
	if d := time.Duration(s.Duration); d <= 0 || d > 10*time.Minute || time.Duration(s.Warmup) < 0 || time.Duration(s.Warmup) > time.Minute {
		return fmt.Errorf("loadgen: duration must be in (0, 10m] and warmup in [0, 1m]")
	}
	for _, r := range s.Requests {
		u, err := url.Parse(r.URL)
		if err != nil {
			return fmt.Errorf("loadgen: %q: %w", r.URL, err)
		}
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("loadgen: %s is not a loopback address; load tests stay on this machine", host)
		}
	}
	return nil
}

// RunLoad offers the load and measures it.
func RunLoad(ctx context.Context, s LoadSpec) (LoadResult, error) {
	if err := s.Validate(); err != nil {
		return LoadResult{}, err
	}
	t := &tally{groups: map[string]*LoadResult{}}
	if err := offer(ctx, s, loadClient(), t); err != nil {
		return LoadResult{}, err
	}
	return t.result(time.Duration(s.Duration).Seconds()), nil
}

// loadClient is the generator's HTTP client: up to 256 connections, 5s per
// request.
func loadClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		// No gzip, like the API's own engine client (search.compression off):
		// direct requests must cost the engine what the API's requests do.
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256, IdleConnTimeout: 30 * time.Second, DisableCompression: true},
	}
}

// offer starts the requests of s in rotation on its schedule, for its warmup
// and duration, and waits for them; only those started after the warmup are
// recorded in t.
func offer(ctx context.Context, s LoadSpec, client *http.Client, t *tally) error {
	warm := time.Duration(s.Warmup)
	total := warm + time.Duration(s.Duration)
	var wg sync.WaitGroup
	inflight := make(chan struct{}, 256) // bounded concurrency: beyond it a request counts as an error
	start := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.Rate))
	defer tick.Stop()
	for i := 0; time.Since(start) < total; i++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		r := s.Requests[i%len(s.Requests)]
		measured := time.Since(start) >= warm
		select {
		case inflight <- struct{}{}:
		default:
			if measured {
				t.record(r.Group, -1)
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-inflight }()
			t0 := time.Now()
			ok := do(ctx, client, r)
			ms := float64(time.Since(t0).Microseconds()) / 1000
			switch {
			case !measured:
			case ok:
				t.record(r.Group, ms)
			default:
				t.record(r.Group, -1)
			}
		}()
	}
	wg.Wait()
	return nil
}

// tally collects the measured requests of a load, overall and per group.
// Safe for concurrent use.
type tally struct {
	mu     sync.Mutex
	all    LoadResult
	groups map[string]*LoadResult
}

// record adds one measured request of group (none: "") with its latency in
// ms, or a failure when ms < 0.
func (t *tally) record(group string, ms float64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.all.add(ms)
	if group == "" {
		return
	}
	g := t.groups[group]
	if g == nil {
		g = &LoadResult{}
		t.groups[group] = g
	}
	g.add(ms)
}

// add counts one request: its latency in ms, or a failure when ms < 0.
func (r *LoadResult) add(ms float64) {
	r.Sent++
	if ms < 0 {
		r.Errors++
		return
	}
	r.Latencies = append(r.Latencies, ms)
}

// result summarises what t collected over secs of measured load.
func (t *tally) result(secs float64) LoadResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	res := LoadResult{Sent: t.all.Sent, Errors: t.all.Errors, Latencies: t.all.Latencies, Seconds: secs}
	slices.Sort(res.Latencies)
	res.summarize()
	for name, g := range t.groups {
		if res.Groups == nil {
			res.Groups = map[string]LoadResult{}
		}
		g.Seconds = secs
		slices.Sort(g.Latencies)
		g.summarize()
		res.Groups[name] = *g
	}
	return res
}

func do(ctx context.Context, c *http.Client, r Request) bool {
	var body io.Reader
	if len(r.Body) > 0 {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(r.Method), r.URL, body)
	if err != nil {
		return false
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode >= 200 && res.StatusCode < 300
}
