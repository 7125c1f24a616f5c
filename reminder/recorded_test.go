package reminder

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/care/caretest"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/medication"
)

// recordIntake records a dose the way the app does: POST /v1/me/intakes
// with the schedule and its due time (Seoul local time, as the app sends it).
func recordIntake(t *testing.T, env *caretest.Env, db *sql.DB, user uint64, dueLocal, status string) {
	t.Helper()
	var med, sched uint64
	if err := db.QueryRow(`SELECT medication_id, id FROM medication_schedules WHERE user_id = ?`, user).Scan(&med, &sched); err != nil {
		t.Fatal(err)
	}
	caretest.Expect(t, env.Do(t, user, "POST", "/v1/me/intakes", map[string]any{
		"medication_id": med, "schedule_id": sched, "scheduled_at": dueLocal, "status": status, "recorded_at": "2024-03-14T22:58:00Z",
	}), 201, "")
}

func deliveryStatus(t *testing.T, db *sql.DB, user uint64, dueAt string) string {
	t.Helper()
	var status string
	if err := db.QueryRow(`SELECT status FROM reminder_deliveries WHERE user_id = ? AND due_at = ?`, user, dueAt).Scan(&status); err != nil {
		t.Fatalf("delivery of user %d at %s: %v", user, dueAt, err)
	}
	return status
}

// A dose recorded as taken or skipped before its reminder is due is not
// sent; its delivery is recorded as already_recorded, once, however many
// dispatchers race. A dose recorded for another time does not count.
func TestDispatcherSkipsRecordedDoses(t *testing.T) {
	db, _ := testdb.New(t)
	users := seed(t, db, 4)
	iss := caretest.Issuer(t)
	env := caretest.New(t, iss, medication.New(db, medication.Options{Auth: caretest.Auth(iss)}).Mount)
	recordIntake(t, env, db, users[0], "2024-03-15T08:00:00+09:00", "taken")
	recordIntake(t, env, db, users[1], "2024-03-15T08:00:00+09:00", "skipped")
	recordIntake(t, env, db, users[2], "2024-03-14T20:00:00+09:00", "taken") // yesterday evening's dose

	f := newFakeFCM(t, "p", "t")
	sender := NewFCM(f.URL, "p", StaticToken("t"), nil)
	var mu sync.Mutex
	now := time.Date(2024, 3, 14, 23, 0, 5, 0, time.UTC) // 08:00:05 KST on the 15th
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	var stats []Stats
	for range 3 {
		var wg sync.WaitGroup
		for _, id := range []string{"one", "two", "one", "two"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := NewDispatcher(db, sender, Options{Grace: 10 * time.Minute, Now: clock, ID: id}).Tick(context.Background())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				stats = append(stats, st)
				mu.Unlock()
			}()
		}
		wg.Wait()
		mu.Lock()
		now = now.Add(30 * time.Second)
		mu.Unlock()
	}

	got := f.got()
	if len(got) != 2 {
		t.Fatalf("FCM got %d messages, want 2 (users 2 and 3 only): %v", len(got), got)
	}
	want := map[string]bool{"device-token-0002-abcdef": true, "device-token-0003-abcdef": true}
	for _, m := range got {
		if !want[fmt.Sprint(m["token"])] {
			t.Errorf("sent to %v, whose dose was already recorded", m["token"])
		}
	}
	const due = "2024-03-14 23:00:00"
	for i, wantStatus := range []string{"already_recorded", "already_recorded", "sent", "sent"} {
		if got := deliveryStatus(t, db, users[i], due); got != wantStatus {
			t.Errorf("user %d: delivery %s, want %s", i, got, wantStatus)
		}
	}
	recorded := 0
	for _, st := range stats {
		recorded += st.Recorded
	}
	if recorded != 2 {
		t.Errorf("ticks counted %d already_recorded, want 2 (once each)", recorded)
	}
}

// A reminder waiting for a retry is not sent once the dose gets recorded.
func TestDispatcherRecordedBeforeRetry(t *testing.T) {
	db, _ := testdb.New(t)
	users := seed(t, db, 1)
	iss := caretest.Issuer(t)
	env := caretest.New(t, iss, medication.New(db, medication.Options{Auth: caretest.Auth(iss)}).Mount)
	f := newFakeFCM(t, "p", "t")
	f.answer = func(map[string]any) (int, string) { return 503, `{"error":{"code":503,"status":"UNAVAILABLE"}}` }
	now := time.Date(2024, 3, 14, 23, 1, 0, 0, time.UTC)
	d := NewDispatcher(db, NewFCM(f.URL, "p", StaticToken("t"), nil), Options{Backoff: time.Minute, Now: func() time.Time { return now }})
	if st, err := d.Tick(context.Background()); err != nil || st.Retry != 1 {
		t.Fatalf("first pass: %+v %v", st, err)
	}
	recordIntake(t, env, db, users[0], "2024-03-15T08:00:00+09:00", "taken")
	f.answer = nil
	now = now.Add(2 * time.Minute)
	st, err := d.Tick(context.Background())
	if err != nil || st.Recorded != 1 || st.Sent != 0 {
		t.Fatalf("retry pass: %+v %v", st, err)
	}
	if n := len(f.got()); n != 1 {
		t.Errorf("FCM got %d requests, want only the failed first one", n)
	}
	if s := deliveryStatus(t, db, users[0], "2024-03-14 23:00:00"); s != "already_recorded" {
		t.Errorf("delivery %s", s)
	}
	now = now.Add(5 * time.Minute)
	if st, _ := d.Tick(context.Background()); st.Claimed != 0 {
		t.Errorf("an already_recorded reminder was claimed again: %+v", st)
	}
}
