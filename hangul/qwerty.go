package hangul

import (
	"strings"
	"unicode/utf8"
)

// Keys of the 2-set (두벌식, KS X 5002) keyboard for each jamo index. Shifted
// keys are upper case: ㄲ=R ㄸ=E ㅃ=Q ㅆ=T ㅉ=W ㅒ=O ㅖ=P.
var (
	initialKeys = [lCount]string{
		"r", "R", "s", "e", "E", "f", "a", "q", "Q", "t", "T", "d", "w", "W", "c", "z", "x", "v", "g",
	}
	vowelKeys = [vCount]string{
		"k", "o", "i", "O", "j", "p", "u", "P", "h", "hk", "ho", "hl", "y", "n", "nj", "np", "nl", "b", "m", "ml", "l",
	}
	finalKeys = [tCount]string{
		"", "r", "R", "rt", "s", "sw", "sg", "e", "f", "fr", "fa", "fq", "ft", "fx", "fv", "fg",
		"a", "q", "qt", "t", "T", "d", "w", "c", "z", "x", "v", "g",
	}
)

// ToQwerty returns the Latin keys pressed to type s on a 2-set (두벌식)
// keyboard: 천식 → cjstlr, 흡입기 → gmqdlqrl, 꽃 → Rhkc.
//
// Case is kept: the keys typed with shift (ㄲ ㄸ ㅃ ㅆ ㅉ ㅒ ㅖ) come out as
// R E Q T W O P, so [FromQwerty] can invert the conversion exactly. The
// `qwerty` index field lowercases (a phone capitalises the first letter, and
// a user rarely types the shift), accepting that 까 and 가 meet there; the
// exact conversion is FromQwerty's job at query time.
//
// Syllables and loose compatibility jamo are converted (ㅋㅋ → zz); every
// other rune, ASCII letters included, is copied unchanged, so only strings of
// Hangul (and non-letters) survive the round trip.
func ToQwerty(s string) string {
	s = ComposeJamo(s)
	var b strings.Builder
	b.Grow(len(s) * 2)
	for _, r := range s {
		switch {
		case IsSyllable(r):
			l, v, t := decomposeIndex(r)
			b.WriteString(initialKeys[l])
			b.WriteString(vowelKeys[v])
			b.WriteString(finalKeys[t])
		case isCompatConsonant(r):
			if i := initialIndex(r); i >= 0 {
				b.WriteString(initialKeys[i])
			} else {
				b.WriteString(finalKeys[finalIndex(r)])
			}
		case isCompatVowel(r):
			b.WriteString(vowelKeys[vowelIndex(r)])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// keyJamo maps a Latin key of the 2-set keyboard to its jamo; 0 for a byte
// that is not an ASCII letter. Upper case gives the shifted jamo for
// Q W E R T O P and the plain jamo for every other letter, as a keyboard does.
func keyJamo(c byte) rune {
	switch c {
	case 'Q':
		return 'ㅃ'
	case 'W':
		return 'ㅉ'
	case 'E':
		return 'ㄸ'
	case 'R':
		return 'ㄲ'
	case 'T':
		return 'ㅆ'
	case 'O':
		return 'ㅒ'
	case 'P':
		return 'ㅖ'
	}
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	if c < 'a' || c > 'z' {
		return 0
	}
	r, _ := utf8.DecodeRuneInString(keysToJamo[(c-'a')*compatJamoUTF8Length:])
	return r
}

// keysToJamo holds the jamo of the keys a..z.
const keysToJamo = "ㅁㅠㅊㅇㄷㄹㅎㅗㅑㅓㅏㅣㅡㅜㅐㅔㅂㄱㄴㅅㅕㅍㅈㅌㅛㅋ"

// FromQwerty converts Latin keys typed on a 2-set keyboard back into Hangul,
// composing syllables the way a 두벌식 input method does:
// cjstlr → 천식, gmqdlqrl → 흡입기, dkdlwjdtlr → 아이점식, rkatls → 감신.
//
// The automaton: a consonant after a vowel is held as the final; when a vowel
// follows, the final moves to begin the next syllable, and a compound final
// splits, its second consonant moving (dlfrdj → 읽어); two vowels or two finals
// typed in a row combine when they form a compound (dhk → 와, dlfr → 읽).
// Letters that cannot form a syllable come out as loose compatibility jamo
// (rt → ㄱㅅ). Any rune that is not an ASCII letter ends the syllable being
// composed and is copied unchanged. Upper case follows the keyboard: R → ㄲ but
// A → ㅁ. For every string of Hangul syllables and non-letters s,
// FromQwerty(ToQwerty(s)) == s.
func FromQwerty(s string) string {
	var c composer
	c.b.Grow(len(s) * 2)
	for i := 0; i < len(s); {
		if j := keyJamo(s[i]); j != 0 {
			if isCompatVowel(j) {
				c.vowel(j)
			} else {
				c.consonant(j)
			}
			i++
			continue
		}
		c.flush()
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			c.b.WriteByte(s[i]) // keep invalid UTF-8 bytes as they are
		} else {
			c.b.WriteRune(r)
		}
		i += size
	}
	c.flush()
	return c.b.String()
}

// composer is the state of the 2-set automaton: the compatibility jamo of the
// syllable being typed, 0 where empty. A final is only ever held with an
// initial and a vowel.
type composer struct {
	b       strings.Builder
	l, v, t rune
}

// flush writes the syllable being composed, or its loose jamo.
func (c *composer) flush() {
	if c.l != 0 && c.v != 0 {
		r, _ := compose(c.l, c.v, c.t)
		c.b.WriteRune(r)
	} else {
		if c.l != 0 {
			c.b.WriteRune(c.l)
		}
		if c.v != 0 {
			c.b.WriteRune(c.v)
		}
	}
	c.l, c.v, c.t = 0, 0, 0
}

func (c *composer) consonant(j rune) {
	switch {
	case c.l == 0 && c.v == 0: // empty
		c.l = j
	case c.l == 0 || c.v == 0: // a loose vowel or a lone initial: start over
		c.flush()
		c.l = j
	case c.t == 0: // initial+vowel: hold as final if it can be one
		if finalIndex(j) > 0 {
			c.t = j
		} else {
			c.flush()
			c.l = j
		}
	default: // full syllable: a compound final, or the next syllable
		if f, ok := joinFinal(c.t, j); ok {
			c.t = f
		} else {
			c.flush()
			c.l = j
		}
	}
}

func (c *composer) vowel(j rune) {
	switch {
	case c.t != 0: // the final (or its second half) begins the next syllable
		next := c.t
		if a, b, ok := splitFinal(c.t); ok {
			c.t, next = a, b
		} else {
			c.t = 0
		}
		c.flush()
		c.l, c.v = next, j
	case c.v != 0: // a compound vowel, or a new loose vowel
		if v, ok := joinVowel(c.v, j); ok {
			c.v = v
		} else {
			c.flush()
			c.v = j
		}
	default: // empty or a lone initial
		c.v = j
	}
}

// LooksLikeQwertyKorean reports whether q looks like Korean typed while the
// keyboard was in English mode: it has only ASCII letters and spaces, at least
// two letters, and [FromQwerty] turns every word into complete syllables
// (cjstlr → 천식 yes; hello → ㅗ… no; test → ㅅㄷㄴㅅ no).
//
// It is a heuristic: a few short English words also compose (the → 솓), so the
// search API should add the converted query to the original one rather than
// replace it.
func LooksLikeQwertyKorean(q string) bool {
	letters := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letters++
		case c == ' ' || c == '\t':
		default:
			return false
		}
	}
	if letters < 2 {
		return false
	}
	for _, r := range FromQwerty(q) {
		if !IsSyllable(r) && r != ' ' && r != '\t' {
			return false
		}
	}
	return true
}
