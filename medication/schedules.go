package medication

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// Schedule is when a medication is due.
type Schedule struct {
	ID           uint64    `json:"id"`
	MedicationID uint64    `json:"medication_id"`
	Times        []string  `json:"times"`
	Weekdays     []string  `json:"weekdays"`
	TimeZone     string    `json:"time_zone"`
	ActiveFrom   time.Time `json:"active_from"`
}

func (s Schedule) id() uint64 { return s.ID }

func scanSchedule(r mysql.Scanner) (Schedule, error) {
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

// checkSchedule validates the input and returns what it writes; zone is
// the default time zone (the user's plan).
func (a *API) checkSchedule(in *scheduleInput, zone string) (scheduleRow, error) {
	var v care.Checker
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
	bits := AllWeekdays
	if in.Weekdays != nil {
		b, err := WeekdayBits(in.Weekdays)
		if err != nil || b == 0 {
			v.Add("weekdays", web.FieldInvalid, "weekdays 는 sun, mon, tue, wed, thu, fri, sat 중 하나 이상이어야 합니다.")
		}
		bits = b
	}
	tz := zone
	if in.TimeZone != nil {
		tz = *in.TimeZone
		if tz == "" {
			v.Add("time_zone", web.FieldInvalid, "time_zone 값은 Asia/Seoul 같은 IANA 시간대여야 합니다.")
		} else {
			v.Zone("time_zone", tz, a.Zones)
		}
	}
	if err := v.Err(); err != nil {
		return scheduleRow{}, err
	}
	return scheduleRow{medicationID: *in.MedicationID, times: FormatTimes(SortClocks(clocks)), weekdays: bits, timeZone: tz}, nil
}

func (a *API) getSchedule(c *gin.Context) (web.Answer, error) {
	id, err := web.PathID(c, "id")
	if err != nil {
		return web.Answer{}, err
	}
	s, err := a.store.Schedule(c.Request.Context(), a.DB, care.UserID(c), id)
	return web.OK(s), err
}

func (a *API) createSchedule(c *gin.Context) (web.Answer, error) {
	var in scheduleInput
	if err := care.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	ctx, uid := c.Request.Context(), care.UserID(c)
	zone, err := care.PlanZone(ctx, a.DB, uid)
	if err != nil {
		return web.Answer{}, err
	}
	row, err := a.checkSchedule(&in, zone)
	if err != nil {
		return web.Answer{}, err
	}
	s, err := a.writeSchedule(ctx, uid, row, 0)
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
	if err := care.Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	ctx, uid := c.Request.Context(), care.UserID(c)
	old, err := a.store.Schedule(ctx, a.DB, uid, id)
	if err != nil {
		return web.Answer{}, err
	}
	if in.MedicationID == nil {
		in.MedicationID = &old.MedicationID
	}
	row, err := a.checkSchedule(&in, old.TimeZone)
	if err != nil {
		return web.Answer{}, err
	}
	s, err := a.writeSchedule(ctx, uid, row, id)
	return web.OK(s), err
}

// writeSchedule inserts a schedule starting now, closing schedule `replaces`
// first when it is not 0, in one transaction, and returns the new row. The
// medication row is locked so a concurrent delete cannot leave a live
// schedule on a deleted medication.
func (a *API) writeSchedule(ctx context.Context, uid uint64, row scheduleRow, replaces uint64) (Schedule, error) {
	var id uint64
	err := care.WriteTx(ctx, a.DB, uid, func(tx *sql.Tx) error {
		if _, err := a.store.Medication(ctx, tx, uid, row.medicationID, true); err != nil {
			return err
		}
		now := a.Now().UTC()
		if replaces != 0 {
			if err := a.store.CloseSchedule(ctx, tx, uid, replaces, now); err != nil {
				return err
			}
		}
		var err error
		id, err = a.store.CreateSchedule(ctx, tx, uid, row, now)
		return err
	})
	if err != nil {
		return Schedule{}, err
	}
	return a.store.Schedule(ctx, a.DB, uid, id)
}

// closeSchedule is DELETE /schedules/:id: the schedule ends now (its doses
// stay in the history).
func (a *API) closeSchedule(ctx context.Context, q mysql.Querier, uid, id uint64) error {
	return a.store.CloseSchedule(ctx, q, uid, id, a.Now().UTC())
}
