package medication

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Weekday names in the API, index = time.Weekday.
var weekdayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// AllWeekdays is the bit set of every day.
const AllWeekdays uint8 = 0x7f

// Rule is the pure part of a schedule: local times of day on some weekdays in
// a time zone, active from an instant (doses before it are never due) until
// an optional instant (a deleted schedule).
type Rule struct {
	Times      []Clock // sorted, distinct
	Weekdays   uint8   // bit i set = time.Weekday(i)
	Loc        *time.Location
	ActiveFrom time.Time
	ActiveTo   time.Time // zero: no end
}

// Clock is a local time of day.
type Clock struct{ Hour, Minute int }

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", c.Hour, c.Minute) }

// ParseClock parses HH:MM (00:00–23:59), two digits each: no signs, no spaces.
func ParseClock(s string) (Clock, error) {
	if len(s) != 5 || s[2] != ':' || !digits(s[:2]) || !digits(s[3:]) {
		return Clock{}, fmt.Errorf("medication: %q is not HH:MM", s)
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return Clock{}, fmt.Errorf("medication: %q is not a time of day HH:MM", s)
	}
	return Clock{h, m}, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseTimes parses the stored form "08:00,20:00".
func ParseTimes(s string) ([]Clock, error) {
	var out []Clock
	for _, p := range strings.Split(s, ",") {
		c, err := ParseClock(strings.TrimSpace(p))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// FormatTimes is the stored form of sorted clocks.
func FormatTimes(cs []Clock) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ",")
}

// SortClocks sorts and removes duplicates.
func SortClocks(cs []Clock) []Clock {
	slices.SortFunc(cs, func(a, b Clock) int { return (a.Hour*60 + a.Minute) - (b.Hour*60 + b.Minute) })
	return slices.Compact(cs)
}

// WeekdayBits parses weekday names ("mon", …, lower case as the API
// documents them) into a bit set.
func WeekdayBits(names []string) (uint8, error) {
	var bits uint8
	for _, n := range names {
		i := slices.Index(weekdayNames[:], n)
		if i < 0 {
			return 0, fmt.Errorf("medication: %q is not a weekday (sun..sat)", n)
		}
		bits |= 1 << i
	}
	return bits, nil
}

// WeekdayNames lists the days of a bit set, Sunday first.
func WeekdayNames(bits uint8) []string {
	out := []string{}
	for i, n := range weekdayNames {
		if bits&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Occurrences returns the due instants of r in [from, to), ascending.
//
// Each (local date, time of day) is one dose, so a dose is due exactly once
// even across daylight-saving changes: a local time that does not exist
// (02:30 on a spring-forward day) is due with the offset before the gap
// (03:30 local), a local time that exists twice (01:30 on a fall-back
// day) is due once, at the first of them. Two times that normalize to the
// same instant are one dose.
func (r Rule) Occurrences(from, to time.Time) []time.Time {
	if r.Loc == nil || !to.After(from) {
		return nil
	}
	if from.Before(r.ActiveFrom) {
		from = r.ActiveFrom
	}
	if !r.ActiveTo.IsZero() && to.After(r.ActiveTo) {
		to = r.ActiveTo
	}
	if !to.After(from) {
		return nil
	}
	var out []time.Time
	// Local dates from the day before from to the day after to: a normalized
	// time can move across midnight.
	start := from.In(r.Loc)
	end := to.In(r.Loc)
	y, m, d := start.Date()
	day := time.Date(y, m, d-1, 12, 0, 0, 0, r.Loc)
	ey, em, ed := end.Date()
	last := time.Date(ey, em, ed+1, 12, 0, 0, 0, r.Loc)
	for ; !day.After(last); day = day.AddDate(0, 0, 1) {
		if r.Weekdays&(1<<day.Weekday()) == 0 {
			continue
		}
		dy, dm, dd := day.Date()
		for _, c := range r.Times {
			t := localTime(dy, dm, dd, c, r.Loc)
			if t.Before(from) || !t.Before(to) {
				continue
			}
			if n := len(out); n > 0 && !out[n-1].Before(t) {
				if out[n-1].Equal(t) {
					continue
				}
				// normalization moved a time before the previous one: keep order
				out = append(out, t)
				slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
				out = slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
				continue
			}
			out = append(out, t)
		}
	}
	return out
}

// localTime is the instant of a local date and time. A local time inside a
// daylight-saving gap is read with the offset in effect before the gap, so
// 02:30 on New York's spring-forward day is 03:30 EDT (later, never earlier:
// a dose reminder must not fire before the time the user chose).
func localTime(y int, m time.Month, d int, c Clock, loc *time.Location) time.Time {
	t := time.Date(y, m, d, c.Hour, c.Minute, 0, 0, loc)
	if t.Hour() == c.Hour && t.Minute() == c.Minute {
		return t
	}
	wall := time.Date(y, m, d, c.Hour, c.Minute, 0, 0, time.UTC)
	_, before := wall.Add(-24 * time.Hour).In(loc).Zone()
	return wall.Add(-time.Duration(before) * time.Second).In(loc)
}

// IsOccurrence reports whether t is a due instant of r.
func (r Rule) IsOccurrence(t time.Time) bool {
	for _, o := range r.Occurrences(t.Add(-time.Minute), t.Add(time.Minute)) {
		if o.Equal(t) {
			return true
		}
	}
	return false
}
