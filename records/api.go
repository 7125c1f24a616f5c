// Package records serves the user's own health records: the asthma action
// plan (personal best peak flow, time zone), symptom records, peak-flow
// records with their zone, ACT results and health events (exacerbations).
//
// Ownership always comes from web.Principal: every query has
// "user_id = caller", and a record of another user answers 404 like one that
// does not exist.
//
// Endpoints (apidoc/paths/records.yaml), all under /v1/me and behind auth:
//
//	GET|PUT|DELETE   /action-plan
//	POST|GET         /symptoms, /peak-flows, /act-results, /health-events
//	GET|PUT|DELETE   /symptoms/:id, /peak-flows/:id, /act-results/:id, /health-events/:id
//
// Lists are pages in (time, id) order with an opaque cursor (care.Pager);
// every write bumps the user's records version (care.WriteTx). The four
// record types share their handlers (kind.go) and differ in their types,
// scans and bodies (kinds.go); the SQL is in Store (store.go).
package records

import (
	"database/sql"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/web"
)

// Options configure the API.
type Options = care.Options

// API serves the records endpoints.
type API struct {
	care.Base
	store Store
}

// New returns the API over the MySQL pool.
func New(db *sql.DB, opts Options) *API {
	return &API{Base: care.NewBase(db, opts), store: NewStore()}
}

// Mount adds the routes; pass it to server.New.
func (a *API) Mount(e *gin.Engine) {
	me := care.Group(e, a.Auth)
	h := a.Kit.Handle
	me.GET("/action-plan", h(a.getPlan))
	me.PUT("/action-plan", h(a.putPlan))
	me.DELETE("/action-plan", h(a.deletePlan))
	for _, k := range a.kinds() {
		k.mount(a, me)
	}
}

// Plan is the user's asthma action plan.
type Plan struct {
	PersonalBestLPM *int   `json:"personal_best_lpm"`
	TimeZone        string `json:"time_zone"`
}

func (a *API) getPlan(c *gin.Context) (web.Answer, error) {
	p, err := a.store.Plan(c.Request.Context(), a.DB, care.UserID(c))
	return web.OK(p), err
}

// putPlan replaces the plan. A body that is not a JSON object (null
// included) is refused by Decode: it must not erase the personal best.
func (a *API) putPlan(c *gin.Context) (web.Answer, error) {
	var in struct {
		PersonalBestLPM *int    `json:"personal_best_lpm"`
		TimeZone        *string `json:"time_zone"`
	}
	if err := care.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	var v care.Checker
	if in.PersonalBestLPM != nil {
		v.IntRange("personal_best_lpm", *in.PersonalBestLPM, MinPersonalPEF, MaxPEF)
	}
	p := Plan{PersonalBestLPM: in.PersonalBestLPM, TimeZone: care.DefaultTimeZone}
	if in.TimeZone != nil {
		p.TimeZone = *in.TimeZone
		v.Zone("time_zone", *in.TimeZone, a.Zones)
	}
	if err := v.Err(); err != nil {
		return web.Answer{}, err
	}
	uid := care.UserID(c)
	err := care.WriteTx(c.Request.Context(), a.DB, uid, func(tx *sql.Tx) error {
		return a.store.SavePlan(c.Request.Context(), tx, uid, p)
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(p), nil
}

// deletePlan resets the plan to the default (no personal best, Asia/Seoul):
// 204 whether or not one was saved. Readings keep the zone of their time.
func (a *API) deletePlan(c *gin.Context) (web.Answer, error) {
	uid := care.UserID(c)
	err := care.WriteTx(c.Request.Context(), a.DB, uid, func(tx *sql.Tx) error {
		return a.store.DeletePlan(c.Request.Context(), tx, uid)
	})
	return web.NoContent(), err
}
