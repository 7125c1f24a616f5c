package report_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/report"
)

func exec(t *testing.T, db *sql.DB, q string, args ...any) int64 {
	t.Helper()
	res, err := db.Exec(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	return id
}

func kst(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t.Add(-9 * time.Hour) // KST → UTC
}

// A worked example in Asia/Seoul, computed by hand (see the comments).
func TestCalendarAndReport(t *testing.T) {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	now := kst("2024-03-10 12:00")
	api := report.New(db, report.Options{Auth: caretest.Auth(iss), Now: func() time.Time { return now }})
	defer api.Close()
	env := caretest.New(t, iss, api.Mount)
	u, other := caretest.NewUser(t, db, "민지"), caretest.NewUser(t, db, "서준")

	exec(t, db, `INSERT INTO care_plans (user_id, personal_best_lpm, time_zone) VALUES (?, 500, 'Asia/Seoul')`, u)
	ctl := exec(t, db, `INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, '심비코트', 'controller', 'inhaler', 160, 'mcg')`, u)
	rel := exec(t, db, `INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, '벤토린', 'reliever', 'inhaler', 100, 'mcg')`, u)
	// 08:00 and 20:00 KST every day from 2024-03-01 00:00 KST.
	sched := exec(t, db, `INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, '08:00,20:00', 127, 'Asia/Seoul', ?)`, u, ctl, kst("2024-03-01 00:00"))
	intake := func(med int64, sid any, due any, at time.Time) {
		exec(t, db, `INSERT INTO medication_intakes (user_id, medication_id, schedule_id, scheduled_at, status, recorded_at) VALUES (?, ?, ?, ?, 'taken', ?)`, u, med, sid, due, at)
	}
	intake(ctl, sched, kst("2024-03-01 08:00"), kst("2024-03-01 08:05"))
	intake(ctl, sched, kst("2024-03-01 20:00"), kst("2024-03-01 20:10"))
	intake(ctl, sched, kst("2024-03-02 08:00"), kst("2024-03-02 08:01"))
	intake(ctl, sched, kst("2024-03-02 20:00"), kst("2024-03-03 00:30")) // late: still the 2nd's dose
	intake(rel, nil, nil, kst("2024-03-03 03:10"))
	intake(rel, nil, nil, kst("2024-03-03 16:00"))
	intake(rel, nil, nil, kst("2024-03-05 10:00"))
	sym := func(at time.Time, sev int, night, limited bool) {
		exec(t, db, `INSERT INTO symptom_records (user_id, recorded_at, severity, night_waking, activity_limited) VALUES (?, ?, ?, ?, ?)`, u, at, sev, night, limited)
	}
	sym(kst("2024-03-03 03:00"), 2, true, false)
	sym(kst("2024-03-03 15:00"), 1, false, true)
	sym(kst("2024-03-05 21:00"), 0, false, false) // a symptom-free check-in
	pef := func(at time.Time, v int, zone string) {
		exec(t, db, `INSERT INTO peak_flow_records (user_id, recorded_at, value_lpm, slot, personal_best_lpm, percent_of_best, zone) VALUES (?, ?, ?, 'other', 500, ?, ?)`, u, at, v, v*100/500, zone)
	}
	pef(kst("2024-03-01 01:00"), 450, "green") // 2024-02-29 16:00 UTC: the 1st in Seoul
	pef(kst("2024-03-03 07:00"), 400, "green")
	pef(kst("2024-03-03 21:00"), 350, "yellow")
	act := func(at time.Time, total int) {
		exec(t, db, `INSERT INTO act_results (user_id, recorded_at, q1, q2, q3, q4, q5, total) VALUES (?, ?, 3, 3, 3, 3, 3, ?)`, u, at, total)
	}
	act(kst("2024-02-20 09:00"), 15) // before the period
	act(kst("2024-03-02 09:00"), 18)
	act(kst("2024-03-09 09:00"), 21)
	exec(t, db, `INSERT INTO health_events (user_id, kind, start_date, end_date) VALUES (?, 'oral_steroid', '2024-03-03', '2024-03-07')`, u)
	exec(t, db, `INSERT INTO health_events (user_id, kind, start_date) VALUES (?, 'er_visit', '2024-02-01')`, u)
	// Another user's records never show.
	exec(t, db, `INSERT INTO symptom_records (user_id, recorded_at, severity) VALUES (?, ?, 3)`, other, kst("2024-03-04 10:00"))

	r := env.Do(t, u, "GET", "/v1/me/calendar?month=2024-03", nil)
	caretest.Expect(t, r, 200, "")
	var cal report.Calendar
	r.JSON(t, &cal)
	if cal.TimeZone != "Asia/Seoul" || len(cal.Days) != 31 || cal.Days[0].Date != "2024-03-01" {
		t.Fatalf("calendar frame: %s %d %s", cal.TimeZone, len(cal.Days), cal.Days[0].Date)
	}
	d1, d2, d3, d4, d5, d10, d11 := cal.Days[0], cal.Days[1], cal.Days[2], cal.Days[3], cal.Days[4], cal.Days[9], cal.Days[10]
	if d1.PEF == nil || d1.PEF.Readings != 1 || d1.PEF.Min != 450 || *d1.PEF.WorstZone != "green" || d1.PEF.VariabilityPct != nil {
		t.Errorf("day 1 PEF = %+v", d1.PEF)
	}
	if d1.ControllerDue != 2 || d1.ControllerTaken != 2 || d2.ControllerTaken != 2 || d3.ControllerTaken != 0 {
		t.Errorf("controller: d1 %d/%d d2 %d d3 %d", d1.ControllerTaken, d1.ControllerDue, d2.ControllerTaken, d3.ControllerTaken)
	}
	// Day 3: two symptom records (worst 2), night waking, activity limited, 2 reliever puffs,
	// PEF 350–400, worst yellow, variability (400−350)/375×100 = 13.3.
	if d3.SymptomRecords != 2 || *d3.MaxSeverity != 2 || !d3.NightWaking || !d3.ActivityLimited || d3.RelieverUses != 2 ||
		d3.PEF.Min != 350 || d3.PEF.Max != 400 || *d3.PEF.WorstZone != "yellow" || *d3.PEF.VariabilityPct != 13.3 {
		t.Errorf("day 3 = %+v %+v", d3, d3.PEF)
	}
	if d4.SymptomRecords != 0 || d4.MaxSeverity != nil || d5.RelieverUses != 1 || *d5.MaxSeverity != 0 {
		t.Errorf("day 4 = %+v, day 5 = %+v", d4, d5)
	}
	// Now is 12:00 on the 10th: the 08:00 dose is due, 20:00 not yet; nothing after.
	if d10.ControllerDue != 1 || d11.ControllerDue != 0 {
		t.Errorf("due on the 10th %d, 11th %d", d10.ControllerDue, d11.ControllerDue)
	}

	r = env.Do(t, u, "GET", "/v1/me/reports?from=2024-03-01&to=2024-03-10", nil)
	caretest.Expect(t, r, 200, "")
	var rep report.Report
	r.JSON(t, &rep)
	// 10 days; not free: the 3rd (symptoms, reliever) and the 5th (reliever) → 8.
	if rep.Days != 10 || rep.SymptomFreeDays != 8 || rep.NightWakingDays != 1 || rep.RelieverDays != 2 || rep.RelieverDaysPerWeek != 1.4 {
		t.Errorf("days %d free %d nights %d reliever %d/%v", rep.Days, rep.SymptomFreeDays, rep.NightWakingDays, rep.RelieverDays, rep.RelieverDaysPerWeek)
	}
	// Due 9×2 + 1 = 19, taken 4: 4/19 = 21.05 → 21.1 %.
	if rep.ControllerDue != 19 || rep.ControllerTaken != 4 || rep.AdherencePct == nil || *rep.AdherencePct != 21.1 {
		t.Errorf("adherence %d/%d = %v", rep.ControllerTaken, rep.ControllerDue, rep.AdherencePct)
	}
	// 3 readings: 2 green, 1 yellow.
	if z := rep.PEFZones; z.Readings != 3 || z.Green != 66.7 || z.Yellow != 33.3 || z.Red != 0 {
		t.Errorf("zones %+v", z)
	}
	if v := rep.Variability; len(v.Days) != 1 || !v.Days[0].Flagged || *v.MeanPct != 13.3 || !v.MeanFlagged {
		t.Errorf("variability %+v", v)
	}
	// GINA over 2024-02-12..2024-03-10: symptoms on 1 day (no), night waking (yes),
	// reliever on 2 days (no), activity limitation (yes) → 2: partly controlled.
	if g := rep.GINA; g.Score != 2 || g.Level != report.GINAPartly || !g.NightWaking || !g.ActivityLimitation || rep.GINAFrom != "2024-02-12" {
		t.Errorf("gina %+v from %s", g, rep.GINAFrom)
	}
	// ACT in the period: 18 then 21 (+3, flagged).
	if tr := rep.ACT.Trend; len(tr) != 2 || tr[1].Change == nil || *tr[1].Change != 3 || !tr[1].Flagged {
		t.Errorf("act trend %+v", tr)
	}
	if e := rep.Exacerbations; e.OralSteroids != 1 || e.ERVisits != 0 || len(e.Events) != 1 {
		t.Errorf("exacerbations %+v", e)
	}

	// Bad input and other users.
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/calendar?month=2024-13", nil), 400, "invalid_date")
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/calendar?month=march", nil), 400, "invalid_date")
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/calendar?month=1999-12", nil), 400, "out_of_range")
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/reports?from=2024-03-10&to=2024-03-01", nil), 400, "out_of_range")
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/reports?from=2022-01-01&to=2024-03-01", nil), 400, "out_of_range")
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/reports?from=03/01/2024", nil), 400, "invalid_date")
	// The records' bounds (web.EarliestRecord, LatestRecord): a report starts before now + 1 day.
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/reports?from=2099-01-01&to=2099-01-31", nil), 400, "out_of_range")
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/reports?to=9999-12-31", nil), 400, "out_of_range")
	caretest.Expect(t, env.Do(t, 0, "GET", "/v1/me/calendar", nil), 401, "unauthorized")
	r = env.Do(t, other, "GET", "/v1/me/calendar?month=2024-03", nil)
	caretest.Expect(t, r, 200, "")
	var oc report.Calendar
	r.JSON(t, &oc)
	if oc.Days[3].SymptomRecords != 1 || oc.Days[2].SymptomRecords != 0 || oc.Days[0].ControllerDue != 0 {
		t.Errorf("other user's calendar mixes records: %+v", oc.Days[:4])
	}
	caretest.Expect(t, env.Do(t, u, "GET", "/v1/me/calendar", nil), 200, "") // the current month
}
