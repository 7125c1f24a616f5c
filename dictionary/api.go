package dictionary

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/usertext"
	"github.com/soomcare/soomcare/web"
)

// Error codes of the editors' endpoints (documented in
// apidoc/paths/dictionary.yaml; statuses registered in errorTable): a
// rejected change (400) names the entry and the problem in its message,
// field "text" (or "id" for a delete) one line per problem; a missing
// plugin (409) names the plugins.
const (
	CodeRuleRejected  = "analysis_rule_rejected"
	CodePluginMissing = "analysis_plugin_missing"
)

// List limits.
const (
	DefaultListSize = 50
	MaxListSize     = 200
	maxCursorLen    = 100
)

// API serves the editors' endpoints (editor or admin role):
//
//	GET    /v1/editor/dictionary         entries in id order (size, cursor)
//	POST   /v1/editor/dictionary         add {"text": "소아천식 소아 천식"}
//	PUT    /v1/editor/dictionary/{id}    replace an entry's text
//	DELETE /v1/editor/dictionary/{id}    delete an entry
//	…/v1/editor/synonyms the same for synonym rules {"text": "흡입기, 인헤일러, inhaler"}
//
// Changes are saved only when valid and apply to indices built after them
// (`soomcare reindex all`).
type API struct {
	store *Store
	kit   web.Kit
	body  web.Body
}

// NewAPI returns the editors' API over store.
func NewAPI(store *Store, logger *slog.Logger) *API {
	return &API{store: store, kit: web.NewKit(logger, errorTable()),
		body: web.AppBody()}
}

// Mount adds the routes; auth's middleware must run before them.
func (a *API) Mount(e *gin.Engine) {
	editor, h := web.RequireRole(web.RoleEditor, web.RoleAdmin), a.kit.Handle
	for path, k := range map[string]Kind{"/v1/editor/dictionary": Dictionary, "/v1/editor/synonyms": Synonyms} {
		e.GET(path, editor, h(a.list(k)))
		e.POST(path, editor, h(a.add(k)))
		e.PUT(path+"/:id", editor, h(a.edit(k)))
		e.DELETE(path+"/:id", editor, h(a.remove(k)))
	}
}

// ListPage is one page of a list.
type ListPage struct {
	Items      []Item  `json:"items"`
	NextCursor *string `json:"next_cursor"` // null on the last page
}

type listCursor struct {
	After uint64 `json:"a"`
	Kind  Kind   `json:"k"`
}

func (a *API) list(k Kind) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		var f web.Fields
		q := web.StrictQuery(&f, c.Request.URL.RawQuery, "size", "cursor")
		size := web.PageSize(&f, "size", q.Get("size"), DefaultListSize, MaxListSize)
		if err := f.Err(); err != nil {
			return web.Answer{}, err
		}
		var after uint64
		if q.Has("cursor") {
			var cur listCursor
			if !web.DecodeCursor(q.Get("cursor"), maxCursorLen, &cur) || cur.Kind != k || cur.After == 0 {
				return web.Answer{}, web.BadCursor()
			}
			after = cur.After
		}
		p, err := a.store.List(c.Request.Context(), k, after, size)
		if err != nil {
			return web.Answer{}, err
		}
		out := ListPage{Items: p.Items}
		if p.Next != 0 {
			s, _ := web.EncodeCursor(listCursor{After: p.Next, Kind: k}) // numbers and a string: always encodable
			out.NextCursor = &s
		}
		return web.OK(out), nil
	}
}

// input is the body of an add or an edit.
type input struct {
	Text *string `json:"text"`
}

// text decodes and checks the body: text is required, one line without
// control characters, at most MaxLen(k) characters after trimming.
func (a *API) text(c *gin.Context, k Kind) (string, error) {
	var in input
	if err := a.body.Decode(c.Request, &in); err != nil {
		return "", err
	}
	var f web.Fields
	switch {
	case in.Text == nil || strings.TrimSpace(*in.Text) == "":
		f.Add("text", web.FieldRequired, "text 는 필수입니다.")
	case utf8.RuneCountInString(strings.TrimSpace(*in.Text)) > MaxLen(k):
		f.Add("text", web.FieldTooLong, "text 는 최대 "+strconv.Itoa(MaxLen(k))+"자입니다.")
	case usertext.HasControl(*in.Text):
		f.Add("text", web.FieldInvalid, "text 는 제어 문자 없는 한 줄이어야 합니다.")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	return *in.Text, nil
}

// actor is the signed-in editor (the routes require one).
func actor(c *gin.Context) Actor {
	p, _ := web.PrincipalFrom(c)
	return Actor{UserID: p.UserID}
}

func (a *API) add(k Kind) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		text, err := a.text(c, k)
		if err != nil {
			return web.Answer{}, err
		}
		it, err := a.store.Add(c.Request.Context(), k, text, actor(c))
		return web.Created(it), err
	}
}

func (a *API) edit(k Kind) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		text, err := a.text(c, k)
		if err != nil {
			return web.Answer{}, err
		}
		it, err := a.store.Edit(c.Request.Context(), k, id, text, actor(c))
		return web.OK(it), err
	}
}

func (a *API) remove(k Kind) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		return web.NoContent(), a.store.Delete(c.Request.Context(), k, id, actor(c))
	}
}

// errorTable maps the store's errors to envelopes; engine and MySQL
// messages never reach the client.
func errorTable() web.Errors {
	return web.Errors{
		{Match: rejected, Code: CodeRuleRejected, Status: http.StatusBadRequest},
		{Match: pluginMissing, Code: CodePluginMissing, Status: http.StatusConflict},
		{Is: ErrNotFound, Code: web.CodeNotFound, Message: "찾을 수 없습니다."},
		{Is: engine.ErrUnavailable, Code: web.CodeUnavailable,
			Message: "검색 엔진에 연결할 수 없어 규칙을 검증하지 못했습니다. 잠시 후 다시 시도해 주세요."},
	}
}

// rejected is a *RejectedError's message, a field error per problem.
func rejected(err error) *web.Error {
	var rej *RejectedError
	if !errors.As(err, &rej) {
		return nil
	}
	field := "text"
	if rej.Action == ActionDelete {
		field = "id"
	}
	e := &web.Error{Message: rej.Message()}
	for _, p := range rej.Problems {
		e.Fields = append(e.Fields, web.FieldError{Field: field, Code: web.FieldInvalid, Message: p})
	}
	return e
}

// pluginMissing is a *PluginMissingError's message.
func pluginMissing(err error) *web.Error {
	var missing *PluginMissingError
	if !errors.As(err, &missing) {
		return nil
	}
	return &web.Error{Message: missing.Message()}
}
