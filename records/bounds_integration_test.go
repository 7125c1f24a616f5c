package records_test

import (
	"encoding/base64"
	"testing"

	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/web"
)

// Issue 26, finding 3: dates, ranges and cursors out of the records' bounds
// answered 500 (year 0 reached MySQL), 200 with an empty body (a year-10000
// `to` failed to encode after the status was written) or skipped the
// 400-day limit (a hand-made cursor). Each is now a 400 with a stable code.
func TestListBoundsAndCursors(t *testing.T) {
	env, a, _, _ := setup(t)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, path string
		code       string
	}{
		{"symptoms year 0", "/v1/me/symptoms?from=0000-01-01&to=0000-01-02", "out_of_range"},
		{"peak flows year 0", "/v1/me/peak-flows?from=0000-01-01&to=0000-01-02", "out_of_range"},
		{"ACT year 0", "/v1/me/act-results?from=0000-01-01&to=0000-01-02", "out_of_range"},
		{"health events year 0", "/v1/me/health-events?from=0000-01-01&to=0000-01-02", "out_of_range"},
		{"health events to 9999", "/v1/me/health-events?to=9999-12-31", "out_of_range"},
		{"symptoms to 9999 instant", "/v1/me/symptoms?to=9999-12-31T23:59:59Z", "out_of_range"},
		{"from after tomorrow", "/v1/me/symptoms?from=2024-04-01&to=2024-04-30", "out_of_range"},
		{"cursor of years 0 to 9999", "/v1/me/symptoms?cursor=" + b64(`{"k":"symptoms","f":"0000-01-01T00:00:00Z","t":"9999-12-31T00:00:00Z","a":"2024-03-01T00:00:00Z","i":1}`), "bad_cursor"},
		{"cursor over 400 days", "/v1/me/symptoms?cursor=" + b64(`{"k":"symptoms","f":"2020-01-01T00:00:00Z","t":"2024-03-01T00:00:00Z","a":"2024-03-01T00:00:00Z","i":1}`), "bad_cursor"},
		{"event cursor at year 9999", "/v1/me/health-events?cursor=" + b64(`{"k":"health-events","f":"2024-03-01T00:00:00Z","t":"2024-03-31T00:00:00Z","a":"9999-12-31","i":1}`), "bad_cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caretest.Expect(t, env.Do(t, a, "GET", tt.path, nil), 400, tt.code)
		})
	}
	// The app's month view asks for the rest of the month: still answered.
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/health-events?from=2024-03-01&to=2024-03-31", nil), 200, "")
	// A health event dated after tomorrow cannot be recorded (it could never be listed).
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/health-events", map[string]any{"kind": "admission", "start_date": "2100-01-01"}), 400, "out_of_range")
}

// Issue 26, finding 6: care text fields stored NUL and silently replaced
// invalid UTF-8; they follow the one rule of users' text (usertext.Check)
// now, with 400 validation_failed naming the field.
func TestCareTextFields(t *testing.T) {
	env, a, _, count := setup(t)
	const at = `"recorded_at":"2024-03-15T09:00:00Z","severity":1`
	tests := []struct {
		name, path, body, field string
	}{
		{"memo NUL", "/v1/me/symptoms", `{` + at + `,"memo":"기침\u0000"}`, "memo"},
		{"memo invalid UTF-8", "/v1/me/symptoms", "{" + at + `,"memo":"기침` + "\xff" + `"}`, "memo"},
		{"memo U+FFFD", "/v1/me/symptoms", `{` + at + `,"memo":"기침\ufffd"}`, "memo"},
		{"memo lone surrogate", "/v1/me/symptoms", `{` + at + `,"memo":"기침\ud800"}`, "memo"},
		{"memo bidi override", "/v1/me/symptoms", `{` + at + `,"memo":"기침\u202e"}`, "memo"},
		{"memo escape character", "/v1/me/symptoms", `{` + at + `,"memo":"\u001b[31m"}`, "memo"},
		{"trigger NUL", "/v1/me/symptoms", `{` + at + `,"triggers":["꽃가루\u0000"]}`, "triggers[0]"},
		{"trigger newline", "/v1/me/symptoms", `{` + at + `,"triggers":["꽃\n가루"]}`, "triggers[0]"},
		{"trigger filler", "/v1/me/symptoms", `{` + at + `,"triggers":["먼지", "꽃가루\u3164"]}`, "triggers[1]"},
		{"event memo NUL", "/v1/me/health-events", `{"kind":"er_visit","start_date":"2024-03-10","memo":"응급실\u0000"}`, "memo"},
		{"event memo invalid UTF-8", "/v1/me/health-events", `{"kind":"er_visit","start_date":"2024-03-10","memo":"` + "\xc3\x28" + `"}`, "memo"},
		{"event memo zero-width space", "/v1/me/health-events", `{"kind":"er_visit","start_date":"2024-03-10","memo":"응급\u200b실"}`, "memo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Do(t, a, "POST", tt.path, tt.body)
			caretest.Expect(t, r, 400, "validation_failed")
			var e web.Error
			r.JSON(t, &e)
			if len(e.Fields) != 1 || e.Fields[0].Field != tt.field || e.Fields[0].Code != web.FieldInvalid {
				t.Fatalf("fields %+v, want %s invalid", e.Fields, tt.field)
			}
		})
	}
	for _, table := range []string{"symptom_records", "health_events"} {
		if n := count(table, a); n != 0 {
			t.Errorf("%s has %d rows after refused requests", table, n)
		}
	}
	// Newlines, tabs and emoji with joiners stay allowed in memos.
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/symptoms", `{`+at+`,"memo":"밤에 기침\n\t계단 👨\u200d👩\u200d👧","triggers":["꽃가루"]}`), 201, "")
}
