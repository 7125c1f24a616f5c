// Package care is the HTTP kit of the care areas (records, medication,
// reminder, report) on top of package web: their handler kit (ErrNotFound is
// 404), the Base an API holds (pool, auth, kit, clock, zones), the
// authenticated /v1/me group, the JSON body policy, the narrowing
// of field errors to invalid_date and out_of_range, keyset pages (page.go),
// the one loader of the user's time zone, and the records version every
// care write bumps (version.go).
package care

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"
	_ "time/tzdata" // schedules and calendars need IANA zones even where the system has none

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// DefaultTimeZone is the zone of a user without a saved plan.
const DefaultTimeZone = "Asia/Seoul"

// The care endpoints' own codes of invalid input (400, with fields): every
// field error is of one kind.
const (
	CodeInvalidDate = "invalid_date" // every field error is an unparsable date
	CodeOutOfRange  = "out_of_range" // every field error is a value outside its domain
)

// Checker collects field errors while a care request is validated.
type Checker struct{ web.Fields }

// Err returns nil or the 400 error: out_of_range or invalid_date when every
// field error is of that kind, validation_failed otherwise.
func (v *Checker) Err() error {
	list := v.List()
	if len(list) == 0 {
		return nil
	}
	code := list[0].Code
	for _, f := range list[1:] {
		if f.Code != code {
			code = ""
		}
	}
	switch code {
	case web.FieldOutOfRange:
		return &web.Error{Code: CodeOutOfRange, Message: "허용 범위를 벗어난 값이 있습니다.", Fields: list, Status: http.StatusBadRequest}
	case web.FieldInvalidDate:
		return &web.Error{Code: CodeInvalidDate, Message: "날짜 형식이 올바르지 않습니다.", Fields: list, Status: http.StatusBadRequest}
	}
	return v.Fields.Err()
}

// Instant parses an RFC 3339 time and checks it is within the records'
// bounds: from 2000-01-01 (in its own offset) to now + 1 day (clocks of
// phones drift; a record is never far in the future), web.EarliestRecord
// and web.LatestRecord.
func (v *Checker) Instant(field, s string, now time.Time) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, web.FieldInvalidDate, field+" 값은 2024-03-01T08:30:00+09:00 형식이어야 합니다.")
		return time.Time{}
	}
	if t.Before(web.EarliestRecord(t.Location())) || t.After(web.LatestRecord(now)) {
		v.Add(field, web.FieldOutOfRange, field+" 값은 2000년 이후, 현재 시각 이전이어야 합니다.")
	}
	return t.UTC()
}

// RequiredInstant is Instant of a required field (the zero time when it
// is missing).
func (v *Checker) RequiredInstant(field string, s *string, now time.Time) time.Time {
	if !web.Required(&v.Fields, field, s) {
		return time.Time{}
	}
	return v.Instant(field, *s, now)
}

// Date parses YYYY-MM-DD (a local date) and checks it is from 2000-01-01
// (web.EarliestRecord) to the date of latest in UTC; latest is
// web.LatestRecord(now) for a date that has happened (today and usually
// tomorrow in every zone).
func (v *Checker) Date(field, s string, latest time.Time) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Add(field, web.FieldInvalidDate, field+" 값은 2024-03-01 형식이어야 합니다.")
		return time.Time{}, false
	}
	if t.Before(web.EarliestRecord(time.UTC)) || t.After(latest) {
		v.Add(field, web.FieldOutOfRange, field+" 값은 2000-01-01부터 "+latest.Format(time.DateOnly)+" 사이여야 합니다.")
		return time.Time{}, false
	}
	return t, true
}

// Zone checks an IANA time zone name.
func (v *Checker) Zone(field, name string, zones *Zones) *time.Location {
	loc, err := zones.Load(name)
	if err != nil {
		v.Add(field, web.FieldInvalid, field+" 값은 Asia/Seoul 같은 IANA 시간대여야 합니다.")
		return nil
	}
	return loc
}

// Decode reads the JSON body into dst strictly (web.Body): a body that is
// not one JSON object is 400 bad_request (field "body"), an unknown field or
// one of the wrong type 400 validation_failed naming it, a body over the
// limit 413.
func Decode(c *gin.Context, dst any) error {
	return web.CareBody().Decode(c.Request, dst)
}

// ErrNotFound is what stores return for a row that does not exist or is not
// the caller's; handlers answer 404 either way so ids do not leak.
var ErrNotFound = errors.New("not found")

// Kit is the handler kit of the care endpoints: ErrNotFound is 404.
func Kit(logger *slog.Logger) web.Kit {
	return web.NewKit(logger, web.Errors{{Is: ErrNotFound, Code: web.CodeNotFound, Message: "기록을 찾을 수 없습니다."}})
}

// Conflict is the 409 envelope.
func Conflict(msg string) error { return &web.Error{Code: web.CodeConflict, Message: msg} }

// Options configure a care API (records, medication; report adds its cache).
type Options struct {
	// Auth sets web.Principal from the request's token (auth.Middleware);
	// nil when a middleware on the engine already does.
	Auth   gin.HandlerFunc
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
}

// Base is what every care API holds beside its store: the MySQL pool, the
// auth middleware of its Group, its handler kit (Kit), the clock and the
// loader of users' zones.
type Base struct {
	DB    *sql.DB
	Auth  gin.HandlerFunc
	Kit   web.Kit
	Now   func() time.Time
	Zones *Zones
}

// NewBase returns the Base of a care API over the MySQL pool.
func NewBase(db *sql.DB, opts Options) Base {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return Base{DB: db, Auth: opts.Auth, Kit: Kit(opts.Logger), Now: opts.Now, Zones: &Zones{}}
}

// Group returns the authenticated /v1/me group every care package mounts on.
func Group(e *gin.Engine, auth gin.HandlerFunc) *gin.RouterGroup {
	var hs []gin.HandlerFunc
	if auth != nil {
		hs = append(hs, auth)
	}
	return e.Group("/v1/me", append(hs, web.RequireAuth())...)
}

// UserID is the caller's id; routes are behind web.RequireAuth.
func UserID(c *gin.Context) uint64 {
	p, _ := web.PrincipalFrom(c)
	return p.UserID
}

// Zones caches loaded time zones (time.LoadLocation reads tzdata on every
// call) and is the one loader of users' zones.
type Zones struct{ m sync.Map }

// Load returns the zone named name; "" is DefaultTimeZone. "Local" is refused
// (it means the server's zone, never the user's).
func (z *Zones) Load(name string) (*time.Location, error) {
	if name == "" {
		name = DefaultTimeZone
	}
	if v, ok := z.m.Load(name); ok {
		return v.(*time.Location), nil
	}
	if name == "Local" || len(name) > 64 {
		return nil, errors.New("care: unknown time zone " + name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	z.m.Store(name, loc)
	return loc, nil
}

// Resolve returns the zone of a stored plan and its name: name "" (no plan)
// is DefaultTimeZone; a name this binary cannot load (a zone dropped from
// tzdata) is UTC, so the user's pages still answer.
func (z *Zones) Resolve(name string) (*time.Location, string) {
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := z.Load(name)
	if err != nil {
		return time.UTC, "UTC"
	}
	return loc, name
}

// User returns the zone of userID's action plan (see Resolve).
func (z *Zones) User(ctx context.Context, q mysql.Querier, userID uint64) (*time.Location, string, error) {
	name, err := PlanZone(ctx, q, userID)
	if err != nil {
		return nil, "", err
	}
	loc, tz := z.Resolve(name)
	return loc, tz, nil
}

// Remove is the handler of DELETE …/:id of one of the caller's rows: del
// deletes (or soft-deletes) row id of userID in WriteTx, ErrNotFound when
// there is none (404); it answers 204.
func Remove(db *sql.DB, del func(ctx context.Context, q mysql.Querier, userID, id uint64) error) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		ctx, uid := c.Request.Context(), UserID(c)
		err = WriteTx(ctx, db, uid, func(tx *sql.Tx) error { return del(ctx, tx, uid, id) })
		if err != nil {
			return web.Answer{}, err
		}
		return web.NoContent(), nil
	}
}
