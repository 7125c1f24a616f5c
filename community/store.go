package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// Store is the SQL of posts, comments and likes. Every method takes the
// querier it runs on (the pool, or the transaction of API.tx); the
// counters (posts.like_count, posts.comment_count) change in the same
// statement sequence as their rows, under the post's lock (LockPost).
type Store struct{}

const commentColumns = "c.id, c.post_id, c.parent_id, c.user_id, u.nickname, c.body, c.created_at"

// CanWrite refuses blocked (ErrBlocked) and deleted users (ErrUserGone):
// their access token may still be valid for up to auth.access_token_ttl.
func (Store) CanWrite(ctx context.Context, q mysql.Querier, userID uint64) error {
	var status string
	err := q.QueryRowContext(ctx, `SELECT status FROM users WHERE id = ? AND deleted_at IS NULL`, userID).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows) || status == "deleted":
		return ErrUserGone
	case err != nil:
		return fmt.Errorf("community: writer: %w", err)
	case status == "blocked":
		return ErrBlocked
	}
	return nil
}

// LockPost locks a live post and returns its author and status; a missing
// or deleted one is ErrNotFound.
func (Store) LockPost(ctx context.Context, q mysql.Querier, id uint64) (uint64, string, error) {
	var owner uint64
	var status string
	err := q.QueryRowContext(ctx, `SELECT user_id, status FROM posts WHERE id = ? AND deleted_at IS NULL FOR UPDATE`, id).Scan(&owner, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	if err != nil {
		return 0, "", fmt.Errorf("community: lock post: %w", err)
	}
	return owner, status, nil
}

// LockOpenPost locks a live post that takes comments, likes and reports: a
// hidden one is ErrNotFound to everyone, like a missing one.
func (s Store) LockOpenPost(ctx context.Context, q mysql.Querier, id uint64) error {
	_, status, err := s.LockPost(ctx, q, id)
	if err == nil && status == "hidden" {
		return ErrNotFound
	}
	return err
}

// Post reads a live post as viewerID sees it (liked_by_me), hidden or not;
// ErrNotFound when there is none.
func (Store) Post(ctx context.Context, q mysql.Querier, id, viewerID uint64) (Post, error) {
	var p Post
	err := q.QueryRowContext(ctx, `SELECT p.id, p.user_id, u.nickname, p.category, p.title, p.body, p.like_count, p.comment_count, p.status, p.created_at, p.updated_at,
		EXISTS(SELECT 1 FROM post_likes l WHERE l.post_id = p.id AND l.user_id = ?)
		FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id = ? AND p.deleted_at IS NULL`, viewerID, id).
		Scan(&p.ID, &p.Author.ID, &p.Author.Nickname, &p.Category, &p.Title, &p.Body, &p.LikeCount, &p.CommentCount, &p.Status, &p.CreatedAt, &p.UpdatedAt, &p.LikedByMe)
	if errors.Is(err, sql.ErrNoRows) {
		return Post{}, ErrNotFound
	}
	if err != nil {
		return Post{}, fmt.Errorf("community: read post: %w", err)
	}
	return p, nil
}

// InsertPost writes a new post by userID and returns its id.
func (Store) InsertPost(ctx context.Context, q mysql.Querier, userID uint64, category, title, body string) (uint64, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO posts (user_id, category, title, body) VALUES (?, ?, ?, ?)`, userID, category, title, body)
	if err != nil {
		return 0, fmt.Errorf("community: insert post: %w", err)
	}
	id, err := res.LastInsertId()
	return uint64(id), err
}

// UpdatePost changes the fields given (nil: unchanged).
func (Store) UpdatePost(ctx context.Context, q mysql.Querier, id uint64, category, title, body *string) error {
	_, err := q.ExecContext(ctx, `UPDATE posts SET category = COALESCE(?, category), title = COALESCE(?, title), body = COALESCE(?, body) WHERE id = ?`,
		category, title, body, id)
	if err != nil {
		return fmt.Errorf("community: update post: %w", err)
	}
	return nil
}

// DeletePost soft-deletes a post at at.
func (Store) DeletePost(ctx context.Context, q mysql.Querier, id uint64, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE posts SET deleted_at = ? WHERE id = ?`, at, id); err != nil {
		return fmt.Errorf("community: delete post: %w", err)
	}
	return nil
}

// Comments lists a post's live comments and replies, oldest first, at most
// limit.
func (Store) Comments(ctx context.Context, q mysql.Querier, postID uint64, limit int) ([]Comment, error) {
	items, err := mysql.QueryAll(ctx, q, scanComment, `SELECT `+commentColumns+`
		FROM comments c JOIN users u ON u.id = c.user_id WHERE c.post_id = ? AND c.deleted_at IS NULL ORDER BY c.id LIMIT ?`, postID, limit)
	if err != nil {
		return nil, fmt.Errorf("community: list comments: %w", err)
	}
	return items, nil
}

func scanComment(r mysql.Scanner) (Comment, error) {
	var cm Comment
	err := r.Scan(&cm.ID, &cm.PostID, &cm.ParentID, &cm.Author.ID, &cm.Author.Nickname, &cm.Body, &cm.CreatedAt)
	return cm, err
}

// IsReply tells whether the live comment id of postID is itself a reply;
// ErrNotFound when postID has no such comment.
func (Store) IsReply(ctx context.Context, q mysql.Querier, postID, id uint64) (bool, error) {
	var grand sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT parent_id FROM comments WHERE id = ? AND post_id = ? AND deleted_at IS NULL`, id, postID).Scan(&grand)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("community: read parent comment: %w", err)
	}
	return grand.Valid, nil
}

// InsertComment writes userID's comment (a reply when parentID is set) on
// a locked post, counts it on the post and returns it.
func (Store) InsertComment(ctx context.Context, q mysql.Querier, postID, userID uint64, parentID *uint64, body string) (Comment, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO comments (post_id, user_id, parent_id, body) VALUES (?, ?, ?, ?)`, postID, userID, parentID, body)
	if err != nil {
		return Comment{}, fmt.Errorf("community: insert comment: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE posts SET comment_count = comment_count + 1 WHERE id = ?`, postID); err != nil {
		return Comment{}, fmt.Errorf("community: count comment: %w", err)
	}
	id, _ := res.LastInsertId()
	cm, err := scanComment(q.QueryRowContext(ctx, `SELECT `+commentColumns+` FROM comments c JOIN users u ON u.id = c.user_id WHERE c.id = ?`, id))
	if err != nil {
		return Comment{}, fmt.Errorf("community: read comment: %w", err)
	}
	return cm, nil
}

// LockComment locks a live comment of postID and returns its author;
// ErrNotFound when there is none.
func (Store) LockComment(ctx context.Context, q mysql.Querier, postID, id uint64) (uint64, error) {
	var owner uint64
	err := q.QueryRowContext(ctx, `SELECT user_id FROM comments WHERE id = ? AND post_id = ? AND deleted_at IS NULL FOR UPDATE`, id, postID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("community: lock comment: %w", err)
	}
	return owner, nil
}

// DeleteComment soft-deletes a comment of a locked post at at and uncounts
// it.
func (Store) DeleteComment(ctx context.Context, q mysql.Querier, postID, id uint64, at time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE comments SET deleted_at = ? WHERE id = ?`, at, id); err != nil {
		return fmt.Errorf("community: delete comment: %w", err)
	}
	if _, err := q.ExecContext(ctx, `UPDATE posts SET comment_count = comment_count - 1 WHERE id = ? AND comment_count > 0`, postID); err != nil {
		return fmt.Errorf("community: uncount comment: %w", err)
	}
	return nil
}

// SetLike inserts (on) or deletes userID's like of a locked post, moves
// like_count by the rows actually changed (so repeating either changes
// nothing) and returns the count.
func (Store) SetLike(ctx context.Context, q mysql.Querier, postID, userID uint64, on bool) (int, error) {
	write, count := `INSERT IGNORE INTO post_likes (post_id, user_id) VALUES (?, ?)`, `UPDATE posts SET like_count = like_count + 1 WHERE id = ?`
	if !on {
		write, count = `DELETE FROM post_likes WHERE post_id = ? AND user_id = ?`, `UPDATE posts SET like_count = like_count - 1 WHERE id = ? AND like_count > 0`
	}
	res, err := q.ExecContext(ctx, write, postID, userID)
	if err != nil {
		return 0, fmt.Errorf("community: set like: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		if _, err := q.ExecContext(ctx, count, postID); err != nil {
			return 0, fmt.Errorf("community: count like: %w", err)
		}
	}
	// A locking read: the transaction's snapshot dates from before it
	// waited for the post's lock, so a plain read could miss the likes
	// committed meanwhile (and answer 0 for a post with 10).
	var likes int
	if err := q.QueryRowContext(ctx, `SELECT like_count FROM posts WHERE id = ? FOR UPDATE`, postID).Scan(&likes); err != nil {
		return 0, fmt.Errorf("community: read like count: %w", err)
	}
	return likes, nil
}
