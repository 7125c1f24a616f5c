package searchapi

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/mappings"
)

// jsonEqual compares a built body with the expected JSON text.
func jsonEqual(t *testing.T, name string, got any, want string) {
	t.Helper()
	gb, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: marshal: %v", name, err)
	}
	var g, w any
	json.Unmarshal(gb, &g)
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad expected JSON: %v", name, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %s\nwant %s", name, gb, compactJSON(want))
	}
}

func compactJSON(s string) string {
	var v any
	json.Unmarshal([]byte(s), &v)
	b, _ := json.Marshal(v)
	return string(b)
}

const (
	contentsHighlight = `{"pre_tags":["<em>"],"post_tags":["</em>"],"encoder":"html","fields":{
		"title":{"number_of_fragments":0},
		"summary":{"fragment_size":120,"number_of_fragments":2},
		"body":{"fragment_size":120,"number_of_fragments":2}}}`
	postsHighlight = `{"pre_tags":["<em>"],"post_tags":["</em>"],"encoder":"html","fields":{
		"title":{"number_of_fragments":0},
		"body":{"fragment_size":120,"number_of_fragments":2}}}`
	usersHighlight = `{"pre_tags":["<em>"],"post_tags":["</em>"],"encoder":"html","fields":{
		"nickname":{"number_of_fragments":0},
		"bio":{"fragment_size":120,"number_of_fragments":2}}}`
	postsSource = `["id","user_id","author_nickname","category","title","excerpt","like_count","comment_count","created_at"]`
)

func TestSearchBody(t *testing.T) {
	tests := []struct {
		name string
		p    SearchParams
		want string
	}{
		{
			name: "contents: particles, filters, a cursor",
			p: SearchParams{Kind: mappings.Contents, Query: "천식이", Category: "약물", Tags: []string{"ics", "흡입기"},
				From: time.Date(2024, 1, 1, 0, 0, 0, 0, kst), To: time.Date(2024, 2, 1, 0, 0, 0, 0, kst),
				Sort: SortRelevance, Size: 20, After: []string{"1.5", "42"}},
			want: `{
			"size": 21, "track_total_hits": 1000,
			"_source": ["id","title","summary","category","tags","author_nickname","published_at"],
			"query": {"bool": {
				"should": [
					{"multi_match": {"query": "천식이", "type": "best_fields", "fields": ["title^3","summary^1.5","body","tags.text^2"], "tie_breaker": 0.3}},
					{"match_phrase": {"title.en": {"query": "천식이", "slop": 1, "boost": 2}}},
					{"match": {"title.prefix": {"query": "천식이", "operator": "and", "boost": 0.5}}},
					{"multi_match": {"query": "천식이", "type": "best_fields", "fields": ["title.bigram","summary.bigram","body.bigram"], "minimum_should_match": "75%", "boost": 0.2}}
				],
				"minimum_should_match": 1,
				"filter": [
					{"term": {"category": "약물"}},
					{"term": {"tags": "ics"}},
					{"term": {"tags": "흡입기"}},
					{"range": {"published_at": {"gte": 1704034800000, "lt": 1706713200000, "format": "epoch_millis"}}}
				]}},
			"sort": [{"_score": {"order": "desc"}}, {"id": {"order": "desc"}}],
			"search_after": [1.5, 42],
			"highlight": ` + contentsHighlight + `}`,
		},
		{
			name: "posts, recent: English-keyboard input adds the converted Hangul",
			p:    SearchParams{Kind: mappings.Posts, Query: "cjstlr", Sort: SortRecent, Size: 10},
			want: `{
			"size": 11, "track_total_hits": 1000,
			"_source": ` + postsSource + `,
			"query": {"bool": {
				"should": [
					{"multi_match": {"query": "cjstlr", "type": "best_fields", "fields": ["title^3","body"], "tie_breaker": 0.3, "operator": "and"}},
					{"match_phrase": {"title.en": {"query": "cjstlr", "slop": 1, "boost": 2}}},
					{"match": {"title.prefix": {"query": "cjstlr", "operator": "and", "boost": 0.5}}},
					{"multi_match": {"query": "cjstlr", "type": "best_fields", "fields": ["title.bigram","body.bigram"], "minimum_should_match": "75%", "boost": 0.2}},
					{"multi_match": {"query": "cjstlr", "type": "best_fields", "fields": ["title.en^3","body.en"], "operator": "and", "boost": 0.5}},
					{"match": {"qwerty": {"query": "cjstlr", "operator": "and", "boost": 0.3}}},
					{"multi_match": {"query": "천식", "type": "best_fields", "fields": ["title^3","body"], "boost": 0.3}}
				],
				"minimum_should_match": 1}},
			"sort": [{"created_at": {"order": "desc", "missing": "_last"}}, {"id": {"order": "desc"}}],
			"highlight": ` + postsHighlight + `}`,
		},
		{
			name: "users: 초성, public _source only",
			p:    SearchParams{Kind: mappings.Users, Query: "ㅊㅅ", Sort: SortRelevance, Size: 5},
			want: `{
			"size": 6, "track_total_hits": 1000,
			"_source": ["id","nickname","bio"],
			"query": {"bool": {
				"should": [
					{"multi_match": {"query": "ㅊㅅ", "type": "best_fields", "fields": ["nickname^3","bio"], "tie_breaker": 0.3}},
					{"match_phrase": {"nickname.en": {"query": "ㅊㅅ", "slop": 1, "boost": 2}}},
					{"match": {"nickname.prefix": {"query": "ㅊㅅ", "operator": "and", "boost": 0.5}}},
					{"multi_match": {"query": "ㅊㅅ", "type": "best_fields", "fields": ["nickname.bigram","bio.bigram"], "minimum_should_match": "75%", "boost": 0.2}},
					{"match": {"chosung": {"query": "ㅊㅅ", "operator": "and", "boost": 0.5}}}
				],
				"minimum_should_match": 1}},
			"sort": [{"_score": {"order": "desc"}}, {"id": {"order": "desc"}}],
			"highlight": ` + usersHighlight + `}`,
		},
	}
	for _, tt := range tests {
		jsonEqual(t, tt.name, SearchBody(tt.p), tt.want)
	}
	// The retry for queries the engine finds too complex: no synonyms, no
	// phrase, filters and the rest kept.
	simple := SearchBody(SearchParams{Kind: mappings.Posts, Query: "숨가쁨 숨가쁨", Category: "질문", Sort: SortRelevance, Size: 5, Simple: true})
	jsonEqual(t, "simple", simple["query"], `{"bool": {
		"should": [
			{"multi_match": {"query": "숨가쁨 숨가쁨", "type": "best_fields", "fields": ["title^3","body"], "tie_breaker": 0.3, "analyzer": "ko_index"}},
			{"multi_match": {"query": "숨가쁨 숨가쁨", "type": "best_fields", "fields": ["title.en^3","body.en"], "boost": 0.5}}
		],
		"minimum_should_match": 1,
		"filter": [{"term": {"category": "질문"}}]}}`)
	if simple["highlight"] == nil || simple["sort"] == nil || simple["size"] != 6 {
		t.Errorf("simple body lost its page settings: %v", simple)
	}
}

// clauses lists the should clauses of a search body as "type:field".
func clauses(body M) []string {
	var out []string
	for _, c := range body["query"].(M)["bool"].(M)["should"].([]M) {
		for typ, v := range c {
			switch typ {
			case "multi_match":
				out = append(out, typ+":"+v.(M)["fields"].([]string)[0])
			default:
				for field := range v.(M) {
					out = append(out, typ+":"+field)
				}
			}
		}
	}
	return out
}

func TestSearchClausesByInput(t *testing.T) {
	long := strings.Repeat("천식 ", 20)
	tests := []struct {
		q    string
		want []string
	}{
		{"소아천식", []string{"multi_match:title^3", "match_phrase:title.en", "match:title.prefix", "multi_match:title.bigram"}},
		{"FEV1 검사", []string{"multi_match:title^3", "match_phrase:title.en", "match:title.prefix", "multi_match:title.bigram", "multi_match:title.en^3"}},
		{"ICS/LABA", []string{"multi_match:title^3", "match_phrase:title.en", "match:title.prefix", "multi_match:title.bigram", "multi_match:title.en^3"}},
		{"ㅅㅇ ㅊㅅ", []string{"multi_match:title^3", "match_phrase:title.en", "match:title.prefix", "multi_match:title.bigram", "match:chosung"}},
		// "the" composes (솓) as well as being English: both.
		{"the", []string{"multi_match:title^3", "match_phrase:title.en", "match:title.prefix", "multi_match:title.bigram", "multi_match:title.en^3", "match:qwerty", "multi_match:title^3"}},
		// Long queries skip the n-gram safety nets (clause budget, and they only help short input).
		{long[:len(long)-1], []string{"multi_match:title^3", "match_phrase:title.en"}},
	}
	for _, tt := range tests {
		got := clauses(SearchBody(SearchParams{Kind: mappings.Posts, Query: tt.q, Sort: SortRelevance, Size: 20}))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%q: clauses %v, want %v", tt.q, got, tt.want)
		}
	}
}

// Queries without Hangul need every term of the main clause: nori cuts FEV1
// into fev and 1, and "or" would rank every title with a 1 above FEV1 posts.
// Korean queries keep "or" (compounds, particles and synonyms rely on it).
func TestMainClauseOperator(t *testing.T) {
	tests := []struct {
		q, want string
	}{
		{"FEV1", "and"},
		{"fev1", "and"},
		{"ICS/LABA", "and"},
		{"FEV1 검사", ""},
		{"천식 흡입기", ""},
		{"ㅊㅅ", ""},
	}
	for _, tt := range tests {
		b := SearchBody(SearchParams{Kind: mappings.Posts, Query: tt.q, Sort: SortRelevance, Size: 10})
		main := b["query"].(M)["bool"].(M)["should"].([]M)[0]["multi_match"].(M)
		if got, _ := main["operator"].(string); got != tt.want {
			t.Errorf("%q: main clause operator %q, want %q", tt.q, got, tt.want)
		}
	}
}

func TestFeedBody(t *testing.T) {
	jsonEqual(t, "recent, all categories", FeedBody(FeedParams{Sort: SortRecent, Size: 20}), `{
		"size": 21, "track_total_hits": false, "_source": `+postsSource+`,
		"query": {"match_all": {}},
		"sort": [{"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}]}`)
	jsonEqual(t, "popular in a category, next page", FeedBody(FeedParams{Sort: SortPopular, Category: "질문", Size: 10, After: []string{"3", "-9223372036854775808", "9"}}), `{
		"size": 11, "track_total_hits": false, "_source": `+postsSource+`,
		"query": {"bool": {"filter": [{"term": {"category": "질문"}}]}},
		"sort": [{"like_count": {"order": "desc"}}, {"created_at": {"order": "desc"}}, {"id": {"order": "desc"}}],
		"search_after": [3, -9223372036854775808, 9]}`)
	// A long's digits survive: no float64 on the way.
	b, _ := json.Marshal(FeedBody(FeedParams{Sort: SortPopular, Size: 1, After: []string{"3", "-9223372036854775808", "9"}}))
	if !strings.Contains(string(b), "-9223372036854775808") {
		t.Errorf("search_after lost precision: %s", b)
	}
}

func TestMultiBodies(t *testing.T) {
	bodies := MultiBodies(MultiParams{Query: "천식", Kinds: []string{mappings.Posts, mappings.Users}, Size: 5})
	if len(bodies) != 2 {
		t.Fatalf("%d bodies", len(bodies))
	}
	for i, kind := range []string{mappings.Posts, mappings.Users} {
		jsonEqual(t, kind, bodies[i], mustJSON(SearchBody(SearchParams{Kind: kind, Query: "천식", Sort: SortRelevance, Size: 5})))
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// User text reaches the engine only as the query of match-family queries, a
// term value or a completion prefix: never as query syntax.
func TestUserTextOnlyInLeafQueries(t *testing.T) {
	nasty := []string{`천식" OR 1=1`, `title:secret AND *`, `{"query_string":{"query":"*"}}`, `(a|b) ~2 /re.*/`, "ㅊㅅ", "cjstlr", `\u0000`}
	for _, q := range nasty {
		var bodies []M
		for _, k := range mappings.Names() {
			bodies = append(bodies,
				SearchBody(SearchParams{Kind: k, Query: q, Category: q, Tags: []string{q}, Sort: SortRelevance, Size: 20}),
				SuggestBody(k, q, 8))
		}
		bodies = append(bodies, FeedBody(FeedParams{Sort: SortRecent, Category: q, Size: 20}))
		for _, b := range bodies {
			var v any
			json.Unmarshal([]byte(mustJSON(b)), &v)
			walk(t, q, v, nil)
		}
	}
}

var forbiddenQueries = []string{"query_string", "simple_query_string", "regexp", "wildcard", "script", "fuzzy", "query_string_query", "intervals"}

func walk(t *testing.T, q string, v any, path []string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if slices.Contains(forbiddenQueries, k) {
				t.Errorf("%q: body uses %s at %v", q, k, path)
			}
			walk(t, q, e, append(slices.Clone(path), k))
		}
	case []any:
		for _, e := range x {
			walk(t, q, e, path)
		}
	case string:
		if !strings.Contains(x, q) || len(path) == 0 {
			return
		}
		last := path[len(path)-1]
		inTerm := len(path) >= 2 && path[len(path)-2] == "term"
		if last != "query" && last != "prefix" && !inTerm {
			t.Errorf("%q: user text at %v", q, path)
		}
	}
}
