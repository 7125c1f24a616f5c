// Package relevance measures how well search finds what a user means: a fixed
// set of judged Korean queries (queries.json) over the deterministic demo
// corpus (package seed), run against several search systems in one go, scored
// with recall@10 and nDCG@10 per query category.
//
// Judgments are not lists of document ids. Each query carries a rule (which
// words a relevant document contains), and the relevant set is computed from
// the generated corpus at run time, so the judgments stay valid for any
// corpus the generator makes and anyone can read why a document counts.
package relevance

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/seed"
)

// Grades of relevance, used as gains by nDCG.
const (
	GradeNone  = 0
	GradeBody  = 1 // the rule holds for the document's whole text, not for its title alone
	GradeTitle = 2 // the rule holds for the title alone
)

// Query is one judged query.
type Query struct {
	ID       string `json:"id"`
	Category string `json:"category"`
	Q        string `json:"q"`     // what the user types
	Index    string `json:"index"` // contents | posts: the search the app runs
	Rule     Rule   `json:"rule"`
	Why      string `json:"why"` // the rule and the intent in words
}

// Rule says which documents are relevant to a query, by the words they
// contain. Matching is substring matching on the text lower-cased, so a lemma
// matches every inflected form (천식 in 천식이, 천식은, 천식을) and every
// compound that contains it (천식 in 소아천식); Korean particles and endings
// follow the stem, so no form is missed.
//
// A document is relevant when its text contains at least one word of Any
// (when Any is not empty) and every word of All. The grade is GradeTitle when
// the title alone satisfies the rule, otherwise GradeBody. With
// SameSentence the words must occur together in one sentence (or the title),
// for queries of several words whose meaning needs them together
// (스페이서 세척: washing the spacer, not washing hands in another paragraph).
type Rule struct {
	Any          []string `json:"any,omitempty"`
	All          []string `json:"all,omitempty"`
	SameSentence bool     `json:"same_sentence,omitempty"`
}

// Holds reports whether text (lower-cased) satisfies the rule.
func (r Rule) Holds(text string) bool {
	if len(r.Any) == 0 && len(r.All) == 0 {
		return false
	}
	text = strings.ToLower(text)
	if len(r.Any) > 0 && !slices.ContainsFunc(r.Any, func(w string) bool { return strings.Contains(text, strings.ToLower(w)) }) {
		return false
	}
	for _, w := range r.All {
		if !strings.Contains(text, strings.ToLower(w)) {
			return false
		}
	}
	return true
}

// Grade is the relevance of a document with title and full text (title
// included) under the rule.
func (r Rule) Grade(title, full string) int {
	switch {
	case r.Holds(title):
		return GradeTitle
	case r.SameSentence && slices.ContainsFunc(Sentences(full), r.Holds):
		return GradeBody
	case !r.SameSentence && r.Holds(full):
		return GradeBody
	}
	return GradeNone
}

// Sentences splits text after every '.', '?', '!' and line break, the way
// the generator writes sentences.
func Sentences(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == '.' || r == '?' || r == '!' || r == '\n' })
}

// Doc is a searchable document of the corpus: what the platform indexes.
type Doc struct {
	ID    uint64
	Title string
	Full  string // every text field the platform searches, title first
}

// Searchable returns the documents of index that the indexer makes
// searchable (indexer.ContentDoc, indexer.PostDoc): published, not deleted
// contents; visible, not deleted posts of active authors.
func Searchable(c *seed.Corpus, index string) []Doc {
	var out []Doc
	switch index {
	case mappings.Contents:
		for _, x := range c.Contents {
			if x.Status != "published" || x.DeletedAt != nil {
				continue
			}
			full := strings.Join([]string{x.Title, x.Summary, x.Body, strings.Join(x.Tags, " ")}, "\n")
			out = append(out, Doc{ID: uint64(x.ID), Title: x.Title, Full: full})
		}
	case mappings.Posts:
		active := make(map[int64]bool, len(c.Users))
		for _, u := range c.Users {
			active[u.ID] = u.Status == "active" && u.DeletedAt == nil
		}
		for _, x := range c.Posts {
			if x.Status != "visible" || x.DeletedAt != nil || !active[x.UserID] {
				continue
			}
			out = append(out, Doc{ID: uint64(x.ID), Title: x.Title, Full: x.Title + "\n" + x.Body})
		}
	}
	return out
}

// Judgments are the graded relevant documents of one query (grade > 0 only).
type Judgments map[uint64]int

// Judge applies q's rule to the searchable documents of q's index.
func Judge(docs []Doc, r Rule) Judgments {
	j := Judgments{}
	for _, d := range docs {
		if g := r.Grade(d.Title, d.Full); g > 0 {
			j[d.ID] = g
		}
	}
	return j
}

//go:embed queries.json
var queriesJSON []byte

// Queries returns the embedded judged queries, validated.
func Queries() ([]Query, error) { return ParseQueries(queriesJSON) }

// Categories in table order.
var Categories = []string{"particle", "compound", "synonym", "prefix", "chosung", "typo", "english", "multiword"}

// ParseQueries decodes and checks a query file: unique ids, known
// categories and indices, a non-empty query and rule.
func ParseQueries(b []byte) ([]Query, error) {
	var qs []Query
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var file struct {
		Comment []string `json:"_comment"`
		Queries []Query  `json:"queries"`
	}
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("relevance: queries: %w", err)
	}
	qs = file.Queries
	if err := checkCases("query", Categories, qs, Query.judged); err != nil {
		return nil, fmt.Errorf("relevance: queries: %w", err)
	}
	return qs, nil
}

func (q Query) judged() judgedCase {
	c := judgedCase{ID: q.ID, Category: q.Category, Q: q.Q, Rule: q.Rule, Why: q.Why}
	if q.Index != mappings.Contents && q.Index != mappings.Posts {
		c.Own = fmt.Sprintf("index must be contents or posts, not %q", q.Index)
	}
	return c
}

// judgedCase is what every judged case has: a judged query (queries.json)
// or autocomplete case (suggest.json).
type judgedCase struct {
	ID, Category, Q, Why string
	Rule                 Rule
	Own                  string // the kind's own problem (a query's index, a case's types); "" none
}

// checkCases checks judged cases: a unique id, a known category, the
// kind's own rule, a non-empty query, rule and reason; noun names a case in
// the messages.
func checkCases[T any](noun string, categories []string, items []T, judged func(T) judgedCase) error {
	seen := map[string]bool{}
	var errs []error
	for i, it := range items {
		c := judged(it)
		switch {
		case c.ID == "" || seen[c.ID]:
			errs = append(errs, fmt.Errorf("%s %d: missing or duplicate id %q", noun, i, c.ID))
		case !slices.Contains(categories, c.Category):
			errs = append(errs, fmt.Errorf("%s %s: unknown category %q", noun, c.ID, c.Category))
		case c.Own != "":
			errs = append(errs, fmt.Errorf("%s %s: %s", noun, c.ID, c.Own))
		case strings.TrimSpace(c.Q) == "":
			errs = append(errs, fmt.Errorf("%s %s: empty query", noun, c.ID))
		case len(c.Rule.Any) == 0 && len(c.Rule.All) == 0:
			errs = append(errs, fmt.Errorf("%s %s: empty rule", noun, c.ID))
		case strings.TrimSpace(c.Why) == "":
			errs = append(errs, fmt.Errorf("%s %s: say why (the rule in words)", noun, c.ID))
		}
		seen[c.ID] = true
	}
	return errors.Join(errs...)
}
