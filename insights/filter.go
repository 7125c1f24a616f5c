package insights

import (
	"bufio"
	"bytes"
	_ "embed"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/soomcare/soomcare/hangul"
	"github.com/soomcare/soomcare/searchapi"
)

// blocklistFile is the built-in list of words that keep a query out of
// suggestions; editors' blocks (Block) add to it at run time.
//
//go:embed data/suggest_blocklist.txt
var blocklistFile []byte

// Reasons a popular query is never suggested (Filter.Refusal).
const (
	RefuseURL     = "url"       // a URL or a domain name (scam.example, www., https://)
	RefuseEmail   = "email"     // an e-mail address (anything@anything)
	RefusePhone   = "phone"     // eight or more digits in a row, separators allowed (010-1234-5678, +82 …)
	RefuseWord    = "blocklist" // a word of data/suggest_blocklist.txt
	RefuseRemoved = "removed"   // an editor removed this query (a Block matching exact)
	RefuseBlocked = "blocked"   // it holds a text an editor blocked (a Block matching contains)
)

// MinPhoneDigits is how many digits in a row make a phone number: Korean
// numbers have 8 (1588-1234) to 11 (010-1234-5678), more with +82.
const MinPhoneDigits = 8

// The patterns run on the NFKC, lower-cased query (fold), so full-width
// forms (ｗｗｗ．, ＠) are caught too.
var (
	urlPattern    = regexp.MustCompile(`[a-z][a-z0-9+.-]*://|www\.|xn--`)
	domainPattern = regexp.MustCompile(`[\p{L}\p{N}_-]+(\.[\p{L}\p{N}_-]+)*\.([a-z]{2,}\b|한국|닷컴|닷넷)`)
	emailPattern  = regexp.MustCompile(`[^\s@]+@[^\s@]+`)
	digitsPattern = regexp.MustCompile(`\+?\d[\d\s().-]*\d`)
)

// Filter decides which popular queries may be suggested to everyone. It is
// immutable: a change of the editors' blocks makes a new one (NewFilter).
type Filter struct {
	words   []string        // the built-in blocklist, folded
	removed map[string]bool // exact blocks, in SuggestForm
	blocked []string        // contains blocks, folded
}

// NewFilter returns the filter of the built-in blocklist and blocks.
func NewFilter(blocks []Block) *Filter {
	f := &Filter{removed: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(blocklistFile))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			f.words = append(f.words, fold(w))
		}
	}
	for _, b := range blocks {
		if b.Match == MatchExact {
			f.removed[b.Text] = true
		} else {
			f.blocked = append(f.blocked, fold(b.Text))
		}
	}
	return f
}

// Refusal is why text (a query in SuggestForm) is never suggested, or "".
func (f *Filter) Refusal(text string) string {
	if reason := Unsafe(text); reason != "" {
		return reason
	}
	if f.removed[text] {
		return RefuseRemoved
	}
	folded := fold(text)
	for _, w := range f.words {
		if containsText(folded, w) {
			return RefuseWord
		}
	}
	for _, b := range f.blocked {
		if containsText(folded, b) {
			return RefuseBlocked
		}
	}
	return ""
}

// Unsafe is RefuseURL, RefuseEmail or RefusePhone when text holds a URL,
// a domain name, an e-mail address or a phone number; "" otherwise.
func Unsafe(text string) string {
	s := fold(text)
	switch {
	case emailPattern.MatchString(s):
		return RefuseEmail
	case urlPattern.MatchString(s) || domainPattern.MatchString(s):
		return RefuseURL
	}
	for _, run := range digitsPattern.FindAllString(s, -1) {
		if countDigits(run) >= MinPhoneDigits {
			return RefusePhone
		}
	}
	return ""
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// fold is the form texts are compared in: NFKC, lower case.
func fold(s string) string { return strings.ToLower(norm.NFKC.String(s)) }

// containsText reports whether folded query q holds folded text t: a text
// with Hangul anywhere in q with spaces removed (Korean attaches particles:
// 바카라가), a text of other letters and digits as whole words only (ass is
// not in class).
func containsText(q, t string) bool {
	if strings.IndexFunc(t, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) >= 0 {
		return strings.Contains(strings.Join(strings.Fields(q), ""), strings.Join(strings.Fields(t), ""))
	}
	tw := words(t)
	return tw != "" && strings.Contains(" "+words(q)+" ", " "+tw+" ")
}

// words is s's runs of letters and digits, one space apart.
func words(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }), " ")
}

// SuggestForm is the form a query is counted and suggested in: the Hangul
// it stands for (hangul.AsTyped: cjstlr → 천식) in searchapi.QueryKey form.
// ok is false for a query that stands for no word (ㅊㅅ): it is never
// counted as popular.
func SuggestForm(typed string) (string, bool) {
	form, ok := hangul.AsTyped(typed)
	if !ok {
		return "", false
	}
	key := searchapi.QueryKey(form)
	return key, key != ""
}
