package telemetry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func newRouter(m *HTTP) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(m.Middleware(), gin.CustomRecovery(func(c *gin.Context, _ any) { c.AbortWithStatus(500) }))
	e.GET("/v1/posts/:id", func(c *gin.Context) { c.String(200, "ok") })
	e.GET("/v1/search", func(c *gin.Context) { c.AbortWithStatus(http.StatusTooManyRequests) })
	e.POST("/v1/auth/login", func(c *gin.Context) { c.AbortWithStatus(http.StatusTooManyRequests) })
	e.GET("/boom", func(c *gin.Context) { panic("boom") })
	return e
}

func serve(h http.Handler, method, path string) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code
}

// Requests are labelled by route template and status class; unknown paths,
// ids and odd methods never become label values.
func TestMiddlewareLabels(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewHTTP(reg)
	h := newRouter(m)
	for _, r := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/posts/123", 200},
		{"GET", "/v1/posts/456", 200},
		{"GET", "/v1/search?q=%EC%B2%9C%EC%8B%9D", 429},
		{"POST", "/v1/auth/login", 429},
		{"GET", "/no/such/path/secret-token", 404},
		{"PUT", "/v1/search", 405},
		{"BREW", "/v1/posts/1", 405},
		{"GET", "/boom", 500},
	} {
		if got := serve(h, r.method, r.path); got != r.want {
			t.Fatalf("%s %s = %d, want %d", r.method, r.path, got, r.want)
		}
	}
	tests := []struct {
		labels []string
		want   float64
	}{
		{[]string{"GET", "/v1/posts/:id", "2xx"}, 2},
		{[]string{"GET", "/v1/search", "4xx"}, 1},
		{[]string{"POST", "/v1/auth/login", "4xx"}, 1},
		{[]string{"GET", Unmatched, "4xx"}, 1},
		{[]string{"PUT", Unmatched, "4xx"}, 1},
		{[]string{"other", Unmatched, "4xx"}, 1},
		{[]string{"GET", "/boom", "5xx"}, 1},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(m.requests.WithLabelValues(tt.labels...)); got != tt.want {
			t.Errorf("requests%v = %v, want %v", tt.labels, got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.requests); n != len(tests) {
		t.Errorf("%d request series, want %d (no raw paths, ids or methods)", n, len(tests))
	}
	for route, want := range map[string]float64{"/v1/search": 1, "/v1/auth/login": 1} {
		if got := testutil.ToFloat64(m.throttled.WithLabelValues(route)); got != want {
			t.Errorf("throttled{%s} = %v, want %v", route, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.throttled); n != 2 {
		t.Errorf("%d throttled series, want 2", n)
	}
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Errorf("in flight after all requests = %v", got)
	}
	// Label values only: the sample values (a _sum of 0.000123…) may hold any digits.
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				for _, bad := range []string{"123", "456", "secret-token", "BREW", "%EC"} {
					if strings.Contains(l.GetValue(), bad) {
						t.Errorf("%s label %s carries %q", f.GetName(), l.GetName(), bad)
					}
				}
			}
		}
	}
}

// The histogram times the whole chain and the gauge counts what is in flight.
func TestMiddlewareLatencyAndInFlight(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewHTTP(reg)
	h := newRouter(m)
	release := make(chan struct{})
	h.GET("/held", func(c *gin.Context) { <-release; time.Sleep(30 * time.Millisecond); c.Status(204) })
	done := make(chan struct{})
	go func() { serve(h, "GET", "/held"); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(m.inFlight) != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := testutil.ToFloat64(m.inFlight); got != 1 {
		t.Errorf("in flight during a request = %v, want 1", got)
	}
	close(release)
	<-done
	if got := testutil.ToFloat64(m.inFlight); got != 0 {
		t.Errorf("in flight after = %v, want 0", got)
	}
	mf, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range mf {
		if f.GetName() != "soomcare_http_request_duration_seconds" {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != 1 || h.GetSampleSum() < 0.03 {
			t.Errorf("histogram count %d sum %v, want 1 and ≥ 0.03 s", h.GetSampleCount(), h.GetSampleSum())
		}
		return
	}
	t.Error("no latency histogram")
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{101: "1xx", 200: "2xx", 204: "2xx", 304: "3xx", 404: "4xx", 429: "4xx", 503: "5xx", 0: "other", 99: "other", 600: "other"} {
		if got := statusClass(status); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

// A probe that fails or hangs reports 0 within the timeout; one that answers reports 1.
func TestDependencies(t *testing.T) {
	d := NewDependencies(100*time.Millisecond,
		Probe{Name: "mysql", Ping: func(context.Context) error { return nil }},
		Probe{Name: "opensearch", Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }},
		Probe{Name: "elasticsearch", Ping: func(context.Context) error { return errors.New("connection refused") }},
	)
	start := time.Now()
	want := `
# HELP soomcare_dependency_up 1 when the dependency answered a ping during this scrape, 0 when not (engine or MySQL unavailable).
# TYPE soomcare_dependency_up gauge
soomcare_dependency_up{dependency="elasticsearch"} 0
soomcare_dependency_up{dependency="mysql"} 1
soomcare_dependency_up{dependency="opensearch"} 0
`
	if err := testutil.CollectAndCompare(d, strings.NewReader(want), "soomcare_dependency_up"); err != nil {
		t.Error(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("scrape took %s with a hanging dependency", took)
	}
}

func TestRemindersObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewReminders(reg)
	m.now = func() time.Time { return time.Unix(1_800_000_000, 0) }
	m.Observe(ReminderTick{Planned: 4, Sent: 2, Failed: 1, Retry: 1, LeaseLost: 1, TokenDeleteFailed: 2})
	m.Sent(2 * time.Second)
	m.Sent(40 * time.Second)
	m.Observe(ReminderTick{Err: errors.New("mysql: gone")})
	m.Observe(ReminderTick{Err: context.Canceled})
	checks := map[prometheus.Collector]float64{
		m.deliveries.WithLabelValues("sent"):   2,
		m.deliveries.WithLabelValues("failed"): 1,
		m.deliveries.WithLabelValues("retry"):  1,
		m.ticks.WithLabelValues("ok"):          1,
		m.ticks.WithLabelValues("error"):       1,
		m.planned:                              4,
		m.leaseLost:                            1,
		m.tokenStuck:                           2,
		m.lastTick:                             1_800_000_000,
	}
	for c, want := range checks {
		if got := testutil.ToFloat64(c); got != want {
			t.Errorf("%v = %v, want %v", c.(prometheus.Metric).Desc(), got, want)
		}
	}
	want := `
# HELP soomcare_reminder_due_to_sent_seconds Time from a dose's due instant to the recorded send of its reminder.
# TYPE soomcare_reminder_due_to_sent_seconds histogram
soomcare_reminder_due_to_sent_seconds_bucket{le="1"} 0
soomcare_reminder_due_to_sent_seconds_bucket{le="5"} 1
soomcare_reminder_due_to_sent_seconds_bucket{le="15"} 1
soomcare_reminder_due_to_sent_seconds_bucket{le="30"} 1
soomcare_reminder_due_to_sent_seconds_bucket{le="60"} 2
soomcare_reminder_due_to_sent_seconds_bucket{le="120"} 2
soomcare_reminder_due_to_sent_seconds_bucket{le="300"} 2
soomcare_reminder_due_to_sent_seconds_bucket{le="600"} 2
soomcare_reminder_due_to_sent_seconds_bucket{le="1200"} 2
soomcare_reminder_due_to_sent_seconds_bucket{le="+Inf"} 2
soomcare_reminder_due_to_sent_seconds_sum 42
soomcare_reminder_due_to_sent_seconds_count 2
`
	if err := testutil.CollectAndCompare(m.delay, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestReadMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	meminfo := write("meminfo", "MemTotal:       16318408 kB\nMemFree:  1 kB\n")
	tests := []struct {
		name, cgroup string
		want         float64
	}{
		{"cgroup limit", write("limited", "536870912\n"), 536870912},
		{"no cgroup limit", write("max", "max\n"), 16318408 * 1024},
		{"no cgroup v2", filepath.Join(dir, "absent"), 16318408 * 1024},
	}
	for _, tt := range tests {
		if got := readMemoryLimit(tt.cgroup, meminfo); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The listener serves the registry on /metrics and stops with ctx.
func TestListener(t *testing.T) {
	reg := NewRegistry()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := Listen("http.metrics_addr", "127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Serve(ctx) }()
	res, err := http.Get("http://" + l.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "go_gc_duration_seconds", "go_sched_gomaxprocs_threads", "soomcare_memory_limit_bytes"} {
		if !strings.Contains(string(body), "\n"+name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("listener did not stop")
	}
	if _, err := Listen("http.metrics_addr", l.Addr()+"x", reg); err == nil || !strings.Contains(err.Error(), "http.metrics_addr") {
		t.Errorf("a bad address should name the key: %v", err)
	}
}

func TestCallsObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	st, en := NewStatements(reg), NewEngineCalls(reg)
	st.Observe("select posts", 3*time.Millisecond, false)
	st.Observe("select posts", 700*time.Millisecond, true)
	en.Observe("POST /{index}/_search", 4*time.Millisecond, false)
	if n := testutil.CollectAndCount(st.dur); n != 2 {
		t.Errorf("%d statement series, want 2 (success, failure)", n)
	}
	mf, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range mf {
		names = append(names, f.GetName())
	}
	if got := strings.Join(names, " "); got != "soomcare_engine_call_duration_seconds soomcare_mysql_statement_duration_seconds" {
		t.Errorf("families %s", got)
	}
}
