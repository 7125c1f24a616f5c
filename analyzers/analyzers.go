// Package analyzers holds the Korean analysis data of the search indices as
// text files embedded in the binary: the nori user dictionary of asthma terms
// (userdict_ko.txt), the search-side synonyms (synonyms_ko.txt) and the
// nori_part_of_speech stop tags (stoptags_ko.txt). Package mappings injects
// rules into the index settings.
//
// The dictionary and synonym files are the seed only: migration 00042 copied
// them into MySQL, where editors own them (package dictionary; `soomcare
// dict`, `soomcare synonyms`, /v1/editor/dictionary and /v1/editor/synonyms),
// and index builds read them from there. A test in package dictionary keeps
// the files equal to that seed, so do not edit them. The stop tags stay here.
// [ValidateRules] checks any set of rules for what Elasticsearch or nori would
// reject or silently mangle; every editor change runs it on the candidate set.
package analyzers

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

var (
	//go:embed userdict_ko.txt
	userDictionaryFile string
	//go:embed synonyms_ko.txt
	synonymsFile string
	//go:embed stoptags_ko.txt
	stopTagsFile string
)

// UserDictionary returns the nori user dictionary rules, one entry a string
// ("천식", "소아천식 소아 천식"), ready for the tokenizer's
// user_dictionary_rules: comments and blank lines dropped, white space
// trimmed and single-spaced.
func UserDictionary() []string { return lines(userDictionaryFile) }

// Synonyms returns the Solr-format synonym rules ("흡입기, 인헤일러, inhaler")
// for a synonym_graph filter's synonyms, comments and blank lines dropped.
func Synonyms() []string { return lines(synonymsFile) }

// StopTags returns the nori_part_of_speech stop tags (detailed POS tags).
func StopTags() []string { return lines(stopTagsFile) }

// Rules are the analysis data a new index is built with. The embedded files
// are the seed ([Embedded]); a build may take them from elsewhere (the
// editors' tables in MySQL).
type Rules struct {
	UserDictionary []string // nori user_dictionary_rules
	Synonyms       []string // Solr-format synonym_graph rules
	StopTags       []string // nori_part_of_speech stop tags
}

// Embedded returns the rules of the embedded files.
func Embedded() Rules {
	return Rules{UserDictionary: UserDictionary(), Synonyms: Synonyms(), StopTags: StopTags()}
}

// Validate checks the embedded files, see [ValidateRules].
func Validate() error { return ValidateRules(UserDictionary(), Synonyms(), StopTags()) }

// Problems reported by ValidateRules, matched with errors.Is.
var (
	// ErrMalformed: an entry or rule that does not parse, or a dictionary
	// segmentation that does not spell its surface form.
	ErrMalformed = errors.New("malformed entry")
	// ErrDuplicate: a dictionary surface form, synonym term or stop tag listed
	// twice (compared case-insensitively).
	ErrDuplicate = errors.New("duplicate entry")
	// ErrNotInDictionary: a Korean synonym word missing from the dictionary, so
	// nori may split it and the synonym would not match.
	ErrNotInDictionary = errors.New("synonym word not in user dictionary")
	// ErrStopTag: a stop tag nori does not know, or one that would drop content
	// words (nouns, foreign words, numbers).
	ErrStopTag = errors.New("bad stop tag")
)

// posTags are the detailed tags of Lucene 10's org.apache.lucene.analysis.ko.POS.Tag.
const posTags = "EP EF EC ETN ETM IC JKS JKC JKG JKO JKB JKV JKQ JX JC MAG MAJ MM " +
	"NNG NNP NNB NNBC NP NR SF SH SL SN SP SSC SSO SC SY SE VA VCN VCP VV VX " +
	"XPN XR XSA XSN XSV UNKNOWN UNA NA VSV"

// contentTags must never be stop tags: dropping them loses the words people
// search for.
const contentTags = "NNG NNP NNB NNBC NP NR SL SH SN XR"

// ValidateRules checks a user dictionary, synonym rules and stop tags as
// UserDictionary, Synonyms and StopTags return them. It reports every problem
// found, joined, each wrapping one of ErrMalformed, ErrDuplicate,
// ErrNotInDictionary or ErrStopTag; nil means the rules are fine.
//
// Dictionary entries are Hangul syllables only, optionally followed by two or
// more segments that concatenate to the entry. Synonym rules are
// comma-separated equivalence groups of two or more lower-case terms without
// "=>", each term in one group only, and every word of a term that contains
// Hangul must be a dictionary entry.
func ValidateRules(dictionary, synonyms, stopTags []string) error {
	return ValidateRulesNamed(dictionary, synonyms, stopTags, Names{})
}

// Names names the rules in ValidateRulesNamed's messages: Entry(i) the i-th
// dictionary entry and Rule(i) the i-th synonym rule (0-based), e.g. by
// their database ids. A nil function names by position: "dictionary entry 3",
// "synonym rule 3" (1-based).
type Names struct {
	Entry, Rule func(i int) string
}

func (n Names) entry(i int) string {
	if n.Entry == nil {
		return fmt.Sprintf("dictionary entry %d", i+1)
	}
	return n.Entry(i)
}

func (n Names) rule(i int) string {
	if n.Rule == nil {
		return fmt.Sprintf("synonym rule %d", i+1)
	}
	return n.Rule(i)
}

// ValidateRulesNamed is ValidateRules with the entries and rules named by
// names in the messages.
func ValidateRulesNamed(dictionary, synonyms, stopTags []string, names Names) error {
	var errs []error
	fail := func(kind error, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{kind}, args...)...))
	}
	words := checkDictionary(dictionary, names, fail)
	checkSynonyms(synonyms, words, names, fail)
	checkStopTags(stopTags, fail)
	return errors.Join(errs...)
}

// failFunc records one problem of ValidateRules, wrapping kind.
type failFunc func(kind error, format string, args ...any)

// checkDictionary checks the user dictionary entries and returns its
// lower-cased surface forms, each mapped to its (first) entry's name.
func checkDictionary(dictionary []string, names Names, fail failFunc) map[string]string {
	words := make(map[string]string, len(dictionary)) // lower-cased surface → entry name
	for i, entry := range dictionary {
		n := names.entry(i)
		fields := strings.Fields(entry)
		if len(fields) == 0 {
			fail(ErrMalformed, "%s is empty", n)
			continue
		}
		surface := fields[0]
		if !allHangul(surface) {
			fail(ErrMalformed, "%s %q: surface form must be Hangul syllables only", n, entry)
		}
		switch segments := fields[1:]; {
		case len(segments) == 1:
			fail(ErrMalformed, "%s %q: a segmentation needs at least two segments", n, entry)
		case len(segments) > 1 && strings.Join(segments, "") != surface:
			fail(ErrMalformed, "%s %q: segments do not spell %q", n, entry, surface)
		}
		key := strings.ToLower(surface)
		if first, ok := words[key]; ok {
			fail(ErrDuplicate, "%s %q repeats %s", n, surface, first)
			continue
		}
		words[key] = n
	}
	return words
}

// checkSynonyms checks the synonym rules against each other and against the
// dictionary's surface forms (words, from checkDictionary).
func checkSynonyms(synonyms []string, words map[string]string, names Names, fail failFunc) {
	terms := make(map[string]string, len(synonyms)*3) // term → rule name
	for i, rule := range synonyms {
		n := names.rule(i)
		if strings.Contains(rule, "=>") {
			fail(ErrMalformed, "%s %q: only equivalence groups, no =>", n, rule)
			continue
		}
		parts := strings.Split(rule, ",")
		if len(parts) < 2 {
			fail(ErrMalformed, "%s %q: a group needs at least two terms", n, rule)
		}
		for _, part := range parts {
			checkSynonymTerm(n, rule, part, terms, words, fail)
		}
	}
}

// checkSynonymTerm checks one comma-separated part of synonym rule n and
// records its term in terms.
func checkSynonymTerm(n, rule, part string, terms, words map[string]string, fail failFunc) {
	term := strings.Join(strings.Fields(part), " ")
	switch {
	case term == "":
		fail(ErrMalformed, "%s %q: empty term", n, rule)
		return
	case term != strings.ToLower(term):
		fail(ErrMalformed, "%s: term %q must be lower case", n, term)
	case strings.ContainsAny(term, `\#`):
		fail(ErrMalformed, "%s: term %q has an escape or comment character", n, term)
	}
	if first, ok := terms[term]; ok {
		fail(ErrDuplicate, "%s: term %q already in %s", n, term, first)
	} else {
		terms[term] = n
	}
	for _, w := range strings.Fields(term) {
		if hasHangul(w) {
			if _, ok := words[strings.ToLower(w)]; !ok {
				fail(ErrNotInDictionary, "%s: %q", n, w)
			}
		}
	}
}

// checkStopTags checks that every stop tag is a known, non-content nori tag
// listed once.
func checkStopTags(stopTags []string, fail failFunc) {
	known := strings.Fields(posTags)
	content := strings.Fields(contentTags)
	seenTags := make(map[string]bool, len(stopTags))
	for _, tag := range stopTags {
		switch {
		case !slices.Contains(known, tag):
			fail(ErrStopTag, "%q is not a detailed nori POS tag", tag)
		case slices.Contains(content, tag):
			fail(ErrStopTag, "%q would drop content words", tag)
		}
		if seenTags[strings.ToUpper(tag)] {
			fail(ErrDuplicate, "stop tag %q listed twice", tag)
		}
		seenTags[strings.ToUpper(tag)] = true
	}
}

// lines returns the non-empty lines of a data file that are not comments
// (first non-space rune '#'), trimmed, inner white space single-spaced.
func lines(file string) []string {
	var out []string
	for line := range strings.Lines(file) {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

func allHangul(s string) bool {
	for _, r := range s {
		if r < 0xAC00 || r > 0xD7A3 {
			return false
		}
	}
	return s != ""
}

func hasHangul(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Hangul, r) {
			return true
		}
	}
	return false
}
