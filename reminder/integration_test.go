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
	"github.com/soomcare/soomcare/web"
)

// seed makes n users, each with a controller scheduled at 08:00 and 20:00
// Seoul time since 2024-03-01, and one device.
func seed(t *testing.T, db *sql.DB, n int) []uint64 {
	var users []uint64
	for i := range n {
		u := caretest.NewUser(t, db, fmt.Sprintf("user%d", i))
		res, err := db.Exec(`INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, '심비코트', 'controller', 'inhaler', 160, 'mcg')`, u)
		if err != nil {
			t.Fatal(err)
		}
		med, _ := res.LastInsertId()
		if _, err := db.Exec(`INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, '08:00,20:00', 127, 'Asia/Seoul', '2024-03-01')`, u, med); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO device_tokens (user_id, token, platform) VALUES (?, ?, 'android')`, u, fmt.Sprintf("device-token-%04d-abcdef", i)); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	return users
}

// Two dispatchers race on the same database through several passes: every
// (schedule, due time) reaches FCM exactly once.
func TestDispatchersSendExactlyOnce(t *testing.T) {
	db, _ := testdb.New(t)
	const users = 20
	seed(t, db, users)
	f := newFakeFCM(t, "p", "t")
	sender := NewFCM(f.URL, "p", StaticToken("t"), nil)

	// 08:00 KST on 2024-03-15 is 23:00 UTC on the 14th; passes at 23:00:05, 23:00:35, 23:01:05.
	var mu sync.Mutex
	now := time.Date(2024, 3, 14, 23, 0, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	mk := func(id string) *Dispatcher {
		return NewDispatcher(db, sender, Options{Grace: 10 * time.Minute, Now: clock, ID: id})
	}
	d1, d2 := mk("one"), mk("two")
	for pass := range 3 {
		var wg sync.WaitGroup
		for _, d := range []*Dispatcher{d1, d2, d1, d2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := d.Tick(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		mu.Lock()
		now = now.Add(30 * time.Second)
		mu.Unlock()
		_ = pass
	}
	got := f.got()
	if len(got) != users {
		t.Fatalf("FCM got %d messages, want %d (one per schedule and due time)", len(got), users)
	}
	seen := map[string]bool{}
	for _, m := range got {
		data := m["data"].(map[string]any)
		key := fmt.Sprint(data["schedule_id"], data["due_at"])
		if seen[key] {
			t.Errorf("sent twice: %s", key)
		}
		seen[key] = true
		if data["due_at"] != "2024-03-14T23:00:00Z" {
			t.Errorf("due_at = %v", data["due_at"])
		}
	}
	var sent int
	db.QueryRow(`SELECT COUNT(*) FROM reminder_deliveries WHERE status = 'sent' AND due_at = '2024-03-14 23:00:00'`).Scan(&sent)
	if sent != users {
		t.Errorf("%d deliveries sent, want %d", sent, users)
	}
}

// Two dispatchers as in production: each running its own loop on a real
// ticker (here 20 ms) — still one message per due dose.
func TestDispatcherLoopsRace(t *testing.T) {
	db, _ := testdb.New(t)
	seed(t, db, 5)
	f := newFakeFCM(t, "p", "t")
	sender := NewFCM(f.URL, "p", StaticToken("t"), nil)
	clock := func() time.Time { return time.Date(2024, 3, 15, 11, 3, 0, 0, time.UTC) } // 20:03 KST
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			NewDispatcher(db, sender, Options{Interval: 20 * time.Millisecond, Now: clock, ID: fmt.Sprint("loop", i)}).Run(ctx)
		}()
	}
	wg.Wait()
	if n := len(f.got()); n != 5 {
		t.Fatalf("FCM got %d messages, want 5", n)
	}
}

// A failed send is retried after the backoff, a dead token is deleted, and a
// dose older than the grace is never sent.
func TestDispatcherRetriesAndTokens(t *testing.T) {
	db, _ := testdb.New(t)
	u := seed(t, db, 2)
	f := newFakeFCM(t, "p", "t")
	failing := true
	f.answer = func(msg map[string]any) (int, string) {
		switch {
		case msg["token"] == "device-token-0001-abcdef":
			return 404, `{"error":{"code":404,"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}}`
		case failing:
			return 503, `{"error":{"code":503,"status":"UNAVAILABLE"}}`
		}
		return 0, ""
	}
	now := time.Date(2024, 3, 14, 23, 1, 0, 0, time.UTC)
	d := NewDispatcher(db, NewFCM(f.URL, "p", StaticToken("t"), nil), Options{Backoff: time.Minute, Now: func() time.Time { return now }})
	st, err := d.Tick(context.Background())
	if err != nil || st.Retry != 1 || st.Failed != 1 {
		t.Fatalf("first pass: %+v %v", st, err)
	}
	if caretest.Count(t, db, "device_tokens", u[1]) != 0 {
		t.Error("unregistered token kept")
	}
	failing = false
	now = now.Add(30 * time.Second) // before the backoff: nothing
	if st, _ := d.Tick(context.Background()); st.Claimed != 0 {
		t.Fatalf("retried before the backoff: %+v", st)
	}
	now = now.Add(31 * time.Second)
	if st, _ := d.Tick(context.Background()); st.Sent != 1 {
		t.Fatalf("retry pass: %+v", st)
	}
	var status string
	var attempts int
	db.QueryRow(`SELECT status, attempts FROM reminder_deliveries WHERE user_id = ?`, u[0]).Scan(&status, &attempts)
	if status != "sent" || attempts != 2 {
		t.Errorf("delivery %s after %d attempts", status, attempts)
	}
	// Downtime: the 20:00 KST dose (11:00 UTC) seen first at 11:30 UTC is past the 10-minute grace.
	now = time.Date(2024, 3, 15, 11, 30, 0, 0, time.UTC)
	if st, _ := d.Tick(context.Background()); st.Planned != 0 {
		t.Errorf("stale doses planned: %+v", st)
	}
}

func TestDevicesAndNotices(t *testing.T) {
	db, _ := testdb.New(t)
	iss := caretest.Issuer(t)
	f := newFakeFCM(t, "p", "t")
	api := NewAPI(db, NewFCM(f.URL, "p", StaticToken("t"), nil), caretest.Auth(iss), nil)
	env := caretest.New(t, iss, api.Mount)
	a, b := caretest.NewUser(t, db, "민지"), caretest.NewUser(t, db, "서준")
	tok := "fcm-token-aaaaaaaaaaaaaaaaaaaa:bbbb"
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/devices", map[string]any{"token": tok, "platform": "android"}), 200, "")
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/devices", map[string]any{"token": tok, "platform": "android"}), 200, "")
	caretest.Expect(t, env.Do(t, a, "PUT", "/v1/me/devices", map[string]any{"token": "short", "platform": "android"}), 400, "validation_failed")
	caretest.Expect(t, env.Do(t, b, "DELETE", "/v1/me/devices/"+tok, nil), 404, "not_found")
	// The same phone, now logged in as B: the token moves.
	caretest.Expect(t, env.Do(t, b, "PUT", "/v1/me/devices", map[string]any{"token": tok, "platform": "ios"}), 200, "")
	if caretest.Count(t, db, "device_tokens", a) != 0 || caretest.Count(t, db, "device_tokens", b) != 1 {
		t.Error("token did not move")
	}
	caretest.Expect(t, env.Do(t, b, "DELETE", "/v1/me/devices/"+tok, nil), 204, "")

	// Notices: admins only, one topic message whatever the number of devices.
	body := map[string]any{"title": "서비스 점검 안내", "body": "3월 20일 02:00~04:00"}
	caretest.Expect(t, env.Do(t, 0, "POST", "/v1/admin/notices", body), 401, "unauthorized")
	caretest.Expect(t, env.DoAs(t, web.Principal{UserID: a, Role: web.RoleUser}, "POST", "/v1/admin/notices", body), 403, "forbidden")
	caretest.Expect(t, env.DoAs(t, web.Principal{UserID: a, Role: web.RoleAdmin}, "POST", "/v1/admin/notices", map[string]any{"title": "x"}), 400, "validation_failed")
	caretest.Expect(t, env.DoAs(t, web.Principal{UserID: a, Role: web.RoleAdmin}, "POST", "/v1/admin/notices", body), 202, "")
	got := f.got()
	if len(got) != 1 || got[0]["topic"] != NoticeTopic || got[0]["token"] != nil {
		t.Fatalf("FCM got %v", got)
	}
}
