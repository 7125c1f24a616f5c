package cli

import (
	"fmt"
	"strings"
	"testing"
)

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0},
		{"inhaler", 7},
		{"흡입기", 6},
		{"ＡＢＣ", 6},                // full-width Latin
		{"ｶﾀｶﾅ", 4},               // half-width katakana
		{"천식 asthma", 11},         // mixed
		{"\u1112\u1161\u11ab", 2}, // 한 as conjoining jamo (NFD)
		{"e\u0301", 1},            // e + combining acute
	}
	for _, tt := range tests {
		if got := displayWidth(tt.s); got != tt.want {
			t.Errorf("displayWidth(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

// TestTableWriterAlignsHangul: every column starts at the same terminal
// column on every line, whatever mix of Hangul, Latin and full-width text
// the cells before it hold.
func TestTableWriterAlignsHangul(t *testing.T) {
	var b strings.Builder
	w := newTableWriter(&b)
	fmt.Fprintln(w, "ID\tTEXT\tUPDATED BY")
	fmt.Fprintln(w, "1\t소아천식 소아 천식\tcli:alice")
	fmt.Fprintln(w, "12\t흡입기, 인헤일러, inhaler\tuser:42")
	fmt.Fprintln(w, "123\tＦＵＬＬ width\t관리자")
	fmt.Fprintln(w, "(3)")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 5 || lines[4] != "(3)" {
		t.Fatalf("lines:\n%s", b.String())
	}
	// The third column starts where "UPDATED BY" starts in the header.
	want := columnOf(lines[0], "UPDATED BY")
	for i, l := range lines[1:4] {
		cells := strings.Fields(l)
		last := cells[len(cells)-1]
		if got := columnOf(l, last); got != want {
			t.Errorf("line %d: %q starts at column %d, want %d\n%s", i+1, last, got, want, b.String())
		}
	}
	if want != len("123")+2+displayWidth("흡입기, 인헤일러, inhaler")+2 {
		t.Errorf("UPDATED BY at column %d:\n%s", want, b.String())
	}
	for _, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Errorf("trailing space in %q", l)
		}
	}
}

// columnOf is the terminal column at which sub starts in line.
func columnOf(line, sub string) int {
	i := strings.LastIndex(line, sub)
	return displayWidth(line[:i])
}
