package report

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/care"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/web"
)

// GET /v1/me/calendar. A request costs one lookup of the user's records
// version and plan zone ("state"); the month itself is computed from one
// query ("month") only when the process has no entry for (user, month) at
// that version that is still valid. An entry is valid until the answer
// changes by itself (the next controller dose falling due in the month)
// and at most calendarMaxAge. Every answer carries a strong ETag (a hash of
// the body), and If-None-Match with it answers 304.
//
// Why this is correct across several `serve` instances: every write to
// the user's care tables bumps the version in its own transaction
// (care.WriteTx), and an entry is stored under the version read before
// its rows were, so it never outlives a write. An entry can only contain
// a write newer than its version, never miss an older one.

// calendarMaxAge bounds how long an entry is trusted, so that a writer that
// does not bump the version (a manual UPDATE, an older binary during a
// rolling upgrade) is seen within this time.
const calendarMaxAge = 10 * time.Minute

// CalendarDay is one day of the month calendar.
type CalendarDay struct {
	Date            string  `json:"date"`
	SymptomRecords  int     `json:"symptom_records"`
	MaxSeverity     *int    `json:"max_severity"`
	NightWaking     bool    `json:"night_waking"`
	ActivityLimited bool    `json:"activity_limited"`
	RelieverUses    int     `json:"reliever_uses"`
	ControllerDue   int     `json:"controller_due"`
	ControllerTaken int     `json:"controller_taken"`
	PEF             *PEFDay `json:"pef"`
}

// PEFDay summarizes a day's peak-flow readings.
type PEFDay struct {
	Readings       int      `json:"readings"`
	Min            int      `json:"min"`
	Max            int      `json:"max"`
	WorstZone      *string  `json:"worst_zone"`
	VariabilityPct *float64 `json:"variability_pct"`
}

// Calendar is the answer of GET /v1/me/calendar.
type Calendar struct {
	Month    string        `json:"month"`
	TimeZone string        `json:"time_zone"`
	Days     []CalendarDay `json:"days"`
}

// zoneNames maps records.ZoneRank back to the zone.
var zoneNames = [4]string{"", records.ZoneGreen, records.ZoneYellow, records.ZoneRed}

func summarize(d *day) CalendarDay {
	out := CalendarDay{
		Date: d.date, SymptomRecords: d.symptomRecords, NightWaking: d.nightWaking, ActivityLimited: d.activityLimited,
		RelieverUses: d.relieverUses, ControllerDue: d.controllerDue, ControllerTaken: d.controllerTaken,
	}
	if d.symptomRecords > 0 {
		sev := d.maxSeverity
		out.MaxSeverity = &sev
	}
	if d.pefN > 0 {
		p := &PEFDay{Readings: d.pefN, Min: d.pefMin, Max: d.pefMax}
		if d.worstZone > 0 {
			p.WorstZone = &zoneNames[d.worstZone]
		}
		if v, ok := variability(d.pefMin, d.pefMax, d.pefSum, d.pefN); ok {
			p.VariabilityPct = &v
		}
		out.PEF = p
	}
	return out
}

func (a *API) calendar(c *gin.Context) (web.Answer, error) {
	e, err := a.calendarEntry(c)
	if err != nil {
		return web.Answer{}, err
	}
	c.Header("ETag", e.etag)
	c.Header("Cache-Control", "private, no-cache")
	if etagMatches(c.GetHeader("If-None-Match"), e.etag) {
		return web.Answer{Status: http.StatusNotModified}, nil
	}
	return web.Answer{Status: http.StatusOK, Raw: e.body}, nil
}

// calendarEntry returns the caller's month from the cache or computes it.
func (a *API) calendarEntry(c *gin.Context) (*calendarEntry, error) {
	uid := care.UserID(c)
	now := a.Now()
	var v care.Checker
	var y int
	var m time.Month
	if month := c.Query("month"); month != "" {
		t, err := time.Parse("2006-01", month)
		if err != nil {
			v.Add("month", web.FieldInvalidDate, "month 는 2024-03 같은 YYYY-MM 형식이어야 합니다.")
		} else if t.Before(web.EarliestRecord(time.UTC)) || t.Year() > 2100 { // a future month is an empty calendar
			v.Add("month", web.FieldOutOfRange, "month 는 2000~2100년 사이여야 합니다.")
		}
		y, m = t.Year(), t.Month()
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ctx := c.Request.Context()
	version, loc, tz, err := a.state(ctx, uid)
	if err != nil {
		return nil, err
	}
	if y == 0 {
		n := now.In(loc)
		y, m = n.Year(), n.Month()
	}
	key := calendarKey{user: uid, month: y*12 + int(m) - 1}
	if e := a.cache.get(key, version, now); e != nil {
		a.hits.Add(1)
		return e, nil
	}
	a.misses.Add(1)
	e, err := a.computeCalendar(ctx, uid, loc, tz, y, m, now)
	if err != nil {
		return nil, err
	}
	e.version = version
	a.cache.put(key, e)
	return e, nil
}

// state reads the user's records version and the zone of the plan.
func (a *API) state(ctx context.Context, uid uint64) (uint64, *time.Location, string, error) {
	version, zone, err := a.store.State(ctx, uid)
	if err != nil {
		return 0, nil, "", err
	}
	loc, name := a.Zones.Resolve(zone)
	return version, loc, name, nil
}

// computeCalendar computes the month (y, m) in loc as of now.
func (a *API) computeCalendar(ctx context.Context, uid uint64, loc *time.Location, tz string, y int, m time.Month, now time.Time) (*calendarEntry, error) {
	first := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	n := first.AddDate(0, 1, -1).Day()
	s := newSpan(loc, first, n)
	changes, err := a.fillMonth(ctx, uid, s, now)
	if err != nil {
		return nil, err
	}
	cal := Calendar{Month: first.Format("2006-01"), TimeZone: tz, Days: make([]CalendarDay, n)}
	for i := range s.days {
		cal.Days[i] = summarize(&s.days[i])
	}
	body, err := json.Marshal(cal)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	// The answer holds up to and including the instant of the next dose
	// (a dose is due once its instant is past).
	expires := now.Add(calendarMaxAge)
	if next := changes.Add(time.Nanosecond); !changes.IsZero() && next.Before(expires) {
		expires = next
	}
	return &calendarEntry{expires: expires, body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}, nil
}

// An intake of the month query, kept until the medications' roles are known.
type monthIntake struct {
	at      time.Time
	due     sql.NullTime
	medicID int64
}

// Medication roles in the month query.
const (
	roleOther = iota
	roleReliever
	roleController
)

// monthRows are the month query's rows that need the others first: taken
// intakes (their medication's role comes in other rows) and controller
// schedules.
type monthRows struct {
	intakes []monthIntake
	roles   map[int64]int // medication id → role
	rules   []medication.Rule
}

// fillMonth adds the month's records to the span's days. Controller doses
// are due once their instant is before now; changes is the instant of the
// next one in the span (zero when none), after which the answer changes by
// itself.
func (a *API) fillMonth(ctx context.Context, uid uint64, s *span, now time.Time) (changes time.Time, err error) {
	// Taken intakes: a scheduled dose counts on the day it was due (a 22:00
	// dose taken at 00:30 belongs to the evening before), so they are read
	// by recording time over the UTC month widened by 50 hours on each side.
	y, m, _ := s.first.Date()
	wideFrom := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Add(-50 * time.Hour)
	wideTo := time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).Add(50 * time.Hour)
	mr := monthRows{intakes: make([]monthIntake, 0, 128), roles: make(map[int64]int, 8)}
	err = a.store.Month(ctx, uid, s.from, s.to, wideFrom, wideTo, func(r *monthRow) { a.monthRow(s, &mr, r) })
	if err != nil {
		return time.Time{}, err
	}
	mr.countIntakes(s)
	return mr.countDue(s, now), nil
}

// monthRow adds one row of the month query (see Store.Month).
func (a *API) monthRow(s *span, mr *monthRows, r *monthRow) {
	kind, at, n, at2, str := r.kind, r.at, r.n, r.at2, r.str
	switch kind {
	case 1:
		if d := s.at(at); d != nil {
			d.addSymptom(int(n>>2), n&2 != 0, n&1 != 0)
		}
	case 2:
		if d := s.at(at); d != nil {
			d.addPEF(int(n), records.ZoneRank(string(str)))
		}
	case 3:
		mr.intakes = append(mr.intakes, monthIntake{at: at, due: at2, medicID: n})
	case 4:
		switch string(str) {
		case medication.RoleReliever:
			mr.roles[n] = roleReliever
		case medication.RoleController:
			mr.roles[n] = roleController
		}
	case 5:
		times, zone, _ := strings.Cut(string(str), " ")
		if rule, err := medication.MakeRule(a.Zones, times, uint8(n), zone, at, at2); err == nil {
			mr.rules = append(mr.rules, rule)
		}
	}
}

// countIntakes adds the reliever uses and taken controller doses.
func (mr *monthRows) countIntakes(s *span) {
	for _, x := range mr.intakes {
		switch mr.roles[x.medicID] {
		case roleReliever:
			if d := s.at(x.at); d != nil {
				d.relieverUses++
			}
		case roleController:
			t := x.at
			if x.due.Valid {
				t = x.due.Time
			}
			if d := s.at(t); d != nil {
				d.controllerTaken++
			}
		}
	}
}

// countDue adds the controller doses due before now and returns the instant
// of the next one in the span (zero when none).
func (mr *monthRows) countDue(s *span, now time.Time) (changes time.Time) {
	for _, r := range mr.rules {
		for _, o := range r.Occurrences(s.from, s.to) {
			if !o.Before(now) {
				if changes.IsZero() || o.Before(changes) {
					changes = o
				}
				break
			}
			if d := s.at(o); d != nil {
				d.controllerDue++
			}
		}
	}
	return changes
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 wants for If-None-Match).
func etagMatches(header, etag string) bool {
	for header != "" {
		var t string
		t, header, _ = strings.Cut(header, ",")
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// calendarKey is a user's month (year×12 + month−1).
type calendarKey struct {
	user  uint64
	month int
}

// calendarEntry is a computed month; immutable once cached.
type calendarEntry struct {
	version uint64    // the user's records version read before the month's rows
	expires time.Time // valid before this instant
	body    []byte
	etag    string
}

// calendarCache keeps computed months of this process. A nil cache keeps
// nothing.
type calendarCache struct {
	mu      sync.Mutex
	max     int
	entries map[calendarKey]*calendarEntry
}

func newCalendarCache(max int) *calendarCache {
	return &calendarCache{max: max, entries: make(map[calendarKey]*calendarEntry, min(max, 1024))}
}

// get returns the entry of k if it was computed at version and is valid at now.
func (c *calendarCache) get(k calendarKey, version uint64, now time.Time) *calendarEntry {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	e := c.entries[k]
	c.mu.Unlock()
	if e == nil || e.version != version || !now.Before(e.expires) {
		return nil
	}
	return e
}

// put stores e under k unless a newer version is there already. A full
// cache drops an arbitrary entry (map order is random).
func (c *calendarCache) put(k calendarKey, e *calendarEntry) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.entries[k]; old != nil && old.version > e.version {
		return
	}
	if _, ok := c.entries[k]; !ok && len(c.entries) >= c.max {
		for victim := range c.entries {
			delete(c.entries, victim)
			break
		}
	}
	c.entries[k] = e
}
