package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/soomcare/soomcare/mysql"
)

// The SQL of abuse reports and the admins' queue (Store's other half).

// LockReporter locks the reporter's users row (serialising one user's
// reports) and returns when the account was created; blocked (ErrBlocked)
// and deleted users (ErrUserGone) cannot report.
func (Store) LockReporter(ctx context.Context, q mysql.Querier, userID uint64) (time.Time, error) {
	var status string
	var created time.Time
	err := q.QueryRowContext(ctx, `SELECT status, created_at FROM users WHERE id = ? AND deleted_at IS NULL FOR UPDATE`, userID).Scan(&status, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows) || status == "deleted":
		return time.Time{}, ErrUserGone
	case err != nil:
		return time.Time{}, fmt.Errorf("community: lock reporter: %w", err)
	case status == "blocked":
		return time.Time{}, ErrBlocked
	}
	return created, nil
}

// RecentReports counts userID's reports filed after since, at most limit,
// and returns the oldest of those counted.
func (Store) RecentReports(ctx context.Context, q mysql.Querier, userID uint64, since time.Time, limit int) (int, sql.NullTime, error) {
	var n int
	var oldest sql.NullTime
	err := q.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM (
		SELECT created_at FROM post_reports WHERE user_id = ? AND created_at > ? ORDER BY created_at DESC LIMIT ?) w`,
		userID, since, limit).Scan(&n, &oldest)
	if err != nil {
		return 0, oldest, fmt.Errorf("community: count user reports: %w", err)
	}
	return n, oldest, nil
}

// Activity counts userID's live posts and comments, each up to limit.
func (Store) Activity(ctx context.Context, q mysql.Querier, userID uint64, limit int) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM posts WHERE user_id = ? AND deleted_at IS NULL LIMIT ?) p) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE user_id = ? AND deleted_at IS NULL LIMIT ?) c)`,
		userID, limit, userID, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("community: reporter activity: %w", err)
	}
	return n, nil
}

// InsertReport records userID's report on postID; a second one is
// ErrAlreadyReported.
func (Store) InsertReport(ctx context.Context, q mysql.Querier, postID, userID uint64, in reportInput, counts bool, at time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO post_reports (post_id, user_id, reason, memo, counts_toward_hide, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		postID, userID, in.Reason, in.Memo, counts, at)
	switch {
	case mysql.IsDuplicateKey(err):
		return ErrAlreadyReported
	case err != nil:
		return fmt.Errorf("community: insert report: %w", err)
	}
	return nil
}

// OpenQualifyingReports counts a post's open reports that count toward
// hiding it.
func (Store) OpenQualifyingReports(ctx context.Context, q mysql.Querier, postID uint64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM post_reports WHERE post_id = ? AND moderation_id IS NULL AND counts_toward_hide = 1`, postID).Scan(&n); err != nil {
		return 0, fmt.Errorf("community: count reports: %w", err)
	}
	return n, nil
}

// SetPostStatus makes a post hidden or visible.
func (Store) SetPostStatus(ctx context.Context, q mysql.Querier, postID uint64, status string) error {
	if _, err := q.ExecContext(ctx, `UPDATE posts SET status = ? WHERE id = ?`, status, postID); err != nil {
		return fmt.Errorf("community: set post status: %w", err)
	}
	return nil
}

// Queue returns up to limit posts (not deleted) with open reports, of
// status when not "", in entry order after the entry after.
func (Store) Queue(ctx context.Context, q mysql.Querier, status string, after uint64, limit int) ([]QueueItem, error) {
	where, args := []string{"p.deleted_at IS NULL", "q.entry > ?"}, []any{after}
	if status != "" {
		where = append(where, "p.status = ?")
		args = append(args, status)
	}
	items, err := mysql.QueryAll(ctx, q, scanQueueItem, `SELECT q.entry, q.open_reports, q.qualifying, q.first_at, q.last_at,
		p.id, p.user_id, u.nickname, p.category, p.title, p.status, p.created_at
		FROM (SELECT post_id, MIN(id) AS entry, COUNT(*) AS open_reports, SUM(counts_toward_hide) AS qualifying,
			MIN(created_at) AS first_at, MAX(created_at) AS last_at
			FROM post_reports WHERE moderation_id IS NULL GROUP BY post_id) q
		JOIN posts p ON p.id = q.post_id JOIN users u ON u.id = p.user_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY q.entry LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("community: queue: %w", err)
	}
	return items, nil
}

func scanQueueItem(r mysql.Scanner) (QueueItem, error) {
	it := QueueItem{Reasons: []ReasonCount{}}
	p := &it.Post
	err := r.Scan(&it.entry, &it.OpenReports, &it.QualifyingReports, &it.FirstReportedAt, &it.LastReportedAt,
		&p.ID, &p.Author.ID, &p.Author.Nickname, &p.Category, &p.Title, &p.Status, &p.CreatedAt)
	return it, err
}

// postReason is the count of one reason among a post's open reports.
type postReason struct {
	postID uint64
	ReasonCount
}

// OpenReasons counts the open reports of the posts ids by reason, per post
// most frequent first.
func (Store) OpenReasons(ctx context.Context, q mysql.Querier, ids []any) ([]postReason, error) {
	rs, err := mysql.QueryAll(ctx, q, func(r mysql.Scanner) (pr postReason, err error) {
		return pr, r.Scan(&pr.postID, &pr.Reason, &pr.Count)
	}, `SELECT post_id, reason, COUNT(*) FROM post_reports
		WHERE moderation_id IS NULL AND post_id IN `+mysql.Placeholders(len(ids))+` GROUP BY post_id, reason ORDER BY post_id, COUNT(*) DESC, reason`, ids...)
	if err != nil {
		return nil, fmt.Errorf("community: queue reasons: %w", err)
	}
	return rs, nil
}

// LastDecisions returns the latest decision on each of the posts ids that
// has one.
func (Store) LastDecisions(ctx context.Context, q mysql.Querier, ids []any) ([]Decision, error) {
	ds, err := mysql.QueryAll(ctx, q, func(r mysql.Scanner) (d Decision, err error) {
		return d, r.Scan(&d.PostID, &d.Decision, &d.Status, &d.DecidedBy.ID, &d.DecidedBy.Nickname, &d.DecidedAt, &d.ResolvedReports)
	}, `SELECT m.post_id, m.decision, p.status, m.decided_by, u.nickname, m.decided_at, m.resolved_reports
		FROM post_moderations m JOIN posts p ON p.id = m.post_id JOIN users u ON u.id = m.decided_by
		WHERE m.id IN (SELECT MAX(id) FROM post_moderations WHERE post_id IN `+mysql.Placeholders(len(ids))+` GROUP BY post_id)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("community: queue decisions: %w", err)
	}
	return ds, nil
}

// RecordDecision saves an admin's decision on a post (d: post, decision,
// decider's id, time), resolves the post's open reports with it and
// returns how many it resolved.
func (Store) RecordDecision(ctx context.Context, q mysql.Querier, d Decision) (int, error) {
	res, err := q.ExecContext(ctx, `INSERT INTO post_moderations (post_id, decision, decided_by, decided_at) VALUES (?, ?, ?, ?)`,
		d.PostID, d.Decision, d.DecidedBy.ID, d.DecidedAt)
	if err != nil {
		return 0, fmt.Errorf("community: record decision: %w", err)
	}
	id, _ := res.LastInsertId()
	res, err = q.ExecContext(ctx, `UPDATE post_reports SET moderation_id = ? WHERE post_id = ? AND moderation_id IS NULL`, id, d.PostID)
	if err != nil {
		return 0, fmt.Errorf("community: resolve reports: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := q.ExecContext(ctx, `UPDATE post_moderations SET resolved_reports = ? WHERE id = ?`, n, id); err != nil {
		return 0, fmt.Errorf("community: record decision: %w", err)
	}
	return int(n), nil
}

// Author reads a user's public name.
func (Store) Author(ctx context.Context, q mysql.Querier, id uint64) (Author, error) {
	var a Author
	if err := q.QueryRowContext(ctx, `SELECT id, nickname FROM users WHERE id = ?`, id).Scan(&a.ID, &a.Nickname); err != nil {
		return Author{}, fmt.Errorf("community: decider: %w", err)
	}
	return a, nil
}
