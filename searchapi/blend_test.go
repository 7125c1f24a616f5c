package searchapi

import (
	"testing"
)

func texts(s []Suggestion) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.Type + ":" + x.Text
	}
	return out
}

func titles(kind string, ts ...string) []Suggestion {
	out := make([]Suggestion, len(ts))
	for i, t := range ts {
		out[i] = Suggestion{Type: kind, ID: uint64(i + 1), Text: t}
	}
	return out
}

// Popular queries take up to a quarter of the slots first, titles the rest;
// when titles run short, queries fill in; a text is never shown twice.
func TestBlendPopular(t *testing.T) {
	many := titles(contentsKind, "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8")
	tests := []struct {
		name    string
		popular []string
		lists   [][]Suggestion
		size    int
		want    []string
	}{
		{"no popular", nil, [][]Suggestion{many[:3]}, 8, []string{"contents:a1", "contents:a2", "contents:a3"}},
		{"a quarter for queries", []string{"q1", "q2", "q3"}, [][]Suggestion{many}, 8,
			[]string{"query:q1", "query:q2", "contents:a1", "contents:a2", "contents:a3", "contents:a4", "contents:a5", "contents:a6"}},
		{"titles short: queries fill in", []string{"q1", "q2", "q3"}, [][]Suggestion{many[:2]}, 8,
			[]string{"query:q1", "query:q2", "query:q3", "contents:a1", "contents:a2"}},
		{"a query that is a shown title is left out", []string{"A1", "q2", "q3"}, [][]Suggestion{many}, 4,
			[]string{"query:q2", "contents:a1", "contents:a2", "contents:a3"}},
		{"size 1", []string{"q1"}, [][]Suggestion{many}, 1, []string{"query:q1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := texts(blendPopular(tt.popular, tt.lists, tt.size))
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
			}
		})
	}
}

const contentsKind = "contents"
