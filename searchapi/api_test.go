package searchapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/web"
)

// hitsAnswer scripts an engine answer with n hits per search, sort values
// counting down, documents carrying extra private fields that must never
// reach the client.
func hitsAnswer(n int) func(string, map[string]any) (int, string) {
	return func(index string, body map[string]any) (int, string) {
		size := int(body["size"].(float64))
		var hits []string
		for i := range min(n, size) {
			id := 100 - i
			var src string
			switch {
			case strings.HasSuffix(index, "-contents"):
				src = fmt.Sprintf(`{"id":%d,"title":"천식 흡입기 사용법 %d","summary":"요약","category":"약물","tags":["흡입기"],"author_nickname":"편집자","published_at":"2024-03-01T00:00:00Z","body":"secret body"}`, id, id)
			case strings.HasSuffix(index, "-posts"):
				src = fmt.Sprintf(`{"id":%d,"user_id":7,"author_nickname":"숨쉬는고래","category":"질문","title":"천식이 심해요 %d","body":"secret body","excerpt":"밤마다 <b>기침</b>을 해요","like_count":3,"comment_count":1,"created_at":"2024-03-02T01:02:03Z"}`, id, id)
			default:
				src = fmt.Sprintf(`{"id":%d,"nickname":"고래%d","bio":"소아천식 엄마","email":"leak@example.test","status":"active","created_at":"2024-01-01T00:00:00Z"}`, id, id)
			}
			hits = append(hits, fmt.Sprintf(`{"_index":"x","_id":"%d","_score":1.5,"_source":%s,"highlight":{"title":["<em>천식</em> 흡입기"],"nickname":["<em>고래</em>"],"secret":["x"]},"sort":[1.5,%d]}`, id, src, id))
		}
		suggest := ""
		if _, ok := body["suggest"]; ok {
			suggest = `,"suggest":{"s0":[{"text":"ㅊㅅ","offset":0,"length":2,"options":[{"text":"ㅊㅅ ㅎㅇㄱ","_index":"x","_id":"100","_score":1,"_source":{"id":100,"title":"천식 흡입기 사용법","nickname":"고래100"}}]}]}`
		}
		return http.StatusOK, fmt.Sprintf(`{"took":1,"timed_out":false,"hits":{"total":{"value":%d,"relation":"eq"},"hits":[%s]}%s}`, n, strings.Join(hits, ","), suggest)
	}
}

func TestSearchEndpoints(t *testing.T) {
	f := newFakeEngine(t)
	f.setAnswer(hitsAnswer(30))
	h := newRouter(t, f.URL, Options{})
	v := apidoctest.New(t)

	rec := get(t, v, h, "/v1/contents/search?q="+url.QueryEscape("천식이")+"&category=약물&tags=흡입기,ICS&from=2024-01-01&to=2024-12-31&size=10")
	if rec.Code != http.StatusOK {
		t.Fatalf("contents: %d %s", rec.Code, rec.Body)
	}
	var page Page[ContentHit]
	json.Unmarshal(rec.Body.Bytes(), &page)
	if len(page.Hits) != 10 || page.NextCursor == "" || page.Total.Value != 30 {
		t.Fatalf("contents page: %d hits, cursor %q, total %+v", len(page.Hits), page.NextCursor, page.Total)
	}
	if hl := page.Hits[0].Highlight; len(hl["title"]) != 1 || hl["secret"] != nil {
		t.Errorf("highlight = %v", hl)
	}
	if r := f.last(); r.Index != "test-contents" || r.Body["size"] != float64(11) {
		t.Errorf("engine got index %q size %v", r.Index, r.Body["size"])
	}

	// The cursor continues the same query and nothing else.
	next := get(t, v, h, "/v1/contents/search?q="+url.QueryEscape("천식이")+"&category=약물&tags=ICS,흡입기&from=2024-01-01&to=2024-12-31&size=20&cursor="+page.NextCursor)
	if next.Code != http.StatusOK {
		t.Fatalf("next page: %d %s", next.Code, next.Body)
	}
	if sa := f.last().Body["search_after"]; fmt.Sprint(sa) != "[1.5 91]" {
		t.Errorf("search_after = %v, want the last hit's sort values", sa)
	}
	other := get(t, v, h, "/v1/contents/search?q=흡입기&cursor="+page.NextCursor)
	if code, _ := envelope(t, other); other.Code != 400 || code != "bad_cursor" {
		t.Errorf("cursor on another query: %d %s", other.Code, code)
	}
	onPosts := get(t, v, h, "/v1/posts/search?q="+url.QueryEscape("천식이")+"&cursor="+page.NextCursor)
	if code, _ := envelope(t, onPosts); code != "bad_cursor" {
		t.Errorf("contents cursor on posts: %s", code)
	}

	rec = get(t, v, h, "/v1/posts/search?q=천식&sort=recent&size=50")
	var posts Page[PostHit]
	json.Unmarshal(rec.Body.Bytes(), &posts)
	if rec.Code != 200 || len(posts.Hits) != 30 || posts.NextCursor != "" {
		t.Fatalf("posts: %d, %d hits, cursor %q", rec.Code, len(posts.Hits), posts.NextCursor)
	}
	if p := posts.Hits[0]; p.AuthorID != 7 || p.Excerpt != "밤마다 <b>기침</b>을 해요" || p.CreatedAt.IsZero() {
		t.Errorf("post hit = %+v", p)
	}

	// Users: public fields only, whatever the index returns.
	rec = get(t, v, h, "/v1/users/search?q=고래")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "leak@example.test") || strings.Contains(rec.Body.String(), "created_at") {
		t.Fatalf("users: %d %s", rec.Code, rec.Body)
	}
	if src := f.last().Body["_source"]; fmt.Sprint(src) != "[id nickname bio]" {
		t.Errorf("users _source = %v", src)
	}
}

func TestMultiSearchIsOneRoundTrip(t *testing.T) {
	f := newFakeEngine(t)
	f.setAnswer(hitsAnswer(7))
	h := newRouter(t, f.URL, Options{})
	v := apidoctest.New(t)
	rec := get(t, v, h, "/v1/search?q=천식&types=users,contents")
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var out MultiResponse
	json.Unmarshal(rec.Body.Bytes(), &out)
	s := out.Sections
	if s.Contents == nil || s.Users == nil || s.Posts != nil || len(s.Contents.Hits) != DefaultSectionSize || s.Contents.NextCursor == "" {
		t.Fatalf("sections: %s", rec.Body)
	}
	f.mu.Lock()
	paths := []string{}
	for _, r := range f.requests {
		paths = append(paths, r.Path+" "+r.Index)
	}
	f.mu.Unlock()
	if !slices.Equal(paths, []string{"/_msearch test-contents", "/_msearch test-users"}) {
		t.Errorf("engine requests = %v, want one _msearch with contents then users", paths)
	}
	// A section's cursor continues on the type's own endpoint.
	more := get(t, v, h, "/v1/users/search?q=천식&cursor="+s.Users.NextCursor)
	if more.Code != 200 {
		t.Errorf("section cursor on /v1/users/search: %d %s", more.Code, more.Body)
	}
}

func TestSuggestAndFeed(t *testing.T) {
	f := newFakeEngine(t)
	f.setAnswer(hitsAnswer(3))
	h := newRouter(t, f.URL, Options{})
	v := apidoctest.New(t)
	rec := get(t, v, h, "/v1/search/suggest?q=ㅊㅅ&size=4")
	var sr SuggestResponse
	json.Unmarshal(rec.Body.Bytes(), &sr)
	if rec.Code != 200 || len(sr.Suggestions) != 4 {
		t.Fatalf("suggest: %d %s", rec.Code, rec.Body)
	}
	if first := sr.Suggestions[0]; first.Type != "contents" || first.ID != 100 || first.Text != "천식 흡입기 사용법" {
		t.Errorf("first suggestion = %+v (completion first, title as text)", first)
	}
	seen := map[string]bool{}
	for _, s := range sr.Suggestions {
		k := fmt.Sprint(s.Type, s.ID)
		if seen[k] {
			t.Errorf("duplicate suggestion %s", k)
		}
		seen[k] = true
	}

	rec = get(t, v, h, "/v1/feed/posts?sort=popular&category=질문&size=2")
	var feed FeedResponse
	json.Unmarshal(rec.Body.Bytes(), &feed)
	if rec.Code != 200 || len(feed.Hits) != 2 || feed.NextCursor == "" {
		t.Fatalf("feed: %d %s", rec.Code, rec.Body)
	}
	// hits as in the search answers; posts, deprecated, the same list
	if !reflect.DeepEqual(feed.Posts, feed.Hits) {
		t.Errorf("feed: posts %+v differ from hits %+v", feed.Posts, feed.Hits)
	}
	rec = get(t, v, h, "/v1/feed/posts?sort=recent&category=질문&cursor="+feed.NextCursor)
	if code, _ := envelope(t, rec); code != "bad_cursor" {
		t.Errorf("popular cursor on recent feed: %s", code)
	}
}

func TestBadInputCodes(t *testing.T) {
	f := newFakeEngine(t)
	h := newRouter(t, f.URL, Options{})
	v := apidoctest.New(t)
	long := strings.Repeat("천", MaxQueryRunes+1)
	tests := []struct {
		target, code string
	}{
		{"/v1/search", "query_required"},
		{"/v1/search?q=%20%09", "query_required"},
		{"/v1/search?q=" + url.QueryEscape(long), "query_too_long"},
		{"/v1/search?q=" + strings.Repeat("a", 5000), "query_too_long"},
		{"/v1/search?q=%ff%fe", "bad_parameter"},
		{"/v1/search?q=a&types=contents,comments", "bad_parameter"},
		{"/v1/search?q=a&size=0", "bad_parameter"},
		{"/v1/search?q=a&size=51", "bad_parameter"},
		{"/v1/search?q=a&size=ten", "bad_parameter"},
		{"/v1/search?q=a&q=b", "bad_parameter"},
		{"/v1/search?q=a&cursor=x", "bad_parameter"}, // the combined search has no cursor
		{"/v1/contents/search?q=a&sort=popular", "bad_parameter"},
		{"/v1/contents/search?q=a&sort=", "bad_parameter"}, // given but empty: not the default (the OpenAPI enum has no "")
		{"/v1/feed/posts?sort=", "bad_parameter"},
		{"/v1/contents/search?q=a&from=2024-13-01", "bad_parameter"},
		{"/v1/contents/search?q=a&from=2024-03-02&to=2024-03-01", "bad_parameter"},
		{"/v1/contents/search?q=a&from=1900-01-01", "bad_parameter"},
		{"/v1/contents/search?q=a&tags=a,b,c,d,e,f,g,h,i,j,k", "bad_parameter"},
		{"/v1/contents/search?q=a&category=" + strings.Repeat("가", 51), "bad_parameter"},
		{"/v1/contents/search?q=a&cursor=!!!", "bad_cursor"},
		{"/v1/contents/search?q=a&cursor=" + strings.Repeat("A", 600), "bad_cursor"},
		{"/v1/posts/search?q=a&tags=x", "bad_parameter"},
		{"/v1/users/search?q=a&category=x", "bad_parameter"},
		{"/v1/users/search?q=a&sort=recent", "bad_parameter"},
		{"/v1/search/suggest?q=", "query_required"},
		{"/v1/search/suggest?q=a&size=21", "bad_parameter"},
		{"/v1/feed/posts?sort=relevance", "bad_parameter"},
		{"/v1/feed/posts?q=천식", "bad_parameter"},
		{"/v1/feed/posts?cursor=eyJ2IjoxfQ", "bad_cursor"},
		{"/v1/search?q=a&page=2", "bad_parameter"},
		{"/v1/contents/search?q=a&srot=recent", "bad_parameter"},
		{"/v1/posts/search?q=a&limit=5", "bad_parameter"},
		{"/v1/users/search?q=a&utm_source=x", "bad_parameter"},
		{"/v1/search/suggest?q=a&lang=ko", "bad_parameter"},
		{"/v1/feed/posts?order=popular", "bad_parameter"},
	}
	for _, tt := range tests {
		rec := get(t, v, h, tt.target)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s → %d, want 400", tt.target, rec.Code)
			continue
		}
		if code, _ := envelope(t, rec); code != tt.code {
			t.Errorf("%s → %s, want %s", tt.target, code, tt.code)
		}
	}
	// An unknown parameter is named in fields.
	var e web.Error
	rec := get(t, v, h, "/v1/contents/search?q=a&srot=recent&sort=recent")
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || len(e.Fields) != 1 ||
		e.Fields[0] != (web.FieldError{Field: "srot", Code: web.FieldUnknown, Message: e.Fields[0].Message}) {
		t.Errorf("srot → %s, want one field error naming srot", rec.Body)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) != 0 {
		t.Errorf("bad input reached the engine %d times", len(f.requests))
	}
}

func TestEngineFailures(t *testing.T) {
	v := apidoctest.New(t)
	tests := []struct {
		name   string
		status int
		body   string
		want   int
		code   string
	}{
		{"overloaded", 429, `{"error":{"type":"es_rejected_execution_exception","reason":"queue full secret-detail"},"status":429}`, 503, "unavailable"},
		{"server error", 500, `{"error":{"type":"x","reason":"secret-detail"},"status":500}`, 503, "unavailable"},
		{"alias missing", 404, `{"error":{"type":"index_not_found_exception","reason":"no such index [secret-detail]"},"status":404}`, 503, "unavailable"},
		{"query rejected", 400, `{"error":{"type":"search_phase_execution_exception","reason":"secret-detail"},"status":400}`, 500, "internal"},
		{"credentials refused", 401, `{"error":{"type":"security_exception","reason":"unable to authenticate user [secret-detail]"},"status":401}`, 503, "unavailable"},
		{"privilege missing", 403, `{"error":{"type":"security_exception","reason":"action [indices:data/read/search] is unauthorized for user [secret-detail]"},"status":403}`, 503, "unavailable"},
		{"timed out", 200, `{"took":1,"timed_out":true,"hits":{"total":{"value":0,"relation":"eq"},"hits":[]}}`, 503, "unavailable"},
		{"garbage", 200, `{"hits":`, 503, "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeEngine(t)
			f.setAnswer(func(string, map[string]any) (int, string) { return tt.status, tt.body })
			var logs bytes.Buffer
			h := newRouter(t, f.URL, Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			for _, target := range []string{"/v1/posts/search?q=천식", "/v1/search?q=천식", "/v1/search/suggest?q=천", "/v1/feed/posts"} {
				rec := get(t, v, h, target)
				code, msg := envelope(t, rec)
				// msearch carries item errors inside a 200; a garbled body is garbled either way.
				if rec.Code != tt.want || code != tt.code {
					t.Errorf("%s → %d %s, want %d %s", target, rec.Code, code, tt.want, tt.code)
				}
				if strings.Contains(rec.Body.String(), "secret-detail") || strings.Contains(msg, "exception") {
					t.Errorf("%s leaks the engine's message: %s", target, rec.Body)
				}
			}
			if auth := strings.Contains(logs.String(), "engine auth failure"); auth != (tt.status == 401 || tt.status == 403) {
				t.Errorf("log names an engine auth failure: %v; log: %s", auth, logs.String())
			}
		})
	}
}

// A query whose synonym expansion exceeds the engine's clause limit is
// retried in the simple form; if that fails too, it is the input's fault (400).
func TestTooComplexQueryFallsBack(t *testing.T) {
	v := apidoctest.New(t)
	const refusal = `{"error":{"root_cause":[{"type":"query_shard_exception","reason":"failed to create query: maxClauseCount is set to 1024"}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}`
	for _, simpleWorks := range []bool{true, false} {
		f := newFakeEngine(t)
		f.setAnswer(func(index string, body map[string]any) (int, string) {
			if simpleWorks && strings.Contains(fmt.Sprint(body["query"]), "analyzer:ko_index") {
				return hitsAnswer(2)(index, body)
			}
			return 400, refusal
		})
		h := newRouter(t, f.URL, Options{})
		for _, target := range []string{"/v1/posts/search?q=숨가쁨", "/v1/search?q=숨가쁨"} {
			rec := get(t, v, h, target)
			switch {
			case simpleWorks && rec.Code != 200:
				t.Errorf("%s with a working simple form → %d %s", target, rec.Code, rec.Body)
			case !simpleWorks:
				if code, _ := envelope(t, rec); rec.Code != 400 || code != "query_too_long" {
					t.Errorf("%s refused twice → %d %s, want 400 query_too_long", target, rec.Code, code)
				}
			}
		}
	}
}

// A stopped engine or a hanging one answers 503 within the search timeout,
// far below the HTTP write timeout.
func TestEngineDownIsFast503(t *testing.T) {
	v := apidoctest.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	for name, u := range map[string]string{"closed port": closed, "hanging engine": slow.URL} {
		t.Run(name, func(t *testing.T) {
			h := newRouter(t, u, Options{Timeout: 300 * time.Millisecond})
			for _, target := range []string{"/v1/contents/search?q=천식", "/v1/search?q=천식", "/v1/search/suggest?q=ㅊㅅ", "/v1/feed/posts"} {
				start := time.Now()
				rec := get(t, v, h, target)
				took := time.Since(start)
				if code, _ := envelope(t, rec); rec.Code != 503 || code != "unavailable" {
					t.Errorf("%s → %d %s, want 503 unavailable", target, rec.Code, code)
				}
				if took > 2*time.Second {
					t.Errorf("%s took %s with a 300ms search timeout", target, took)
				}
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	f := newFakeEngine(t)
	var now atomic.Int64
	now.Store(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	h := newRouter(t, f.URL, Options{RateLimit: 2, RateBurst: 3, Now: clock})
	v := apidoctest.New(t)
	req := func(ip string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/v1/search/suggest?q=천", nil)
		r.RemoteAddr = ip + ":5555"
		r.Header.Set("X-Forwarded-For", "203.0.113.99") // not trusted: ignored
		return v.Serve(t, h, r)
	}
	for i := range 3 {
		if rec := req("192.0.2.1"); rec.Code != 200 {
			t.Fatalf("request %d within the burst: %d", i, rec.Code)
		}
	}
	rec := req("192.0.2.1")
	if code, _ := envelope(t, rec); rec.Code != 429 || code != "rate_limited" || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("over the burst: %d %s Retry-After %q", rec.Code, code, rec.Header().Get("Retry-After"))
	}
	if rec := req("192.0.2.2"); rec.Code != 200 {
		t.Errorf("another client is limited too: %d", rec.Code)
	}
	now.Add(int64(500 * time.Millisecond)) // 2/s: one token back
	if rec := req("192.0.2.1"); rec.Code != 200 {
		t.Errorf("after the refill: %d", rec.Code)
	}
	if rec := req("192.0.2.1"); rec.Code != 429 {
		t.Errorf("refill is one token: %d", rec.Code)
	}
	// Health and the document are not limited.
	for range 5 {
		if rec := v.Serve(t, h, httptest.NewRequest(http.MethodGet, "/openapi.json", nil)); rec.Code != 200 {
			t.Fatalf("/openapi.json limited: %d", rec.Code)
		}
	}
}

func TestRetryAfterRoundsUp(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(0.1, 1, nil, func() time.Time { return now }) // one per 10 s
	a := addr("192.0.2.1")
	if ok, _ := l.allow(a); !ok {
		t.Fatal("first request refused")
	}
	ok, wait := l.allow(a)
	if ok || wait < 9*time.Second || wait > 10*time.Second {
		t.Fatalf("second request: %v wait %s", ok, wait)
	}
	gin.SetMode(gin.TestMode)
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	(&API{limiter: l, kit: New(nil, Options{}).kit}).rateLimit(c)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "10" {
		t.Errorf("Retry-After = %q (%d), want 10", rec.Header().Get("Retry-After"), rec.Code)
	}
}

// An IPv6 client is its /64 (ClientAddr itself is tested in package web).
func TestLimiterGroupsIPv6By64(t *testing.T) {
	l := newLimiter(1, 1, nil, time.Now)
	l.allow(addr("2001:db8:1:2::1"))
	if ok, _ := l.allow(addr("2001:db8:1:2::ffff")); ok {
		t.Error("two addresses of one /64 have separate buckets")
	}
	if ok, _ := l.allow(addr("2001:db8:1:3::1")); !ok {
		t.Error("another /64 shares the bucket")
	}
}

func TestEveryRouteIsDocumented(t *testing.T) {
	f := newFakeEngine(t)
	h := newRouter(t, f.URL, Options{})
	v := apidoctest.New(t)
	routes := h.(*gin.Engine).Routes()
	if len(routes) < 9 {
		t.Fatalf("only %d routes", len(routes))
	}
	for _, r := range routes {
		if op := v.Doc.Paths.Value(r.Path); op == nil || op.GetOperation(r.Method) == nil {
			t.Errorf("%s %s is not in the OpenAPI document", r.Method, r.Path)
		}
	}
	// The limits in the document are the ones in the code.
	sizes := map[string][2]int{
		"/v1/search":          {DefaultSectionSize, MaxSize},
		"/v1/contents/search": {DefaultSize, MaxSize},
		"/v1/posts/search":    {DefaultSize, MaxSize},
		"/v1/users/search":    {DefaultSize, MaxSize},
		"/v1/search/suggest":  {DefaultSuggestSize, MaxSuggestSize},
		"/v1/feed/posts":      {DefaultSize, MaxSize},
	}
	// Each endpoint takes exactly the query parameters it documents: the
	// app may send any of them, and anything else is bad_parameter.
	requests := map[string]string{
		"/v1/search": "multi", "/v1/contents/search": mappings.Contents, "/v1/posts/search": mappings.Posts,
		"/v1/users/search": mappings.Users, "/v1/search/suggest": "suggest", "/v1/feed/posts": "feed",
	}
	for path, request := range requests {
		var documented []string
		for _, p := range v.Doc.Paths.Value(path).Get.Parameters {
			if p.Value.In == "query" {
				documented = append(documented, p.Value.Name)
			}
		}
		slices.Sort(documented)
		if takes := slices.Sorted(slices.Values(accepted[request])); !slices.Equal(documented, takes) {
			t.Errorf("%s documents %v, takes %v", path, documented, takes)
		}
	}
	for path, want := range sizes {
		for _, p := range v.Doc.Paths.Value(path).Get.Parameters {
			s := p.Value.Schema.Value
			switch p.Value.Name {
			case "size":
				if *s.Max != float64(want[1]) || s.Default != float64(want[0]) {
					t.Errorf("%s: size documented as max %v default %v, code has %v", path, *s.Max, s.Default, want)
				}
			case "cursor":
				if *s.MaxLength != maxCursorBytes {
					t.Errorf("%s: cursor maxLength %d", path, *s.MaxLength)
				}
			case "q":
				if !strings.Contains(p.Value.Description, fmt.Sprint(MaxQueryRunes)) {
					t.Errorf("%s: q description does not state the limit %d", path, MaxQueryRunes)
				}
			}
		}
	}
}

func mustPrefixes(t *testing.T, in []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range in {
		p, err := config.ParseProxy(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }
