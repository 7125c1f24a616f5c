package apidoc_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/apidoc"
	"github.com/soomcare/soomcare/apidoc/apidoctest"
)

// The merged document loads and passes kin-openapi's validation.
func TestDocumentIsValidOpenAPI(t *testing.T) {
	v := apidoctest.New(t)
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/v1/search", "/v1/contents/search", "/v1/posts/search",
		"/v1/users/search", "/v1/search/suggest", "/v1/feed/posts"} {
		if v.Doc.Paths.Value(p) == nil {
			t.Errorf("path %s is not documented", p)
		}
	}
}

func TestServedDocument(t *testing.T) {
	gin.SetMode(gin.TestMode)
	e := gin.New()
	apidoc.Mount(e)
	v := apidoctest.New(t)
	rec := v.Serve(t, e, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.OpenAPI != "3.0.3" || len(doc.Paths) < 9 {
		t.Fatalf("served document: %v %q %d paths", err, doc.OpenAPI, len(doc.Paths))
	}
}

// The validator is strict where it matters: a leaked field, a missing
// Retry-After, an undocumented status or a non-envelope error all fail.
func TestValidatorCatchesMistakes(t *testing.T) {
	v := apidoctest.New(t)
	req := httptest.NewRequest(http.MethodGet, "/v1/users/search?q=x", nil)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		ok     bool
	}{
		{"public fields", 200, jsonHeader, `{"hits":[{"id":1,"nickname":"고래","bio":""}],"total":{"value":1,"relation":"eq"}}`, true},
		{"a private field", 200, jsonHeader, `{"hits":[{"id":1,"nickname":"고래","bio":"","email":"a@b.c"}]}`, false},
		{"unknown highlight", 200, jsonHeader, `{"hits":[{"id":1,"nickname":"고래","bio":"","highlight":{"email":["x"]}}]}`, false},
		{"envelope", 400, jsonHeader, `{"code":"bad_cursor","message":"…"}`, true},
		{"a code of another status", 400, jsonHeader, `{"code":"unavailable","message":"…"}`, false},
		{"engine detail in the envelope", 503, jsonHeader, `{"code":"unavailable","message":"…","error":"index_not_found"}`, false},
		{"429 without Retry-After", 429, jsonHeader, `{"code":"rate_limited","message":"…"}`, false},
		{"429 with Retry-After", 429, http.Header{"Content-Type": {"application/json"}, "Retry-After": {"3"}}, `{"code":"rate_limited","message":"…"}`, true},
		{"undocumented status", 418, jsonHeader, `{"code":"internal","message":"…"}`, false},
		{"text error", 500, http.Header{"Content-Type": {"text/plain"}}, `oops`, false},
	}
	for _, tt := range tests {
		err := v.Validate(req, tt.status, tt.header, []byte(tt.body))
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if err := v.Validate(httptest.NewRequest(http.MethodGet, "/v1/nowhere", nil), 200, jsonHeader, []byte(`{}`)); err == nil {
		t.Error("an undocumented path passed")
	}
}
