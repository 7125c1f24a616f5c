package cli

import (
	"bytes"
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// tableWriter aligns tab-separated cells like text/tabwriter, but by the
// width a terminal gives each character: Hangul, CJK and full-width forms
// take two columns (Unicode East Asian Width W and F), combining marks and
// conjoining jamo vowels and finals none. text/tabwriter counts runes, so a
// column of Hangul comes out about half as wide as it looks.
//
// Write buffers; Flush prints every line written since the last Flush. A
// cell ended by a tab is padded to its column's width plus the gap; the last
// cell of a line is not, and a line without tabs is printed as is (a title
// between tables) without widening any column.
type tableWriter struct {
	out io.Writer
	buf bytes.Buffer
	gap int
}

// newTableWriter returns a table writer to out with two spaces between
// columns.
func newTableWriter(out io.Writer) *tableWriter { return &tableWriter{out: out, gap: 2} }

func (t *tableWriter) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes the buffered lines, aligned, and empties the buffer.
func (t *tableWriter) Flush() error {
	text := t.buf.String()
	t.buf.Reset()
	if text == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	rows := make([][]string, len(lines))
	var widths []int
	for i, l := range lines {
		rows[i] = strings.Split(l, "\t")
		for c, cell := range rows[i][:len(rows[i])-1] {
			if c == len(widths) {
				widths = append(widths, 0)
			}
			widths[c] = max(widths[c], displayWidth(cell))
		}
	}
	var b strings.Builder
	for _, cells := range rows {
		var line strings.Builder
		for c, cell := range cells {
			line.WriteString(cell)
			if c < len(cells)-1 {
				line.WriteString(strings.Repeat(" ", widths[c]-displayWidth(cell)+t.gap))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(t.out, b.String())
	return err
}

// displayWidth is the number of terminal columns s takes.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case r >= 0x1160 && r <= 0x11FF, r >= 0xD7B0 && r <= 0xD7FF: // conjoining jamo vowels and finals join the initial
		return 0
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf), unicode.IsControl(r):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
