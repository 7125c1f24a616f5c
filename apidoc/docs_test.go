package apidoc

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/server"
)

// docsServer is the real server (security headers, 404 envelope) with the
// document and the docs page mounted, as `soomcare serve` mounts them.
func docsServer(t testing.TB) http.Handler {
	t.Helper()
	return server.New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.New(slog.DiscardHandler), nil, Mount, MountDocs).Handler()
}

func serve(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// The page carries its own CSP over the API's default-src 'none' (which
// every other answer keeps), the global headers stay, and every script and
// style sheet it names is served from this origin with its type.
func TestDocsPage(t *testing.T) {
	h := docsServer(t)
	rec := serve(h, "/docs")
	if rec.Code != http.StatusOK {
		t.Fatalf("/docs: %d %s", rec.Code, rec.Body)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": DocsCSP,
		"Content-Type":            "text/html; charset=utf-8",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "public, max-age=300",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("/docs %s = %q, want %q", k, got, want)
		}
	}
	if n := len(rec.Header().Values("Content-Security-Policy")); n != 1 {
		t.Errorf("/docs has %d CSP headers, want one", n)
	}
	for _, directive := range []string{"script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(DocsCSP, directive) {
			t.Errorf("CSP lacks %s", directive)
		}
	}
	for _, loose := range []string{"unsafe-inline", "unsafe-eval", "*", "http:", "https:"} {
		if strings.Contains(DocsCSP, loose) {
			t.Errorf("CSP allows %s", loose)
		}
	}
	page := rec.Body.String()
	if strings.Contains(page, "<script>") || strings.Contains(page, " style=") || strings.Contains(page, "://") {
		t.Errorf("the page has inline code, inline style or an absolute URL:\n%s", page)
	}
	for _, asset := range []string{"docs/assets/swagger-ui-bundle.js", "docs/assets/docs.js", "docs/assets/swagger-ui.css", "docs/assets/docs.css"} {
		if !strings.Contains(page, `"`+asset+`"`) {
			t.Errorf("the page does not load %s", asset)
		}
	}
	// Other answers keep the API's policy.
	if got := serve(h, "/openapi.json").Header().Get("Content-Security-Policy"); got != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("/openapi.json CSP = %q", got)
	}
}

func TestDocsAssets(t *testing.T) {
	h := docsServer(t)
	for name, ctype := range map[string]string{
		"swagger-ui-bundle.js":             "text/javascript; charset=utf-8",
		"docs.js":                          "text/javascript; charset=utf-8",
		"swagger-ui.css":                   "text/css; charset=utf-8",
		"docs.css":                         "text/css; charset=utf-8",
		"LICENSE":                          "text/plain; charset=utf-8",
		"NOTICE":                           "text/plain; charset=utf-8",
		"swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
		"VERSION":                          "text/plain; charset=utf-8",
	} {
		rec := serve(h, "/docs/assets/"+name)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("%s: %d, %d bytes", name, rec.Code, rec.Body.Len())
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != ctype {
			t.Errorf("%s: Content-Type %q, want %q (nosniff blocks a wrong one)", name, got, ctype)
		}
		if got := rec.Header().Get("Cache-Control"); got != "public, max-age=86400" {
			t.Errorf("%s: Cache-Control %q", name, got)
		}
		etag := rec.Header().Get("ETag")
		if again := serve(h, "/docs/assets/"+name, "If-None-Match", etag); etag == "" || again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("%s: revalidation with ETag %q gave %d", name, etag, again.Code)
		}
	}
	for _, target := range []string{"/docs/assets/nothing.js", "/docs/assets/../apidoc.go", "/docs/assets/swagger-ui-bundle.js.map", "/docs/vendor/LICENSE"} {
		if rec := serve(h, target); rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", target, rec.Code)
		}
	}
}

// The vendored files are the npm package's, unchanged: their checksums are
// the ones scripts/docs-assets.sh recorded, and every vendored file is served.
func TestDocsVendorChecksums(t *testing.T) {
	version := string(mustRead("docs/vendor/VERSION"))
	sums := map[string]string{}
	for _, line := range strings.Split(version, "\n") {
		if rest, ok := strings.CutPrefix(line, "sha256: "); ok {
			if sum, file, ok := strings.Cut(rest, "  "); ok {
				sums[file] = sum
			}
		}
	}
	if !strings.Contains(version, "package: swagger-ui-dist") || !strings.Contains(version, "license: Apache-2.0") || len(sums) < 5 {
		t.Fatalf("VERSION:\n%s", version)
	}
	entries, err := os.ReadDir("docs/vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "VERSION" {
			continue
		}
		if _, ok := sums[e.Name()]; !ok {
			t.Errorf("docs/vendor/%s has no checksum in VERSION", e.Name())
		}
	}
	for file, want := range sums {
		b, err := docsFiles.ReadFile(filepath.Join("docs/vendor", file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != want {
			t.Errorf("%s was changed after scripts/docs-assets.sh copied it", file)
		}
		if _, served := docsAssets[file]; !served {
			t.Errorf("%s is vendored but not served", file)
		}
	}
}
