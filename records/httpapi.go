package records

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // schedules and calendars need IANA zones even where the system has none

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// Error codes of the care endpoints (records, medications, reminders), on
// top of web's. Clients switch on them; never rename one.
const (
	// CodeValidationFailed: the body or a parameter is invalid; fields says
	// which and why. A body that is not JSON is one too (field "body").
	CodeValidationFailed = "validation_failed"
	// CodeInvalidDate: every field error is a date or time that does not
	// parse (or a month that is not YYYY-MM).
	CodeInvalidDate = "invalid_date"
	// CodeOutOfRange: every field error is a value outside its domain (an ACT
	// answer of 6, a negative peak flow, a date too far in the future).
	CodeOutOfRange = "out_of_range"
)

// Field error codes.
const (
	FieldRequired    = "required"
	FieldInvalid     = "invalid"       // not one of the allowed values, or malformed
	FieldInvalidDate = "invalid_date"  // a date/time that does not parse
	FieldOutOfRange  = "out_of_range"  // a number or date outside its domain
	FieldTooLong     = "too_long"      // text or list longer than allowed
	FieldUnknown     = "unknown_field" // the body has a field the endpoint does not take
	FieldInvalidType = "invalid_type"  // JSON of the wrong type (a string for a number)
	FieldInvalidJSON = "invalid_json"  // the body is not one JSON object
	DefaultTimeZone  = "Asia/Seoul"
)

// FieldError is one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Problem is a 4xx answer with field errors: the web envelope plus fields.
type Problem struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Code)
	for _, f := range p.Fields {
		b.WriteString(" " + f.Field + ":" + f.Code)
	}
	return b.String()
}

// Checker collects field errors while a request is validated.
type Checker struct{ fields []FieldError }

// Add records a field error.
func (v *Checker) Add(field, code, msg string) {
	v.fields = append(v.fields, FieldError{field, code, msg})
}

// OK reports whether no error was recorded.
func (v *Checker) OK() bool { return len(v.fields) == 0 }

// Has reports whether field already has an error (checks that depend on it are skipped).
func (v *Checker) Has(field string) bool {
	for _, f := range v.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil or the Problem: out_of_range or invalid_date when every
// field error is of that kind, validation_failed otherwise.
func (v *Checker) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	code := v.fields[0].Code
	for _, f := range v.fields[1:] {
		if f.Code != code {
			code = ""
		}
	}
	switch code {
	case FieldOutOfRange:
		return &Problem{Code: CodeOutOfRange, Message: "허용 범위를 벗어난 값이 있습니다.", Fields: v.fields}
	case FieldInvalidDate:
		return &Problem{Code: CodeInvalidDate, Message: "날짜 형식이 올바르지 않습니다.", Fields: v.fields}
	}
	return &Problem{Code: CodeValidationFailed, Message: "입력값을 확인해 주세요.", Fields: v.fields}
}

// Required checks that a pointer field is present.
func Required[T any](v *Checker, field string, p *T) bool {
	if p == nil {
		v.Add(field, FieldRequired, field+" 값이 필요합니다.")
		return false
	}
	return true
}

// IntRange checks lo <= n <= hi.
func (v *Checker) IntRange(field string, n, lo, hi int) {
	if n < lo || n > hi {
		v.Add(field, FieldOutOfRange, field+" 값은 "+strconv.Itoa(lo)+"~"+strconv.Itoa(hi)+" 사이여야 합니다.")
	}
}

// OneOf checks s is one of allowed.
func (v *Checker) OneOf(field, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.Add(field, FieldInvalid, field+" 값은 "+strings.Join(allowed, ", ")+" 중 하나여야 합니다.")
}

// MaxLen checks the length of s in characters.
func (v *Checker) MaxLen(field, s string, n int) {
	if len([]rune(s)) > n {
		v.Add(field, FieldTooLong, field+" 값은 "+strconv.Itoa(n)+"자를 넘을 수 없습니다.")
	}
}

// Instant parses an RFC 3339 time and checks it is between 2000-01-01 and
// now + 1 day (clocks of phones drift; a record is never far in the future).
func (v *Checker) Instant(field, s string, now time.Time) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, FieldInvalidDate, field+" 값은 2024-03-01T08:30:00+09:00 형식이어야 합니다.")
		return time.Time{}
	}
	if t.Year() < 2000 || t.After(now.Add(24*time.Hour)) {
		v.Add(field, FieldOutOfRange, field+" 값은 2000년 이후, 현재 시각 이전이어야 합니다.")
	}
	return t.UTC()
}

// Date parses YYYY-MM-DD.
func (v *Checker) Date(field, s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Add(field, FieldInvalidDate, field+" 값은 2024-03-01 형식이어야 합니다.")
		return time.Time{}, false
	}
	if t.Year() < 2000 || t.Year() > 2100 {
		v.Add(field, FieldOutOfRange, field+" 값은 2000~2100년 사이여야 합니다.")
		return time.Time{}, false
	}
	return t, true
}

// Zone checks an IANA time zone name.
func (v *Checker) Zone(field, name string, zones *Zones) *time.Location {
	loc, err := zones.Load(name)
	if err != nil {
		v.Add(field, FieldInvalid, field+" 값은 Asia/Seoul 같은 IANA 시간대여야 합니다.")
		return nil
	}
	return loc
}

// Decode reads the JSON body into dst strictly: unknown fields, wrong types,
// trailing data and an oversized body (web.LimitBody) are 4xx errors.
func Decode(c *gin.Context, dst any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		if _, e := dec.Token(); !errors.Is(e, io.EOF) {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return nil
	}
	var mb *http.MaxBytesError
	var te *json.UnmarshalTypeError
	var v Checker
	switch {
	case errors.As(err, &mb):
		return &web.Error{Code: web.CodeBodyTooLarge, Message: "요청 본문이 너무 큽니다."}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		v.Add(field, FieldInvalidType, field+" 값의 형식이 올바르지 않습니다.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		v.Add(name, FieldUnknown, name+" 항목은 받지 않습니다.")
	default:
		v.Add("body", FieldInvalidJSON, "요청 본문은 JSON 객체여야 합니다.")
	}
	return v.Err()
}

// Fail answers with the right envelope: a Problem with its fields, a
// web.Error as web does, anything else as 500 (logged, never shown).
func Fail(c *gin.Context, logger *slog.Logger, err error) {
	var p *Problem
	if errors.As(err, &p) {
		c.AbortWithStatusJSON(http.StatusBadRequest, p)
		return
	}
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		err = &web.Error{Code: web.CodeBodyTooLarge, Message: "요청 본문이 너무 큽니다."}
	}
	web.Fail(c, logger, err)
}

// ErrNotFound is what stores return for a row that does not exist or is not
// the caller's; handlers answer 404 either way so ids do not leak.
var ErrNotFound = errors.New("not found")

// NotFound is the 404 envelope.
func NotFound() error {
	return &web.Error{Code: web.CodeNotFound, Message: "기록을 찾을 수 없습니다."}
}

// Conflict is the 409 envelope.
func Conflict(msg string) error { return &web.Error{Code: web.CodeConflict, Message: msg} }

// UserID is the caller's id; routes are behind web.RequireAuth.
func UserID(c *gin.Context) uint64 {
	p, _ := web.PrincipalFrom(c)
	return p.UserID
}

// PathID parses the :id parameter; a malformed id is simply not found.
func PathID(c *gin.Context) (uint64, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, NotFound()
	}
	return id, nil
}

// Zones caches loaded time zones (time.LoadLocation reads tzdata on every call).
type Zones struct{ m sync.Map }

// Load returns the zone named name; "" is DefaultTimeZone. "Local" is refused
// (it means the server's zone, never the user's).
func (z *Zones) Load(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultTimeZone
	}
	if v, ok := z.m.Load(name); ok {
		return v.(*time.Location), nil
	}
	if name == "Local" || len(name) > 64 {
		return nil, errors.New("records: unknown time zone " + name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	z.m.Store(name, loc)
	return loc, nil
}

// Range parses the optional from/to query parameters of a list: dates
// (YYYY-MM-DD, days in loc, to inclusive) or RFC 3339 instants. The default
// is the last 30 days; at most 400 days.
func Range(c *gin.Context, loc *time.Location, now time.Time) (from, to time.Time, err error) {
	var v Checker
	from, to = rangeOf(&v, c, loc, now)
	return from, to, v.Err()
}

// rangeOf is Range adding its field errors to v.
func rangeOf(v *Checker, c *gin.Context, loc *time.Location, now time.Time) (from, to time.Time) {
	parse := func(field string, endOfDay bool) (time.Time, bool) {
		s := c.Query(field)
		if s == "" {
			return time.Time{}, false
		}
		if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
			if endOfDay {
				t = t.AddDate(0, 0, 1)
			}
			return t, true
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			v.Add(field, FieldInvalidDate, field+" 값은 2024-03-01 또는 RFC 3339 형식이어야 합니다.")
			return time.Time{}, false
		}
		return t, true
	}
	from, okFrom := parse("from", false)
	to, okTo := parse("to", true)
	if v.Has("from") || v.Has("to") {
		return from, to
	}
	if !okTo {
		to = now
	}
	if !okFrom {
		from = to.AddDate(0, 0, -30)
	}
	if !to.After(from) {
		v.Add("to", FieldOutOfRange, "to 는 from 이후여야 합니다.")
	} else if to.Sub(from) > 400*24*time.Hour {
		v.Add("to", FieldOutOfRange, "기간은 400일을 넘을 수 없습니다.")
	}
	return from.UTC(), to.UTC()
}
