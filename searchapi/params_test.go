package searchapi

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/web"
)

func codeOf(err error) string {
	var e *web.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "not a *web.Error: " + err.Error()
	}
	return ""
}

func TestParseSearch(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, kst) }
	tests := []struct {
		name  string
		kind  string
		query string
		want  SearchParams
		code  string
	}{
		{name: "defaults", kind: mappings.Posts, query: "q=천식",
			want: SearchParams{Kind: mappings.Posts, Query: "천식", Sort: SortRelevance, Size: DefaultSize}},
		{name: "q is normalised: NFC, spaces, control characters", kind: mappings.Posts,
			query: "q=" + url.QueryEscape("  \u110e\u1165\u11ab\u1109\u1175\u11a8\t\x00이\u200b  밤에\n"),
			want:  SearchParams{Kind: mappings.Posts, Query: "천식 이 밤에", Sort: SortRelevance, Size: DefaultSize}},
		{name: "every filter", kind: mappings.Contents,
			query: "q=FEV1&category=" + url.QueryEscape(" 검사 ") + "&tags=" + url.QueryEscape("ICS, 흡입기,ics,") + "&from=2024-03-01&to=2024-03-31&sort=recent&size=50",
			want: SearchParams{Kind: mappings.Contents, Query: "FEV1", Category: "검사", Tags: []string{"ics", "흡입기"},
				From: day(2024, 3, 1), To: day(2024, 4, 1), Sort: SortRecent, Size: 50}},
		{name: "RFC 3339 instants, to inclusive", kind: mappings.Posts,
			query: "q=a&from=2024-03-01T09:00:00%2B09:00&to=2024-03-01T10:00:00Z",
			want: SearchParams{Kind: mappings.Posts, Query: "a", Sort: SortRelevance, Size: DefaultSize,
				From: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 1, 10, 0, 0, int(time.Millisecond), time.UTC)}},
		{name: "an unencoded + in an offset", kind: mappings.Posts,
			query: "q=a&from=2024-03-01T09:00:00+09:00",
			want:  SearchParams{Kind: mappings.Posts, Query: "a", Sort: SortRelevance, Size: DefaultSize, From: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "unknown parameters", kind: mappings.Users, query: "q=a&utm_source=x&page=3", code: "bad_parameter"},
		{name: "a misspelt sort", kind: mappings.Posts, query: "q=a&srot=recent", code: "bad_parameter"},
		{name: "exactly the limit", kind: mappings.Users, query: "q=" + strings.Repeat("가", MaxQueryRunes),
			want: SearchParams{Kind: mappings.Users, Query: strings.Repeat("가", MaxQueryRunes), Sort: SortRelevance, Size: DefaultSize}},
		{name: "NFD at the limit counts composed syllables", kind: mappings.Users, query: "q=" + strings.Repeat("\u1100\u1161", MaxQueryRunes),
			want: SearchParams{Kind: mappings.Users, Query: strings.Repeat("가", MaxQueryRunes), Sort: SortRelevance, Size: DefaultSize}},

		{name: "missing q", kind: mappings.Posts, query: "sort=recent", code: "query_required"},
		{name: "only control characters", kind: mappings.Posts, query: "q=%00%01%20", code: "query_required"},
		{name: "one over", kind: mappings.Posts, query: "q=" + strings.Repeat("a", MaxQueryRunes+1), code: "query_too_long"},
		{name: "invalid UTF-8", kind: mappings.Posts, query: "q=%C3%28", code: "bad_parameter"},
		{name: "bad sort", kind: mappings.Posts, query: "q=a&sort=popular", code: "bad_parameter"},
		{name: "negative size", kind: mappings.Posts, query: "q=a&size=-1", code: "bad_parameter"},
		{name: "size with a sign", kind: mappings.Posts, query: "q=a&size=%2B5x", code: "bad_parameter"},
		{name: "huge size", kind: mappings.Posts, query: "q=a&size=99999999999999999999", code: "bad_parameter"},
		{name: "bad date", kind: mappings.Posts, query: "q=a&to=yesterday", code: "bad_parameter"},
		{name: "date out of range", kind: mappings.Posts, query: "q=a&to=9999-12-31", code: "bad_parameter"},
		{name: "empty range", kind: mappings.Posts, query: "q=a&from=2024-03-01&to=2024-02-29", code: "bad_parameter"},
		{name: "same day is one day", kind: mappings.Posts, query: "q=a&from=2024-03-01&to=2024-03-01",
			want: SearchParams{Kind: mappings.Posts, Query: "a", Sort: SortRelevance, Size: DefaultSize, From: day(2024, 3, 1), To: day(2024, 3, 2)}},
		{name: "tags on posts", kind: mappings.Posts, query: "q=a&tags=x", code: "bad_parameter"},
		{name: "dates on users", kind: mappings.Users, query: "q=a&from=2024-01-01", code: "bad_parameter"},
		{name: "types on a per-type search", kind: mappings.Users, query: "q=a&types=users", code: "bad_parameter"},
		{name: "twice", kind: mappings.Contents, query: "q=a&category=x&category=y", code: "bad_parameter"},
		{name: "long tag", kind: mappings.Contents, query: "q=a&tags=" + strings.Repeat("x", MaxFilterRunes+1), code: "bad_parameter"},
		{name: "garbage cursor", kind: mappings.Contents, query: "q=a&cursor=%00", code: "bad_cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseSearch(tt.kind, v)
			if c := codeOf(err); c != tt.code {
				t.Fatalf("code %q, want %q", c, tt.code)
			}
			if tt.code != "" {
				return
			}
			if got.Kind != tt.want.Kind || got.Query != tt.want.Query || got.Category != tt.want.Category ||
				!slices.Equal(got.Tags, tt.want.Tags) || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) ||
				got.Sort != tt.want.Sort || got.Size != tt.want.Size || len(got.After) != 0 {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseMultiSuggestFeed(t *testing.T) {
	m, err := ParseMulti(url.Values{"q": {"천식"}, "types": {"users, contents,users"}})
	if err != nil || !slices.Equal(m.Kinds, []string{"contents", "users"}) || m.Size != DefaultSectionSize {
		t.Errorf("multi = %+v, %v", m, err)
	}
	m, err = ParseMulti(url.Values{"q": {"천식"}})
	if err != nil || !slices.Equal(m.Kinds, mappings.Names()) {
		t.Errorf("multi default types = %+v, %v", m, err)
	}
	if _, err := ParseMulti(url.Values{"q": {"a"}, "types": {""}}); err != nil {
		t.Errorf("empty types means all: %v", err)
	}
	if _, err := ParseMulti(url.Values{"q": {"a"}, "types": {","}}); codeOf(err) != "bad_parameter" {
		t.Errorf("types=, → %v", err)
	}
	s, err := ParseSuggest(url.Values{"q": {"ㅊㅅ"}, "types": {"posts"}, "size": {"20"}})
	if err != nil || s.Size != 20 || !slices.Equal(s.Kinds, []string{"posts"}) {
		t.Errorf("suggest = %+v, %v", s, err)
	}
	if _, err := ParseSuggest(url.Values{"q": {"a"}, "sort": {"recent"}}); codeOf(err) != "bad_parameter" {
		t.Errorf("suggest with sort → %v", err)
	}
	f, err := ParseFeed(url.Values{})
	if err != nil || f.Sort != SortRecent || f.Size != DefaultSize || f.Category != "" {
		t.Errorf("feed defaults = %+v, %v", f, err)
	}
	f, err = ParseFeed(url.Values{"sort": {"popular"}, "category": {"질문"}, "size": {"1"}})
	if err != nil || f.Sort != SortPopular || f.Category != "질문" || f.Size != 1 {
		t.Errorf("feed = %+v, %v", f, err)
	}
}
