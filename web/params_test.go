package web

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPageSize(t *testing.T) {
	tests := []struct {
		raw  string
		want int
		code string
	}{
		{"", 20, ""}, {"1", 1, ""}, {"50", 50, ""},
		{"0", 20, FieldOutOfRange}, {"51", 20, FieldOutOfRange}, {"-3", 20, FieldOutOfRange},
		{"ten", 20, FieldInvalid}, {"1.5", 20, FieldInvalid},
	}
	for _, tt := range tests {
		var f Fields
		got := PageSize(&f, "size", tt.raw, 20, 50)
		var code string
		if l := f.List(); len(l) == 1 && l[0].Field == "size" {
			code = l[0].Code
		}
		if got != tt.want || code != tt.code || (tt.code == "") != f.OK() {
			t.Errorf("%q: %d %v, want %d %s", tt.raw, got, f.List(), tt.want, tt.code)
		}
	}
}

func TestRangeRule(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	now := time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
	care := RangeRule{Zone: kst, Instants: true, Until: func() time.Time { return now }, DefaultDays: 30, MaxDays: 400}
	search := RangeRule{Zone: kst, Instants: true, InclusiveInstant: true,
		Earliest: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Latest: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)}
	dates := RangeRule{Zone: kst, MaxDays: 2}
	records := recordsRule(kst, now)
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	tests := []struct {
		name     string
		rule     RangeRule
		from, to string
		want     Range
		field    string // field of the one error
		code     string
	}{
		{"defaults", care, "", "", Range{now.In(kst).AddDate(0, 0, -30), now}, "", ""},
		{"dates are local days, to inclusive", care, "2024-03-01", "2024-03-01", Range{at("2024-03-01T00:00:00+09:00"), at("2024-03-02T00:00:00+09:00")}, "", ""},
		{"instants", care, "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z", Range{at("2024-03-01T00:00:00Z"), at("2024-03-02T00:00:00Z")}, "", ""},
		{"an unencoded + is a space", care, "2024-03-01T09:00:00 09:00", "", Range{at("2024-03-01T00:00:00Z"), now}, "", ""},
		{"to not after from", care, "2024-03-02", "2024-03-01", Range{}, "to", FieldOutOfRange},
		{"over MaxDays", care, "2023-01-01", "2024-03-01", Range{}, "to", FieldOutOfRange},
		{"not a date", care, "yesterday", "", Range{}, "from", FieldInvalidDate},
		{"open ends", search, "", "", Range{}, "", ""},
		{"inclusive instant", search, "", "2024-03-01T00:00:00.0004Z", Range{To: at("2024-03-01T00:00:00.001Z")}, "", ""},
		{"before Earliest", search, "1999-12-31", "", Range{}, "from", FieldOutOfRange},
		{"after Latest", search, "", "2200-01-02", Range{}, "to", FieldOutOfRange},
		{"last day before Latest", search, "", "2199-12-31", Range{To: at("2200-01-01T00:00:00+09:00")}, "", ""},
		{"dates only", dates, "2024-03-01T00:00:00Z", "", Range{}, "from", FieldInvalidDate},
		{"year 0 (was a 500)", records, "0000-01-01", "2024-03-01", Range{}, "from", FieldOutOfRange},
		{"before 2000", records, "1999-12-31", "", Range{}, "from", FieldOutOfRange},
		{"instant before 2000", records, "", "1999-12-31T23:00:00+09:00", Range{}, "to", FieldOutOfRange},
		{"to 9999 alone (was a 200 without body)", records, "", "9999-12-31", Range{}, "to", FieldOutOfRange},
		{"from after now + 1 day", records, "2024-03-17", "2024-03-20", Range{}, "from", FieldOutOfRange},
		{"to 9999 with from", records, "2024-03-01", "9999-12-31", Range{}, "to", FieldOutOfRange},
		{"rest of the month ahead", records, "2024-03-01", "2024-03-31", Range{at("2024-03-01T00:00:00+09:00"), at("2024-04-01T00:00:00+09:00")}, "", ""},
		{"defaulted from clamped to 2000", records, "", "2000-01-05", Range{at("2000-01-01T00:00:00+09:00"), at("2000-01-06T00:00:00+09:00")}, "", ""},
		{"MaxDays counts whole days", dates, "2024-03-01", "2024-03-02", Range{at("2024-03-01T00:00:00+09:00"), at("2024-03-03T00:00:00+09:00")}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Fields
			got := tt.rule.Parse(&f, tt.from, tt.to)
			if tt.code != "" {
				if l := f.List(); len(l) != 1 || l[0].Field != tt.field || l[0].Code != tt.code {
					t.Errorf("errors %v, want %s %s", l, tt.field, tt.code)
				}
				return
			}
			if !f.OK() || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Errorf("%s..%s %v, want %s..%s", got.From, got.To, f.List(), tt.want.From, tt.want.To)
			}
		})
	}
}

// recordsRule is the rule of the care lists (records.rangeRule).
func recordsRule(loc *time.Location, now time.Time) RangeRule {
	return RangeRule{Zone: loc, Instants: true, Until: func() time.Time { return now }, DefaultDays: 30, MaxDays: 400,
		Earliest: EarliestRecord(loc), Horizon: LatestRecord(now)}
}

// Valid is what a cursor's range is checked with when it comes back.
func TestRangeRuleValid(t *testing.T) {
	kst := time.FixedZone("KST", 9*3600)
	now := time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
	rule := recordsRule(kst, now)
	at := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	tests := []struct {
		name string
		r    Range
		want bool
	}{
		{"a parsed range", Range{at("2024-03-01T00:00:00+09:00"), at("2024-04-01T00:00:00+09:00")}, true},
		{"year 0", Range{at("0000-01-01T00:00:00Z"), at("0000-01-02T00:00:00Z")}, false},
		{"to year 9999", Range{at("2024-03-01T00:00:00Z"), at("9999-12-31T00:00:00Z")}, false},
		{"over 400 days", Range{at("2022-01-01T00:00:00Z"), at("2024-03-01T00:00:00Z")}, false},
		{"starts after the horizon", Range{at("2024-03-20T00:00:00Z"), at("2024-03-21T00:00:00Z")}, false},
		{"empty", Range{at("2024-03-01T00:00:00Z"), at("2024-03-01T00:00:00Z")}, false},
		{"no to", Range{From: at("2024-03-01T00:00:00Z")}, false},
		{"no from", Range{To: at("2024-03-01T00:00:00Z")}, false},
	}
	for _, tt := range tests {
		if got := rule.Valid(tt.r); got != tt.want {
			t.Errorf("%s: Valid = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestStrictQuery(t *testing.T) {
	var f Fields
	v := StrictQuery(&f, "size=1&status=a&status=b&page=2", "size", "status")
	if v.Get("size") != "1" || v.Has("status") || v.Has("page") {
		t.Errorf("values %v", v)
	}
	want := []FieldError{{"page", FieldUnknown, ""}, {"status", FieldDuplicate, ""}}
	if l := f.List(); len(l) != 2 || l[0].Field != want[0].Field || l[0].Code != want[0].Code || l[1].Field != want[1].Field || l[1].Code != want[1].Code {
		t.Errorf("errors %v", l)
	}
	f = Fields{}
	StrictQuery(&f, "a=%%", "a")
	if l := f.List(); len(l) != 1 || l[0].Field != "query" {
		t.Errorf("unparsable query: %v", l)
	}
}

func TestBodyDecode(t *testing.T) {
	type in struct {
		N *int   `json:"n"`
		S string `json:"s"`
	}
	tests := []struct {
		name, ct, body string
		body2          Body
		code           string // top-level code; "" = accepted
		field, fcode   string
	}{
		{"object", "application/json", `{"n": 1}`, CareBody(), "", "", ""},
		{"empty object", "", ` {} `, AppBody(), "", "", ""},
		{"null (care)", "application/json", `null`, CareBody(), CodeBadRequest, "body", FieldInvalidType},
		{"null (app)", "application/json", `null`, AppBody(), CodeBadRequest, "body", FieldInvalidType},
		{"array", "", `[{"n": 1}]`, CareBody(), CodeBadRequest, "body", FieldInvalidType},
		{"string", "", `"x"`, AppBody(), CodeBadRequest, "body", FieldInvalidType},
		{"number", "", ` 42`, CareBody(), CodeBadRequest, "body", FieldInvalidType},
		{"not JSON", "", `{`, AppBody(), CodeBadRequest, "body", FieldInvalidJSON},
		{"empty", "", ``, CareBody(), CodeBadRequest, "body", FieldInvalidJSON},
		{"two values", "", `{} {}`, CareBody(), CodeBadRequest, "body", FieldInvalidJSON},
		{"wrong type", "", `{"n": "1"}`, AppBody(), CodeValidationFailed, "n", FieldInvalidType},
		{"unknown field", "", `{"x": 1}`, CareBody(), CodeValidationFailed, "x", FieldUnknown},
		{"not JSON media type (app)", "text/plain", `{}`, AppBody(), CodeUnsupportedMediaType, "", ""},
		{"media type unchecked (care)", "text/plain", `{}`, CareBody(), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
			if tt.ct != "" {
				r.Header.Set("Content-Type", tt.ct)
			}
			var dst in
			err := tt.body2.Decode(r, &dst)
			var e *Error
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.code == "":
			case !errors.As(err, &e) || e.Code != tt.code:
				t.Fatalf("%v, want %s", err, tt.code)
			case tt.field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != tt.field || e.Fields[0].Code != tt.fcode):
				t.Fatalf("fields %v, want %s/%s", e.Fields, tt.field, tt.fcode)
			}
		})
	}
}
