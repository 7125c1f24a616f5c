package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// The progress bar's rate is measured from the phase's start: a first page
// that arrives at once after a slow read does not show as hundreds of
// thousands of rows per second, and nothing shows "rows/hr".
func TestReindexProgressRate(t *testing.T) {
	tests := []struct {
		name    string
		reports []time.Duration // when each report arrives after the bar's creation
		done    []int64
		total   int64
		want    string
		notWant []string
	}{
		{"first page after 10 s", []time.Duration{10 * time.Second}, []int64{5000}, 10000, "500 rows/s, 10s left", []string{"rows/hr", "rows/min"}},
		{"two pages", []time.Duration{10 * time.Second, 20 * time.Second}, []int64{5000, 10000}, 20000, "500 rows/s, 20s left", nil},
		{"too early to tell", []time.Duration{100 * time.Millisecond}, []int64{5000}, 10000, "… rows/s", []string{"50000 rows/s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
			now := t0
			p := newBar(&out, false, "posts")
			p.now = func() time.Time { return now }
			p.start, p.last = t0, t0
			for i, at := range tt.reports {
				now = t0.Add(at)
				p.update("load", tt.done[i], tt.total)
			}
			got := out.String()
			if !strings.Contains(got, tt.want) {
				t.Errorf("progress output %q lacks %q", got, tt.want)
			}
			for _, nw := range tt.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("progress output %q has %q", got, nw)
				}
			}
		})
	}
}

func TestRateText(t *testing.T) {
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 100, time.Minute, "… rows/s"},
		{451, 451, time.Second, "451 rows/s"},
		{900, 1800, 2 * time.Second, "450 rows/s, 2s left"},
	}
	for _, tt := range tests {
		if got := rateText(tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("rateText(%d, %d, %s) = %q, want %q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}
