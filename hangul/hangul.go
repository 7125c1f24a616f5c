// Package hangul holds the Korean text helpers the search stack computes in Go,
// at index time and at query time: initial-consonant (초성) strings and the
// conversion between Hangul and the Latin keys of a 2-set (두벌식) keyboard.
//
// Everything here is pure Go on modern Hangul (the 11,172 precomposed syllables
// U+AC00–U+D7A3 and the compatibility jamo U+3131–U+3163). Conjoining jamo
// (U+1100 block, what NFD text contains) are first recomposed with
// [ComposeJamo], which is the Hangul part of Unicode NFC; full NFC of other
// scripts is the indexer's job (golang.org/x/text/unicode/norm).
package hangul

import (
	"strings"
	"unicode/utf8"
)

// Precomposed syllable arithmetic (Unicode §3.12).
const (
	sBase  = 0xAC00
	sLast  = 0xD7A3
	lCount = 19
	vCount = 21
	tCount = 28
	nCount = vCount * tCount // syllables per initial consonant

	// Conjoining jamo (NFD).
	lBase = 0x1100
	vBase = 0x1161
	tBase = 0x11A7 // tBase itself means "no final"

	// Compatibility jamo: consonants ㄱ..ㅎ then vowels ㅏ..ㅣ.
	compatFirst          = 'ㄱ' // U+3131
	compatLastConsonant  = 'ㅎ' // U+314E
	compatFirstVowel     = 'ㅏ' // U+314F
	compatLast           = 'ㅣ' // U+3163
	compatJamoUTF8Length = 3
)

// Compatibility jamo in the order of the syllable formula. Every rune is three
// bytes in UTF-8, so a byte index divided by 3 is the jamo index.
const (
	initials = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
	vowels   = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
	finals   = "ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ" // index+1 = final index
)

// IsSyllable reports whether r is a precomposed modern Hangul syllable (가..힣).
func IsSyllable(r rune) bool { return r >= sBase && r <= sLast }

// isCompatConsonant reports whether r is a compatibility consonant jamo ㄱ..ㅎ
// (including double consonants and compound finals such as ㄳ).
func isCompatConsonant(r rune) bool { return r >= compatFirst && r <= compatLastConsonant }

// isCompatVowel reports whether r is a compatibility vowel jamo ㅏ..ㅣ.
func isCompatVowel(r rune) bool { return r >= compatFirstVowel && r <= compatLast }

func jamoIndex(table string, r rune) int {
	if r < compatFirst || r > compatLast {
		return -1
	}
	i := strings.IndexRune(table, r)
	if i < 0 {
		return -1
	}
	return i / compatJamoUTF8Length
}

// initialIndex is the L index of a compatibility consonant, or -1 when it
// cannot begin a syllable (compound finals such as ㄳ).
func initialIndex(r rune) int { return jamoIndex(initials, r) }

// vowelIndex is the V index of a compatibility vowel, or -1.
func vowelIndex(r rune) int { return jamoIndex(vowels, r) }

// finalIndex is the T index (1..27) of a compatibility consonant, or -1 when it
// cannot end a syllable (ㄸ, ㅃ, ㅉ).
func finalIndex(r rune) int {
	i := jamoIndex(finals, r)
	if i < 0 {
		return -1
	}
	return i + 1
}

// decompose splits a syllable into its compatibility jamo; t is 0 when the
// syllable has no final consonant.
func decompose(s rune) (l, v, t rune) {
	i := int(s - sBase)
	l = jamoAt(initials, i/nCount)
	v = jamoAt(vowels, i%nCount/tCount)
	if ti := i % tCount; ti > 0 {
		t = jamoAt(finals, ti-1)
	}
	return l, v, t
}

// jamoAt is the i-th jamo of one of the tables above.
func jamoAt(table string, i int) rune {
	r, _ := utf8.DecodeRuneInString(table[i*compatJamoUTF8Length:])
	return r
}

// decomposeIndex splits a syllable into its L, V and T indexes (T 0 = none).
func decomposeIndex(s rune) (l, v, t int) {
	i := int(s - sBase)
	return i / nCount, i % nCount / tCount, i % tCount
}

// compose builds a syllable from compatibility jamo; t may be 0. It returns
// false when l cannot be an initial, v is not a vowel or t cannot be a final.
func compose(l, v, t rune) (rune, bool) {
	li, vi, ti := initialIndex(l), vowelIndex(v), 0
	if t != 0 {
		ti = finalIndex(t)
	}
	if li < 0 || vi < 0 || ti < 0 {
		return 0, false
	}
	return rune(sBase + li*nCount + vi*tCount + ti), true
}

// joinVowel combines two vowels typed in a row into a compound vowel (ㅗ+ㅏ=ㅘ).
func joinVowel(a, b rune) (rune, bool) {
	switch [2]rune{a, b} {
	case [2]rune{'ㅗ', 'ㅏ'}:
		return 'ㅘ', true
	case [2]rune{'ㅗ', 'ㅐ'}:
		return 'ㅙ', true
	case [2]rune{'ㅗ', 'ㅣ'}:
		return 'ㅚ', true
	case [2]rune{'ㅜ', 'ㅓ'}:
		return 'ㅝ', true
	case [2]rune{'ㅜ', 'ㅔ'}:
		return 'ㅞ', true
	case [2]rune{'ㅜ', 'ㅣ'}:
		return 'ㅟ', true
	case [2]rune{'ㅡ', 'ㅣ'}:
		return 'ㅢ', true
	}
	return 0, false
}

// joinFinal combines two final consonants typed in a row into a compound final
// (ㄹ+ㄱ=ㄺ).
func joinFinal(a, b rune) (rune, bool) {
	switch [2]rune{a, b} {
	case [2]rune{'ㄱ', 'ㅅ'}:
		return 'ㄳ', true
	case [2]rune{'ㄴ', 'ㅈ'}:
		return 'ㄵ', true
	case [2]rune{'ㄴ', 'ㅎ'}:
		return 'ㄶ', true
	case [2]rune{'ㄹ', 'ㄱ'}:
		return 'ㄺ', true
	case [2]rune{'ㄹ', 'ㅁ'}:
		return 'ㄻ', true
	case [2]rune{'ㄹ', 'ㅂ'}:
		return 'ㄼ', true
	case [2]rune{'ㄹ', 'ㅅ'}:
		return 'ㄽ', true
	case [2]rune{'ㄹ', 'ㅌ'}:
		return 'ㄾ', true
	case [2]rune{'ㄹ', 'ㅍ'}:
		return 'ㄿ', true
	case [2]rune{'ㄹ', 'ㅎ'}:
		return 'ㅀ', true
	case [2]rune{'ㅂ', 'ㅅ'}:
		return 'ㅄ', true
	}
	return 0, false
}

// splitFinal is the inverse of joinFinal; ok is false for a simple consonant.
func splitFinal(c rune) (a, b rune, ok bool) {
	switch c {
	case 'ㄳ':
		return 'ㄱ', 'ㅅ', true
	case 'ㄵ':
		return 'ㄴ', 'ㅈ', true
	case 'ㄶ':
		return 'ㄴ', 'ㅎ', true
	case 'ㄺ':
		return 'ㄹ', 'ㄱ', true
	case 'ㄻ':
		return 'ㄹ', 'ㅁ', true
	case 'ㄼ':
		return 'ㄹ', 'ㅂ', true
	case 'ㄽ':
		return 'ㄹ', 'ㅅ', true
	case 'ㄾ':
		return 'ㄹ', 'ㅌ', true
	case 'ㄿ':
		return 'ㄹ', 'ㅍ', true
	case 'ㅀ':
		return 'ㄹ', 'ㅎ', true
	case 'ㅄ':
		return 'ㅂ', 'ㅅ', true
	}
	return 0, 0, false
}

// ComposeJamo recomposes conjoining jamo sequences (U+1100 L, U+1161 V,
// U+11A8 T; what NFD text holds) into precomposed syllables, including a
// precomposed LV syllable followed by a conjoining final. This is exactly the
// Hangul part of Unicode NFC composition; other runes are copied unchanged.
// Strings without conjoining jamo are returned as they are, without copying.
func ComposeJamo(s string) string {
	if !hasConjoining(s) {
		return s
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if isL(r) && i+1 < len(rs) && isV(rs[i+1]) {
			r = rune(sBase + (int(r-lBase)*vCount+int(rs[i+1]-vBase))*tCount)
			i++
		}
		if IsSyllable(r) && (r-sBase)%tCount == 0 && i+1 < len(rs) && isT(rs[i+1]) {
			r += rs[i+1] - tBase
			i++
		}
		out = append(out, r)
	}
	return string(out)
}

func isL(r rune) bool { return r >= lBase && r < lBase+lCount }
func isV(r rune) bool { return r >= vBase && r < vBase+vCount }
func isT(r rune) bool { return r > tBase && r < tBase+tCount }

func hasConjoining(s string) bool {
	for _, r := range s {
		if isL(r) || isV(r) || isT(r) {
			return true
		}
	}
	return false
}
