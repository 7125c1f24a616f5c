package searchapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// postsAnswer is an engine answer of a 21-hit posts page with highlights
// and sort values (the shape BenchmarkPostsPage decodes).
func postsAnswer() []byte {
	var hits []string
	for i := range 21 {
		hits = append(hits, fmt.Sprintf(`{"_id":"%d","_source":{"id":%d,"user_id":7,"author_nickname":"숨쉬는고래","category":"질문","title":"아이의 천식이 밤에 심해져요 %d","excerpt":"%s","like_count":3,"comment_count":12,"created_at":"2026-03-02T01:02:03Z"},"highlight":{"title":["아이의 <em>천식</em>이 밤에 심해져요"],"body":["%s"]},"sort":[12.5,%d]}`,
			i, i, i, strings.Repeat("밤마다 기침을 해요. ", 12), strings.Repeat("<em>천식</em> 흡입기를 써요 ", 8), i))
	}
	return []byte(`{"timed_out":false,"hits":{"total":{"value":1000,"relation":"gte"},"hits":[` + strings.Join(hits, ",") + `]}}`)
}

func TestDecodeSized(t *testing.T) {
	answer := postsAnswer()
	n := int64(len(answer))
	tests := []struct {
		name    string
		body    []byte
		size    int64
		wantErr bool
	}{
		{"content length", answer, n, false},
		{"no content length", answer, -1, false},
		{"cut short", answer[:n/2], n, true},
		{"longer than declared", append(append([]byte{}, answer...), ' '), n, false},
		{"larger than the bound", answer, maxAnswerBytes + 1, false}, // falls back to the bounded read
		{"declared shorter than the JSON", answer, n - 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r result
			err := decodeSized(bytes.NewReader(tt.body), tt.size, &r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (len(r.Hits.Hits) != 21 || r.Hits.Hits[20].ID != "20") {
				t.Fatalf("decoded %d hits", len(r.Hits.Hits))
			}
		})
	}
}

func TestAnswerSize(t *testing.T) {
	for in, want := range map[string]int64{"": -1, "12": 12, "0": 0, "-3": -1, "x": -1} {
		h := http.Header{}
		if in != "" {
			h.Set("Content-Length", in)
		}
		if got := answerSize(h); got != want {
			t.Errorf("answerSize(%q) = %d, want %d", in, got, want)
		}
	}
}

// BenchmarkDecodeAnswer compares reading an answer whole with io.ReadAll
// (unknown size, the code before) and into one buffer of its
// Content-Length, in the same run: B/op is the garbage per search.
func BenchmarkDecodeAnswer(b *testing.B) {
	answer := postsAnswer()
	for _, c := range []struct {
		name string
		size int64
	}{{"readall", -1}, {"sized", int64(len(answer))}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(answer)))
			b.ReportAllocs()
			for b.Loop() {
				var r result
				if err := decodeSized(bytes.NewReader(answer), c.size, &r); err != nil {
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
		})
	}
}
