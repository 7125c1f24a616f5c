package content

import (
	"encoding/base64"
	"testing"
	"time"
)

// FuzzEditorCursor: the editors' list accepts only cursors whose time an
// article can have, and whose filter it checks against the request's
// (issue 26: the largest int64 answered 500). Seeds are the findings; `go
// test -fuzz=FuzzEditorCursor ./content/` explores further.
func FuzzEditorCursor(f *testing.F) {
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		"status=draft&cursor=" + b64(`{"u":9223372036854775807,"i":1,"s":"draft"}`),
		"cursor=" + b64(`{"u":-9223372036854775808,"i":1}`),
		"cursor=" + b64(`{"u":1710460800000000,"i":7}`),
		"cursor=" + b64(`{"u":1710460800000000,"i":0}`),
		"category=%EC%B2%9C%EC%8B%9D&cursor=" + b64(`{"u":1710460800000000,"i":7,"c":"천식"}`),
		"cursor=%%%", "size=0", "",
	} {
		f.Add(s)
	}
	now := time.Date(2024, 3, 15, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		filter, size, after, err := parseListQuery(raw, now)
		if err != nil || after == nil {
			return
		}
		at := time.UnixMicro(after.UpdatedAt).UTC()
		if at.Year() < 2000 || at.After(now.Add(24*time.Hour)) || after.ID == 0 {
			t.Fatalf("%q: accepted cursor %+v (%v)", raw, after, at)
		}
		if after.Status != filter.Status || after.Category != filter.Category || size < 1 || size > MaxListSize {
			t.Fatalf("%q: cursor %+v with filter %+v size %d", raw, after, filter, size)
		}
	})
}
