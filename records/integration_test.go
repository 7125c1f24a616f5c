package records_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/auth/authtest"
	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/web"
)

var now = time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) (*caretest.Env, uint64, uint64, func(string, uint64) int) {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	api := records.New(db, records.Options{Auth: caretest.Auth(iss), Now: func() time.Time { return now }})
	env := caretest.New(t, iss, api.Mount)
	a, b := caretest.NewUser(t, db, "민지"), caretest.NewUser(t, db, "서준")
	return env, a, b, func(table string, u uint64) int { return caretest.Count(t, db, table, u) }
}

func TestRecordsCRUDAndOwnership(t *testing.T) {
	env, a, b, count := setup(t)

	// Plan: default, then a personal best of 500.
	r := env.Do(t, a, "GET", "/v1/me/action-plan", nil)
	caretest.Expect(t, r, 200, "")
	if m := r.Map(t); m["time_zone"] != "Asia/Seoul" || m["personal_best_lpm"] != nil {
		t.Fatalf("default plan = %v", m)
	}
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/action-plan", map[string]any{"personal_best_lpm": 500, "time_zone": "Asia/Seoul"}), 200, "")

	// Symptoms.
	r = env.Do(t, a, "POST", "/v1/me/symptoms", map[string]any{
		"recorded_at": "2024-03-14T23:30:00+09:00", "severity": 2, "night_waking": true,
		"triggers": []string{"미세먼지", "감기"}, "memo": "밤에 기침",
	})
	caretest.Expect(t, r, 201, "")
	var s records.Symptom
	r.JSON(t, &s)
	if s.Severity != 2 || !s.NightWaking || len(s.Triggers) != 2 || !s.RecordedAt.Equal(time.Date(2024, 3, 14, 14, 30, 0, 0, time.UTC)) {
		t.Fatalf("symptom = %+v", s)
	}
	// Peak flow: 399 of 500 = 79 % → yellow; 420 → 84 % green.
	r = env.Do(t, a, "POST", "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-15T07:00:00+09:00", "value_lpm": 399, "slot": "morning"})
	caretest.Expect(t, r, 201, "")
	var p records.PeakFlow
	r.JSON(t, &p)
	if p.Zone == nil || *p.Zone != "yellow" || *p.PercentOfBest != 79 || *p.PersonalBestLPM != 500 {
		t.Fatalf("peak flow = %+v", p)
	}
	// ACT 4+4+4+4+3 = 19: not well controlled.
	r = env.Do(t, a, "POST", "/v1/me/act-results", map[string]any{"recorded_at": "2024-03-15T09:00:00+09:00", "answers": []int{4, 4, 4, 4, 3}})
	caretest.Expect(t, r, 201, "")
	var act records.ACTResult
	r.JSON(t, &act)
	if act.Total != 19 || act.Control != records.ACTNotWell {
		t.Fatalf("act = %+v", act)
	}
	r = env.Do(t, a, "POST", "/v1/me/health-events", map[string]any{"kind": "oral_steroid", "start_date": "2024-03-10", "end_date": "2024-03-14"})
	caretest.Expect(t, r, 201, "")
	var ev records.HealthEvent
	r.JSON(t, &ev)

	// Lists, in the user's days.
	r = env.Do(t, a, "GET", "/v1/me/symptoms?from=2024-03-14&to=2024-03-15", nil)
	caretest.Expect(t, r, 200, "")
	if items := r.Map(t)["items"].([]any); len(items) != 1 {
		t.Fatalf("list = %s", r.Body)
	}
	r = env.Do(t, a, "GET", "/v1/me/symptoms?from=2024-03-15&to=2024-03-15", nil)
	if items := r.Map(t)["items"].([]any); len(items) != 0 {
		t.Fatalf("23:30 KST on the 14th is not on the 15th: %s", r.Body)
	}
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/health-events?from=2024-03-01&to=2024-03-31", nil), 200, "")
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/act-results", nil), 200, "")
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/peak-flows", nil), 200, "")

	// B sees and deletes none of A's records: 404, as if they did not exist.
	for _, path := range []string{
		"/v1/me/symptoms/" + itoa(s.ID), "/v1/me/peak-flows/" + itoa(p.ID),
		"/v1/me/act-results/" + itoa(act.ID), "/v1/me/health-events/" + itoa(ev.ID),
	} {
		caretest.Expect(t, env.Do(t, b, "GET", path, nil), 404, "not_found")
		caretest.Expect(t, env.Do(t, b, "DELETE", path, nil), 404, "not_found")
		caretest.Expect(t, env.Do(t, a, "GET", path, nil), 200, "")
		caretest.Expect(t, env.Do(t, 0, "GET", path, nil), 401, "unauthorized")
	}
	if r := env.Do(t, b, "GET", "/v1/me/symptoms?from=2024-01-01&to=2024-12-31", nil); len(r.Map(t)["items"].([]any)) != 0 {
		t.Fatalf("B lists A's symptoms: %s", r.Body)
	}
	caretest.Expect(t, env.Do(t, b, "GET", "/v1/me/symptoms/abc", nil), 404, "not_found")

	// A deletes its own.
	caretest.Expect(t, env.Do(t, a, "DELETE", "/v1/me/symptoms/"+itoa(s.ID), nil), 204, "")
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/symptoms/"+itoa(s.ID), nil), 404, "not_found")
	if count("symptom_records", a) != 0 || count("peak_flow_records", a) != 1 {
		t.Fatal("delete removed the wrong rows")
	}
}

func TestBadInputCodes(t *testing.T) {
	env, a, _, count := setup(t)
	tests := []struct {
		name, path string
		body       any
		status     int
		code       string
		field      string
	}{
		{"ACT answer 6", "/v1/me/act-results", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "answers": []int{4, 4, 6, 4, 4}}, 400, "out_of_range", "answers[2]"},
		{"ACT four answers", "/v1/me/act-results", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "answers": []int{4, 4, 4, 4}}, 400, "validation_failed", "answers"},
		{"negative PEF", "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "value_lpm": -50, "slot": "morning"}, 400, "out_of_range", "value_lpm"},
		{"PEF 5000", "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "value_lpm": 5000, "slot": "morning"}, 400, "out_of_range", "value_lpm"},
		{"PEF slot", "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "value_lpm": 300, "slot": "noon"}, 400, "validation_failed", "slot"},
		{"PEF as string", "/v1/me/peak-flows", `{"recorded_at":"2024-03-15T09:00:00Z","value_lpm":"300","slot":"morning"}`, 400, "validation_failed", "value_lpm"},
		{"bad date", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-02-30 10:00", "severity": 1}, 400, "invalid_date", "recorded_at"},
		{"impossible day", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-02-30T10:00:00+09:00", "severity": 1}, 400, "invalid_date", "recorded_at"},
		{"future", "/v1/me/symptoms", map[string]any{"recorded_at": "2030-01-01T00:00:00Z", "severity": 1}, 400, "out_of_range", "recorded_at"},
		{"severity 4", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "severity": 4}, 400, "out_of_range", "severity"},
		{"missing severity", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-15T09:00:00Z"}, 400, "validation_failed", "severity"},
		{"unknown field", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "severity": 1, "user_id": 2}, 400, "validation_failed", "user_id"},
		{"not json", "/v1/me/symptoms", `{"recorded_at":`, 400, "bad_request", "body"},
		{"trailing data", "/v1/me/symptoms", `{"recorded_at":"2024-03-15T09:00:00Z","severity":1} {}`, 400, "bad_request", "body"},
		{"event end before start", "/v1/me/health-events", map[string]any{"kind": "admission", "start_date": "2024-03-10", "end_date": "2024-03-01"}, 400, "out_of_range", "end_date"},
		{"event bad date", "/v1/me/health-events", map[string]any{"kind": "admission", "start_date": "2024-13-01"}, 400, "invalid_date", "start_date"},
		{"event kind", "/v1/me/health-events", map[string]any{"kind": "cold", "start_date": "2024-03-01"}, 400, "validation_failed", "kind"},
		{"oversized", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-15T09:00:00Z", "severity": 1, "memo": strings.Repeat("가", caretest.MaxBody)}, 413, "body_too_large", ""},
		{"plan zone", "/v1/me/action-plan", map[string]any{"time_zone": "Mars/Olympus"}, 400, "validation_failed", "time_zone"},
		{"plan best", "/v1/me/action-plan", map[string]any{"personal_best_lpm": -1}, 400, "out_of_range", "personal_best_lpm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "POST"
			if strings.HasSuffix(tt.path, "action-plan") {
				method = "PUT"
			}
			r := env.Do(t, a, method, tt.path, tt.body)
			caretest.Expect(t, r, tt.status, tt.code)
			if tt.field != "" {
				var p web.Error
				r.JSON(t, &p)
				if len(p.Fields) == 0 || p.Fields[0].Field != tt.field {
					t.Errorf("fields = %+v, want %s first", p.Fields, tt.field)
				}
			}
		})
	}
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/symptoms?from=2024-13-01", nil), 400, "invalid_date")
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/symptoms?from=2024-03-10&to=2024-03-01", nil), 400, "out_of_range")
	// Nothing was written by any refused request.
	for _, table := range []string{"symptom_records", "peak_flow_records", "act_results", "health_events", "care_plans"} {
		if n := count(table, a); n != 0 {
			t.Errorf("%s has %d rows after refused requests", table, n)
		}
	}
}

func TestTokens(t *testing.T) {
	env, a, _, _ := setup(t)
	r := env.Do(t, 0, "GET", "/v1/me/symptoms", nil)
	caretest.Expect(t, r, 401, "unauthorized")
	if r.Rec.Header().Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	// A token whose payload was changed to another user: the signature no longer matches.
	good := authtest.Bearer(t, env.Issuer, web.Principal{UserID: a, Role: web.RoleUser})
	parts := strings.Split(strings.TrimPrefix(good, "Bearer "), ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	claims = []byte(strings.Replace(string(claims), `"sub":"`+itoa(a)+`"`, `"sub":"999"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(claims)
	req := httptest.NewRequest("GET", "/v1/me/action-plan", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Join(parts, "."))
	if rec := env.Validator.Serve(t, env.Handler, req); rec.Code != http.StatusUnauthorized {
		t.Fatalf("tampered token: %d %s", rec.Code, rec.Body)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// DELETE /v1/me/action-plan resets the caller's plan to the default, leaves
// another user's plan alone and keeps the zones of readings already stored;
// again (nothing saved) is 204 too.
func TestActionPlanReset(t *testing.T) {
	env, a, b, _ := setup(t)
	for _, u := range []uint64{a, b} {
		caretest.Expect(t, env.Do(t, u, "PUT", "/v1/me/action-plan", map[string]any{"personal_best_lpm": 500, "time_zone": "Europe/Paris"}), 200, "")
	}
	r := env.Do(t, a, "POST", "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-15T07:00:00+09:00", "value_lpm": 399, "slot": "morning"})
	caretest.Expect(t, r, 201, "")
	var p records.PeakFlow
	r.JSON(t, &p)
	caretest.Expect(t, env.Do(t, a, "DELETE", "/v1/me/action-plan", nil), 204, "")
	if m := env.Do(t, a, "GET", "/v1/me/action-plan", nil).Map(t); m["time_zone"] != "Asia/Seoul" || m["personal_best_lpm"] != nil {
		t.Errorf("plan after the reset = %v, want the default", m)
	}
	if m := env.Do(t, b, "GET", "/v1/me/action-plan", nil).Map(t); m["time_zone"] != "Europe/Paris" || m["personal_best_lpm"] != float64(500) {
		t.Errorf("the other user's plan = %v, want it untouched", m)
	}
	var kept records.PeakFlow
	env.Do(t, a, "GET", fmt.Sprintf("/v1/me/peak-flows/%d", p.ID), nil).JSON(t, &kept)
	if kept.Zone == nil || *kept.Zone != "yellow" {
		t.Errorf("a stored reading after the reset = %+v, want its zone kept", kept)
	}
	caretest.Expect(t, env.Do(t, a, "DELETE", "/v1/me/action-plan", nil), 204, "")
	caretest.Expect(t, env.Do(t, 0, "DELETE", "/v1/me/action-plan", nil), 401, "unauthorized")
}
