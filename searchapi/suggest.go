package searchapi

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/soomcare/soomcare/hangul"
)

// Autocomplete: GET /v1/search/suggest (the handler is API.suggest). One
// _msearch with a body per requested kind (SuggestBody), then one list
// (suggestions): each kind's
// candidates in rank order, at most one suggestion per text.
//
// Real communities have many posts titled alike (the demo corpus has 73
// posts called 폐기능검사 받고 왔어요), and an article and a post may share a
// title. Two suggestions are the same when their texts are equal after
// suggestKey (NFC, white-space runs folded, lower case); the one kept is the
// best ranked: within a kind the engine's order (completions, then words
// inside titles by score), across kinds the response order (contents,
// posts, users). Every source asks the engine for suggestFetch(size)
// candidates, each already distinct in its own way (completion
// skip_duplicates on the matched input, the query collapsed on the title's
// lower-cased keyword), so size is still filled when enough distinct texts
// exist.

// suggestions merges the kinds' answers (one result per kind, in the
// order of kinds) into at most size suggestions.
func suggestions(kinds []string, results []result, size int) []Suggestion {
	perKind := make([][]Suggestion, len(kinds))
	for i, k := range kinds {
		perKind[i] = suggestionsOf(k, results[i])
	}
	return share(perKind, size)
}

// suggestFetch is how many candidates each source (completion, query) of a
// kind asks for when size suggestions are wanted: twice as many, since
// candidates that repeat a text are dropped after the engine answers.
func suggestFetch(size int) int { return 2 * size }

// suggestKey is the form in which two suggestion texts are the same: NFC
// with white-space runs as one space (cleanText, as queries), lower case.
func suggestKey(text string) string { return strings.ToLower(cleanText(text)) }

// SuggestBody is the autocomplete request of one kind: completion on the
// `suggest` field (title, 초성 and English-keyboard inputs from the indexer)
// plus a small query for words inside the title. No highlight, no total,
// only the title in _source: it runs on every keystroke. Each source asks
// for suggestFetch(size) candidates; completions skip duplicate inputs, and
// the query is collapsed on <title>.exact (the title as a lower-cased
// keyword: titles are at most 200 characters, under its ignore_above), so
// a title shared by many documents comes back once, from its best hit.
//
//   - 초성 input (ㅊㅅ): completion of the 초성 form and a match on `chosung`.
//   - English-keyboard input (cjstlr): completion of the input (the qwerty
//     inputs match it) and of the converted Hangul (천식), plus the converted
//     Hangul on title.prefix: added, since "the" is English too.
//   - Hangul input: completion of the input, plus its keys on `qwerty`, so a
//     syllable still being composed matches (천시 on the way to 천식 is the
//     prefix cjstl of cjstlr).
func SuggestBody(kind string, q string, size int) M {
	l := layouts[kind]
	fetch := suggestFetch(size)
	completion := func(prefix string) M {
		return M{"prefix": prefix, "completion": M{"field": "suggest", "size": fetch, "skip_duplicates": true}}
	}
	suggest := M{}
	var should []M
	switch {
	case hangul.IsChosungQuery(q):
		cho := hangul.Chosung(q)
		suggest["s0"] = completion(cho)
		should = append(should, M{"match": M{"chosung": M{"query": cho, "operator": "and"}}})
	case hangul.LooksLikeQwertyKorean(q):
		conv := hangul.FromQwerty(q)
		suggest["s0"] = completion(q)
		suggest["s1"] = completion(conv)
		should = append(should,
			M{"match": M{"qwerty": M{"query": strings.ToLower(q), "operator": "and"}}},
			M{"match": M{l.title + ".prefix": M{"query": conv, "operator": "and"}}},
		)
	default:
		suggest["s0"] = completion(q)
		should = append(should, M{"match": M{l.title + ".prefix": M{"query": q, "operator": "and"}}})
		if hasHangul(q) {
			should = append(should, M{"match": M{"qwerty": M{"query": strings.ToLower(hangul.ToQwerty(q)), "operator": "and", "boost": boostQwerty}}})
		}
	}
	return M{
		"size":             fetch,
		"track_total_hits": false,
		"_source":          []string{"id", l.title},
		"query":            M{"bool": M{"should": should, "minimum_should_match": 1}},
		"collapse":         M{"field": l.title + ".exact"},
		"suggest":          suggest,
	}
}

// suggestionsOf lists a kind's candidates in rank order: completions (s0,
// then s1), then the query's hits; each document and each text
// (suggestKey) once, the first kept. Candidates without a title are skipped.
func suggestionsOf(kind string, r result) []Suggestion {
	title := layouts[kind].title
	var out []Suggestion
	seenID, seenText := map[string]bool{}, map[string]bool{}
	add := func(h rawHit) {
		if seenID[h.ID] {
			return
		}
		var src map[string]json.RawMessage
		if json.Unmarshal(h.Source, &src) != nil {
			return
		}
		var text string
		var id uint64
		if json.Unmarshal(src[title], &text) != nil || text == "" {
			return
		}
		key := suggestKey(text)
		if key == "" || seenText[key] {
			return
		}
		if json.Unmarshal(src["id"], &id) != nil {
			var err error
			if id, err = strconv.ParseUint(h.ID, 10, 64); err != nil {
				return
			}
		}
		seenText[key], seenID[h.ID] = true, true
		out = append(out, Suggestion{Type: kind, ID: id, Text: text})
	}
	for _, name := range []string{"s0", "s1"} {
		for _, entry := range r.Suggest[name] {
			for _, o := range entry.Options {
				add(o)
			}
		}
	}
	for _, h := range r.Hits.Hits {
		add(h)
	}
	return out
}

// share picks up to size suggestions from the kinds' lists, never two with
// the same text (suggestKey): an equal share each first, then the remaining
// slots in kind order. A text already taken from an earlier kind, or from
// the same kind, is passed over and the next candidate of that list takes
// its place. The result keeps the kind order (contents, posts, users) and
// each list's rank order.
func share(lists [][]Suggestion, size int) []Suggestion {
	taken := make([][]Suggestion, len(lists))
	next := make([]int, len(lists)) // the next candidate of each list
	seen := map[string]bool{}
	left := size
	// take moves up to n distinct candidates of list i into taken[i].
	take := func(i, n int) {
		for ; n > 0 && left > 0 && next[i] < len(lists[i]); next[i]++ {
			s := lists[i][next[i]]
			key := suggestKey(s.Text)
			if seen[key] {
				continue
			}
			seen[key] = true
			taken[i] = append(taken[i], s)
			n--
			left--
		}
	}
	quota := (size + len(lists) - 1) / max(len(lists), 1)
	for i := range lists {
		take(i, quota)
	}
	for i := range lists {
		take(i, left)
	}
	out := make([]Suggestion, 0, size-left)
	for _, t := range taken {
		out = append(out, t...)
	}
	return out
}

// SuggestQuery is the type of a suggestion that is a popular past query.
const SuggestQuery = "query"

// popularSlots is how many of size suggestions popular queries may take
// while titles can fill the rest: a quarter, at least one (8 → 2, 10 → 3).
func popularSlots(size int) int { return (size + 3) / 4 }

// blend is the suggest answer: the kinds' title suggestions with popular
// past queries (a.popular) blended in, at most size, never two with the same
// text (suggestKey).
func (a *API) blend(p SuggestParams, results []result) []Suggestion {
	perKind := make([][]Suggestion, len(p.Kinds))
	for i, k := range p.Kinds {
		perKind[i] = suggestionsOf(k, results[i])
	}
	if a.popular == nil {
		return share(perKind, p.Size)
	}
	return blendPopular(a.popular.Match(suggestKey(p.Query), p.Size), perKind, p.Size)
}

// blendPopular puts up to popularSlots(size) popular queries (most searched
// first) before the titles that share(perKind, …) picks for the remaining
// slots; when titles run short, further popular queries fill in. A popular
// query whose text a shown title has is left out: the title says the same
// and opens the document. Every text appears once.
func blendPopular(popular []string, perKind [][]Suggestion, size int) []Suggestion {
	n := min(popularSlots(size), len(popular))
	for {
		titles := share(perKind, size-n)
		seen := make(map[string]bool, size)
		for _, t := range titles {
			seen[suggestKey(t.Text)] = true
		}
		var picked []Suggestion
		for _, q := range popular {
			key := suggestKey(q)
			if len(picked) == size-len(titles) || key == "" || seen[key] {
				continue
			}
			seen[key] = true
			picked = append(picked, Suggestion{Type: SuggestQuery, Text: q})
		}
		// Titles first took size-n slots; if some of the n queries were
		// titles already, give their slots back to titles and try again.
		if len(picked) < n {
			n = len(picked)
			continue
		}
		return append(append(make([]Suggestion, 0, len(picked)+len(titles)), picked...), titles...)
	}
}
