package report

import (
	"context"
	"database/sql"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/web"
)

// GET /v1/me/reports?from=&to=: parameters (parsePeriod), loaders (the
// days of the period and of the GINA window, ACT results, health events)
// and one pure aggregation (aggregate) with table tests.

// Report is the answer of GET /v1/me/reports.
type Report struct {
	From     string `json:"from"`
	To       string `json:"to"` // inclusive
	TimeZone string `json:"time_zone"`
	Days     int    `json:"days"`
	ACT      struct {
		Trend []TrendPoint `json:"trend"`
	} `json:"act"`
	GINA                GINAResult    `json:"gina"`
	GINAFrom            string        `json:"gina_from"`
	SymptomFreeDays     int           `json:"symptom_free_days"`
	NightWakingDays     int           `json:"night_waking_days"`
	RelieverDays        int           `json:"reliever_days"`
	RelieverDaysPerWeek float64       `json:"reliever_days_per_week"`
	ControllerDue       int           `json:"controller_due"`
	ControllerTaken     int           `json:"controller_taken"`
	AdherencePct        *float64      `json:"controller_adherence_pct"`
	PEFZones            ZoneShare     `json:"pef_zones"`
	Variability         VariabilityRp `json:"diurnal_variability"`
	Exacerbations       Exacerbations `json:"exacerbations"`
}

// VariabilityRp reports diurnal PEF variability.
type VariabilityRp struct {
	Days        []DayVariability `json:"days"`
	MeanPct     *float64         `json:"mean_pct"`
	MeanFlagged bool             `json:"mean_flagged"` // mean > 10 %
}

// DayVariability is one day with ≥ 2 readings.
type DayVariability struct {
	Date    string  `json:"date"`
	Pct     float64 `json:"pct"`
	Flagged bool    `json:"flagged"` // > 10 %
}

// Exacerbations lists the health events overlapping the period.
type Exacerbations struct {
	ERVisits     int                   `json:"er_visits"`
	Admissions   int                   `json:"admissions"`
	OralSteroids int                   `json:"oral_steroid_courses"`
	Events       []records.HealthEvent `json:"events"`
}

const maxReportDays = 366

// period is a report's days in loc: from..to inclusive (local midnights),
// and ginaFrom, the first day of the 4 weeks ending at to.
type period struct {
	loc                *time.Location
	from, to, ginaFrom time.Time
}

// parsePeriod reads from and to: local dates, to inclusive; by default the
// 28 days ending today; at most maxReportDays days, within the records'
// bounds (from 2000-01-01, starting before now + 1 day).
func parsePeriod(rawFrom, rawTo string, loc *time.Location, now time.Time) (period, error) {
	today := now.In(loc)
	tomorrow := time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, loc)
	rule := web.RangeRule{
		Zone:     loc,
		Earliest: web.EarliestRecord(loc), Horizon: web.LatestRecord(now),
		Until:       func() time.Time { return tomorrow },
		DefaultDays: 28, MaxDays: maxReportDays,
	}
	var v care.Checker
	r := rule.Parse(&v.Fields, rawFrom, rawTo)
	if err := v.Err(); err != nil {
		return period{}, err
	}
	to := r.To.In(loc).AddDate(0, 0, -1)
	return period{loc: loc, from: r.From.In(loc), to: to, ginaFrom: to.AddDate(0, 0, -27)}, nil
}

// reportRows is what the aggregation reads: the days from the earlier of
// from and ginaFrom to to, the period's ACT results and health events.
type reportRows struct {
	days   []day
	acts   []ACTPoint
	events []records.HealthEvent
}

func (a *API) report(c *gin.Context) (web.Answer, error) {
	ctx, uid, now := c.Request.Context(), care.UserID(c), a.Now()
	loc, tz, err := a.Zones.User(ctx, a.DB, uid)
	if err != nil {
		return web.Answer{}, err
	}
	p, err := parsePeriod(c.Query("from"), c.Query("to"), loc, now)
	if err != nil {
		return web.Answer{}, err
	}
	rows, err := a.loadReport(ctx, uid, p, now)
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(aggregate(p, tz, rows)), nil
}

// loadReport reads the rows of period p.
func (a *API) loadReport(ctx context.Context, uid uint64, p period, now time.Time) (reportRows, error) {
	first := p.from
	if p.ginaFrom.Before(first) {
		first = p.ginaFrom
	}
	s := newSpan(p.loc, first, days(first, p.to))
	if err := a.load(ctx, uid, s, now); err != nil {
		return reportRows{}, err
	}
	out := reportRows{days: s.days}
	end := p.to.AddDate(0, 0, 1)
	err := a.store.ACTs(ctx, uid, p.from.UTC(), end.UTC(), func(at time.Time, total int) {
		out.acts = append(out.acts, ACTPoint{Date: at.In(p.loc).Format(time.DateOnly), Total: total})
	})
	if err != nil {
		return reportRows{}, err
	}
	out.events, err = a.store.HealthEvents(ctx, uid, p.from.Format(time.DateOnly), end.Format(time.DateOnly))
	return out, err
}

// load fills the span's days for the user. Controller doses are due only up
// to now (a future dose is not missed yet).
func (a *API) load(ctx context.Context, uid uint64, s *span, now time.Time) error {
	err := a.store.Symptoms(ctx, uid, s.from, s.to, func(at time.Time, sev int, night, limited bool) {
		if d := s.at(at); d != nil {
			d.addSymptom(sev, night, limited)
		}
	})
	if err != nil {
		return err
	}
	err = a.store.PeakFlows(ctx, uid, s.from, s.to, func(at time.Time, v int, zone string) {
		if d := s.at(at); d != nil {
			d.addPEF(v, records.ZoneRank(zone))
		}
	})
	if err != nil {
		return err
	}
	if err := a.loadIntakes(ctx, uid, s); err != nil {
		return err
	}
	return a.loadDue(ctx, uid, s, now)
}

// loadIntakes counts reliever uses and taken controller doses. A scheduled
// dose counts on the day it was due (a 22:00 dose taken at 00:30 belongs to
// the evening before), so the scan is one day wider on each side.
func (a *API) loadIntakes(ctx context.Context, uid uint64, s *span) error {
	return a.store.TakenIntakes(ctx, uid, s.from.Add(-24*time.Hour), s.to.Add(24*time.Hour), func(at time.Time, due sql.NullTime, role string) {
		if role == medication.RoleReliever {
			if d := s.at(at); d != nil {
				d.relieverUses++
			}
			return
		}
		if due.Valid {
			at = due.Time
		}
		if d := s.at(at); d != nil {
			d.controllerTaken++
		}
	})
}

// loadDue counts the controller doses due in the span up to now.
func (a *API) loadDue(ctx context.Context, uid uint64, s *span, now time.Time) error {
	end := s.to
	if now.Before(end) {
		end = now
	}
	if !end.After(s.from) {
		return nil
	}
	return a.store.ControllerSchedules(ctx, uid, s.from, end, func(times string, bits uint8, tz string, from time.Time, to sql.NullTime) {
		rule, err := medication.MakeRule(a.Zones, times, bits, tz, from, to)
		if err != nil {
			return // a schedule this binary cannot read counts no dose
		}
		for _, o := range rule.Occurrences(s.from, end) {
			if d := s.at(o); d != nil {
				d.controllerDue++
			}
		}
	})
}

// aggregate computes the report of period p from its rows; it reads
// nothing else (table tests in report_test.go).
func aggregate(p period, tz string, in reportRows) Report {
	r := Report{From: p.from.Format(time.DateOnly), To: p.to.Format(time.DateOnly), TimeZone: tz, GINAFrom: p.ginaFrom.Format(time.DateOnly)}
	var gina GINAInput
	for i := range in.days {
		if d := &in.days[i]; d.date >= r.GINAFrom {
			gina.add(d)
		}
	}
	r.GINA = GINAControl(gina)
	r.addDays(in.days)
	r.ACT.Trend = ACTTrend(in.acts)
	r.Exacerbations = exacerbations(in.events)
	return r
}

// add counts day d into the GINA window.
func (g *GINAInput) add(d *day) {
	g.Days++
	if d.symptomatic {
		g.SymptomDays++
	}
	if d.relieverUses > 0 {
		g.RelieverDays++
	}
	g.NightWaking = g.NightWaking || d.nightWaking
	g.ActivityLimitation = g.ActivityLimitation || d.activityLimited
}

// addDays computes the day-based figures of the days from r.From on.
func (r *Report) addDays(all []day) {
	var taken, due []int
	var zones [4]int // readings per records.ZoneRank
	var vars []float64
	r.Variability.Days = []DayVariability{}
	for i := range all {
		d := &all[i]
		if d.date < r.From {
			continue
		}
		r.Days++
		if !d.symptomatic && !d.nightWaking && d.relieverUses == 0 {
			r.SymptomFreeDays++
		}
		if d.nightWaking {
			r.NightWakingDays++
		}
		if d.relieverUses > 0 {
			r.RelieverDays++
		}
		taken, due = append(taken, d.controllerTaken), append(due, d.controllerDue)
		r.ControllerDue += d.controllerDue
		r.ControllerTaken += d.controllerTaken
		for z, n := range d.zoneCounts {
			zones[z] += n
		}
		if pct, ok := variability(d.pefMin, d.pefMax, d.pefSum, d.pefN); ok {
			vars = append(vars, pct)
			r.Variability.Days = append(r.Variability.Days, DayVariability{Date: d.date, Pct: pct, Flagged: pct > VariabilityFlag})
		}
	}
	r.RelieverDaysPerWeek = PerWeek(r.RelieverDays, r.Days)
	r.AdherencePct = Adherence(taken, due)
	r.PEFZones = shares(zones)
	r.Variability.MeanPct = MeanVariability(vars)
	r.Variability.MeanFlagged = r.Variability.MeanPct != nil && *r.Variability.MeanPct > VariabilityFlag
}

// exacerbations counts the health events by kind.
func exacerbations(events []records.HealthEvent) Exacerbations {
	x := Exacerbations{Events: events}
	if x.Events == nil {
		x.Events = []records.HealthEvent{}
	}
	for _, h := range events {
		switch h.Kind {
		case records.EventERVisit:
			x.ERVisits++
		case records.EventAdmission:
			x.Admissions++
		case records.EventOralSteroid:
			x.OralSteroids++
		}
	}
	return x
}

// days counts the local days from first to last inclusive.
func days(first, last time.Time) int {
	a := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours()/24) + 1
}
