package report

import (
	"fmt"
	"testing"
)

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
		name string
		in   GINAInput
		want GINAResult // every answer, the score and the level
	}{
		// 8 symptom days in 28 = exactly 2/week: not "more than twice".
		{"edge not over", GINAInput{Days: 28, SymptomDays: 8, RelieverDays: 8}, GINAResult{Level: GINAWell}},
		// 9 of 28 = 2.25/week: yes. Reliever 3 days: no. → 1: partly.
		{"symptoms only", GINAInput{Days: 28, SymptomDays: 9, RelieverDays: 3},
			GINAResult{DaytimeSymptomsOver2PerWeek: true, Score: 1, Level: GINAPartly}},
		// reliever 9 of 28: yes; symptoms 3: no. → 1: partly.
		{"reliever only", GINAInput{Days: 28, SymptomDays: 3, RelieverDays: 9},
			GINAResult{RelieverOver2PerWeek: true, Score: 1, Level: GINAPartly}},
		// night waking + activity limitation: 2 → partly.
		{"night and activity", GINAInput{Days: 28, NightWaking: true, ActivityLimitation: true},
			GINAResult{NightWaking: true, ActivityLimitation: true, Score: 2, Level: GINAPartly}},
		// symptoms 12/28, reliever 10/28, night waking: 3 → uncontrolled.
		{"three", GINAInput{Days: 28, SymptomDays: 12, RelieverDays: 10, NightWaking: true},
			GINAResult{DaytimeSymptomsOver2PerWeek: true, NightWaking: true, RelieverOver2PerWeek: true, Score: 3, Level: GINAUncontrolled}},
		{"all four", GINAInput{Days: 28, SymptomDays: 20, RelieverDays: 20, NightWaking: true, ActivityLimitation: true},
			GINAResult{DaytimeSymptomsOver2PerWeek: true, NightWaking: true, RelieverOver2PerWeek: true, ActivityLimitation: true, Score: 4, Level: GINAUncontrolled}},
		// a 14-day window: 5 days = 2.5/week → yes.
		{"short window", GINAInput{Days: 14, SymptomDays: 5}, GINAResult{DaytimeSymptomsOver2PerWeek: true, Score: 1, Level: GINAPartly}},
		// no days: no rate can be over anything.
		{"empty window", GINAInput{SymptomDays: 3, RelieverDays: 3}, GINAResult{Level: GINAWell}},
	}
	for _, tt := range tests {
		if got := GINAControl(tt.in); got != tt.want {
			t.Errorf("%s: GINAControl = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestACTTrend(t *testing.T) {
	change := func(d int) *int { return &d }
	tests := []struct {
		name string
		in   []ACTPoint
		want []TrendPoint // the whole output: its length and every field of every point
	}{
		{
			// 18 → 21 (+3 flagged) → 20 (-1) → 15 (-5 flagged)
			name: "four results",
			in:   []ACTPoint{{"2024-01-01", 18}, {"2024-02-01", 21}, {"2024-03-01", 20}, {"2024-04-01", 15}},
			want: []TrendPoint{
				{ACTPoint: ACTPoint{"2024-01-01", 18}, Control: "not_well_controlled"},
				{ACTPoint: ACTPoint{"2024-02-01", 21}, Control: "well_controlled", Change: change(3), Flagged: true},
				{ACTPoint: ACTPoint{"2024-03-01", 20}, Control: "well_controlled", Change: change(-1)},
				{ACTPoint: ACTPoint{"2024-04-01", 15}, Control: "very_poorly_controlled", Change: change(-5), Flagged: true},
			},
		},
		{
			// ±2 is under the minimal important difference, -3 reaches it.
			name: "flag edges",
			in:   []ACTPoint{{"2024-01-01", 16}, {"2024-02-01", 18}, {"2024-03-01", 16}, {"2024-04-01", 13}},
			want: []TrendPoint{
				{ACTPoint: ACTPoint{"2024-01-01", 16}, Control: "not_well_controlled"},
				{ACTPoint: ACTPoint{"2024-02-01", 18}, Control: "not_well_controlled", Change: change(2)},
				{ACTPoint: ACTPoint{"2024-03-01", 16}, Control: "not_well_controlled", Change: change(-2)},
				{ACTPoint: ACTPoint{"2024-04-01", 13}, Control: "very_poorly_controlled", Change: change(-3), Flagged: true},
			},
		},
		{
			name: "one result has no change",
			in:   []ACTPoint{{"2024-01-01", 25}},
			want: []TrendPoint{{ACTPoint: ACTPoint{"2024-01-01", 25}, Control: "well_controlled"}},
		},
		{name: "no results", in: nil, want: []TrendPoint{}},
	}
	for _, tt := range tests {
		got := ACTTrend(tt.in)
		if got == nil {
			t.Errorf("%s: ACTTrend returned nil; act.trend is a required array in the report (null is not [])", tt.name)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: ACTTrend returned %d points, want %d: %+v", tt.name, len(got), len(tt.want), got)
			continue
		}
		for i := range tt.want {
			if !sameTrendPoint(got[i], tt.want[i]) {
				t.Errorf("%s: [%d] = %s, want %s", tt.name, i, trendString(got[i]), trendString(tt.want[i]))
			}
		}
	}
}

func sameTrendPoint(a, b TrendPoint) bool {
	sameChange := (a.Change == nil) == (b.Change == nil) && (a.Change == nil || *a.Change == *b.Change)
	return sameChange && a.ACTPoint == b.ACTPoint && a.Control == b.Control && a.Flagged == b.Flagged
}

func trendString(p TrendPoint) string {
	change := "nil"
	if p.Change != nil {
		change = fmt.Sprint(*p.Change)
	}
	return fmt.Sprintf("{%s %d %s change %s flagged %v}", p.Date, p.Total, p.Control, change, p.Flagged)
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

func TestShares(t *testing.T) {
	tests := []struct {
		zones []string
		want  ZoneShare // every share and the count
	}{
		// 6 green, 3 yellow, 1 red of 10 → 60/30/10.
		{[]string{"green", "green", "green", "green", "green", "green", "yellow", "yellow", "yellow", "red"},
			ZoneShare{Readings: 10, Green: 60, Yellow: 30, Red: 10}},
		// 2 green, 1 without a personal best of 3: 66.67 → 66.7, 33.33 → 33.3
		{[]string{"green", "green", ""}, ZoneShare{Readings: 3, Green: 66.7, Unknown: 33.3}},
		// 1 of each of 4 (an unknown zone name counts as unknown): 25 each
		{[]string{"red", "yellow", "green", "purple"}, ZoneShare{Readings: 4, Green: 25, Yellow: 25, Red: 25, Unknown: 25}},
		{nil, ZoneShare{}},
	}
	for _, tt := range tests {
		if got := Shares(tt.zones); got != tt.want {
			t.Errorf("Shares(%v) = %+v, want %+v", tt.zones, got, tt.want)
		}
	}
}

func TestPerWeek(t *testing.T) {
	tests := []struct {
		count, days int
		want        float64
	}{
		{6, 28, 1.5}, // 6*7/28
		{5, 30, 1.2}, // 35/30 = 1.1667 → 1.2
		{3, 7, 3},
		{4, 0, 0}, // no window
		{4, -7, 0},
	}
	for _, tt := range tests {
		if got := PerWeek(tt.count, tt.days); got != tt.want {
			t.Errorf("PerWeek(%d, %d) = %v, want %v", tt.count, tt.days, got, tt.want)
		}
	}
}

func ptr(f float64) *float64 { return &f }
func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
