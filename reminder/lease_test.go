package reminder

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
)

// realClock runs at the real rate from base, so leases really expire.
func realClock(base time.Time) func() time.Time {
	start := time.Now()
	return func() time.Time { return base.Add(time.Since(start)) }
}

// deliveriesPerMessage counts the requests the fake FCM server got per
// (token, schedule, due time).
func deliveriesPerMessage(f *fakeFCM) map[string]int {
	n := map[string]int{}
	for _, m := range f.got() {
		data, _ := m["data"].(map[string]any)
		n[fmt.Sprint(m["token"], " ", data["schedule_id"], " ", data["due_at"])]++
	}
	return n
}

// One tick outlasts the lease (each FCM request takes 250 ms, eight of them,
// a 1.5 s lease) and a second dispatcher ticks after the lease has run out:
// still every reminder reaches FCM exactly once. Leases are taken from the
// clock at claim time and renewed before each send, so the second
// dispatcher never finds an expired lease on a row the first one is sending.
func TestSlowTickOutlastsLeaseSendsOnce(t *testing.T) {
	db, _ := testdb.New(t)
	const users = 8
	seed(t, db, users)
	f := newFakeFCM(t, "p", "t")
	const sendTime, lease = 250 * time.Millisecond, 1500 * time.Millisecond
	f.answer = func(map[string]any) (int, string) { time.Sleep(sendTime); return 0, "" }
	sender := NewFCM(f.URL, "p", StaticToken("t"), nil)
	clock := realClock(time.Date(2024, 3, 14, 23, 0, 5, 0, time.UTC)) // 08:00:05 KST
	mk := func(id string) *Dispatcher {
		return NewDispatcher(db, sender, Options{Grace: 10 * time.Minute, Lease: lease, Now: clock, ID: id})
	}
	d1, d2 := mk("one"), mk("two")

	var wg sync.WaitGroup
	tick := func(d *Dispatcher) {
		defer wg.Done()
		if _, err := d.Tick(context.Background()); err != nil {
			t.Error(err)
		}
	}
	wg.Add(1)
	go tick(d1)
	time.Sleep(lease + 100*time.Millisecond) // d1 is sending its seventh row
	wg.Add(1)
	go tick(d2)
	wg.Wait()

	got := deliveriesPerMessage(f)
	if len(got) != users {
		t.Errorf("FCM got %d distinct messages, want %d: %v", len(got), users, got)
	}
	for key, n := range got {
		if n != 1 {
			t.Errorf("%s reached FCM %d times", key, n)
		}
	}
	var sent int
	if err := db.QueryRow(`SELECT COUNT(*) FROM reminder_deliveries WHERE status = 'sent'`).Scan(&sent); err != nil {
		t.Fatal(err)
	}
	if sent != users {
		t.Errorf("%d deliveries recorded as sent, want %d", sent, users)
	}
}

// hookSender records the tokens it is asked to send to and runs during(n)
// inside the n-th Send (0-based), to change the world mid-request,
// and answers err (nil: sent).
type hookSender struct {
	mu     sync.Mutex
	tokens []string
	during func(n int)
	err    error
}

func (h *hookSender) Send(_ context.Context, m Message) error {
	h.mu.Lock()
	n := len(h.tokens)
	h.tokens = append(h.tokens, m.Token)
	h.mu.Unlock()
	if h.during != nil {
		h.during(n)
	}
	return h.err
}

// A lease lost mid-delivery is never silent: a row re-claimed by another
// dispatcher while the send was out keeps the other dispatcher's claim (the
// outcome matches nothing and is counted and logged), and a lease that
// expired between two devices stops the sends to the remaining devices.
func TestLostLeaseIsCountedAndStopsSends(t *testing.T) {
	const lease = time.Minute
	tests := []struct {
		name       string
		devices    int
		during     func(t *testing.T, db *sql.DB, advance func(time.Duration), n int)
		wantTokens int
		wantStats  Stats
		wantStatus string
		wantLog    string
	}{
		{
			name:    "re-claimed during the send",
			devices: 1,
			during: func(t *testing.T, db *sql.DB, advance func(time.Duration), n int) {
				advance(lease + time.Second)
				if _, err := db.Exec(`UPDATE reminder_deliveries SET claimed_by = 'thief', claimed_until = ?, attempts = attempts + 1`,
					time.Date(2024, 3, 15, 0, 0, 0, 0, time.UTC)); err != nil {
					t.Error(err)
				}
			},
			wantTokens: 1,
			wantStats:  Stats{Planned: 1, Claimed: 1, LeaseLost: 1},
			wantStatus: "pending",
			wantLog:    "lease lost before the outcome was recorded",
		},
		{
			name:    "expired between two devices",
			devices: 2,
			during: func(t *testing.T, db *sql.DB, advance func(time.Duration), n int) {
				if n == 0 {
					advance(lease + time.Second)
				}
			},
			wantTokens: 1,
			wantStats:  Stats{Planned: 1, Claimed: 1, Sent: 1, LeaseLost: 1},
			wantStatus: "sent",
			wantLog:    "lease expired before a send; not sending",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := testdb.New(t)
			u := seed(t, db, 1)[0]
			for i := 1; i < tt.devices; i++ {
				if _, err := db.Exec(`INSERT INTO device_tokens (user_id, token, platform) VALUES (?, ?, 'ios')`, u, fmt.Sprintf("second-device-token-%04d", i)); err != nil {
					t.Fatal(err)
				}
			}
			var mu sync.Mutex
			now := time.Date(2024, 3, 14, 23, 0, 5, 0, time.UTC)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
			s := &hookSender{}
			s.during = func(n int) { tt.during(t, db, advance, n) }
			var logs bytes.Buffer
			d := NewDispatcher(db, s, Options{Lease: lease, Now: clock, ID: "one", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			st, err := d.Tick(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st != tt.wantStats {
				t.Errorf("stats %+v, want %+v", st, tt.wantStats)
			}
			if len(s.tokens) != tt.wantTokens {
				t.Errorf("sent to %v, want %d request(s)", s.tokens, tt.wantTokens)
			}
			if got := deliveryStatus(t, db, u, "2024-03-14 23:00:00"); got != tt.wantStatus {
				t.Errorf("delivery %s, want %s", got, tt.wantStatus)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q lacks %q", logs.String(), tt.wantLog)
			}
		})
	}
}
