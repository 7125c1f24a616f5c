package searchapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/web"
)

var fuzzEndpoints = []string{"/v1/search", "/v1/contents/search", "/v1/posts/search", "/v1/users/search", "/v1/search/suggest", "/v1/feed/posts"}

var knownCodes = []string{web.CodeQueryRequired, web.CodeQueryTooLong, web.CodeBadCursor, web.CodeBadParameter, web.CodeBadRequest}

// FuzzSearchParams sends arbitrary query parameters to every search endpoint
// over a fake engine that answers valid empty results: no input may cause a
// 5xx, every 4xx is the JSON envelope with a documented code, and every
// response matches the OpenAPI document. The seeds run with plain go test.
func FuzzSearchParams(f *testing.F) {
	validCursor, _ := encodeCursor(SearchParams{Kind: "posts", Query: "천식", Sort: SortRelevance}.fingerprint(),
		[]json.RawMessage{json.RawMessage("1.25"), json.RawMessage("7")})
	feedCursor, _ := encodeCursor(FeedParams{Sort: SortPopular}.fingerprint(),
		[]json.RawMessage{json.RawMessage("3"), json.RawMessage("-9223372036854775808"), json.RawMessage("7")})
	seeds := []struct {
		endpoint                                         uint8
		q, types, sort, cursor, size, category, from, to string
	}{
		{0, "천식", "", "", "", "", "", "", ""},
		{0, "천식이", "contents,posts,users", "", "", "50", "", "", ""},
		{0, "ㅊㅅ", "users,users", "", "", "1", "", "", ""},
		{0, "", "", "", "", "", "", "", ""},
		{0, "a", "comments", "", "", "", "", "", ""},
		{1, "소아천식", "", "recent", "", "20", "약물", "2024-01-01", "2024-12-31"},
		{1, "FEV1", "", "relevance", "", "0", "", "2024-02-30", ""},
		{1, "ICS/LABA", "", "", "", "51", "", "2024-03-01T00:00:00+09:00", "2024-03-01T00:00:00Z"},
		{1, "흡입", "", "", "!!!", "", "", "", "2024-01-01"},
		{2, "천식", "", "", validCursor, "5", "", "", ""},
		{2, "천식", "", "recent", validCursor, "5", "", "", ""},
		{2, "인헤일러", "", "popular", "", "-1", "질문", "1999-12-31", ""},
		{3, "cjstlr", "", "", "", "", "", "", ""},
		{3, "고래", "", "", "", "", "x", "", ""},
		{4, "ㅊ", "", "", "", "20", "", "", ""},
		{4, "cjstl", "posts", "", "", "21", "", "", ""},
		{4, "천시", "contents,posts", "", "", "", "", "", ""},
		{5, "", "", "popular", feedCursor, "", "", "", ""},
		{5, "", "", "recent", feedCursor, "", "자유", "", ""},
		{5, "천식", "", "", "", "", "", "", ""},
		{0, strings.Repeat("천", MaxQueryRunes), "", "", "", "", "", "", ""},
		{0, strings.Repeat("a ", MaxQueryRunes/2), "", "", "", "", "", "", ""},
		{1, strings.Repeat("가", MaxQueryRunes+1), "", "", "", "", "", "", ""},
		{1, "\xff\xfe", "\xff", "\xff", "\xff", "\xff", "\xff", "\xff", "\xff"},
		{1, `" OR 1=1 --`, "", "", "", "", `"}`, "", ""},
		{1, `{"query_string":{"query":"*"}}`, "", "", "", "", "", "", ""},
		{2, "\x00\u200b\u3000", "", "", "", "", "", "", ""},
		{3, "%00", "", "", "eyJ2IjoxLCJmIjoiIiwiYSI6W119", "", "", "", ""},
		{5, "", "", "", "", "1e3", "", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.endpoint, s.q, s.types, s.sort, s.cursor, s.size, s.category, s.from, s.to)
	}

	fake := newFakeEngine(f)
	h := newRouter(f, fake.URL, Options{})
	v, err := apidoctest.Load()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, q, types, sort, cursor, size, category, from, to string) {
		params := url.Values{}
		for name, value := range map[string]string{"q": q, "types": types, "sort": sort, "cursor": cursor, "size": size, "category": category, "from": from, "to": to} {
			if value != "" {
				params.Set(name, value)
			}
		}
		target := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)] + "?" + params.Encode()
		req := httptest.NewRequest(http.MethodGet, target, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s → %d %s", target, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("%s → %d, not JSON: %q", target, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			var e struct{ Code, Message string }
			json.Unmarshal(rec.Body.Bytes(), &e)
			if !slices.Contains(knownCodes, e.Code) || e.Message == "" {
				t.Fatalf("%s → %d with envelope %s", target, rec.Code, rec.Body)
			}
		}
		if err := v.Validate(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Fatalf("%s → %d %s: not as documented: %v", target, rec.Code, rec.Body, err)
		}
	})
}
