package hangul

import (
	"strings"
	"unicode"
)

// Chosung returns the initial consonants (초성) of s, for the `chosung` index
// field and for normalising a 초성 query:
//
//	천식       → ㅊㅅ
//	소아 천식  → ㅅㅇ ㅊㅅ
//	FEV1 검사  → FEV1 ㄱㅅ
//
// The rules, the same at index and at query time:
//   - a Hangul syllable becomes its initial consonant as a compatibility jamo;
//   - a loose consonant jamo is kept, except that a compound final, which can
//     never begin a syllable, is split into its two consonants (ㄳ → ㄱㅅ, so
//     the common "ㄳ" typed for 감사 still matches);
//   - every other letter, digit or combining mark (Latin, loose vowels, Hanja)
//     is kept unchanged — case is not folded, the index lowercases;
//   - anything else (spaces, punctuation, symbols, and ㆍ, an archaic vowel
//     typed as a middle dot) separates words: each run becomes a single space,
//     and the result has no leading or trailing space.
//
// Conjoining jamo (NFD input) are recomposed first, see [ComposeJamo].
func Chosung(s string) string {
	s = ComposeJamo(s)
	var b strings.Builder
	b.Grow(len(s))
	sep := false
	emit := func(r rune) {
		if sep && b.Len() > 0 {
			b.WriteByte(' ')
		}
		sep = false
		b.WriteRune(r)
	}
	for _, r := range s {
		switch {
		case IsSyllable(r):
			l, _, _ := decompose(r)
			emit(l)
		case isCompatConsonant(r):
			if a, c, ok := splitFinal(r); ok {
				emit(a)
				emit(c)
			} else {
				emit(r)
			}
		case r == araea:
			sep = true // ㆍ is typed as a middle dot, as the index's char filter knows
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			emit(r)
		default:
			sep = true
		}
	}
	return b.String()
}

// araea is ㆍ (U+318D), a letter by Unicode but a middle dot in practice.
const araea = '\u318D'

// IsChosungQuery reports whether q is a 초성 query: it has at least one
// compatibility consonant jamo (ㄱ..ㅎ, double consonants and compound finals
// included) and nothing but such consonants and white space. The search API
// then matches Chosung(q) against the `chosung` field.
func IsChosungQuery(q string) bool {
	seen := false
	for _, r := range q {
		switch {
		case isCompatConsonant(r):
			seen = true
		case unicode.IsSpace(r):
		default:
			return false
		}
	}
	return seen
}
