package records

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// Pages of the record lists. A list is ordered by (time, id), ascending,
// within its from/to range; a page holds up to limit items and, when more
// follow, next_cursor: the range and the (time, id) of its last item,
// base64url JSON. The next page is the items strictly after that position
// (a keyset, not an offset), so pages neither repeat nor skip items even
// when records are added or deleted between requests: an item added after
// the position shows on a later page, one added before it does not.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000

	maxCursorLen = 683 // characters: the base64url of 512 bytes of JSON
)

// page is a parsed list request.
type page struct {
	from, to time.Time
	limit    int
	after    *cursor // nil: the first page
}

// cursor is the position after which a page starts.
type cursor struct {
	Kind string    `json:"k"` // the list it belongs to (kind.path)
	From time.Time `json:"f"`
	To   time.Time `json:"t"`
	At   string    `json:"a"` // the last item's time (RFC 3339) or date (health events)
	ID   uint64    `json:"i"`

	at any // At parsed: time.Time, or the date string
}

// parsePage reads from, to (see Range), limit (1–MaxPageSize, default
// DefaultPageSize) and cursor. A cursor carries its range: from and to may
// be left out on later pages, and must be the same when given. A cursor
// that is malformed, of another list or of another range is bad_cursor.
func parsePage(c *gin.Context, k kind, loc *time.Location, now time.Time) (page, error) {
	var v Checker
	p := page{limit: DefaultPageSize}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			v.Add("limit", FieldInvalid, "limit 은 1~"+strconv.Itoa(MaxPageSize)+" 사이의 정수여야 합니다.")
		case n < 1 || n > MaxPageSize:
			v.Add("limit", FieldOutOfRange, "limit 은 1~"+strconv.Itoa(MaxPageSize)+" 사이여야 합니다.")
		default:
			p.limit = n
		}
	}
	p.from, p.to = rangeOf(&v, c, loc, now)
	if err := v.Err(); err != nil {
		return p, err
	}
	s := c.Query("cursor")
	if s == "" {
		return p, nil
	}
	cur, ok := decodeCursor(s, k)
	if !ok {
		return p, badCursor()
	}
	if c.Query("from") != "" || c.Query("to") != "" {
		if !cur.From.Equal(p.from) || !cur.To.Equal(p.to) {
			return p, badCursor()
		}
	}
	p.from, p.to, p.after = cur.From, cur.To, cur
	return p, nil
}

func badCursor() error {
	return &web.Error{Code: web.CodeBadCursor, Message: "cursor 가 올바르지 않습니다. cursor 없이 처음부터 다시 요청해 주세요."}
}

func decodeCursor(s string, k kind) (*cursor, bool) {
	var c cursor
	if !web.DecodeCursor(s, maxCursorLen, &c) || c.Kind != k.path || c.ID == 0 || !c.To.After(c.From) {
		return nil, false
	}
	if k.dates {
		t, err := time.Parse(time.DateOnly, c.At)
		if err != nil {
			return nil, false
		}
		c.at = t.Format(time.DateOnly)
	} else {
		t, err := time.Parse(time.RFC3339Nano, c.At)
		if err != nil {
			return nil, false
		}
		c.at = t.UTC()
	}
	return &c, true
}

// next is the cursor after item, the last of a page.
func (p page) next(k kind, item any) string {
	c := cursor{Kind: k.path, From: p.from, To: p.to}
	switch x := item.(type) {
	case Symptom:
		c.At, c.ID = x.RecordedAt.UTC().Format(time.RFC3339Nano), x.ID
	case PeakFlow:
		c.At, c.ID = x.RecordedAt.UTC().Format(time.RFC3339Nano), x.ID
	case ACTResult:
		c.At, c.ID = x.RecordedAt.UTC().Format(time.RFC3339Nano), x.ID
	case HealthEvent:
		c.At, c.ID = x.StartDate, x.ID
	}
	next, _ := web.EncodeCursor(c) // strings, times and a number: always encodable
	return next
}
