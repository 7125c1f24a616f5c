package relevance

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/seed"
)

func TestTextKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"천식 일기", "천식 일기"},
		{"  천식\t\n일기  ", "천식 일기"},
		{"ICS/LABA 복합제", "ics/laba 복합제"},
		{"\u1112\u1173\u11b8\u110b\u1175\u11b8", "흡입"}, // NFD jamo
	} {
		if got := TextKey(tc.in); got != tc.want {
			t.Errorf("TextKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestScoreSuggestions(t *testing.T) {
	rel := map[string]bool{"a": true, "b": true, "c": true}
	d := func(ranks ...int) float64 { // DCG of relevant texts at the given 0-based ranks
		var s float64
		for _, r := range ranks {
			s += 1 / math.Log2(float64(r+2))
		}
		return s
	}
	ideal3 := d(0, 1, 2)
	for _, tc := range []struct {
		name  string
		k     int
		texts []string
		rel   map[string]bool
		want  SuggestScore
	}{
		{"perfect", 10, []string{"a", "b", "c"}, rel, SuggestScore{Recall: 1, NDCG: 1}},
		{"nothing shown", 10, nil, rel, SuggestScore{}},
		{"no relevant set", 10, []string{"a"}, map[string]bool{}, SuggestScore{}},
		{"a repeat earns nothing and is counted", 10, []string{"a", "A", " a ", "b"}, rel,
			SuggestScore{Recall: 2.0 / 3, NDCG: d(0, 3) / ideal3, Duplicates: 2}},
		{"irrelevant texts take ranks", 10, []string{"x", "a"}, rel, SuggestScore{Recall: 1.0 / 3, NDCG: d(1) / ideal3}},
		{"capped at k", 2, []string{"a", "b", "c"}, rel, SuggestScore{Recall: 1, NDCG: 1}},
		{"past k is not read", 2, []string{"a", "a", "b"}, rel, SuggestScore{Recall: 0.5, NDCG: d(0) / d(0, 1), Duplicates: 1}},
	} {
		got := ScoreSuggestions(tc.k, tc.texts, tc.rel)
		if !near(got.Recall, tc.want.Recall) || !near(got.NDCG, tc.want.NDCG) || got.Duplicates != tc.want.Duplicates {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// The embedded cases: at least 30, every category, each with relevant
// titles in the default corpus and a rule that discriminates; the issue's
// two repeating examples are there.
func TestEmbeddedSuggestCases(t *testing.T) {
	cases, err := SuggestCases()
	if err != nil {
		t.Fatal(err)
	}
	popular, err := SuggestPopular()
	if err != nil || len(popular) == 0 {
		t.Fatalf("popular queries: %v, %v", popular, err)
	}
	if len(cases) < 30 {
		t.Errorf("%d suggest cases, want at least 30", len(cases))
	}
	c := defaultCorpus()
	docs := map[string][]Doc{mappings.Contents: Searchable(c, mappings.Contents), mappings.Posts: Searchable(c, mappings.Posts)}
	all := RelevantTexts(docs, []string{mappings.Contents, mappings.Posts}, Rule{Any: []string{""}})
	perCategory := map[string]int{}
	var qs []string
	for _, sc := range cases {
		perCategory[sc.Category]++
		qs = append(qs, sc.Q)
		rel := RelevantTexts(docs, sc.Types, sc.Rule)
		for _, p := range popular {
			if sc.Rule.Holds(p.Query) {
				rel[TextKey(p.Query)] = true
			}
		}
		if len(rel) == 0 {
			t.Errorf("%s %q: no relevant title or popular query", sc.ID, sc.Q)
		}
		if len(rel) > len(all)/3 {
			t.Errorf("%s %q: %d of %d titles relevant: the rule does not discriminate", sc.ID, sc.Q, len(rel), len(all))
		}
	}
	for _, cat := range SuggestCategories {
		if perCategory[cat] < 10 {
			t.Errorf("category %s has %d cases, want at least 10", cat, perCategory[cat])
		}
	}
	for _, want := range []string{"qpsxhfls", "흡입", "ㅊㅅ", "cjstlr", "천시"} {
		if !slices.Contains(qs, want) {
			t.Errorf("no suggest case %q", want)
		}
	}
}

func TestParseSuggestCasesRejects(t *testing.T) {
	ok := `"id":"a","category":"prefix","q":"천","rule":{"any":["천식"]},"why":"w"`
	for _, tc := range []struct{ name, file string }{
		{"not json", `{`},
		{"unknown field", `{"cases":[{` + ok + `,"types":["posts"],"extra":1}]}`},
		{"duplicate id", `{"cases":[{` + ok + `,"types":["posts"]},{` + ok + `,"types":["posts"]}]}`},
		{"unknown category", `{"cases":[{"id":"a","category":"typo","q":"천","types":["posts"],"rule":{"any":["천식"]},"why":"w"}]}`},
		{"no types", `{"cases":[{` + ok + `}]}`},
		{"users", `{"cases":[{` + ok + `,"types":["users"]}]}`},
		{"type twice", `{"cases":[{` + ok + `,"types":["posts","posts"]}]}`},
		{"empty query", `{"cases":[{"id":"a","category":"prefix","q":" ","types":["posts"],"rule":{"any":["천식"]},"why":"w"}]}`},
		{"empty rule", `{"cases":[{"id":"a","category":"prefix","q":"천","types":["posts"],"rule":{},"why":"w"}]}`},
		{"no why", `{"cases":[{"id":"a","category":"prefix","q":"천","types":["posts"],"rule":{"any":["천식"]}}]}`},
	} {
		if _, err := ParseSuggestCases([]byte(tc.file)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if _, err := ParseSuggestCases([]byte(`{"cases":[{` + ok + `,"types":["contents","posts"]}]}`)); err != nil {
		t.Errorf("valid file: %v", err)
	}
}

// EvaluateSuggest with a scripted suggester: titles judged across the
// requested types, repeats counted, the table and the per-case lines.
func TestEvaluateSuggest(t *testing.T) {
	c := &seed.Corpus{
		Users: []seed.User{{ID: 1, Status: "active"}},
		Contents: []seed.Content{
			{ID: 1, Title: "천식 흡입기 사용법", Status: "published"},
			{ID: 2, Title: "초안 흡입기", Status: "draft"},
		},
		Posts: []seed.Post{
			{ID: 1, UserID: 1, Title: "흡입기 후기", Status: "visible"},
			{ID: 2, UserID: 1, Title: "흡입기 후기", Status: "visible"},
			{ID: 3, UserID: 1, Title: "산책", Body: "흡입기", Status: "visible"},
		},
	}
	cases := []SuggestCase{
		{ID: "a", Category: "prefix", Q: "흡입", Types: []string{mappings.Contents, mappings.Posts}, Rule: Rule{Any: []string{"흡입기"}}},
		{ID: "b", Category: "chosung", Q: "ㅎㅇㄱ", Types: []string{mappings.Posts}, Rule: Rule{Any: []string{"흡입기"}}},
	}
	var asked [][]string
	repeating := SuggesterFunc(func(_ context.Context, types []string, _ string) ([]string, error) {
		asked = append(asked, types)
		return []string{"흡입기 후기", "흡입기  후기", "천식 흡입기 사용법"}, nil
	})
	res, err := EvaluateSuggest(context.Background(), c, cases, repeating)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(asked, [][]string{cases[0].Types, cases[1].Types}, slices.Equal) {
		t.Errorf("asked for types %v", asked)
	}
	// a: 2 relevant titles (the draft and the body-only post do not count), found both, one repeat.
	if r := res[0]; r.Relevant != 2 || !near(r.Recall, 1) || r.Duplicates != 1 || !near(r.NDCG, (1+1/math.Log2(4))/(1+1/math.Log2(3))) {
		t.Errorf("a: %+v", r)
	}
	// b: 1 relevant title (posts only); 천식 흡입기 사용법 is an article, not relevant here.
	if r := res[1]; r.Relevant != 1 || !near(r.Recall, 1) || !near(r.NDCG, 1) || r.Duplicates != 1 {
		t.Errorf("b: %+v", r)
	}
	rep := &Report{Suggest: res}
	if m := rep.MeanSuggest(""); m.N != 2 || m.Duplicates != 2 || !near(m.Recall, 1) {
		t.Errorf("mean: %+v", m)
	}
	var out bytes.Buffer
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteQueries(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"suggest@10: 2 autocomplete cases", "prefix", "chosung", "overall", "duplicates", "suggest/a", "contents,posts"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	boom := errors.New("boom")
	failing := SuggesterFunc(func(context.Context, []string, string) ([]string, error) { return nil, boom })
	if _, err := EvaluateSuggest(context.Background(), c, cases, failing); !errors.Is(err, boom) {
		t.Errorf("failing suggester: %v", err)
	}
	noRel := []SuggestCase{{ID: "z", Category: "prefix", Q: "x", Types: []string{mappings.Posts}, Rule: Rule{Any: []string{"없는말"}}}}
	if _, err := EvaluateSuggest(context.Background(), c, noRel, repeating); err == nil {
		t.Error("a case without relevant titles was accepted")
	}
}
