package web

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
)

// Cursors are opaque to clients: base64url (no padding) of a JSON value that
// says where the next page starts. Each list decides what its cursor holds
// and checks it; these are the shared encoding and its strict decoding.

// EncodeCursor returns the cursor of v.
func EncodeCursor(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecodeCursor decodes a cursor made by EncodeCursor into v. It is false for
// anything longer than maxLen characters, not base64url, or not exactly one
// JSON value of v's shape (no unknown fields, nothing after it).
func DecodeCursor(s string, maxLen int, v any) bool {
	if len(s) > maxLen {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil && !dec.More()
}
