package insights

import (
	"testing"
)

// Queries holding a URL, an e-mail address, a phone number or a blocked
// word are never suggested; ordinary health queries are.
func TestFilterRefusal(t *testing.T) {
	f := NewFilter([]Block{
		{Text: "천식 pentest 오염 테스트", Match: MatchExact},
		{Text: "오염테스트", Match: MatchContains},
		{Text: "miracle cure", Match: MatchContains},
	})
	tests := []struct {
		q, want string
	}{
		// allowed
		{"천식", ""},
		{"성인 천식 증상", ""},
		{"벤토린 부작용", ""},
		{"fev1 정상수치", ""},
		{"흡입기 2회", ""},
		{"vitamin d", ""},
		{"0.5mg 흡입", ""},
		{"class", ""},   // "ass" is no word of it
		{"2024 12", ""}, // six digits
		{"1588-12", ""}, // six digits
		{"cure 천식", ""}, // one word of a two-word block
		{"miracle", ""}, // likewise
		{"scripts", ""}, // Latin words match whole
		{"천식 오염", ""},   // part of a Hangul block
		{"e.g 천식", ""},  // a one-letter "TLD"
		{"천식 pentest", RefuseWord},
		// URLs and domains
		{"천식 pentest 오염 테스트 scam.pentest.example", RefuseURL},
		{"https://a.b", RefuseURL},
		{"http://localhost", RefuseURL},
		{"www.천식", RefuseURL},
		{"naver.com에서 본 천식", RefuseURL},
		{"ｓｃａｍ．ｅｘａｍｐｌｅ", RefuseURL}, // full width, NFKC
		{"천식.한국", RefuseURL},
		{"xn--3e0b707e", RefuseURL},
		// e-mail
		{"me@example.test", RefuseEmail},
		{"문의 abc@naver", RefuseEmail},
		{"문의 abc＠naver.com", RefuseEmail}, // full-width @
		// phone numbers
		{"010-1234-5678", RefusePhone},
		{"01012345678", RefusePhone},
		{"010 1234 5678 연락", RefusePhone},
		{"+82 10-1234-5678", RefusePhone},
		{"+821012345678", RefusePhone},
		{"02-123-4567", RefusePhone},
		{"(02) 123-4567", RefusePhone},
		{"1588-1234", RefusePhone},
		{"010.1234.5678", RefusePhone},
		// blocklist (built in)
		{"바카라 사이트", RefuseWord},
		{"바카라가 뭐예요", RefuseWord}, // a particle attached
		{"바 카 라", RefuseWord},    // spaced out
		{"시알리스 천식", RefuseWord},
		{"viagra", RefuseWord},
		{"VIAGRA 구매", RefuseWord},
		// editors' blocks
		{"천식 pentest 오염 테스트", RefuseRemoved}, // removed exactly (pentest is built in too)
		{"우리집 오염 테스트 결과", RefuseBlocked},
		{"miracle cure for asthma", RefuseBlocked},
	}
	for _, tt := range tests {
		if got := f.Refusal(tt.q); got != tt.want {
			t.Errorf("Refusal(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
	exact := NewFilter([]Block{{Text: "흡입기 가격", Match: MatchExact}})
	for q, want := range map[string]string{"흡입기 가격": RefuseRemoved, "흡입기 가격 비교": "", "흡입기": ""} {
		if got := exact.Refusal(q); got != want {
			t.Errorf("removed: Refusal(%q) = %q, want %q", q, got, want)
		}
	}
}

// Every line of the built-in blocklist is a word the filter refuses.
func TestBlocklistFileLoads(t *testing.T) {
	f := NewFilter(nil)
	if len(f.words) < 30 {
		t.Fatalf("%d words loaded", len(f.words))
	}
	for _, w := range f.words {
		if f.Refusal(w) == "" {
			t.Errorf("blocklist word %q is not refused", w)
		}
	}
}

// The form popular queries are counted and shown in: the Hangul the query
// stands for, lower case, single spaces; 초성 input stands for no word.
func TestSuggestForm(t *testing.T) {
	tests := []struct {
		typed, want string
		ok          bool
	}{
		{"천식", "천식", true},
		{"cjstlr", "천식", true},
		{"  CJSTLR ", "천씪", true}, // case is the keyboard's: shifted T is ㅆ, R ㄲ
		{"gmqdlqrl tkdydqjq", "흡입기 사용법", true},
		{"Ventolin 부작용", "ventolin 부작용", true},
		{"FEV1", "fev1", true},
		{"ㅊㅅ", "", false},
		{"ㅊ", "", false},
		{"천ㅅ", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := SuggestForm(tt.typed)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SuggestForm(%q) = %q, %v; want %q, %v", tt.typed, got, ok, tt.want, tt.ok)
		}
	}
}
