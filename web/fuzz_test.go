package web

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// The parsers of what clients send (dates and ranges, cursors, path ids),
// fuzzed. The seeds are the probe's findings (issue 26); `go test` runs them
// as unit tests, `go test -fuzz=FuzzX ./web/` explores further.

// FuzzRangeRule: a range Parse accepts is one Valid accepts (so its cursor
// comes back), whose JSON encodes (no year 0 or 10000 reaches an answer),
// and whose to is after its from.
func FuzzRangeRule(f *testing.F) {
	for _, s := range [][2]string{
		{"0000-01-01", "0000-01-02"}, {"", "9999-12-31"}, {"2024-03-01", "9999-12-31T23:59:59Z"},
		{"1999-12-31", ""}, {"2024-03-01", "2024-03-31"}, {"2024-03-01T00:00:00 09:00", ""},
		{"", "2000-01-05"}, {"-0001-01-01", ""}, {"2024-02-30", ""}, {"2024-03-01T24:00:00Z", ""},
	} {
		f.Add(s[0], s[1])
	}
	kst := time.FixedZone("KST", 9*3600)
	now := time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
	rule := recordsRule(kst, now)
	f.Fuzz(func(t *testing.T, from, to string) {
		var fs Fields
		r := rule.Parse(&fs, from, to)
		if !fs.OK() {
			return
		}
		if !r.To.After(r.From) {
			t.Fatalf("%q..%q: accepted %v..%v", from, to, r.From, r.To)
		}
		if !rule.Valid(r) {
			t.Fatalf("%q..%q: accepted %v..%v, which Valid refuses", from, to, r.From, r.To)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("%q..%q: accepted a range JSON cannot encode: %v", from, to, err)
		}
	})
}

// FuzzDecodeCursor: a cursor either is refused or decodes to a value that
// encodes again to a cursor decoding to the same value.
func FuzzDecodeCursor(f *testing.F) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		b64(`{"k":"symptoms","f":"0000-01-01T00:00:00Z","t":"9999-12-31T00:00:00Z","a":"2024-03-01T00:00:00Z","i":1}`),
		b64(`{"u":9223372036854775807,"i":1}`), b64(`{"u":-9223372036854775808,"i":1}`),
		b64(`{"i":1}{"i":2}`), b64(`{"i":"1"}`), b64("\xff\xfe"), "a+b/", "", "e30",
	} {
		f.Add(s)
	}
	type cursor struct {
		List string    `json:"k,omitempty"`
		From time.Time `json:"f"`
		At   string    `json:"a,omitempty"`
		U    int64     `json:"u,omitempty"`
		ID   uint64    `json:"i"`
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c cursor
		if !DecodeCursor(s, 683, &c) {
			return
		}
		again, err := EncodeCursor(c)
		if err != nil {
			t.Fatalf("%q decoded to %+v, which does not encode: %v", s, c, err)
		}
		var c2 cursor
		if !DecodeCursor(again, math.MaxInt, &c2) || !c2.From.Equal(c.From) || c2.List != c.List || c2.At != c.At || c2.U != c.U || c2.ID != c.ID {
			t.Fatalf("%q: %+v re-encoded as %q decodes to %+v", s, c, again, c2)
		}
	})
}

// FuzzPathID: an id is a positive integer or not found; nothing else.
func FuzzPathID(f *testing.F) {
	for _, s := range []string{"1", "0", "-1", "18446744073709551615", "18446744073709551616", "1e3", "0x10", " 1", "１", "007"} {
		f.Add(s)
	}
	gin.SetMode(gin.TestMode)
	f.Fuzz(func(t *testing.T, raw string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Params = gin.Params{{Key: "id", Value: raw}}
		id, err := PathID(c, "id")
		if err != nil {
			if e, ok := err.(*Error); !ok || e.Code != CodeNotFound {
				t.Fatalf("%q: %v, want not_found", raw, err)
			}
			return
		}
		if n, perr := strconv.ParseUint(raw, 10, 64); id == 0 || perr != nil || n != id {
			t.Fatalf("%q: id %d", raw, id)
		}
	})
}
