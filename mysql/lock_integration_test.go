package mysql

import (
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testenv"
)

// A named lock is held by one connection at a time; Release frees it; a
// lock whose connection is killed is reported lost by Held, and the next
// TryLock gets it; LockName stays within MySQL's 64 characters.
func TestIntegrationNamedLock(t *testing.T) {
	db, err := Open(t.Context(), testenv.MySQLDSN(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	name := LockName("soomcare-test-lock:", strings.Repeat("x", 80))
	if len(name) != 64 {
		t.Fatalf("LockName is %d characters", len(name))
	}
	first, err := TryLock(ctx, db, name)
	if err != nil || first == nil {
		t.Fatalf("first TryLock: %v, %v", first, err)
	}
	if second, err := TryLock(ctx, db, name); second != nil || err != nil {
		t.Fatalf("second TryLock while held: %v, %v (want nil, nil)", second, err)
	}
	if err := first.Held(ctx); err != nil {
		t.Fatalf("Held: %v", err)
	}
	first.Release()
	again, err := TryLock(ctx, db, name)
	if err != nil || again == nil {
		t.Fatalf("TryLock after Release: %v, %v", again, err)
	}
	// The server drops the holder's connection (a restart does the same).
	var id int64
	if err := again.conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "KILL ?", id); err != nil {
		t.Fatal(err)
	}
	if err := again.Held(ctx); err == nil {
		t.Fatal("Held after the connection was killed: nil")
	}
	again.Release()
	// KILL returns before the killed session has ended and let go of its
	// locks: wait until it is gone from the process list (at most 10 s).
	for deadline := time.Now().Add(10 * time.Second); ; {
		var alive int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?", id).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if alive == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connection %d still in the process list 10 s after KILL", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
	taken, err := TryLock(ctx, db, name)
	if err != nil || taken == nil {
		t.Fatalf("TryLock after the holder died: %v, %v", taken, err)
	}
	if err := taken.Held(ctx); err != nil {
		t.Fatal(err)
	}
	taken.Release()
}
