package dictionary

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/web"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct {
		kind     Kind
		in, want string
	}{
		{Dictionary, "  소아천식   소아 천식 ", "소아천식 소아 천식"},
		{Synonyms, "흡입기,인헤일러 ,  inhaler", "흡입기, 인헤일러, inhaler"},
		{Synonyms, "childhood   asthma, 소아천식", "childhood asthma, 소아천식"},
		{Synonyms, "a,,b", "a, , b"}, // kept for the check to refuse
	} {
		if got := Normalize(c.kind, c.in); got != c.want {
			t.Errorf("Normalize(%s, %q) = %q, want %q", c.kind, c.in, got, c.want)
		}
	}
}

func TestActorString(t *testing.T) {
	if s := (Actor{UserID: 42}).String(); s != "user:42" {
		t.Errorf("editor = %q", s)
	}
	if s := (Actor{Name: "alice"}).String(); s != "cli:alice" {
		t.Errorf("operator = %q", s)
	}
}

// Each analyzer is built inline with the candidate rules: custom components
// as definitions, built-in ones by name.
func TestInlineAnalyzer(t *testing.T) {
	r := analyzers.Embedded()
	r.Synonyms = append(r.Synonyms, "zzpuff, 흡입")
	req, err := inlineAnalyzer(r, "ko_search")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(req)
	s := string(raw)
	for _, want := range []string{`"type":"nori_tokenizer"`, `"decompound_mode":"discard"`, `"type":"synonym_graph"`, `"zzpuff, 흡입"`,
		`"type":"nori_part_of_speech"`, `"nori_readingform"`, `"lowercase"`, `"type":"mapping"`} {
		if !strings.Contains(s, want) {
			t.Errorf("ko_search inline lacks %s", want)
		}
	}
	req, _ = inlineAnalyzer(r, "ko_index")
	if raw, _ := json.Marshal(req["tokenizer"]); !strings.Contains(string(raw), `"decompound_mode":"mixed"`) {
		t.Error("ko_index is not decompound mixed")
	}
	if _, err := inlineAnalyzer(r, "nope"); err == nil {
		t.Error("an unknown analyzer was built")
	}
}

// Clients get this package's words only: the entry, the kind of problem,
// the plugins; never the engine's or MySQL's messages.
func TestErrorTable(t *testing.T) {
	refusal := &EngineRefusal{Type: "illegal_argument_exception", Reason: "Illegal user dictionary entry 천식약 천식 약약 - the segmentation is bigger than the surface form (천식약)"}
	for _, c := range []struct {
		err    error
		status int
		code   string
		has    []string
		hasnt  []string
	}{
		{&RejectedError{Kind: Dictionary, Text: "천식약 천식 약약", Action: ActionAdd, ByEngine: true, Problems: []string{engineProblem(Dictionary, refusal)}},
			http.StatusBadRequest, CodeRuleRejected, []string{`"천식약 천식 약약"`, "분절", "검색 엔진"}, []string{"Illegal", "exception", "surface form"}},
		{&RejectedError{Kind: Synonyms, Text: "x, y", Action: ActionDelete, Problems: []string{"p"}},
			http.StatusBadRequest, CodeRuleRejected, []string{`"x, y"`, "삭제"}, nil},
		{&PluginMissingError{Engine: "elasticsearch", Missing: []string{"analysis-nori", "analysis-common"}},
			http.StatusConflict, CodePluginMissing, []string{"analysis-nori", "analysis-common", "elasticsearch"}, nil},
		{fmt.Errorf("x: %w", ErrNotFound), http.StatusNotFound, web.CodeNotFound, nil, nil},
		{fmt.Errorf("dictionary: analyze: %w", &engine.StatusError{Status: 503, Reason: "secret node detail"}),
			http.StatusServiceUnavailable, web.CodeUnavailable, nil, []string{"secret"}},
	} {
		var e *web.Error
		if !errors.As(errorTable().Map(c.err), &e) {
			t.Fatalf("%v: not mapped", c.err)
		}
		if web.StatusOf(e) != c.status || e.Code != c.code {
			t.Errorf("%v: %d %s, want %d %s", c.err, web.StatusOf(e), e.Code, c.status, c.code)
		}
		body, _ := json.Marshal(e)
		for _, h := range c.has {
			if !strings.Contains(e.Message, h) {
				t.Errorf("%s lacks %q", body, h)
			}
		}
		for _, h := range c.hasnt {
			if strings.Contains(string(body), h) {
				t.Errorf("%s contains %q", body, h)
			}
		}
	}
}

func TestEngineProblemAndWithhold(t *testing.T) {
	for _, c := range []struct {
		kind   Kind
		reason string
		want   string
	}{
		{Dictionary, "Illegal user dictionary entry 가나 가 나나 - the segmentation is bigger than the surface form (가나)", "분절"},
		{Dictionary, "Found duplicate term [천식] in user dictionary at line [2]", "이미"},
		{Synonyms, "Failed to build synonyms", "동의어"},
		{Dictionary, "something else", "사용자 사전"},
	} {
		if got := engineProblem(c.kind, &EngineRefusal{Reason: c.reason}); !strings.Contains(got, c.want) {
			t.Errorf("%q → %q, want %q", c.reason, got, c.want)
		}
	}
	got := withhold("Illegal user dictionary entry 가나 가 나나 - the segmentation is bigger than the surface form (가나)", "가나 가 나나")
	if strings.Contains(got, "가") || strings.Contains(got, "나") || !strings.Contains(got, "segmentation") {
		t.Errorf("withhold = %q", got)
	}
}

// seedSet is the embedded rules as stored, with ids that are not their
// positions (as after deletions): entry i has id 100+2i, rule i 500+3i.
func seedSet() ruleSet {
	r := analyzers.Embedded()
	rs := ruleSet{}
	for i, e := range r.UserDictionary {
		rs[Dictionary] = append(rs[Dictionary], row{id: uint64(100 + 2*i), text: e})
	}
	for i, e := range r.Synonyms {
		rs[Synonyms] = append(rs[Synonyms], row{id: uint64(500 + 3*i), text: e})
	}
	return rs
}

// idOf is the id of the seed row of kind whose text starts with prefix.
func idOf(t *testing.T, rs ruleSet, k Kind, prefix string) uint64 {
	t.Helper()
	for _, r := range rs[k] {
		if strings.HasPrefix(r.text, prefix) {
			return r.id
		}
	}
	t.Fatalf("no %s starting with %q", k, prefix)
	return 0
}

func TestLocalCheckNamesEveryProblem(t *testing.T) {
	r := seedSet()
	r[Synonyms] = append(r[Synonyms], row{text: "천식, 숨길약"})
	err := localCheck(Synonyms, ActionAdd, "천식, 숨길약", r)
	var rej *RejectedError
	if !errors.As(err, &rej) || len(rej.Problems) != 2 || rej.ByEngine {
		t.Fatalf("localCheck = %#v", err)
	}
	if !strings.Contains(rej.Problems[0]+rej.Problems[1], "겹칩니다") || !strings.Contains(rej.Problems[0]+rej.Problems[1], "사용자 사전") {
		t.Errorf("problems %q", rej.Problems)
	}
	if localCheck(Dictionary, ActionAdd, "", seedSet()) != nil {
		t.Error("the seed is refused")
	}
}

// A refusal names the rules by their ids in MySQL, never by their position
// in the set (which is no id: "entry 250" when there are 249), and a rule
// not saved yet as the new one.
func TestRefusalsNameRealIDs(t *testing.T) {
	seed := seedSet()
	entry := seed[Dictionary][len(seed[Dictionary])/2]
	surface := Surface(entry.text)
	synRule := seed[Synonyms][1]
	term := strings.TrimSpace(strings.Split(synRule.text, ",")[0])
	otherEntry := seed[Dictionary][len(seed[Dictionary])-1]
	tests := []struct {
		name     string
		kind     Kind
		action   string
		id       uint64
		text     string
		want     []string // in the problems
		wantNone []string // never in them
	}{
		{"a new entry repeats one", Dictionary, ActionAdd, 0, surface,
			[]string{"the new dictionary entry", fmt.Sprintf("repeats dictionary entry %d", entry.id)},
			[]string{fmt.Sprintf("entry %d", len(seed[Dictionary])+1)}},
		{"an edit repeats one", Dictionary, ActionEdit, otherEntry.id, surface,
			[]string{fmt.Sprintf("dictionary entry %d %q repeats dictionary entry %d", otherEntry.id, surface, entry.id)},
			[]string{"the new"}},
		{"a new rule repeats a term", Synonyms, ActionAdd, 0, term + ", 숨길약기",
			[]string{fmt.Sprintf("the new synonym rule: term %q already in synonym rule %d", term, synRule.id)},
			[]string{"synonym rule 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand, _, err := apply(seed, tt.kind, tt.action, tt.id, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			var rej *RejectedError
			if err := localCheck(tt.kind, tt.action, tt.text, cand); !errors.As(err, &rej) {
				t.Fatalf("localCheck = %v, want a refusal", err)
			}
			msg := rej.Message()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%s\nlacks %q", msg, w)
				}
			}
			for _, w := range tt.wantNone {
				if strings.Contains(msg, w) {
					t.Errorf("%s\nnames %q", msg, w)
				}
			}
		})
	}
}
