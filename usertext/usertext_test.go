package usertext

import (
	"errors"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		oneLine bool
		want    error
	}{
		{"korean", "운동 후 쌕쌕거림", true, nil},
		{"emoji zwj sequence", "가족 👨\u200d👩\u200d👧", true, nil},
		{"newline in body", "첫 줄\n둘째 줄\t끝", false, nil},
		{"newline in one line", "첫 줄\n둘째 줄", true, ErrControl},
		{"nul", "a\x00b", false, ErrControl},
		{"invalid utf-8", "a\xffb", false, ErrEncoding},
		{"replacement char", "a\ufffdb", false, ErrEncoding},
		{"rlo", "관리자\u202e", true, ErrInvisible},
		{"rli isolate", "a\u2067b", true, ErrInvisible},
		{"zero width space", "관\u200b리자", true, ErrInvisible},
		{"hangul filler", "관리자\u3164", true, ErrInvisible},
		{"halfwidth filler", "관리자\uffa0", true, ErrInvisible},
		{"bom", "\ufeff관리자", true, ErrInvisible},
		{"soft hyphen", "관\u00ad리자", true, ErrInvisible},
		{"private use", "a\ue000", true, ErrInvisible},
		{"del", "a\x7fb", true, ErrControl},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.in, tt.oneLine)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Check(%q) = %v, want %v", tt.in, err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Check(%q) = %v, not an ErrInvalid", tt.in, err)
			}
		})
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("천식 pentest", true)
	f.Add("a\u202eb", false)
	f.Fuzz(func(t *testing.T, s string, oneLine bool) {
		if Check(s, oneLine) != nil {
			return
		}
		for _, r := range s {
			if r == 0 || r == '\u202e' || r == '\u3164' || r == '\ufffd' {
				t.Fatalf("Check accepted %q holding %U", s, r)
			}
		}
	})
}

func TestHasControl(t *testing.T) {
	for in, want := range map[string]bool{"천식 흡입기": false, "a\x00": true, "a\nb": true, "a\xffb": true, "a\ufffd": true, "a\u202e": false} {
		if got := HasControl(in); got != want {
			t.Errorf("HasControl(%q) = %v, want %v", in, got, want)
		}
	}
}
