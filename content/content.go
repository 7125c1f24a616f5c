// Package content serves the information articles editors write: CRUD with
// draft/published (editor or admin role for every write, 403 otherwise), the
// public read of published articles, and image uploads for them.
//
// Listing and search of published articles come from the search index
// (searchapi); the editors' list (drafts included) reads MySQL, where drafts
// live (they are never indexed). Writes go to MySQL only, and the CDC worker
// indexes them.
//
// Endpoints (documented in apidoc/paths/content.yaml):
//
//	POST   /v1/contents          create (editor, admin)
//	GET    /v1/editor/contents   every article, drafts included, newest edit first (editor, admin)
//	GET    /v1/contents/{id}     published article; drafts to editors and admins only
//	PATCH  /v1/contents/{id}     edit, publish or unpublish (editor, admin)
//	DELETE /v1/contents/{id}     soft delete (editor, admin)
//	POST   /v1/uploads/images    multipart image upload (editor, admin)
//	GET    <uploads.url_prefix>/<name>  the uploaded files
package content

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/blobstore"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// ErrNotFound is returned for a missing, deleted or (for readers) draft article.
var ErrNotFound = errors.New("content not found")

// Options configure the API.
type Options struct {
	Store          Store  // where uploads live; nil: a blobstore.Local over UploadDir
	UploadDir      string // uploads.dir (the local store's directory when Store is nil)
	UploadURL      string // uploads.url_prefix, e.g. /uploads
	MaxUploadBytes int64  // uploads.max_bytes
	Logger         *slog.Logger
	Now            func() time.Time
}

// API holds the handlers' dependencies.
type API struct {
	db    *sql.DB
	store ArticleStore
	o     Options
	kit   web.Kit
}

// New returns the content API. Uploads go to o.Store (by default the local
// directory o.UploadDir, created by the first upload).
func New(db *sql.DB, o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UploadURL == "" {
		o.UploadURL = "/uploads"
	}
	if o.Store == nil {
		o.Store = blobstore.NewLocal(o.UploadDir)
	}
	return &API{db: db, o: o, kit: web.NewKit(o.Logger, errorTable())}
}

// Mount adds the routes; auth.Middleware must run before them.
func (a *API) Mount(e *gin.Engine) {
	editor, h := web.RequireRole(web.RoleEditor, web.RoleAdmin), a.kit.Handle
	e.POST("/v1/contents", editor, h(a.create))
	e.GET("/v1/contents/:id", h(a.get))
	e.PATCH("/v1/contents/:id", editor, h(a.update))
	e.DELETE("/v1/contents/:id", editor, h(a.delete))
	e.GET("/v1/editor/contents", editor, h(a.listEditor))
	e.POST("/v1/uploads/images", editor, h(a.upload))
	e.GET(a.o.UploadURL+"/:name", a.serveImage)
}

// Content is an article: what the editors' list shows of it, and its body.
type Content struct {
	ListItem
	Body string `json:"body"`
}

type input struct {
	Title    *string   `json:"title"`
	Body     *string   `json:"body"`
	Summary  *string   `json:"summary"`
	Category *string   `json:"category"`
	Tags     *[]string `json:"tags"`
	Status   *string   `json:"status"`
}

func (in *input) validate(create bool) error {
	var f web.Fields
	f.Text("title", in.Title, 1, 200, create, true)
	f.Text("body", in.Body, 1, 200000, create, false)
	f.Text("summary", in.Summary, 0, 500, false, false)
	f.Text("category", in.Category, 1, 50, create, true)
	if in.Tags != nil {
		if len(*in.Tags) > 20 {
			f.Add("tags", web.FieldTooLong, "태그는 20개까지입니다.")
		}
		seen := map[string]bool{}
		out := []string{}
		for i := range *in.Tags {
			t := (*in.Tags)[i]
			f.Text(fmt.Sprintf("tags[%d]", i), &t, 1, 30, true, true)
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
		*in.Tags = out
	}
	if in.Status != nil && *in.Status != "draft" && *in.Status != "published" {
		f.Add("status", web.FieldInvalid, "draft 또는 published 여야 합니다.")
	}
	if !create && in.Title == nil && in.Body == nil && in.Summary == nil && in.Category == nil && in.Tags == nil && in.Status == nil {
		f.Add("body", web.FieldRequired, "바꿀 항목을 하나 이상 보내 주세요.")
	}
	return f.Err()
}

// article is the new article in, by authorID: a draft unless its status
// says otherwise, published now when it is published.
func (in *input) article(authorID uint64, now time.Time) NewArticle {
	a := NewArticle{AuthorID: authorID, Title: *in.Title, Body: *in.Body, Category: *in.Category, Status: "draft", Tags: []string{}}
	if in.Status != nil {
		a.Status = *in.Status
	}
	if in.Summary != nil {
		a.Summary = *in.Summary
	}
	if in.Tags != nil {
		a.Tags = *in.Tags
	}
	if a.Status == "published" {
		at := now.UTC()
		a.PublishedAt = &at
	}
	return a
}

// decodeInput reads and validates the body of a create (every required
// field) or an edit.
func decodeInput(c *gin.Context, create bool) (input, error) {
	var in input
	if err := web.AppBody().Decode(c.Request, &in); err != nil {
		return input{}, err
	}
	return in, in.validate(create)
}

func (a *API) create(c *gin.Context) (web.Answer, error) {
	p, _ := web.PrincipalFrom(c)
	in, err := decodeInput(c, true)
	if err != nil {
		return web.Answer{}, err
	}
	ctx := c.Request.Context()
	id, err := a.store.Insert(ctx, a.db, in.article(p.UserID, a.o.Now()))
	if err != nil {
		return web.Answer{}, err
	}
	ct, err := a.load(ctx, id, true)
	return web.Created(ct), err
}

func (a *API) get(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	p, _ := web.PrincipalFrom(c)
	ct, err := a.load(c.Request.Context(), id, p.Role == web.RoleEditor || p.Role == web.RoleAdmin)
	return web.OK(ct), err
}

// load reads article id; a draft is ErrNotFound unless drafts.
func (a *API) load(ctx context.Context, id uint64, drafts bool) (Content, error) {
	ct, err := a.store.Get(ctx, a.db, id)
	if err == nil && ct.Status != "published" && !drafts {
		return Content{}, ErrNotFound
	}
	return ct, err
}

func (a *API) update(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	in, err := decodeInput(c, false)
	if err != nil {
		return web.Answer{}, err
	}
	ctx := c.Request.Context()
	if err := a.edit(ctx, id, Changes(in)); err != nil {
		return web.Answer{}, err
	}
	ct, err := a.load(ctx, id, true)
	return web.OK(ct), err
}

// edit applies ch to article id under the article's row lock.
func (a *API) edit(ctx context.Context, id uint64, ch Changes) error {
	return mysql.Tx(ctx, a.db, nil, func(tx *sql.Tx) error {
		if err := a.store.Lock(ctx, tx, id); err != nil {
			return err
		}
		return a.store.Update(ctx, tx, id, ch, a.o.Now().UTC())
	})
}

func (a *API) delete(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	if err := a.store.SoftDelete(c.Request.Context(), a.db, id, a.o.Now().UTC()); err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

// errorTable maps the package's errors to client errors.
func errorTable() web.Errors {
	return web.Errors{
		{Is: ErrNotFound, Code: web.CodeNotFound, Message: "콘텐츠를 찾을 수 없습니다."},
		{Is: blobstore.ErrUnavailable, Code: web.CodeUnavailable, Message: storeUnavailableMsg},
	}
}
