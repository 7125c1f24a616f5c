package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

const (
	readmeMaxLines       = 250
	contributingMaxLines = 200
)

// pages are the markdown files the test checks, relative to the repository.
func pages(t *testing.T) []string {
	t.Helper()
	names, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md", "CONTRIBUTING.md"}
	for _, n := range names {
		out = append(out, filepath.Join("docs", n))
	}
	return out
}

func read(t *testing.T, repoPath string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", repoPath))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFrontDoorsStayShort(t *testing.T) {
	for _, tc := range []struct {
		file string
		max  int
	}{
		{"README.md", readmeMaxLines},
		{"CONTRIBUTING.md", contributingMaxLines},
	} {
		if n := strings.Count(read(t, tc.file), "\n"); n > tc.max {
			t.Errorf("%s has %d lines; at most %d (depth belongs under docs/)", tc.file, n, tc.max)
		}
	}
}

func TestEveryPageLinkedFromReadmeAndBack(t *testing.T) {
	linked := map[string]bool{}
	for _, l := range links(read(t, "README.md")) {
		linked[filepath.Clean(l.path)] = true
	}
	for _, p := range pages(t) {
		if !strings.HasPrefix(p, "docs"+string(filepath.Separator)) {
			continue
		}
		if !linked[p] {
			t.Errorf("README.md does not link %s", p)
		}
		if p == filepath.Join("docs", "first-hour.md") {
			continue // a walkthrough, not a design page
		}
		if !strings.Contains(firstLines(read(t, p), 4), "](../README.md)") {
			t.Errorf("%s: no link back to the README in its opening lines", p)
		}
	}
}

func TestRelativeLinksResolve(t *testing.T) {
	for _, p := range pages(t) {
		for _, l := range links(read(t, p)) {
			target := p // a bare #anchor is in the same file
			if l.path != "" {
				target = filepath.Join(filepath.Dir(p), l.path)
				if _, err := os.Stat(filepath.Join("..", target)); err != nil {
					t.Errorf("%s: link %q: no such file", p, l.raw)
					continue
				}
			}
			if l.anchor == "" || !strings.HasSuffix(target, ".md") {
				continue
			}
			if !anchors(read(t, target))[l.anchor] {
				t.Errorf("%s: link %q: no heading %q in %s", p, l.raw, l.anchor, target)
			}
		}
	}
}

func TestLinksAndAnchors(t *testing.T) {
	text := "See [a](docs/a.md#x-y), `[not](a link)`, [web](https://example.com), [b](#b).\n" +
		"```\n[fenced](nothing.md)\n```\n# Log storage (`soomcare logs …`, `ops/x.yml`)\n## The API's p99 (#13)\n## Dup\n## Dup\n"
	got := links(text)
	if len(got) != 2 || got[0].path != "docs/a.md" || got[0].anchor != "x-y" || got[1].path != "" || got[1].anchor != "b" {
		t.Errorf("links = %+v", got)
	}
	a := anchors(text)
	for _, want := range []string{"log-storage-soomcare-logs--opsxyml", "the-apis-p99-13", "dup", "dup-1"} {
		if !a[want] {
			t.Errorf("anchor %q missing from %v", want, a)
		}
	}
}

type link struct{ raw, path, anchor string }

var (
	linkRE   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	codeRE   = regexp.MustCompile("`[^`\n]*`")
	headRE   = regexp.MustCompile(`^#{1,6} +(.*)$`)
	schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:`)
)

// links returns the relative links of a markdown text, outside code.
func links(text string) []link {
	var out []link
	for _, line := range proseLines(text) {
		for _, m := range linkRE.FindAllStringSubmatch(codeRE.ReplaceAllString(line, ""), -1) {
			raw := m[1]
			if schemeRE.MatchString(raw) {
				continue
			}
			path, anchor, _ := strings.Cut(raw, "#")
			out = append(out, link{raw: raw, path: path, anchor: anchor})
		}
	}
	return out
}

// anchors returns the heading ids GitHub gives a markdown text.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, line := range proseLines(text) {
		m := headRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		id := slug(m[1])
		if n := seen[id]; n > 0 {
			out[id+"-"+strconv.Itoa(n)] = true
		} else {
			out[id] = true
		}
		seen[id]++
	}
	return out
}

func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// proseLines drops fenced code blocks.
func proseLines(text string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out = append(out, line)
		}
	}
	return out
}

func firstLines(text string, n int) string {
	lines := strings.SplitN(text, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
