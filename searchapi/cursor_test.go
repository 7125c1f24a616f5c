package searchapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/web"
)

func TestCursorRoundTrip(t *testing.T) {
	fp := fingerprint("x")
	tests := []struct {
		after []json.RawMessage
		shape []valueKind
	}{
		{[]json.RawMessage{json.RawMessage("12.345678"), json.RawMessage("42")}, afterShape(mappings.Posts, SortRelevance)},
		{[]json.RawMessage{json.RawMessage("-9223372036854775808"), json.RawMessage("18446744073709")}, afterShape(mappings.Contents, SortRecent)},
		{[]json.RawMessage{json.RawMessage("0"), json.RawMessage("1709251200000"), json.RawMessage("9")}, afterShape("feed", SortPopular)},
		{[]json.RawMessage{json.RawMessage("1.0E-5"), json.RawMessage("1")}, afterShape(mappings.Users, SortRelevance)},
	}
	for _, tt := range tests {
		c, err := encodeCursor(fp, tt.after)
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(c, "+/=") {
			t.Errorf("cursor %q is not base64url without padding", c)
		}
		got, e := decodeCursor(c, fp, tt.shape)
		if e != nil {
			t.Fatalf("decode %q: %v", c, e)
		}
		var want []string
		for _, a := range tt.after {
			want = append(want, string(a))
		}
		if !slices.Equal(got, want) {
			t.Errorf("round trip %v → %v", want, got)
		}
	}
	if _, err := encodeCursor(fp, []json.RawMessage{json.RawMessage(`"text"`)}); err == nil {
		t.Error("a non-numeric sort value made a cursor")
	}
}

func TestCursorRejects(t *testing.T) {
	fp := fingerprint("query a")
	shape := afterShape(mappings.Posts, SortRecent)
	good, _ := encodeCursor(fp, []json.RawMessage{json.RawMessage("1709251200000"), json.RawMessage("7")})
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	flipped := []byte(raw)
	flipped[len(flipped)/2] ^= 0x20

	tests := map[string]string{
		"empty object":        enc(`{}`),
		"other query":         mustCursor(fingerprint("query b"), "1709251200000", "7"),
		"other version":       enc(`{"v":2,"f":"` + fp + `","a":[1709251200000,7]}`),
		"flipped byte":        base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":           good[:len(good)-3],
		"padding":             good + "==",
		"std alphabet":        strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/",
		"not base64":          "!!!",
		"too long":            strings.Repeat("A", maxCursorBytes+1),
		"too few values":      mustCursor(fp, "1709251200000"),
		"too many values":     mustCursor(fp, "1", "2", "3"),
		"float for an id":     mustCursor(fp, "1709251200000", "7.5"),
		"overflowing long":    mustCursor(fp, "1709251200000", "9223372036854775808"),
		"string value":        enc(`{"v":1,"f":"` + fp + `","a":["1709251200000","7"]}`),
		"object value":        enc(`{"v":1,"f":"` + fp + `","a":[{},7]}`),
		"extra field":         enc(`{"v":1,"f":"` + fp + `","a":[1709251200000,7],"x":1}`),
		"trailing data":       enc(`{"v":1,"f":"` + fp + `","a":[1709251200000,7]} {}`),
		"not json":            enc(`garbage`),
		"score for relevance": mustCursor(fp, "NaN", "7"),
	}
	for name, c := range tests {
		s := shape
		if name == "score for relevance" {
			s = afterShape(mappings.Posts, SortRelevance)
		}
		var e *web.Error
		if _, err := decodeCursor(c, fp, s); !errors.As(err, &e) || e.Code != "bad_cursor" {
			t.Errorf("%s: %q accepted (%v)", name, c, err)
		}
	}
	if _, err := decodeCursor(good, fp, shape); err != nil {
		t.Fatalf("the untouched cursor: %v", err)
	}
}

func mustCursor(fp string, after ...string) string {
	var raw []json.RawMessage
	for _, a := range after {
		raw = append(raw, json.RawMessage(a))
	}
	// encodeCursor refuses nothing numeric-looking to json; build by hand for odd values.
	b, _ := json.Marshal(map[string]any{"v": 1, "f": fp, "a": raw})
	return base64.RawURLEncoding.EncodeToString(b)
}

// The fingerprint covers what decides the result set and order, not the page size.
func TestFingerprint(t *testing.T) {
	base := url.Values{"q": {"천식"}, "category": {"약물"}, "tags": {"a,b"}, "from": {"2024-01-01"}, "to": {"2024-02-01"}, "sort": {"recent"}}
	p0, err := ParseSearch(mappings.Contents, base)
	if err != nil {
		t.Fatal(err)
	}
	same := []url.Values{
		{"q": {"  천식 "}, "category": {"약물"}, "tags": {"B, a"}, "from": {"2024-01-01"}, "to": {"2024-02-01"}, "sort": {"recent"}},
		{"q": {"천식"}, "category": {"약물"}, "tags": {"a,b"}, "from": {"2024-01-01"}, "to": {"2024-02-01"}, "sort": {"recent"}, "size": {"7"}},
		{"q": {"\u110e\u1165\u11ab\u1109\u1175\u11a8"}, "category": {"약물"}, "tags": {"a,b"}, "from": {"2024-01-01"}, "to": {"2024-02-01"}, "sort": {"recent"}}, // NFD 천식
	}
	for _, v := range same {
		p, err := ParseSearch(mappings.Contents, v)
		if err != nil {
			t.Fatal(err)
		}
		if p.fingerprint() != p0.fingerprint() {
			t.Errorf("%v: fingerprint differs from %v", v, base)
		}
	}
	for _, change := range []func(url.Values){
		func(v url.Values) { v.Set("q", "천식 흡입기") },
		func(v url.Values) { v.Set("category", "검사") },
		func(v url.Values) { v.Set("tags", "a") },
		func(v url.Values) { v.Set("from", "2024-01-02") },
		func(v url.Values) { v.Set("to", "2024-02-02") },
		func(v url.Values) { v.Set("sort", "relevance") },
	} {
		v := url.Values{}
		for k, vs := range base {
			v[k] = slices.Clone(vs)
		}
		change(v)
		p, err := ParseSearch(mappings.Contents, v)
		if err != nil {
			t.Fatal(err)
		}
		if p.fingerprint() == p0.fingerprint() {
			t.Errorf("%v: same fingerprint as %v", v, base)
		}
	}
	k1, _ := ParseSearch(mappings.Posts, url.Values{"q": {"천식"}})
	k2, _ := ParseSearch(mappings.Users, url.Values{"q": {"천식"}})
	if k1.fingerprint() == k2.fingerprint() {
		t.Error("posts and users share a fingerprint")
	}
}
