package analyzers_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/analyzers"
)

func TestEmbeddedCounts(t *testing.T) {
	if n := len(analyzers.UserDictionary()); n < 150 {
		t.Errorf("user dictionary has %d entries, want >= 150", n)
	}
	if n := len(analyzers.Synonyms()); n < 50 {
		t.Errorf("synonyms have %d groups, want >= 50", n)
	}
	if n := len(analyzers.StopTags()); n == 0 {
		t.Error("no stop tags")
	}
}

func TestEmbeddedValidate(t *testing.T) {
	if err := analyzers.Validate(); err != nil {
		t.Fatalf("Validate() of the embedded files:\n%v", err)
	}
}

func TestEmbeddedLinesAreClean(t *testing.T) {
	for name, lines := range map[string][]string{
		"dictionary": analyzers.UserDictionary(),
		"synonyms":   analyzers.Synonyms(),
		"stop tags":  analyzers.StopTags(),
	} {
		for _, l := range lines {
			if l == "" || strings.HasPrefix(l, "#") || l != strings.TrimSpace(l) || strings.Contains(l, "  ") || strings.ContainsAny(l, "\t\r\n") {
				t.Errorf("%s: unclean line %q", name, l)
			}
		}
	}
}

func TestEmbeddedExamples(t *testing.T) {
	dict := strings.Join(analyzers.UserDictionary(), "\n") + "\n"
	for _, want := range []string{"천식\n", "소아천식 소아 천식\n", "흡입기\n", "벤토린\n", "최대호기유량 최대 호기 유량\n", "집먼지진드기 집먼지 진드기\n"} {
		if !strings.Contains(dict, want) {
			t.Errorf("dictionary lacks %q", strings.TrimSpace(want))
		}
	}
	syn := strings.Join(analyzers.Synonyms(), "\n")
	for _, want := range []string{"흡입기, 인헤일러, inhaler", "호흡곤란, 숨참, 숨가쁨"} {
		if !strings.Contains(syn, want) {
			t.Errorf("synonyms lack %q", want)
		}
	}
	for _, tag := range analyzers.StopTags() {
		if tag == "E" || tag == "J" {
			t.Errorf("short stop tag %q is rejected by Lucene 10", tag)
		}
	}
}

func TestValidateRules(t *testing.T) {
	dict := []string{"천식", "소아천식 소아 천식", "흡입기", "인헤일러", "숨참", "호흡곤란 호흡 곤란"}
	syns := []string{"흡입기, 인헤일러, inhaler", "숨참, 호흡곤란, shortness of breath"}
	tags := []string{"EC", "JKS", "SP"}
	with := func(list []string, more ...string) []string { return append(append([]string(nil), list...), more...) }

	tests := []struct {
		name             string
		dict, syns, tags []string
		want             error // nil: valid
	}{
		{"valid", dict, syns, tags, nil},
		{"empty input", nil, nil, nil, nil},
		{"duplicate entry", with(dict, "천식"), syns, tags, analyzers.ErrDuplicate},
		{"duplicate entry with other segmentation", with(dict, "소아천식 소아천 식"), syns, tags, analyzers.ErrDuplicate},
		{"latin entry", with(dict, "ICS"), syns, tags, analyzers.ErrMalformed},
		{"mixed script entry", with(dict, "FEV1검사"), syns, tags, analyzers.ErrMalformed},
		{"jamo entry", with(dict, "ㅊㅅ"), syns, tags, analyzers.ErrMalformed},
		{"segments do not spell the word", with(dict, "기관지천식 기관지 천"), syns, tags, analyzers.ErrMalformed},
		{"segments too long", with(dict, "기관지천식 기관지 천식들"), syns, tags, analyzers.ErrMalformed},
		{"single segment", with(dict, "기관지천식 기관지천식"), syns, tags, analyzers.ErrMalformed},
		{"empty entry", with(dict, "  "), syns, tags, analyzers.ErrMalformed},
		{"explicit mapping", dict, with(syns, "ics => 흡입기"), tags, analyzers.ErrMalformed},
		{"single term group", dict, with(syns, "천식"), tags, analyzers.ErrMalformed},
		{"empty term", dict, with(syns, "천식, , asthma"), tags, analyzers.ErrMalformed},
		{"upper case english", dict, with(syns, "천식, Asthma"), tags, analyzers.ErrMalformed},
		{"comment character", dict, with(syns, "천식, asthma #x"), tags, analyzers.ErrMalformed},
		{"term in two groups", dict, with(syns, "인헤일러, puffer"), tags, analyzers.ErrDuplicate},
		{"term twice in a group", dict, with(syns, "천식, asthma, asthma"), tags, analyzers.ErrDuplicate},
		{"korean word not in dictionary", dict, with(syns, "천식, 기관지천식"), tags, analyzers.ErrNotInDictionary},
		{"korean word of a phrase not in dictionary", dict, with(syns, "천식, 소아 천식발작"), tags, analyzers.ErrNotInDictionary},
		{"segment is not an entry", dict, with(syns, "천식, 소아"), tags, analyzers.ErrNotInDictionary},
		{"short stop tag", dict, syns, with(tags, "E"), analyzers.ErrStopTag},
		{"unknown stop tag", dict, syns, with(tags, "NNX"), analyzers.ErrStopTag},
		{"lower-case stop tag", dict, syns, with(tags, "ec"), analyzers.ErrStopTag},
		{"noun stop tag", dict, syns, with(tags, "NNG"), analyzers.ErrStopTag},
		{"number stop tag", dict, syns, with(tags, "SN"), analyzers.ErrStopTag},
		{"duplicate stop tag", dict, syns, with(tags, "EC"), analyzers.ErrDuplicate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := analyzers.ValidateRules(tt.dict, tt.syns, tt.tags)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("ValidateRules: unexpected error: %v", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("ValidateRules: error %v, want one wrapping %v", err, tt.want)
			}
		})
	}
}

func TestValidateRulesReportsEveryProblem(t *testing.T) {
	err := analyzers.ValidateRules(
		[]string{"천식", "천식", "ICS"},
		[]string{"천식, 흡입기", "a => b"},
		[]string{"E"},
	)
	for _, want := range []error{analyzers.ErrDuplicate, analyzers.ErrMalformed, analyzers.ErrNotInDictionary, analyzers.ErrStopTag} {
		if !errors.Is(err, want) {
			t.Errorf("error %v does not report %v", err, want)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 5 {
		t.Errorf("got %d problems, want 5:\n%v", n, err)
	}
}
