package cli

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/dictionary"
)

// `soomcare emails` reports in words and id lists, never Go's
// "rewritten 0 []".
func TestEmailReportText(t *testing.T) {
	tests := []struct {
		name   string
		rep    auth.EmailReport
		apply  bool
		want   []string
		absent []string
	}{
		{"nothing to do", auth.EmailReport{Checked: 12}, false,
			[]string{"checked 12 e-mails", "not in canonical form: none", "collisions: none"}, nil},
		{"dry run", auth.EmailReport{Checked: 12, Pending: []uint64{3, 17}}, false,
			[]string{"not in canonical form: 2 (user ids 3, 17); run with --apply"}, nil},
		{"applied with a collision", auth.EmailReport{Checked: 12, Rewritten: []uint64{3}, Collisions: [][]uint64{{5, 9}}}, true,
			[]string{"rewritten into canonical form: 1 (user ids 3)", "collisions: 1 groups", "  user ids 5, 9", "decide which account"}, nil},
		{"applied, nothing needed", auth.EmailReport{Checked: 2}, true, []string{"rewritten into canonical form: none needed"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := emailReportText(tt.rep, tt.apply)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, bad := range []string{"[]", "[[", "map["} {
				if strings.Contains(got, bad) {
					t.Errorf("Go syntax %q in:\n%s", bad, got)
				}
			}
		})
	}
}

// `soomcare insights` names the problem with the range: a span over the
// limit is not "bad --to" when --to was not even given.
func TestInsightsRangeErrors(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		want   []string
		absent []string
	}{
		{"from far back, no --to", []string{"--from", "2001-01-01"},
			[]string{"the range from --from 2001-01-01 to now (no --to) is", "at most 92", "later --from"}, []string{"bad --to"}},
		{"span over the limit", []string{"--from", "2026-01-01", "--to", "2026-06-30"},
			[]string{"the range from --from 2026-01-01 to --to is 181 days; at most 92"}, nil},
		{"to before from", []string{"--from", "2026-06-01", "--to", "2026-05-01"}, []string{"--to must be after --from"}, nil},
		{"not a date", []string{"--from", "yesterday"}, []string{"--from must be a date such as 2026-12-01"}, nil},
		{"top", []string{"--top", "0"}, []string{"--top must be 1 to 100"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, nil, append([]string{"insights"}, tt.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d: %s", code, ExitUsage, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("lacks %q: %s", w, stderr)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(stderr, a) {
					t.Errorf("has %q: %s", a, stderr)
				}
			}
		})
	}
}

// The first line of `analyze --with-…` says what "MySQL now" is and
// whether the live index was built with those rules.
func TestLiveRulesNote(t *testing.T) {
	now := analyzers.Rules{UserDictionary: []string{"천식", "흡입기"}, Synonyms: []string{"흡입기, inhaler"}}
	older := &dictionary.Live{Physical: "s-contents-1", Created: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Nori: true,
		Rules: analyzers.Rules{UserDictionary: []string{"천식"}, Synonyms: nil}}
	same := &dictionary.Live{Physical: "s-contents-2", Created: time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC), Nori: true, Rules: now}
	tests := []struct {
		name string
		live *dictionary.Live
		want string
	}{
		{"no index", nil, "there is no live index s-contents yet"},
		{"same rules", same, "the live index s-contents-2 (created 2026-12-02 09:00:00Z) was built with these same rules"},
		{"older rules", older, "the live index s-contents-1 (created 2026-12-01 09:00:00Z) was built with different rules (1 dictionary entry and 1 synonym rule differ"},
		{"basic profile", &dictionary.Live{Physical: "s-contents-3", Nori: false}, "was built without nori"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := liveRulesNote("s-contents", tt.live, nil, now)
			if !strings.HasPrefix(got, "MySQL now: the dictionary and synonyms in MySQL now; ") || !strings.Contains(got, tt.want) {
				t.Errorf("%s\nlacks %q", got, tt.want)
			}
		})
	}
}

func TestConditionsNote(t *testing.T) {
	got := conditionsNote(map[string]bool{"[max_size: 1gb]": false, "[max_age: 1d]": true})
	if want := " (conditions: [max_age: 1d] met, [max_size: 1gb] not met)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if conditionsNote(nil) != "" {
		t.Error("no conditions: want nothing")
	}
}

// `analyze --with-…` says why a change cannot be previewed: the engine's
// refusal by its type, the package's own message for a rejected change,
// and the error of a failed analysis as it is.
func TestPreviewErrors(t *testing.T) {
	e := &env{}
	rej := &dictionary.RejectedError{Kind: dictionary.Synonyms, Text: "a, b", Action: dictionary.ActionAdd, Problems: []string{"x"}}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"engine refusal", &dictionary.EngineRefusal{Type: "illegal_argument_exception", Reason: "r"},
			"the engine refuses the rules with this change (illegal_argument_exception); it cannot be saved"},
		{"rejected", rej, rej.Message()},
		{"unknown id", dictionary.ErrNotFound, "no entry or rule with that ID; see 'dict list'"},
		{"mysql", errors.New("mysql: down"), "mysql: down"},
	}
	for _, tt := range tests {
		if got := e.previewError(tt.err); got == nil || got.Error() != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, got, tt.want)
		}
	}
	ae := &dictionary.AnalyzeError{Analyzer: "ko_search", Err: &dictionary.EngineRefusal{Type: "t", Reason: "r"}}
	if want := "analyze with ko_search: dictionary: the engine refused the rules: t: r"; ae.Error() != want {
		t.Errorf("AnalyzeError = %q, want %q", ae.Error(), want)
	}
}
