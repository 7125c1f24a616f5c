package community

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

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
	if err := a.store.LockOpenPost(ctx, tx, postID); err != nil {
		return false, err
	}
	created, err := a.store.LockReporter(ctx, tx, userID)
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
	if err := a.store.InsertReport(ctx, tx, postID, userID, in, counts, now); err != nil || !counts {
		return false, err
	}
	n, err := a.store.OpenQualifyingReports(ctx, tx, postID)
	if err != nil || n < a.threshold {
		return false, err
	}
	if err := a.store.SetPostStatus(ctx, tx, postID, "hidden"); err != nil {
		return false, err
	}
	a.log.InfoContext(ctx, "post hidden by reports", "post_id", postID, "reports", n)
	return true, nil
}

// checkReportLimit refuses a report when userID filed the daily limit in
// the 24 hours before now.
func (a *API) checkReportLimit(ctx context.Context, tx *sql.Tx, userID uint64, now time.Time) error {
	n, oldest, err := a.store.RecentReports(ctx, tx, userID, now.Add(-reportWindow), a.dailyLimit)
	if err != nil || n < a.dailyLimit {
		return err
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
	n, err := a.store.Activity(ctx, tx, userID, a.minActivity)
	return n >= a.minActivity, err
}
