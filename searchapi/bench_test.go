package searchapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/mappings"
)

// The builders run on every request (suggest on every keystroke); these keep
// their cost, parse to encoded body, visible next to the engine's milliseconds.

func BenchmarkSearchBody(b *testing.B) {
	v := url.Values{"q": {"소아천식 흡입기 사용법"}, "category": {"약물"}, "tags": {"흡입기,ICS"}, "from": {"2024-01-01"}, "sort": {"relevance"}}
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseSearch(mappings.Contents, v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(SearchBody(p)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMultiBodies(b *testing.B) {
	v := url.Values{"q": {"천식이 밤에 심해요"}}
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseMulti(v)
		if err != nil {
			b.Fatal(err)
		}
		for _, body := range MultiBodies(p) {
			if _, err := json.Marshal(body); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSuggestBody(b *testing.B) {
	for _, q := range []string{"천시", "ㅊㅅ", "cjstlr"} {
		b.Run(q, func(b *testing.B) {
			v := url.Values{"q": {q}}
			b.ReportAllocs()
			for b.Loop() {
				p, err := ParseSuggest(v)
				if err != nil {
					b.Fatal(err)
				}
				for _, k := range p.Kinds {
					if _, err := json.Marshal(SuggestBody(k, p.Query, p.Size)); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkFeedBodyWithCursor(b *testing.B) {
	c, _ := encodeCursor(FeedParams{Sort: SortPopular}.fingerprint(), []json.RawMessage{json.RawMessage("3"), json.RawMessage("1709251200000"), json.RawMessage("9")})
	v := url.Values{"sort": {"popular"}, "cursor": {c}}
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseFeed(v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(FeedBody(p)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPostsPage is the API's own work on an engine answer: decode the
// answer of a 20-hit posts page (with highlights and sort values), build
// the page and its cursor, encode the response.
func BenchmarkPostsPage(b *testing.B) {
	var hits []string
	for i := range 21 {
		hits = append(hits, fmt.Sprintf(`{"_id":"%d","_source":{"id":%d,"user_id":7,"author_nickname":"숨쉬는고래","category":"질문","title":"아이의 천식이 밤에 심해져요 %d","excerpt":"%s","like_count":3,"comment_count":12,"created_at":"2026-03-02T01:02:03Z"},"highlight":{"title":["아이의 <em>천식</em>이 밤에 심해져요"],"body":["%s","%s"]},"sort":[12.5,%d]}`,
			i, i, i, strings.Repeat("밤마다 기침을 해요. ", 12), strings.Repeat("<em>천식</em> 흡입기를 써요 ", 8), strings.Repeat("숨이 차요 <em>천식</em> ", 8), i))
	}
	answer := []byte(`{"timed_out":false,"hits":{"total":{"value":1000,"relation":"gte"},"hits":[` + strings.Join(hits, ",") + `]}}`)
	b.SetBytes(int64(len(answer)))
	b.ReportAllocs()
	for b.Loop() {
		var r result
		if err := decodeAnswer(bytes.NewReader(answer), &r); err != nil {
			b.Fatal(err)
		}
		page, err := pageOf(r, 20, "fp", postHit)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(page); err != nil {
			b.Fatal(err)
		}
	}
}
