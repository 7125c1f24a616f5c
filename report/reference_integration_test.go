package report_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/report"
)

// TestCalendarMatchesReference compares the calendar with a plain
// reimplementation (each row placed by formatting its local date) on
// random records of users in zones with daylight saving, half-hour and
// 45-minute offsets, a zone that does not load, and no plan at all.
func TestCalendarMatchesReference(t *testing.T) {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	now := time.Date(2024, 11, 3, 6, 30, 0, 0, time.UTC) // New York falls back at 06:00 UTC
	api := report.New(db, report.Options{Auth: caretest.Auth(iss), Now: func() time.Time { return now }, CalendarCache: -1})
	defer api.Close()
	env := caretest.New(t, iss, api.Mount)
	zones := []string{"Asia/Seoul", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham", "Mars/Olympus", ""}
	for i, zone := range zones {
		u := caretest.NewUser(t, db, fmt.Sprintf("사용자%d", i))
		in := randomRecords(t, db, u, zone, rand.New(rand.NewPCG(uint64(i), 1)))
		for _, month := range []string{"2024-03", "2024-04", "2024-10", "2024-11", "2024-12", ""} {
			r := env.Do(t, u, "GET", "/v1/me/calendar?month="+month, nil)
			caretest.Expect(t, r, 200, "")
			want, err := json.Marshal(in.calendar(month, now))
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Body) != string(want) {
				t.Errorf("zone %q month %q:\n got %s\nwant %s", zone, month, r.Body, want)
			}
		}
	}
}

type refRecords struct {
	zone      string // "" no plan
	symptoms  []refSymptom
	pefs      []refPEF
	intakes   []refIntake
	schedules []medication.Rule
}

type refSymptom struct {
	at             time.Time
	sev            int
	night, limited bool
}

type refPEF struct {
	at   time.Time
	v    int
	zone string
}

type refIntake struct {
	at    time.Time
	due   *time.Time
	role  string
	taken bool
}

// randomRecords inserts a plan, medications, two schedules and random
// records from February to December 2024 for u.
func randomRecords(t *testing.T, db *sql.DB, u uint64, zone string, r *rand.Rand) *refRecords {
	t.Helper()
	in := &refRecords{zone: zone}
	ins := func(q string, args ...any) int64 {
		t.Helper()
		res, err := db.Exec(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	if zone != "" {
		ins(`INSERT INTO care_plans (user_id, personal_best_lpm, time_zone) VALUES (?, 500, ?)`, u, zone)
	}
	meds := map[string]int64{}
	for _, role := range []string{"controller", "reliever", "other"} {
		meds[role] = ins(`INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, ?, ?, 'inhaler', 1, 'mg')`, u, role, role)
	}
	type sched struct {
		times string
		bits  uint8
		tz    string
		from  time.Time
		to    sql.NullTime
	}
	start := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	var schedIDs []int64
	for _, s := range []sched{
		{"02:30,08:00,20:00", medication.AllWeekdays, "America/New_York", start, sql.NullTime{Time: time.Date(2024, 11, 20, 3, 0, 0, 0, time.UTC), Valid: true}},
		{"01:30,13:15", 0b0101010, "Australia/Lord_Howe", time.Date(2024, 3, 31, 15, 0, 0, 0, time.UTC), sql.NullTime{}},
	} {
		schedIDs = append(schedIDs, ins(`INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from, deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u, meds["controller"], s.times, s.bits, s.tz, s.from, s.to))
		rule, err := medication.MakeRule(&care.Zones{}, s.times, s.bits, s.tz, s.from, s.to)
		if err != nil {
			t.Fatal(err)
		}
		in.schedules = append(in.schedules, rule)
	}
	// An ended schedule of a reliever is never due.
	ins(`INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, '09:00', 127, 'UTC', ?)`, u, meds["reliever"], start)

	instant := func() time.Time {
		return start.Add(time.Duration(r.Int64N(int64(330 * 24 * time.Hour)))).Truncate(time.Microsecond)
	}
	zonesOf := []string{"", "green", "yellow", "red"}
	for range 400 {
		s := refSymptom{at: instant(), sev: r.IntN(4), night: r.IntN(5) == 0, limited: r.IntN(4) == 0}
		ins(`INSERT INTO symptom_records (user_id, recorded_at, severity, night_waking, activity_limited) VALUES (?, ?, ?, ?, ?)`, u, s.at, s.sev, s.night, s.limited)
		in.symptoms = append(in.symptoms, s)
	}
	for range 700 {
		p := refPEF{at: instant(), v: 150 + r.IntN(500), zone: zonesOf[r.IntN(4)]}
		var zone any
		if p.zone != "" {
			zone = p.zone
		}
		ins(`INSERT INTO peak_flow_records (user_id, recorded_at, value_lpm, slot, zone) VALUES (?, ?, ?, 'other', ?)`, u, p.at, p.v, zone)
		in.pefs = append(in.pefs, p)
	}
	roles := []string{"controller", "reliever", "other"}
	for i := range 900 {
		x := refIntake{at: instant(), role: roles[r.IntN(3)], taken: r.IntN(6) != 0}
		var sid, due any
		if x.role == "controller" && r.IntN(2) == 0 {
			// A due time up to 3 days before the recording (late doses).
			d := x.at.Add(-time.Duration(r.Int64N(int64(72 * time.Hour)))).Truncate(time.Second)
			x.due, sid, due = &d, schedIDs[i%2], d
		}
		status := "skipped"
		if x.taken {
			status = "taken"
		}
		ins(`INSERT INTO medication_intakes (user_id, medication_id, schedule_id, scheduled_at, status, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`,
			u, meds[x.role], sid, due, status, x.at)
		in.intakes = append(in.intakes, x)
	}
	return in
}

// calendar is the reference: every row is placed on the local date it
// formats to; taken intakes count when recorded within 50 hours of the UTC
// month (the calendar's documented window for late doses).
func (in *refRecords) calendar(month string, now time.Time) report.Calendar {
	tz := in.zone
	if tz == "" {
		tz = care.DefaultTimeZone
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "Local" {
		loc, tz = time.UTC, "UTC"
	}
	var first time.Time
	if month == "" {
		n := now.In(loc)
		first = time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, loc)
	} else {
		m, _ := time.Parse("2006-01", month)
		first = time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, loc)
	}
	n := first.AddDate(0, 1, -1).Day()
	type acc struct {
		report.CalendarDay
		pef   []int
		zones []string
	}
	days := make([]acc, n)
	index := map[string]int{}
	for i := range days {
		days[i].Date = time.Date(first.Year(), first.Month(), 1+i, 12, 0, 0, 0, loc).Format(time.DateOnly)
		index[days[i].Date] = i
	}
	at := func(t time.Time) *acc {
		if i, ok := index[t.In(loc).Format(time.DateOnly)]; ok {
			return &days[i]
		}
		return nil
	}
	for _, s := range in.symptoms {
		if d := at(s.at); d != nil {
			d.SymptomRecords++
			if d.MaxSeverity == nil || *d.MaxSeverity < s.sev {
				sev := s.sev
				d.MaxSeverity = &sev
			}
			d.NightWaking = d.NightWaking || s.night
			d.ActivityLimited = d.ActivityLimited || s.limited
		}
	}
	for _, p := range in.pefs {
		if d := at(p.at); d != nil {
			d.pef, d.zones = append(d.pef, p.v), append(d.zones, p.zone)
		}
	}
	wideFrom := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC).Add(-50 * time.Hour)
	wideTo := time.Date(first.Year(), first.Month()+1, 1, 0, 0, 0, 0, time.UTC).Add(50 * time.Hour)
	for _, x := range in.intakes {
		if !x.taken || x.at.Before(wideFrom) || !x.at.Before(wideTo) {
			continue
		}
		switch x.role {
		case "reliever":
			if d := at(x.at); d != nil {
				d.RelieverUses++
			}
		case "controller":
			t := x.at
			if x.due != nil {
				t = *x.due
			}
			if d := at(t); d != nil {
				d.ControllerTaken++
			}
		}
	}
	end := time.Date(first.Year(), first.Month()+1, 1, 0, 0, 0, 0, loc)
	if now.Before(end) {
		end = now
	}
	for _, rule := range in.schedules {
		for _, o := range rule.Occurrences(first, end) {
			if d := at(o); d != nil {
				d.ControllerDue++
			}
		}
	}
	cal := report.Calendar{Month: first.Format("2006-01"), TimeZone: tz}
	for _, d := range days {
		if len(d.pef) > 0 {
			p := &report.PEFDay{Readings: len(d.pef), Min: d.pef[0], Max: d.pef[0]}
			for _, v := range d.pef {
				p.Min, p.Max = min(p.Min, v), max(p.Max, v)
			}
			worst := ""
			for _, z := range d.zones {
				if records.ZoneRank(z) > records.ZoneRank(worst) {
					worst = z
				}
			}
			if worst != "" {
				p.WorstZone = &worst
			}
			if v, ok := report.Variability(d.pef); ok {
				p.VariabilityPct = &v
			}
			d.PEF = p
		}
		cal.Days = append(cal.Days, d.CalendarDay)
	}
	return cal
}
