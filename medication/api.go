// Package medication serves the user's medications, their schedules (local
// times of day on weekdays in an IANA time zone) and intake records (a dose
// taken or skipped). schedule.go expands a schedule into due instants,
// daylight-saving safe; the reminder dispatcher and the calendar use it.
//
// Endpoints (apidoc/paths/medications.yaml), under /v1/me behind auth:
//
//	GET|POST           /medications          GET|PUT|DELETE /medications/:id
//	GET|POST           /schedules            GET|PUT|DELETE /schedules/:id
//	GET|POST           /intakes              GET|DELETE     /intakes/:id
//
// Deleting a medication soft-deletes it and its schedules (intake history
// stays); a schedule is soft-deleted too, which ends its due doses. The
// three lists are keyset pages like the records' (records.Pager): limit
// (default 500 medications or schedules, 1000 intakes; at most 1000) and
// next_cursor; intakes also take from/to.
package medication

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/records"
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
type Options struct {
	Auth   gin.HandlerFunc // sets web.Principal; nil when the engine already does
	Logger *slog.Logger
	Now    func() time.Time
}

// API serves the medication endpoints.
type API struct {
	db    *sql.DB
	auth  gin.HandlerFunc
	kit   web.Kit
	now   func() time.Time
	zones *records.Zones
}

// New returns the API over the MySQL pool.
func New(db *sql.DB, opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &API{db: db, auth: opts.Auth, kit: records.Kit(opts.Logger), now: opts.Now, zones: &records.Zones{}}
}

// Mount adds the routes; pass it to server.New.
func (a *API) Mount(e *gin.Engine) {
	me := records.Group(e, a.auth)
	h := a.kit.Handle
	me.GET("/medications", h(listByID(a, "medications", "medications", medicationColumns, scanMedication, func(m Medication) uint64 { return m.ID })))
	me.POST("/medications", h(a.createMedication))
	me.GET("/medications/:id", h(a.getMedication))
	me.PUT("/medications/:id", h(a.updateMedication))
	me.DELETE("/medications/:id", h(a.deleteMedication))
	me.GET("/schedules", h(listByID(a, "schedules", "medication_schedules", scheduleColumns, scanSchedule, func(s Schedule) uint64 { return s.ID })))
	me.POST("/schedules", h(a.createSchedule))
	me.GET("/schedules/:id", h(a.getSchedule))
	me.PUT("/schedules/:id", h(a.updateSchedule))
	me.DELETE("/schedules/:id", h(records.Remove(a.db, "UPDATE medication_schedules SET deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL",
		func() []any { return []any{a.now().UTC()} })))
	me.GET("/intakes", h(a.listIntakes))
	me.POST("/intakes", h(a.createIntake))
	me.GET("/intakes/:id", h(a.getIntake))
	me.DELETE("/intakes/:id", h(records.Remove(a.db, "DELETE FROM medication_intakes WHERE id = ? AND user_id = ?", nil)))
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

const medicationColumns = "id, name, role, form, dose, dose_unit, created_at"

func scanMedication(r interface{ Scan(...any) error }) (Medication, error) {
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

func (in *medicationInput) check() error {
	var v records.Checker
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
	return v.Err()
}

// Page is the answer of the medication and schedule lists.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"` // null on the last page
}

// listByID answers a page of one of the caller's live rows in id order;
// the pages' default size is the list's old fixed cap.
func listByID[T any](a *API, name, table, columns string, scan func(mysql.Scanner) (T, error), id func(T) uint64) web.Handler {
	l := records.Pager{Name: name, DefaultLimit: 500}
	return func(c *gin.Context) (web.Answer, error) {
		p, err := l.Parse(c, time.UTC, a.now())
		if err != nil {
			return web.Answer{}, err
		}
		cond, after := p.Keyset("")
		args := append(append([]any{records.UserID(c)}, after...), p.Limit+1)
		items, err := mysql.QueryAll(c.Request.Context(), a.db, scan, "SELECT "+columns+" FROM "+table+
			" WHERE user_id = ? AND deleted_at IS NULL"+cond+" ORDER BY id LIMIT ?", args...)
		if err != nil {
			return web.Answer{}, fmt.Errorf("medication: list %s: %w", table, err)
		}
		var out Page[T]
		out.Items, out.NextCursor = records.Cut(l, p, items, func(x T) (string, uint64) { return "", id(x) })
		return web.OK(out), nil
	}
}

// medication returns the caller's live medication id (ErrNotFound otherwise).
func (a *API) medication(ctx context.Context, q mysql.Querier, uid, id uint64, lock bool) (Medication, error) {
	query := "SELECT " + medicationColumns + " FROM medications WHERE id = ? AND user_id = ? AND deleted_at IS NULL"
	if lock {
		query += " FOR UPDATE"
	}
	m, err := scanMedication(q.QueryRowContext(ctx, query, id, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return m, records.ErrNotFound
	}
	return m, err
}

func (a *API) getMedication(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	m, err := a.medication(c.Request.Context(), a.db, records.UserID(c), id, false)
	return web.OK(m), err
}

func (a *API) createMedication(c *gin.Context) (web.Answer, error) {
	var in medicationInput
	if err := records.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	if err := in.check(); err != nil {
		return web.Answer{}, err
	}
	uid := records.UserID(c)
	var id int64
	err := records.WriteTx(c.Request.Context(), a.db, uid, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(c.Request.Context(), "INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, ?, ?, ?, ?, ?)",
			uid, *in.Name, *in.Role, *in.Form, *in.Dose, strings.TrimSpace(*in.DoseUnit))
		if err != nil {
			return fmt.Errorf("medication: insert: %w", err)
		}
		id, _ = res.LastInsertId()
		return nil
	})
	if err != nil {
		return web.Answer{}, err
	}
	m, err := a.medication(c.Request.Context(), a.db, uid, uint64(id), false)
	return web.Created(m), err
}

func (a *API) updateMedication(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	var in medicationInput
	if err := records.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	if err := in.check(); err != nil {
		return web.Answer{}, err
	}
	uid := records.UserID(c)
	// A changed role changes which intakes the calendar counts: bump the version.
	err = records.WriteTx(c.Request.Context(), a.db, uid, func(tx *sql.Tx) error {
		if _, err := a.medication(c.Request.Context(), tx, uid, id, true); err != nil {
			return err
		}
		_, err := tx.ExecContext(c.Request.Context(), "UPDATE medications SET name = ?, role = ?, form = ?, dose = ?, dose_unit = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL",
			*in.Name, *in.Role, *in.Form, *in.Dose, strings.TrimSpace(*in.DoseUnit), id, uid)
		if err != nil {
			return fmt.Errorf("medication: update: %w", err)
		}
		return nil
	})
	if err != nil {
		return web.Answer{}, err
	}
	m, err := a.medication(c.Request.Context(), a.db, uid, id, false)
	return web.OK(m), err
}

// deleteMedication soft-deletes the medication and its schedules together.
func (a *API) deleteMedication(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	uid := records.UserID(c)
	err = records.WriteTx(c.Request.Context(), a.db, uid, func(tx *sql.Tx) error {
		if _, err := a.medication(c.Request.Context(), tx, uid, id, true); err != nil {
			return err
		}
		now := a.now().UTC()
		if _, err := tx.ExecContext(c.Request.Context(), "UPDATE medication_schedules SET deleted_at = ? WHERE medication_id = ? AND user_id = ? AND deleted_at IS NULL", now, id, uid); err != nil {
			return fmt.Errorf("medication: delete schedules: %w", err)
		}
		if _, err := tx.ExecContext(c.Request.Context(), "UPDATE medications SET deleted_at = ? WHERE id = ? AND user_id = ?", now, id, uid); err != nil {
			return fmt.Errorf("medication: delete: %w", err)
		}
		return nil
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.NoContent(), nil
}

// Schedule is when a medication is due.
type Schedule struct {
	ID           uint64    `json:"id"`
	MedicationID uint64    `json:"medication_id"`
	Times        []string  `json:"times"`
	Weekdays     []string  `json:"weekdays"`
	TimeZone     string    `json:"time_zone"`
	ActiveFrom   time.Time `json:"active_from"`
}

const scheduleColumns = "id, medication_id, times, weekdays, time_zone, active_from"

func scanSchedule(r interface{ Scan(...any) error }) (Schedule, error) {
	var s Schedule
	var times string
	var bits uint8
	if err := r.Scan(&s.ID, &s.MedicationID, &times, &bits, &s.TimeZone, &s.ActiveFrom); err != nil {
		return s, err
	}
	s.Times = strings.Split(times, ",")
	s.Weekdays = WeekdayNames(bits)
	return s, nil
}

type scheduleInput struct {
	MedicationID *uint64  `json:"medication_id"`
	Times        []string `json:"times"`
	Weekdays     []string `json:"weekdays"`
	TimeZone     *string  `json:"time_zone"`
}

// check validates the input; zone is the default time zone (the user's plan).
func (a *API) checkSchedule(in *scheduleInput, zone string) (times string, bits uint8, tz string, err error) {
	var v records.Checker
	web.Required(&v.Fields, "medication_id", in.MedicationID)
	var clocks []Clock
	switch {
	case len(in.Times) == 0:
		v.Add("times", web.FieldRequired, "times 에 복용 시각(HH:MM)이 하나 이상 필요합니다.")
	case len(in.Times) > 12:
		v.Add("times", web.FieldTooLong, "times 는 12개까지입니다.")
	default:
		for i, s := range in.Times {
			cl, err := ParseClock(s)
			if err != nil {
				v.Add(fmt.Sprintf("times[%d]", i), web.FieldInvalid, "시각은 08:30 같은 HH:MM 형식이어야 합니다.")
				continue
			}
			clocks = append(clocks, cl)
		}
	}
	bits = AllWeekdays
	if in.Weekdays != nil {
		b, err := WeekdayBits(in.Weekdays)
		if err != nil || b == 0 {
			v.Add("weekdays", web.FieldInvalid, "weekdays 는 sun, mon, tue, wed, thu, fri, sat 중 하나 이상이어야 합니다.")
		}
		bits = b
	}
	tz = zone
	if in.TimeZone != nil {
		tz = *in.TimeZone
		if tz == "" {
			v.Add("time_zone", web.FieldInvalid, "time_zone 값은 Asia/Seoul 같은 IANA 시간대여야 합니다.")
		} else {
			v.Zone("time_zone", tz, a.zones)
		}
	}
	if err := v.Err(); err != nil {
		return "", 0, "", err
	}
	return FormatTimes(SortClocks(clocks)), bits, tz, nil
}

func (a *API) schedule(ctx context.Context, q mysql.Querier, uid, id uint64) (Schedule, error) {
	s, err := scanSchedule(q.QueryRowContext(ctx, "SELECT "+scheduleColumns+" FROM medication_schedules WHERE id = ? AND user_id = ? AND deleted_at IS NULL", id, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return s, records.ErrNotFound
	}
	return s, err
}

func (a *API) getSchedule(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	s, err := a.schedule(c.Request.Context(), a.db, records.UserID(c), id)
	return web.OK(s), err
}

func (a *API) createSchedule(c *gin.Context) (web.Answer, error) {
	var in scheduleInput
	if err := records.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	uid := records.UserID(c)
	plan, err := records.LoadPlan(c.Request.Context(), a.db, uid)
	if err != nil {
		return web.Answer{}, err
	}
	times, bits, tz, err := a.checkSchedule(&in, plan.TimeZone)
	if err != nil {
		return web.Answer{}, err
	}
	s, err := a.writeSchedule(c.Request.Context(), uid, *in.MedicationID, times, bits, tz, 0)
	return web.Created(s), err
}

// updateSchedule replaces a schedule. The doses already due keep their
// history: the old row is closed (deleted_at = now) and a new one starts, so
// the answer has a new id.
func (a *API) updateSchedule(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	var in scheduleInput
	if err := records.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	uid := records.UserID(c)
	old, err := a.schedule(c.Request.Context(), a.db, uid, id)
	if err != nil {
		return web.Answer{}, err
	}
	if in.MedicationID == nil {
		in.MedicationID = &old.MedicationID
	}
	times, bits, tz, err := a.checkSchedule(&in, old.TimeZone)
	if err != nil {
		return web.Answer{}, err
	}
	s, err := a.writeSchedule(c.Request.Context(), uid, *in.MedicationID, times, bits, tz, id)
	return web.OK(s), err
}

// writeSchedule inserts a schedule starting now, closing schedule `replaces`
// first when it is not 0, in one transaction, and returns the new row. The
// medication row is locked so a concurrent delete cannot leave a live
// schedule on a deleted medication.
func (a *API) writeSchedule(ctx context.Context, uid, medicationID uint64, times string, bits uint8, tz string, replaces uint64) (Schedule, error) {
	var id int64
	err := records.WriteTx(ctx, a.db, uid, func(tx *sql.Tx) error {
		if _, err := a.medication(ctx, tx, uid, medicationID, true); err != nil {
			return err
		}
		now := a.now().UTC()
		if replaces != 0 {
			res, err := tx.ExecContext(ctx, "UPDATE medication_schedules SET deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL", now, replaces, uid)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return records.ErrNotFound
			}
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, ?, ?, ?, ?)",
			uid, medicationID, times, bits, tz, now)
		if err != nil {
			return fmt.Errorf("medication: insert schedule: %w", err)
		}
		id, _ = res.LastInsertId()
		return nil
	})
	if err != nil {
		return Schedule{}, err
	}
	return a.schedule(ctx, a.db, uid, uint64(id))
}

// Intake is one dose taken or skipped.
type Intake struct {
	ID           uint64     `json:"id"`
	MedicationID uint64     `json:"medication_id"`
	ScheduleID   *uint64    `json:"schedule_id"`
	ScheduledAt  *time.Time `json:"scheduled_at"`
	Status       string     `json:"status"`
	RecordedAt   time.Time  `json:"recorded_at"`
}

const intakeColumns = "id, medication_id, schedule_id, scheduled_at, status, recorded_at"

func scanIntake(r interface{ Scan(...any) error }) (Intake, error) {
	var x Intake
	var sid sql.NullInt64
	var at sql.NullTime
	if err := r.Scan(&x.ID, &x.MedicationID, &sid, &at, &x.Status, &x.RecordedAt); err != nil {
		return x, err
	}
	if sid.Valid {
		v := uint64(sid.Int64)
		x.ScheduleID = &v
	}
	if at.Valid {
		x.ScheduledAt = &at.Time
	}
	return x, nil
}

func (a *API) intake(ctx context.Context, uid, id uint64) (Intake, error) {
	x, err := scanIntake(a.db.QueryRowContext(ctx, "SELECT "+intakeColumns+" FROM medication_intakes WHERE id = ? AND user_id = ?", id, uid))
	if errors.Is(err, sql.ErrNoRows) {
		return x, records.ErrNotFound
	}
	return x, err
}

func (a *API) getIntake(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	x, err := a.intake(c.Request.Context(), records.UserID(c), id)
	return web.OK(x), err
}

// IntakePage is the answer of the intake list.
type IntakePage struct {
	Items      []Intake  `json:"items"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	NextCursor *string   `json:"next_cursor"` // null on the last page
}

func (a *API) listIntakes(c *gin.Context) (web.Answer, error) {
	l := records.Pager{Name: "intakes", Ranged: true, DefaultLimit: 1000}
	uid := records.UserID(c)
	loc, _, err := a.zones.User(c.Request.Context(), a.db, uid)
	if err != nil {
		return web.Answer{}, err
	}
	p, err := l.Parse(c, loc, a.now())
	if err != nil {
		return web.Answer{}, err
	}
	cond, after := p.Keyset("recorded_at")
	args := append(append([]any{uid, p.From, p.To}, after...), p.Limit+1)
	items, err := mysql.QueryAll(c.Request.Context(), a.db, scanIntake, "SELECT "+intakeColumns+
		" FROM medication_intakes WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ?"+cond+" ORDER BY recorded_at, id LIMIT ?", args...)
	if err != nil {
		return web.Answer{}, fmt.Errorf("medication: list intakes: %w", err)
	}
	out := IntakePage{From: p.From, To: p.To}
	out.Items, out.NextCursor = records.Cut(l, p, items, func(x Intake) (string, uint64) { return records.Instant(x.RecordedAt), x.ID })
	return web.OK(out), nil
}

// intakeInput is the body of POST /v1/me/intakes.
type intakeInput struct {
	MedicationID *uint64 `json:"medication_id"`
	ScheduleID   *uint64 `json:"schedule_id"`
	ScheduledAt  *string `json:"scheduled_at"`
	Status       *string `json:"status"`
	RecordedAt   *string `json:"recorded_at"`
}

// check validates the body and returns the recording and due instants.
func (in *intakeInput) check(now time.Time) (at, due time.Time, err error) {
	var v records.Checker
	web.Required(&v.Fields, "medication_id", in.MedicationID)
	if web.Required(&v.Fields, "status", in.Status) {
		v.OneOf("status", *in.Status, "taken", "skipped")
	}
	if web.Required(&v.Fields, "recorded_at", in.RecordedAt) {
		at = v.Instant("recorded_at", *in.RecordedAt, now)
	}
	if (in.ScheduleID == nil) != (in.ScheduledAt == nil) {
		v.Add("scheduled_at", web.FieldRequired, "schedule_id 와 scheduled_at 은 함께 보내야 합니다.")
	} else if in.ScheduledAt != nil {
		due = v.Instant("scheduled_at", *in.ScheduledAt, now)
	}
	return at, due, v.Err()
}

func (a *API) createIntake(c *gin.Context) (web.Answer, error) {
	var in intakeInput
	if err := records.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	at, due, err := in.check(a.now())
	if err != nil {
		return web.Answer{}, err
	}
	ctx, uid := c.Request.Context(), records.UserID(c)
	var id int64
	err = records.WriteTx(ctx, a.db, uid, func(tx *sql.Tx) error {
		if _, err := a.medication(ctx, tx, uid, *in.MedicationID, false); err != nil {
			return err
		}
		var sid, dueArg any
		if in.ScheduleID != nil {
			if err := a.checkDose(ctx, tx, uid, *in.MedicationID, *in.ScheduleID, due); err != nil {
				return err
			}
			sid, dueArg = *in.ScheduleID, due
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO medication_intakes (user_id, medication_id, schedule_id, scheduled_at, status, recorded_at) VALUES (?, ?, ?, ?, ?, ?)",
			uid, *in.MedicationID, sid, dueArg, *in.Status, at)
		if mysql.IsDuplicateKey(err) {
			return records.Conflict("이 복용 시각은 이미 기록되었습니다.")
		}
		if err != nil {
			return fmt.Errorf("medication: insert intake: %w", err)
		}
		id, _ = res.LastInsertId()
		return nil
	})
	if err != nil {
		return web.Answer{}, err
	}
	x, err := a.intake(ctx, uid, uint64(id))
	return web.Created(x), err
}

// checkDose checks that due is a dose of the caller's schedule sid of medication medID.
func (a *API) checkDose(ctx context.Context, q mysql.Querier, uid, medID, sid uint64, due time.Time) error {
	rule, ruleMed, err := a.rule(ctx, q, uid, sid)
	if err != nil {
		return err
	}
	var v records.Checker
	if ruleMed != medID {
		v.Add("schedule_id", web.FieldInvalid, "schedule_id 가 medication_id 의 일정이 아닙니다.")
	} else if !rule.IsOccurrence(due) {
		v.Add("scheduled_at", web.FieldInvalid, "scheduled_at 이 일정의 복용 시각이 아닙니다.")
	}
	return v.Err()
}

// rule loads a schedule of the caller, deleted ones included (a dose due
// before the schedule changed can still be recorded).
func (a *API) rule(ctx context.Context, q mysql.Querier, uid, id uint64) (Rule, uint64, error) {
	var times, tz string
	var bits uint8
	var medID uint64
	var from time.Time
	var to sql.NullTime
	err := q.QueryRowContext(ctx, "SELECT medication_id, times, weekdays, time_zone, active_from, deleted_at FROM medication_schedules WHERE id = ? AND user_id = ?", id, uid).
		Scan(&medID, &times, &bits, &tz, &from, &to)
	if errors.Is(err, sql.ErrNoRows) {
		return Rule{}, 0, records.ErrNotFound
	}
	if err != nil {
		return Rule{}, 0, err
	}
	r, err := MakeRule(a.zones, times, bits, tz, from, to)
	return r, medID, err
}

// MakeRule builds a Rule from a stored schedule row.
func MakeRule(zones *records.Zones, times string, bits uint8, tz string, from time.Time, to sql.NullTime) (Rule, error) {
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
