package content

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// Editor list limits.
const (
	DefaultListSize = 20
	MaxListSize     = 100
)

// ListItem is an article in the editors' list: everything but the body.
type ListItem struct {
	ID          uint64     `json:"id"`
	AuthorID    uint64     `json:"author_id"`
	Title       string     `json:"title"`
	Summary     string     `json:"summary"`
	Category    string     `json:"category"`
	Tags        []string   `json:"tags"`
	Status      string     `json:"status"`
	PublishedAt *time.Time `json:"published_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// ListPage is one page of the editors' list.
type ListPage struct {
	Items      []ListItem `json:"items"`
	NextCursor *string    `json:"next_cursor"` // null on the last page
}

// ListFilter selects articles for the editors' list; empty fields do not filter.
type ListFilter struct {
	Status   string // draft | published
	Category string
}

// listCursor continues a list after the last item of a page (keyset on
// updated_at DESC, id DESC) and remembers the filter it belongs to.
type listCursor struct {
	UpdatedAt int64  `json:"u"` // Unix microseconds (DATETIME(6))
	ID        uint64 `json:"i"`
	Status    string `json:"s,omitempty"`
	Category  string `json:"c,omitempty"`
}

func (c listCursor) encode() string {
	s, _ := web.EncodeCursor(c) // numbers and strings: always encodable
	return s
}

// maxCursorLen is the base64url of 512 bytes of JSON, in characters.
const maxCursorLen = 683

// decodeCursor reads a cursor and checks its time is one an article can
// have (web.EarliestRecord .. web.LatestRecord): a hand-made one with the
// largest int64 reached MySQL as year 294247 and answered 500.
func decodeCursor(s string, now time.Time) (listCursor, bool) {
	var c listCursor
	if !web.DecodeCursor(s, maxCursorLen, &c) || c.ID == 0 {
		return c, false
	}
	lo, hi := web.EarliestRecord(time.UTC).UnixMicro(), web.LatestRecord(now).UnixMicro()
	return c, lo <= c.UpdatedAt && c.UpdatedAt <= hi
}

// listEditor serves GET /v1/editor/contents: every article that is not
// deleted, drafts included, most recently edited first.
func (a *API) listEditor(c *gin.Context) (web.Answer, error) {
	f, size, after, err := parseListQuery(c.Request.URL.RawQuery, a.o.Now())
	if err != nil {
		return web.Answer{}, err
	}
	page, err := a.list(c.Request.Context(), f, size, after)
	return web.OK(page), err
}

// parseListQuery validates status, category, size and cursor; any other
// parameter, or one given twice, is a field error (validation_failed). A
// cursor that is malformed, of another filter or out of the times articles
// have is bad_cursor.
func parseListQuery(raw string, now time.Time) (ListFilter, int, *listCursor, error) {
	var fields web.Fields
	q := web.StrictQuery(&fields, raw, "status", "category", "size", "cursor")
	f := ListFilter{Status: q.Get("status"), Category: q.Get("category")}
	size := web.PageSize(&fields, "size", q.Get("size"), DefaultListSize, MaxListSize)
	if q.Has("status") && f.Status != "draft" && f.Status != "published" {
		fields.Add("status", web.FieldInvalid, "draft 또는 published 여야 합니다.")
	}
	if n := utf8.RuneCountInString(f.Category); q.Has("category") && n < 1 {
		fields.Add("category", web.FieldRequired, "1~50자여야 합니다.")
	} else if n > 50 {
		fields.Add("category", web.FieldTooLong, "1~50자여야 합니다.")
	}
	if err := fields.Err(); err != nil {
		return f, size, nil, err
	}
	if !q.Has("cursor") {
		return f, size, nil, nil
	}
	cur, ok := decodeCursor(q.Get("cursor"), now)
	if !ok || cur.Status != f.Status || cur.Category != f.Category {
		return f, size, nil, web.BadCursor()
	}
	return f, size, &cur, nil
}

// list returns a page of articles (drafts included, deleted ones never) for
// editors, most recently updated first, continuing after the cursor.
func (a *API) list(ctx context.Context, f ListFilter, size int, after *listCursor) (ListPage, error) {
	items, err := a.store.List(ctx, a.db, f, after, size+1)
	if err != nil {
		return ListPage{}, err
	}
	page := ListPage{Items: items}
	if len(page.Items) > size {
		page.Items = page.Items[:size]
		last := page.Items[size-1]
		next := listCursor{UpdatedAt: last.UpdatedAt.UnixMicro(), ID: last.ID, Status: f.Status, Category: f.Category}.encode()
		page.NextCursor = &next
	}
	return page, nil
}
