package medication_test

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/web"
)

// Issue 26, findings 3 and 6 on the medication endpoints: the intakes list
// answered 500 to year 0 and took hand-made cursors of any range;
// medication names (which end up in push text) stored NUL and silently
// replaced invalid UTF-8.
func TestMedicationBoundsAndText(t *testing.T) {
	db, _ := testdb.New(t)
	now := time.Date(2024, 3, 15, 3, 0, 0, 0, time.UTC)
	iss := caretest.Issuer(t)
	env := caretest.New(t, iss, medication.New(db, medication.Options{Auth: caretest.Auth(iss), Now: func() time.Time { return now }}).Mount)
	a := caretest.NewUser(t, db, "민지")
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	for name, path := range map[string]string{
		"year 0":               "/v1/me/intakes?from=0000-01-01&to=0000-01-02",
		"to 9999":              "/v1/me/intakes?to=9999-12-31",
		"cursor of year 0":     "/v1/me/intakes?cursor=" + b64(`{"k":"intakes","f":"0000-01-01T00:00:00Z","t":"0000-01-02T00:00:00Z","a":"0000-01-01T00:00:00Z","i":1}`),
		"cursor over 400 days": "/v1/me/intakes?cursor=" + b64(`{"k":"intakes","f":"2020-01-01T00:00:00Z","t":"2024-03-01T00:00:00Z","a":"2024-03-01T00:00:00Z","i":1}`),
	} {
		t.Run(name, func(t *testing.T) {
			want := "out_of_range"
			if len(name) > 6 && name[:6] == "cursor" {
				want = "bad_cursor"
			}
			caretest.Expect(t, env.Do(t, a, "GET", path, nil), 400, want)
		})
	}

	const rest = `"role":"controller","form":"inhaler","dose":160`
	tests := []struct {
		name, body, field string
	}{
		{"name NUL", `{"name":"심비코트\u0000",` + rest + `,"dose_unit":"mcg"}`, "name"},
		{"name invalid UTF-8", `{"name":"심비코트` + "\xff" + `",` + rest + `,"dose_unit":"mcg"}`, "name"},
		{"name U+FFFD", `{"name":"심비코트\ufffd",` + rest + `,"dose_unit":"mcg"}`, "name"},
		{"name newline", `{"name":"심비\n코트",` + rest + `,"dose_unit":"mcg"}`, "name"},
		{"name bidi override", `{"name":"\u202e심비코트",` + rest + `,"dose_unit":"mcg"}`, "name"},
		{"name Hangul filler", `{"name":"심비코트\u3164x",` + rest + `,"dose_unit":"mcg"}`, "name"},
		{"dose unit NUL", `{"name":"심비코트",` + rest + `,"dose_unit":"mcg\u0000"}`, "dose_unit"},
		{"dose unit tab", `{"name":"심비코트",` + rest + `,"dose_unit":"m\tcg"}`, "dose_unit"},
		{"dose unit zero-width space", `{"name":"심비코트",` + rest + `,"dose_unit":"mc\u200bg"}`, "dose_unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.Do(t, a, "POST", "/v1/me/medications", tt.body)
			caretest.Expect(t, r, 400, "validation_failed")
			var e web.Error
			r.JSON(t, &e)
			if len(e.Fields) != 1 || e.Fields[0].Field != tt.field || e.Fields[0].Code != web.FieldInvalid {
				t.Fatalf("fields %+v, want %s invalid", e.Fields, tt.field)
			}
		})
	}
	if n := caretest.Count(t, db, "medications", a); n != 0 {
		t.Fatalf("%d medications after refused requests", n)
	}
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/medications", `{"name":" 심비코트 터부헬러 ",`+rest+`,"dose_unit":"mcg"}`), 201, "")
}
