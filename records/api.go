// Package records serves the user's own health records: the asthma action
// plan (personal best peak flow, time zone), symptom records, peak-flow
// records with their zone, ACT results and health events (exacerbations).
// It also holds what every care endpoint shares on top of package web
// (httpapi.go, page.go): the care kit and JSON body policy, the narrowing of
// field errors to invalid_date and out_of_range, keyset pages, and the one
// loader of the user's time zone.
//
// Ownership always comes from web.Principal: every query has
// "user_id = caller", and a record of another user answers 404 like one that
// does not exist.
//
// Endpoints (apidoc/paths/records.yaml), all under /v1/me and behind auth:
//
//	GET|PUT          /action-plan
//	POST|GET         /symptoms, /peak-flows, /act-results, /health-events
//	GET|PUT|DELETE   /symptoms/:id, /peak-flows/:id, /act-results/:id, /health-events/:id
//
// Lists are pages in (time, id) order with an opaque cursor (page.go); every
// write bumps the user's records version (version.go).
package records

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/web"
)

// Options configure the API.
type Options struct {
	// Auth sets web.Principal from the request's token (auth.Middleware);
	// nil when a middleware on the engine already does.
	Auth   gin.HandlerFunc
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
}

// API serves the records endpoints.
type API struct {
	db    *sql.DB
	auth  gin.HandlerFunc
	kit   web.Kit
	now   func() time.Time
	zones *Zones
}

// New returns the API over the MySQL pool.
func New(db *sql.DB, opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &API{db: db, auth: opts.Auth, kit: Kit(opts.Logger), now: opts.Now, zones: &Zones{}}
}

// Group returns the authenticated /v1/me group every care package mounts on.
func Group(e *gin.Engine, auth gin.HandlerFunc) *gin.RouterGroup {
	var hs []gin.HandlerFunc
	if auth != nil {
		hs = append(hs, auth)
	}
	return e.Group("/v1/me", append(hs, web.RequireAuth())...)
}

// Mount adds the routes; pass it to server.New.
func (a *API) Mount(e *gin.Engine) {
	me := Group(e, a.auth)
	h := a.kit.Handle
	me.GET("/action-plan", h(a.getPlan))
	me.PUT("/action-plan", h(a.putPlan))
	for _, k := range a.kinds() {
		me.POST("/"+k.path, h(a.create(k)))
		me.GET("/"+k.path, h(a.list(k)))
		me.GET("/"+k.path+"/:id", h(a.get(k)))
		me.PUT("/"+k.path+"/:id", h(a.replace(k)))
		me.DELETE("/"+k.path+"/:id", h(Remove(a.db, "DELETE FROM "+k.table+" WHERE id = ? AND user_id = ?", nil)))
	}
}

// Plan is the user's asthma action plan.
type Plan struct {
	PersonalBestLPM *int   `json:"personal_best_lpm"`
	TimeZone        string `json:"time_zone"`
}

// LoadPlan returns the caller's plan (the default one when none was saved).
func LoadPlan(ctx context.Context, q mysql.Querier, userID uint64) (Plan, error) {
	p := Plan{TimeZone: DefaultTimeZone}
	var best sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT personal_best_lpm, time_zone FROM care_plans WHERE user_id = ?`, userID).Scan(&best, &p.TimeZone)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("records: load plan: %w", err)
	}
	if best.Valid {
		n := int(best.Int64)
		p.PersonalBestLPM = &n
	}
	return p, nil
}

func (a *API) getPlan(c *gin.Context) (web.Answer, error) {
	p, err := LoadPlan(c.Request.Context(), a.db, UserID(c))
	return web.OK(p), err
}

// putPlan replaces the plan. A body that is not a JSON object (null
// included) is refused by Decode: it must not erase the personal best.
func (a *API) putPlan(c *gin.Context) (web.Answer, error) {
	var in struct {
		PersonalBestLPM *int    `json:"personal_best_lpm"`
		TimeZone        *string `json:"time_zone"`
	}
	if err := Decode(c, &in); err != nil {
		return web.Answer{}, err
	}
	var v Checker
	if in.PersonalBestLPM != nil {
		v.IntRange("personal_best_lpm", *in.PersonalBestLPM, MinPersonalPEF, MaxPEF)
	}
	p := Plan{PersonalBestLPM: in.PersonalBestLPM, TimeZone: DefaultTimeZone}
	if in.TimeZone != nil {
		p.TimeZone = *in.TimeZone
		v.Zone("time_zone", *in.TimeZone, a.zones)
	}
	if err := v.Err(); err != nil {
		return web.Answer{}, err
	}
	uid := UserID(c)
	err := WriteTx(c.Request.Context(), a.db, uid, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(c.Request.Context(), `INSERT INTO care_plans (user_id, personal_best_lpm, time_zone) VALUES (?, ?, ?)
			ON DUPLICATE KEY UPDATE personal_best_lpm = VALUES(personal_best_lpm), time_zone = VALUES(time_zone)`,
			uid, p.PersonalBestLPM, p.TimeZone)
		if err != nil {
			return fmt.Errorf("records: save plan: %w", err)
		}
		return nil
	})
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(p), nil
}

// kind is one record type: its table, the columns read and written, and
// how a request body becomes the written values.
type kind struct {
	path    string
	table   string
	columns string // selected columns, id first
	order   string // column the lists are ordered and ranged by
	scan    func(rows interface{ Scan(...any) error }) (any, error)
	dates   bool // the range column is a DATE (health events)
	// fields are the written columns (user_id aside), in the order of the
	// values parse returns followed by those complete adds.
	fields []string
	// parse decodes and validates a body for POST and PUT alike.
	parse func(c *gin.Context) ([]any, error)
	// complete, when set, adds derived values inside the write's
	// transaction (the zone snapshot of a peak flow); id is 0 for a create.
	complete func(ctx context.Context, tx *sql.Tx, uid, id uint64, values []any) ([]any, error)
}

func (a *API) kinds() []kind {
	return []kind{
		{path: "symptoms", table: "symptom_records", order: "recorded_at",
			columns: "id, recorded_at, severity, night_waking, activity_limited, triggers, memo",
			scan:    scanSymptom, parse: a.parseSymptom,
			fields: []string{"recorded_at", "severity", "night_waking", "activity_limited", "triggers", "memo"}},
		{path: "peak-flows", table: "peak_flow_records", order: "recorded_at",
			columns: "id, recorded_at, value_lpm, slot, personal_best_lpm, percent_of_best, zone",
			scan:    scanPeakFlow, parse: a.parsePeakFlow, complete: peakFlowZone,
			fields: []string{"recorded_at", "value_lpm", "slot", "personal_best_lpm", "percent_of_best", "zone"}},
		{path: "act-results", table: "act_results", order: "recorded_at",
			columns: "id, recorded_at, q1, q2, q3, q4, q5, total",
			scan:    scanACT, parse: a.parseACT,
			fields: []string{"recorded_at", "q1", "q2", "q3", "q4", "q5", "total"}},
		{path: "health-events", table: "health_events", order: "start_date", dates: true,
			columns: "id, kind, start_date, end_date, memo",
			scan:    scanHealthEvent, parse: a.parseHealthEvent,
			fields: []string{"kind", "start_date", "end_date", "memo"}},
	}
}

// List is the answer of the list endpoints.
type List struct {
	Items []any     `json:"items"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// NextCursor continues the list after its last item (nil on the last page).
	NextCursor *string `json:"next_cursor"`
}

func (a *API) list(k kind) web.Handler {
	l := Pager{Name: k.path, Ranged: true, Dates: k.dates}
	return func(c *gin.Context) (web.Answer, error) {
		uid := UserID(c)
		loc, _, err := a.zones.User(c.Request.Context(), a.db, uid)
		if err != nil {
			return web.Answer{}, err
		}
		p, err := l.Parse(c, loc, a.now())
		if err != nil {
			return web.Answer{}, err
		}
		var lo, hi any = p.From, p.To
		if k.dates { // health events: local dates overlapping [from, to)
			lo, hi = p.From.In(loc).Format(time.DateOnly), p.To.In(loc).Format(time.DateOnly)
		}
		cond, after := p.Keyset(k.order)
		query := "SELECT " + k.columns + " FROM " + k.table + " WHERE user_id = ? AND " + k.order + " >= ? AND " + k.order + " < ?" +
			cond + " ORDER BY " + k.order + ", id LIMIT ?"
		args := append(append([]any{uid, lo, hi}, after...), p.Limit+1)
		items, err := mysql.QueryAll(c.Request.Context(), a.db, k.scan, query, args...)
		if err != nil {
			return web.Answer{}, fmt.Errorf("records: list %s: %w", k.table, err)
		}
		out := List{From: p.From, To: p.To}
		out.Items, out.NextCursor = Cut(l, p, items, position)
		return web.OK(out), nil
	}
}

// position is a record's place in its list.
func position(item any) (string, uint64) {
	switch x := item.(type) {
	case Symptom:
		return Instant(x.RecordedAt), x.ID
	case PeakFlow:
		return Instant(x.RecordedAt), x.ID
	case ACTResult:
		return Instant(x.RecordedAt), x.ID
	case HealthEvent:
		return x.StartDate, x.ID
	}
	return "", 0
}

func (a *API) get(k kind) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		item, err := a.fetch(c.Request.Context(), k, UserID(c), id)
		return web.OK(item), err
	}
}

func (a *API) fetch(ctx context.Context, k kind, uid, id uint64) (any, error) {
	row := a.db.QueryRowContext(ctx, "SELECT "+k.columns+" FROM "+k.table+" WHERE id = ? AND user_id = ?", id, uid)
	item, err := k.scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("records: get %s: %w", k.table, err)
	}
	return item, nil
}

// Remove is the handler of DELETE …/:id of one of the caller's rows: stmt
// deletes (or soft-deletes) it, run in WriteTx with the arguments lead()
// (nil: none) followed by the id and the caller's id; no row is 404.
func Remove(db *sql.DB, stmt string, lead func() []any) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		ctx, uid := c.Request.Context(), UserID(c)
		var args []any
		if lead != nil {
			args = lead()
		}
		err = WriteTx(ctx, db, uid, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, stmt, append(args, id, uid)...)
			if err != nil {
				return fmt.Errorf("records: remove: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
			return nil
		})
		if err != nil {
			return web.Answer{}, err
		}
		return web.NoContent(), nil
	}
}

// create inserts a record (with the version bump) and answers it as read back.
func (a *API) create(k kind) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		values, err := k.parse(c)
		if err != nil {
			return web.Answer{}, err
		}
		uid := UserID(c)
		var id int64
		err = WriteTx(c.Request.Context(), a.db, uid, func(tx *sql.Tx) error {
			if k.complete != nil {
				if values, err = k.complete(c.Request.Context(), tx, uid, 0, values); err != nil {
					return err
				}
			}
			marks := strings.Repeat(", ?", len(k.fields))
			res, err := tx.ExecContext(c.Request.Context(), "INSERT INTO "+k.table+" (user_id, "+strings.Join(k.fields, ", ")+") VALUES (?"+marks+")",
				append([]any{uid}, values...)...)
			if err != nil {
				return fmt.Errorf("records: insert %s: %w", k.table, err)
			}
			id, _ = res.LastInsertId()
			return nil
		})
		if err != nil {
			return web.Answer{}, err
		}
		item, err := a.fetch(c.Request.Context(), k, uid, uint64(id))
		return web.Created(item), err
	}
}

// replace is PUT: the record gets exactly what a POST of the same body would
// have created (validated the same way), keeping its id. Another user's
// record is not found; an invalid body changes nothing.
func (a *API) replace(k kind) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		id, err := web.PathID(c, "id")
		if err != nil {
			return web.Answer{}, err
		}
		values, err := k.parse(c)
		if err != nil {
			return web.Answer{}, err
		}
		uid := UserID(c)
		err = WriteTx(c.Request.Context(), a.db, uid, func(tx *sql.Tx) error {
			var found uint64
			err := tx.QueryRowContext(c.Request.Context(), "SELECT id FROM "+k.table+" WHERE id = ? AND user_id = ? FOR UPDATE", id, uid).Scan(&found)
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			if err != nil {
				return fmt.Errorf("records: lock %s: %w", k.table, err)
			}
			if k.complete != nil {
				if values, err = k.complete(c.Request.Context(), tx, uid, id, values); err != nil {
					return err
				}
			}
			_, err = tx.ExecContext(c.Request.Context(), "UPDATE "+k.table+" SET "+strings.Join(k.fields, " = ?, ")+" = ? WHERE id = ? AND user_id = ?",
				append(values, id, uid)...)
			if err != nil {
				return fmt.Errorf("records: update %s: %w", k.table, err)
			}
			return nil
		})
		if err != nil {
			return web.Answer{}, err
		}
		item, err := a.fetch(c.Request.Context(), k, uid, id)
		return web.OK(item), err
	}
}

// Symptom is one symptom diary entry.
type Symptom struct {
	ID              uint64    `json:"id"`
	RecordedAt      time.Time `json:"recorded_at"`
	Severity        int       `json:"severity"`
	NightWaking     bool      `json:"night_waking"`
	ActivityLimited bool      `json:"activity_limited"`
	Triggers        []string  `json:"triggers"`
	Memo            string    `json:"memo"`
}

func scanSymptom(r interface{ Scan(...any) error }) (any, error) {
	var s Symptom
	var triggers string
	if err := r.Scan(&s.ID, &s.RecordedAt, &s.Severity, &s.NightWaking, &s.ActivityLimited, &triggers, &s.Memo); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(triggers), &s.Triggers); err != nil || s.Triggers == nil {
		s.Triggers = []string{}
	}
	return s, nil
}

func (a *API) parseSymptom(c *gin.Context) ([]any, error) {
	var in struct {
		RecordedAt      *string  `json:"recorded_at"`
		Severity        *int     `json:"severity"`
		NightWaking     bool     `json:"night_waking"`
		ActivityLimited bool     `json:"activity_limited"`
		Triggers        []string `json:"triggers"`
		Memo            string   `json:"memo"`
	}
	if err := Decode(c, &in); err != nil {
		return nil, err
	}
	var v Checker
	var at time.Time
	if web.Required(&v.Fields, "recorded_at", in.RecordedAt) {
		at = v.Instant("recorded_at", *in.RecordedAt, a.now())
	}
	if web.Required(&v.Fields, "severity", in.Severity) {
		v.IntRange("severity", *in.Severity, SeverityNone, SeverityMax)
	}
	if len(in.Triggers) > 10 {
		v.Add("triggers", web.FieldTooLong, "triggers 는 10개까지입니다.")
	}
	for i, t := range in.Triggers {
		if t == "" || len([]rune(t)) > 30 {
			v.Add("triggers", web.FieldInvalid, "triggers 의 항목은 1~30자여야 합니다.")
			break
		}
		v.UserText(fmt.Sprintf("triggers[%d]", i), t, true)
	}
	v.MaxLen("memo", in.Memo, 1000)
	v.UserText("memo", in.Memo, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if in.Triggers == nil {
		in.Triggers = []string{}
	}
	triggers, _ := json.Marshal(in.Triggers)
	return []any{at, *in.Severity, in.NightWaking, in.ActivityLimited, string(triggers), in.Memo}, nil
}

// PeakFlow is one peak expiratory flow reading.
type PeakFlow struct {
	ID              uint64    `json:"id"`
	RecordedAt      time.Time `json:"recorded_at"`
	ValueLPM        int       `json:"value_lpm"`
	Slot            string    `json:"slot"`
	PersonalBestLPM *int      `json:"personal_best_lpm"`
	PercentOfBest   *int      `json:"percent_of_best"`
	Zone            *string   `json:"zone"`
}

func scanPeakFlow(r interface{ Scan(...any) error }) (any, error) {
	var p PeakFlow
	var best, pct sql.NullInt64
	var zone sql.NullString
	if err := r.Scan(&p.ID, &p.RecordedAt, &p.ValueLPM, &p.Slot, &best, &pct, &zone); err != nil {
		return nil, err
	}
	if best.Valid {
		b, q := int(best.Int64), int(pct.Int64)
		p.PersonalBestLPM, p.PercentOfBest = &b, &q
	}
	if zone.Valid {
		p.Zone = &zone.String
	}
	return p, nil
}

func (a *API) parsePeakFlow(c *gin.Context) ([]any, error) {
	var in struct {
		RecordedAt *string `json:"recorded_at"`
		ValueLPM   *int    `json:"value_lpm"`
		Slot       *string `json:"slot"`
	}
	if err := Decode(c, &in); err != nil {
		return nil, err
	}
	var v Checker
	var at time.Time
	if web.Required(&v.Fields, "recorded_at", in.RecordedAt) {
		at = v.Instant("recorded_at", *in.RecordedAt, a.now())
	}
	if web.Required(&v.Fields, "value_lpm", in.ValueLPM) {
		v.IntRange("value_lpm", *in.ValueLPM, 1, MaxPEF)
	}
	if web.Required(&v.Fields, "slot", in.Slot) {
		v.OneOf("slot", *in.Slot, "morning", "evening", "other")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []any{at, *in.ValueLPM, *in.Slot}, nil
}

// peakFlowZone adds the personal best, percentage and zone of a reading
// (values: recorded_at, value_lpm, slot). A new reading snapshots the plan,
// read with a shared lock so the stored zone matches the best it names; an
// edited one keeps the best of its first recording (the zone of its time),
// recomputed for the new value.
func peakFlowZone(ctx context.Context, tx *sql.Tx, uid, id uint64, values []any) ([]any, error) {
	var best sql.NullInt64
	var err error
	if id == 0 {
		err = tx.QueryRowContext(ctx, `SELECT personal_best_lpm FROM care_plans WHERE user_id = ? LOCK IN SHARE MODE`, uid).Scan(&best)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	} else {
		err = tx.QueryRowContext(ctx, `SELECT personal_best_lpm FROM peak_flow_records WHERE id = ? AND user_id = ?`, id, uid).Scan(&best)
	}
	if err != nil {
		return nil, fmt.Errorf("records: personal best: %w", err)
	}
	var bestArg, pctArg, zoneArg any
	if best.Valid {
		if pct, ok := PercentOfBest(values[1].(int), int(best.Int64)); ok {
			bestArg, pctArg, zoneArg = best.Int64, pct, ZoneOf(pct)
		}
	}
	return append(values, bestArg, pctArg, zoneArg), nil
}

// ACTResult is one Asthma Control Test.
type ACTResult struct {
	ID         uint64    `json:"id"`
	RecordedAt time.Time `json:"recorded_at"`
	Answers    [5]int    `json:"answers"`
	Total      int       `json:"total"`
	Control    string    `json:"control"`
}

func scanACT(r interface{ Scan(...any) error }) (any, error) {
	var x ACTResult
	if err := r.Scan(&x.ID, &x.RecordedAt, &x.Answers[0], &x.Answers[1], &x.Answers[2], &x.Answers[3], &x.Answers[4], &x.Total); err != nil {
		return nil, err
	}
	x.Control = ACTControl(x.Total)
	return x, nil
}

func (a *API) parseACT(c *gin.Context) ([]any, error) {
	var in struct {
		RecordedAt *string `json:"recorded_at"`
		Answers    []int   `json:"answers"`
	}
	if err := Decode(c, &in); err != nil {
		return nil, err
	}
	var v Checker
	var at time.Time
	if web.Required(&v.Fields, "recorded_at", in.RecordedAt) {
		at = v.Instant("recorded_at", *in.RecordedAt, a.now())
	}
	var answers [5]int
	switch {
	case in.Answers == nil:
		v.Add("answers", web.FieldRequired, "answers 값이 필요합니다.")
	case len(in.Answers) != 5:
		v.Add("answers", web.FieldInvalid, "answers 는 다섯 개의 답(1~5)이어야 합니다.")
	default:
		for i, n := range in.Answers {
			v.IntRange(fmt.Sprintf("answers[%d]", i), n, 1, 5)
			answers[i] = n
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	total, err := ACTTotal(answers)
	if err != nil {
		return nil, err
	}
	return []any{at, answers[0], answers[1], answers[2], answers[3], answers[4], total}, nil
}

// HealthEvent is an exacerbation: an ER visit, an admission or an oral
// steroid course. Dates are local dates in the user's zone.
type HealthEvent struct {
	ID        uint64  `json:"id"`
	Kind      string  `json:"kind"`
	StartDate string  `json:"start_date"`
	EndDate   *string `json:"end_date"`
	Memo      string  `json:"memo"`
}

// Health event kinds.
const (
	EventERVisit     = "er_visit"
	EventAdmission   = "admission"
	EventOralSteroid = "oral_steroid"
)

func scanHealthEvent(r interface{ Scan(...any) error }) (any, error) { return ScanHealthEvent(r) }

// ScanHealthEvent reads the columns id, kind, start_date, end_date, memo.
func ScanHealthEvent(r mysql.Scanner) (HealthEvent, error) {
	var h HealthEvent
	var start time.Time
	var end sql.NullTime
	if err := r.Scan(&h.ID, &h.Kind, &start, &end, &h.Memo); err != nil {
		return h, err
	}
	h.StartDate = start.Format(time.DateOnly)
	if end.Valid {
		s := end.Time.Format(time.DateOnly)
		h.EndDate = &s
	}
	return h, nil
}

func (a *API) parseHealthEvent(c *gin.Context) ([]any, error) {
	var in struct {
		Kind      *string `json:"kind"`
		StartDate *string `json:"start_date"`
		EndDate   *string `json:"end_date"`
		Memo      string  `json:"memo"`
	}
	if err := Decode(c, &in); err != nil {
		return nil, err
	}
	var v Checker
	if web.Required(&v.Fields, "kind", in.Kind) {
		v.OneOf("kind", *in.Kind, EventERVisit, EventAdmission, EventOralSteroid)
	}
	var start, end time.Time
	okStart, okEnd := false, false
	// An event has started by tomorrow (the records' bounds); its end may be
	// planned (an oral steroid course), at most a year further.
	latest := web.LatestRecord(a.now())
	if web.Required(&v.Fields, "start_date", in.StartDate) {
		start, okStart = v.Date("start_date", *in.StartDate, latest)
	}
	var endArg any
	if in.EndDate != nil {
		end, okEnd = v.Date("end_date", *in.EndDate, latest.AddDate(1, 0, 0))
		if okEnd {
			endArg = end.Format(time.DateOnly)
		}
	}
	if okStart && okEnd && end.Before(start) {
		v.Add("end_date", web.FieldOutOfRange, "end_date 는 start_date 이후여야 합니다.")
	}
	v.MaxLen("memo", in.Memo, 1000)
	v.UserText("memo", in.Memo, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return []any{*in.Kind, start.Format(time.DateOnly), endArg, in.Memo}, nil
}
