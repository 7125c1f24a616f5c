package records

import "errors"

// Symptom severity scale: 0 none, 1 mild, 2 moderate, 3 severe (a 0–3
// scale like the symptom diaries of asthma trials; 0 is a symptom-free entry).
const (
	SeverityNone   = 0
	SeverityMax    = 3
	MaxPEF         = 1000 // L/min; no adult blows more than ~900
	MinPersonalPEF = 50
)

// Zones of the asthma action plan.
const (
	ZoneGreen  = "green"  // ≥ 80 % of personal best
	ZoneYellow = "yellow" // 50–79 %
	ZoneRed    = "red"    // < 50 %
)

// PercentOfBest is value as a whole percentage of personal best, rounded
// down, so a reading is never rounded up into a better zone (399 of 500 is
// 79 %, yellow). ok is false without a personal best.
func PercentOfBest(value, best int) (pct int, ok bool) {
	if best <= 0 || value < 0 {
		return 0, false
	}
	return value * 100 / best, true
}

// ZoneOf maps a percentage of personal best onto the action plan's zones.
func ZoneOf(pct int) string {
	switch {
	case pct >= 80:
		return ZoneGreen
	case pct >= 50:
		return ZoneYellow
	default:
		return ZoneRed
	}
}

// ZoneRank orders zones from best to worst (unknown zones rank 0).
func ZoneRank(z string) int {
	switch z {
	case ZoneGreen:
		return 1
	case ZoneYellow:
		return 2
	case ZoneRed:
		return 3
	}
	return 0
}

// ACT control levels.
const (
	ACTWell       = "well_controlled"        // 20–25
	ACTNotWell    = "not_well_controlled"    // 16–19
	ACTVeryPoorly = "very_poorly_controlled" // 5–15
)

// ErrACTAnswer is returned for an answer outside 1–5.
var ErrACTAnswer = errors.New("records: an ACT answer is outside 1-5")

// ACTTotal sums the five answers (each 1–5) into 5–25.
func ACTTotal(answers [5]int) (int, error) {
	total := 0
	for _, a := range answers {
		if a < 1 || a > 5 {
			return 0, ErrACTAnswer
		}
		total += a
	}
	return total, nil
}

// ACTControl classifies an ACT total: ≥ 20 well controlled, 16–19 not well
// controlled, ≤ 15 very poorly controlled.
func ACTControl(total int) string {
	switch {
	case total >= 20:
		return ACTWell
	case total >= 16:
		return ACTNotWell
	default:
		return ACTVeryPoorly
	}
}
