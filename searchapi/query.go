package searchapi

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/soomcare/soomcare/hangul"
	"github.com/soomcare/soomcare/mappings"
)

// Query builders: pure functions from validated parameters to engine request
// bodies. User text only ever lands in match, multi_match, match_phrase,
// term and completion prefixes, never in a query-string DSL, so no input can
// change the query's structure.
//
// Relevance, over the fields of mappings/*.json (same names in the nori and
// the basic analysis profile):
//
//	should (at least one):
//	  multi_match best_fields  title^3 summary^1.5 body (tags.text^2)  ko_search: particles dropped,
//	                           compounds split, synonyms (인헤일러 → 흡입기)
//	  match_phrase title.en    boost 2, slop 1: the words as written, in order, rank first
//	                           (on the standard-analysed subfield: a phrase over the synonym
//	                           graph multiplies paths, 5 words of 숨가쁨 are 3125 > 1024 clauses)
//	  match title.prefix       boost 0.5, all words: 흡입 → 흡입기 (edge n-grams)      ┐ short queries
//	  multi_match *.bigram     boost 0.2, 75% of the bigrams: safety net for typos   ┘ (≤ 30 runes)
//	  multi_match *.en         boost 0.5: FEV1, ICS/LABA as written (queries with Latin letters or digits)
//	  match chosung            boost 0.5 when q is all 초성 (ㅊㅅ)
//	  match qwerty + the       boost 0.3 when q looks like Korean typed in English mode (cjstlr);
//	    converted Hangul       added to, not replacing, the original: "the" is English too
//
// The optional clauses are skipped where they cannot match, which also keeps
// the worst case (100 runes of single-letter words) well under OpenSearch's
// 1024-clause limit. Synonym expansion can still exceed it for long runs of
// synonym-rich words; the engine then refuses the query, and the handler
// retries once with the simple form (Simple): the main fields with the index
// analyzer (no synonyms) and the English subfields, whose size grows only
// linearly with the query.

// M is a JSON object under construction.
type M = map[string]any

// layout is where a kind's text lives in its index.
type layout struct {
	title     string   // the display field with .prefix/.bigram/.en/.exact subfields
	main      []string // multi_match fields with boosts
	bigram    []string
	en        []string
	highlight []string // fields highlighted, in response order
	source    []string // _source includes: the public fields the response carries
	date      string   // what from/to and sort=recent use
}

var layouts = map[string]layout{
	mappings.Contents: {
		title:     "title",
		main:      []string{"title^3", "summary^1.5", "body", "tags.text^2"},
		bigram:    []string{"title.bigram", "summary.bigram", "body.bigram"},
		en:        []string{"title.en^3", "summary.en^1.5", "body.en"},
		highlight: []string{"title", "summary", "body"},
		source:    []string{"id", "title", "summary", "category", "tags", "author_nickname", "published_at"},
		date:      "published_at",
	},
	mappings.Posts: {
		title:     "title",
		main:      []string{"title^3", "body"},
		bigram:    []string{"title.bigram", "body.bigram"},
		en:        []string{"title.en^3", "body.en"},
		highlight: []string{"title", "body"},
		source:    []string{"id", "user_id", "author_nickname", "category", "title", "excerpt", "like_count", "comment_count", "created_at"},
		date:      "created_at",
	},
	mappings.Users: {
		title:     "nickname",
		main:      []string{"nickname^3", "bio"},
		bigram:    []string{"nickname.bigram", "bio.bigram"},
		en:        []string{"nickname.en"},
		highlight: []string{"nickname", "bio"},
		source:    []string{"id", "nickname", "bio"}, // public fields only, whatever else the index holds
		date:      "created_at",
	},
}

// Boosts of the relevance clauses (see the table above).
const (
	boostPhrase  = 2.0
	boostPrefix  = 0.5
	boostBigram  = 0.2
	boostEn      = 0.5
	boostChosung = 0.5
	boostQwerty  = 0.3

	maxTotal      = 1000 // hits counted exactly; past it total.relation is "gte"
	maxNgramRunes = 30   // prefix and bigram clauses only for queries up to this long
	fragmentRunes = 120  // highlight fragment size of bodies, about the stored excerpt's length
)

// SearchBody is the _search body of a per-type search page. It asks for one
// hit more than the page size, to know whether a next page exists.
func SearchBody(p SearchParams) M {
	l := layouts[p.Kind]
	body := M{
		"size":             p.Size + 1,
		"track_total_hits": maxTotal,
		"_source":          l.source,
		"query":            textQuery(p.Kind, p.Query, filters(p), p.Simple),
		"sort":             sortClause(p.Kind, p.Sort),
		"highlight":        highlight(p.Kind),
	}
	if len(p.After) > 0 {
		body["search_after"] = rawNumbers(p.After)
	}
	return body
}

// MultiBodies are the msearch items of a combined search, one per kind, each
// a first page sorted by relevance.
func MultiBodies(p MultiParams) []M {
	out := make([]M, 0, len(p.Kinds))
	for _, k := range p.Kinds {
		out = append(out, SearchBody(SearchParams{Kind: k, Query: p.Query, Sort: SortRelevance, Size: p.Size, Simple: p.Simple}))
	}
	return out
}

// textQuery is the relevance query of q on a kind, with filters; simple is
// the fallback for queries whose synonym expansion the engine refuses.
func textQuery(kind, q string, filter []M, simple bool) M {
	l := layouts[kind]
	if simple {
		b := M{"should": []M{
			{"multi_match": M{"query": q, "type": "best_fields", "fields": l.main, "tie_breaker": 0.3, "analyzer": "ko_index"}},
			{"multi_match": M{"query": q, "type": "best_fields", "fields": l.en, "boost": boostEn}},
		}, "minimum_should_match": 1}
		if len(filter) > 0 {
			b["filter"] = filter
		}
		return M{"bool": b}
	}
	main := M{"query": q, "type": "best_fields", "fields": l.main, "tie_breaker": 0.3}
	if !hasHangul(q) && hasLatinOrDigit(q) {
		// nori cuts Latin from digits (FEV1 → fev, 1): with "or", every
		// title with a 1 in it would outrank the posts about FEV1.
		main["operator"] = "and"
	}
	should := []M{
		{"multi_match": main},
		{"match_phrase": M{l.title + ".en": M{"query": q, "slop": 1, "boost": boostPhrase}}},
	}
	short := utf8.RuneCountInString(q) <= maxNgramRunes
	if short {
		should = append(should,
			M{"match": M{l.title + ".prefix": M{"query": q, "operator": "and", "boost": boostPrefix}}},
			M{"multi_match": M{"query": q, "type": "best_fields", "fields": l.bigram, "minimum_should_match": "75%", "boost": boostBigram}},
		)
	}
	if hasLatinOrDigit(q) {
		should = append(should, M{"multi_match": M{"query": q, "type": "best_fields", "fields": l.en, "operator": "and", "boost": boostEn}})
	}
	if hangul.IsChosungQuery(q) {
		should = append(should, M{"match": M{"chosung": M{"query": hangul.Chosung(q), "operator": "and", "boost": boostChosung}}})
	}
	if hangul.LooksLikeQwertyKorean(q) {
		should = append(should,
			M{"match": M{"qwerty": M{"query": strings.ToLower(q), "operator": "and", "boost": boostQwerty}}},
			M{"multi_match": M{"query": hangul.FromQwerty(q), "type": "best_fields", "fields": l.main, "boost": boostQwerty}},
		)
	}
	b := M{"should": should, "minimum_should_match": 1}
	if len(filter) > 0 {
		b["filter"] = filter
	}
	return M{"bool": b}
}

// filters are the exact-match conditions of a search: they never score.
func filters(p SearchParams) []M {
	var f []M
	if p.Category != "" {
		f = append(f, M{"term": M{"category": p.Category}})
	}
	for _, t := range p.Tags { // every tag must be present
		f = append(f, M{"term": M{"tags": t}})
	}
	if r := dateRange(p.From, p.To); r != nil {
		f = append(f, M{"range": M{layouts[p.Kind].date: r}})
	}
	return f
}

// sortClause orders hits; the id tiebreaker makes every order total, which
// search_after needs to never skip or repeat a hit.
func sortClause(kind, sort string) []M {
	switch {
	case sort == SortRelevance:
		return []M{{"_score": M{"order": "desc"}}, {"id": M{"order": "desc"}}}
	case kind == "feed" && sort == SortPopular:
		return []M{{"like_count": M{"order": "desc"}}, {"created_at": M{"order": "desc"}}, {"id": M{"order": "desc"}}}
	case kind == "feed":
		return []M{{"created_at": M{"order": "desc"}}, {"id": M{"order": "desc"}}}
	default:
		return []M{{layouts[kind].date: M{"order": "desc", "missing": "_last"}}, {"id": M{"order": "desc"}}}
	}
}

// highlight asks for <em> fragments. The html encoder escapes the text
// around the tags, so a fragment of a post containing markup is safe to
// render as HTML; titles and names come whole, bodies as two fragments.
func highlight(kind string) M {
	fields := M{}
	for _, f := range layouts[kind].highlight {
		switch f {
		case "body", "bio", "summary":
			fields[f] = M{"fragment_size": fragmentRunes, "number_of_fragments": 2}
		default:
			fields[f] = M{"number_of_fragments": 0}
		}
	}
	return M{
		"pre_tags":  []string{"<em>"},
		"post_tags": []string{"</em>"},
		"encoder":   "html",
		"fields":    fields,
	}
}

// FeedBody is one page of the community feed: newest first, or most liked.
func FeedBody(p FeedParams) M {
	query := M{"match_all": M{}}
	if p.Category != "" {
		query = M{"bool": M{"filter": []M{{"term": M{"category": p.Category}}}}}
	}
	body := M{
		"size":             p.Size + 1,
		"track_total_hits": false,
		"_source":          layouts[mappings.Posts].source,
		"query":            query,
		"sort":             sortClause("feed", p.Sort),
	}
	if len(p.After) > 0 {
		body["search_after"] = rawNumbers(p.After)
	}
	return body
}

func dateRange(from, to time.Time) M {
	if from.IsZero() && to.IsZero() {
		return nil
	}
	r := M{"format": "epoch_millis"}
	if !from.IsZero() {
		r["gte"] = from.UnixMilli()
	}
	if !to.IsZero() {
		r["lt"] = to.UnixMilli()
	}
	return r
}

// rawNumbers passes cursor values to the engine digit for digit (a float64
// would round a long such as Long.MIN_VALUE, the sort value of a missing date).
func rawNumbers(vs []string) []json.Number {
	out := make([]json.Number, len(vs))
	for i, v := range vs {
		out[i] = json.Number(v)
	}
	return out
}

func hasLatinOrDigit(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return true
		}
	}
	return false
}

func hasHangul(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Hangul, r) {
			return true
		}
	}
	return false
}
