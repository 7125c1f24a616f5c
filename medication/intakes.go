package medication

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// Intake is one dose taken or skipped.
type Intake struct {
	ID           uint64     `json:"id"`
	MedicationID uint64     `json:"medication_id"`
	ScheduleID   *uint64    `json:"schedule_id"`
	ScheduledAt  *time.Time `json:"scheduled_at"`
	Status       string     `json:"status"`
	RecordedAt   time.Time  `json:"recorded_at"`
}

func scanIntake(r mysql.Scanner) (Intake, error) {
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

func (a *API) getIntake(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	x, err := a.store.Intake(c.Request.Context(), a.DB, care.UserID(c), id)
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
	l := care.Pager{Name: "intakes", Ranged: true, DefaultSize: 1000}
	p, _, err := l.ParseForUser(c, a.DB, a.Zones, a.Now())
	if err != nil {
		return web.Answer{}, err
	}
	items, err := a.store.Intakes(c.Request.Context(), a.DB, care.UserID(c), p)
	if err != nil {
		return web.Answer{}, err
	}
	out := IntakePage{From: p.From, To: p.To}
	out.Items, out.NextCursor = care.Cut(l, p, items, func(x Intake) (string, uint64) { return care.Instant(x.RecordedAt), x.ID })
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

// check validates the body and returns what it writes.
func (in *intakeInput) check(now time.Time) (intakeRow, error) {
	var v care.Checker
	var at, due time.Time
	web.Required(&v.Fields, "medication_id", in.MedicationID)
	if web.Required(&v.Fields, "status", in.Status) {
		v.OneOf("status", *in.Status, "taken", "skipped")
	}
	at = v.RequiredInstant("recorded_at", in.RecordedAt, now)
	if (in.ScheduleID == nil) != (in.ScheduledAt == nil) {
		v.Add("scheduled_at", web.FieldRequired, "schedule_id 와 scheduled_at 은 함께 보내야 합니다.")
	} else if in.ScheduledAt != nil {
		due = v.Instant("scheduled_at", *in.ScheduledAt, now)
	}
	if err := v.Err(); err != nil {
		return intakeRow{}, err
	}
	x := intakeRow{medicationID: *in.MedicationID, status: *in.Status, recordedAt: at}
	if in.ScheduleID != nil {
		x.scheduleID, x.scheduledAt = in.ScheduleID, &due
	}
	return x, nil
}

func (a *API) createIntake(c *gin.Context) (web.Answer, error) {
	var in intakeInput
	if err := care.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	x, err := in.check(a.Now())
	if err != nil {
		return web.Answer{}, err
	}
	ctx, uid := c.Request.Context(), care.UserID(c)
	var id uint64
	err = care.WriteTx(ctx, a.DB, uid, func(tx *sql.Tx) error {
		if _, err := a.store.Medication(ctx, tx, uid, x.medicationID, false); err != nil {
			return err
		}
		if x.scheduleID != nil {
			if err := a.checkDose(ctx, tx, uid, x.medicationID, *x.scheduleID, *x.scheduledAt); err != nil {
				return err
			}
		}
		var err error
		id, err = a.store.CreateIntake(ctx, tx, uid, x)
		if errors.Is(err, ErrDoseRecorded) {
			return care.Conflict("이 복용 시각은 이미 기록되었습니다.")
		}
		return err
	})
	if err != nil {
		return web.Answer{}, err
	}
	out, err := a.store.Intake(ctx, a.DB, uid, id)
	return web.Created(out), err
}

// checkDose checks that due is a dose of the caller's schedule sid of
// medication medID (deleted schedules included: a dose due before the
// schedule changed can still be recorded).
func (a *API) checkDose(ctx context.Context, q mysql.Querier, uid, medID, sid uint64, due time.Time) error {
	s, err := a.store.Rule(ctx, q, uid, sid)
	if err != nil {
		return err
	}
	rule, err := MakeRule(a.Zones, s.times, s.weekdays, s.timeZone, s.from, s.to)
	if err != nil {
		return err
	}
	var v care.Checker
	if s.medicationID != medID {
		v.Add("schedule_id", web.FieldInvalid, "schedule_id 가 medication_id 의 일정이 아닙니다.")
	} else if !rule.IsOccurrence(due) {
		v.Add("scheduled_at", web.FieldInvalid, "scheduled_at 이 일정의 복용 시각이 아닙니다.")
	}
	return v.Err()
}
