package content

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// ArticleStore is the SQL of the articles (table contents). Every method
// takes the querier it runs on (the pool, or the transaction of API.edit);
// a missing or soft-deleted article is ErrNotFound.
type ArticleStore struct{}

// NewArticle is an article as Insert writes it.
type NewArticle struct {
	AuthorID                       uint64
	Title, Body, Summary, Category string
	Tags                           []string
	Status                         string     // draft | published
	PublishedAt                    *time.Time // nil: never published
}

// Changes is an edit of an article: nil fields stay as they are.
type Changes struct {
	Title, Body, Summary, Category *string
	Tags                           *[]string
	Status                         *string
}

// itemColumns are the columns of a ListItem, in scanItem's order.
const itemColumns = "id, author_id, title, summary, category, tags, status, published_at, created_at, updated_at"

// scanItem scans the itemColumns of a row, then extra (the columns the
// query adds after them).
func scanItem(r mysql.Scanner, extra ...any) (ListItem, error) {
	var it ListItem
	var tags string
	var pub sql.NullTime
	dest := append([]any{&it.ID, &it.AuthorID, &it.Title, &it.Summary, &it.Category, &tags, &it.Status, &pub, &it.CreatedAt, &it.UpdatedAt}, extra...)
	if err := r.Scan(dest...); err != nil {
		return ListItem{}, err
	}
	if pub.Valid {
		it.PublishedAt = &pub.Time
	}
	it.Tags = []string{}
	_ = json.Unmarshal([]byte(tags), &it.Tags)
	return it, nil
}

// tagsJSON is the stored form of tags (a JSON array).
func tagsJSON(tags []string) string {
	b, _ := json.Marshal(tags) // strings: always encodable
	return string(b)
}

// Insert writes a new article and returns its id.
func (ArticleStore) Insert(ctx context.Context, q mysql.Querier, a NewArticle) (uint64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO contents (author_id, title, body, summary, category, tags, status, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		a.AuthorID, a.Title, a.Body, a.Summary, a.Category, tagsJSON(a.Tags), a.Status, a.PublishedAt)
	if err != nil {
		return 0, fmt.Errorf("content: insert: %w", err)
	}
	id, err := res.LastInsertId()
	return uint64(id), err
}

// Get reads article id, drafts included.
func (ArticleStore) Get(ctx context.Context, q mysql.Querier, id uint64) (Content, error) {
	var ct Content
	var err error
	ct.ListItem, err = scanItem(q.QueryRowContext(ctx, `SELECT `+itemColumns+`, body FROM contents WHERE id = ? AND deleted_at IS NULL`, id), &ct.Body)
	if errors.Is(err, sql.ErrNoRows) {
		return Content{}, ErrNotFound
	}
	if err != nil {
		return Content{}, fmt.Errorf("content: get: %w", err)
	}
	return ct, nil
}

// Lock locks article id for an edit.
func (ArticleStore) Lock(ctx context.Context, q mysql.Querier, id uint64) error {
	var status string
	err := q.QueryRowContext(ctx, `SELECT status FROM contents WHERE id = ? AND deleted_at IS NULL FOR UPDATE`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("content: lock: %w", err)
	}
	return nil
}

// Update applies ch to article id; now becomes published_at when the
// article is published for the first time (unpublishing keeps it).
func (ArticleStore) Update(ctx context.Context, q mysql.Querier, id uint64, ch Changes, now time.Time) error {
	var tags any
	if ch.Tags != nil {
		tags = tagsJSON(*ch.Tags)
	}
	_, err := q.ExecContext(ctx, `UPDATE contents SET title = COALESCE(?, title), body = COALESCE(?, body), summary = COALESCE(?, summary),
			category = COALESCE(?, category), tags = COALESCE(?, tags), status = COALESCE(?, status),
			published_at = CASE WHEN COALESCE(?, status) = 'published' AND published_at IS NULL THEN ? ELSE published_at END
			WHERE id = ?`, ch.Title, ch.Body, ch.Summary, ch.Category, tags, ch.Status, ch.Status, now, id)
	if err != nil {
		return fmt.Errorf("content: update: %w", err)
	}
	return nil
}

// SoftDelete marks article id deleted at now.
func (ArticleStore) SoftDelete(ctx context.Context, q mysql.Querier, id uint64, now time.Time) error {
	res, err := q.ExecContext(ctx, `UPDATE contents SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, now, id)
	if err != nil {
		return fmt.Errorf("content: delete: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// List returns up to limit articles of the filter (drafts included,
// deleted ones never), most recently updated first, after the cursor's
// position (nil: from the first).
func (ArticleStore) List(ctx context.Context, q mysql.Querier, f ListFilter, after *listCursor, limit int) ([]ListItem, error) {
	where := []string{"deleted_at IS NULL"}
	var args []any
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
	args = append(args, limit)
	items, err := mysql.QueryAll(ctx, q, func(r mysql.Scanner) (ListItem, error) { return scanItem(r) },
		`SELECT `+itemColumns+` FROM contents WHERE `+strings.Join(where, " AND ")+` ORDER BY updated_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("content: list: %w", err)
	}
	return items, nil
}
