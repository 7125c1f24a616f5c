// Package report serves the month calendar and the period report from the
// records and medication tables: GET /v1/me/calendar?month=YYYY-MM and
// GET /v1/me/reports?from=&to=. Days are local days in the time zone of the
// user's action plan (default Asia/Seoul). The formulas are pure functions
// in formulas.go; calendar.go holds the calendar, its cache and its ETags.
package report

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
)

// Options configure the API.
type Options struct {
	Auth   gin.HandlerFunc
	Logger *slog.Logger
	Now    func() time.Time
	// CalendarCache is how many computed months (user, month) are kept in
	// memory, each checked against the user's records version on every
	// request; 0 means DefaultCalendarCache, a negative number no cache.
	CalendarCache int
}

// DefaultCalendarCache is the default number of cached months (≈ 7 KB each).
const DefaultCalendarCache = 4096

// API serves the calendar and reports.
type API struct {
	db     *sql.DB
	auth   gin.HandlerFunc
	logger *slog.Logger
	now    func() time.Time
	zones  *records.Zones

	mu    sync.Mutex // guards preparing stmts
	stmts atomic.Pointer[map[string]*sql.Stmt]
	cache *calendarCache // nil: no cache

	// Calendar answers served from the cache and computed (tests read them).
	hits, misses atomic.Int64
}

// New returns the API over the MySQL pool.
func New(db *sql.DB, opts Options) *API {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{db: db, auth: opts.Auth, logger: opts.Logger, now: opts.Now, zones: &records.Zones{}}
	if opts.CalendarCache == 0 {
		opts.CalendarCache = DefaultCalendarCache
	}
	if opts.CalendarCache > 0 {
		a.cache = newCalendarCache(opts.CalendarCache)
	}
	return a
}

// Mount adds the routes; pass it to server.New.
func (a *API) Mount(e *gin.Engine) {
	me := records.Group(e, a.auth)
	me.GET("/calendar", a.calendar)
	me.GET("/reports", records.Handle(a.logger, a.report))
}

// The queries, prepared once (one round trip per query on the hot calendar
// path instead of prepare/execute/close). Each is a range scan of a
// (user_id, recorded_at) index.
var queries = map[string]string{
	"plan":     `SELECT personal_best_lpm, time_zone FROM care_plans WHERE user_id = ?`,
	"symptoms": `SELECT recorded_at, severity, night_waking, activity_limited FROM symptom_records WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ?`,
	"pef":      `SELECT recorded_at, value_lpm, COALESCE(zone, '') FROM peak_flow_records WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ?`,
	"intakes": `SELECT i.recorded_at, i.scheduled_at, m.role FROM medication_intakes i JOIN medications m ON m.id = i.medication_id
		WHERE i.user_id = ? AND i.recorded_at >= ? AND i.recorded_at < ? AND i.status = 'taken' AND m.role IN ('controller', 'reliever')`,
	"schedules": `SELECT s.times, s.weekdays, s.time_zone, s.active_from, s.deleted_at FROM medication_schedules s
		JOIN medications m ON m.id = s.medication_id
		WHERE s.user_id = ? AND m.role = 'controller' AND s.active_from < ? AND (s.deleted_at IS NULL OR s.deleted_at > ?)`,
	// state: the records version and the plan's zone, one lookup of a
	// unique key each (the whole request when the calendar is cached).
	"state": `SELECT COALESCE((SELECT version FROM care_versions WHERE user_id = ?), 0), (SELECT time_zone FROM care_plans WHERE user_id = ?)`,
	// month: a month's rows in one round trip, as (kind, at, n, at2, s):
	// 1 symptom (n = severity×4 + night waking×2 + activity limited),
	// 2 peak flow (n = L/min, s = zone), 3 taken intake (n = medication,
	// at2 = the dose's due time), 4 medication (n = id, s = role), 5
	// controller schedule (n = weekdays, at2 = end, s = "times zone").
	// Narrow rows of fixed types and no join per intake: the scan is the
	// expensive part on both sides.
	"month": `SELECT 1, recorded_at, severity * 4 + night_waking * 2 + activity_limited, NULL, NULL FROM symptom_records
			WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ?
		UNION ALL SELECT 2, recorded_at, value_lpm, NULL, zone FROM peak_flow_records
			WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ?
		UNION ALL SELECT 3, recorded_at, medication_id, scheduled_at, NULL FROM medication_intakes
			WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ? AND status = 'taken'
		UNION ALL SELECT 4, created_at, id, NULL, role FROM medications WHERE user_id = ?
		UNION ALL SELECT 5, s.active_from, s.weekdays, s.deleted_at, CONCAT(s.times, ' ', s.time_zone) FROM medication_schedules s
			JOIN medications m ON m.id = s.medication_id
			WHERE s.user_id = ? AND m.role = 'controller' AND s.active_from < ? AND (s.deleted_at IS NULL OR s.deleted_at > ?)`,
	"act":    `SELECT recorded_at, total FROM act_results WHERE user_id = ? AND recorded_at >= ? AND recorded_at < ? ORDER BY recorded_at, id`,
	"events": `SELECT id, kind, start_date, end_date, memo FROM health_events WHERE user_id = ? AND start_date < ? AND COALESCE(end_date, start_date) >= ? ORDER BY start_date, id`,
}

func (a *API) stmt(ctx context.Context, name string) (*sql.Stmt, error) {
	if m := a.stmts.Load(); m != nil {
		return (*m)[name], nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := a.stmts.Load(); m != nil {
		return (*m)[name], nil
	}
	m := map[string]*sql.Stmt{}
	for n, q := range queries {
		s, err := a.db.PrepareContext(ctx, q)
		if err != nil {
			for _, s := range m {
				s.Close()
			}
			return nil, fmt.Errorf("report: prepare %s: %w", n, err)
		}
		m[n] = s
	}
	a.stmts.Store(&m)
	return m[name], nil
}

// Close releases the prepared statements.
func (a *API) Close() error {
	if m := a.stmts.Swap(nil); m != nil {
		for _, s := range *m {
			s.Close()
		}
	}
	return nil
}

// day is the work area of one local day.
type day struct {
	date            string
	symptomRecords  int
	maxSeverity     int
	symptomatic     bool // a record with severity ≥ 1
	nightWaking     bool
	activityLimited bool
	relieverUses    int
	controllerDue   int
	controllerTaken int
	// Peak flow: readings, min, max, sum, the worst zone's records.ZoneRank
	// and the readings per zone rank (0: no zone).
	pefN, pefMin, pefMax, pefSum int
	worstZone                    int
	zoneCounts                   [4]int
}

func (d *day) addSymptom(severity int, night, limited bool) {
	d.symptomRecords++
	d.maxSeverity = max(d.maxSeverity, severity)
	d.symptomatic = d.symptomatic || severity > 0
	d.nightWaking = d.nightWaking || night
	d.activityLimited = d.activityLimited || limited
}

// addPEF adds a reading; rank is records.ZoneRank of its zone.
func (d *day) addPEF(v, rank int) {
	if d.pefN == 0 {
		d.pefMin, d.pefMax = v, v
	}
	d.pefN++
	d.pefMin, d.pefMax, d.pefSum = min(d.pefMin, v), max(d.pefMax, v), d.pefSum+v
	d.worstZone = max(d.worstZone, rank)
	d.zoneCounts[rank]++
}

// span is the days [first, first+n) in loc.
type span struct {
	loc      *time.Location
	first    time.Time // local midnight of the first day
	n        int
	from, to time.Time // UTC bounds
	days     []day
	epochDay int // civil day number of the first day
}

func newSpan(loc *time.Location, first time.Time, n int) *span {
	s := &span{loc: loc, first: first, n: n, days: make([]day, n)}
	y, m, d := first.Date()
	s.epochDay = civilDay(y, m, d)
	for i := range n {
		s.days[i].date = time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	s.from = first.UTC()
	s.to = time.Date(y, m, d+n, 0, 0, 0, 0, loc).UTC()
	return s
}

// civilDay numbers calendar dates consecutively (days since 1970-01-01).
func civilDay(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// at is the day of instant t, nil outside the span.
func (s *span) at(t time.Time) *day {
	y, m, d := t.In(s.loc).Date()
	i := civilDay(y, m, d) - s.epochDay
	if i < 0 || i >= s.n {
		return nil
	}
	return &s.days[i]
}

// load fills the span's days for the user. Controller doses are due only up
// to now (a future dose is not missed yet).
func (a *API) load(ctx context.Context, uid uint64, s *span, now time.Time) error {
	st, err := a.stmt(ctx, "symptoms")
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, uid, s.from, s.to)
	if err != nil {
		return fmt.Errorf("report: symptoms: %w", err)
	}
	for rows.Next() {
		var at time.Time
		var sev int
		var night, limited bool
		if err := rows.Scan(&at, &sev, &night, &limited); err != nil {
			rows.Close()
			return err
		}
		if d := s.at(at); d != nil {
			d.addSymptom(sev, night, limited)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	st, _ = a.stmt(ctx, "pef")
	rows, err = st.QueryContext(ctx, uid, s.from, s.to)
	if err != nil {
		return fmt.Errorf("report: pef: %w", err)
	}
	for rows.Next() {
		var at time.Time
		var v int
		var zone string
		if err := rows.Scan(&at, &v, &zone); err != nil {
			rows.Close()
			return err
		}
		if d := s.at(at); d != nil {
			d.addPEF(v, records.ZoneRank(zone))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// Intakes: a scheduled dose counts on the day it was due (a 22:00 dose
	// taken at 00:30 belongs to the evening before); scan one day wider.
	st, _ = a.stmt(ctx, "intakes")
	rows, err = st.QueryContext(ctx, uid, s.from.Add(-24*time.Hour), s.to.Add(24*time.Hour))
	if err != nil {
		return fmt.Errorf("report: intakes: %w", err)
	}
	for rows.Next() {
		var at time.Time
		var due sql.NullTime
		var role string
		if err := rows.Scan(&at, &due, &role); err != nil {
			rows.Close()
			return err
		}
		if role == medication.RoleReliever {
			if d := s.at(at); d != nil {
				d.relieverUses++
			}
			continue
		}
		if due.Valid {
			at = due.Time
		}
		if d := s.at(at); d != nil {
			d.controllerTaken++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	end := s.to
	if now.Before(end) {
		end = now
	}
	if !end.After(s.from) {
		return nil
	}
	st, _ = a.stmt(ctx, "schedules")
	rows, err = st.QueryContext(ctx, uid, end, s.from)
	if err != nil {
		return fmt.Errorf("report: schedules: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var times, tz string
		var bits uint8
		var from time.Time
		var to sql.NullTime
		if err := rows.Scan(&times, &bits, &tz, &from, &to); err != nil {
			return err
		}
		rule, err := medication.MakeRule(a.zones, times, bits, tz, from, to)
		if err != nil {
			continue
		}
		for _, o := range rule.Occurrences(s.from, end) {
			if d := s.at(o); d != nil {
				d.controllerDue++
			}
		}
	}
	return rows.Err()
}

func (a *API) location(ctx context.Context, uid uint64) (*time.Location, string, error) {
	st, err := a.stmt(ctx, "plan")
	if err != nil {
		return nil, "", err
	}
	var best sql.NullInt64
	tz := records.DefaultTimeZone
	err = st.QueryRowContext(ctx, uid).Scan(&best, &tz)
	if err != nil && err != sql.ErrNoRows {
		return nil, "", fmt.Errorf("report: plan: %w", err)
	}
	loc, err := a.zones.Load(tz)
	if err != nil {
		return time.UTC, "UTC", nil
	}
	return loc, tz, nil
}

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

func (a *API) report(c *gin.Context) (int, any, error) {
	uid := records.UserID(c)
	loc, tz, err := a.location(c.Request.Context(), uid)
	if err != nil {
		return 0, nil, err
	}
	now := a.now()
	var v records.Checker
	today := now.In(loc)
	to := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	if s := c.Query("to"); s != "" {
		if t, ok := v.Date("to", s); ok {
			to = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		}
	}
	from := to.AddDate(0, 0, -27)
	if s := c.Query("from"); s != "" {
		if t, ok := v.Date("from", s); ok {
			from = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		}
	}
	if v.OK() {
		if to.Before(from) {
			v.Add("to", records.FieldOutOfRange, "to 는 from 이후여야 합니다.")
		} else if days(from, to) > maxReportDays {
			v.Add("to", records.FieldOutOfRange, "기간은 366일을 넘을 수 없습니다.")
		}
	}
	if err := v.Err(); err != nil {
		return 0, nil, err
	}
	// The GINA window is the 4 weeks ending at to; load whichever starts first.
	ginaFrom := to.AddDate(0, 0, -27)
	loadFrom := from
	if ginaFrom.Before(loadFrom) {
		loadFrom = ginaFrom
	}
	s := newSpan(loc, loadFrom, days(loadFrom, to))
	if err := a.load(c.Request.Context(), uid, s, now); err != nil {
		return 0, nil, err
	}
	r := Report{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), TimeZone: tz, GINAFrom: ginaFrom.Format(time.DateOnly)}
	var taken, due []int
	var zones [4]int // readings per records.ZoneRank
	var gina GINAInput
	r.Variability.Days = []DayVariability{}
	var vars []float64
	fromKey, ginaKey := r.From, r.GINAFrom
	for i := range s.days {
		d := &s.days[i]
		if d.date >= ginaKey {
			gina.Days++
			if d.symptomatic {
				gina.SymptomDays++
			}
			if d.relieverUses > 0 {
				gina.RelieverDays++
			}
			gina.NightWaking = gina.NightWaking || d.nightWaking
			gina.ActivityLimitation = gina.ActivityLimitation || d.activityLimited
		}
		if d.date < fromKey {
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
	r.GINA = GINAControl(gina)
	r.RelieverDaysPerWeek = PerWeek(r.RelieverDays, r.Days)
	r.AdherencePct = Adherence(taken, due)
	r.PEFZones = shares(zones)
	r.Variability.MeanPct = MeanVariability(vars)
	r.Variability.MeanFlagged = r.Variability.MeanPct != nil && *r.Variability.MeanPct > VariabilityFlag

	// ACT results and health events of the period.
	fromUTC, toUTC := from.UTC(), to.AddDate(0, 0, 1).UTC()
	st, err := a.stmt(c.Request.Context(), "act")
	if err != nil {
		return 0, nil, err
	}
	rows, err := st.QueryContext(c.Request.Context(), uid, fromUTC, toUTC)
	if err != nil {
		return 0, nil, fmt.Errorf("report: act: %w", err)
	}
	var points []ACTPoint
	for rows.Next() {
		var at time.Time
		var total int
		if err := rows.Scan(&at, &total); err != nil {
			rows.Close()
			return 0, nil, err
		}
		points = append(points, ACTPoint{Date: at.In(loc).Format(time.DateOnly), Total: total})
	}
	rows.Close()
	r.ACT.Trend = ACTTrend(points)

	st, _ = a.stmt(c.Request.Context(), "events")
	rows, err = st.QueryContext(c.Request.Context(), uid, to.AddDate(0, 0, 1).Format(time.DateOnly), r.From)
	if err != nil {
		return 0, nil, fmt.Errorf("report: events: %w", err)
	}
	defer rows.Close()
	r.Exacerbations.Events = []records.HealthEvent{}
	for rows.Next() {
		var h records.HealthEvent
		var start time.Time
		var end sql.NullTime
		if err := rows.Scan(&h.ID, &h.Kind, &start, &end, &h.Memo); err != nil {
			return 0, nil, err
		}
		h.StartDate = start.Format(time.DateOnly)
		if end.Valid {
			e := end.Time.Format(time.DateOnly)
			h.EndDate = &e
		}
		switch h.Kind {
		case records.EventERVisit:
			r.Exacerbations.ERVisits++
		case records.EventAdmission:
			r.Exacerbations.Admissions++
		case records.EventOralSteroid:
			r.Exacerbations.OralSteroids++
		}
		r.Exacerbations.Events = append(r.Exacerbations.Events, h)
	}
	return http.StatusOK, r, rows.Err()
}

// days counts the local days from first to last inclusive.
func days(first, last time.Time) int {
	a := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours()/24) + 1
}
