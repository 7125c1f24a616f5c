package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// An answer whose body cannot be encoded (a time after year 9999, NaN) is
// the 500 envelope, never the handler's status with an empty body.
func TestHandleEncodesBeforeWriting(t *testing.T) {
	gin.SetMode(gin.TestMode)
	tests := []struct {
		name   string
		answer Answer
		status int
		code   string // "" = the answer as given
	}{
		{"time out of JSON range", OK(struct {
			To time.Time `json:"to"`
		}{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}), http.StatusInternalServerError, CodeInternal},
		{"NaN", Created(map[string]float64{"x": math.NaN()}), http.StatusInternalServerError, CodeInternal},
		{"encodable", OK(map[string]int{"x": 1}), http.StatusOK, ""},
		{"raw", Answer{Status: http.StatusOK, Raw: []byte(`{"x":1}`)}, http.StatusOK, ""},
		{"no body", NoContent(), http.StatusNoContent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := gin.New()
			e.Use(RequestID())
			e.GET("/", NewKit(nil, nil).Handle(func(*gin.Context) (Answer, error) { return tt.answer, nil }))
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d (body %q)", rec.Code, tt.status, rec.Body)
			}
			if tt.status == http.StatusNoContent {
				if rec.Body.Len() != 0 {
					t.Fatalf("204 with body %q", rec.Body)
				}
				return
			}
			var env Error
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
				t.Fatalf("body %q is not JSON: %v", rec.Body, err)
			}
			if env.Code != tt.code || (tt.code != "" && env.RequestID == "") {
				t.Fatalf("body %q, want code %q with request_id", rec.Body, tt.code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
}

// Fields.Text is the one rule of users' text (usertext.Check).
func TestFieldsTextRefusesWhatUsertextRefuses(t *testing.T) {
	tests := []struct {
		name, s string
		oneLine bool
		code    string // "" = accepted
	}{
		{"plain", "천식 일기", true, ""},
		{"newline in a body", "첫 줄\n둘째 줄", false, ""},
		{"newline in a line", "첫 줄\n둘째 줄", true, FieldInvalid},
		{"NUL", "메모\x00", false, FieldInvalid},
		{"invalid UTF-8", "메모\xff", false, FieldInvalid},
		{"U+FFFD (what JSON decoding leaves of invalid bytes)", "메모\ufffd", false, FieldInvalid},
		{"bidi override", "admin\u202e", true, FieldInvalid},
		{"zero-width space", "ad\u200bmin", true, FieldInvalid},
		{"Hangul filler", "관리자\u3164", true, FieldInvalid},
		{"emoji with joiner", "👨\u200d👩\u200d👧", true, ""},
		{"too long", "가가가가", true, FieldTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Fields
			s := tt.s
			f.Text("memo", &s, 0, 3, false, tt.oneLine)
			if tt.name != "too long" {
				f = Fields{}
				f.Text("memo", &s, 0, 100, false, tt.oneLine)
			}
			var code string
			if l := f.List(); len(l) == 1 && l[0].Field == "memo" {
				code = l[0].Code
			}
			if code != tt.code || (tt.code == "") != f.OK() {
				t.Errorf("%q: %v, want %q", tt.s, f.List(), tt.code)
			}
		})
	}
}
