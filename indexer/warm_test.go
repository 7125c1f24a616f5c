package indexer

import (
	"testing"
	"time"
)

// WarmEach asks for an index's searches only when it warms it.
func TestWarmEach(t *testing.T) {
	tests := []struct {
		d         time.Duration
		wantCalls int
		wantFor   time.Duration
	}{
		{0, 0, 0},
		{time.Minute, 1, time.Minute},
	}
	for _, tt := range tests {
		calls := 0
		o := WarmEach(tt.d, func(name string) [][]byte { calls++; return [][]byte{[]byte(name)} })("contents")
		if calls != tt.wantCalls || o.For != tt.wantFor || len(o.Bodies) != tt.wantCalls {
			t.Errorf("WarmEach(%s): %d calls, %+v; want %d calls, For %s", tt.d, calls, o, tt.wantCalls, tt.wantFor)
		}
	}
}
