package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// Body is an area's policy for request bodies. A body that is not one JSON
// object (not JSON, null, an array, a string, a number, or more than one
// value) is 400 bad_request with the field error "body" (invalid_json or
// invalid_type) everywhere.
type Body struct {
	// CheckMediaType refuses a Content-Type other than JSON with 415
	// unsupported_media_type (a missing one is accepted).
	CheckMediaType bool
}

// Decode reads the request body into dst strictly: exactly one JSON object,
// no unknown fields, fields of the right types, nothing after it. Errors are
// *Error: 413 body_too_large, 415 (see CheckMediaType), 400 bad_request
// (field "body") or 400 validation_failed naming the field (unknown_field,
// invalid_type). A body of `null` is refused like any other non-object: it
// would otherwise decode into dst as "nothing given".
func (b Body) Decode(r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); b.CheckMediaType && ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &Error{Code: CodeUnsupportedMediaType, Message: "본문은 application/json 이어야 합니다."}
		}
	}
	var raw json.RawMessage
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(&raw)
	if err == nil {
		if _, e := dec.Token(); !errors.Is(e, io.EOF) {
			err = errors.New("trailing data")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &Error{Code: CodeBodyTooLarge, Message: "요청 본문이 너무 큽니다."}
	case err != nil:
		return notObject(FieldInvalidJSON, "요청 본문은 JSON 객체 하나여야 합니다.")
	case bytes.TrimLeft(raw, " \t\r\n")[0] != '{':
		return notObject(FieldInvalidType, "요청 본문은 JSON 객체여야 합니다.")
	}
	return decodeObject(raw, dst)
}

// notObject is the answer to a body that is not one JSON object: one code
// everywhere (bad_request; until 2026-12-08 the care endpoints answered
// validation_failed).
func notObject(fieldCode, msg string) error {
	return &Error{Code: CodeBadRequest, Message: msg, Fields: []FieldError{{Field: "body", Code: fieldCode, Message: msg}}}
}

// decodeObject decodes one JSON object into dst, naming the field at fault.
func decodeObject(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return Invalid(field, FieldInvalidType, field+" 값의 형식이 올바르지 않습니다 ("+te.Value+" 대신 "+te.Type.String()+").")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(name, FieldUnknown, name+" 항목은 받지 않습니다.")
	default:
		return Invalid("body", FieldInvalidJSON, "요청 본문이 올바른 JSON이 아닙니다.")
	}
}

// AppBody is the body policy of the auth, community, content and editors'
// endpoints: JSON only (415 otherwise).
func AppBody() Body { return Body{CheckMediaType: true} }

// CareBody is the body policy of the care endpoints: the Content-Type is
// not checked.
func CareBody() Body { return Body{} }
