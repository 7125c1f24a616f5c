// Package usertext is the one rule for text that users write (nicknames,
// post titles and bodies, comments, care memos, medication names): what may
// be stored and shown to others, and what never may.
package usertext

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reasons a text is refused; each wraps ErrInvalid.
var (
	ErrInvalid   = errors.New("text holds characters that cannot be stored")
	ErrEncoding  = fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	ErrControl   = fmt.Errorf("%w: a control character", ErrInvalid)
	ErrInvisible = fmt.Errorf("%w: an invisible or direction-changing character", ErrInvalid)
)

// Check refuses invalid UTF-8 (and U+FFFD, what a lossy decoder leaves of
// it), NUL and every other control character (newline, carriage return and
// tab are allowed unless oneLine), format characters that are invisible or
// reorder text (bidi overrides and isolates, zero-width spaces, soft hyphen,
// word joiner, BOM; the zero-width joiner stays for emoji sequences), and
// the Hangul fillers that render as nothing (U+115F, U+1160, U+3164,
// U+FFA0).
func Check(s string, oneLine bool) error {
	if !utf8.ValidString(s) {
		return ErrEncoding
	}
	for _, r := range s {
		if err := checkRune(r, oneLine); err != nil {
			return err
		}
	}
	return nil
}

func checkRune(r rune, oneLine bool) error {
	switch {
	case r == utf8.RuneError:
		return ErrEncoding
	case r == '\n' || r == '\r' || r == '\t':
		if oneLine {
			return ErrControl
		}
		return nil
	case unicode.IsControl(r):
		return ErrControl
	case r == '\u200d': // zero-width joiner: part of emoji sequences
		return nil
	case unicode.Is(unicode.Cf, r), isFiller(r), unicode.Is(unicode.Co, r), unicode.Is(unicode.Cs, r):
		return ErrInvisible
	}
	return nil
}

// isFiller reports the Hangul fillers (letters by category, blank on screen).
func isFiller(r rune) bool {
	return r == '\u115f' || r == '\u1160' || r == '\u3164' || r == '\uffa0'
}

// HasControl reports a control character (NUL, newline, tab included) or
// an invalid byte (U+FFFD) in s: the narrower rule of texts that are not
// prose shown to others (passwords, editors' dictionary and suggestion
// texts), which Check would refuse too.
func HasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0
}
