// Package report serves the month calendar and the period report from the
// records and medication tables: GET /v1/me/calendar?month=YYYY-MM and
// GET /v1/me/reports?from=&to=. Days are local days in the time zone of the
// user's action plan (default Asia/Seoul). The formulas are pure functions
// in formulas.go; calendar.go holds the calendar, its cache and its ETags;
// report.go the period report (parameters, loaders, a pure aggregation);
// store.go the SQL.
package report

import (
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
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
	care.Base
	store *Store
	cache *calendarCache // nil: no cache

	// Calendar answers served from the cache and computed (tests read them).
	hits, misses atomic.Int64
}

// New returns the API over the MySQL pool.
func New(db *sql.DB, opts Options) *API {
	a := &API{Base: care.NewBase(db, care.Options{Auth: opts.Auth, Logger: opts.Logger, Now: opts.Now}), store: NewStore(db)}
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
	me := care.Group(e, a.Auth)
	me.GET("/calendar", a.Kit.Handle(a.calendar))
	me.GET("/reports", a.Kit.Handle(a.report))
}

// Close releases the store's prepared statements.
func (a *API) Close() error { return a.store.Close() }

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
