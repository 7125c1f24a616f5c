package content

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/auth/apierr"
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

func decodeCursor(s string) (listCursor, bool) {
	var c listCursor
	if !web.DecodeCursor(s, maxCursorLen, &c) || c.ID == 0 {
		return c, false
	}
	return c, true
}

// listEditor serves GET /v1/editor/contents: every article that is not
// deleted, drafts included, most recently edited first.
func (a *API) listEditor(c *gin.Context) {
	f, size, after, err := parseListQuery(c.Request.URL.RawQuery)
	if err != nil {
		a.fail(c, err)
		return
	}
	page, err := a.list(c.Request.Context(), f, size, after)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// parseListQuery validates status, category, size and cursor; anything else,
// or a parameter given twice, is a field error.
func parseListQuery(raw string) (ListFilter, int, *listCursor, error) {
	var f ListFilter
	var fields apierr.Fields
	size := DefaultListSize
	var after *listCursor
	q, err := url.ParseQuery(raw)
	if err != nil {
		return f, 0, nil, apierr.Invalid("query", "쿼리 문자열이 올바르지 않습니다.")
	}
	for name, vals := range q {
		if len(vals) > 1 {
			fields.Add(name, "한 번만 보낼 수 있습니다.")
			continue
		}
		v := vals[0]
		switch name {
		case "status":
			if v != "draft" && v != "published" {
				fields.Add("status", "draft 또는 published 여야 합니다.")
			}
			f.Status = v
		case "category":
			if n := utf8.RuneCountInString(v); n < 1 || n > 50 {
				fields.Add("category", "1~50자여야 합니다.")
			}
			f.Category = v
		case "size":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxListSize {
				fields.Add("size", fmt.Sprintf("1~%d 사이의 정수여야 합니다.", MaxListSize))
			}
			size = n
		case "cursor":
			cur, ok := decodeCursor(v)
			if !ok {
				fields.Add("cursor", "올바른 커서가 아닙니다.")
			}
			after = &cur
		default:
			fields.Add(name, "알 수 없는 매개변수입니다.")
		}
	}
	if after != nil && after.ID != 0 && (after.Status != f.Status || after.Category != f.Category) {
		fields.Add("cursor", "다른 조건(status, category)으로 만든 커서입니다.")
	}
	return f, size, after, fields.Err()
}

// list returns a page of articles (drafts included, deleted ones never) for
// editors, most recently updated first, continuing after the cursor.
func (a *API) list(ctx context.Context, f ListFilter, size int, after *listCursor) (ListPage, error) {
	var where []string
	var args []any
	where = append(where, "deleted_at IS NULL")
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if f.Category != "" {
		where = append(where, "category = ?")
		args = append(args, f.Category)
	}
	if after != nil {
		at := time.UnixMicro(after.UpdatedAt).UTC()
		where = append(where, "(updated_at < ? OR (updated_at = ? AND id < ?))")
		args = append(args, at, at, after.ID)
	}
	args = append(args, size+1)
	rows, err := a.db.QueryContext(ctx, `SELECT id, author_id, title, summary, category, tags, status, published_at, created_at, updated_at
		FROM contents WHERE `+strings.Join(where, " AND ")+` ORDER BY updated_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return ListPage{}, fmt.Errorf("content: list: %w", err)
	}
	defer rows.Close()
	page := ListPage{Items: []ListItem{}}
	for rows.Next() {
		var it ListItem
		var tags string
		var pub sql.NullTime
		if err := rows.Scan(&it.ID, &it.AuthorID, &it.Title, &it.Summary, &it.Category, &tags, &it.Status, &pub, &it.CreatedAt, &it.UpdatedAt); err != nil {
			return ListPage{}, fmt.Errorf("content: list: %w", err)
		}
		if pub.Valid {
			it.PublishedAt = &pub.Time
		}
		it.Tags = []string{}
		_ = json.Unmarshal([]byte(tags), &it.Tags)
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return ListPage{}, fmt.Errorf("content: list: %w", err)
	}
	if len(page.Items) > size {
		page.Items = page.Items[:size]
		last := page.Items[size-1]
		next := listCursor{UpdatedAt: last.UpdatedAt.UnixMicro(), ID: last.ID, Status: f.Status, Category: f.Category}.encode()
		page.NextCursor = &next
	}
	return page, nil
}
