package hangul

import (
	"strings"
)

// AsTyped is the Hangul a query stands for, the form a popular past query is
// counted and shown in (package insights): every word typed with the keyboard
// in English mode that composes into complete syllables is converted
// ([LooksLikeQwertyKorean]: cjstlr → 천식, dlTdj → 있어), other words are kept
// as they are, and words are joined by one space. ok is false when the result
// still holds loose jamo: pure 초성 input (ㅊㅅ), a syllable still being
// composed (천ㅅ) or keys that form no syllable in a Korean word; such a
// query stands for no word and is left out.
//
// The test is per word, so a few short English words that compose are
// converted too (go → 해); case matters (R is ㄲ), so pass q before
// lower-casing.
func AsTyped(q string) (form string, ok bool) {
	words := strings.Fields(q)
	for i, w := range words {
		if LooksLikeQwertyKorean(w) {
			words[i] = FromQwerty(w)
		}
	}
	form = ComposeJamo(strings.Join(words, " "))
	for _, r := range form {
		if isCompatConsonant(r) || isCompatVowel(r) {
			return "", false
		}
	}
	return form, form != ""
}
