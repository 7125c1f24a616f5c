package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/internal/testenv"
)

// TestMain lets `bench search` start its load generator as a second process
// from the test binary: `<test binary> bench loadgen` runs the command, not
// the tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "bench" && os.Args[2] == "loadgen" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
	}
	os.Exit(m.Run())
}

// The benchmarks run end to end at a tiny size against MariaDB and OpenSearch
// (figures mean nothing here; docs/benchmarks.md has the real ones): each
// prints its baseline, its own figure and the ratio, and leaves no scratch
// database and no index behind.
func TestIntegrationBenchCommands(t *testing.T) {
	osURL := testenv.OpenSearchURL(t)
	dsn := testenv.MySQLDSN(t) + "soomcare"
	environ := []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + osURL,
		"SOOMCARE_LOG_LEVEL=warn",
	}
	db, err := sql.Open("mysql", testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"bench", "reindex", "--docs", "1000"},
			[]string{"raw _bulk ceiling", "soomcare reindex", "ratio", "bytes/doc", "load average"}},
		{[]string{"bench", "cdc", "--events", "1000", "--rate", "50", "--duration", "1s"},
			[]string{"raw _bulk ceiling", "cdc end to end", "ratio to the live ceiling", "lag at", "load average"}},
		{[]string{"bench", "search", "--docs", "1000", "--rate", "40", "--duration", "1s"},
			[]string{"through the API", "straight to the engine", "API p50 / direct p50", "load average"}},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
			code, out, stderr := run(t, environ, tt.args...)
			if code != ExitOK {
				t.Fatalf("%v: exit %d\n%s%s", tt.args, code, out, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("%v output lacks %q:\n%s", tt.args, w, out)
				}
			}
			// The lag phase offers about rate × duration rows (fewer on a busy
			// machine); every one it inserted must have been acknowledged.
			if m := lagRows.FindStringSubmatch(out); tt.args[1] == "cdc" && (m == nil || m[1] != m[2]) {
				t.Errorf("the lag phase did not see every row acknowledged: %q", m)
			}
			// Search answers, API and direct: requests were sent and most were
			// answered (a loaded machine may time a few out).
			for _, m := range sentRows.FindAllStringSubmatch(out, -1) {
				if sent, errs := atoi(t, m[1]), atoi(t, m[2]); sent == 0 || errs*2 > sent {
					t.Errorf("a load block sent %d requests with %d errors", sent, errs)
				}
			}
			if tt.args[1] == "search" && len(sentRows.FindAllString(out, -1)) != 2 {
				t.Errorf("want the API and the direct block in the output:\n%s", out)
			}
			if left := benchLeftovers(t, db, osURL); len(left) > 0 {
				t.Errorf("%v left behind %v", tt.args, left)
			}
		})
	}
}

var (
	lagRows  = regexp.MustCompile(`\((\d+) of (\d+) rows\)`)
	sentRows = regexp.MustCompile(`\((\d+) sent, (\d+) errors`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// benchLeftovers lists the scratch databases and indices of the benchmarks.
func benchLeftovers(t *testing.T, db *sql.DB, osURL string) []string {
	t.Helper()
	var left []string
	rows, err := db.Query("SHOW DATABASES LIKE 'soomcare\\_bench\\_%'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		left = append(left, name)
	}
	resp, err := http.Get(osURL + "/_cat/indices/bench*?format=json&expand_wildcards=all")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var indices []struct{ Index string }
	if err := json.NewDecoder(resp.Body).Decode(&indices); err != nil {
		t.Fatal(err)
	}
	for _, i := range indices {
		left = append(left, i.Index)
	}
	return left
}
