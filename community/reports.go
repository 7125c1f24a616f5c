package community

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// Abuse reports.
//
// Every report is recorded (one per user per post) and stays open in the
// admin queue until an admin decides. Only qualifying reports count toward
// hiding: the reporter's account was at least Options.ReporterMinAge old
// when reporting and had written at least Options.ReporterMinActivity posts
// or comments that are not deleted. Others weigh nothing toward hiding (the
// post_reports row says so in counts_toward_hide). When the open qualifying
// reports of a post reach Options.ReportHideThreshold it is hidden. An
// admin's decision resolves every open report of the post, so a restored
// post is hidden again only by new qualifying reports.
//
// One user may file Options.ReportDailyLimit reports in any 24 hours; the
// next answers 429 report_limited with Retry-After (when the oldest report
// of the window leaves it). The reporter's users row is locked while
// counting, so concurrent reports cannot pass the limit together.

// CodeReportLimited is the stable code of a report past the daily limit (429).
const CodeReportLimited = web.CodeReportLimited

// reportWindow is the period of the per-user report limit.
const reportWindow = 24 * time.Hour

// Report reasons.
var reasons = []string{"spam", "abuse", "misinformation", "sexual", "privacy", "other"}

// errReportLimited is a report past the daily limit.
type errReportLimited struct{ retryAfter time.Duration }

func (e *errReportLimited) Error() string {
	return fmt.Sprintf("report limit reached; retry after %s", e.retryAfter)
}

type reportInput struct {
	Reason string `json:"reason"`
	Memo   string `json:"memo"`
}

func (in *reportInput) validate() error {
	var f web.Fields
	valid := false
	for _, r := range reasons {
		valid = valid || in.Reason == r
	}
	if !valid {
		f.Add("reason", web.FieldInvalid, "신고 사유는 "+strings.Join(reasons, ", ")+" 중 하나여야 합니다.")
	}
	if in.Memo != "" {
		f.Text("memo", &in.Memo, 1, 500, false, false)
	}
	return f.Err()
}

func (a *API) report(c *gin.Context) (web.Answer, error) {
	postID, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	var in reportInput
	if err := web.AppBody().Decode(c.Request, &in); err != nil {
		return web.Answer{}, err
	}
	if err := in.validate(); err != nil {
		return web.Answer{}, err
	}
	ctx := c.Request.Context()
	var hidden bool
	err = a.tx(ctx, func(tx *sql.Tx) error {
		var err error
		hidden, err = a.fileReport(ctx, tx, postID, p.UserID, in)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.Created(gin.H{"reported": true, "hidden": hidden}), nil
}

// fileReport records userID's report on postID and hides the post when its
// open qualifying reports reach the threshold. It reports whether the post
// is hidden now. Locks: the post, then the reporter (every path that locks
// both takes them in this order).
func (a *API) fileReport(ctx context.Context, tx *sql.Tx, postID, userID uint64, in reportInput) (bool, error) {
	if _, status, err := lockPost(ctx, tx, postID); err != nil {
		return false, err
	} else if status == "hidden" {
		return false, ErrNotFound
	}
	created, err := lockReporter(ctx, tx, userID)
	if err != nil {
		return false, err
	}
	now := a.now().UTC()
	if err := a.checkReportLimit(ctx, tx, userID, now); err != nil {
		return false, err
	}
	counts, err := a.qualifies(ctx, tx, userID, created, now)
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO post_reports (post_id, user_id, reason, memo, counts_toward_hide, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		postID, userID, in.Reason, in.Memo, counts, now); err != nil {
		if mysql.IsDuplicateKey(err) {
			return false, ErrAlreadyReported
		}
		return false, fmt.Errorf("community: insert report: %w", err)
	}
	if !counts {
		return false, nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM post_reports WHERE post_id = ? AND moderation_id IS NULL AND counts_toward_hide = 1`, postID).Scan(&n); err != nil {
		return false, fmt.Errorf("community: count reports: %w", err)
	}
	if n < a.threshold {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE posts SET status = 'hidden' WHERE id = ?`, postID); err != nil {
		return false, fmt.Errorf("community: hide post: %w", err)
	}
	a.log.InfoContext(ctx, "post hidden by reports", "post_id", postID, "reports", n)
	return true, nil
}

// lockReporter locks the reporter's users row (serialising one user's
// reports) and returns when the account was created; blocked and deleted
// users cannot report.
func lockReporter(ctx context.Context, tx *sql.Tx, userID uint64) (time.Time, error) {
	var status string
	var created time.Time
	err := tx.QueryRowContext(ctx, `SELECT status, created_at FROM users WHERE id = ? AND deleted_at IS NULL FOR UPDATE`, userID).Scan(&status, &created)
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

// checkReportLimit refuses a report when userID filed the daily limit in
// the 24 hours before now.
func (a *API) checkReportLimit(ctx context.Context, tx *sql.Tx, userID uint64, now time.Time) error {
	var n int
	var oldest sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM (
		SELECT created_at FROM post_reports WHERE user_id = ? AND created_at > ? ORDER BY created_at DESC LIMIT ?) w`,
		userID, now.Add(-reportWindow), a.dailyLimit).Scan(&n, &oldest)
	if err != nil {
		return fmt.Errorf("community: count user reports: %w", err)
	}
	if n < a.dailyLimit {
		return nil
	}
	return &errReportLimited{retryAfter: max(oldest.Time.Add(reportWindow).Sub(now), time.Second)}
}

// qualifies tells whether a report by userID (account created at created)
// counts toward hiding at now.
func (a *API) qualifies(ctx context.Context, tx *sql.Tx, userID uint64, created, now time.Time) (bool, error) {
	if a.minAge > 0 && now.Sub(created) < a.minAge {
		return false, nil
	}
	if a.minActivity == 0 {
		return true, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM posts WHERE user_id = ? AND deleted_at IS NULL LIMIT ?) p) +
		(SELECT COUNT(*) FROM (SELECT 1 FROM comments WHERE user_id = ? AND deleted_at IS NULL LIMIT ?) c)`,
		userID, a.minActivity, userID, a.minActivity).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("community: reporter activity: %w", err)
	}
	return n >= a.minActivity, nil
}
