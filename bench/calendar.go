package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/report"
	"github.com/soomcare/soomcare/seed"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

// CalendarPhases are the phases of the calendar bench, in order.
var CalendarPhases = []string{"uncached", "cached", "revalidated"}

// calendarPhase is one way of asking for the month calendar.
type calendarPhase struct {
	name, what  string
	cache       int // report.Options.CalendarCache
	conditional bool
}

var calendarPhaseSpecs = []calendarPhase{
	{"uncached", "cache off, every request reads MySQL", -1, false},
	{"cached", "one version lookup, month from memory", 0, false},
	{"revalidated", "If-None-Match → 304", 0, true},
}

// CalendarSpec is what Calendar runs.
type CalendarSpec struct {
	DSN          string // a MySQL server (the bench creates and drops its own database)
	MaxOpenConns int    // the scratch database's pool
	Concurrency  int    // load-generator goroutines
	Duration     time.Duration
	MaxRequests  int
	OtherUsers   int      // users with the same volume beside the measured one
	Phases       []string // a subset of CalendarPhases
	Out          io.Writer
}

// Validate refuses unbounded load and unknown phases.
func (s CalendarSpec) Validate() error {
	if s.Concurrency < 1 || s.Concurrency > 512 || s.Duration <= 0 || s.Duration > 10*time.Minute || s.MaxRequests < 1 || s.OtherUsers < 0 {
		return fmt.Errorf("bench calendar: --concurrency 1-512, --duration up to 10m, --requests ≥ 1")
	}
	for _, p := range s.Phases {
		if !slices.Contains(CalendarPhases, p) {
			return fmt.Errorf("bench calendar: --phases: %q is not one of %s", p, strings.Join(CalendarPhases, ", "))
		}
	}
	return nil
}

// CalendarResult is what one phase measured.
type CalendarResult struct {
	Phase, What string
	Load        LoadResult
}

// Met is the target: ≥ 3000 req/s and p99 ≤ 20 ms without an error.
func (r CalendarResult) Met() bool {
	return r.Load.Achieved >= 3000 && r.Load.P99 <= 20 && r.Load.Errors == 0
}

// CalendarReport is the outcome of Calendar.
type CalendarReport struct {
	Phases []CalendarResult
}

// Calendar loads a scratch database with OtherUsers+1 users × a year of
// records, serves GET /v1/me/calendar on loopback with real access tokens
// and drives each phase for Duration (after a 1 s warm-up) from Concurrency
// goroutines. Progress goes to spec.Out.
func Calendar(ctx context.Context, spec CalendarSpec) (CalendarReport, error) {
	var rep CalendarReport
	if err := spec.Validate(); err != nil {
		return rep, err
	}
	s, err := newScratch(ctx, spec.DSN, max(spec.MaxOpenConns, 1))
	if err != nil {
		return rep, err
	}
	defer s.close()
	year := time.Now().UTC().Year() - 1
	target, err := loadCalendarUsers(ctx, s.db, spec, year)
	if err != nil {
		return rep, err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	tokens, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: secret, Issuer: "soomcare-bench", AccessTTL: time.Hour}, nil)
	if err != nil {
		return rep, err
	}
	bearer, _, err := tokens.Issue(web.Principal{UserID: target, Role: web.RoleUser})
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(spec.Out, "GET /v1/me/calendar?month=%d-MM on 127.0.0.1: %d goroutines, %s per phase (+1 s warm-up), at most %d requests\n",
		year, spec.Concurrency, spec.Duration, spec.MaxRequests)
	for _, p := range calendarPhaseSpecs {
		if !slices.Contains(spec.Phases, p.name) {
			continue
		}
		l, err := runCalendarPhase(ctx, s.db, tokens, bearer, year, p, spec)
		if err != nil {
			return rep, fmt.Errorf("bench calendar: %s: %w", p.name, err)
		}
		rep.Phases = append(rep.Phases, CalendarResult{Phase: p.name, What: p.what, Load: l})
	}
	return rep, nil
}

// Print writes a line per phase and, when both the cached and the uncached
// phase ran, the verdict on the target.
func (r CalendarReport) Print(w io.Writer) {
	met := map[string]bool{}
	for _, p := range r.Phases {
		l := p.Load
		met[p.Phase] = p.Met()
		fmt.Fprintf(w, "%-11s requests %d, errors %d, %.0f req/s, p50 %.2fms, p90 %.2fms, p99 %.2fms, max %.2fms  (%s)\n",
			p.Phase, l.Sent, l.Errors, l.Achieved, l.P50, l.P90, l.P99, l.Max, p.What)
	}
	_, cached := met["cached"]
	_, uncached := met["uncached"]
	if cached && uncached {
		fmt.Fprintf(w, "target ≥ 3000 req/s and p99 ≤ 20 ms: %s for an unchanged month (cached), %s when every request misses (uncached)\n",
			verdict(met["cached"]), verdict(met["uncached"]))
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// loadCalendarUsers loads spec.OtherUsers+1 users and returns the measured one.
func loadCalendarUsers(ctx context.Context, db *sql.DB, spec CalendarSpec, year int) (uint64, error) {
	start := time.Now()
	var target uint64
	for i := range spec.OtherUsers + 1 {
		uid, err := loadCalendarUser(ctx, db, i, year)
		if err != nil {
			return 0, err
		}
		if i == spec.OtherUsers/2 {
			target = uid
		}
	}
	var rows int
	err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM symptom_records) + (SELECT COUNT(*) FROM peak_flow_records) + (SELECT COUNT(*) FROM medication_intakes)`).Scan(&rows)
	if err != nil {
		return 0, fmt.Errorf("bench calendar: count rows: %w", err)
	}
	fmt.Fprintf(spec.Out, "loaded %d users × a year (%d) of records: %d rows in %s\n", spec.OtherUsers+1, year, rows, time.Since(start).Round(time.Millisecond))
	sizes, err := tableSizes(ctx, db, "symptom_records", "peak_flow_records", "medication_intakes")
	if err != nil {
		return 0, fmt.Errorf("bench calendar: %w", err)
	}
	for _, t := range sizes { // per-row bytes for the capacity plan (docs/capacity.md)
		fmt.Fprintf(spec.Out, "  table %-18s %8d rows  %7.1f MiB data+indexes  %4.0f bytes/row (InnoDB pages)\n",
			t.Name, t.Rows, float64(t.Bytes)/(1<<20), ratio(float64(t.Bytes), float64(t.Rows)))
	}
	return target, nil
}

// runCalendarPhase serves the calendar with the phase's cache size on a
// fresh loopback server and drives it for spec.Duration after a 1 s warm-up.
func runCalendarPhase(ctx context.Context, db *sql.DB, tokens *auth.TokenIssuer, bearer string, year int, p calendarPhase, spec CalendarSpec) (LoadResult, error) {
	api := report.New(db, report.Options{Logger: slog.New(slog.DiscardHandler), CalendarCache: p.cache})
	defer api.Close()
	srv := server.New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.New(slog.DiscardHandler), nil, auth.Use(tokens), api.Mount)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return LoadResult{}, err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	d := calendarDriver{
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConns: spec.Concurrency, MaxIdleConnsPerHost: spec.Concurrency}},
		base:   "http://" + ln.Addr().String() + "/v1/me/calendar?month=", bearer: bearer, year: year,
		workers: spec.Concurrency, max: spec.MaxRequests, conditional: p.conditional,
	}
	defer d.client.CloseIdleConnections()

	// Check one answer before measuring.
	if _, err := d.request(ctx, d.base+fmt.Sprintf("%d-06", year), ""); err != nil {
		return LoadResult{}, fmt.Errorf("first request: %w", err)
	}
	warm, cancelWarm := context.WithTimeout(ctx, time.Second)
	d.drive(warm, nil)
	cancelWarm()

	run, cancel := context.WithTimeout(ctx, spec.Duration)
	defer cancel()
	lat := make([][]time.Duration, spec.Concurrency)
	t0 := time.Now()
	var r LoadResult
	r.Sent, r.Errors = d.drive(run, lat)
	r.Seconds = time.Since(t0).Seconds()
	for _, l := range lat {
		for _, v := range l {
			r.Latencies = append(r.Latencies, float64(v.Microseconds())/1000)
		}
	}
	slices.Sort(r.Latencies)
	r.summarize()
	return r, nil
}

// calendarDriver is a closed-loop pool of clients asking for random months.
type calendarDriver struct {
	client       *http.Client
	base, bearer string
	year         int
	workers, max int
	conditional  bool // send If-None-Match with the ETag last got for the month
}

// drive runs the goroutine pool until ctx ends or max requests were sent;
// lat (when not nil) receives each worker's latencies.
func (d calendarDriver) drive(ctx context.Context, lat [][]time.Duration) (sent, failed int) {
	var nSent, nFailed atomic.Int64
	var wg sync.WaitGroup
	for w := range d.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(w), 7))
			var etags [12]string
			for ctx.Err() == nil && nSent.Add(1) <= int64(d.max) {
				month := r.IntN(12)
				u := d.base + fmt.Sprintf("%d-%02d", d.year, 1+month)
				t := time.Now()
				etag, err := d.request(ctx, u, etags[month])
				if ctx.Err() != nil {
					nSent.Add(-1)
					return
				}
				if err != nil {
					nFailed.Add(1)
				}
				if d.conditional && etag != "" {
					etags[month] = etag
				}
				if lat != nil {
					lat[w] = append(lat[w], time.Since(t))
				}
			}
		}()
	}
	wg.Wait()
	return int(min(nSent.Load(), int64(d.max))), int(nFailed.Load())
}

// request sends one request (conditional when etag is not empty) and checks
// the answer: 200 with the days, or 304 for a conditional one. It returns
// the answer's ETag.
func (d calendarDriver) request(ctx context.Context, u, etag string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+d.bearer)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := d.client.Do(req)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotModified && etag != "" && res.Header.Get("ETag") == etag:
	case res.StatusCode == http.StatusOK && strings.Contains(string(body), `"days"`) && res.Header.Get("ETag") != "":
	default:
		return "", fmt.Errorf("HTTP %d: %.200s", res.StatusCode, body)
	}
	return res.Header.Get("ETag"), nil
}

// Personal best of every bench user, in L/min.
const benchBest = 500

// loadCalendarUser inserts one user with a year of records (2 peak-flow
// readings, a symptom check-in, 2 controller doses and some reliever puffs a
// day) and returns its id.
func loadCalendarUser(ctx context.Context, db *sql.DB, i, year int) (uint64, error) {
	uid, meds, sched, err := insertCalendarUser(ctx, db, i, year)
	if err != nil {
		return 0, err
	}
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		return 0, err
	}
	first := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	r := mrand.New(mrand.NewPCG(uint64(i), 42))
	var sym, pef, intake [][]any
	for d := range 365 {
		day := first.AddDate(0, 0, d)
		at := func(h, m int) time.Time {
			return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).UTC()
		}
		sev := r.IntN(4) * r.IntN(2)
		sym = append(sym, []any{uid, at(21, r.IntN(60)), sev, r.IntN(10) == 0, sev >= 2})
		for _, slot := range []struct {
			name string
			hour int
		}{{"morning", 7}, {"evening", 21}} {
			v := 300 + r.IntN(220)
			pct, _ := records.PercentOfBest(v, benchBest)
			pef = append(pef, []any{uid, at(slot.hour, r.IntN(30)), v, slot.name, benchBest, pct, records.ZoneOf(pct)})
		}
		for _, h := range []int{8, 20} {
			if r.IntN(10) < 8 {
				intake = append(intake, []any{uid, meds[0], sched, at(h, 0), "taken", at(h, 5+r.IntN(20))})
			}
		}
		for range r.IntN(3) {
			intake = append(intake, []any{uid, meds[1], nil, nil, "taken", at(12+r.IntN(8), r.IntN(60))})
		}
	}
	for _, t := range []struct {
		table, cols string
		rows        [][]any
	}{
		{"symptom_records", "user_id, recorded_at, severity, night_waking, activity_limited", sym},
		{"peak_flow_records", "user_id, recorded_at, value_lpm, slot, personal_best_lpm, percent_of_best, zone", pef},
		{"medication_intakes", "user_id, medication_id, schedule_id, scheduled_at, status, recorded_at", intake},
	} {
		if err := seed.Insert(ctx, db, t.table, t.cols, t.rows, nil); err != nil {
			return 0, fmt.Errorf("bench calendar: %w", err)
		}
	}
	return uid, nil
}

// insertCalendarUser inserts a user with a care plan, a controller and a
// reliever, and the controller's schedule from January 1st of year.
func insertCalendarUser(ctx context.Context, db *sql.DB, i, year int) (uid uint64, meds [2]int64, sched int64, err error) {
	res, err := db.ExecContext(ctx, `INSERT INTO users (email, nickname) VALUES (?, ?)`, fmt.Sprintf("bench%d@example.test", i), fmt.Sprintf("벤치%d", i))
	if err != nil {
		return 0, meds, 0, fmt.Errorf("bench calendar: user: %w", err)
	}
	id, _ := res.LastInsertId()
	uid = uint64(id)
	if _, err := db.ExecContext(ctx, `INSERT INTO care_plans (user_id, personal_best_lpm, time_zone) VALUES (?, ?, 'Asia/Seoul')`, uid, benchBest); err != nil {
		return 0, meds, 0, fmt.Errorf("bench calendar: care plan: %w", err)
	}
	for j, role := range []string{"controller", "reliever"} {
		res, err := db.ExecContext(ctx, `INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, ?, ?, 'inhaler', 100, 'mcg')`, uid, role, role)
		if err != nil {
			return 0, meds, 0, fmt.Errorf("bench calendar: medication: %w", err)
		}
		meds[j], _ = res.LastInsertId()
	}
	first := time.Date(year, 1, 1, 0, 0, 0, 0, time.FixedZone("KST", 9*3600))
	res, err = db.ExecContext(ctx, `INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, '08:00,20:00', 127, 'Asia/Seoul', ?)`, uid, meds[0], first.UTC())
	if err != nil {
		return 0, meds, 0, fmt.Errorf("bench calendar: schedule: %w", err)
	}
	sched, _ = res.LastInsertId()
	return uid, meds, sched, nil
}
