package web_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/community"
	"github.com/soomcare/soomcare/content"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/reminder"
	"github.com/soomcare/soomcare/report"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/web"
)

// appEnv is every app API mounted the way `serve` mounts them (auth's
// middleware first), over one scratch database, with a client whose every
// answer is validated against the OpenAPI document. The search API has no
// engine: these tests only send requests it refuses before searching.
type appEnv struct {
	*caretest.Env
	db                   *sql.DB
	user, editor, admin  web.Principal
	post, article        uint64
	symptom, peak, act   uint64
	event, med, schedule uint64
}

func newAppEnv(t *testing.T) *appEnv {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	svc, err := auth.NewService(db, iss, nil, auth.ServiceOptions{RefreshTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC) }
	mounts := []func(*gin.Engine){
		auth.Use(iss),
		auth.NewAPI(svc, auth.APIOptions{}).Mount,
		community.New(db, community.Options{Now: now}).Mount,
		content.New(db, content.Options{UploadDir: t.TempDir(), MaxUploadBytes: 4096, Now: now}).Mount,
		records.New(db, records.Options{Now: now}).Mount,
		medication.New(db, medication.Options{Now: now}).Mount,
		reminder.NewAPI(db, nil, nil, nil).Mount,
		report.New(db, report.Options{Now: now}).Mount,
		searchapi.New(nil, searchapi.Options{IndexPrefix: "test"}).Mount,
	}
	e := &appEnv{Env: caretest.New(t, iss, mounts...), db: db}
	e.user = web.Principal{UserID: caretest.NewUser(t, db, "민지"), Role: web.RoleUser}
	e.editor = web.Principal{UserID: caretest.NewUser(t, db, "편집자"), Role: web.RoleEditor}
	e.admin = web.Principal{UserID: caretest.NewUser(t, db, "관리자"), Role: web.RoleAdmin}
	e.seed(t)
	return e
}

// seed writes one row of every kind the JSON endpoints address by id.
func (e *appEnv) seed(t *testing.T) {
	t.Helper()
	id := func(p web.Principal, path string, body any) uint64 {
		r := e.send(t, p, "POST", path, "application/json", mustJSON(t, body))
		if r.Code != http.StatusCreated {
			t.Fatalf("seed %s: %d %s", path, r.Code, r.Body)
		}
		var v struct {
			ID uint64 `json:"id"`
		}
		json.Unmarshal(r.Body.Bytes(), &v)
		return v.ID
	}
	if r := e.send(t, e.user, "PUT", "/v1/me/action-plan", "application/json", `{"personal_best_lpm": 500}`); r.Code != 200 {
		t.Fatalf("seed plan: %d %s", r.Code, r.Body)
	}
	e.post = id(e.user, "/v1/posts", map[string]any{"category": "일상", "title": "제목", "body": "본문"})
	e.article = id(e.editor, "/v1/contents", map[string]any{"category": "기초", "title": "천식이란", "body": "본문"})
	e.symptom = id(e.user, "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-15T08:00:00+09:00", "severity": 1})
	e.peak = id(e.user, "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-15T08:00:00+09:00", "value_lpm": 400, "slot": "morning"})
	e.act = id(e.user, "/v1/me/act-results", map[string]any{"recorded_at": "2024-03-15T08:00:00+09:00", "answers": []int{4, 4, 4, 4, 4}})
	e.event = id(e.user, "/v1/me/health-events", map[string]any{"kind": "er_visit", "start_date": "2024-03-10"})
	e.med = id(e.user, "/v1/me/medications", map[string]any{"name": "심비코트", "role": "controller", "form": "inhaler", "dose": 160, "dose_unit": "mcg"})
	e.schedule = id(e.user, "/v1/me/schedules", map[string]any{"medication_id": e.med, "times": []string{"08:00"}})
}

// send serves one request as p (zero: anonymous); the answer is validated
// against the OpenAPI document.
func (e *appEnv) send(t *testing.T, p web.Principal, method, path, contentType, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if p.UserID != 0 {
		req.Header.Set("Authorization", authtest.Bearer(t, e.Issuer, p))
	}
	return e.Validator.Serve(t, e.Handler, req)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checksum is a checksum of every table of the scratch database.
func checksum(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, "`"+n+"`")
	}
	rows.Close()
	var b strings.Builder
	cs, err := db.Query("CHECKSUM TABLE " + strings.Join(names, ", "))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	for cs.Next() {
		var name string
		var sum sql.NullInt64
		cs.Scan(&name, &sum)
		fmt.Fprintf(&b, "%s=%d ", name, sum.Int64)
	}
	return b.String()
}

// jsonEndpoint is an endpoint that takes a JSON body.
type jsonEndpoint struct {
	who          web.Principal
	method, path string
}

func (e *appEnv) jsonEndpoints() []jsonEndpoint {
	list := []jsonEndpoint{
		{web.Principal{}, "POST", "/v1/auth/signup"},
		{web.Principal{}, "POST", "/v1/auth/login"},
		{web.Principal{}, "POST", "/v1/auth/refresh"},
		{web.Principal{}, "POST", "/v1/auth/logout"},
		{web.Principal{}, "POST", "/v1/auth/oidc/kakao"},
		{e.user, "POST", "/v1/me/identities/kakao"},
		{e.user, "POST", "/v1/posts"},
		{e.user, "PATCH", fmt.Sprintf("/v1/posts/%d", e.post)},
		{e.user, "POST", fmt.Sprintf("/v1/posts/%d/comments", e.post)},
		{e.user, "POST", fmt.Sprintf("/v1/posts/%d/reports", e.post)},
		{e.editor, "POST", "/v1/contents"},
		{e.editor, "PATCH", fmt.Sprintf("/v1/contents/%d", e.article)},
		{e.user, "PUT", "/v1/me/action-plan"},
		{e.user, "POST", "/v1/me/medications"},
		{e.user, "PUT", fmt.Sprintf("/v1/me/medications/%d", e.med)},
		{e.user, "POST", "/v1/me/schedules"},
		{e.user, "PUT", fmt.Sprintf("/v1/me/schedules/%d", e.schedule)},
		{e.user, "POST", "/v1/me/intakes"},
		{e.user, "PUT", "/v1/me/devices"},
		{e.admin, "POST", "/v1/admin/notices"},
	}
	for kind, id := range map[string]uint64{"symptoms": e.symptom, "peak-flows": e.peak, "act-results": e.act, "health-events": e.event} {
		list = append(list,
			jsonEndpoint{e.user, "POST", "/v1/me/" + kind},
			jsonEndpoint{e.user, "PUT", fmt.Sprintf("/v1/me/%s/%d", kind, id)})
	}
	return list
}

// A body that is JSON but not an object — null included — is a 400
// bad_request on every JSON endpoint and changes nothing (until 2026-12-08
// the care endpoints answered validation_failed). Before, PUT /v1/me/action-plan with
// null answered 200 and erased the personal best (after which new peak
// flows got no zone).
func TestIntegrationNonObjectBodies(t *testing.T) {
	e := newAppEnv(t)
	before := checksum(t, e.db)
	for _, ep := range e.jsonEndpoints() {
		for _, body := range []string{`null`, ` null `, `[]`, `[{"personal_best_lpm": 500}]`, `"x"`, `42`, `true`} {
			t.Run(ep.method+" "+ep.path+" "+body, func(t *testing.T) {
				r := e.send(t, ep.who, ep.method, ep.path, "application/json", body)
				var got web.Error
				json.Unmarshal(r.Body.Bytes(), &got)
				if r.Code != http.StatusBadRequest || got.Code != web.CodeBadRequest || len(got.Fields) != 1 || got.Fields[0].Field != "body" || got.Fields[0].Code != web.FieldInvalidType {
					t.Errorf("%d %s, want 400 bad_request with the field error body/invalid_type", r.Code, r.Body)
				}
			})
		}
	}
	if after := checksum(t, e.db); after != before {
		t.Errorf("the database changed:\nbefore %s\nafter  %s", before, after)
	}
	r := e.send(t, e.user, "GET", "/v1/me/action-plan", "", "")
	if !strings.Contains(r.Body.String(), `"personal_best_lpm":500`) {
		t.Errorf("plan after the null bodies: %s", r.Body)
	}
}
