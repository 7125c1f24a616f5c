package seed

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNotEmpty is returned (wrapped) by Load when users already has rows and
// LoadOptions.Replace is false.
var ErrNotEmpty = errors.New("seed: database already has users")

// BatchRows is the number of rows per multi-row INSERT (and per transaction).
const BatchRows = 500

// LoadOptions tunes Load.
type LoadOptions struct {
	// Replace deletes every row of the seeded tables (and user_identities)
	// first, with DELETE so that the binlog carries the row deletions.
	Replace bool
	// Progress, if set, is called before the first batch of each table and
	// after every batch.
	Progress func(table string, done, total int)
}

// Stats counts the rows Load inserted per table; Deleted counts the rows
// removed by Replace, all tables together.
type Stats struct {
	Users, Contents, Posts, Comments, PostLikes int
	Deleted                                     int64
}

// Table is one line of a Stats summary.
type Table struct {
	Name string
	Rows int
}

// Tables lists the counts in load order.
func (s Stats) Tables() []Table {
	return []Table{{"users", s.Users}, {"contents", s.Contents}, {"posts", s.Posts}, {"comments", s.Comments}, {"post_likes", s.PostLikes}}
}

// Load inserts c into the migrated database db in foreign key order, in
// multi-row INSERTs of BatchRows rows, one transaction per batch. A failure
// leaves the batches already committed: rerun with Replace.
func Load(ctx context.Context, db *sql.DB, c *Corpus, opts LoadOptions) (Stats, error) {
	var st Stats
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) t").Scan(&n); err != nil {
		return st, fmt.Errorf("seed: check users: %w", err)
	}
	if n > 0 {
		if !opts.Replace {
			return st, ErrNotEmpty
		}
		deleted, err := deleteAll(ctx, db)
		st.Deleted = deleted
		if err != nil {
			return st, err
		}
	}
	tables := []struct {
		name string
		cols string
		rows [][]any
		n    *int
	}{
		{"users", "id, email, nickname, bio, role, status, last_login_at, created_at, updated_at, deleted_at", userRows(c.Users), &st.Users},
		{"contents", "id, author_id, title, body, summary, category, tags, status, published_at, created_at, updated_at, deleted_at", contentRows(c.Contents), &st.Contents},
		{"posts", "id, user_id, category, title, body, like_count, comment_count, status, created_at, updated_at, deleted_at", postRows(c.Posts), &st.Posts},
		{"comments", "id, post_id, user_id, parent_id, body, created_at, updated_at, deleted_at", commentRows(c.Comments), &st.Comments},
		{"post_likes", "id, post_id, user_id, created_at, updated_at", likeRows(c.PostLikes), &st.PostLikes},
	}
	for _, t := range tables {
		if opts.Progress != nil {
			opts.Progress(t.name, 0, len(t.rows))
		}
		err := Insert(ctx, db, t.name, t.cols, t.rows, func(done int) {
			*t.n = done
			if opts.Progress != nil {
				opts.Progress(t.name, done, len(t.rows))
			}
		})
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// Insert inserts rows into table (cols names their columns, in order) in
// multi-row INSERTs of BatchRows rows, one transaction per batch. progress,
// if not nil, is called with the rows inserted so far after every batch. A
// failure leaves the batches already committed.
func Insert(ctx context.Context, db *sql.DB, table, cols string, rows [][]any, progress func(done int)) error {
	for from := 0; from < len(rows); from += BatchRows {
		batch := rows[from:min(from+BatchRows, len(rows))]
		if err := insert(ctx, db, table, cols, batch); err != nil {
			return fmt.Errorf("seed: insert %s rows %d–%d: %w", table, from+1, from+len(batch), err)
		}
		if progress != nil {
			progress(from + len(batch))
		}
	}
	return nil
}

// deleteAll deletes children before parents. Replies go before the comments
// they answer; foreign keys RESTRICT, so nothing cascades invisibly.
func deleteAll(ctx context.Context, db *sql.DB) (int64, error) {
	var total int64
	for _, q := range []string{
		"DELETE FROM post_likes",
		"DELETE FROM comments WHERE parent_id IS NOT NULL",
		"DELETE FROM comments",
		"DELETE FROM posts",
		"DELETE FROM contents",
		"DELETE FROM user_identities",
		"DELETE FROM users",
	} {
		res, err := db.ExecContext(ctx, q)
		if err != nil {
			return total, fmt.Errorf("seed: replace: %s: %w", q, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

func insert(ctx context.Context, db *sql.DB, table, cols string, rows [][]any) error {
	ph := "(?" + strings.Repeat(", ?", len(rows[0])-1) + ")"
	var q strings.Builder
	q.WriteString("INSERT INTO " + table + " (" + cols + ") VALUES ")
	args := make([]any, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(ph)
		args = append(args, r...)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// nt turns an optional value into a driver value (nil for NULL).
func nt[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func userRows(us []User) [][]any {
	out := make([][]any, len(us))
	for i, u := range us {
		out[i] = []any{u.ID, u.Email, u.Nickname, u.Bio, u.Role, u.Status, nt(u.LastLoginAt), u.CreatedAt, u.UpdatedAt, nt(u.DeletedAt)}
	}
	return out
}

func contentRows(cs []Content) [][]any {
	out := make([][]any, len(cs))
	for i, c := range cs {
		tags, _ := json.Marshal(c.Tags)
		if c.Tags == nil {
			tags = []byte("[]")
		}
		out[i] = []any{c.ID, c.AuthorID, c.Title, c.Body, c.Summary, c.Category, string(tags), c.Status, nt(c.PublishedAt), c.CreatedAt, c.UpdatedAt, nt(c.DeletedAt)}
	}
	return out
}

func postRows(ps []Post) [][]any {
	out := make([][]any, len(ps))
	for i, p := range ps {
		out[i] = []any{p.ID, p.UserID, p.Category, p.Title, p.Body, p.LikeCount, p.CommentCount, p.Status, p.CreatedAt, p.UpdatedAt, nt(p.DeletedAt)}
	}
	return out
}

func commentRows(cs []Comment) [][]any {
	out := make([][]any, len(cs))
	for i, c := range cs {
		out[i] = []any{c.ID, c.PostID, c.UserID, nt(c.ParentID), c.Body, c.CreatedAt, c.UpdatedAt, nt(c.DeletedAt)}
	}
	return out
}

func likeRows(ls []PostLike) [][]any {
	out := make([][]any, len(ls))
	for i, l := range ls {
		out[i] = []any{l.ID, l.PostID, l.UserID, l.CreatedAt, l.CreatedAt}
	}
	return out
}
