package relevance

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"golang.org/x/text/unicode/norm"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/seed"
)

// Autocomplete is judged apart from search: a suggestion shows a title and
// nothing else, so what counts is which titles the list shows, each once.
// A case (suggest.json) is what the user has typed so far, the types the
// app asks for and a rule over titles; its relevant set is the distinct
// titles of the searchable documents of those types that satisfy the rule,
// computed from the corpus at run time like the search judgments.

// SuggestCase is one judged autocomplete case.
type SuggestCase struct {
	ID       string   `json:"id"`
	Category string   `json:"category"`
	Q        string   `json:"q"`     // what the user has typed so far
	Types    []string `json:"types"` // contents and/or posts: the types parameter the app sends
	Rule     Rule     `json:"rule"`  // judged on the title alone
	Why      string   `json:"why"`
}

// SuggestCategories in table order: an unfinished word (or syllable), 초성,
// Korean typed with the keyboard in English mode, a popular past query.
var SuggestCategories = []string{"prefix", "chosung", "qwerty", "popular"}

// PopularQuery is a past query of the file's popular_queries: what search
// insights would list as popular (searches that found something, most
// searched first). The harness gives them to suggest as its popular list,
// and a popular query whose text satisfies a case's rule is relevant to it
// like a title.
type PopularQuery struct {
	Query string `json:"query"`
	Count int64  `json:"count"`
}

// Suggester returns the texts an autocomplete shows for q over types, in
// order, at most K.
type Suggester interface {
	Suggest(ctx context.Context, types []string, q string) ([]string, error)
}

// SuggesterFunc adapts a function to Suggester.
type SuggesterFunc func(ctx context.Context, types []string, q string) ([]string, error)

func (f SuggesterFunc) Suggest(ctx context.Context, types []string, q string) ([]string, error) {
	return f(ctx, types, q)
}

//go:embed suggest.json
var suggestJSON []byte

// SuggestCases returns the embedded judged autocomplete cases, validated.
func SuggestCases() ([]SuggestCase, error) { return ParseSuggestCases(suggestJSON) }

// ParseSuggestCases decodes and checks a case file: unique ids, known
// categories, contents and/or posts as types (each once), a non-empty
// query, rule and reason.
func ParseSuggestCases(b []byte) ([]SuggestCase, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var file struct {
		Comment []string       `json:"_comment"`
		Popular []PopularQuery `json:"popular_queries"`
		Cases   []SuggestCase  `json:"cases"`
	}
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("relevance: suggest cases: %w", err)
	}
	if err := checkCases("case", SuggestCategories, file.Cases, SuggestCase.judged); err != nil {
		return nil, fmt.Errorf("relevance: suggest cases: %w", err)
	}
	return file.Cases, nil
}

func (c SuggestCase) judged() judgedCase {
	j := judgedCase{ID: c.ID, Category: c.Category, Q: c.Q, Rule: c.Rule, Why: c.Why}
	if !validTypes(c.Types) {
		j.Own = fmt.Sprintf("types must be contents and/or posts, each once, not %q", c.Types)
	}
	return j
}

func validTypes(types []string) bool {
	if len(types) == 0 {
		return false
	}
	for i, t := range types {
		if (t != mappings.Contents && t != mappings.Posts) || slices.Contains(types[:i], t) {
			return false
		}
	}
	return true
}

// TextKey is the form in which two suggestion texts are the same: NFC,
// white-space runs as one space, trimmed, lower case. It is written here
// rather than taken from searchapi so that the judge does not share the
// normalisation of the system it judges.
func TextKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(s)), " "))
}

// RelevantTexts are the distinct titles (as TextKey) of the documents of
// types whose title satisfies the rule.
func RelevantTexts(docs map[string][]Doc, types []string, r Rule) map[string]bool {
	out := map[string]bool{}
	for _, t := range types {
		for _, d := range docs[t] {
			if r.Holds(d.Title) {
				out[TextKey(d.Title)] = true
			}
		}
	}
	return out
}

// SuggestScore is how one list of suggestions fares against a case's
// relevant texts, over its first k entries. A text earns only the first
// time it is shown; a repeat is counted in Duplicates and earns nothing.
//   - Recall: distinct relevant texts shown / min(k, relevant texts).
//   - NDCG: binary gain, discount log2(rank+1), over the ideal list of
//     min(k, relevant) relevant texts.
type SuggestScore struct {
	Recall, NDCG float64
	Duplicates   int
}

// ScoreSuggestions scores texts against rel (keys as TextKey).
func ScoreSuggestions(k int, texts []string, rel map[string]bool) SuggestScore {
	var s SuggestScore
	n := min(k, len(rel))
	if n == 0 {
		return s
	}
	texts = texts[:min(k, len(texts))]
	seen := make(map[string]bool, len(texts))
	var found int
	var dcg, idcg float64
	for i, t := range texts {
		key := TextKey(t)
		switch {
		case seen[key]:
			s.Duplicates++
		case rel[key]:
			found++
			dcg += 1 / math.Log2(float64(i+2))
		}
		seen[key] = true
	}
	for i := range n {
		idcg += 1 / math.Log2(float64(i+2))
	}
	s.Recall = float64(found) / float64(n)
	s.NDCG = dcg / idcg
	return s
}

// SuggestResult is one case's relevant set, the list shown and its score.
type SuggestResult struct {
	Case     SuggestCase
	Relevant int // distinct relevant texts
	Texts    []string
	SuggestScore
}

// SuggestPopular returns the embedded popular past queries.
func SuggestPopular() ([]PopularQuery, error) {
	var file struct {
		Popular []PopularQuery `json:"popular_queries"`
	}
	if err := json.Unmarshal(suggestJSON, &file); err != nil {
		return nil, fmt.Errorf("relevance: suggest popular queries: %w", err)
	}
	return file.Popular, nil
}

// EvaluateSuggest judges every case over corpus and runs it on s.
func EvaluateSuggest(ctx context.Context, corpus *seed.Corpus, cases []SuggestCase, s Suggester) ([]SuggestResult, error) {
	return EvaluateSuggestWith(ctx, corpus, cases, nil, s)
}

// EvaluateSuggestWith is EvaluateSuggest where s also suggests the popular
// queries: those whose text satisfies a case's rule are relevant too.
func EvaluateSuggestWith(ctx context.Context, corpus *seed.Corpus, cases []SuggestCase, popular []PopularQuery, s Suggester) ([]SuggestResult, error) {
	docs := map[string][]Doc{}
	for _, ix := range []string{mappings.Contents, mappings.Posts} {
		docs[ix] = Searchable(corpus, ix)
	}
	out := make([]SuggestResult, 0, len(cases))
	for _, c := range cases {
		rel := RelevantTexts(docs, c.Types, c.Rule)
		for _, p := range popular {
			if c.Rule.Holds(p.Query) {
				rel[TextKey(p.Query)] = true
			}
		}
		if len(rel) == 0 {
			return nil, fmt.Errorf("relevance: suggest case %s (%q) has no relevant title in this corpus", c.ID, c.Q)
		}
		texts, err := s.Suggest(ctx, c.Types, c.Q)
		if err != nil {
			return nil, fmt.Errorf("relevance: suggest case %s (%q): %w", c.ID, c.Q, err)
		}
		out = append(out, SuggestResult{Case: c, Relevant: len(rel), Texts: texts, SuggestScore: ScoreSuggestions(K, texts, rel)})
	}
	return out, nil
}

// SuggestMean is a mean over suggest cases; Duplicates is a sum.
type SuggestMean struct {
	N            int
	Recall, NDCG float64
	Duplicates   int
}

// MeanSuggest averages the suggest scores of category ("" for all).
func (r *Report) MeanSuggest(category string) SuggestMean {
	var m SuggestMean
	for _, res := range r.Suggest {
		if category != "" && res.Case.Category != category {
			continue
		}
		m.N++
		m.Recall += res.Recall
		m.NDCG += res.NDCG
		m.Duplicates += res.Duplicates
	}
	if m.N > 0 {
		m.Recall /= float64(m.N)
		m.NDCG /= float64(m.N)
	}
	return m
}

// writeSuggestTable prints the suggest scores per category and overall.
func (r *Report) writeSuggestTable(w io.Writer) error {
	if len(r.Suggest) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nsuggest@%d: %d autocomplete cases (relevance/suggest.json), GET /v1/search/suggest?size=%d\n", K, len(r.Suggest), K)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "category\tcases\tR@10\tnDCG@10\tduplicates\t")
	for _, c := range append(slices.Clone(SuggestCategories), "") {
		m := r.MeanSuggest(c)
		if m.N == 0 {
			continue
		}
		name := c
		if c == "" {
			name = "overall"
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%d\t\n", name, m.N, m.Recall, m.NDCG, m.Duplicates)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "R@%d = distinct relevant titles in the first %d / min(%d, distinct relevant titles); nDCG binary gain; a text shown again (NFC, spaces, case) earns nothing and counts as a duplicate\n", K, K, K)
	return nil
}

// writeSuggestCases prints one line per suggest case.
func (r *Report) writeSuggestCases(w io.Writer) error {
	if len(r.Suggest) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\ttypes\tquery\trelevant titles\tshown\tR/nDCG\tduplicates")
	for _, res := range r.Suggest {
		fmt.Fprintf(tw, "suggest/%s\t%s\t%s\t%d\t%d\t%.2f/%.2f\t%d\n", res.Case.ID, strings.Join(res.Case.Types, ","), res.Case.Q,
			res.Relevant, len(res.Texts), res.Recall, res.NDCG, res.Duplicates)
	}
	return tw.Flush()
}

var _ Suggester = (*API)(nil)
