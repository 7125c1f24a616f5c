package report

import (
	"testing"
	"time"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/web"
)

var seoul, _ = time.LoadLocation("Asia/Seoul")

// testPeriod is the period from..to (dates, inclusive) and its GINA window.
func testPeriod(from, to string) period {
	f, _ := time.ParseInLocation(time.DateOnly, from, seoul)
	t, _ := time.ParseInLocation(time.DateOnly, to, seoul)
	return period{loc: seoul, from: f, to: t, ginaFrom: t.AddDate(0, 0, -27)}
}

// testDays are the loaded days of p (from the earlier of from and ginaFrom),
// changed by edit (keyed by date).
func testDays(p period, edit map[string]func(*day)) []day {
	first := p.from
	if p.ginaFrom.Before(first) {
		first = p.ginaFrom
	}
	s := newSpan(seoul, first, days(first, p.to))
	for i := range s.days {
		if f := edit[s.days[i].date]; f != nil {
			f(&s.days[i])
		}
	}
	return s.days
}

func TestAggregate(t *testing.T) {
	week := testPeriod("2024-03-09", "2024-03-15") // 7 days; GINA window from 2024-02-17
	month := testPeriod("2024-02-17", "2024-03-15")
	tests := []struct {
		name  string
		p     period
		edit  map[string]func(*day)
		acts  []ACTPoint
		evs   []records.HealthEvent
		check func(t *testing.T, r Report)
	}{
		{"nothing recorded", month, nil, nil, nil, func(t *testing.T, r Report) {
			if r.Days != 28 || r.SymptomFreeDays != 28 || r.RelieverDays != 0 || r.AdherencePct != nil || r.GINA.Level != GINAWell {
				t.Errorf("%+v", r)
			}
			if r.Variability.Days == nil || len(r.Variability.Days) != 0 || r.Variability.MeanPct != nil || r.Exacerbations.Events == nil || r.ACT.Trend == nil {
				t.Errorf("empty lists must be [] not null: %+v", r)
			}
			if r.From != "2024-02-17" || r.To != "2024-03-15" || r.GINAFrom != "2024-02-17" || r.TimeZone != "Asia/Seoul" {
				t.Errorf("period %s..%s gina %s zone %s", r.From, r.To, r.GINAFrom, r.TimeZone)
			}
		}},
		{"days before from count only for GINA", week, map[string]func(*day){
			"2024-02-20": func(d *day) { d.symptomatic, d.relieverUses, d.nightWaking = true, 2, true },
			"2024-03-10": func(d *day) { d.symptomatic = true },
		}, nil, nil, func(t *testing.T, r Report) {
			if r.Days != 7 || r.SymptomFreeDays != 6 || r.NightWakingDays != 0 || r.RelieverDays != 0 {
				t.Errorf("period figures %+v", r)
			}
			if !r.GINA.NightWaking || r.GINA.Score != 1 || r.GINA.Level != GINAPartly {
				t.Errorf("GINA %+v", r.GINA)
			}
		}},
		{"reliever, adherence, zones and variability", week, map[string]func(*day){
			"2024-03-11": func(d *day) {
				d.relieverUses, d.controllerDue, d.controllerTaken = 1, 2, 1
				d.addPEF(400, records.ZoneRank(records.ZoneGreen))
				d.addPEF(300, records.ZoneRank(records.ZoneYellow))
			},
			"2024-03-12": func(d *day) { d.controllerDue, d.controllerTaken = 2, 3 },
		}, nil, nil, func(t *testing.T, r Report) {
			if r.RelieverDays != 1 || r.RelieverDaysPerWeek != 1 || r.SymptomFreeDays != 6 {
				t.Errorf("reliever %+v", r)
			}
			// Taken doses count up to the day's due ones: (1 + 2) / 4.
			if r.ControllerDue != 4 || r.ControllerTaken != 4 || r.AdherencePct == nil || *r.AdherencePct != 75 {
				t.Errorf("adherence due %d taken %d pct %v", r.ControllerDue, r.ControllerTaken, r.AdherencePct)
			}
			if len(r.Variability.Days) != 1 || r.Variability.Days[0].Date != "2024-03-11" || !r.Variability.Days[0].Flagged || !r.Variability.MeanFlagged {
				t.Errorf("variability %+v", r.Variability)
			}
			if r.PEFZones.Readings != 2 {
				t.Errorf("zones %+v", r.PEFZones)
			}
		}},
		{"ACT trend and exacerbations", week, nil,
			[]ACTPoint{{Date: "2024-03-09", Total: 15}, {Date: "2024-03-14", Total: 20}},
			[]records.HealthEvent{{ID: 1, Kind: records.EventERVisit}, {ID: 2, Kind: records.EventOralSteroid}, {ID: 3, Kind: records.EventOralSteroid}},
			func(t *testing.T, r Report) {
				if len(r.ACT.Trend) != 2 || r.ACT.Trend[1].Total != 20 {
					t.Errorf("trend %+v", r.ACT.Trend)
				}
				x := r.Exacerbations
				if x.ERVisits != 1 || x.Admissions != 0 || x.OralSteroids != 2 || len(x.Events) != 3 {
					t.Errorf("exacerbations %+v", x)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, aggregate(tt.p, "Asia/Seoul", reportRows{days: testDays(tt.p, tt.edit), acts: tt.acts, events: tt.evs}))
		})
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2024, 3, 15, 3, 0, 0, 0, time.UTC) // 12:00 in Seoul
	tests := []struct {
		from, to         string
		wantFrom, wantTo string
		code             string
	}{
		{"", "", "2024-02-17", "2024-03-15", ""},
		{"2024-03-01", "", "2024-03-01", "2024-03-15", ""},
		{"", "2024-01-31", "2024-01-04", "2024-01-31", ""},
		{"2024-03-15", "2024-03-15", "2024-03-15", "2024-03-15", ""},
		{"2023-03-15", "2024-03-14", "2023-03-15", "2024-03-14", ""}, // 366 days
		{"2023-03-14", "2024-03-14", "", "", care.CodeOutOfRange},    // 367 days
		{"2024-03-16", "2024-03-15", "", "", care.CodeOutOfRange},
		{"1999-12-31", "", "", "", care.CodeOutOfRange},
		{"2024-03-01T00:00:00+09:00", "", "", "", care.CodeInvalidDate},
		{"x", "1999-01-01", "", "", web.CodeValidationFailed},
	}
	for _, tt := range tests {
		p, err := parsePeriod(tt.from, tt.to, seoul, now)
		if tt.code != "" {
			if e, ok := err.(*web.Error); !ok || e.Code != tt.code {
				t.Errorf("%q..%q: %v, want %s", tt.from, tt.to, err, tt.code)
			}
			continue
		}
		if err != nil || p.from.Format(time.DateOnly) != tt.wantFrom || p.to.Format(time.DateOnly) != tt.wantTo {
			t.Errorf("%q..%q: %s..%s %v, want %s..%s", tt.from, tt.to, p.from, p.to, err, tt.wantFrom, tt.wantTo)
		}
		if p.from.Location() != seoul || p.to.Hour() != 0 {
			t.Errorf("%q..%q: not local midnights: %s..%s", tt.from, tt.to, p.from, p.to)
		}
	}
}
