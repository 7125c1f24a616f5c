package content_test

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"testing"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// ids returns the ids of a list page's items.
func ids(t *testing.T, body map[string]any) []uint64 {
	t.Helper()
	items, ok := body["items"].([]any)
	if !ok {
		t.Fatalf("no items: %v", body)
	}
	out := []uint64{}
	for _, it := range items {
		out = append(out, uint64(it.(map[string]any)["id"].(float64)))
	}
	return out
}

// walk follows next_cursor from query until the last page and returns every id.
func (e *env) walk(tok, query string) []uint64 {
	e.t.Helper()
	var all []uint64
	q, _ := url.ParseQuery(query)
	for page := 0; page < 50; page++ {
		st, body := e.do("GET", "/v1/editor/contents?"+q.Encode(), tok, nil)
		if st != 200 {
			e.t.Fatalf("GET %s: %d %v", q.Encode(), st, body)
		}
		all = append(all, ids(e.t, body)...)
		next, _ := body["next_cursor"].(string)
		if next == "" {
			return all
		}
		q.Set("cursor", next)
	}
	e.t.Fatal("more than 50 pages")
	return nil
}

// want lists the matching ids the way the endpoint must order them, from MySQL.
func (e *env) want(where string, args ...any) []uint64 {
	e.t.Helper()
	rows, err := e.db.Query(`SELECT id FROM contents WHERE deleted_at IS NULL`+where+` ORDER BY updated_at DESC, id DESC`, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := []uint64{}
	for rows.Next() {
		var id uint64
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

func TestEditorList(t *testing.T) {
	e := newEnv(t)
	editor := e.user("편집자", "editor")
	admin := e.user("관리자", "admin")
	user := e.user("환자", "user")
	var created []uint64
	for i := range 7 {
		status, category := "draft", "약물"
		if i%3 == 0 {
			status = "published"
		}
		if i%2 == 0 {
			category = "생활"
		}
		st, body := e.do("POST", "/v1/contents", editor, map[string]any{"title": fmt.Sprintf("글 %d", i), "body": "본문", "category": category, "status": status})
		if st != 201 {
			t.Fatalf("create %d %v", st, body)
		}
		created = append(created, uint64(body["id"].(float64)))
	}
	// Editing the oldest moves it first; a deleted one is never listed; equal
	// updated_at values are ordered by id (keyset ties).
	if st, _ := e.do("PATCH", fmt.Sprintf("/v1/contents/%d", created[1]), editor, map[string]any{"summary": "고침"}); st != 200 {
		t.Fatal("patch")
	}
	if st, _ := e.do("DELETE", fmt.Sprintf("/v1/contents/%d", created[5]), editor, nil); st != 204 {
		t.Fatal("delete")
	}
	if _, err := e.db.Exec(`UPDATE contents SET updated_at = '2024-05-01 00:00:00' WHERE id IN (?, ?, ?)`, created[2], created[3], created[4]); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, query, where string
		args               []any
	}{
		{"everything, pages of 2", "size=2", "", nil},
		{"drafts, pages of 1", "status=draft&size=1", " AND status = 'draft'", nil},
		{"published, one page", "status=published", " AND status = 'published'", nil},
		{"category and status", "status=draft&category=약물&size=2", " AND status = 'draft' AND category = ?", []any{"약물"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := e.want(tt.where, tt.args...)
			if len(want) == 0 {
				t.Fatal("test data matches nothing")
			}
			if got := e.walk(editor, tt.query); !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
		})
	}
	all := e.walk(admin, "size=100")
	if len(all) != 6 || all[0] != created[1] || slices.Contains(all, created[5]) {
		t.Errorf("admin list %v: want 6 articles, the edited one (%d) first, not the deleted %d", all, created[1], created[5])
	}

	st, body := e.do("GET", "/v1/editor/contents?status=draft&size=1", editor, nil)
	item := body["items"].([]any)[0].(map[string]any)
	if st != 200 || item["status"] != "draft" || item["body"] != nil || body["next_cursor"] == nil {
		t.Errorf("page %d %v", st, body)
	}
	draftCursor := body["next_cursor"].(string)

	bad := []struct {
		name, query, tok string
		status           int
		code             string
	}{
		{"user", "", user, 403, "forbidden"},
		{"anonymous", "", "", 401, "unauthorized"},
		{"unknown status", "status=live", editor, 400, "validation_failed"},
		{"size 0", "size=0", editor, 400, "validation_failed"},
		{"size too large", "size=101", editor, 400, "validation_failed"},
		{"size not a number", "size=ten", editor, 400, "validation_failed"},
		{"garbage cursor", "cursor=%%%", editor, 400, "validation_failed"},
		{"forged cursor", "cursor=bm90LWpzb24", editor, 400, "bad_cursor"},
		{"cursor of another filter", "status=published&cursor=" + url.QueryEscape(draftCursor), editor, 400, "bad_cursor"},
		// Issue 26: a cursor whose time is the largest int64 reached MySQL and answered 500.
		{"cursor at the largest time", "cursor=" + b64(`{"u":9223372036854775807,"i":1}`), editor, 400, "bad_cursor"},
		{"cursor before 2000", "cursor=" + b64(`{"u":-62135596800000000,"i":1}`), editor, 400, "bad_cursor"},
		{"unknown parameter", "q=천식", editor, 400, "validation_failed"},
		{"status twice", "status=draft&status=published", editor, 400, "validation_failed"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			st, body := e.do("GET", "/v1/editor/contents?"+tt.query, tt.tok, nil)
			if st != tt.status || code(body) != tt.code {
				t.Errorf("%d %v, want %d %s", st, body, tt.status, tt.code)
			}
		})
	}
}
