package community

import (
	"context"
	"database/sql"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/web"
)

// The admins' queue: every post (not deleted) with open reports, hidden or
// not, oldest entry first. A post enters the queue with its first open
// report and leaves it when an admin confirms (the post stays or becomes
// hidden) or restores it (visible again); the decision resolves every open
// report and is kept in post_moderations with who decided and when. Pages
// are keyset on the entry (the id of the post's oldest open report), which
// never changes while the post waits, so pages neither repeat nor skip a
// post; a post that enters meanwhile shows on a later page.

// Queue list limits.
const (
	DefaultQueueSize = 20
	MaxQueueSize     = 100

	maxQueueCursorLen = 683 // characters: the base64url of 512 bytes of JSON
)

// Decisions.
const (
	DecisionConfirmed = "confirmed"
	DecisionRestored  = "restored"
)

// QueuePost is the reported post in a queue item.
type QueuePost struct {
	ID        uint64    `json:"id"`
	Author    Author    `json:"author"`
	Category  string    `json:"category"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// ReasonCount is how many open reports give one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// Decision is an admin's decision on a post.
type Decision struct {
	PostID          uint64    `json:"post_id"`
	Decision        string    `json:"decision"`
	Status          string    `json:"status"` // the post's status after the decision
	DecidedBy       Author    `json:"decided_by"`
	DecidedAt       time.Time `json:"decided_at"`
	ResolvedReports int       `json:"resolved_reports"`
}

// QueueItem is a post waiting for a decision.
type QueueItem struct {
	Post              QueuePost     `json:"post"`
	OpenReports       int           `json:"open_reports"`
	QualifyingReports int           `json:"qualifying_reports"` // those that count toward hiding
	Reasons           []ReasonCount `json:"reasons"`
	FirstReportedAt   time.Time     `json:"first_reported_at"`
	LastReportedAt    time.Time     `json:"last_reported_at"`
	LastDecision      *Decision     `json:"last_decision"` // an earlier decision, if any
	entry             uint64
}

// QueuePage is one page of the queue.
type QueuePage struct {
	Items      []QueueItem `json:"items"`
	NextCursor *string     `json:"next_cursor"` // null on the last page
}

// queueCursor continues the queue after an entry, for one status filter.
type queueCursor struct {
	Entry  uint64 `json:"e"`
	Status string `json:"s,omitempty"`
}

type queueQuery struct {
	status string // hidden | visible | "" (both)
	size   int
	after  uint64
}

// parseQueueQuery validates status, size and cursor; any other parameter,
// or one given twice, is a field error (validation_failed). A cursor that
// is malformed or of another status filter is bad_cursor.
func parseQueueQuery(raw string) (queueQuery, error) {
	var f web.Fields
	vals := web.StrictQuery(&f, raw, "status", "size", "cursor")
	q := queueQuery{status: vals.Get("status"), size: web.PageSize(&f, "size", vals.Get("size"), DefaultQueueSize, MaxQueueSize)}
	if vals.Has("status") && q.status != "hidden" && q.status != "visible" {
		f.Add("status", web.FieldInvalid, "hidden 또는 visible 이어야 합니다.")
	}
	if err := f.Err(); err != nil {
		return q, err
	}
	if s := vals.Get("cursor"); vals.Has("cursor") {
		var cur queueCursor
		if !web.DecodeCursor(s, maxQueueCursorLen, &cur) || cur.Entry == 0 || cur.Status != q.status {
			return q, web.BadCursor()
		}
		q.after = cur.Entry
	}
	return q, nil
}

func (a *API) listQueue(c *gin.Context) (web.Answer, error) {
	q, err := parseQueueQuery(c.Request.URL.RawQuery)
	if err != nil {
		return web.Answer{}, err
	}
	page, err := a.queue(c.Request.Context(), q)
	return web.OK(page), err
}

// queue returns one page of the queue.
func (a *API) queue(ctx context.Context, q queueQuery) (QueuePage, error) {
	items, err := a.store.Queue(ctx, a.db, q.status, q.after, q.size+1)
	if err != nil {
		return QueuePage{}, err
	}
	page := QueuePage{Items: items}
	if len(page.Items) > q.size {
		page.Items = page.Items[:q.size]
		next, _ := web.EncodeCursor(queueCursor{Entry: page.Items[q.size-1].entry, Status: q.status}) // a number and a string: always encodable
		page.NextCursor = &next
	}
	if err := a.queueDetails(ctx, page.Items); err != nil {
		return QueuePage{}, err
	}
	return page, nil
}

// queueDetails fills the reasons and last decisions of items.
func (a *API) queueDetails(ctx context.Context, items []QueueItem) error {
	if len(items) == 0 {
		return nil
	}
	byID := make(map[uint64]*QueueItem, len(items))
	ids := make([]any, 0, len(items))
	for i := range items {
		byID[items[i].Post.ID] = &items[i]
		ids = append(ids, items[i].Post.ID)
	}
	reasons, err := a.store.OpenReasons(ctx, a.db, ids)
	if err != nil {
		return err
	}
	for _, r := range reasons {
		byID[r.postID].Reasons = append(byID[r.postID].Reasons, r.ReasonCount)
	}
	decisions, err := a.store.LastDecisions(ctx, a.db, ids)
	if err != nil {
		return err
	}
	for i := range decisions {
		byID[decisions[i].PostID].LastDecision = &decisions[i]
	}
	return nil
}

func (a *API) confirm(c *gin.Context) (web.Answer, error) { return a.decide(c, DecisionConfirmed) }
func (a *API) restore(c *gin.Context) (web.Answer, error) { return a.decide(c, DecisionRestored) }

// decide records an admin's decision on a post: confirmed keeps (or makes)
// it hidden, restored makes it visible; either resolves its open reports.
func (a *API) decide(c *gin.Context, decision string) (web.Answer, error) {
	postID, err := web.PathID(c, "post_id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	ctx := c.Request.Context()
	var d Decision
	err = a.tx(ctx, func(tx *sql.Tx) error {
		var err error
		d, err = a.recordDecision(ctx, tx, postID, p.UserID, decision)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	a.log.InfoContext(ctx, "post moderated", "post_id", postID, "decision", decision, "admin_id", p.UserID, "resolved_reports", d.ResolvedReports)
	return web.OK(d), nil
}

func (a *API) recordDecision(ctx context.Context, tx *sql.Tx, postID, adminID uint64, decision string) (Decision, error) {
	if _, _, err := a.store.LockPost(ctx, tx, postID); err != nil {
		return Decision{}, err
	}
	if err := a.store.CanWrite(ctx, tx, adminID); err != nil {
		return Decision{}, err
	}
	d := Decision{PostID: postID, Decision: decision, Status: "hidden", DecidedAt: a.now().UTC().Truncate(time.Microsecond),
		DecidedBy: Author{ID: adminID}}
	if decision == DecisionRestored {
		d.Status = "visible"
	}
	var err error
	if d.ResolvedReports, err = a.store.RecordDecision(ctx, tx, d); err != nil {
		return Decision{}, err
	}
	if err := a.store.SetPostStatus(ctx, tx, postID, d.Status); err != nil {
		return Decision{}, err
	}
	d.DecidedBy, err = a.store.Author(ctx, tx, adminID)
	return d, err
}
