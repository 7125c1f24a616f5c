package searchapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/mappings"
)

func TestSuggestBody(t *testing.T) {
	// size 8 → 16 candidates from each source: repeats are dropped afterwards.
	completion := func(prefix string) string {
		return fmt.Sprintf(`{"prefix": %q, "completion": {"field": "suggest", "size": 16, "skip_duplicates": true}}`, prefix)
	}
	tests := []struct {
		name, kind, q, want string
	}{
		{"Hangul, a syllable still being typed", mappings.Contents, "천시", `{
			"size": 16, "track_total_hits": false, "_source": ["id","title"],
			"query": {"bool": {"should": [
				{"match": {"title.prefix": {"query": "천시", "operator": "and"}}},
				{"match": {"qwerty": {"query": "cjstl", "operator": "and", "boost": 0.3}}}
			], "minimum_should_match": 1}},
			"collapse": {"field": "title.exact"},
			"suggest": {"s0": ` + completion("천시") + `}}`},
		{"초성", mappings.Posts, "ㅊㅅ", `{
			"size": 16, "track_total_hits": false, "_source": ["id","title"],
			"query": {"bool": {"should": [
				{"match": {"chosung": {"query": "ㅊㅅ", "operator": "and"}}}
			], "minimum_should_match": 1}},
			"collapse": {"field": "title.exact"},
			"suggest": {"s0": ` + completion("ㅊㅅ") + `}}`},
		{"English keyboard: as typed and converted", mappings.Users, "Cjstl", `{
			"size": 16, "track_total_hits": false, "_source": ["id","nickname"],
			"query": {"bool": {"should": [
				{"match": {"qwerty": {"query": "cjstl", "operator": "and"}}},
				{"match": {"nickname.prefix": {"query": "천시", "operator": "and"}}}
			], "minimum_should_match": 1}},
			"collapse": {"field": "nickname.exact"},
			"suggest": {"s0": ` + completion("Cjstl") + `, "s1": ` + completion("천시") + `}}`},
		{"English", mappings.Contents, "fev", `{
			"size": 16, "track_total_hits": false, "_source": ["id","title"],
			"query": {"bool": {"should": [
				{"match": {"title.prefix": {"query": "fev", "operator": "and"}}}
			], "minimum_should_match": 1}},
			"collapse": {"field": "title.exact"},
			"suggest": {"s0": ` + completion("fev") + `}}`},
	}
	for _, tt := range tests {
		jsonEqual(t, tt.name, SuggestBody(tt.kind, tt.q, 8), tt.want)
	}
}

func TestSuggestKey(t *testing.T) {
	same := [][]string{
		{"벤토린(살부타몰), 언제 어떻게 써야 할까", "벤토린(살부타몰),  언제 어떻게\t써야 할까 ", " 벤토린(살부타몰), 언제 어떻게 써야 할까"},
		{"흡입스테로이드(ICS), 오래 써도 괜찮을까요?", "흡입스테로이드(ics), 오래 써도 괜찮을까요?"},
		{"흡입기", "\u1112\u1173\u11b8\u110b\u1175\u11b8\u1100\u1175"}, // NFC and NFD
	}
	for _, group := range same {
		for _, s := range group[1:] {
			if suggestKey(s) != suggestKey(group[0]) {
				t.Errorf("suggestKey(%q) = %q ≠ suggestKey(%q) = %q", s, suggestKey(s), group[0], suggestKey(group[0]))
			}
		}
	}
	if suggestKey("천식 일기") == suggestKey("천식일기") {
		t.Error("a space inside a title is part of the text")
	}
}

func sug(kind string, id uint64, text string) Suggestion {
	return Suggestion{Type: kind, ID: id, Text: text}
}

func TestShare(t *testing.T) {
	distinct := func(kind string, n int) []Suggestion {
		var out []Suggestion
		for i := range n {
			out = append(out, sug(kind, uint64(i), fmt.Sprintf("%s %d", kind, i)))
		}
		return out
	}
	count := func(s []Suggestion) map[string]int {
		m := map[string]int{}
		for _, x := range s {
			m[x.Type]++
		}
		return m
	}
	tests := []struct {
		name  string
		lists [][]Suggestion
		size  int
		want  map[string]int
	}{
		{"equal shares", [][]Suggestion{distinct("c", 8), distinct("p", 8), distinct("u", 8)}, 8, map[string]int{"c": 3, "p": 3, "u": 2}},
		{"an empty kind's share goes to the others", [][]Suggestion{distinct("c", 8), nil, distinct("u", 1)}, 8, map[string]int{"c": 7, "u": 1}},
		{"fewer than size", [][]Suggestion{distinct("c", 1), distinct("p", 1), distinct("u", 1)}, 8, map[string]int{"c": 1, "p": 1, "u": 1}},
		{"nothing", [][]Suggestion{nil, nil, nil}, 8, map[string]int{}},
		{"one kind", [][]Suggestion{distinct("c", 20)}, 5, map[string]int{"c": 5}},
		// posts repeats every article title: its share goes to its own next
		// distinct candidates, then to the articles.
		{"a text in two kinds counts once", [][]Suggestion{
			{sug("c", 1, "a"), sug("c", 2, "b"), sug("c", 3, "c"), sug("c", 4, "d")},
			{sug("p", 1, "A"), sug("p", 2, "b "), sug("p", 3, "x")},
		}, 4, map[string]int{"c": 3, "p": 1}},
		{"repeats within a kind are passed over", [][]Suggestion{
			{sug("c", 1, "a"), sug("c", 2, "a"), sug("c", 3, "a"), sug("c", 4, "b"), sug("c", 5, "c")},
		}, 3, map[string]int{"c": 3}},
	}
	for _, tt := range tests {
		got := share(tt.lists, tt.size)
		if c := count(got); !maps.Equal(c, tt.want) {
			t.Errorf("%s: share = %v, want %v", tt.name, c, tt.want)
		}
		if !slices.IsSortedFunc(got, func(a, b Suggestion) int { return strings.Compare(a.Type, b.Type) }) {
			t.Errorf("%s: out of kind order: %v", tt.name, got)
		}
		seen := map[string]bool{}
		for _, s := range got {
			if seen[suggestKey(s.Text)] {
				t.Errorf("%s: %q twice in %v", tt.name, s.Text, got)
			}
			seen[suggestKey(s.Text)] = true
		}
	}
	// The first of each text is kept: rank order within a kind, kind order across.
	got := share([][]Suggestion{{sug("c", 1, "x"), sug("c", 2, "X")}, {sug("p", 9, "x"), sug("p", 8, "y")}}, 4)
	if want := []Suggestion{sug("c", 1, "x"), sug("p", 8, "y")}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}

// suggestionsOf over an answer with the repeats the engine really gives:
// one title on several documents, the same document from a completion and
// from the query, titles equal but for spacing, case or normalisation.
func TestSuggestionsOf(t *testing.T) {
	hit := func(id int, title string) rawHit {
		src, _ := json.Marshal(map[string]any{"id": id, "title": title})
		return rawHit{ID: fmt.Sprint(id), Source: src}
	}
	var r result
	r.Suggest = map[string][]struct {
		Options []rawHit `json:"options"`
	}{
		"s0": {{Options: []rawHit{hit(1, "벤토린(살부타몰), 언제 어떻게 써야 할까"), hit(2, "벤토린 없이 외출했다가 식겁했어요")}}},
		"s1": {{Options: []rawHit{hit(3, "벤토린(살부타몰), 언제 어떻게 써야 할까"), hit(1, "벤토린(살부타몰), 언제 어떻게 써야 할까")}}},
	}
	r.Hits.Hits = []rawHit{
		hit(4, "벤토린(살부타몰),  언제 어떻게 써야 할까"),
		hit(2, "벤토린 없이 외출했다가 식겁했어요"),
		hit(5, "벤토린을 하루에 몇 번까지 써도 되나요?"),
		hit(6, "벤토린을 하루에 몇 번까지 써도 되나요?"),
		hit(7, "\u1107\u1166\u11ab\u1110\u1169\u1105\u1175\u11ab 없이 외출했다가 식겁했어요"),
		hit(8, "벤토린과 비염약 같이 써도 되나요?"),
		{ID: "9", Source: json.RawMessage(`{"id":9}`)}, // no title
	}
	got := suggestionsOf(mappings.Contents, r)
	want := []Suggestion{
		sug("contents", 1, "벤토린(살부타몰), 언제 어떻게 써야 할까"),
		sug("contents", 2, "벤토린 없이 외출했다가 식겁했어요"),
		sug("contents", 5, "벤토린을 하루에 몇 번까지 써도 되나요?"),
		sug("contents", 8, "벤토린과 비염약 같이 써도 되나요?"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("suggestionsOf =\n%v\nwant\n%v", got, want)
	}
}

// The handler over a scripted engine whose answers repeat titles the way
// the demo corpus does (qpsxhfls): no text twice, across kinds either, and
// size is filled from the distinct candidates further down.
func TestSuggestNoRepeats(t *testing.T) {
	titles := []string{"벤토린(살부타몰), 언제 어떻게 써야 할까", "벤토린 없이 외출했다가 식겁했어요", "벤토린을 하루에 몇 번까지 써도 되나요?",
		"벤토린과 비염약 같이 써도 되나요?", "벤토린으로 바꾸고 3주 지난 후기", "벤토린으로 바꾸고 4주 지난 후기"}
	f := newFakeEngine(t)
	f.setAnswer(func(index string, body map[string]any) (int, string) {
		size := int(body["size"].(float64))
		if _, ok := body["collapse"]; !ok {
			return http.StatusBadRequest, `{"error":{"type":"test","reason":"the suggest query must collapse on the title"}}`
		}
		var hits, options []string
		// Collapsed on the lower-cased title, each title still comes twice:
		// as written and with its spaces doubled (a different keyword). Every
		// kind has the same titles, so they repeat across kinds too.
		for i := range size {
			title := titles[min(i/2, len(titles)-1)]
			if i%2 == 1 {
				title = strings.ReplaceAll(title, " ", "  ")
			}
			src := fmt.Sprintf(`{"id":%d,"title":%q,"nickname":%q}`, 1000+i, title, title)
			hits = append(hits, fmt.Sprintf(`{"_id":"%d","_score":1,"_source":%s}`, 1000+i, src))
			if i < 3 {
				options = append(options, fmt.Sprintf(`{"text":"qpsxhfls","_id":"%d","_score":1,"_source":%s}`, 2000+i, src))
			}
		}
		return http.StatusOK, fmt.Sprintf(`{"took":1,"timed_out":false,"hits":{"hits":[%s]},"suggest":{"s0":[{"text":"x","offset":0,"length":1,"options":[%s]}]}}`,
			strings.Join(hits, ","), strings.Join(options, ","))
	})
	h := newRouter(t, f.URL, Options{})
	v := apidoctest.New(t)
	for _, tc := range []struct {
		target string
		want   int
	}{
		{"/v1/search/suggest?q=qpsxhfls&size=5&types=posts", 5},
		{"/v1/search/suggest?q=qpsxhfls&size=6&types=contents,posts", 6},
		{"/v1/search/suggest?q=qpsxhfls&size=20", 6}, // only six distinct texts exist
	} {
		rec := get(t, v, h, tc.target)
		var sr SuggestResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &sr); err != nil || rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.target, rec.Code, rec.Body)
		}
		seen := map[string]bool{}
		for _, s := range sr.Suggestions {
			if seen[suggestKey(s.Text)] {
				t.Errorf("%s: %q twice in %+v", tc.target, s.Text, sr.Suggestions)
			}
			seen[suggestKey(s.Text)] = true
		}
		if len(sr.Suggestions) != tc.want {
			t.Errorf("%s: %d suggestions, want %d: %+v", tc.target, len(sr.Suggestions), tc.want, sr.Suggestions)
		}
	}
}
