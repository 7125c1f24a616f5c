package care

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

var pageNow = time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)

func pageZone(tb testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// parsePage runs Pager.Parse on a query string.
func parsePage(l Pager, query string, loc *time.Location) (Page, error) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/?"+query, nil)
	return l.Parse(c, loc, pageNow)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// A cursor is checked again when it comes back: a hand-made one cannot carry
// a range the parameters would refuse (issue 26: it skipped the 400-day
// limit and reached MySQL with years 0 and 9999).
func TestPagerRevalidatesCursors(t *testing.T) {
	loc := pageZone(t)
	symptoms := Pager{Name: "symptoms", Ranged: true}
	events := Pager{Name: "health-events", Ranged: true, Dates: true}
	p, err := parsePage(symptoms, "from=2024-03-01&to=2024-03-31", loc)
	if err != nil {
		t.Fatal(err)
	}
	issued, _ := web.EncodeCursor(Cursor{List: "symptoms", From: p.From, To: p.To, At: Instant(time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC)), ID: 9})
	tests := []struct {
		name   string
		l      Pager
		cursor string
		ok     bool
	}{
		{"issued", symptoms, issued, true},
		{"years 0 to 9999", symptoms, b64(`{"k":"symptoms","f":"0000-01-01T00:00:00Z","t":"9999-12-31T00:00:00Z","a":"2024-03-01T00:00:00Z","i":1}`), false},
		{"past the 400-day limit", symptoms, b64(`{"k":"symptoms","f":"2020-01-01T00:00:00Z","t":"2024-03-01T00:00:00Z","a":"2024-03-01T00:00:00Z","i":1}`), false},
		{"starts after tomorrow", symptoms, b64(`{"k":"symptoms","f":"2030-01-01T00:00:00Z","t":"2030-02-01T00:00:00Z","a":"2030-01-02T00:00:00Z","i":1}`), false},
		{"position year 0", symptoms, b64(`{"k":"symptoms","f":"2024-03-01T00:00:00Z","t":"2024-03-31T00:00:00Z","a":"0000-01-01T00:00:00Z","i":1}`), false},
		{"position far outside", symptoms, b64(`{"k":"symptoms","f":"2024-03-01T00:00:00Z","t":"2024-03-31T00:00:00Z","a":"2024-06-01T00:00:00Z","i":1}`), false},
		{"event date year 9999", events, b64(`{"k":"health-events","f":"2024-03-01T00:00:00Z","t":"2024-03-31T00:00:00Z","a":"9999-12-31","i":1}`), false},
		{"event date", events, b64(`{"k":"health-events","f":"2024-03-01T00:00:00Z","t":"2024-03-31T00:00:00Z","a":"2024-03-10","i":1}`), true},
		{"another list", events, issued, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parsePage(tt.l, "cursor="+tt.cursor, loc)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// The care lists take size like every other list, and limit as its
// deprecated alias; both with different values are refused naming both.
func TestPagerSize(t *testing.T) {
	loc := pageZone(t)
	meds := Pager{Name: "medications", DefaultSize: 500}
	tests := []struct {
		name, query string
		size        int
		code        string   // "" = accepted
		fields      []string // the fields named
	}{
		{"default", "", 500, "", nil},
		{"size", "size=20", 20, "", nil},
		{"limit (deprecated alias)", "limit=30", 30, "", nil},
		{"both, the same", "size=40&limit=40", 40, "", nil},
		{"both, different", "size=40&limit=50", 0, web.CodeValidationFailed, []string{"size", "limit"}},
		{"size out of range", "size=1001", 0, CodeOutOfRange, []string{"size"}},
		{"limit not a number", "limit=ten", 0, web.CodeValidationFailed, []string{"limit"}},
		{"size not a number", "size=2.5", 0, web.CodeValidationFailed, []string{"size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePage(meds, tt.query, loc)
			if tt.code == "" {
				if err != nil || p.Limit != tt.size {
					t.Fatalf("Parse(%q) = %d, %v; want %d", tt.query, p.Limit, err, tt.size)
				}
				return
			}
			e, ok := err.(*web.Error)
			if !ok || e.Code != tt.code || len(e.Fields) != len(tt.fields) {
				t.Fatalf("Parse(%q) = %v, want %s naming %v", tt.query, err, tt.code, tt.fields)
			}
			for i, f := range tt.fields {
				if e.Fields[i].Field != f {
					t.Errorf("field %d is %q, want %q", i, e.Fields[i].Field, f)
				}
			}
		})
	}
}

// FuzzPagerCursor: a cursor a ranged list accepts carries a range the
// parameters could have given and a position near it, so every value of
// the keyset query is a time MySQL stores and JSON encodes.
func FuzzPagerCursor(f *testing.F) {
	for _, s := range []string{
		b64(`{"k":"symptoms","f":"0000-01-01T00:00:00Z","t":"9999-12-31T00:00:00Z","a":"2024-03-01T00:00:00Z","i":1}`),
		b64(`{"k":"symptoms","f":"2024-03-01T00:00:00Z","t":"2024-03-31T00:00:00Z","a":"2024-03-10T00:00:00Z","i":1}`),
		b64(`{"k":"symptoms","f":"2024-03-01T00:00:00Z","t":"2024-03-31T00:00:00Z","a":"2024-03-10","i":1}`),
		b64(`{"k":"symptoms","f":"2024-03-01T00:00:00+14:00","t":"2025-04-05T00:00:00-12:00","a":"2024-03-10T00:00:00Z","i":18446744073709551615}`),
		b64(`{"k":"symptoms"}`), "", "!!",
	} {
		f.Add(s)
	}
	loc := pageZone(f)
	l := Pager{Name: "symptoms", Ranged: true}
	rule := rangeRule(loc, pageNow)
	lo, hi := web.EarliestRecord(time.UTC).AddDate(0, 0, -2), web.LatestRecord(pageNow).AddDate(0, 0, 402)
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := l.decode(s, rule)
		if !ok {
			return
		}
		at, _ := c.at.(time.Time)
		for _, v := range []time.Time{c.From, c.To, at} {
			if v.Before(lo) || v.After(hi) {
				t.Fatalf("%q: accepted %+v with a time outside %v..%v", s, c, lo, hi)
			}
		}
		if !c.To.After(c.From) || c.To.After(c.From.AddDate(0, 0, 401)) {
			t.Fatalf("%q: accepted range %v..%v", s, c.From, c.To)
		}
	})
}
