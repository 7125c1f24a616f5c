package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
)

// TestIntegrationServeRequestIDInAnswerEnvelopeAndLogs runs the real `serve`
// with log.format: json and both slow thresholds at 1ns: one request's id
// is in its X-Request-ID answer header, its error envelope and its log
// lines — the access line, the engine's error line, its slow engine call,
// the slow statements of a sign-up — every stderr line is ECS JSON, no
// password, e-mail or search term is logged, and a real line of serve
// posted into the log data stream (`soomcare logs setup` on OpenSearch) is
// found by http.request.id.
func TestIntegrationServeRequestIDInAnswerEnvelopeAndLogs(t *testing.T) {
	_, dsn := testdb.New(t)
	osURL := testenv.OpenSearchURL(t)
	addr := freeAddr(t)
	environ := []string{
		"SOOMCARE_MYSQL_DSN=" + dsn, "SOOMCARE_SEARCH_ENGINE=opensearch", "SOOMCARE_SEARCH_ADDRESSES=" + osURL,
		"SOOMCARE_SEARCH_MAX_RETRIES=0", "SOOMCARE_HTTP_ADDR=" + addr, "SOOMCARE_STARTUP_WAIT_TIMEOUT=20s",
		"SOOMCARE_LOG_FORMAT=json", "SOOMCARE_MYSQL_SLOW_QUERY_THRESHOLD=1ns", "SOOMCARE_SEARCH_SLOW_CALL_THRESHOLD=1ns",
		fmt.Sprintf("SOOMCARE_SEARCH_INDEX_PREFIX=nolog%d", rand.Uint32()), // no alias: search answers 503
	}
	base, stderr := serveWithLog(t, environ)
	suffix := fmt.Sprint(rand.Uint64())
	const password, term = "correct horse battery", "소아천식"
	email := "logs-" + suffix + "@example.com"

	type call struct {
		id, method, path, body string
		status                 int
		envelope               bool
		lines                  []string // messages that must carry the id
	}
	calls := []call{
		{id: "search-" + suffix, method: "GET", path: "/v1/search?q=" + term, status: http.StatusServiceUnavailable, envelope: true,
			lines: []string{"request", "request failed", "slow engine call"}},
		{id: "signup-" + suffix, method: "POST", path: "/v1/auth/signup", status: http.StatusCreated,
			body: `{"email":"` + email + `","password":"` + password + `","nickname":"로그` + suffix[:4] + `"}`, lines: []string{"request", "slow statement"}},
		{id: "login-" + suffix, method: "POST", path: "/v1/auth/login", status: http.StatusUnauthorized, envelope: true,
			body: `{"email":"` + email + `","password":"wrong password!"}`, lines: []string{"request", "slow statement"}},
		{id: "missing-" + suffix, method: "GET", path: "/v1/nope", status: http.StatusNotFound, envelope: true, lines: []string{"request"}},
	}
	for _, c := range calls {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		req.Header.Set("X-Request-ID", c.id)
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]any
		_ = json.NewDecoder(res.Body).Decode(&env)
		res.Body.Close()
		if res.StatusCode != c.status || res.Header.Get("X-Request-ID") != c.id {
			t.Errorf("%s: %d X-Request-ID %q, want %d %q", c.path, res.StatusCode, res.Header.Get("X-Request-ID"), c.status, c.id)
		}
		if c.envelope && env["request_id"] != c.id {
			t.Errorf("%s: envelope %v lacks request_id %q", c.path, env, c.id)
		}
	}

	lines := waitForLines(t, stderr, "missing-"+suffix)
	byID := map[string]map[string]map[string]any{} // id -> message -> a line
	for _, l := range lines {
		for _, k := range []string{"@timestamp", "log.level", "message", "service.name", "ecs.version"} {
			if _, ok := l[k].(string); !ok {
				t.Errorf("line without %s: %v", k, l)
			}
		}
		if l["service.name"] != "soomcare-api" {
			t.Errorf("service.name %v", l["service.name"])
		}
		if id, ok := l["http.request.id"].(string); ok {
			if byID[id] == nil {
				byID[id] = map[string]map[string]any{}
			}
			byID[id][l["message"].(string)] = l
		}
	}
	for _, c := range calls {
		for _, msg := range c.lines {
			if byID[c.id][msg] == nil {
				t.Errorf("%s %s: no %q line with its id; its lines: %v", c.method, c.path, msg, byID[c.id])
			}
		}
		if a := byID[c.id]["request"]; a != nil && (a["http.response.status_code"] != float64(c.status) || a["http.request.method"] != c.method) {
			t.Errorf("access line %v", a)
		}
	}
	if a := byID["search-"+suffix]["request"]; a != nil && a["url.path"] != "/v1/search" {
		t.Errorf("search access line url.path %v", a["url.path"])
	}
	text := stderr.String()
	for _, secret := range []string{password, email, term, "wrong password"} {
		if strings.Contains(text, secret) {
			t.Errorf("%q reached the log", secret)
		}
	}

	shipAndFind(t, osURL, byID["search-"+suffix]["request"], "search-"+suffix)
}

// serveWithLog runs `soomcare serve` in-process and returns its base URL
// and its stderr.
func serveWithLog(t *testing.T, environ []string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, &bytes.Buffer{}, stderr, environ) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15s")
		}
	})
	var addr string
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "SOOMCARE_HTTP_ADDR="); ok {
			addr = v
		}
	}
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return base, stderr
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s", code, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not answer /healthz: %s", stderr.String())
	return "", nil
}

// waitForLines parses stderr once the access line of lastID is written
// (access lines follow the answer); every line must be one JSON object.
func waitForLines(t *testing.T, stderr *syncBuffer, lastID string) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), `"http.request.id":"`+lastID+`"`) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	var out []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("stderr line is not JSON: %s", raw)
		}
		out = append(out, l)
	}
	return out
}

// shipAndFind installs the log data stream with `soomcare logs setup`,
// posts line (dotted keys expanded, as Filebeat's ndjson parser does; its
// processors leave an ECS line as it is, TestFilebeatMapsTheLines) through
// _bulk and finds it by http.request.id.
func shipAndFind(t *testing.T, osURL string, line map[string]any, id string) {
	t.Helper()
	if line == nil {
		t.Fatal("no line to ship")
	}
	ds := fmt.Sprintf("logs-soomcare-serve%d", rand.Uint32())
	t.Cleanup(func() {
		for _, p := range []string{"/_data_stream/", "/_index_template/"} {
			req, _ := http.NewRequest(http.MethodDelete, osURL+p+ds, nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}
	})
	var out bytes.Buffer
	env := []string{"SOOMCARE_SEARCH_ENGINE=" + config.EngineOpenSearch, "SOOMCARE_SEARCH_ADDRESSES=" + osURL, "SOOMCARE_LOGS_DATA_STREAM=" + ds}
	if code := Main(context.Background(), []string{"logs", "setup"}, &out, &out, env); code != ExitOK {
		t.Fatalf("logs setup: %d %s", code, out.String())
	}
	doc := map[string]any{}
	for k, v := range line {
		m := doc
		parts := strings.Split(k, ".")
		for _, p := range parts[:len(parts)-1] {
			if _, ok := m[p].(map[string]any); !ok {
				m[p] = map[string]any{}
			}
			m = m[p].(map[string]any)
		}
		m[parts[len(parts)-1]] = v
	}
	raw, _ := json.Marshal(doc)
	body := fmt.Sprintf("{\"create\":{}}\n%s\n", raw)
	res, err := http.Post(osURL+"/"+ds+"/_bulk?refresh=true", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var bulk struct {
		Errors bool `json:"errors"`
	}
	_ = json.NewDecoder(res.Body).Decode(&bulk)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || bulk.Errors {
		t.Fatalf("_bulk: %d errors=%v for %s", res.StatusCode, bulk.Errors, raw)
	}
	q := `{"query":{"term":{"http.request.id":"` + id + `"}}}`
	res, err = http.Post(osURL+"/"+ds+"/_search", "application/json", strings.NewReader(q))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var found struct {
		Hits struct {
			Hits []struct {
				Source map[string]any `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&found); err != nil || len(found.Hits.Hits) != 1 {
		t.Fatalf("search by http.request.id %s: %v %+v", id, err, found)
	}
	src := found.Hits.Hits[0].Source
	if httpObj, _ := src["http"].(map[string]any); httpObj == nil {
		t.Errorf("stored line %v", src)
	}
}
