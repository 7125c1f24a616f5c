package telemetry_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/ops/grafana"
)

// dashboardProcess names the process whose /metrics each dashboard reads
// (ops/grafana/dashboards/<file>).
var dashboardProcess = map[string]string{"api.json": "serve", "cdc.json": "cdc", "reminders.json": "reminders"}

// Every metric a Grafana panel or variable names is exported by the process
// its dashboard is about, in a live scrape after real traffic: serve and
// reminders as in TestIntegrationMetrics, and a real `soomcare cdc`
// streaming row changes. Only Prometheus's `up` and mysqld_exporter's
// counter (notExported) come from elsewhere.
func TestIntegrationDashboardMetrics(t *testing.T) {
	if !testenv.Enabled() {
		t.Skip("integration: set SOOMCARE_INTEGRATION=1 (scripts/test.sh)")
	}
	dashboards, err := grafana.Dashboards()
	if err != nil {
		t.Fatal(err)
	}
	db, dsn := testdb.New(t)
	exported := map[string]map[string]bool{}
	t.Run("serve", func(t *testing.T) { exported["serve"] = serveScrape(t, dsn).names() })
	t.Run("reminders", func(t *testing.T) { exported["reminders"] = remindersScrape(t, db, dsn).names() })
	t.Run("cdc", func(t *testing.T) { exported["cdc"] = cdcScrape(t, db, dsn).names() })
	if t.Failed() {
		return
	}
	for _, d := range dashboards {
		proc, ok := dashboardProcess[d.File]
		if !ok {
			t.Errorf("%s: which process does it show? (add it to dashboardProcess)", d.File)
			continue
		}
		used, err := d.MetricNames()
		if err != nil {
			t.Errorf("%s: %v", d.File, err)
			continue
		}
		for _, line := range unexported(used, exported[proc]) {
			t.Errorf("%s: %s", d.File, line)
		}
	}
	// The check bites: a name nobody exports is reported, with its panel.
	bogus := map[string][]string{"soomcare_http_requests_total": {"panel a"}, "soomcare_no_such_series_total": {`panel "x" A`}}
	if got := unexported(bogus, exported["serve"]); len(got) != 1 || !strings.Contains(got[0], "soomcare_no_such_series_total") {
		t.Errorf("unexported(bogus) = %q, want the bogus name only", got)
	}
}

// unexported lists, sorted, each name of used that the scrape lacks (sample
// names: a histogram is its _bucket, _sum and _count) and that is not
// external by design, with the queries that name it.
func unexported(used map[string][]string, scraped map[string]bool) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if !scraped[name] && !notExported[name] {
			out = append(out, fmt.Sprintf("%s is not exported (named by %s)", name, strings.Join(used[name], "; ")))
		}
	}
	return out
}

// cdcScrape runs `soomcare cdc` on db (its own index prefix on OpenSearch),
// writes rows, and returns its /metrics once the changes are indexed and a
// checkpoint is saved.
func cdcScrape(t *testing.T, db *sql.DB, dsn string) scrape {
	url := testenv.OpenSearchURL(t)
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "dash" + hex.EncodeToString(b)
	t.Cleanup(func() { deleteIndices(t, url, prefix) }) // after the worker stopped (cleanups run last-in first-out)
	maddr := freeAddr(t)
	run(t, "cdc", []string{
		"SOOMCARE_MYSQL_DSN=" + dsn, "SOOMCARE_SEARCH_ENGINE=opensearch", "SOOMCARE_SEARCH_ADDRESSES=" + url,
		"SOOMCARE_SEARCH_INDEX_PREFIX=" + prefix, fmt.Sprintf("SOOMCARE_CDC_SERVER_ID=%d", 2000+mrand.Uint32N(1_000_000)),
		"SOOMCARE_CDC_METRICS_ADDR=" + maddr, "SOOMCARE_CDC_FLUSH_INTERVAL=100ms", "SOOMCARE_STARTUP_WAIT_TIMEOUT=20s",
	}, "http://"+maddr+"/healthz")
	// Streaming (the snapshot of the empty tables done) before the writes, so they arrive as row events.
	waitFor(t, maddr, func(s scrape) bool {
		return s.sum("soomcare_cdc_active") == 1 && s.sum("soomcare_cdc_checkpoints_total") >= 1
	})
	for i := range 3 {
		res, err := db.Exec(`INSERT INTO users (email, nickname) VALUES (?, ?)`, fmt.Sprintf("dash%d@example.test", i), fmt.Sprintf("대시%d", i))
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := res.LastInsertId()
		if _, err := db.Exec(`INSERT INTO posts (user_id, category, title, body) VALUES (?, '자유', '천식 일기', '오늘은 숨쉬기 편했다')`, uid); err != nil {
			t.Fatal(err)
		}
	}
	s := waitFor(t, maddr, func(s scrape) bool { return s.sum("soomcare_cdc_documents_total", "index", prefix+"-posts") >= 3 })
	for _, m := range []struct {
		name  string
		label []string
	}{
		{"soomcare_cdc_events_total", []string{"table", "posts", "op", "insert"}},
		{"soomcare_cdc_documents_total", []string{"index", prefix + "-posts"}},
		{"soomcare_cdc_checkpoints_total", nil},
		{"soomcare_cdc_bulk_seconds_count", nil},
		{"soomcare_cdc_active", nil},
	} {
		if s.sum(m.name, m.label...) < 1 {
			t.Errorf("cdc: %s%v did not move", m.name, m.label)
		}
	}
	return s
}

// waitFor scrapes addr until ok holds (at most a minute) and returns the last scrape.
func waitFor(t *testing.T, addr string, ok func(scrape) bool) scrape {
	t.Helper()
	var s scrape
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if s = getMetrics(t, addr); ok(s) {
			return s
		}
	}
	var cdc []string
	for k, v := range s {
		if strings.HasPrefix(k, "soomcare_cdc_") {
			cdc = append(cdc, fmt.Sprintf("%s %v", k, v))
		}
	}
	slices.Sort(cdc)
	t.Errorf("timed out waiting; soomcare_cdc_* of the last scrape:\n%s", strings.Join(cdc, "\n"))
	return s
}

// deleteIndices deletes the physical indices whose names start with prefix
// (their aliases go with them).
func deleteIndices(t *testing.T, url, prefix string) {
	res, err := http.Get(url + "/_cat/indices/" + prefix + "*?format=json&h=index")
	if err != nil {
		t.Errorf("list %s indices: %v", prefix, err)
		return
	}
	defer res.Body.Close()
	var rows []struct{ Index string }
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil {
		t.Errorf("list %s indices: %v", prefix, err)
		return
	}
	for _, r := range rows {
		req, _ := http.NewRequest(http.MethodDelete, url+"/"+r.Index, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
}
