// Package dictionary keeps the search analysis rules editors own in MySQL:
// the nori user dictionary and the synonym_graph rules (the stop tags stay
// embedded in package analyzers). Migration 00042 seeded the tables from the
// embedded files, which are the seed only.
//
// Every change (add, edit, delete) is validated before it is saved, on the
// candidate full set: locally (analyzers.ValidateRules) and by the engine
// itself (_analyze with the candidate rules inline), and is recorded in
// analysis_rule_changes with who and when. Nothing is saved on a refusal.
//
// [Store] is the indexer.RulesSource of every index build: a change goes live
// with `soomcare reindex all` (a new physical index, an alias swap) and is
// undone with `soomcare reindex --rollback`. [API] serves the editors'
// endpoints (/v1/editor/dictionary, /v1/editor/synonyms); the CLI has
// `soomcare dict` and `soomcare synonyms`.
package dictionary

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is which rules a change is about.
type Kind string

// The kinds of rules.
const (
	Dictionary Kind = "dictionary" // nori user dictionary entries ("소아천식 소아 천식")
	Synonyms   Kind = "synonym"    // Solr-format equivalence groups ("흡입기, 인헤일러, inhaler")
)

// label is the kind in the editors' language.
func (k Kind) label() string {
	if k == Synonyms {
		return "동의어 규칙"
	}
	return "사전 항목"
}

// noun is the kind in the check's English messages.
func (k Kind) noun() string {
	if k == Synonyms {
		return "synonym rule"
	}
	return "dictionary entry"
}

// Actions of the audit.
const (
	ActionAdd    = "add"
	ActionEdit   = "edit"
	ActionDelete = "delete"
)

// Item is one dictionary entry or synonym rule.
type Item struct {
	ID        uint64    `json:"id"`
	Text      string    `json:"text"`
	CreatedBy string    `json:"created_by"`
	UpdatedBy string    `json:"updated_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Change is one audit row.
type Change struct {
	ID          uint64
	Kind        Kind
	ItemID      uint64
	Action      string
	Before      *string // nil for an add
	After       *string // nil for a delete
	Actor       string
	ActorUserID *uint64
	At          time.Time
}

// Actor is who makes a change: an editor (UserID) or a CLI operator (Name).
type Actor struct {
	UserID uint64
	Name   string
}

// String is the actor as stored: "user:42" or "cli:alice".
func (a Actor) String() string {
	if a.UserID != 0 {
		return "user:" + strconv.FormatUint(a.UserID, 10)
	}
	return "cli:" + a.Name
}

// Text limits, in characters.
const (
	MaxDictionaryLen = 200
	MaxSynonymLen    = 1000
	maxActorName     = 60
)

// MaxLen is the longest text of kind.
func MaxLen(k Kind) int {
	if k == Synonyms {
		return MaxSynonymLen
	}
	return MaxDictionaryLen
}

// Normalize is the stored form of a rule: white space single-spaced; a
// synonym rule's terms separated by ", ".
func Normalize(k Kind, text string) string {
	if k != Synonyms {
		return strings.Join(strings.Fields(text), " ")
	}
	parts := strings.Split(text, ",")
	for i, p := range parts {
		parts[i] = strings.Join(strings.Fields(p), " ")
	}
	return strings.Join(parts, ", ")
}

// Surface is a dictionary entry's surface form (its first word).
func Surface(entry string) string {
	if f := strings.Fields(entry); len(f) > 0 {
		return f[0]
	}
	return ""
}

// ErrNotFound: no entry or rule with that id.
var ErrNotFound = errors.New("dictionary: not found")

// RejectedError is a change refused by the validation, locally or by the
// engine. Its texts are this package's own, in Korean, safe to show an
// editor: they name the entry and the kind of problem, never the engine's
// message.
type RejectedError struct {
	Kind     Kind
	Text     string   // the entry or rule added, edited or deleted
	Action   string   // ActionAdd, ActionEdit or ActionDelete
	ByEngine bool     // refused by the engine (else by the local checks)
	Problems []string // one line per problem
}

func (e *RejectedError) Error() string {
	by := "local checks"
	if e.ByEngine {
		by = "the engine"
	}
	return fmt.Sprintf("dictionary: %s %s refused by %s: %s", e.Kind, e.Action, by, strings.Join(e.Problems, "; "))
}

// Message is the one-line answer for an editor.
func (e *RejectedError) Message() string {
	verb := map[string]string{ActionAdd: "추가할", ActionEdit: "수정할", ActionDelete: "삭제할"}[e.Action]
	who := ""
	if e.ByEngine {
		who = "검색 엔진(nori)이 거부해 "
	}
	return fmt.Sprintf("%s %q을(를) %s%s 수 없습니다: %s", e.Kind.label(), e.Text, who, verb, strings.Join(e.Problems, " "))
}

// PluginMissingError means the engine lacks the analysis plugins the rules
// need (analysis-nori for the dictionary, analysis-common for synonym_graph),
// so a change can be neither validated nor applied.
type PluginMissingError struct {
	Engine  string   // elasticsearch | opensearch
	Missing []string // plugin (or module) names
}

func (e *PluginMissingError) Error() string {
	return fmt.Sprintf("dictionary: the %s engine lacks %s", e.Engine, strings.Join(e.Missing, ", "))
}

// Message is the answer for an editor, naming the plugins.
func (e *PluginMissingError) Message() string {
	return fmt.Sprintf("검색 엔진(%s)에 %s 플러그인이 없어 사전·동의어를 검증하거나 적용할 수 없습니다. 운영자가 플러그인을 설치하고 search.analysis_profile: nori 로 reindex 해야 합니다.",
		e.Engine, strings.Join(e.Missing, ", "))
}
