package apidoc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testenv"
)

// EnvChromium names the browser for TestIntegrationDocsInBrowser; empty
// means `chromium` (Debian's package) on PATH.
const EnvChromium = "SOOMCARE_TEST_CHROMIUM"

// EnvDocsScreenshot, when set, is where the browser test keeps its
// screenshot of /docs (a PNG) for a person to look at.
const EnvDocsScreenshot = "SOOMCARE_TEST_DOCS_SCREENSHOT"

// chromium finds the browser; with integration tests on, a missing one is a
// failure (scripts/testenv.sh up installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	if !testenv.Enabled() {
		t.Skipf("integration test: set %s=1 (the README's test command does)", testenv.EnvIntegration)
	}
	name := os.Getenv(EnvChromium)
	if name == "" {
		name = "chromium"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s=1 but no browser %q: apt-get install chromium (scripts/testenv.sh up does), or set %s", testenv.EnvIntegration, name, EnvChromium)
	}
	return p
}

// runChromium runs headless Chromium on url with args and returns its
// standard output and error (console messages and CSP refusals are logged there).
func runChromium(t *testing.T, bin, url string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000", "--window-size=1280,1600"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// The docs page in a real browser against the real server (security
// headers included): Swagger UI renders the document, every search
// endpoint shows with its summary, and the page's CSP refused nothing.
func TestIntegrationDocsInBrowser(t *testing.T) {
	bin := chromium(t)
	srv := httptest.NewServer(docsServer(t))
	defer srv.Close()

	var doc struct {
		Paths map[string]struct {
			Get *struct {
				Summary string `json:"summary"`
			} `json:"get"`
		} `json:"paths"`
	}
	raw, err := Document()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}

	dom, logs := runChromium(t, bin, srv.URL+"/docs", "--dump-dom")
	if !strings.Contains(dom, `class="swagger-ui`) || !strings.Contains(dom, "opblock") {
		t.Fatalf("Swagger UI did not render the document; DOM:\n%.3000s\nbrowser log:\n%s", dom, logs)
	}
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(dom, " ") // what a reader sees, roughly
	text = strings.Join(strings.Fields(strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "\u200b", "").Replace(text)), " ")
	var searched int
	for path, item := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/search") && !strings.HasSuffix(path, "/search") && path != "/v1/feed/posts" {
			continue
		}
		get := item.Get
		if get == nil || get.Summary == "" {
			t.Errorf("%s: no GET summary in the document", path)
			continue
		}
		searched++
		if !strings.Contains(text, "GET") || !strings.Contains(dom, fmt.Sprintf(`data-path="%s"`, path)) {
			t.Errorf("GET %s is not rendered", path)
		}
		if !strings.Contains(text, get.Summary) {
			t.Errorf("GET %s: summary %q is not on the page", path, get.Summary)
		}
	}
	if searched < 6 {
		t.Errorf("%d search endpoints in the document, want 6", searched)
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "Refused to") {
			t.Errorf("the page's CSP refused something: %s", line)
		}
	}

	shot := os.Getenv(EnvDocsScreenshot)
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "docs.png")
	}
	runChromium(t, bin, srv.URL+"/docs", "--screenshot="+shot, "--hide-scrollbars")
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 20_000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Errorf("screenshot %s: %d bytes, %v (a blank page is a few kB)", shot, len(png), err)
	}
	t.Logf("screenshot of /docs: %s (%d bytes)", shot, len(png))
}
