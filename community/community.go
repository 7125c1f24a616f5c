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

// Sentinel errors; the handlers map them with errors.Is.
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
		dailyLimit: o.ReportDailyLimit, log: o.Logger, kit: web.NewKit(o.Logger, mapError), now: o.Now,
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
		if err := canWrite(ctx, tx, p.UserID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO posts (user_id, category, title, body) VALUES (?, ?, ?, ?)`, p.UserID, *in.Category, *in.Title, *in.Body)
		if err != nil {
			return err
		}
		n, _ := res.LastInsertId()
		id = uint64(n)
		return nil
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
	var p Post
	err := a.db.QueryRowContext(ctx, `SELECT p.id, p.user_id, u.nickname, p.category, p.title, p.body, p.like_count, p.comment_count, p.status, p.created_at, p.updated_at,
		EXISTS(SELECT 1 FROM post_likes l WHERE l.post_id = p.id AND l.user_id = ?)
		FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id = ? AND p.deleted_at IS NULL`, viewer.UserID, id).
		Scan(&p.ID, &p.Author.ID, &p.Author.Nickname, &p.Category, &p.Title, &p.Body, &p.LikeCount, &p.CommentCount, &p.Status, &p.CreatedAt, &p.UpdatedAt, &p.LikedByMe)
	if errors.Is(err, sql.ErrNoRows) {
		return Post{}, ErrNotFound
	}
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
		if err := canWrite(ctx, tx, p.UserID); err != nil {
			return err
		}
		owner, err := lockVisiblePost(ctx, tx, id, p)
		if err != nil {
			return err
		}
		if owner != p.UserID {
			return ErrForbidden
		}
		_, err = tx.ExecContext(ctx, `UPDATE posts SET category = COALESCE(?, category), title = COALESCE(?, title), body = COALESCE(?, body) WHERE id = ?`,
			in.Category, in.Title, in.Body, id)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	post, err := a.loadPost(c.Request.Context(), id, p)
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
		owner, err := lockVisiblePost(ctx, tx, id, p)
		if err != nil {
			return err
		}
		if owner != p.UserID && p.Role != web.RoleAdmin {
			return ErrForbidden
		}
		_, err = tx.ExecContext(ctx, `UPDATE posts SET deleted_at = ? WHERE id = ?`, a.now().UTC(), id)
		return err
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
	rows, err := a.db.QueryContext(ctx, `SELECT c.id, c.post_id, c.parent_id, c.user_id, u.nickname, c.body, c.created_at
		FROM comments c JOIN users u ON u.id = c.user_id WHERE c.post_id = ? AND c.deleted_at IS NULL ORDER BY c.id LIMIT ?`, id, maxComments)
	if err != nil {
		return web.Answer{}, err
	}
	defer rows.Close()
	items := []Comment{}
	for rows.Next() {
		var cm Comment
		var parent sql.NullInt64
		if err := rows.Scan(&cm.ID, &cm.PostID, &parent, &cm.Author.ID, &cm.Author.Nickname, &cm.Body, &cm.CreatedAt); err != nil {
			return web.Answer{}, err
		}
		if parent.Valid {
			v := uint64(parent.Int64)
			cm.ParentID = &v
		}
		items = append(items, cm)
	}
	if err := rows.Err(); err != nil {
		return web.Answer{}, err
	}
	return web.OK(gin.H{"items": items}), nil
}

type commentInput struct {
	Body     *string `json:"body"`
	ParentID *uint64 `json:"parent_id"`
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
	var f web.Fields
	f.Text("body", in.Body, 1, 2000, true, false)
	if in.ParentID != nil && *in.ParentID == 0 {
		f.Add("parent_id", web.FieldInvalid, "양의 정수여야 합니다.")
	}
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	ctx := c.Request.Context()
	var cm Comment
	err = a.tx(ctx, func(tx *sql.Tx) error {
		if err := canWrite(ctx, tx, p.UserID); err != nil {
			return err
		}
		if _, status, err := lockPost(ctx, tx, postID); err != nil {
			return err
		} else if status == "hidden" {
			return ErrNotFound
		}
		if in.ParentID != nil {
			var grand sql.NullInt64
			err := tx.QueryRowContext(ctx, `SELECT parent_id FROM comments WHERE id = ? AND post_id = ? AND deleted_at IS NULL`, *in.ParentID, postID).Scan(&grand)
			if errors.Is(err, sql.ErrNoRows) {
				return web.Invalid("parent_id", web.FieldInvalid, "이 글에 없는 댓글입니다.")
			}
			if err != nil {
				return err
			}
			if grand.Valid {
				return ErrReplyDepth
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO comments (post_id, user_id, parent_id, body) VALUES (?, ?, ?, ?)`, postID, p.UserID, in.ParentID, *in.Body)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE posts SET comment_count = comment_count + 1 WHERE id = ?`, postID); err != nil {
			return err
		}
		n, _ := res.LastInsertId()
		return tx.QueryRowContext(ctx, `SELECT c.id, c.post_id, c.parent_id, c.user_id, u.nickname, c.body, c.created_at FROM comments c JOIN users u ON u.id = c.user_id WHERE c.id = ?`, n).
			Scan(&cm.ID, &cm.PostID, &cm.ParentID, &cm.Author.ID, &cm.Author.Nickname, &cm.Body, &cm.CreatedAt)
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.Created(cm), nil
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
		if _, err := lockVisiblePost(ctx, tx, postID, p); err != nil {
			return err
		}
		var owner uint64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM comments WHERE id = ? AND post_id = ? AND deleted_at IS NULL FOR UPDATE`, commentID, postID).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if owner != p.UserID && p.Role != web.RoleAdmin {
			return ErrForbidden
		}
		if _, err := tx.ExecContext(ctx, `UPDATE comments SET deleted_at = ? WHERE id = ?`, a.now().UTC(), commentID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE posts SET comment_count = comment_count - 1 WHERE id = ? AND comment_count > 0`, postID)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

func (a *API) like(c *gin.Context) (web.Answer, error)   { return a.setLike(c, true) }
func (a *API) unlike(c *gin.Context) (web.Answer, error) { return a.setLike(c, false) }

// setLike inserts or deletes the caller's like and moves like_count by the
// rows actually changed, so repeating either call changes nothing.
func (a *API) setLike(c *gin.Context, on bool) (web.Answer, error) {
	postID, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	ctx := c.Request.Context()
	var count int
	err = a.tx(ctx, func(tx *sql.Tx) error {
		if err := canWrite(ctx, tx, p.UserID); err != nil {
			return err
		}
		if _, status, err := lockPost(ctx, tx, postID); err != nil {
			return err
		} else if status == "hidden" {
			return ErrNotFound
		}
		var res sql.Result
		var err error
		if on {
			res, err = tx.ExecContext(ctx, `INSERT IGNORE INTO post_likes (post_id, user_id) VALUES (?, ?)`, postID, p.UserID)
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM post_likes WHERE post_id = ? AND user_id = ?`, postID, p.UserID)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			q := `UPDATE posts SET like_count = like_count + 1 WHERE id = ?`
			if !on {
				q = `UPDATE posts SET like_count = like_count - 1 WHERE id = ? AND like_count > 0`
			}
			if _, err := tx.ExecContext(ctx, q, postID); err != nil {
				return err
			}
		}
		// A locking read: the transaction's snapshot dates from before it
		// waited for the post's lock, so a plain read could miss the likes
		// committed meanwhile (and answer 0 for a post with 10).
		return tx.QueryRowContext(ctx, `SELECT like_count FROM posts WHERE id = ? FOR UPDATE`, postID).Scan(&count)
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(gin.H{"liked": on, "like_count": count}), nil
}

// canWrite refuses blocked and deleted users (their access token may still
// be valid for up to auth.access_token_ttl).
func canWrite(ctx context.Context, tx *sql.Tx, userID uint64) error {
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM users WHERE id = ? AND deleted_at IS NULL`, userID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) || status == "deleted" {
		return ErrUserGone
	}
	if err != nil {
		return err
	}
	if status == "blocked" {
		return ErrBlocked
	}
	return nil
}

// lockVisiblePost locks a live post that viewer may see and returns its
// author. A hidden post is ErrNotFound, like a missing one, to everyone but
// its author and admins, whatever the verb: another answer would tell that
// it exists.
func lockVisiblePost(ctx context.Context, tx *sql.Tx, id uint64, viewer web.Principal) (uint64, error) {
	owner, status, err := lockPost(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	if status == "hidden" && owner != viewer.UserID && viewer.Role != web.RoleAdmin {
		return 0, ErrNotFound
	}
	return owner, nil
}

// lockPost locks a live post and returns its author and status.
func lockPost(ctx context.Context, tx *sql.Tx, id uint64) (uint64, string, error) {
	var owner uint64
	var status string
	err := tx.QueryRowContext(ctx, `SELECT user_id, status FROM posts WHERE id = ? AND deleted_at IS NULL FOR UPDATE`, id).Scan(&owner, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	return owner, status, err
}

func (a *API) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	return mysql.Tx(ctx, a.db, nil, fn)
}

// mapError turns the package's sentinels into client errors.
func mapError(err error) error {
	e := func(code, msg string) error { return web.NewError(code, msg, err) }
	var limited *errReportLimited
	switch {
	case errors.As(err, &limited):
		return &web.Error{Code: web.CodeReportLimited, Message: "오늘은 더 신고할 수 없습니다. 잠시 후 다시 시도해 주세요.",
			RetryAfter: limited.retryAfter, Err: err}
	case errors.Is(err, ErrNotFound):
		return e(web.CodeNotFound, "글이나 댓글을 찾을 수 없습니다.")
	case errors.Is(err, ErrForbidden):
		return e(web.CodeForbidden, "작성자만 할 수 있습니다.")
	case errors.Is(err, ErrBlocked):
		return e(web.CodeUserBlocked, "이용이 제한된 계정은 글을 쓸 수 없습니다.")
	case errors.Is(err, ErrUserGone):
		return e(web.CodeUnauthorized, "사용할 수 없는 계정입니다.")
	case errors.Is(err, ErrReplyDepth):
		return e(web.CodeReplyDepth, "답글에는 답글을 달 수 없습니다.")
	case errors.Is(err, ErrAlreadyReported):
		return e(web.CodeAlreadyReported, "이미 신고한 글입니다.")
	}
	return err
}
