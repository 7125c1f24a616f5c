package apidoc

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"time"

	"github.com/gin-gonic/gin"
)

// The browsable documentation at GET /docs: Swagger UI (npm package
// swagger-ui-dist, vendored unchanged in docs/vendor by
// scripts/docs-assets.sh, which records version, licence and checksums in
// docs/vendor/VERSION) over /openapi.json. Everything is embedded and served
// by the binary under /docs/assets/: no CDN, nothing fetched elsewhere.

//go:embed docs/index.html docs/docs.js docs/docs.css docs/vendor/*
var docsFiles embed.FS

// DocsCSP is the Content-Security-Policy of the /docs page. It replaces the
// API's `default-src 'none'` (web.SecurityHeaders) for this one answer, and
// allows only what the page uses, all from this origin: the two scripts
// (no inline code, no eval), the style sheets, the document fetched from
// /openapi.json, and the data: images of Swagger UI's style sheet. Nothing
// may frame the page, change its base URL or submit a form from it.
const DocsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// docsAssets are the files under /docs/assets/ (name → embedded path).
var docsAssets = map[string]string{
	"docs.js":                          "docs/docs.js",
	"docs.css":                         "docs/docs.css",
	"swagger-ui-bundle.js":             "docs/vendor/swagger-ui-bundle.js",
	"swagger-ui.css":                   "docs/vendor/swagger-ui.css",
	"swagger-ui-bundle.js.LICENSE.txt": "docs/vendor/swagger-ui-bundle.js.LICENSE.txt",
	"LICENSE":                          "docs/vendor/LICENSE",
	"NOTICE":                           "docs/vendor/NOTICE",
	"VERSION":                          "docs/vendor/VERSION",
}

// MountDocs serves GET /docs and its assets; pass it to server.New beside
// Mount (the page reads /openapi.json). The page is for people, not part of
// the API, so it is not in the OpenAPI document.
func MountDocs(e *gin.Engine) {
	page := mustRead("docs/index.html")
	e.GET("/docs", func(c *gin.Context) {
		c.Header("Content-Security-Policy", DocsCSP)
		serveBytes(c, "text/html; charset=utf-8", "public, max-age=300", page)
	})
	for name, file := range docsAssets {
		b := mustRead(file)
		e.GET("/docs/assets/"+name, func(c *gin.Context) {
			serveBytes(c, contentType(name), "public, max-age=86400", b)
		})
	}
}

// serveBytes answers b with its type, cache policy and a strong ETag, so a
// browser revalidates with If-None-Match and gets 304 (http.ServeContent).
func serveBytes(c *gin.Context, ctype, cache string, b []byte) {
	sum := sha256.Sum256(b)
	h := c.Writer.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(c.Writer, c.Request, "", time.Time{}, bytes.NewReader(b))
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

// mustRead reads an embedded file; the names are compiled in and a test
// serves every one, so a failure is a programming error.
func mustRead(name string) []byte {
	b, err := docsFiles.ReadFile(name)
	if err != nil {
		panic("apidoc: " + err.Error())
	}
	return b
}
