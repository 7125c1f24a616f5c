package records

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	_ "time/tzdata" // schedules and calendars need IANA zones even where the system has none

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// What the care endpoints (records, medications, reminders, calendar and
// reports) share on top of package web: their kit, the narrowing of
// field errors to invalid_date / out_of_range, their JSON body policy, the
// caller's id and the user's time zone.

// DefaultTimeZone is the zone of a user without a saved plan.
const DefaultTimeZone = "Asia/Seoul"

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
		return v.ErrAs(web.CodeOutOfRange, "허용 범위를 벗어난 값이 있습니다.")
	case web.FieldInvalidDate:
		return v.ErrAs(web.CodeInvalidDate, "날짜 형식이 올바르지 않습니다.")
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

// Decode reads the JSON body into dst strictly (web.Body): anything but one
// JSON object of dst's fields is 400 validation_failed naming the field
// ("body" for the whole body), a body over the limit 413.
func Decode(c *gin.Context, dst any) error {
	return web.CareBody().Decode(c.Request, dst)
}

// ErrNotFound is what stores return for a row that does not exist or is not
// the caller's; handlers answer 404 either way so ids do not leak.
var ErrNotFound = errors.New("not found")

// Kit is the handler kit of the care endpoints: ErrNotFound is 404.
func Kit(logger *slog.Logger) web.Kit { return web.NewKit(logger, mapError) }

func mapError(err error) error {
	if errors.Is(err, ErrNotFound) {
		return &web.Error{Code: web.CodeNotFound, Message: "기록을 찾을 수 없습니다.", Err: err}
	}
	return err
}

// Conflict is the 409 envelope.
func Conflict(msg string) error { return &web.Error{Code: web.CodeConflict, Message: msg} }

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
		return nil, errors.New("records: unknown time zone " + name)
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
	var name sql.NullString
	err := q.QueryRowContext(ctx, `SELECT time_zone FROM care_plans WHERE user_id = ?`, userID).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("records: plan zone: %w", err)
	}
	loc, tz := z.Resolve(name.String)
	return loc, tz, nil
}
