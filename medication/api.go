// Package medication serves the user's medications, their schedules (local
// times of day on weekdays in an IANA time zone) and intake records (a dose
// taken or skipped). schedule.go expands a schedule into due instants,
// daylight-saving safe; the reminder dispatcher and the calendar use it.
// The handlers are in api.go (medications), schedules.go and intakes.go; the
// SQL is in Store (store.go).
//
// Endpoints (apidoc/paths/medications.yaml), under /v1/me behind auth:
//
//	GET|POST           /medications          GET|PUT|DELETE /medications/:id
//	GET|POST           /schedules            GET|PUT|DELETE /schedules/:id
//	GET|POST           /intakes              GET|DELETE     /intakes/:id
//
// Deleting a medication soft-deletes it and its schedules (intake history
// stays); a schedule is soft-deleted too, which ends its due doses. The
// three lists are keyset pages like the records' (care.Pager): limit
// (default 500 medications or schedules, 1000 intakes; at most 1000) and
// next_cursor; intakes also take from/to.
package medication

import (
	"context"
	"database/sql"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// Roles and forms.
const (
	RoleController = "controller"
	RoleReliever   = "reliever"
	RoleOther      = "other"
)

var (
	roles = []string{RoleController, RoleReliever, RoleOther}
	forms = []string{"inhaler", "tablet", "nebulizer", "other"}
)

// Options configure the API.
type Options = care.Options

// API serves the medication endpoints.
type API struct {
	care.Base
	store Store
}

// New returns the API over the MySQL pool.
func New(db *sql.DB, opts Options) *API {
	return &API{Base: care.NewBase(db, opts)}
}

// Mount adds the routes; pass it to server.New.
func (a *API) Mount(e *gin.Engine) {
	me := care.Group(e, a.Auth)
	h := a.Kit.Handle
	me.GET("/medications", h(listByID(a, "medications", a.store.Medications)))
	me.POST("/medications", h(a.createMedication))
	me.GET("/medications/:id", h(a.getMedication))
	me.PUT("/medications/:id", h(a.updateMedication))
	me.DELETE("/medications/:id", h(a.deleteMedication))
	me.GET("/schedules", h(listByID(a, "schedules", a.store.Schedules)))
	me.POST("/schedules", h(a.createSchedule))
	me.GET("/schedules/:id", h(a.getSchedule))
	me.PUT("/schedules/:id", h(a.updateSchedule))
	me.DELETE("/schedules/:id", h(care.Remove(a.DB, a.closeSchedule)))
	me.GET("/intakes", h(a.listIntakes))
	me.POST("/intakes", h(a.createIntake))
	me.GET("/intakes/:id", h(a.getIntake))
	me.DELETE("/intakes/:id", h(care.Remove(a.DB, a.store.DeleteIntake)))
}

// Medication is one medicine the user takes.
type Medication struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Form      string    `json:"form"`
	Dose      float64   `json:"dose"`
	DoseUnit  string    `json:"dose_unit"`
	CreatedAt time.Time `json:"created_at"`
}

func (m Medication) id() uint64 { return m.ID }

func scanMedication(r mysql.Scanner) (Medication, error) {
	var m Medication
	err := r.Scan(&m.ID, &m.Name, &m.Role, &m.Form, &m.Dose, &m.DoseUnit, &m.CreatedAt)
	return m, err
}

type medicationInput struct {
	Name     *string  `json:"name"`
	Role     *string  `json:"role"`
	Form     *string  `json:"form"`
	Dose     *float64 `json:"dose"`
	DoseUnit *string  `json:"dose_unit"`
}

// check validates the body and returns what it writes.
func (in *medicationInput) check() (medicationRow, error) {
	var v care.Checker
	if web.Required(&v.Fields, "name", in.Name) {
		*in.Name = strings.TrimSpace(*in.Name)
		if *in.Name == "" {
			v.Add("name", web.FieldRequired, "name 값이 필요합니다.")
		}
		v.MaxLen("name", *in.Name, 100)
		v.UserText("name", *in.Name, true)
	}
	if web.Required(&v.Fields, "role", in.Role) {
		v.OneOf("role", *in.Role, roles...)
	}
	if web.Required(&v.Fields, "form", in.Form) {
		v.OneOf("form", *in.Form, forms...)
	}
	if web.Required(&v.Fields, "dose", in.Dose) {
		if *in.Dose <= 0 || *in.Dose > 10000 || math.IsNaN(*in.Dose) {
			v.Add("dose", web.FieldOutOfRange, "dose 값은 0보다 크고 10000 이하여야 합니다.")
		} else if !twoDecimals(*in.Dose) {
			v.Add("dose", web.FieldInvalid, "dose 는 소수점 둘째 자리까지입니다.")
		}
	}
	if web.Required(&v.Fields, "dose_unit", in.DoseUnit) {
		if strings.TrimSpace(*in.DoseUnit) == "" {
			v.Add("dose_unit", web.FieldRequired, "dose_unit 값이 필요합니다.")
		}
		v.MaxLen("dose_unit", *in.DoseUnit, 20)
		v.UserText("dose_unit", *in.DoseUnit, true)
	}
	if err := v.Err(); err != nil {
		return medicationRow{}, err
	}
	return medicationRow{name: *in.Name, role: *in.Role, form: *in.Form, dose: *in.Dose, doseUnit: strings.TrimSpace(*in.DoseUnit)}, nil
}

// Page is the answer of the medication and schedule lists.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"` // null on the last page
}

// listByID answers a page of one of the caller's live rows in id order
// (list: a Store method); the pages' default size is the list's old fixed
// cap.
func listByID[T interface{ id() uint64 }](a *API, name string, list func(context.Context, mysql.Querier, uint64, care.Page) ([]T, error)) web.Handler {
	l := care.Pager{Name: name, DefaultSize: 500}
	return func(c *gin.Context) (web.Answer, error) {
		p, err := l.Parse(c, time.UTC, a.Now())
		if err != nil {
			return web.Answer{}, err
		}
		items, err := list(c.Request.Context(), a.DB, care.UserID(c), p)
		if err != nil {
			return web.Answer{}, err
		}
		var out Page[T]
		out.Items, out.NextCursor = care.Cut(l, p, items, func(x T) (string, uint64) { return "", x.id() })
		return web.OK(out), nil
	}
}

func (a *API) getMedication(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	m, err := a.store.Medication(c.Request.Context(), a.DB, care.UserID(c), id, false)
	return web.OK(m), err
}

// parseMedication decodes and checks a medication body.
func parseMedication(c *gin.Context) (medicationRow, error) {
	var in medicationInput
	if err := care.Decode(c, &in); err != nil {
		return medicationRow{}, err
	}
	return in.check()
}

func (a *API) createMedication(c *gin.Context) (web.Answer, error) {
	m, err := parseMedication(c)
	if err != nil {
		return web.Answer{}, err
	}
	ctx, uid := c.Request.Context(), care.UserID(c)
	var id uint64
	err = care.WriteTx(ctx, a.DB, uid, func(tx *sql.Tx) error {
		id, err = a.store.CreateMedication(ctx, tx, uid, m)
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	out, err := a.store.Medication(ctx, a.DB, uid, id, false)
	return web.Created(out), err
}

func (a *API) updateMedication(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	m, err := parseMedication(c)
	if err != nil {
		return web.Answer{}, err
	}
	ctx, uid := c.Request.Context(), care.UserID(c)
	// A changed role changes which intakes the calendar counts: bump the version.
	err = a.changeMedication(ctx, uid, id, func(tx *sql.Tx) error {
		return a.store.UpdateMedication(ctx, tx, uid, id, m)
	})
	if err != nil {
		return web.Answer{}, err
	}
	out, err := a.store.Medication(ctx, a.DB, uid, id, false)
	return web.OK(out), err
}

// deleteMedication soft-deletes the medication and its schedules together.
func (a *API) deleteMedication(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	ctx, uid := c.Request.Context(), care.UserID(c)
	err = a.changeMedication(ctx, uid, id, func(tx *sql.Tx) error {
		return a.store.DeleteMedication(ctx, tx, uid, id, a.Now().UTC())
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

// changeMedication runs change on the caller's live medication id, locked,
// in a care write (care.WriteTx); another user's or a missing one is
// care.ErrNotFound.
func (a *API) changeMedication(ctx context.Context, uid, id uint64, change func(tx *sql.Tx) error) error {
	return care.WriteTx(ctx, a.DB, uid, func(tx *sql.Tx) error {
		if _, err := a.store.Medication(ctx, tx, uid, id, true); err != nil {
			return err
		}
		return change(tx)
	})
}

// MakeRule builds a Rule from a stored schedule row.
func MakeRule(zones *care.Zones, times string, bits uint8, tz string, from time.Time, to sql.NullTime) (Rule, error) {
	clocks, err := ParseTimes(times)
	if err != nil {
		return Rule{}, err
	}
	loc, err := zones.Load(tz)
	if err != nil {
		return Rule{}, err
	}
	r := Rule{Times: clocks, Weekdays: bits, Loc: loc, ActiveFrom: from}
	if to.Valid {
		r.ActiveTo = to.Time
	}
	return r, nil
}

// twoDecimals reports whether d has at most two decimal places as written
// (1.12 does, although 1.12*100 is not exactly 112 in binary floating point).
func twoDecimals(d float64) bool {
	s := strconv.FormatFloat(d, 'f', -1, 64)
	i := strings.IndexByte(s, '.')
	return i < 0 || len(s)-i-1 <= 2
}
