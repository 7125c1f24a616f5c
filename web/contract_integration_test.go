package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/soomcare/soomcare/web"
)

// invalidRequest is an input that every endpoint able to answer
// validation_failed, bad_cursor or bad_parameter refuses with code.
type invalidRequest struct {
	who          web.Principal
	method, path string
	contentType  string
	body         string
	code         string
}

func (e *appEnv) invalidRequests() []invalidRequest {
	j, vf, bc, bp := "application/json", web.CodeValidationFailed, web.CodeBadCursor, web.CodeBadParameter
	anon := web.Principal{}
	reqs := []invalidRequest{
		{anon, "POST", "/v1/auth/signup", j, `{}`, vf},
		{anon, "POST", "/v1/auth/login", j, `{"password": 7}`, vf},
		{anon, "POST", "/v1/auth/refresh", j, `{}`, vf},
		{anon, "POST", "/v1/auth/logout", j, `{"refresh_token": ""}`, vf},
		{anon, "POST", "/v1/auth/oidc/kakao", j, `{}`, vf},
		{e.user, "POST", "/v1/me/identities/kakao", j, `{"id_token": "x", "nickname": "민지"}`, vf},
		{e.user, "POST", "/v1/posts", j, `{"title": ""}`, vf},
		{e.user, "PATCH", fmt.Sprintf("/v1/posts/%d", e.post), j, `{}`, vf},
		{e.user, "POST", fmt.Sprintf("/v1/posts/%d/comments", e.post), j, `{"body": "", "parent_id": 0}`, vf},
		{e.user, "POST", fmt.Sprintf("/v1/posts/%d/reports", e.post), j, `{"reason": "boring"}`, vf},
		{e.admin, "GET", "/v1/admin/reports?size=0&page=2", "", "", vf},
		{e.admin, "GET", "/v1/admin/reports?cursor=abc", "", "", bc},
		{e.editor, "POST", "/v1/contents", j, `{"status": "live"}`, vf},
		{e.editor, "PATCH", fmt.Sprintf("/v1/contents/%d", e.article), j, `{"tags": 3}`, vf},
		{e.editor, "GET", "/v1/editor/contents?size=ten&status=draft&status=published", "", "", vf},
		{e.editor, "GET", "/v1/editor/contents?cursor=bm90LWpzb24", "", "", bc},
		{e.editor, "POST", "/v1/uploads/images", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n", vf},
		{e.user, "PUT", "/v1/me/action-plan", j, `{"personal_best_lpm": "500"}`, vf},
		{e.user, "POST", "/v1/me/medications", j, `{}`, vf},
		{e.user, "PUT", fmt.Sprintf("/v1/me/medications/%d", e.med), j, `{"name": "x"}`, vf},
		{e.user, "GET", "/v1/me/medications?limit=ten", "", "", vf},
		{e.user, "GET", "/v1/me/medications?cursor=abc", "", "", bc},
		{e.user, "POST", "/v1/me/schedules", j, `{}`, vf},
		{e.user, "PUT", fmt.Sprintf("/v1/me/schedules/%d", e.schedule), j, `{"times": ["25:00"], "weekdays": ["someday"]}`, vf},
		{e.user, "GET", "/v1/me/schedules?limit=ten", "", "", vf},
		{e.user, "GET", "/v1/me/schedules?cursor=abc", "", "", bc},
		{e.user, "POST", "/v1/me/intakes", j, `{}`, vf},
		{e.user, "GET", "/v1/me/intakes?limit=ten&from=x", "", "", vf},
		{e.user, "GET", "/v1/me/intakes?cursor=abc", "", "", bc},
		{e.user, "PUT", "/v1/me/devices", j, `{"token": "short"}`, vf},
		{e.admin, "POST", "/v1/admin/notices", j, `{}`, vf},
		{e.user, "GET", "/v1/me/reports?from=x&to=1999-01-01", "", "", vf},
		{anon, "GET", "/v1/search?q=천식&size=0", "", "", bp},
		{anon, "GET", "/v1/search/suggest?q=천식&types=videos", "", "", bp},
		{anon, "GET", "/v1/contents/search?q=천식&from=yesterday", "", "", bp},
		{anon, "GET", "/v1/contents/search?q=천식&cursor=abc", "", "", bc},
		{anon, "GET", "/v1/posts/search?q=천식&tags=x", "", "", bp},
		{anon, "GET", "/v1/posts/search?q=천식&cursor=abc", "", "", bc},
		{anon, "GET", "/v1/users/search?q=천식&sort=recent", "", "", bp},
		{anon, "GET", "/v1/users/search?q=천식&cursor=abc", "", "", bc},
		{anon, "GET", "/v1/feed/posts?sort=best", "", "", bp},
		{anon, "GET", "/v1/feed/posts?cursor=abc", "", "", bc},
	}
	for kind, id := range map[string]uint64{"symptoms": e.symptom, "peak-flows": e.peak, "act-results": e.act, "health-events": e.event} {
		reqs = append(reqs,
			invalidRequest{e.user, "POST", "/v1/me/" + kind, j, `{"memo": 1}`, vf},
			invalidRequest{e.user, "PUT", fmt.Sprintf("/v1/me/%s/%d", kind, id), j, `{"unknown": 1}`, vf},
			invalidRequest{e.user, "GET", "/v1/me/" + kind + "?limit=ten&to=x", "", "", vf},
			invalidRequest{e.user, "GET", "/v1/me/" + kind + "?cursor=abc", "", "", bc})
	}
	return reqs
}

// Every endpoint that can answer validation_failed, bad_cursor or
// bad_parameter answers invalid input with one schema: the shared
// ErrorEnvelope with its fields ({field, code, message}, at least one), and the
// response matches the endpoint's own OpenAPI description too (send
// validates it).
func TestIntegrationErrorContract(t *testing.T) {
	e := newAppEnv(t)
	schema := e.Validator.Doc.Components.Schemas["ErrorEnvelope"]
	if schema == nil || schema.Value == nil {
		t.Fatal("the OpenAPI document has no ErrorEnvelope schema")
	}
	for _, r := range e.invalidRequests() {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			rec := e.send(t, r.who, r.method, r.path, r.contentType, r.body)
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
			}
			if rec.Code != http.StatusBadRequest || body["code"] != r.code {
				t.Fatalf("%d %s, want 400 %s", rec.Code, rec.Body, r.code)
			}
			if err := schema.Value.VisitJSON(body, openapi3.MultiErrors()); err != nil {
				t.Errorf("%s does not match ErrorEnvelope: %v", rec.Body, err)
			}
			if fields, _ := body["fields"].([]any); len(fields) == 0 {
				t.Errorf("%s names no field", rec.Body)
			}
		})
	}
}
