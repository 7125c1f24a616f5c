package care

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// Pages of the care lists (records, intakes, medications, schedules). A
// ranged list is ordered by (time, id), ascending, within its from/to
// range; an unranged one by id. A page holds up to size items (the query
// parameter size; limit is its deprecated alias) and, when
// more follow, next_cursor: the list, the range and the position of its
// last item, base64url JSON. The next page is the items strictly after that
// position (a keyset, not an offset), so pages neither repeat nor skip items
// even when records are added or deleted between requests: an item added
// after the position shows on a later page, one added before it does not.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000

	maxCursorLen = 683 // characters: the base64url of 512 bytes of JSON
)

// Pager is one paged list.
type Pager struct {
	Name   string // bound into its cursors (the path: symptoms, intakes, …)
	Ranged bool   // takes from/to and pages in (time, id) order; otherwise in id order
	Dates  bool   // the range column is a DATE (health events)
	// DefaultSize is the page size without size (0: DefaultPageSize).
	DefaultSize int
}

// Page is a parsed list request.
type Page struct {
	From, To time.Time // the range (ranged lists)
	Limit    int       // the page size
	After    *Cursor   // nil: the first page
}

// Cursor is the position after which a page starts.
type Cursor struct {
	List string    `json:"k"`
	From time.Time `json:"f"`
	To   time.Time `json:"t"`
	At   string    `json:"a"` // the last item's time (RFC 3339) or date (dates); "" in id order
	ID   uint64    `json:"i"`

	at any // At parsed: time.Time, or the date string
}

// Parse reads size (1–MaxPageSize; see pageSize for its alias limit),
// cursor and, for a ranged list, from
// and to (local dates in loc or RFC 3339; default the 30 days before now, at
// most 400 days, within the records' bounds: see rangeRule). A cursor
// carries its range: from and to may be left out on later pages, and must
// be the same when given. A cursor that is malformed, of another list or
// of another range, or whose range or position the parameters could not
// have given, is bad_cursor.
func (l Pager) Parse(c *gin.Context, loc *time.Location, now time.Time) (Page, error) {
	var v Checker
	p := Page{Limit: l.pageSize(&v, c)}
	rule := rangeRule(loc, now)
	if l.Ranged {
		r := rule.Parse(&v.Fields, c.Query("from"), c.Query("to"))
		p.From, p.To = r.From.UTC(), r.To.UTC()
	}
	if err := v.Err(); err != nil {
		return p, err
	}
	s := c.Query("cursor")
	if s == "" {
		return p, nil
	}
	cur, ok := l.decode(s, rule)
	if !ok {
		return p, web.BadCursor()
	}
	if c.Query("from") != "" || c.Query("to") != "" {
		if !cur.From.Equal(p.From) || !cur.To.Equal(p.To) {
			return p, web.BadCursor()
		}
	}
	p.From, p.To, p.After = cur.From, cur.To, cur
	return p, nil
}

// pageSize reads the page size: size, or limit, its deprecated alias (the
// care lists' name for it until 2026-12-08; every other list says size).
// Both with different values name both (validation_failed); a bad value
// is named under the parameter given.
func (l Pager) pageSize(v *Checker, c *gin.Context) int {
	def := l.DefaultSize
	if def == 0 {
		def = DefaultPageSize
	}
	name, raw := "size", c.Query("size")
	switch limit := c.Query("limit"); {
	case raw == "":
		name, raw = "limit", limit
	case limit != "" && limit != raw:
		msg := "size 와 limit(size 의 예전 이름)이 서로 다릅니다. size 하나만 보내 주세요."
		v.Add("size", web.FieldInvalid, msg)
		v.Add("limit", web.FieldInvalid, msg)
		return def
	}
	return web.PageSize(&v.Fields, name, raw, def, MaxPageSize)
}

// ParseForUser is Parse in the zone of the caller's plan (zones.User over
// q), which it returns too.
func (l Pager) ParseForUser(c *gin.Context, q mysql.Querier, zones *Zones, now time.Time) (Page, *time.Location, error) {
	loc, _, err := zones.User(c.Request.Context(), q, UserID(c))
	if err != nil {
		return Page{}, nil, err
	}
	p, err := l.Parse(c, loc, now)
	return p, loc, err
}

// rangeRule is how the ranged lists read from and to: local dates in loc or
// RFC 3339 instants, within the records' bounds (web.EarliestRecord; the
// range starts before web.LatestRecord), to defaulting to now and from to
// 30 days before it, at most 400 days.
func rangeRule(loc *time.Location, now time.Time) web.RangeRule {
	return web.RangeRule{Zone: loc, Instants: true, Until: func() time.Time { return now }, DefaultDays: 30, MaxDays: 400,
		Earliest: web.EarliestRecord(loc), Horizon: web.LatestRecord(now)}
}

// decode reads a cursor of this list and checks it again as the request's
// parameters would be (a client can make a cursor by hand): the range by
// rule (bounds, order, at most 400 days) and the position near the range
// (a day of margin: a date's zone).
func (l Pager) decode(s string, rule web.RangeRule) (*Cursor, bool) {
	var c Cursor
	if !web.DecodeCursor(s, maxCursorLen, &c) || c.List != l.Name || c.ID == 0 {
		return nil, false
	}
	if !l.Ranged {
		return &c, c.At == "" && c.From.IsZero() && c.To.IsZero()
	}
	if !rule.Valid(web.Range{From: c.From, To: c.To}) {
		return nil, false
	}
	layout := time.RFC3339Nano
	if l.Dates {
		layout = time.DateOnly
	}
	t, err := time.Parse(layout, c.At)
	if err != nil || t.Before(c.From.AddDate(0, 0, -1)) || t.After(c.To.AddDate(0, 0, 1)) {
		return nil, false
	}
	if l.Dates {
		c.at = t.Format(time.DateOnly)
	} else {
		c.at = t.UTC()
	}
	return &c, true
}

// Keyset returns the condition (with a leading " AND ") and its arguments
// that keep the items after the cursor, in (order, id) order; order is ""
// for lists in id order.
func (p Page) Keyset(order string) (string, []any) {
	switch {
	case p.After == nil:
		return "", nil
	case order == "":
		return " AND id > ?", []any{p.After.ID}
	}
	return " AND (" + order + " > ? OR (" + order + " = ? AND id > ?))", []any{p.After.at, p.After.at, p.After.ID}
}

// Cut trims items fetched with LIMIT Limit+1 to the page and returns the
// cursor after its last item (nil on the last page); pos gives an item's
// position: its time or date, and id.
func Cut[T any](l Pager, p Page, items []T, pos func(T) (at string, id uint64)) ([]T, *string) {
	if len(items) <= p.Limit {
		return items, nil
	}
	items = items[:p.Limit]
	c := Cursor{List: l.Name, From: p.From, To: p.To}
	c.At, c.ID = pos(items[p.Limit-1])
	next, _ := web.EncodeCursor(c) // strings, times and a number: always encodable
	return items, &next
}

// Instant is the cursor position of a record's time.
func Instant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
