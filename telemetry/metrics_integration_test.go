package telemetry_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/cli"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
)

const rulesFile = "../ops/prometheus/rules.yml"

// notExported are the names rules.yml may use that these binaries do not
// export: Prometheus's own `up`, and mysqld_exporter's slow-query counter.
var notExported = map[string]bool{"up": true, "mysql_global_status_slow_queries": true}

// scrape is one /metrics answer: sample name + sorted labels → value.
type scrape map[string]float64

func getMetrics(t *testing.T, addr string) scrape {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d", res.StatusCode)
	}
	return parseText(t, res.Body)
}

// parseText reads the Prometheus text format (what promhttp writes: one
// sample per line, labels sorted by name).
func parseText(t *testing.T, r io.Reader) scrape {
	t.Helper()
	s := scrape{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		s[line[:i]] = v
	}
	return s
}

// names are the sample names (histograms as _bucket, _sum, _count).
func (s scrape) names() map[string]bool {
	out := map[string]bool{}
	for k := range s {
		if i := strings.IndexByte(k, '{'); i >= 0 {
			k = k[:i]
		}
		out[k] = true
	}
	return out
}

// sum adds the samples of name whose labels include every pair of want.
func (s scrape) sum(name string, want ...string) float64 {
	var total float64
	for k, v := range s {
		if k != name && !strings.HasPrefix(k, name+"{") {
			continue
		}
		ok := true
		for i := 0; i+1 < len(want); i += 2 {
			if !strings.Contains(k, want[i]+`="`+want[i+1]+`"`) {
				ok = false
			}
		}
		if ok {
			total += v
		}
	}
	return total
}

// metricNames are the series names of every rule expression. A careful scan
// rather than the PromQL parser (github.com/prometheus/prometheus would add
// its whole module graph): strings, label matchers, grouping lists, ranges
// and offsets are removed; what remains that is an identifier, not a
// function call, a keyword or part of a number is a metric name.
func metricNames(expr string) []string {
	for _, re := range stripRes {
		expr = re.ReplaceAllString(expr, " ")
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range identRe.FindAllStringSubmatchIndex(expr, -1) {
		name := expr[m[2]:m[3]]
		rest := strings.TrimLeft(expr[m[3]:], " \t\n")
		if strings.HasPrefix(rest, "(") || promqlKeywords[strings.ToLower(name)] || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

var (
	stripRes = []*regexp.Regexp{
		regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`"),
		regexp.MustCompile(`\{[^}]*\}`),
		regexp.MustCompile(`(?i)\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`),
		regexp.MustCompile(`\[[^\]]*\]`),
		regexp.MustCompile(`(?i)\boffset\s+-?[0-9a-z]+`),
		regexp.MustCompile(`#[^\n]*`),
	}
	identRe        = regexp.MustCompile(`(?:^|[^a-zA-Z0-9_:.])([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	promqlKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "by": true, "without": true,
		"on": true, "ignoring": true, "group_left": true, "group_right": true, "offset": true, "inf": true, "nan": true, "atan2": true}
)

func TestMetricNames(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`up{job="soomcare-api"} == 0`, "up"},
		{`(sum(up{job="soomcare-api"}) or vector(0)) == 0`, "up"},
		{"sum by (job) (rate(a_total{status_class=\"5xx\",route=~\"/v1/(x|y)\"}[5m]))\n / sum by (job) (rate(a_total[5m])) > 0.05", "a_total"},
		{`histogram_quantile(0.99, sum by (job, le) (rate(h_bucket{route!~"/v1/auth/.*"}[5m]))) > 0.5 and sum by (job) (rate(h_count[5m])) > 0.2`, "h_bucket h_count"},
		{`sum(rate(r_total[30m])) > 3 * sum(rate(r_total[30m] offset 1w))`, "r_total"},
		{`x / on(job, instance) (m_bytes or g_bytes) > 0.9 and y > 1e19 unless z bool > inf`, "g_bytes m_bytes x y z"},
		{`a == 1 or on(job) sum by (job, instance) (increase(b_total[10m])) > 0`, "a b_total"},
		{`time() - last_tick_timestamp_seconds > 600`, "last_tick_timestamp_seconds"},
	}
	for _, tt := range tests {
		if got := strings.Join(metricNames(tt.expr), " "); got != tt.want {
			t.Errorf("metricNames(%q) = %q, want %q", tt.expr, got, tt.want)
		}
	}
}

func ruleNames(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Groups []struct {
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	byName := map[string][]string{}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			for _, n := range metricNames(r.Expr) {
				byName[n] = append(byName[n], r.Alert)
			}
		}
	}
	if len(byName) < 10 {
		t.Fatalf("only %d metric names in %s: the scan is broken", len(byName), rulesFile)
	}
	return byName
}

// cdcNames are the sample names the CDC worker's registry exports once its
// vectors have children: every field of cdc.Metrics, histograms with their
// _bucket/_sum/_count, plus what its registry gathers (Go and process).
func cdcNames(t *testing.T) map[string]bool {
	t.Helper()
	m := cdc.NewMetrics(nil)
	out := map[string]bool{}
	mf, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range mf {
		out[f.GetName()] = true
	}
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		c, ok := v.Field(i).Interface().(prometheus.Collector)
		if !ok || v.Field(i).Type() == reflect.TypeOf(m.Registry) {
			continue
		}
		ch := make(chan *prometheus.Desc, 4)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			name := fqName.FindStringSubmatch(d.String())[1]
			switch c.(type) {
			case prometheus.Histogram, *prometheus.HistogramVec:
				out[name+"_bucket"], out[name+"_sum"], out[name+"_count"] = true, true, true
			default:
				out[name] = true
			}
		}
	}
	if !out["soomcare_cdc_events_total"] || !out["soomcare_cdc_bulk_seconds_bucket"] {
		t.Fatalf("cdc names incomplete: %v", out)
	}
	return out
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run starts `soomcare <cmd>` in-process and waits until ready answers.
func run(t *testing.T, cmd string, environ []string, ready string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- cli.Main(ctx, []string{cmd}, io.Discard, stderr, environ) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != cli.ExitOK {
				t.Errorf("%s exited %d: %s", cmd, code, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop", cmd)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if res, err := http.Get(ready); err == nil {
			res.Body.Close()
			return
		}
		select {
		case code := <-done:
			t.Fatalf("%s exited early with %d: %s", cmd, code, stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not answer %s: %s", cmd, ready, stderr.String())
}

// The real `serve` and `reminders`, after real traffic: their series move,
// labels stay bounded, and every metric name of rules.yml is exported by
// serve, reminders or the CDC worker's registry.
func TestIntegrationMetrics(t *testing.T) {
	if !testenv.Enabled() {
		t.Skip("integration: set SOOMCARE_INTEGRATION=1 (scripts/test.sh)")
	}
	db, dsn := testdb.New(t)
	exported := cdcNames(t)
	t.Run("serve", func(t *testing.T) {
		for n := range serveScrape(t, dsn).names() {
			exported[n] = true
		}
	})
	t.Run("reminders", func(t *testing.T) {
		for n := range remindersScrape(t, db, dsn).names() {
			exported[n] = true
		}
	})
	if t.Failed() {
		return
	}
	for name, alerts := range ruleNames(t) {
		if !exported[name] && !notExported[name] {
			t.Errorf("%s (alerts %v) is exported by none of serve, reminders, cdc", name, alerts)
		}
	}
}

func serveScrape(t *testing.T, dsn string) scrape {
	addr, maddr := freeAddr(t), freeAddr(t)
	run(t, "serve", []string{
		"SOOMCARE_MYSQL_DSN=" + dsn, "SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + testenv.OpenSearchURL(t), "SOOMCARE_SEARCH_MAX_RETRIES=0",
		"SOOMCARE_HTTP_ADDR=" + addr, "SOOMCARE_HTTP_METRICS_ADDR=" + maddr, "SOOMCARE_STARTUP_WAIT_TIMEOUT=20s",
		"SOOMCARE_SEARCHAPI_RATE_LIMIT=0.1", "SOOMCARE_SEARCHAPI_RATE_BURST=1",
		"SOOMCARE_AUTH_LOGIN_THROTTLE_IP_FAILURES=1",
	}, "http://"+addr+"/healthz")
	base := "http://" + addr
	if res, err := http.Get(base + "/metrics"); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("the public port answers /metrics with %d", res.StatusCode)
		}
	}
	before := getMetrics(t, maddr)
	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	for range 3 {
		do("GET", "/healthz", "")
	}
	do("GET", "/readyz", "")
	do("GET", "/v1/posts/12345/no-such-thing/secret", "")
	// Until each answers 429: a login may first answer 503 busy on a loaded
	// machine (password hashing is bounded), which gives its attempt back.
	until429 := func(method, path, body string) []int {
		var got []int
		for range 6 {
			if got = append(got, do(method, path, body)); got[len(got)-1] == http.StatusTooManyRequests {
				break
			}
		}
		return got
	}
	searches := until429("GET", "/v1/search?q=천식", "")
	logins := until429("POST", "/v1/auth/login", `{"email":"nobody@example.test","password":"wrong-password-1"}`)
	if searches[len(searches)-1] != 429 || logins[len(logins)-1] != 429 {
		t.Fatalf("want searches and logins refused with 429 at last: searches %v, logins %v", searches, logins)
	}
	after := getMetrics(t, maddr)

	moved := []struct {
		what  string
		name  string
		label []string
		least float64
	}{
		{"healthz answers", "soomcare_http_requests_total", []string{"route", "/healthz", "status_class", "2xx"}, 3},
		{"unknown path", "soomcare_http_requests_total", []string{"route", "unmatched", "status_class", "4xx"}, 1},
		{"readyz latency", "soomcare_http_request_duration_seconds_count", []string{"route", "/readyz"}, 1},
		{"latency buckets", "soomcare_http_request_duration_seconds_bucket", []string{"route", "/healthz", "le", "+Inf"}, 3},
		{"search rate limit", "soomcare_http_throttled_total", []string{"route", "/v1/search"}, 1},
		{"login throttle", "soomcare_http_throttled_total", []string{"route", "/v1/auth/login"}, 1},
		{"statement latency", "soomcare_mysql_statement_duration_seconds_count", []string{"outcome", "success"}, 1},
		{"engine call latency", "soomcare_engine_call_duration_seconds_count", []string{"outcome", "success"}, 1},
	}
	for _, m := range moved {
		if d := after.sum(m.name, m.label...) - before.sum(m.name, m.label...); d < m.least {
			t.Errorf("%s: %s%v moved by %v, want ≥ %v", m.what, m.name, m.label, d, m.least)
		}
	}
	if n := after.sum("go_sql_open_connections", "db_name", "soomcare"); n < 1 {
		t.Errorf("MySQL pool: %v open connections after the requests", n)
	}
	for name, want := range map[string]float64{"soomcare_dependency_up": 2, "soomcare_http_requests_in_flight": 0} {
		if got := after.sum(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	for _, name := range []string{"go_sql_in_use_connections", "go_sql_idle_connections", "go_sql_wait_count_total", "go_sql_wait_duration_seconds_total",
		"process_cpu_seconds_total", "process_resident_memory_bytes", "go_gc_duration_seconds_count", "soomcare_memory_limit_bytes"} {
		if !after.names()[name] {
			t.Errorf("serve exports no %s", name)
		}
	}
	if after.sum("process_cpu_seconds_total") <= 0 {
		t.Error("process CPU did not move")
	}
	for k := range after {
		for _, leak := range []string{"12345", "secret", "천식", "%EC", "nobody"} {
			if strings.Contains(k, leak) {
				t.Errorf("a label carries request data %q: %s", leak, k)
			}
		}
	}
	return after
}

func remindersScrape(t *testing.T, db *sql.DB, dsn string) scrape {
	fcm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"projects/p/messages/1"}`)
	}))
	defer fcm.Close()
	// A dose due a minute ago (UTC schedule), a device to send it to.
	res, err := db.Exec(`INSERT INTO users (email, nickname) VALUES ('metrics@example.test', '메트릭')`)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := res.LastInsertId()
	res, err = db.Exec(`INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, '심비코트', 'controller', 'inhaler', 160, 'mcg')`, uid)
	if err != nil {
		t.Fatal(err)
	}
	med, _ := res.LastInsertId()
	due := time.Now().UTC().Add(-time.Minute)
	if _, err := db.Exec(`INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, ?, 127, 'UTC', ?)`,
		uid, med, due.Format("15:04"), due.AddDate(0, 0, -2).Format(time.DateOnly)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO device_tokens (user_id, token, platform) VALUES (?, 'metrics-device-token-0001', 'android')`, uid); err != nil {
		t.Fatal(err)
	}
	maddr := freeAddr(t)
	run(t, "reminders", []string{
		"SOOMCARE_MYSQL_DSN=" + dsn, "SOOMCARE_PUSH_ENDPOINT=" + fcm.URL, "SOOMCARE_PUSH_PROJECT_ID=p",
		"SOOMCARE_PUSH_STATIC_TOKEN=test-token", "SOOMCARE_REMINDERS_INTERVAL=1s", "SOOMCARE_REMINDERS_METRICS_ADDR=" + maddr,
	}, "http://"+maddr+"/healthz")
	var s scrape
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		s = getMetrics(t, maddr)
		if s.sum("soomcare_reminder_deliveries_total", "outcome", "sent") >= 1 && s.sum("soomcare_reminder_ticks_total", "result", "ok") >= 2 {
			break
		}
	}
	for _, m := range []struct {
		name  string
		label []string
	}{
		{"soomcare_reminder_deliveries_total", []string{"outcome", "sent"}},
		{"soomcare_reminder_ticks_total", []string{"result", "ok"}},
		{"soomcare_reminder_planned_total", nil},
		{"soomcare_reminder_due_to_sent_seconds_count", nil},
		{"soomcare_reminder_last_tick_timestamp_seconds", nil},
		{"go_sql_open_connections", []string{"db_name", "soomcare"}},
	} {
		if s.sum(m.name, m.label...) < 1 {
			t.Errorf("reminders: %s%v did not move", m.name, m.label)
		}
	}
	if d := s.sum("soomcare_reminder_due_to_sent_seconds_sum"); d < 30 || d > 600 {
		t.Errorf("due → sent delay %v s, want about a minute", d)
	}
	return s
}
