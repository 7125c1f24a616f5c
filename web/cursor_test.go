package web

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestCursorRoundTripAndStrictness(t *testing.T) {
	type pos struct {
		At string `json:"a"`
		ID uint64 `json:"i"`
	}
	c, err := EncodeCursor(pos{At: "2026-11-01", ID: 7})
	if err != nil || strings.ContainsAny(c, "+/=") {
		t.Fatalf("EncodeCursor = %q, %v; want base64url without padding", c, err)
	}
	var got pos
	if !DecodeCursor(c, 100, &got) || got != (pos{At: "2026-11-01", ID: 7}) {
		t.Fatalf("round trip = %+v", got)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, s := range map[string]string{
		"too long":       c,
		"not base64url":  "a+b/",
		"padded":         b64(`{"i":1}`) + "==",
		"not JSON":       b64("hello"),
		"unknown field":  b64(`{"i":1,"x":2}`),
		"trailing value": b64(`{"i":1}{"i":2}`),
		"wrong type":     b64(`{"i":"1"}`),
	} {
		maxLen := 100
		if name == "too long" {
			maxLen = len(c) - 1
		}
		var p pos
		if DecodeCursor(s, maxLen, &p) {
			t.Errorf("%s: %q decoded to %+v", name, s, p)
		}
	}
}
