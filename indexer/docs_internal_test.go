package indexer

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// excerptReference is the obvious Excerpt: fold white space, cut by runes,
// trim, mark the cut. Excerpt must agree with it on every input.
func excerptReference(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= ExcerptRunes {
		return text
	}
	r := []rune(text)
	return strings.TrimSpace(string(r[:ExcerptRunes])) + "…"
}

func FuzzExcerpt(f *testing.F) {
	for _, seed := range []string{"", " ", "밤마다 기침", strings.Repeat("가 ", 70), strings.Repeat("가", 119) + " 나",
		strings.Repeat("ab\t\n", 50), "\u3000전각 공백\u00a0", strings.Repeat("가", 120) + "   "} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		if got, want := Excerpt(s), excerptReference(s); got != want {
			t.Errorf("Excerpt(%q) = %q, want %q", s, got, want)
		}
	})
}

// nfc's fast path must never differ from the normaliser: Hangul syllables
// followed by trailing jamo or combining marks, decomposed text, mixed scripts.
func FuzzNFC(f *testing.F) {
	for _, seed := range []string{"천식", "\u1100\u1161\u11a8", "천\u11a8", "e\u0301", "café", "ＡＢＣ", "가\u0300", "FEV1이"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := nfc(s), norm.NFC.String(s); got != want {
			t.Errorf("nfc(%q) = %q, want %q", s, got, want)
		}
	})
}
