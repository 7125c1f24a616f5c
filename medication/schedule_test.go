package medication

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestOccurrences(t *testing.T) {
	seoul := mustLoc(t, "Asia/Seoul")
	ny := mustLoc(t, "America/New_York")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		rule     Rule
		from, to string
		want     []string // UTC instants
	}{
		{
			// 08:00 and 20:00 KST = 23:00 (previous day) and 11:00 UTC.
			name: "seoul twice daily",
			rule: Rule{Times: []Clock{{8, 0}, {20, 0}}, Weekdays: AllWeekdays, Loc: seoul},
			from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z",
			want: []string{"2024-03-01T11:00:00Z", "2024-03-01T23:00:00Z"},
		},
		{
			// 2024-03-04 is a Monday; Mon/Wed only at 09:00 KST = 00:00 UTC.
			name: "weekdays",
			rule: Rule{Times: []Clock{{9, 0}}, Weekdays: 1<<time.Monday | 1<<time.Wednesday, Loc: seoul},
			from: "2024-03-03T00:00:00Z", to: "2024-03-08T00:00:00Z",
			want: []string{"2024-03-04T00:00:00Z", "2024-03-06T00:00:00Z"},
		},
		{
			// Spring forward in New York 2024-03-10: 02:00 EST → 03:00 EDT. 02:30 does not
			// exist; it is due once, at 07:30 UTC (= 03:30 EDT). 08:00 EDT = 12:00 UTC.
			name: "dst gap",
			rule: Rule{Times: []Clock{{2, 30}, {8, 0}}, Weekdays: AllWeekdays, Loc: ny},
			from: "2024-03-10T05:00:00Z", to: "2024-03-11T04:00:00Z",
			want: []string{"2024-03-10T07:30:00Z", "2024-03-10T12:00:00Z"},
		},
		{
			// Fall back 2024-11-03: 01:30 happens twice (05:30 and 06:30 UTC); due once.
			name: "dst overlap",
			rule: Rule{Times: []Clock{{1, 30}}, Weekdays: AllWeekdays, Loc: ny},
			from: "2024-11-03T04:00:00Z", to: "2024-11-04T05:00:00Z",
			want: []string{"2024-11-03T05:30:00Z"},
		},
		{
			// 02:30 and 03:30 on the spring-forward day normalize to the same instant: one dose.
			name: "dst gap collision",
			rule: Rule{Times: []Clock{{2, 30}, {3, 30}}, Weekdays: AllWeekdays, Loc: ny},
			from: "2024-03-10T05:00:00Z", to: "2024-03-10T12:00:00Z",
			want: []string{"2024-03-10T07:30:00Z"},
		},
		{
			// Active from 2024-03-01 12:00 UTC: the 11:00 UTC dose of that day is not due.
			name: "active from",
			rule: Rule{Times: []Clock{{8, 0}, {20, 0}}, Weekdays: AllWeekdays, Loc: seoul, ActiveFrom: utc("2024-03-01T12:00:00Z")},
			from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z",
			want: []string{"2024-03-01T23:00:00Z"},
		},
		{
			name: "active to",
			rule: Rule{Times: []Clock{{8, 0}, {20, 0}}, Weekdays: AllWeekdays, Loc: seoul, ActiveTo: utc("2024-03-01T12:00:00Z")},
			from: "2024-03-01T00:00:00Z", to: "2024-03-02T00:00:00Z",
			want: []string{"2024-03-01T11:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rule.Occurrences(utc(tt.from), utc(tt.to))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if !got[i].Equal(utc(tt.want[i])) {
					t.Errorf("[%d] = %s, want %s", i, got[i].UTC(), tt.want[i])
				}
			}
			for _, o := range got {
				if !tt.rule.IsOccurrence(o) {
					t.Errorf("IsOccurrence(%s) = false", o)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	if _, err := ParseClock("24:00"); err == nil {
		t.Error("24:00 accepted")
	}
	for _, bad := range []string{"8:00", "+1:30", "-0:00", "08:+5", " 8:00", "0x:10"} {
		if _, err := ParseClock(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	cs, err := ParseTimes("20:00,08:00,08:00")
	if err != nil || FormatTimes(SortClocks(cs)) != "08:00,20:00" {
		t.Errorf("ParseTimes = %v %v", cs, err)
	}
	bits, err := WeekdayBits([]string{"mon", "sun"})
	if err != nil || bits != 0b11 || len(WeekdayNames(bits)) != 2 {
		t.Errorf("WeekdayBits = %b %v", bits, err)
	}
	for _, bad := range []string{"mo", "MON", "Sun"} {
		if _, err := WeekdayBits([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestTwoDecimals(t *testing.T) {
	cases := []struct {
		dose float64
		ok   bool
	}{
		{1, true}, {1.5, true}, {1.12, true}, {2.26, true}, {1292.12, true}, {160.05, true}, {0.01, true},
		{1.125, false}, {0.001, false}, {3.14159, false},
	}
	for _, tc := range cases {
		if got := twoDecimals(tc.dose); got != tc.ok {
			t.Errorf("twoDecimals(%v) = %v, want %v", tc.dose, got, tc.ok)
		}
	}
}
