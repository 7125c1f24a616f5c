package insights

import (
	"log/slog"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/dictionary"
	"github.com/soomcare/soomcare/usertext"
	"github.com/soomcare/soomcare/web"
)

// Limits of the suggestion endpoints.
const (
	DefaultSuggestionList = 50
	MaxSuggestionList     = PopularSize
	DefaultChanges        = 50
	MaxChanges            = 500
)

// BlockAPI serves the editors' control over popular suggestions (editor or
// admin role):
//
//	GET    /v1/editor/suggestions                   popular queries suggest shows now (q: those q completes; size)
//	GET    /v1/editor/suggestions/blocks            the removals and blocks
//	POST   /v1/editor/suggestions/blocks            {"text": "…", "match": "exact|contains"}: remove a query, block a text
//	DELETE /v1/editor/suggestions/blocks/{id}       unblock
//	GET    /v1/editor/suggestions/changes           the audit, newest first (size)
//
// A change applies in this process before the answer and in every other
// serve process within insights.blocks_refresh (Popular.FollowBlocks).
type BlockAPI struct {
	store   *BlockStore
	popular *Popular // nil when insights are off: nothing is suggested
	kit     web.Kit
	body    web.Body
}

// NewBlockAPI returns the API over store, applying changes to popular.
func NewBlockAPI(store *BlockStore, popular *Popular, logger *slog.Logger) *BlockAPI {
	return &BlockAPI{store: store, popular: popular, kit: web.NewKit(logger, blockErrors()),
		body: web.AppBody()}
}

// Mount adds the routes; auth's middleware must run before them.
func (a *BlockAPI) Mount(e *gin.Engine) {
	editor, h := web.RequireRole(web.RoleEditor, web.RoleAdmin), a.kit.Handle
	e.GET("/v1/editor/suggestions", editor, h(a.shown))
	e.GET("/v1/editor/suggestions/blocks", editor, h(a.blocks))
	e.POST("/v1/editor/suggestions/blocks", editor, h(a.add))
	e.DELETE("/v1/editor/suggestions/blocks/:id", editor, h(a.remove))
	e.GET("/v1/editor/suggestions/changes", editor, h(a.changes))
}

// ShownList is the answer of GET /v1/editor/suggestions; Count is distinct
// clients.
type ShownList struct {
	Suggestions []QueryCount `json:"suggestions"`
}

func (a *BlockAPI) shown(c *gin.Context) (web.Answer, error) {
	var f web.Fields
	q := web.StrictQuery(&f, c.Request.URL.RawQuery, "q", "size")
	size := web.PageSize(&f, "size", q.Get("size"), DefaultSuggestionList, MaxSuggestionList)
	f.MaxLen("q", q.Get("q"), MaxBlockLen)
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	out := ShownList{Suggestions: []QueryCount{}}
	if a.popular != nil {
		out.Suggestions = append(out.Suggestions, a.popular.Shown(strings.ToLower(strings.Join(strings.Fields(q.Get("q")), " ")), size)...)
	}
	return web.OK(out), nil
}

// BlockList is the answer of GET /v1/editor/suggestions/blocks.
type BlockList struct {
	Blocks []Block `json:"blocks"`
}

func (a *BlockAPI) blocks(c *gin.Context) (web.Answer, error) {
	var f web.Fields
	web.StrictQuery(&f, c.Request.URL.RawQuery)
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	list, err := a.store.List(c.Request.Context())
	return web.OK(BlockList{Blocks: append([]Block{}, list...)}), err
}

// blockInput is the body of POST …/blocks.
type blockInput struct {
	Text  *string `json:"text"`
	Match *string `json:"match"`
}

func (a *BlockAPI) input(c *gin.Context) (text, match string, err error) {
	var in blockInput
	if err := a.body.Decode(c.Request, &in); err != nil {
		return "", "", err
	}
	var f web.Fields
	switch {
	case in.Text == nil || strings.TrimSpace(*in.Text) == "":
		f.Add("text", web.FieldRequired, "text 는 필수입니다.")
	case usertext.HasControl(*in.Text):
		f.Add("text", web.FieldInvalid, "text 는 제어 문자 없는 한 줄이어야 합니다.")
	default:
		if _, err := BlockText(*in.Text); err != nil {
			f.Add("text", web.FieldInvalid, "text 는 200자 이하의 낱말이어야 합니다 (초성만으로는 안 됩니다).")
		}
	}
	switch {
	case in.Match == nil:
		f.Add("match", web.FieldRequired, "match 는 exact(제안 하나 삭제) 또는 contains(이 글자가 든 제안 모두 차단)입니다.")
	case *in.Match != MatchExact && *in.Match != MatchContains:
		f.Add("match", web.FieldInvalid, "match 는 exact 또는 contains 입니다.")
	}
	if err := f.Err(); err != nil {
		return "", "", err
	}
	return *in.Text, *in.Match, nil
}

func (a *BlockAPI) add(c *gin.Context) (web.Answer, error) {
	text, match, err := a.input(c)
	if err != nil {
		return web.Answer{}, err
	}
	b, created, err := a.store.Add(c.Request.Context(), text, match, editorOf(c))
	if err != nil {
		return web.Answer{}, err
	}
	if err := a.apply(c); err != nil {
		return web.Answer{}, err
	}
	if !created {
		return web.OK(b), nil
	}
	return web.Created(b), nil
}

func (a *BlockAPI) remove(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	if _, err := a.store.Delete(c.Request.Context(), id, editorOf(c)); err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), a.apply(c)
}

// apply reloads the blocks into this process's list before answering.
func (a *BlockAPI) apply(c *gin.Context) error {
	if a.popular == nil {
		return nil
	}
	blocks, err := a.store.List(c.Request.Context())
	if err == nil {
		a.popular.SetBlocks(blocks)
	}
	return err
}

// ChangeList is the answer of GET /v1/editor/suggestions/changes.
type ChangeList struct {
	Changes []BlockChange `json:"changes"`
}

func (a *BlockAPI) changes(c *gin.Context) (web.Answer, error) {
	var f web.Fields
	q := web.StrictQuery(&f, c.Request.URL.RawQuery, "size")
	size := web.PageSize(&f, "size", q.Get("size"), DefaultChanges, MaxChanges)
	if err := f.Err(); err != nil {
		return web.Answer{}, err
	}
	list, err := a.store.Changes(c.Request.Context(), size)
	return web.OK(ChangeList{Changes: append([]BlockChange{}, list...)}), err
}

// editorOf is the signed-in editor (the routes require one).
func editorOf(c *gin.Context) dictionary.Actor {
	p, _ := web.PrincipalFrom(c)
	return dictionary.Actor{UserID: p.UserID}
}

// blockErrors maps the store's errors to envelopes; MySQL messages never
// reach the client.
func blockErrors() web.Errors {
	return web.Errors{{Is: ErrBlockNotFound, Code: web.CodeNotFound, Message: "찾을 수 없습니다."}}
}
