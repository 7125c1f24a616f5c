// Package community serves the patient community's write side and single
// reads from MySQL: posts (only the author edits or deletes; soft delete),
// comments with one reply level, idempotent likes, abuse reports that hide a
// post after community.report_hide_threshold reports from qualifying
// reporters (see reports.go), and the admins' queue of reported posts (see
// moderation.go). Feeds and search come from the search indices (package
// searchapi), which the CDC worker fills from these tables: this package
// never writes to the engine (a restored post is re-indexed by the CDC from
// its status).
//
// posts.like_count and posts.comment_count change in the same transaction as
// the like or comment row, under a row lock on the post, so the counters never
// drift and the CDC re-reads a consistent post.
//
// Endpoints (documented in apidoc/paths/community.yaml):
//
//	POST   /v1/posts                             create (auth)
//	GET    /v1/posts/{id}                        one post (hidden posts: author and admins only; every verb
//	                                             on a hidden post answers others 404, like a missing post)
//	PATCH  /v1/posts/{id}                        edit (author)
//	DELETE /v1/posts/{id}                        soft delete (author or admin)
//	GET    /v1/posts/{id}/comments               comments and replies, oldest first
//	POST   /v1/posts/{id}/comments               comment or reply (parent_id) (auth)
//	DELETE /v1/posts/{id}/comments/{commentId}   soft delete (author or admin)
//	PUT    /v1/posts/{id}/like                   like (idempotent)
//	DELETE /v1/posts/{id}/like                   unlike (idempotent)
//	POST   /v1/posts/{id}/reports                abuse report, one per user per post
//	GET    /v1/admin/reports                     posts with open reports (admin)
//	POST   /v1/admin/reports/{post_id}/confirm   keep the post hidden (admin)
//	POST   /v1/admin/reports/{post_id}/restore   make the post visible again (admin)
package community

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// Sentinel errors; the handlers return them and errorTable maps them.
var (
	ErrNotFound        = errors.New("not found")
	ErrForbidden       = errors.New("not the author")
	ErrBlocked         = errors.New("user blocked")
	ErrUserGone        = errors.New("user deleted")
	ErrReplyDepth      = errors.New("reply to a reply")
	ErrAlreadyReported = errors.New("already reported")
)

// DefaultReportDailyLimit is the per-user report limit when Options leave it 0.
const DefaultReportDailyLimit = 10

// Options configure the API.
type Options struct {
	ReportHideThreshold int           // open qualifying reports that hide a post (community.report_hide_threshold; <1: 5)
	ReporterMinAge      time.Duration // account age for a report to count toward hiding (community.reporter_min_age; 0: any)
	ReporterMinActivity int           // posts or comments for a report to count (community.reporter_min_activity; 0: none)
	ReportDailyLimit    int           // reports per user in 24 hours (community.report_daily_limit; <1: DefaultReportDailyLimit)
	Logger              *slog.Logger
	Now                 func() time.Time
}

// API holds the handlers' dependencies.
type API struct {
	db          *sql.DB
	threshold   int
	minAge      time.Duration
	minActivity int
	dailyLimit  int
	log         *slog.Logger
	kit         web.Kit
	store       Store
	now         func() time.Time
}

// New returns the community API over db.
func New(db *sql.DB, o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ReportHideThreshold < 1 {
		o.ReportHideThreshold = 5
	}
	if o.ReportDailyLimit < 1 {
		o.ReportDailyLimit = DefaultReportDailyLimit
	}
	return &API{
		db: db, threshold: o.ReportHideThreshold, minAge: max(o.ReporterMinAge, 0), minActivity: max(o.ReporterMinActivity, 0),
		dailyLimit: o.ReportDailyLimit, log: o.Logger, kit: web.NewKit(o.Logger, errorTable()), now: o.Now,
	}
}

// Mount adds the routes; auth.Middleware must run before them.
func (a *API) Mount(e *gin.Engine) {
	auth, h := web.RequireAuth(), a.kit.Handle
	e.POST("/v1/posts", auth, h(a.createPost))
	e.GET("/v1/posts/:id", h(a.getPost))
	e.PATCH("/v1/posts/:id", auth, h(a.updatePost))
	e.DELETE("/v1/posts/:id", auth, h(a.deletePost))
	e.GET("/v1/posts/:id/comments", h(a.listComments))
	e.POST("/v1/posts/:id/comments", auth, h(a.createComment))
	e.DELETE("/v1/posts/:id/comments/:commentId", auth, h(a.deleteComment))
	e.PUT("/v1/posts/:id/like", auth, h(a.like))
	e.DELETE("/v1/posts/:id/like", auth, h(a.unlike))
	e.POST("/v1/posts/:id/reports", auth, h(a.report))
	admin := web.RequireRole(web.RoleAdmin)
	e.GET("/v1/admin/reports", admin, h(a.listQueue))
	e.POST("/v1/admin/reports/:post_id/confirm", admin, h(a.confirm))
	e.POST("/v1/admin/reports/:post_id/restore", admin, h(a.restore))
}

// Post is a post as the app sees it.
type Post struct {
	ID           uint64    `json:"id"`
	Author       Author    `json:"author"`
	Category     string    `json:"category"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	LikeCount    int       `json:"like_count"`
	CommentCount int       `json:"comment_count"`
	Status       string    `json:"status"`
	LikedByMe    bool      `json:"liked_by_me"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Author is the public part of a user.
type Author struct {
	ID       uint64 `json:"id"`
	Nickname string `json:"nickname"`
}

// Comment is a comment or a reply (ParentID set).
type Comment struct {
	ID        uint64    `json:"id"`
	PostID    uint64    `json:"post_id"`
	ParentID  *uint64   `json:"parent_id"`
	Author    Author    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

type postInput struct {
	Category *string `json:"category"`
	Title    *string `json:"title"`
	Body     *string `json:"body"`
}

// validate checks the fields present (all of them when create).
func (in *postInput) validate(create bool) error {
	var f web.Fields
	f.Text("category", in.Category, 1, 50, create, true)
	f.Text("title", in.Title, 1, 200, create, true)
	f.Text("body", in.Body, 1, 10000, create, false)
	if !create && in.Category == nil && in.Title == nil && in.Body == nil {
		f.Add("body", web.FieldRequired, "바꿀 항목(category, title, body)을 하나 이상 보내 주세요.")
	}
	return f.Err()
}

func (a *API) createPost(c *gin.Context) (web.Answer, error) {
	p, _ := web.PrincipalFrom(c)
	var in postInput
	if err := web.AppBody().Decode(c.Request, &in); err != nil {
		return web.Answer{}, err
	}
	if err := in.validate(true); err != nil {
		return web.Answer{}, err
	}
	ctx := c.Request.Context()
	var id uint64
	err := a.tx(ctx, func(tx *sql.Tx) error {
		if err := a.store.CanWrite(ctx, tx, p.UserID); err != nil {
			return err
		}
		var err error
		id, err = a.store.InsertPost(ctx, tx, p.UserID, *in.Category, *in.Title, *in.Body)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	post, err := a.loadPost(ctx, id, p)
	return web.Created(post), err
}

func (a *API) getPost(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	post, err := a.loadPost(c.Request.Context(), id, p)
	return web.OK(post), err
}

// loadPost returns a live post; a hidden one only to its author and admins.
func (a *API) loadPost(ctx context.Context, id uint64, viewer web.Principal) (Post, error) {
	p, err := a.store.Post(ctx, a.db, id, viewer.UserID)
	if err != nil {
		return Post{}, err
	}
	if p.Status == "hidden" && p.Author.ID != viewer.UserID && viewer.Role != web.RoleAdmin {
		return Post{}, ErrNotFound
	}
	return p, nil
}

func (a *API) updatePost(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	var in postInput
	if err := web.AppBody().Decode(c.Request, &in); err != nil {
		return web.Answer{}, err
	}
	if err := in.validate(false); err != nil {
		return web.Answer{}, err
	}
	ctx := c.Request.Context()
	err = a.tx(ctx, func(tx *sql.Tx) error {
		if err := a.store.CanWrite(ctx, tx, p.UserID); err != nil {
			return err
		}
		if err := a.lockOwnPost(ctx, tx, id, p, false); err != nil {
			return err
		}
		return a.store.UpdatePost(ctx, tx, id, in.Category, in.Title, in.Body)
	})
	if err != nil {
		return web.Answer{}, err
	}
	post, err := a.loadPost(ctx, id, p)
	return web.OK(post), err
}

func (a *API) deletePost(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	ctx := c.Request.Context()
	err = a.tx(ctx, func(tx *sql.Tx) error {
		if err := a.lockOwnPost(ctx, tx, id, p, true); err != nil {
			return err
		}
		return a.store.DeletePost(ctx, tx, id, a.now().UTC())
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

const maxComments = 1000

func (a *API) listComments(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	viewer, _ := web.PrincipalFrom(c)
	ctx := c.Request.Context()
	if _, err := a.loadPost(ctx, id, viewer); err != nil {
		return web.Answer{}, err
	}
	items, err := a.store.Comments(ctx, a.db, id, maxComments)
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(gin.H{"items": items}), nil
}

type commentInput struct {
	Body     *string `json:"body"`
	ParentID *uint64 `json:"parent_id"`
}

func (in *commentInput) validate() error {
	var f web.Fields
	f.Text("body", in.Body, 1, 2000, true, false)
	if in.ParentID != nil && *in.ParentID == 0 {
		f.Add("parent_id", web.FieldInvalid, "양의 정수여야 합니다.")
	}
	return f.Err()
}

func (a *API) createComment(c *gin.Context) (web.Answer, error) {
	postID, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	var in commentInput
	if err := web.AppBody().Decode(c.Request, &in); err != nil {
		return web.Answer{}, err
	}
	if err := in.validate(); err != nil {
		return web.Answer{}, err
	}
	ctx := c.Request.Context()
	var cm Comment
	err = a.tx(ctx, func(tx *sql.Tx) error {
		if err := a.openForWrite(ctx, tx, postID, p.UserID); err != nil {
			return err
		}
		if err := a.checkParent(ctx, tx, postID, in.ParentID); err != nil {
			return err
		}
		var err error
		cm, err = a.store.InsertComment(ctx, tx, postID, p.UserID, in.ParentID, *in.Body)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.Created(cm), nil
}

// checkParent accepts no parent, or a live top-level comment of postID: a
// comment of another post is a field error, a reply ErrReplyDepth.
func (a *API) checkParent(ctx context.Context, q mysql.Querier, postID uint64, parentID *uint64) error {
	if parentID == nil {
		return nil
	}
	reply, err := a.store.IsReply(ctx, q, postID, *parentID)
	switch {
	case errors.Is(err, ErrNotFound):
		return web.Invalid("parent_id", web.FieldInvalid, "이 글에 없는 댓글입니다.")
	case err != nil:
		return err
	case reply:
		return ErrReplyDepth
	}
	return nil
}

func (a *API) deleteComment(c *gin.Context) (web.Answer, error) {
	postID, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	commentID, err := web.PathID(c, "commentId")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	ctx := c.Request.Context()
	err = a.tx(ctx, func(tx *sql.Tx) error {
		if _, err := a.lockVisiblePost(ctx, tx, postID, p); err != nil {
			return err
		}
		owner, err := a.store.LockComment(ctx, tx, postID, commentID)
		if err != nil {
			return err
		}
		if owner != p.UserID && p.Role != web.RoleAdmin {
			return ErrForbidden
		}
		return a.store.DeleteComment(ctx, tx, postID, commentID, a.now().UTC())
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

func (a *API) like(c *gin.Context) (web.Answer, error)   { return a.setLike(c, true) }
func (a *API) unlike(c *gin.Context) (web.Answer, error) { return a.setLike(c, false) }

// setLike inserts or deletes the caller's like (Store.SetLike: repeating
// either call changes nothing).
func (a *API) setLike(c *gin.Context, on bool) (web.Answer, error) {
	postID, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	ctx := c.Request.Context()
	var count int
	err = a.tx(ctx, func(tx *sql.Tx) error {
		if err := a.openForWrite(ctx, tx, postID, p.UserID); err != nil {
			return err
		}
		var err error
		count, err = a.store.SetLike(ctx, tx, postID, p.UserID, on)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(gin.H{"liked": on, "like_count": count}), nil
}

// openForWrite is the opening of every write on someone's post (a comment,
// a like): userID may write (Store.CanWrite), the post is locked, and a
// hidden one is ErrNotFound (Store.LockOpenPost).
func (a *API) openForWrite(ctx context.Context, tx *sql.Tx, postID, userID uint64) error {
	if err := a.store.CanWrite(ctx, tx, userID); err != nil {
		return err
	}
	return a.store.LockOpenPost(ctx, tx, postID)
}

// lockVisiblePost locks a live post that viewer may see and returns its
// author. A hidden post is ErrNotFound, like a missing one, to everyone but
// its author and admins, whatever the verb: another answer would tell that
// it exists.
func (a *API) lockVisiblePost(ctx context.Context, tx *sql.Tx, id uint64, viewer web.Principal) (uint64, error) {
	owner, status, err := a.store.LockPost(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	if status == "hidden" && owner != viewer.UserID && viewer.Role != web.RoleAdmin {
		return 0, ErrNotFound
	}
	return owner, nil
}

// lockOwnPost locks a post viewer may see and change: its author's, or
// any when admins may (deletes) and viewer is one; ErrForbidden otherwise.
func (a *API) lockOwnPost(ctx context.Context, tx *sql.Tx, id uint64, viewer web.Principal, admins bool) error {
	owner, err := a.lockVisiblePost(ctx, tx, id, viewer)
	if err != nil {
		return err
	}
	if owner != viewer.UserID && !(admins && viewer.Role == web.RoleAdmin) {
		return ErrForbidden
	}
	return nil
}

func (a *API) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return mysql.Tx(ctx, a.db, nil, fn)
}
