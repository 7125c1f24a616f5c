package report

import "testing"

// Every expected value below was computed by hand; the comment shows how.
func TestVariability(t *testing.T) {
	tests := []struct {
		values []int
		want   float64
		ok     bool
	}{
		{[]int{400, 450}, 11.8, true},           // (450-400)/425*100 = 11.76 → 11.8
		{[]int{500, 500}, 0, true},              // no spread
		{[]int{380, 420, 400}, 10, true},        // (420-380)/400*100 = 10.0
		{[]int{300, 360, 330, 330}, 18.2, true}, // mean 330, 60/330*100 = 18.18 → 18.2
		{[]int{400}, 0, false},                  // one reading: undefined
		{nil, 0, false},
	}
	for _, tt := range tests {
		got, ok := Variability(tt.values)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Variability(%v) = %v, %v; want %v, %v", tt.values, got, ok, tt.want, tt.ok)
		}
	}
	if m := MeanVariability([]float64{11.8, 10, 18.2}); m == nil || *m != 13.3 { // 40/3 = 13.33 → 13.3
		t.Errorf("MeanVariability = %v, want 13.3", m)
	}
	if MeanVariability(nil) != nil {
		t.Error("MeanVariability(nil) != nil")
	}
}

func TestGINAControl(t *testing.T) {
	tests := []struct {
		name  string
		in    GINAInput
		score int
		level string
	}{
		// 8 symptom days in 28 = exactly 2/week: not "more than twice".
		{"edge not over", GINAInput{Days: 28, SymptomDays: 8, RelieverDays: 8}, 0, GINAWell},
		// 9 of 28 = 2.25/week: yes. Reliever 3 days: no. → 1: partly.
		{"symptoms only", GINAInput{Days: 28, SymptomDays: 9, RelieverDays: 3}, 1, GINAPartly},
		// night waking + activity limitation: 2 → partly.
		{"night and activity", GINAInput{Days: 28, NightWaking: true, ActivityLimitation: true}, 2, GINAPartly},
		// symptoms 12/28, reliever 10/28, night waking: 3 → uncontrolled.
		{"three", GINAInput{Days: 28, SymptomDays: 12, RelieverDays: 10, NightWaking: true}, 3, GINAUncontrolled},
		{"all four", GINAInput{Days: 28, SymptomDays: 20, RelieverDays: 20, NightWaking: true, ActivityLimitation: true}, 4, GINAUncontrolled},
		// a 14-day window: 5 days = 2.5/week → yes.
		{"short window", GINAInput{Days: 14, SymptomDays: 5}, 1, GINAPartly},
	}
	for _, tt := range tests {
		r := GINAControl(tt.in)
		if r.Score != tt.score || r.Level != tt.level {
			t.Errorf("%s: GINAControl = %d %s, want %d %s", tt.name, r.Score, r.Level, tt.score, tt.level)
		}
	}
}

func TestACTTrend(t *testing.T) {
	// 18 → 21 (+3 flagged) → 20 (-1) → 15 (-5 flagged)
	got := ACTTrend([]ACTPoint{{"2024-01-01", 18}, {"2024-02-01", 21}, {"2024-03-01", 20}, {"2024-04-01", 15}})
	wantChange := []int{0, 3, -1, -5}
	wantFlag := []bool{false, true, false, true}
	wantControl := []string{"not_well_controlled", "well_controlled", "well_controlled", "very_poorly_controlled"}
	for i, p := range got {
		if i == 0 && p.Change != nil || i > 0 && (p.Change == nil || *p.Change != wantChange[i]) {
			t.Errorf("[%d] change = %v, want %d", i, p.Change, wantChange[i])
		}
		if p.Flagged != wantFlag[i] || p.Control != wantControl[i] {
			t.Errorf("[%d] = %+v, want flagged %v control %s", i, p, wantFlag[i], wantControl[i])
		}
	}
}

func TestAdherence(t *testing.T) {
	tests := []struct {
		taken, due []int
		want       *float64
	}{
		// 2+1+2 taken of 2+2+2 due = 5/6 = 83.33 → 83.3
		{[]int{2, 1, 2}, []int{2, 2, 2}, ptr(83.3)},
		// 3 taken on a 2-dose day counts 2; the missed day stays missed: (2+0)/4 = 50
		{[]int{3, 0}, []int{2, 2}, ptr(50)},
		{[]int{1}, []int{0}, nil}, // nothing due
	}
	for _, tt := range tests {
		got := Adherence(tt.taken, tt.due)
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("Adherence(%v, %v) = %v, want %v", tt.taken, tt.due, deref(got), deref(tt.want))
		}
	}
}

func TestSharesAndRates(t *testing.T) {
	// 6 green, 3 yellow, 1 red of 10 → 60/30/10.
	z := []string{"green", "green", "green", "green", "green", "green", "yellow", "yellow", "yellow", "red"}
	s := Shares(z)
	if s.Green != 60 || s.Yellow != 30 || s.Red != 10 || s.Unknown != 0 || s.Readings != 10 {
		t.Errorf("Shares = %+v", s)
	}
	// 1 green, 1 unknown of 3 … 2 green 1 unknown: 66.7 / 33.3
	s = Shares([]string{"green", "green", ""})
	if s.Green != 66.7 || s.Unknown != 33.3 {
		t.Errorf("Shares = %+v", s)
	}
	if got := PerWeek(6, 28); got != 1.5 { // 6*7/28
		t.Errorf("PerWeek = %v", got)
	}
	if got := PerWeek(5, 30); got != 1.2 { // 35/30 = 1.1667 → 1.2
		t.Errorf("PerWeek = %v", got)
	}
}

func ptr(f float64) *float64 { return &f }
func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
