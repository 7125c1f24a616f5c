package records

import (
	"context"
	"database/sql"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// record is a stored record: its place in its list (its time or date, and
// id).
type record interface {
	position() (at string, id uint64)
}

// row is a validated body: the columns a create or replace writes.
type row interface {
	columns() []column
}

// kind is one record type served at /v1/me/<path>: its table, how a body
// becomes the written row, and what the write's transaction adds to it.
type kind[T record, W row] struct {
	path  string
	table table[T]
	// parse decodes and validates a body for POST and PUT alike.
	parse func(c *gin.Context) (W, error)
	// complete, when set, adds derived values inside the write's
	// transaction (the zone snapshot of a peak flow); id is 0 for a create.
	complete func(ctx context.Context, q mysql.Querier, userID, id uint64, w W) (W, error)
}

// route is a kind whatever its types.
type route interface {
	mount(a *API, me *gin.RouterGroup)
}

func (k kind[T, W]) mount(a *API, me *gin.RouterGroup) {
	h := a.Kit.Handle
	me.POST("/"+k.path, h(k.create(a)))
	me.GET("/"+k.path, h(k.list(a)))
	me.GET("/"+k.path+"/:id", h(k.get(a)))
	me.PUT("/"+k.path+"/:id", h(k.replace(a)))
	me.DELETE("/"+k.path+"/:id", h(care.Remove(a.DB, k.table.remove)))
}

// List is the answer of the list endpoints.
type List[T any] struct {
	Items []T       `json:"items"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// NextCursor continues the list after its last item (nil on the last page).
	NextCursor *string `json:"next_cursor"`
}

func (k kind[T, W]) list(a *API) web.Handler {
	l := care.Pager{Name: k.path, Ranged: true, Dates: k.table.dates}
	return func(c *gin.Context) (web.Answer, error) {
		p, loc, err := l.ParseForUser(c, a.DB, a.Zones, a.Now())
		if err != nil {
			return web.Answer{}, err
		}
		var lo, hi any = p.From, p.To
		if k.table.dates { // health events: local dates overlapping [from, to)
			lo, hi = p.From.In(loc).Format(time.DateOnly), p.To.In(loc).Format(time.DateOnly)
		}
		items, err := k.table.list(c.Request.Context(), a.DB, care.UserID(c), lo, hi, p)
		if err != nil {
			return web.Answer{}, err
		}
		out := List[T]{From: p.From, To: p.To}
		out.Items, out.NextCursor = care.Cut(l, p, items, T.position)
		return web.OK(out), nil
	}
}

func (k kind[T, W]) get(a *API) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		item, err := k.table.get(c.Request.Context(), a.DB, care.UserID(c), id)
		return web.OK(item), err
	}
}

// create inserts a record (with the version bump) and answers it as read back.
func (k kind[T, W]) create(a *API) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		w, err := k.parse(c)
		if err != nil {
			return web.Answer{}, err
		}
		ctx, uid := c.Request.Context(), care.UserID(c)
		var id uint64
		err = care.WriteTx(ctx, a.DB, uid, func(tx *sql.Tx) error {
			if w, err = k.completed(ctx, tx, uid, 0, w); err != nil {
				return err
			}
			id, err = k.table.insert(ctx, tx, uid, w.columns())
			return err
		})
		if err != nil {
			return web.Answer{}, err
		}
		item, err := k.table.get(ctx, a.DB, uid, id)
		return web.Created(item), err
	}
}

// replace is PUT: the record gets exactly what a POST of the same body would
// have created (validated the same way), keeping its id. Another user's
// record is not found; an invalid body changes nothing.
func (k kind[T, W]) replace(a *API) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		w, err := k.parse(c)
		if err != nil {
			return web.Answer{}, err
		}
		ctx, uid := c.Request.Context(), care.UserID(c)
		err = care.WriteTx(ctx, a.DB, uid, func(tx *sql.Tx) error {
			if err := k.table.lock(ctx, tx, uid, id); err != nil {
				return err
			}
			if w, err = k.completed(ctx, tx, uid, id, w); err != nil {
				return err
			}
			return k.table.update(ctx, tx, uid, id, w.columns())
		})
		if err != nil {
			return web.Answer{}, err
		}
		item, err := k.table.get(ctx, a.DB, uid, id)
		return web.OK(item), err
	}
}

// completed is w with what complete adds.
func (k kind[T, W]) completed(ctx context.Context, q mysql.Querier, userID, id uint64, w W) (W, error) {
	if k.complete == nil {
		return w, nil
	}
	return k.complete(ctx, q, userID, id, w)
}
