package medication_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/medication"
)

func TestMedicationsSchedulesIntakes(t *testing.T) {
	db, _ := testdb.New(t)
	now := time.Date(2024, 3, 15, 3, 0, 0, 0, time.UTC) // 12:00 KST
	clock := func() time.Time { return now }
	iss := caretest.Issuer(t)
	env := caretest.New(t, iss, medication.New(db, medication.Options{Auth: caretest.Auth(iss), Now: clock}).Mount)
	a, b := caretest.NewUser(t, db, "민지"), caretest.NewUser(t, db, "서준")
	id := func(r caretest.Response) string { return strconv.FormatFloat(r.Map(t)["id"].(float64), 'f', 0, 64) }

	r := env.Do(t, a, "POST", "/v1/me/medications", map[string]any{"name": "심비코트 터부헬러", "role": "controller", "form": "inhaler", "dose": 160, "dose_unit": "mcg"})
	caretest.Expect(t, r, 201, "")
	med := id(r)
	r = env.Do(t, a, "POST", "/v1/me/medications", map[string]any{"name": "벤토린", "role": "reliever", "form": "inhaler", "dose": 100, "dose_unit": "mcg"})
	caretest.Expect(t, r, 201, "")
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/medications/"+med, map[string]any{"name": "심비코트", "role": "controller", "form": "inhaler", "dose": 160.5, "dose_unit": "mcg"}), 200, "")
	// Two decimals as written, although 1.12*100 is not 112 in binary floating point.
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/medications/"+med, map[string]any{"name": "심비코트", "role": "controller", "form": "inhaler", "dose": 1.12, "dose_unit": "mg"}), 200, "")
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/medications/"+med, map[string]any{"name": "심비코트", "role": "controller", "form": "inhaler", "dose": 1.125, "dose_unit": "mg"}), 400, "validation_failed")
	if r := env.Do(t, a, "GET", "/v1/me/medications", nil); len(r.Map(t)["items"].([]any)) != 2 {
		t.Fatalf("list = %s", r.Body)
	}

	// Bad input.
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/medications", map[string]any{"name": "x", "role": "booster", "form": "inhaler", "dose": 1, "dose_unit": "mg"}), 400, "validation_failed")
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/medications", map[string]any{"name": "x", "role": "other", "form": "inhaler", "dose": -1, "dose_unit": "mg"}), 400, "out_of_range")
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/schedules", map[string]any{"medication_id": 1, "times": []string{"25:00"}}), 400, "validation_failed")
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/schedules", map[string]any{"medication_id": 1, "times": []string{"08:00"}, "time_zone": "Seoul"}), 400, "validation_failed")
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/schedules", map[string]any{"medication_id": 1, "times": []string{"08:00"}, "time_zone": ""}), 400, "validation_failed")
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/schedules", map[string]any{"medication_id": 1, "times": []string{"+1:30"}}), 400, "validation_failed")
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/schedules", map[string]any{"medication_id": 1, "times": []string{"08:00"}, "weekdays": []string{"MON"}}), 400, "validation_failed")

	// Schedule 08:00 and 20:00 (default zone Asia/Seoul), every day.
	medID, _ := strconv.Atoi(med)
	r = env.Do(t, a, "POST", "/v1/me/schedules", map[string]any{"medication_id": medID, "times": []string{"20:00", "08:00"}})
	caretest.Expect(t, r, 201, "")
	var s medication.Schedule
	r.JSON(t, &s)
	if s.TimeZone != "Asia/Seoul" || len(s.Weekdays) != 7 || s.Times[0] != "08:00" {
		t.Fatalf("schedule = %+v", s)
	}
	sched := strconv.FormatUint(s.ID, 10)

	// B can use neither A's medication nor A's schedule.
	caretest.Expect(t, env.Do(t, b, "POST", "/v1/me/schedules", map[string]any{"medication_id": medID, "times": []string{"08:00"}}), 404, "not_found")
	for _, p := range []string{"/v1/me/medications/" + med, "/v1/me/schedules/" + sched} {
		caretest.Expect(t, env.Do(t, b, "GET", p, nil), 404, "not_found")
		caretest.Expect(t, env.Do(t, b, "DELETE", p, nil), 404, "not_found")
	}
	caretest.Expect(t, env.Do(t, b, "PUT", "/v1/me/medications/"+med, map[string]any{"name": "x", "role": "other", "form": "tablet", "dose": 1, "dose_unit": "mg"}), 404, "not_found")
	caretest.Expect(t, env.Do(t, b, "POST", "/v1/me/intakes", map[string]any{"medication_id": medID, "status": "taken", "recorded_at": "2024-03-15T02:00:00Z"}), 404, "not_found")

	// The 20:00 KST dose of the 15th is 11:00 UTC; the schedule started at 03:00 UTC today.
	dose := map[string]any{"medication_id": medID, "schedule_id": s.ID, "scheduled_at": "2024-03-15T20:00:00+09:00", "status": "taken", "recorded_at": "2024-03-15T02:55:00Z"}
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/intakes", dose), 201, "")
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/intakes", dose), 409, "conflict")
	// 08:00 today was before the schedule started; 09:00 is not a dose time.
	bad := map[string]any{"medication_id": medID, "schedule_id": s.ID, "scheduled_at": "2024-03-15T09:00:00+09:00", "status": "taken", "recorded_at": "2024-03-15T02:55:00Z"}
	caretest.Expect(t, env.Do(t, a, "POST", "/v1/me/intakes", bad), 400, "validation_failed")
	if r := env.Do(t, a, "GET", "/v1/me/intakes?from=2024-03-15&to=2024-03-15", nil); len(r.Map(t)["items"].([]any)) != 1 {
		t.Fatalf("intakes = %s", r.Body)
	}

	// Replacing the schedule ends the old one.
	r = env.Do(t, a, "PUT", "/v1/me/schedules/"+sched, map[string]any{"times": []string{"09:00"}, "weekdays": []string{"mon", "fri"}})
	caretest.Expect(t, r, 200, "")
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/schedules/"+sched, nil), 404, "not_found")

	// Deleting the medication ends its schedules in the same transaction.
	caretest.Expect(t, env.Do(t, a, "DELETE", "/v1/me/medications/"+med, nil), 204, "")
	caretest.Expect(t, env.Do(t, a, "GET", "/v1/me/medications/"+med, nil), 404, "not_found")
	var live int
	db.QueryRow("SELECT COUNT(*) FROM medication_schedules WHERE user_id = ? AND deleted_at IS NULL", a).Scan(&live)
	if live != 0 {
		t.Fatalf("%d live schedules after the medication was deleted", live)
	}
	if caretest.Count(t, db, "medication_intakes", a) != 1 {
		t.Fatal("intake history lost")
	}
}

// Deleting a schedule or an intake (care.Remove over the store): 204 once,
// then 404; another user's row is 404 and stays; the deleted schedule keeps
// its row (soft delete) and the intake is gone.
func TestDeleteScheduleAndIntake(t *testing.T) {
	db, _ := testdb.New(t)
	now := time.Date(2024, 3, 15, 3, 0, 0, 0, time.UTC)
	iss := caretest.Issuer(t)
	env := caretest.New(t, iss, medication.New(db, medication.Options{Auth: caretest.Auth(iss), Now: func() time.Time { return now }}).Mount)
	a, b := caretest.NewUser(t, db, "민지"), caretest.NewUser(t, db, "서준")
	id := func(r caretest.Response) string { return strconv.FormatFloat(r.Map(t)["id"].(float64), 'f', 0, 64) }

	r := env.Do(t, a, "POST", "/v1/me/medications", map[string]any{"name": "벤토린", "role": "reliever", "form": "inhaler", "dose": 100, "dose_unit": "mcg"})
	caretest.Expect(t, r, 201, "")
	medID, _ := strconv.Atoi(id(r))
	r = env.Do(t, a, "POST", "/v1/me/schedules", map[string]any{"medication_id": medID, "times": []string{"08:00"}})
	caretest.Expect(t, r, 201, "")
	sched := "/v1/me/schedules/" + id(r)
	r = env.Do(t, a, "POST", "/v1/me/intakes", map[string]any{"medication_id": medID, "status": "taken", "recorded_at": "2024-03-15T02:00:00Z"})
	caretest.Expect(t, r, 201, "")
	intake := "/v1/me/intakes/" + id(r)

	for _, tt := range []struct{ path, table string }{{sched, "medication_schedules"}, {intake, "medication_intakes"}} {
		caretest.Expect(t, env.Do(t, b, "DELETE", tt.path, nil), 404, "not_found")
		caretest.Expect(t, env.Do(t, a, "GET", tt.path, nil), 200, "")
		caretest.Expect(t, env.Do(t, a, "DELETE", tt.path, nil), 204, "")
		caretest.Expect(t, env.Do(t, a, "GET", tt.path, nil), 404, "not_found")
		caretest.Expect(t, env.Do(t, a, "DELETE", tt.path, nil), 404, "not_found")
	}
	if n := caretest.Count(t, db, "medication_schedules", a); n != 1 {
		t.Fatalf("%d schedule rows, want the soft-deleted one", n)
	}
	if n := caretest.Count(t, db, "medication_intakes", a); n != 0 {
		t.Fatalf("%d intakes after the delete", n)
	}
}
