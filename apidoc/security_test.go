package apidoc_test

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/soomcare/soomcare/apidoc/apidoctest"
)

// Every operation says whether it takes the bearer token, so generated
// clients know which calls to authenticate: required on the caller's own
// data (/v1/me), admin and editor routes and every write outside sign-in,
// optional on the reads that show more to an author or an editor, none on
// sign-in, search and health.
func TestEverySecurityIsDeclared(t *testing.T) {
	v := apidoctest.New(t)
	optional := map[string]bool{"getPost": true, "listComments": true, "getContent": true}
	public := map[string]bool{"signUp": true, "login": true, "refreshTokens": true, "logout": true, "oidcNonce": true,
		"oidcLogin": true, "getUploadedImage": true, "searchAll": true, "searchContents": true, "searchPosts": true,
		"searchUsers": true, "suggest": true, "feedPosts": true, "healthz": true, "readyz": true, "openapi": true}
	for path, item := range v.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.Security == nil {
				t.Errorf("%s (%s) declares no security", name, op.OperationID)
				continue
			}
			got := kind(*op.Security)
			want := "required"
			switch {
			case optional[op.OperationID]:
				want = "optional"
			case public[op.OperationID]:
				want = "none"
			}
			if got != want {
				t.Errorf("%s (%s): bearer token %s, want %s", name, op.OperationID, got, want)
			}
			if (strings.HasPrefix(path, "/v1/me") || strings.HasPrefix(path, "/v1/admin") || strings.HasPrefix(path, "/v1/editor")) && got != "required" {
				t.Errorf("%s: a /v1/me, /v1/admin or /v1/editor route must require the token", name)
			}
			if got != "none" && op.Responses.Status(401) == nil {
				t.Errorf("%s takes the token but documents no 401", name)
			}
		}
	}
}

// kind reads a security requirement list: "none" (empty), "required" (only
// bearer) or "optional" (bearer or nothing).
func kind(reqs openapi3.SecurityRequirements) string {
	if len(reqs) == 0 {
		return "none"
	}
	anon, bearer := false, false
	for _, r := range reqs {
		switch {
		case len(r) == 0:
			anon = true
		case len(r) == 1 && r["bearer"] != nil:
			bearer = true
		default:
			return "unexpected"
		}
	}
	switch {
	case anon && bearer:
		return "optional"
	case bearer:
		return "required"
	}
	return "unexpected"
}
