package tick

import (
	"context"
	"testing"
	"time"
)

// Every runs fn at once, then once a period, and returns when ctx ends.
func TestEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	done := make(chan struct{})
	go func() {
		Every(ctx, 10*time.Millisecond, func() {
			runs++
			if runs == 3 {
				cancel()
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Every did not return after ctx ended")
	}
	if runs != 3 {
		t.Errorf("fn ran %d times, want 3 (once at once, then until cancelled)", runs)
	}
	first := false
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	Every(ctx2, time.Hour, func() { first = true })
	if !first {
		t.Error("fn did not run before the first period")
	}
}
