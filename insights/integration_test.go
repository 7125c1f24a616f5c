package insights

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/logstore"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

// insightsEnv indexes a small corpus into OpenSearch under a random
// prefix, installs a random insights data stream, and serves the search API
// with the recorder and the popular list, and the editors' report.
type insightsEnv struct {
	es       *engine.Client
	stream   string
	recorder *Recorder
	metrics  *Metrics
	popular  *Popular
	blocks   *BlockStore
	h        http.Handler
	v        *apidoctest.Validator
	role     *string // the caller's role, set by a test middleware
	userID   *uint64 // the caller's id when role is set (default 4, the editor)
	remote   *string // the caller's address (default 192.0.2.1:1234, httptest's)
}

func newInsightsEnv(t *testing.T) *insightsEnv {
	t.Helper()
	addr := testenv.OpenSearchURL(t)
	db, _ := testdb.New(t)
	for _, s := range []string{
		`INSERT INTO users (id, email, nickname, bio, role, status) VALUES (1, 'a@example.test', '숨쉬는고래', '', 'user', 'active'), (4, 'd@example.test', '편집자', '', 'editor', 'active')`,
		`INSERT INTO contents (id, author_id, title, body, summary, category, tags, status, published_at) VALUES
		 (1, 4, '천식 흡입기 사용법', '흡입기를 쓰기 전에 숨을 내쉬세요.', '흡입기', '약물', '[]', 'published', '2024-03-01 03:00:00'),
		 (2, 4, '벤토린 올바르게 쓰기', '벤토린은 완화제입니다.', '완화제', '약물', '[]', 'published', '2024-03-10 03:00:00')`,
		`INSERT INTO posts (id, user_id, category, title, body, like_count, created_at) VALUES
		 (101, 1, '질문', '아이의 천식이 밤에 심해져요', '밤마다 기침을 해요', 1, '2024-05-01 00:00:00'),
		 (102, 1, '정보', '흡입기 세척은 어떻게 하나요', '입구를 닦는 법', 2, '2024-05-02 00:00:00')`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	es, err := engine.New(config.Search{Engine: config.EngineOpenSearch, Addresses: []string{addr}, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "t" + hex.EncodeToString(b)
	life := indexer.NewLifecycle(es.ES, prefix)
	stream := prefix + "-insights"
	t.Cleanup(func() {
		ctx := context.Background()
		for _, n := range mappings.Names() {
			all, _, _ := life.Physical(ctx, n)
			for _, idx := range all {
				life.Delete(ctx, idx)
			}
		}
		for _, p := range []string{"/_data_stream/" + stream, "/_index_template/" + stream, "/_plugins/_ism/policies/" + stream} {
			req, _ := http.NewRequest(http.MethodDelete, p, nil)
			if res, err := es.ES.Perform(req); err == nil {
				res.Body.Close()
			}
		}
	})
	r := indexer.NewReindexer(db, es.ES, life, bulk.NewWriter(es.ES, bulk.Options{}, slog.Default()), slog.Default())
	for _, n := range mappings.Names() {
		if _, err := r.Run(context.Background(), n, indexer.ReindexOptions{Profile: mappings.ProfileNori}); err != nil {
			t.Fatalf("reindex %s: %v", n, err)
		}
	}
	cfg := config.Insights{Lifecycle: config.Lifecycle{DataStream: stream, Retention: "90d", RolloverSize: "5gb", RolloverAge: "7d"}}
	if _, err := Setup(context.Background(), es, cfg); err != nil {
		t.Fatal(err)
	}
	env := &insightsEnv{es: es, stream: stream, popular: NewPopular(), blocks: NewBlockStore(db, nil), v: apidoctest.New(t),
		role: new(string), userID: new(uint64), remote: new(string)}
	env.metrics = NewMetrics(prometheusRegistry())
	env.recorder = NewRecorder(es.ES, env.metrics, Options{DataStream: stream, QueueSize: 1000, FlushInterval: 50 * time.Millisecond})
	api := searchapi.New(es.ES, searchapi.Options{IndexPrefix: prefix, Timeout: 10 * time.Second, Recorder: env.recorder, Popular: env.popular})
	report := NewAPI(NewReader(es.ES, stream), slog.Default(), nil)
	principal := func(e *gin.Engine) {
		e.Use(func(c *gin.Context) {
			if *env.role != "" {
				web.SetPrincipal(c, web.Principal{UserID: cmp.Or(*env.userID, 4), Role: *env.role})
			}
		})
	}
	edit := NewBlockAPI(env.blocks, env.popular, slog.Default())
	env.h = server.New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.Default(), nil, principal, api.Mount, report.Mount, edit.Mount).Handler()
	return env
}

func (env *insightsEnv) get(t *testing.T, target string, into any) int {
	t.Helper()
	return env.do(t, http.MethodGet, target, "", into)
}

// do sends a request as the current caller (role, userID, remote).
func (env *insightsEnv) do(t *testing.T, method, target, body string, into any) int {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if *env.remote != "" {
		req.RemoteAddr = *env.remote
	}
	if *env.role != "" {
		req.Header.Set("Authorization", "Bearer test") // the document's security; the test middleware sets the principal
	}
	rec := env.v.Serve(t, env.h, req)
	if (rec.Code == http.StatusOK || rec.Code == http.StatusCreated) && into != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Code
}

func q(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return path + "?" + v.Encode()
}

// After a scripted set of searches and suggests, the editors' top list and
// zero-result list are exact, and the popular list feeds suggest.
func TestIntegrationInsights(t *testing.T) {
	env := newInsightsEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { env.recorder.Run(ctx); close(done) }()

	script := []struct {
		target string
		times  int
	}{
		{q("/v1/search", "q", "천식"), 3},
		{q("/v1/posts/search", "q", "  천식 "), 1}, // the same query, normalised
		{q("/v1/contents/search", "q", "흡입기"), 2},
		{q("/v1/search", "q", "FEV1 "), 1},
		{q("/v1/search", "q", "fev1"), 1},         // no article has it: zero results
		{q("/v1/search", "q", "없는검색어"), 2},        // zero results
		{q("/v1/users/search", "q", "qqqzzz"), 1}, // zero results
		{q("/v1/search/suggest", "q", "천"), 4},    // suggests: counted apart
		{q("/v1/search/suggest", "q", "ㅋㅋㅋ"), 1},
		{q("/v1/search", "q", ""), 1}, // 400: not recorded
		{q("/v1/feed/posts"), 1},      // no query: not recorded
	}
	for _, s := range script {
		for range s.times {
			if code := env.get(t, s.target, nil); code != http.StatusOK && !strings.Contains(s.target, "q=&") && !strings.HasSuffix(s.target, "q=") {
				t.Fatalf("%s: %d", s.target, code)
			}
		}
	}
	cancel()
	<-done
	if got := testutil.ToFloat64(env.metrics.written); got != 16 {
		t.Fatalf("written %v records, want 16", got)
	}
	refresh(t, env.es, env.stream)

	*env.role = "user"
	if code := env.get(t, "/v1/editor/search-insights", nil); code != http.StatusForbidden {
		t.Fatalf("a user: %d, want 403", code)
	}
	*env.role = "editor"
	if code := env.get(t, "/v1/editor/search-insights?from=yesterday", nil); code != http.StatusBadRequest {
		t.Fatalf("bad from: %d, want 400", code)
	}
	var rep Report
	if code := env.get(t, "/v1/editor/search-insights", &rep); code != http.StatusOK {
		t.Fatalf("report: %d", code)
	}
	wantTop := []QueryCount{{"천식", 4}, {"fev1", 2}, {"없는검색어", 2}, {"흡입기", 2}, {"qqqzzz", 1}}
	wantZero := []QueryCount{{"fev1", 2}, {"없는검색어", 2}, {"qqqzzz", 1}}
	if !slices.Equal(rep.TopQueries, wantTop) || !slices.Equal(rep.ZeroResultTop, wantZero) {
		t.Fatalf("top %v\nzero %v\nwant %v and %v", rep.TopQueries, rep.ZeroResultTop, wantTop, wantZero)
	}
	today := time.Now().In(Zone).Format(time.DateOnly)
	last := rep.Days[len(rep.Days)-1]
	if rep.Searches != 11 || rep.ZeroResults != 5 || rep.Suggests != 5 || len(rep.Days) != DefaultDays+1 && len(rep.Days) != DefaultDays ||
		last != (Day{Date: today, Searches: 11, ZeroResults: 5, Suggests: 5}) || rep.ClicksMeasured {
		t.Fatalf("totals %d/%d/%d, days %v", rep.Searches, rep.ZeroResults, rep.Suggests, rep.Days)
	}

	// Popular: searches that found something, at least twice (all from one
	// client here: TestIntegrationSuggestionPoisoning covers distinct clients).
	counts, err := NewReader(env.es.ES, env.stream).Popular(context.Background(), time.Now(), time.Hour, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []PopularCount{{"천식", 1, 4}, {"흡입기", 1, 2}}; !slices.Equal(counts, want) {
		t.Fatalf("popular %v, want %v", counts, want)
	}
	// A reindex's warm-up: the most searched first (at most n), then the fallback, each once.
	warm, err := NewReader(env.es.ES, env.stream).WarmQueries(context.Background(), time.Now(), time.Hour, 2, 1, []string{"흡입기", "천식", "기침"})
	if want := []string{"천식", "흡입기", "기침"}; err != nil || !slices.Equal(warm, want) {
		t.Fatalf("warm-up queries %v, %v; want %v", warm, err, want)
	}
	env.popular.Set(Counts(counts))
	var sug searchapi.SuggestResponse
	if code := env.get(t, q("/v1/search/suggest", "q", "gmqdl", "size", "4"), &sug); code != http.StatusOK {
		t.Fatal(code)
	}
	if len(sug.Suggestions) == 0 || sug.Suggestions[0] != (searchapi.Suggestion{Type: searchapi.SuggestQuery, Text: "흡입기"}) {
		t.Fatalf("suggest gmqdl (흡이): %+v, want the popular query 흡입기 first", sug.Suggestions)
	}
	seen := map[string]bool{}
	for _, s := range sug.Suggestions {
		if seen[searchapi.QueryKey(s.Text)] {
			t.Fatalf("%q twice in %+v", s.Text, sug.Suggestions)
		}
		seen[searchapi.QueryKey(s.Text)] = true
	}
}

func refresh(t *testing.T, es *engine.Client, index string) {
	t.Helper()
	res, err := es.ES.Indices.Refresh(es.ES.Indices.Refresh.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatal(err)
	}
}

// #26 finding 2 and #27: popular suggestions are counted by distinct
// clients, never hold a URL, an e-mail address or a phone number, are
// shown in the Hangul they stand for, and an editor's removal or block
// applies in this process at once and in another within the blocks'
// refresh interval.
func TestIntegrationSuggestionPoisoning(t *testing.T) {
	env := newInsightsEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { env.recorder.Run(ctx); close(done) }()

	const poison = "천식 pentest 오염 테스트 scam.pentest.example"
	search := func(query, remote string, user uint64) {
		t.Helper()
		*env.remote, *env.userID, *env.role = remote, user, ""
		if user != 0 {
			*env.role = "user"
		}
		if code := env.get(t, q("/v1/search", "q", query), nil); code != http.StatusOK {
			t.Fatalf("search %q: %d", query, code)
		}
	}
	for range 6 { // the finding: six searches from one client
		search("천식 흡입기 사용법", "203.0.113.9:4000", 0)
	}
	distinct := func(query string) { // five distinct clients: four addresses and a signed-in user
		for i := range 4 {
			search(query, fmt.Sprintf("198.51.100.%d:5000", i+1), 0)
		}
		search(query, "203.0.113.9:4000", 77)
	}
	for _, query := range []string{"흡입기 세척", "cjstlr", "ㅊㅅ", poison, "천식 상담 010-1234-5678", "천식 문의 me@example.test", "천식 https://example.test"} {
		distinct(query)
	}
	cancel()
	<-done
	refresh(t, env.es, env.stream)

	counts, err := NewReader(env.es.ES, env.stream).Popular(context.Background(), time.Now(), time.Hour, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		if c.Query == "천식 흡입기 사용법" {
			t.Fatalf("six searches from one client made %q popular: %v", c.Query, counts)
		}
	}
	env.popular.Set(Counts(counts))
	want := []QueryCount{{"천식", 5}, {"흡입기 세척", 5}}
	if got := env.popular.Shown("", 100); !slices.Equal(got, want) {
		t.Fatalf("popular list %v, want %v (from %v)", got, want, counts)
	}
	queries := func(input string) []string {
		t.Helper()
		role := *env.role
		defer func() { *env.role = role }()
		*env.role = ""
		var sug searchapi.SuggestResponse
		if code := env.get(t, q("/v1/search/suggest", "q", input, "size", "8"), &sug); code != http.StatusOK {
			t.Fatalf("suggest %q: %d", input, code)
		}
		var out []string
		for _, s := range sug.Suggestions {
			if s.Type == searchapi.SuggestQuery {
				out = append(out, s.Text)
			}
		}
		return out
	}
	for input, want := range map[string][]string{"천식 p": nil, "천": {"천식"}, "ㅊ": {"천식"}, "흡입": {"흡입기 세척"}, "천식 상": nil, "천식 문": nil} {
		if got := queries(input); !slices.Equal(got, want) {
			t.Errorf("popular suggestions for %q: %q, want %q", input, got, want)
		}
	}

	// Stored: a 22-character hash per client and day, never the address or the user id.
	res, err := env.es.ES.Search(env.es.ES.Search.WithIndex(env.stream), env.es.ES.Search.WithSize(100))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(raw), `"client":"`) || strings.Contains(string(raw), "198.51.100") || strings.Contains(string(raw), "203.0.113") || strings.Contains(string(raw), "user:77") {
		t.Fatalf("stored records hold a raw client or no hash: %.400s", raw)
	}

	// An editor removes 흡입기 세척: gone here at once, and from another
	// process following the blocks within its interval.
	other := NewPopular()
	other.Set(Counts(counts))
	fctx, fcancel := context.WithCancel(context.Background())
	defer fcancel()
	const interval = 200 * time.Millisecond
	go other.FollowBlocks(fctx, env.blocks, interval, slog.Default())
	waitFor := func(what string, ok func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !ok() {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: not within 5s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return time.Since(start)
	}
	waitFor("the other process loads the (empty) blocks", func() bool { return len(other.Match("흡입", 5)) == 1 })

	*env.role, *env.userID = "user", 77
	if code := env.do(t, http.MethodPost, "/v1/editor/suggestions/blocks", `{"text":"흡입기 세척","match":"exact"}`, nil); code != http.StatusForbidden {
		t.Fatalf("a user removing a suggestion: %d, want 403", code)
	}
	*env.role, *env.userID = "editor", 4
	if code := env.do(t, http.MethodPost, "/v1/editor/suggestions/blocks", `{"text":"천식","match":"sometimes"}`, nil); code != http.StatusBadRequest {
		t.Fatalf("a bad match: %d, want 400", code)
	}
	if code := env.do(t, http.MethodPost, "/v1/editor/suggestions/blocks", `{"text":"ㅊㅅ","match":"exact"}`, nil); code != http.StatusBadRequest {
		t.Fatalf("초성 text: %d, want 400", code)
	}
	var removed Block
	if code := env.do(t, http.MethodPost, "/v1/editor/suggestions/blocks", `{"text":"흡입기  세척","match":"exact"}`, &removed); code != http.StatusCreated || removed.Text != "흡입기 세척" {
		t.Fatalf("remove: %d %+v", code, removed)
	}
	if got := queries("흡입"); got != nil {
		t.Fatalf("right after the removal, suggest still shows %q", got)
	}
	took := waitFor("the other process drops the removed query", func() bool { return len(other.Match("흡입", 5)) == 0 })
	t.Logf("removal applied in another process after %s (interval %s)", took, interval)
	if took > interval+500*time.Millisecond {
		t.Fatalf("removal took %s in another process, bound %s + one read", took, interval)
	}

	// A block of a text given as English keys blocks its Hangul (cjstlr is 천식).
	var blocked Block
	if code := env.do(t, http.MethodPost, "/v1/editor/suggestions/blocks", `{"text":"cjstlr","match":"contains"}`, &blocked); code != http.StatusCreated || blocked.Text != "천식" {
		t.Fatalf("block: %d %+v", code, blocked)
	}
	if code := env.do(t, http.MethodPost, "/v1/editor/suggestions/blocks", `{"text":"천식","match":"contains"}`, nil); code != http.StatusOK {
		t.Fatalf("the same block again: %d, want 200", code)
	}
	if got := queries("천"); got != nil {
		t.Fatalf("after blocking 천식, suggest shows %q", got)
	}
	if code := env.do(t, http.MethodDelete, fmt.Sprintf("/v1/editor/suggestions/blocks/%d", blocked.ID), "", nil); code != http.StatusNoContent {
		t.Fatalf("unblock: %d", code)
	}
	if got := queries("천"); !slices.Equal(got, []string{"천식"}) {
		t.Fatalf("after unblocking, suggest shows %q", got)
	}
	if code := env.do(t, http.MethodDelete, fmt.Sprintf("/v1/editor/suggestions/blocks/%d", blocked.ID), "", nil); code != http.StatusNotFound {
		t.Fatalf("unblock twice: %d, want 404", code)
	}

	// Audited: who, what, when, newest first.
	var changes ChangeList
	if code := env.get(t, "/v1/editor/suggestions/changes", &changes); code != http.StatusOK {
		t.Fatal(code)
	}
	var got []string
	for _, c := range changes.Changes {
		if c.Actor != "user:4" || c.ActorUserID == nil || *c.ActorUserID != 4 || time.Since(c.At) > time.Minute {
			t.Errorf("change %+v: want actor user:4, now", c)
		}
		got = append(got, c.Action+" "+c.Match+" "+c.Text)
	}
	if want := []string{"unblock contains 천식", "block contains 천식", "remove exact 흡입기 세척"}; !slices.Equal(got, want) {
		t.Fatalf("audit %q, want %q", got, want)
	}
	var shown ShownList
	if code := env.get(t, q("/v1/editor/suggestions", "q", "ㅊ"), &shown); code != http.StatusOK || !slices.Equal(shown.Suggestions, []QueryCount{{"천식", 5}}) {
		t.Fatalf("editors' list: %d %v", code, shown.Suggestions)
	}
	if code := env.get(t, q("/v1/editor/suggestions", "q", strings.Repeat("천", MaxBlockLen+1)), nil); code != http.StatusBadRequest {
		t.Fatalf("editors' list with q over %d characters: %d, want 400 (the OpenAPI maxLength)", MaxBlockLen, code)
	}
}

// A stream created before suggest_form and client existed gets them on its
// write index at Setup: its strict mapping would otherwise refuse every
// record until the next rollover.
func TestIntegrationSetupAddsFieldsToOldStream(t *testing.T) {
	es, err := engine.New(config.Search{Engine: config.EngineOpenSearch, Addresses: []string{testenv.OpenSearchURL(t)}, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	rand.Read(b)
	stream := "t" + hex.EncodeToString(b) + "-insights"
	t.Cleanup(func() {
		for _, p := range []string{"/_data_stream/" + stream, "/_index_template/" + stream, "/_plugins/_ism/policies/" + stream} {
			req, _ := http.NewRequest(http.MethodDelete, p, nil)
			if res, err := es.ES.Perform(req); err == nil {
				res.Body.Close()
			}
		}
	})
	old := strings.NewReplacer(`"suggest_form": { "type": "keyword", "ignore_above": 512 },`, "", `"client": { "type": "keyword" },`, "").Replace(string(indexTemplate))
	if old == string(indexTemplate) {
		t.Fatal("the test no longer removes the new fields from the template")
	}
	cfg := config.Insights{Lifecycle: config.Lifecycle{DataStream: stream, Retention: "90d", RolloverSize: "5gb", RolloverAge: "7d"}}
	o := logstore.OptionsFrom(cfg.Lifecycle)
	o.Template = []byte(old)
	st := logstore.New(es, o)
	if _, err := st.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := Setup(context.Background(), es, cfg); err != nil {
		t.Fatal(err)
	}
	metrics := NewMetrics(prometheusRegistry())
	r := NewRecorder(es.ES, metrics, Options{DataStream: stream, FlushInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	r.Record(searchapi.Record{Endpoint: searchapi.EndpointSearch, Query: "천식", Typed: "천식", Client: "ip:192.0.2.1", Hits: 1})
	cancel()
	<-done
	if w, d := testutil.ToFloat64(metrics.written), testutil.ToFloat64(metrics.dropped.WithLabelValues(DropWriteFailed)); w != 1 || d != 0 {
		t.Fatalf("written %v, failed %v: the old stream refused the new fields", w, d)
	}
}
