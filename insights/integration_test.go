package insights

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
	h        http.Handler
	v        *apidoctest.Validator
	role     *string // the caller's role, set by a test middleware
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
	cfg := config.Insights{DataStream: stream, Retention: "90d", RolloverSize: "5gb", RolloverAge: "7d"}
	if _, err := Setup(context.Background(), es, cfg); err != nil {
		t.Fatal(err)
	}
	env := &insightsEnv{es: es, stream: stream, popular: NewPopular(), v: apidoctest.New(t), role: new(string)}
	env.metrics = NewMetrics(prometheusRegistry())
	env.recorder = NewRecorder(es.ES, env.metrics, Options{DataStream: stream, QueueSize: 1000, FlushInterval: 50 * time.Millisecond})
	api := searchapi.New(es.ES, searchapi.Options{IndexPrefix: prefix, Timeout: 10 * time.Second, Recorder: env.recorder, Popular: env.popular})
	report := NewAPI(NewReader(es.ES, stream), slog.Default(), nil)
	principal := func(e *gin.Engine) {
		e.Use(func(c *gin.Context) {
			if *env.role != "" {
				web.SetPrincipal(c, web.Principal{UserID: 4, Role: *env.role})
			}
		})
	}
	env.h = server.New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.Default(), nil, principal, api.Mount, report.Mount).Handler()
	return env
}

func (env *insightsEnv) get(t *testing.T, target string, into any) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if *env.role != "" {
		req.Header.Set("Authorization", "Bearer test") // the document's security; the test middleware sets the principal
	}
	rec := env.v.Serve(t, env.h, req)
	if rec.Code == http.StatusOK && into != nil {
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

	// Popular: searches that found something, at least twice.
	counts, err := NewReader(env.es.ES, env.stream).Popular(context.Background(), time.Now(), time.Hour, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := []QueryCount{{"천식", 4}, {"흡입기", 2}}; !slices.Equal(counts, want) {
		t.Fatalf("popular %v, want %v", counts, want)
	}
	// A reindex's warm-up: the most searched first (at most n), then the fallback, each once.
	warm, err := NewReader(env.es.ES, env.stream).WarmQueries(context.Background(), time.Now(), time.Hour, 2, 1, []string{"흡입기", "천식", "기침"})
	if want := []string{"천식", "흡입기", "기침"}; err != nil || !slices.Equal(warm, want) {
		t.Fatalf("warm-up queries %v, %v; want %v", warm, err, want)
	}
	env.popular.Set(counts)
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
