package web

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/soomcare/soomcare/usertext"
)

// FieldError is one invalid field of a request body or one invalid query
// parameter: the one shape of field errors on every endpoint.
type FieldError struct {
	Field   string `json:"field"`   // JSON field or query parameter, e.g. answers[0], size
	Code    string `json:"code"`    // one of the Field* codes
	Message string `json:"message"` // Korean text for people; may change
}

// Field error codes (FieldError.Code). Clients may switch on them; never
// rename one.
const (
	FieldRequired    = "required"      // missing or empty
	FieldInvalid     = "invalid"       // not one of the allowed values, or malformed
	FieldInvalidDate = "invalid_date"  // a date/time that does not parse
	FieldOutOfRange  = "out_of_range"  // a number or date outside its domain
	FieldTooLong     = "too_long"      // text or list longer than allowed
	FieldTooShort    = "too_short"     // text shorter than allowed (a password)
	FieldUnknown     = "unknown_field" // a body field or query parameter the endpoint does not take
	FieldDuplicate   = "duplicate"     // a query parameter given more than once
	FieldInvalidType = "invalid_type"  // JSON of the wrong type (a string for a number; a body that is not an object)
	FieldInvalidJSON = "invalid_json"  // the body is not JSON, or more than one value
)

// Fields collects field errors while a request is validated.
type Fields struct{ list []FieldError }

// Add records a field error.
func (f *Fields) Add(field, code, msg string) {
	f.list = append(f.list, FieldError{Field: field, Code: code, Message: msg})
}

// OK reports whether no error was recorded.
func (f *Fields) OK() bool { return len(f.list) == 0 }

// List returns the recorded errors.
func (f *Fields) List() []FieldError { return f.list }

// Has reports whether field already has an error (checks that depend on it are skipped).
func (f *Fields) Has(field string) bool {
	for _, e := range f.list {
		if e.Field == field {
			return true
		}
	}
	return false
}

// Err returns nil, or a 400 validation_failed naming every field.
func (f *Fields) Err() error {
	return f.ErrAs(CodeValidationFailed, "입력값을 확인해 주세요.")
}

// ErrAs returns nil, or the field errors under another generic 400 code
// (the search API's bad_parameter).
func (f *Fields) ErrAs(code, msg string) error {
	if len(f.list) == 0 {
		return nil
	}
	return &Error{Code: code, Message: msg, Fields: f.list}
}

// Invalid is a validation_failed error about one field.
func Invalid(field, code, msg string) error {
	var f Fields
	f.Add(field, code, msg)
	return f.Err()
}

// Required checks that a pointer field is present.
func Required[T any](f *Fields, field string, p *T) bool {
	if p == nil {
		f.Add(field, FieldRequired, field+" 값이 필요합니다.")
		return false
	}
	return true
}

// IntRange checks lo <= n <= hi.
func (f *Fields) IntRange(field string, n, lo, hi int) {
	if n < lo || n > hi {
		f.Add(field, FieldOutOfRange, field+" 값은 "+strconv.Itoa(lo)+"~"+strconv.Itoa(hi)+" 사이여야 합니다.")
	}
}

// OneOf checks s is one of allowed.
func (f *Fields) OneOf(field, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	f.Add(field, FieldInvalid, field+" 값은 "+strings.Join(allowed, ", ")+" 중 하나여야 합니다.")
}

// MaxLen checks the length of s in characters.
func (f *Fields) MaxLen(field, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		f.Add(field, FieldTooLong, field+" 값은 "+strconv.Itoa(n)+"자를 넘을 수 없습니다.")
	}
}

// UserText checks s by the one rule of users' text (usertext.Check: no
// invalid UTF-8 or U+FFFD — what JSON decoding leaves of invalid bytes —,
// NUL or other control characters, newlines and tabs allowed unless
// oneLine, no invisible or bidi format characters, no Hangul fillers); a
// refused text is FieldInvalid.
func (f *Fields) UserText(field, s string, oneLine bool) {
	if usertext.Check(s, oneLine) != nil {
		f.Add(field, FieldInvalid, "쓸 수 없는 문자(제어·보이지 않는 문자, 잘못된 인코딩)가 있습니다.")
	}
}

// Text validates an optional string field: trimmed in place, min..max
// characters, and the one rule of users' text (UserText); a nil field is an
// error only when required.
func (f *Fields) Text(field string, v *string, min, max int, required, oneLine bool) {
	if v == nil {
		if required {
			f.Add(field, FieldRequired, "필수 항목입니다.")
		}
		return
	}
	*v = strings.TrimSpace(*v)
	n := utf8.RuneCountInString(*v)
	switch {
	case n < min:
		f.Add(field, FieldRequired, "비어 있을 수 없습니다.")
	case n > max:
		f.Add(field, FieldTooLong, strconv.Itoa(max)+"자 이하여야 합니다.")
	default:
		f.UserText(field, *v, oneLine)
	}
}
