package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
	"github.com/soomcare/soomcare/internal/testenv"
)

// `soomcare serve` mounts the search API and the OpenAPI document, and its
// answers (health included) match the document.
func TestIntegrationServeMountsSearchAndDocument(t *testing.T) {
	base := startServe(t, "opensearch", testenv.OpenSearchURL(t))
	v := apidoctest.New(t)
	fetch := func(path string) *http.Response {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		v.CheckResponse(t, res)
		return res
	}
	for _, path := range []string{"/healthz", "/readyz", "/openapi.json"} {
		if res := fetch(path); res.StatusCode != http.StatusOK {
			t.Errorf("%s = %d", path, res.StatusCode)
		}
	}
	// Whether the default aliases exist on the shared engine or not, the
	// answer is a page (200) or the envelope (503), never anything else.
	res := fetch("/v1/search?" + url.Values{"q": {"천식"}}.Encode())
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/v1/search = %d", res.StatusCode)
	}
	res = fetch("/v1/search")
	var e struct{ Code string }
	json.NewDecoder(res.Body).Decode(&e)
	if res.StatusCode != http.StatusBadRequest || e.Code != "query_required" {
		t.Errorf("/v1/search without q = %d %q", res.StatusCode, e.Code)
	}
}
