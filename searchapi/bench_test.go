package searchapi

import (
	"encoding/json"
	"net/url"
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
