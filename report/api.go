// Package report serves the month calendar and the period report from the
// records and medication tables: GET /v1/me/calendar?month=YYYY-MM and
// GET /v1/me/reports?from=&to=. Days are local days in the time zone of the
// user's action plan (default Asia/Seoul). The formulas are pure functions
// in formulas.go; calendar.go holds the calendar, its cache and its ETags;
// report.go the period report (parameters, loaders, a pure aggregation).
package report

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/web"
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
	db    *sql.DB
	auth  gin.HandlerFunc
	kit   web.Kit
	now   func() time.Time
	zones *records.Zones

	mu    sync.Mutex // guards preparing stmts
	stmts atomic.Pointer[map[string]*sql.Stmt]
	cache *calendarCache // nil: no cache

	// Calendar answers served from the cache and computed (tests read them).
	hits, misses atomic.Int64
}

// New returns the API over the MySQL pool.
func New(db *sql.DB, opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{db: db, auth: opts.Auth, kit: records.Kit(opts.Logger), now: opts.Now, zones: &records.Zones{}}
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
	me.GET("/calendar", a.kit.Handle(a.calendar))
	me.GET("/reports", a.kit.Handle(a.report))
}

// The queries, prepared once (one round trip per query on the hot calendar
// path instead of prepare/execute/close). Each is a range scan of a
// (user_id, recorded_at) index.
var queries = map[string]string{
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

// each runs the prepared statement name and calls row for every row.
func (a *API) each(ctx context.Context, name string, row func(mysql.Scanner) error, args ...any) error {
	st, err := a.stmt(ctx, name)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("report: %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := row(rows); err != nil {
			return fmt.Errorf("report: %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report: %s: %w", name, err)
	}
	return nil
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
