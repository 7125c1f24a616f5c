package report

import (
	"math"

	"github.com/soomcare/soomcare/records"
)

// Pure formulas of the calendar and the reports; formulas_test.go holds
// worked examples computed by hand.

// Variability is the diurnal PEF variability of one day:
// (max − min) / mean × 100, defined for ≥ 2 readings (ok false otherwise).
func Variability(values []int) (pct float64, ok bool) {
	if len(values) < 2 {
		return 0, false
	}
	lo, hi, sum := values[0], values[0], 0
	for _, v := range values {
		lo, hi, sum = min(lo, v), max(hi, v), sum+v
	}
	return variability(lo, hi, sum, len(values))
}

// variability is Variability of n readings given their min, max and sum.
func variability(lo, hi, sum, n int) (pct float64, ok bool) {
	if n < 2 {
		return 0, false
	}
	mean := float64(sum) / float64(n)
	if mean <= 0 {
		return 0, false
	}
	return round1(float64(hi-lo) / mean * 100), true
}

// VariabilityFlag is the threshold above which diurnal variability is
// flagged (GINA: > 10 % in adults suggests variable airflow limitation).
const VariabilityFlag = 10.0

// MeanVariability averages the days' variabilities (nil without any day).
func MeanVariability(days []float64) *float64 {
	if len(days) == 0 {
		return nil
	}
	s := 0.0
	for _, d := range days {
		s += d
	}
	m := round1(s / float64(len(days)))
	return &m
}

// GINAInput is the last four weeks as the four GINA questions need them.
type GINAInput struct {
	Days               int // days in the window (28)
	SymptomDays        int // days with a symptom record of severity ≥ 1
	RelieverDays       int // days with at least one reliever intake
	NightWaking        bool
	ActivityLimitation bool
}

// GINA symptom control levels.
const (
	GINAWell         = "well_controlled"
	GINAPartly       = "partly_controlled"
	GINAUncontrolled = "uncontrolled"
)

// GINAResult answers the four questions and the level.
type GINAResult struct {
	DaytimeSymptomsOver2PerWeek bool   `json:"daytime_symptoms_over_2_per_week"`
	NightWaking                 bool   `json:"night_waking"`
	RelieverOver2PerWeek        bool   `json:"reliever_over_2_per_week"`
	ActivityLimitation          bool   `json:"activity_limitation"`
	Score                       int    `json:"score"`
	Level                       string `json:"level"`
}

// GINAControl scores GINA symptom control: "more than twice a week" is more
// than 2 days per 7 on average over the window (> 8 of 28 days); 0 yes
// answers well controlled, 1–2 partly controlled, 3–4 uncontrolled.
func GINAControl(in GINAInput) GINAResult {
	r := GINAResult{
		DaytimeSymptomsOver2PerWeek: in.Days > 0 && in.SymptomDays*7 > 2*in.Days,
		NightWaking:                 in.NightWaking,
		RelieverOver2PerWeek:        in.Days > 0 && in.RelieverDays*7 > 2*in.Days,
		ActivityLimitation:          in.ActivityLimitation,
	}
	for _, yes := range []bool{r.DaytimeSymptomsOver2PerWeek, r.NightWaking, r.RelieverOver2PerWeek, r.ActivityLimitation} {
		if yes {
			r.Score++
		}
	}
	switch {
	case r.Score == 0:
		r.Level = GINAWell
	case r.Score <= 2:
		r.Level = GINAPartly
	default:
		r.Level = GINAUncontrolled
	}
	return r
}

// ACTPoint is one ACT total in time order.
type ACTPoint struct {
	Date  string `json:"date"` // local date
	Total int    `json:"total"`
}

// TrendPoint is an ACT result with its change from the previous one.
type TrendPoint struct {
	ACTPoint
	Control string `json:"control"`
	Change  *int   `json:"change"`  // nil for the first
	Flagged bool   `json:"flagged"` // |change| ≥ 3: a clinically meaningful change
}

// ACTChangeFlag is the minimal important difference of the ACT.
const ACTChangeFlag = 3

// ACTTrend annotates ACT results (in time order) with their changes.
func ACTTrend(points []ACTPoint) []TrendPoint {
	out := make([]TrendPoint, len(points))
	for i, p := range points {
		out[i] = TrendPoint{ACTPoint: p, Control: records.ACTControl(p.Total)}
		if i > 0 {
			d := p.Total - points[i-1].Total
			out[i].Change = &d
			out[i].Flagged = d >= ACTChangeFlag || d <= -ACTChangeFlag
		}
	}
	return out
}

// Adherence is the controller adherence in percent: each day's taken doses
// count up to that day's due doses (an extra puff does not make up for a
// missed day). nil when nothing was due.
func Adherence(taken, due []int) *float64 {
	t, d := 0, 0
	for i := range due {
		d += due[i]
		t += min(taken[i], due[i])
	}
	if d == 0 {
		return nil
	}
	p := round1(float64(t) / float64(d) * 100)
	return &p
}

// ZoneShare is the share of PEF readings per zone, in percent of all
// readings (readings without a personal best are "unknown").
type ZoneShare struct {
	Readings int     `json:"readings"`
	Green    float64 `json:"green"`
	Yellow   float64 `json:"yellow"`
	Red      float64 `json:"red"`
	Unknown  float64 `json:"unknown"`
}

// Shares computes the zone shares of readings.
func Shares(zones []string) ZoneShare {
	var counts [4]int
	for _, z := range zones {
		counts[records.ZoneRank(z)]++
	}
	return shares(counts)
}

// shares computes the zone shares from the readings per records.ZoneRank
// (0: unknown, 1 green, 2 yellow, 3 red).
func shares(counts [4]int) ZoneShare {
	s := ZoneShare{Readings: counts[0] + counts[1] + counts[2] + counts[3]}
	if s.Readings == 0 {
		return s
	}
	n := float64(s.Readings)
	g, y, r, u := counts[1], counts[2], counts[3], counts[0]
	s.Green, s.Yellow, s.Red, s.Unknown = round1(float64(g)/n*100), round1(float64(y)/n*100), round1(float64(r)/n*100), round1(float64(u)/n*100)
	return s
}

// PerWeek scales a count over days to a weekly rate.
func PerWeek(count, days int) float64 {
	if days <= 0 {
		return 0
	}
	return round1(float64(count) * 7 / float64(days))
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
