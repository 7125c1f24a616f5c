package hangul_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/soomcare/soomcare/analyzers"
	"github.com/soomcare/soomcare/hangul"
)

// nfd천식 is 천식 in NFD: conjoining jamo, as some keyboards and macOS file
// names produce.
const nfd천식 = "\u110E\u1165\u11AB\u1109\u1175\u11A8"

func TestComposeJamo(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"천식", "천식"},
		{nfd천식, "천식"},
		{"소아 " + nfd천식 + "!", "소아 천식!"},
		{"\u1100\u1161", "가"},             // LV
		{"\u1100\u1161\u11A8", "각"},       // LVT
		{"가\u11A8", "각"},                  // precomposed LV + T
		{"각\u11A8", "각\u11A8"},            // LVT + T stays
		{"\u1100", "\u1100"},              // lone L stays
		{"\u1161", "\u1161"},              // lone V stays
		{"\u1112\u1173\u11B8", "흡"},       // 흡
		{"abc\u1100\u1175xyz", "abc기xyz"}, // mixed
	}
	for _, tt := range tests {
		if got := hangul.ComposeJamo(tt.in); got != tt.want {
			t.Errorf("ComposeJamo(%+q) = %+q, want %+q", tt.in, got, tt.want)
		}
	}
}

func TestChosung(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"천식", "ㅊㅅ"},
		{"소아 천식", "ㅅㅇ ㅊㅅ"},
		{"  소아   천식  ", "ㅅㅇ ㅊㅅ"},
		{"흡입기", "ㅎㅇㄱ"},
		{"까치 떡볶이 쌀 짜장", "ㄲㅊ ㄸㅂㅇ ㅆ ㅉㅈ"},
		{"FEV1 검사", "FEV1 ㄱㅅ"},
		{"천식/알레르기", "ㅊㅅ ㅇㄹㄹㄱ"},
		{"환자·보호자", "ㅎㅈ ㅂㅎㅈ"},
		{"환자ㆍ보호자", "ㅎㅈ ㅂㅎㅈ"},
		{"흡입기(정량식), 스페이서!", "ㅎㅇㄱ ㅈㄹㅅ ㅅㅍㅇㅅ"},
		{"ㅊㅅ", "ㅊㅅ"},
		{"ㄳ", "ㄱㅅ"}, // compound final typed for 감사
		{"ㅄ ㄺ", "ㅂㅅ ㄹㄱ"},
		{"ㅋㅋ 천식ㅠㅠ", "ㅋㅋ ㅊㅅㅠㅠ"},
		{nfd천식, "ㅊㅅ"},
		{"漢字 천식", "漢字 ㅊㅅ"},
		{"\t천식\n관리\r\n", "ㅊㅅ ㄱㄹ"},
		{"가힣", "ㄱㅎ"},
		{"!!!", ""},
	}
	for _, tt := range tests {
		if got := hangul.Chosung(tt.in); got != tt.want {
			t.Errorf("Chosung(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestChosungOfChosungIsIdentity(t *testing.T) {
	for _, entry := range analyzers.UserDictionary() {
		c := hangul.Chosung(entry)
		if again := hangul.Chosung(c); again != c {
			t.Errorf("Chosung(Chosung(%q)) = %q, want %q", entry, again, c)
		}
		if !hangul.IsChosungQuery(c) {
			t.Errorf("IsChosungQuery(Chosung(%q) = %q) = false", entry, c)
		}
	}
}

func TestIsChosungQuery(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ㅊㅅ", true},
		{"ㅅㅇ ㅊㅅ", true},
		{" ㅎㅇㄱ ", true},
		{"ㄲㅆ", true},
		{"ㄳ", true},
		{"ㅎ", true},
		{"", false},
		{"   ", false},
		{"천식", false},
		{"ㅊ식", false},
		{"ㅊㅅ1", false},
		{"ㅏ", false},
		{"ㅊㅏ", false},
		{"abc", false},
		{"ㅊㅅ!", false},
	}
	for _, tt := range tests {
		if got := hangul.IsChosungQuery(tt.in); got != tt.want {
			t.Errorf("IsChosungQuery(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// qwertyCases hold exact conversions, both directions.
var qwertyCases = []struct{ hangul, keys string }{
	{"", ""},
	{"천식", "cjstlr"},
	{"흡입기", "gmqdlqrl"},
	{"아이정식", "dkdlwjdtlr"},
	{"감신", "rkatls"},
	{"소아 천식", "thdk cjstlr"},
	{"벤토린", "qpsxhfls"},
	{"스페이서", "tmvpdltj"},
	// compound vowels
	{"와", "dhk"},
	{"왜", "dho"},
	{"외", "dhl"},
	{"워", "dnj"},
	{"웨", "dnp"},
	{"위", "dnl"},
	{"의", "dml"},
	{"괜찮아", "rhoscksgdk"},
	{"쉬워요", "tnldnjdy"},
	// compound finals, alone and split by a following vowel
	{"몫", "ahrt"},
	{"앉다", "dkswek"},
	{"많이", "aksgdl"},
	{"닭", "ekfr"},
	{"읽어", "dlfrdj"},
	{"삶", "tkfa"},
	{"넓은", "sjfqdms"},
	{"곬", "rhft"},
	{"핥다", "gkfxek"},
	{"읊다", "dmfvek"},
	{"싫어", "tlfgdj"},
	{"값", "rkqt"},
	{"없어", "djqtdj"},
	// double consonants and shifted vowels
	{"까", "Rk"},
	{"따", "Ek"},
	{"빠", "Qk"},
	{"싸", "Tk"},
	{"짜", "Wk"},
	{"얘", "dO"},
	{"예", "dP"},
	{"깎았다", "RkRdkTek"},
	{"있어", "dlTdj"},
	// a final that cannot be one (ㄸ ㅃ ㅉ) starts the next syllable
	{"아따", "dkEk"},
	{"오빠", "dhQk"},
	{"가짜", "rkWk"},
	// finals followed by a consonant-initial syllable
	{"간다", "rksek"},
	{"각사", "rkrtk"},
	{"갃아", "rkrtdk"},
	{"기관지천식", "rlrhkswlcjstlr"},
	// non-letters stay and end the syllable
	{"천식! 123", "cjstlr! 123"},
	{"흡입기·스페이서", "gmqdlqrl·tmvpdltj"},
}

func TestToQwerty(t *testing.T) {
	for _, tt := range qwertyCases {
		if got := hangul.ToQwerty(tt.hangul); got != tt.keys {
			t.Errorf("ToQwerty(%q) = %q, want %q", tt.hangul, got, tt.keys)
		}
	}
	// One-way cases: loose jamo, NFD, and runes copied unchanged.
	oneWay := []struct{ in, want string }{
		{"ㅋㅋ", "zz"},
		{"ㅠㅠ", "bb"},
		{"ㄳ", "rt"},
		{"ㅘ", "hk"},
		{nfd천식, "cjstlr"},
		{"FEV1 검사", "FEV1 rjatk"},
		{"漢字", "漢字"},
	}
	for _, tt := range oneWay {
		if got := hangul.ToQwerty(tt.in); got != tt.want {
			t.Errorf("ToQwerty(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFromQwerty(t *testing.T) {
	for _, tt := range qwertyCases {
		if got := hangul.FromQwerty(tt.keys); got != tt.hangul {
			t.Errorf("FromQwerty(%q) = %q, want %q", tt.keys, got, tt.hangul)
		}
	}
	oneWay := []struct{ in, want string }{
		{"CJSTLR", "천씪"},      // caps lock: T is ㅆ and R is ㄲ, the rest as lower case
		{"Cjstlr", "천식"},      // a phone's capital first letter is harmless
		{"GMQDLQRL", "흐ㅃ이ㅃ끼"}, // Q is ㅃ, which cannot be a final
		{"rt", "ㄱㅅ"},
		{"zz", "ㅋㅋ"},
		{"k", "ㅏ"},
		{"hk", "ㅘ"},
		{"kk", "ㅏㅏ"},
		{"r", "ㄱ"},
		{"rk", "가"},
		{"rkr", "각"},
		{"rkrt", "갃"},
		{"rkrtr", "갃ㄱ"},
		{"cjs", "천"}, // mid-word: the last consonant is held as a final
		{"cjstl", "천시"},
		{"hello", "ㅗ디ㅣㅐ"},
		{"test", "ㅅㄷㄴㅅ"},
		{"the", "솓"},
		{"dkssud", "안녕"},
		{"dkssudgktpdy", "안녕하세요"},
		{"천식", "천식"},     // non-ASCII copied
		{"abc천식", "뮻천식"}, // a → ㅁ, b → ㅠ, c → ㅊ: 뮻
		{"r1k", "ㄱ1ㅏ"},
		{"\xff", "\xff"},
		{"", ""},
	}
	for _, tt := range oneWay {
		if got := hangul.FromQwerty(tt.in); got != tt.want {
			t.Errorf("FromQwerty(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLooksLikeQwertyKorean(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"cjstlr", true},
		{"gmqdlqrl", true},
		{"thdk cjstlr", true},
		{"Cjstlr", true},
		{"dkssudgktpdy", true},
		{"the", true}, // documented false positive
		{"cjs", true},
		{"cjstl", true},
		{"hello", false},
		{"test", false},
		{"inhaler", false},
		{"asthma", false},
		{"ventolin", false},
		{"fev1", false},
		{"cjstlr!", false},
		{"천식", false},
		{"r", false},
		{"rk", true},
		{"", false},
		{"  ", false},
		{"cjstlr 천식", false},
	}
	for _, tt := range tests {
		if got := hangul.LooksLikeQwertyKorean(tt.in); got != tt.want {
			t.Errorf("LooksLikeQwertyKorean(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// dictionaryWords are the surface forms, segments and Korean synonym words of
// package analyzers: the words people will actually type.
func dictionaryWords(t testing.TB) []string {
	t.Helper()
	var words []string
	for _, entry := range analyzers.UserDictionary() {
		words = append(words, strings.Fields(entry)...)
		words = append(words, strings.Join(strings.Fields(entry)[1:], " "))
	}
	for _, rule := range analyzers.Synonyms() {
		for term := range strings.SplitSeq(rule, ",") {
			if term = strings.TrimSpace(term); hangul.IsSyllable([]rune(term)[0]) {
				words = append(words, term)
			}
		}
	}
	slices.Sort(words)
	words = slices.Compact(words)
	if len(words) < 150 {
		t.Fatalf("only %d dictionary words", len(words))
	}
	return words
}

func TestRoundTripDictionary(t *testing.T) {
	for _, w := range dictionaryWords(t) {
		keys := hangul.ToQwerty(w)
		if back := hangul.FromQwerty(keys); back != w {
			t.Errorf("FromQwerty(ToQwerty(%q) = %q) = %q", w, keys, back)
		}
		if w != "" && !hangul.LooksLikeQwertyKorean(keys) {
			t.Errorf("LooksLikeQwertyKorean(ToQwerty(%q) = %q) = false", w, keys)
		}
	}
}

// TestRoundTripEverySyllable covers all 11,172 syllables alone, followed by a
// vowel-initial syllable (the final moves over) and by a consonant-initial one
// (a compound final may form and must split back).
func TestRoundTripEverySyllable(t *testing.T) {
	for r := rune(0xAC00); r <= 0xD7A3; r++ {
		for _, s := range []string{string(r), string(r) + "아", string(r) + "사", string(r) + "가", "와" + string(r)} {
			if back := hangul.FromQwerty(hangul.ToQwerty(s)); back != s {
				t.Fatalf("round trip of %q gave %q (keys %q)", s, back, hangul.ToQwerty(s))
			}
		}
	}
}

// syllablesFromBytes turns arbitrary bytes into complete Hangul syllables, with
// an occasional space, digit or punctuation mark.
func syllablesFromBytes(data []byte) string {
	var b strings.Builder
	for i := 0; i+1 < len(data); i += 2 {
		v := int(data[i])<<8 | int(data[i+1])
		switch v % 64 {
		case 0:
			b.WriteByte(' ')
		case 1:
			b.WriteByte('0' + byte(v%10))
		case 2:
			b.WriteString("·")
		default:
			b.WriteRune(rune(0xAC00 + v%11172))
		}
	}
	return b.String()
}

func FuzzRoundTrip(f *testing.F) {
	for _, seed := range []string{"", "천식", "\x00\x00\xff\xff", "seed corpus: arbitrary bytes", "\xab\xcd\x12\x34\x56\x78"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := syllablesFromBytes(data)
		keys := hangul.ToQwerty(s)
		for i := 0; i < len(keys); i++ {
			if keys[i] >= utf8.RuneSelf && !strings.Contains(s, "·") {
				t.Fatalf("ToQwerty(%q) = %q is not ASCII", s, keys)
			}
		}
		if back := hangul.FromQwerty(keys); back != s {
			t.Fatalf("FromQwerty(ToQwerty(%q) = %q) = %q", s, keys, back)
		}
		if c := hangul.Chosung(s); utf8.RuneCountInString(strings.ReplaceAll(c, " ", "")) > utf8.RuneCountInString(s) {
			t.Fatalf("Chosung(%q) = %q is longer than its input", s, c)
		}
	})
}

const benchText = "소아천식 아이의 흡입스테로이드 사용법: 정량흡입기와 스페이서로 밤에 쌕쌕거림이 심해질 때"

func BenchmarkToQwerty(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		hangul.ToQwerty(benchText)
	}
}

func BenchmarkFromQwerty(b *testing.B) {
	keys := hangul.ToQwerty(benchText)
	b.SetBytes(int64(len(keys)))
	for b.Loop() {
		hangul.FromQwerty(keys)
	}
}

func BenchmarkChosung(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		hangul.Chosung(benchText)
	}
}

func TestAsTyped(t *testing.T) {
	tests := []struct {
		q, want string
		ok      bool
	}{
		{"천식", "천식", true},
		{"cjstlr", "천식", true},                 // English-keyboard input of 천식
		{"cjstlr gmqdlqrl", "천식 흡입기", true},    // every word converted
		{"천식 gmqdlqrl", "천식 흡입기", true},        // mixed
		{"dlTdj", "있어", true},                  // shift: T is ㅆ
		{"ventolin 부작용", "ventolin 부작용", true}, // an English word stays
		{"fev1 정상", "fev1 정상", true},           // not letters only: stays
		{"  천식   운동 ", "천식 운동", true},          // white space folded
		{"ㅊㅅ", "", false},                      // 초성 input
		{"ㅊㅅ 천식", "", false},
		{"천ㅅ", "", false}, // a syllable still being composed
		{"ㅋㅋㅋ", "", false},
		{"", "", false},
		{"\u1109\u1161\u11B7", "삼", true}, // conjoining jamo recomposed
	}
	for _, tt := range tests {
		got, ok := hangul.AsTyped(tt.q)
		if got != tt.want || ok != tt.ok {
			t.Errorf("AsTyped(%q) = %q, %v; want %q, %v", tt.q, got, ok, tt.want, tt.ok)
		}
	}
}
