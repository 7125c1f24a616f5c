package records

import "testing"

// Worked examples, computed by hand.
func TestPercentAndZone(t *testing.T) {
	tests := []struct {
		value, best int
		pct         int
		ok          bool
		zone        string
	}{
		{400, 500, 80, true, ZoneGreen},  // 400/500 = 0.80 exactly: green starts at 80
		{399, 500, 79, true, ZoneYellow}, // 79.8 → 79 (rounded down): yellow, never rounded up into green
		{500, 500, 100, true, ZoneGreen},
		{620, 500, 124, true, ZoneGreen}, // above personal best
		{250, 500, 50, true, ZoneYellow}, // 50 % is yellow
		{249, 500, 49, true, ZoneRed},    // 49.8 → 49: red
		{120, 450, 26, true, ZoneRed},    // 26.67 → 26
		{300, 0, 0, false, ""},           // no personal best: no zone
	}
	for _, tt := range tests {
		pct, ok := PercentOfBest(tt.value, tt.best)
		if pct != tt.pct || ok != tt.ok {
			t.Errorf("PercentOfBest(%d, %d) = %d, %v; want %d, %v", tt.value, tt.best, pct, ok, tt.pct, tt.ok)
		}
		if ok {
			if z := ZoneOf(pct); z != tt.zone {
				t.Errorf("ZoneOf(%d) = %s, want %s", pct, z, tt.zone)
			}
		}
	}
}

func TestACT(t *testing.T) {
	tests := []struct {
		answers [5]int
		total   int
		control string
		err     bool
	}{
		{[5]int{5, 5, 5, 5, 5}, 25, ACTWell, false},
		{[5]int{4, 4, 4, 4, 4}, 20, ACTWell, false},       // 20: the lower edge of well controlled
		{[5]int{4, 4, 4, 4, 3}, 19, ACTNotWell, false},    // 19
		{[5]int{4, 3, 3, 3, 3}, 16, ACTNotWell, false},    // 16: the lower edge of not well
		{[5]int{3, 3, 3, 3, 3}, 15, ACTVeryPoorly, false}, // 15
		{[5]int{1, 1, 1, 1, 1}, 5, ACTVeryPoorly, false},
		{[5]int{6, 5, 5, 5, 5}, 0, "", true}, // answer 6
		{[5]int{0, 5, 5, 5, 5}, 0, "", true}, // answer 0
	}
	for _, tt := range tests {
		total, err := ACTTotal(tt.answers)
		if (err != nil) != tt.err || total != tt.total {
			t.Errorf("ACTTotal(%v) = %d, %v; want %d, err %v", tt.answers, total, err, tt.total, tt.err)
			continue
		}
		if err == nil && ACTControl(total) != tt.control {
			t.Errorf("ACTControl(%d) = %s, want %s", total, ACTControl(total), tt.control)
		}
	}
}
