package seed

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// Templates are plain Korean text with two kinds of {tokens}:
//
//   - a particle token names the form after a final consonant (받침):
//     {은} {이} {을} {과} {으로} {아} {이다}. The form is chosen from the
//     rune written just before the token, so "{drug}{을}" becomes "벤토린을"
//     and "{child}{이}" becomes "딸이" or "아이가";
//   - any other token is a slot, replaced by a random value from the slot
//     table given to expand (a missing slot is a programming error and
//     panics, which the tests catch).
//
// Slot values may not contain tokens themselves; templates stay one level
// deep so that every sentence can be read in the source as it will appear.

// particleForms returns the forms of a particle token after a consonant and
// after a vowel. For 으로/로, a final ㄹ takes the vowel form (서울로, 교실로).
func particleForms(name string) ([2]string, bool) {
	switch name {
	case "은":
		return [2]string{"은", "는"}, true
	case "이":
		return [2]string{"이", "가"}, true
	case "을":
		return [2]string{"을", "를"}, true
	case "과":
		return [2]string{"과", "와"}, true
	case "으로":
		return [2]string{"으로", "로"}, true
	case "아":
		return [2]string{"아", "야"}, true
	case "이다":
		return [2]string{"이다", "다"}, true
	case "이랑":
		return [2]string{"이랑", "랑"}, true
	}
	return [2]string{}, false
}

// slots is a table of slot name to candidate values.
type slots map[string][]string

// expand fills tmpl using rng for slot choices.
func expand(rng *rand.Rand, tmpl string, sl slots) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	var b strings.Builder
	b.Grow(len(tmpl) + 32)
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			panic("seed: unterminated token in template: " + tmpl)
		}
		b.WriteString(tmpl[:i])
		name := tmpl[i+1 : i+j]
		tmpl = tmpl[i+j+1:]
		if forms, ok := particleForms(name); ok {
			b.WriteString(particle(b.String(), forms))
			continue
		}
		vals := sl[name]
		if len(vals) == 0 {
			panic("seed: unknown slot {" + name + "}")
		}
		b.WriteString(vals[rng.IntN(len(vals))])
	}
}

// particle picks the form of a particle that follows text.
func particle(text string, forms [2]string) string {
	final, ok := finalSound(text)
	switch {
	case !ok:
		return forms[1]
	case forms[0] == "으로" && final == 'ㄹ':
		return forms[1]
	case final != 0:
		return forms[0]
	default:
		return forms[1]
	}
}

// finalSound classifies how text ends when read aloud: 0 for a vowel, 'ㄹ'
// for a final ㄹ, 'ㅇ' for any other final consonant; ok is false when it
// cannot tell (punctuation, emoji). A trailing parenthetical is skipped, as
// Korean particles agree with the word before it: 최대호기유량(PEF)을.
// Latin letters and digits are read the Korean way: FEV1 → 일, PEF → 에프,
// ACT → 티, 10 → 십 (read as the last digit: 영).
func finalSound(text string) (rune, bool) {
	text = strings.TrimRight(text, " '\"’”")
	if strings.HasSuffix(text, ")") {
		if i := strings.LastIndexByte(text, '('); i > 0 {
			text = strings.TrimRight(text[:i], " ")
		}
	}
	r, _ := utf8.DecodeLastRuneInString(text)
	switch {
	case r >= 0xAC00 && r <= 0xD7A3:
		switch (r - 0xAC00) % 28 {
		case 0:
			return 0, true
		case 8: // ㄹ
			return 'ㄹ', true
		}
		return 'ㅇ', true
	case r >= '0' && r <= '9':
		switch r {
		case '1', '7', '8': // 일, 칠, 팔
			return 'ㄹ', true
		case '0', '3', '6': // 영, 삼, 육
			return 'ㅇ', true
		}
		return 0, true
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		switch r | 0x20 {
		case 'l', 'r': // 엘, 알
			return 'ㄹ', true
		case 'm', 'n': // 엠, 엔
			return 'ㅇ', true
		}
		return 0, true
	}
	return 0, false
}

// pick returns one element of xs.
func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// sample returns k distinct elements of xs in random order (all of them when
// k >= len(xs)). xs is not modified.
func sample[T any](rng *rand.Rand, xs []T, k int) []T {
	idx := rng.Perm(len(xs))
	if k > len(xs) {
		k = len(xs)
	}
	out := make([]T, k)
	for i := range out {
		out[i] = xs[idx[i]]
	}
	return out
}

// isKorean reports whether s contains at least one Hangul syllable.
func isKorean(s string) bool {
	for _, r := range s {
		if r >= 0xAC00 && r <= 0xD7A3 {
			return true
		}
	}
	return false
}
