package report_test

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/report"
)

const calendarPath = "/v1/me/calendar?month=2024-03"

// TestCalendarCacheFollowsEveryWrite: after each write path, the cached
// calendar is recomputed (a miss) and equals the uncached one; the writes
// that change what the calendar shows do change it.
func TestCalendarCacheFollowsEveryWrite(t *testing.T) {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	var now time.Time
	clock := func() time.Time { return now }
	cached := report.New(db, report.Options{Auth: caretest.Auth(iss), Now: clock})
	uncached := report.New(db, report.Options{Auth: caretest.Auth(iss), Now: clock, CalendarCache: -1})
	defer cached.Close()
	defer uncached.Close()
	reader := caretest.New(t, iss, cached.Mount)
	fresh := caretest.New(t, iss, uncached.Mount)
	writer := caretest.New(t, iss,
		records.New(db, records.Options{Auth: caretest.Auth(iss), Now: clock}).Mount,
		medication.New(db, medication.Options{Auth: caretest.Auth(iss), Now: clock}).Mount)
	u := caretest.NewUser(t, db, "민지")
	version := func() uint64 {
		v, err := care.Version(context.Background(), db, u)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	create := func(path string, body map[string]any) int64 {
		t.Helper()
		r := writer.Do(t, u, "POST", path, body)
		caretest.Expect(t, r, 201, "")
		return int64(r.Map(t)["id"].(float64))
	}

	// A plan, a controller taken 08:00 and 20:00 KST from March 1st, a
	// reliever, and one record of each kind to edit or delete below.
	now = kst("2024-03-01 00:00")
	caretest.Expect(t, writer.Do(t, u, "PUT", "/v1/me/action-plan", map[string]any{"personal_best_lpm": 500, "time_zone": "Asia/Seoul"}), 200, "")
	med := func(name, role string) int64 {
		return create("/v1/me/medications", map[string]any{"name": name, "role": role, "form": "inhaler", "dose": 100, "dose_unit": "mcg"})
	}
	ctl, rel, ctl2 := med("심비코트", "controller"), med("벤토린", "reliever"), med("세레타이드", "controller")
	sched := create("/v1/me/schedules", map[string]any{"medication_id": ctl, "times": []string{"08:00", "20:00"}})
	sched2 := create("/v1/me/schedules", map[string]any{"medication_id": ctl2, "times": []string{"21:00"}})
	create("/v1/me/schedules", map[string]any{"medication_id": ctl2, "times": []string{"22:00"}})
	t0, t1 := kst("2024-03-10 12:00"), kst("2024-03-10 14:00")
	now = t0
	sym := create("/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-09T09:00:00+09:00", "severity": 1})
	pef := create("/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-09T07:00:00+09:00", "value_lpm": 420, "slot": "morning"})
	act := create("/v1/me/act-results", map[string]any{"recorded_at": "2024-03-09T09:00:00+09:00", "answers": []int{4, 4, 4, 4, 4}})
	ev := create("/v1/me/health-events", map[string]any{"kind": "er_visit", "start_date": "2024-03-08"})
	puff := create("/v1/me/intakes", map[string]any{"medication_id": rel, "status": "taken", "recorded_at": "2024-03-09T15:00:00+09:00"})
	path := func(kind string, id int64) string { return "/v1/me/" + kind + "/" + strconv.FormatInt(id, 10) }

	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		// changes: the calendar at t1 differs with the write (writes of
		// ACT results, health events and a new medication do not show).
		changes bool
	}{
		{"symptom create", "POST", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-10T09:00:00+09:00", "severity": 2, "night_waking": true}, 201, true},
		{"symptom edit", "PUT", path("symptoms", sym), map[string]any{"recorded_at": "2024-03-09T09:00:00+09:00", "severity": 3}, 200, true},
		{"symptom delete", "DELETE", path("symptoms", sym), nil, 204, true},
		{"peak flow create", "POST", "/v1/me/peak-flows", map[string]any{"recorded_at": "2024-03-10T07:00:00+09:00", "value_lpm": 240, "slot": "morning"}, 201, true},
		{"peak flow edit", "PUT", path("peak-flows", pef), map[string]any{"recorded_at": "2024-03-09T07:00:00+09:00", "value_lpm": 230, "slot": "morning"}, 200, true},
		{"peak flow delete", "DELETE", path("peak-flows", pef), nil, 204, true},
		{"ACT create", "POST", "/v1/me/act-results", map[string]any{"recorded_at": "2024-03-10T09:00:00+09:00", "answers": []int{3, 3, 3, 3, 3}}, 201, false},
		{"ACT edit", "PUT", path("act-results", act), map[string]any{"recorded_at": "2024-03-09T09:00:00+09:00", "answers": []int{2, 2, 2, 2, 2}}, 200, false},
		{"ACT delete", "DELETE", path("act-results", act), nil, 204, false},
		{"health event create", "POST", "/v1/me/health-events", map[string]any{"kind": "oral_steroid", "start_date": "2024-03-09", "end_date": "2024-03-12"}, 201, false},
		{"health event edit", "PUT", path("health-events", ev), map[string]any{"kind": "admission", "start_date": "2024-03-08", "end_date": "2024-03-09"}, 200, false},
		{"health event delete", "DELETE", path("health-events", ev), nil, 204, false},
		{"reliever intake create", "POST", "/v1/me/intakes", map[string]any{"medication_id": rel, "status": "taken", "recorded_at": "2024-03-10T10:00:00+09:00"}, 201, true},
		{"controller dose create", "POST", "/v1/me/intakes", map[string]any{"medication_id": ctl, "schedule_id": sched, "scheduled_at": "2024-03-10T08:00:00+09:00", "status": "taken", "recorded_at": "2024-03-10T08:05:00+09:00"}, 201, true},
		{"intake delete", "DELETE", path("intakes", puff), nil, 204, true},
		{"medication create", "POST", "/v1/me/medications", map[string]any{"name": "몬테루카스트", "role": "other", "form": "tablet", "dose": 10, "dose_unit": "mg"}, 201, false},
		// The reliever puffs stop counting when the medication is no reliever.
		{"medication update", "PUT", path("medications", rel), map[string]any{"name": "벤토린", "role": "other", "form": "inhaler", "dose": 100, "dose_unit": "mcg"}, 200, true},
		// A 13:00 dose from now on: due at t1.
		{"schedule create", "POST", "/v1/me/schedules", map[string]any{"medication_id": ctl, "times": []string{"13:00"}}, 201, true},
		{"schedule update", "PUT", path("schedules", sched), map[string]any{"times": []string{"08:00", "13:30", "20:00"}}, 200, true},
		// Ending schedules whose next dose (21:00, 22:00) is after t1 shows only later.
		{"schedule delete", "DELETE", path("schedules", sched2), nil, 204, false},
		{"medication delete", "DELETE", path("medications", ctl2), nil, 204, false},
		{"plan time zone", "PUT", "/v1/me/action-plan", map[string]any{"personal_best_lpm": 500, "time_zone": "Asia/Tokyo"}, 200, true},
		{"plan personal best", "PUT", "/v1/me/action-plan", map[string]any{"personal_best_lpm": 450, "time_zone": "Asia/Tokyo"}, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = t1
			before := fresh.Do(t, u, "GET", calendarPath, nil)
			caretest.Expect(t, before, 200, "")

			// Warm reader's cache and check it answers from it.
			now = t0
			caretest.Expect(t, reader.Do(t, u, "GET", calendarPath, nil), 200, "")
			hits, misses := cached.CacheCounts()
			caretest.Expect(t, reader.Do(t, u, "GET", calendarPath, nil), 200, "")
			if h, m := cached.CacheCounts(); h != hits+1 || m != misses {
				t.Fatalf("second read: hits %d→%d, misses %d→%d; want a hit", hits, h, misses, m)
			}

			v := version()
			caretest.Expect(t, writer.Do(t, u, tt.method, tt.path, tt.body), tt.status, "")
			if got := version(); got <= v {
				t.Errorf("records version %d → %d: the write did not bump it", v, got)
			}

			// Right after the write, on the same clock: reader recomputes.
			got := reader.Do(t, u, "GET", calendarPath, nil)
			if h, m := cached.CacheCounts(); h != hits+1 || m != misses+1 {
				t.Errorf("read after the write: hits %d→%d, misses %d→%d; want a miss", hits+1, h, misses, m)
			}
			want := fresh.Do(t, u, "GET", calendarPath, nil)
			if !bytes.Equal(got.Body, want.Body) || got.Rec.Header().Get("ETag") != want.Rec.Header().Get("ETag") {
				t.Errorf("cached calendar after the write differs from the uncached one:\n%s\n%s", got.Body, want.Body)
			}

			now = t1
			after := reader.Do(t, u, "GET", calendarPath, nil)
			if !bytes.Equal(after.Body, fresh.Do(t, u, "GET", calendarPath, nil).Body) {
				t.Errorf("cached calendar at t1 differs from the uncached one")
			}
			if changed := !bytes.Equal(after.Body, before.Body); changed != tt.changes {
				t.Errorf("calendar changed = %v, want %v:\nbefore %s\nafter  %s", changed, tt.changes, before.Body, after.Body)
			}
		})
	}
}

// TestCalendarETag: If-None-Match with the current ETag answers 304 on any
// instance (the ETag hashes the body), an outdated one 200.
func TestCalendarETag(t *testing.T) {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	now := kst("2024-03-10 12:00")
	clock := func() time.Time { return now }
	a := report.New(db, report.Options{Auth: caretest.Auth(iss), Now: clock})
	b := report.New(db, report.Options{Auth: caretest.Auth(iss), Now: clock, CalendarCache: -1})
	defer a.Close()
	defer b.Close()
	envA, envB := caretest.New(t, iss, a.Mount), caretest.New(t, iss, b.Mount)
	writer := caretest.New(t, iss, records.New(db, records.Options{Auth: caretest.Auth(iss), Now: clock}).Mount)
	u, other := caretest.NewUser(t, db, "민지"), caretest.NewUser(t, db, "서준")

	r := envA.Do(t, u, "GET", calendarPath, nil)
	caretest.Expect(t, r, 200, "")
	etag := r.Rec.Header().Get("ETag")
	if etag == "" || r.Rec.Header().Get("Cache-Control") != "private, no-cache" {
		t.Fatalf("headers %v", r.Rec.Header())
	}
	inm := func(v string) http.Header { return http.Header{"If-None-Match": {v}} }
	for _, h := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		for name, env := range map[string]*caretest.Env{"cached": envA, "uncached": envB} {
			r := env.DoHeader(t, u, "GET", calendarPath, nil, inm(h))
			caretest.Expect(t, r, 304, "")
			if len(r.Body) != 0 || r.Rec.Header().Get("ETag") != etag {
				t.Errorf("%s, If-None-Match %s: 304 with body %q, ETag %q", name, h, r.Body, r.Rec.Header().Get("ETag"))
			}
		}
	}
	caretest.Expect(t, envA.DoHeader(t, u, "GET", calendarPath, nil, inm(`"other"`)), 200, "")
	caretest.Expect(t, envA.DoHeader(t, u, "GET", "/v1/me/calendar?month=2024-02", nil, inm(etag)), 200, "")
	// Another user's month (empty like u's) has the same body, so the same ETag: only equal bodies match.
	caretest.Expect(t, envA.DoHeader(t, other, "GET", calendarPath, nil, inm(etag)), 304, "")

	caretest.Expect(t, writer.Do(t, u, "POST", "/v1/me/symptoms", map[string]any{"recorded_at": "2024-03-10T09:00:00+09:00", "severity": 1}), 201, "")
	r = envA.DoHeader(t, u, "GET", calendarPath, nil, inm(etag))
	caretest.Expect(t, r, 200, "")
	if r.Rec.Header().Get("ETag") == etag {
		t.Error("the ETag did not change with the body")
	}
}

// TestCalendarCacheExpiry: a cached month is recomputed when a controller
// dose falls due, and after calendarMaxAge even when nothing bumped the
// version (a write behind the API's back, seen late by design).
func TestCalendarCacheExpiry(t *testing.T) {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	now := kst("2024-03-01 00:00")
	clock := func() time.Time { return now }
	cached := report.New(db, report.Options{Auth: caretest.Auth(iss), Now: clock})
	defer cached.Close()
	reader := caretest.New(t, iss, cached.Mount)
	writer := caretest.New(t, iss, medication.New(db, medication.Options{Auth: caretest.Auth(iss), Now: clock}).Mount)
	u := caretest.NewUser(t, db, "민지")
	r := writer.Do(t, u, "POST", "/v1/me/medications", map[string]any{"name": "심비코트", "role": "controller", "form": "inhaler", "dose": 160, "dose_unit": "mcg"})
	caretest.Expect(t, r, 201, "")
	caretest.Expect(t, writer.Do(t, u, "POST", "/v1/me/schedules", map[string]any{"medication_id": r.Map(t)["id"], "times": []string{"08:00", "20:00"}}), 201, "")

	due := func() (int, int64) {
		r := reader.Do(t, u, "GET", calendarPath, nil)
		caretest.Expect(t, r, 200, "")
		var cal report.Calendar
		r.JSON(t, &cal)
		_, misses := cached.CacheCounts()
		return cal.Days[9].ControllerDue, misses
	}
	check := func(at string, wantDue int, wantMisses int64) {
		t.Helper()
		now = kst(at)
		if d, m := due(); d != wantDue || m != wantMisses {
			t.Errorf("at %s: due on the 10th %d, misses %d; want %d, %d", at, d, m, wantDue, wantMisses)
		}
	}
	check("2024-03-10 19:55", 1, 1)
	check("2024-03-10 19:59", 1, 1) // same answer until the 20:00 dose is past
	check("2024-03-10 20:00", 1, 1) // a dose is due after its instant (as in the reports)
	check("2024-03-10 20:01", 2, 2)

	// A row written behind the API's back (no version bump) shows after calendarMaxAge (10 min).
	if _, err := db.Exec(`INSERT INTO symptom_records (user_id, recorded_at, severity) VALUES (?, ?, 3)`, u, kst("2024-03-10 18:00")); err != nil {
		t.Fatal(err)
	}
	check("2024-03-10 20:05", 2, 2)
	check("2024-03-10 20:11", 2, 3)
	r = reader.Do(t, u, "GET", calendarPath, nil)
	var cal report.Calendar
	r.JSON(t, &cal)
	if cal.Days[9].SymptomRecords != 1 {
		t.Errorf("the unversioned symptom is not shown after the maximum age: %+v", cal.Days[9])
	}
}
