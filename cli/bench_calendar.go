package cli

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
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

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/report"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/web"
)

// newBenchCalendarCmd is `soomcare bench calendar`: the month calendar of a
// user with a year of records, served on loopback and driven by a bounded
// pool of load-generator goroutines.
func newBenchCalendarCmd(e *env) *cobra.Command {
	var (
		concurrency int
		duration    time.Duration
		maxRequests int
		otherUsers  int
		only        []string
	)
	cmd := &cobra.Command{
		Use:   "calendar",
		Short: "Month calendar throughput and latency (target ≥ 3000 req/s, p99 ≤ 20 ms)",
		Long: `Creates a scratch database on the configured MySQL server (dropped at the end), loads one user
with a year of records (2 peak-flow readings, a symptom check-in, 2 controller doses and some reliever
puffs a day) among --other-users users with the same volume, serves
GET /v1/me/calendar on 127.0.0.1 with real access tokens, and requests random months of that year from
--concurrency goroutines for --duration (or --requests) in three phases:

  uncached     the month cache off: every request reads the month from MySQL and computes it
               (what the first view of a month, or any view after a write, costs)
  cached       the cache on (warmed up by the 1 s warm-up): one version lookup per request, the
               month from memory
  revalidated  the cache on and the client sending If-None-Match with the ETag it got: 304, no body

Prints req/s and p50/p90/p99 latency of each phase.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.config()
			if err != nil {
				return err
			}
			if concurrency < 1 || concurrency > 512 || duration <= 0 || duration > 10*time.Minute || maxRequests < 1 {
				return usageError{fmt.Errorf("bench calendar: --concurrency 1-512, --duration up to 10m, --requests ≥ 1")}
			}
			for _, p := range only {
				if !slices.Contains(calendarPhases, p) {
					return usageError{fmt.Errorf("bench calendar: --phases: %q is not one of %s", p, strings.Join(calendarPhases, ", "))}
				}
			}
			return benchCalendar(cmd.Context(), e.stdout, c, concurrency, duration, maxRequests, otherUsers, only)
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 8, "load-generator goroutines (a few per core: more only adds queueing)")
	cmd.Flags().DurationVar(&duration, "duration", 10*time.Second, "how long to measure (after a 1 s warm-up)")
	cmd.Flags().IntVar(&maxRequests, "requests", 1_000_000, "stop after this many requests")
	cmd.Flags().IntVar(&otherUsers, "other-users", 20, "users with the same volume of records beside the measured one")
	cmd.Flags().StringSliceVar(&only, "phases", calendarPhases, "phases to run (for profiling one of them)")
	return cmd
}

// calendarPhases are the phases of the calendar bench, in order.
var calendarPhases = []string{"uncached", "cached", "revalidated"}

func benchCalendar(ctx context.Context, out io.Writer, c *config.Config, concurrency int, duration time.Duration, maxRequests, otherUsers int, only []string) error {
	db, drop, err := scratchDatabase(ctx, c)
	if err != nil {
		return err
	}
	defer drop()
	year := time.Now().UTC().Year() - 1
	start := time.Now()
	var target uint64
	for i := range otherUsers + 1 {
		uid, err := loadCalendarUser(ctx, db, i, year)
		if err != nil {
			return err
		}
		if i == otherUsers/2 {
			target = uid
		}
	}
	var rows int
	db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM symptom_records) + (SELECT COUNT(*) FROM peak_flow_records) + (SELECT COUNT(*) FROM medication_intakes)`).Scan(&rows)
	fmt.Fprintf(out, "loaded %d users × a year (%d) of records: %d rows in %s\n", otherUsers+1, year, rows, time.Since(start).Round(time.Millisecond))

	secret := make([]byte, 32)
	rand.Read(secret)
	tokens, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: secret, Issuer: "soomcare-bench", AccessTTL: time.Hour}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "GET /v1/me/calendar?month=%d-MM on 127.0.0.1: %d goroutines, %s per phase (+1 s warm-up), at most %d requests\n", year, concurrency, duration, maxRequests)
	phases := []struct {
		name, what  string
		cache       int // report.Options.CalendarCache
		conditional bool
	}{
		{"uncached", "cache off, every request reads MySQL", -1, false},
		{"cached", "one version lookup, month from memory", 0, false},
		{"revalidated", "If-None-Match → 304", 0, true},
	}
	met := map[string]bool{}
	for _, p := range phases {
		if !slices.Contains(only, p.name) {
			continue
		}
		r, err := calendarPhase(ctx, db, tokens, target, year, p.cache, p.conditional, concurrency, duration, maxRequests)
		if err != nil {
			return fmt.Errorf("bench calendar: %s: %w", p.name, err)
		}
		met[p.name] = r.rps >= 3000 && r.p99 <= 20*time.Millisecond && r.failed == 0
		fmt.Fprintf(out, "%-11s requests %d, errors %d, %.0f req/s, p50 %s, p90 %s, p99 %s, max %s  (%s)\n",
			p.name, r.n, r.failed, r.rps, ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max), p.what)
	}
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	if slices.Contains(only, "cached") && slices.Contains(only, "uncached") {
		fmt.Fprintf(out, "target ≥ 3000 req/s and p99 ≤ 20 ms: %s for an unchanged month (cached), %s when every request misses (uncached)\n",
			verdict(met["cached"]), verdict(met["uncached"]))
	}
	return nil
}

// phaseResult is what one phase of the calendar bench measured.
type phaseResult struct {
	n, failed          int
	rps                float64
	p50, p90, p99, max time.Duration
}

// calendarPhase serves the calendar with the given cache size on a fresh
// loopback server and drives it for duration after a 1 s warm-up.
func calendarPhase(ctx context.Context, db *sql.DB, tokens *auth.TokenIssuer, target uint64, year, cache int, conditional bool, concurrency int, duration time.Duration, maxRequests int) (phaseResult, error) {
	var r phaseResult
	bearer, _, err := tokens.Issue(web.Principal{UserID: target, Role: web.RoleUser})
	if err != nil {
		return r, err
	}
	api := report.New(db, report.Options{Logger: slog.New(slog.DiscardHandler), CalendarCache: cache})
	defer api.Close()
	srv := server.New(config.HTTP{MaxBodyBytes: 1 << 20}, slog.New(slog.DiscardHandler), nil, auth.Use(tokens), api.Mount)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String() + "/v1/me/calendar?month="
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency}}
	defer client.CloseIdleConnections()

	// Check one answer before measuring.
	if _, err := calendarRequest(ctx, client, base+fmt.Sprintf("%d-06", year), bearer, ""); err != nil {
		return r, fmt.Errorf("first request: %w", err)
	}
	warm, cancelWarm := context.WithTimeout(ctx, time.Second)
	drive(warm, client, base, bearer, year, concurrency, maxRequests, conditional, nil)
	cancelWarm()

	run, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	lat := make([][]time.Duration, concurrency)
	t0 := time.Now()
	r.n, r.failed = drive(run, client, base, bearer, year, concurrency, maxRequests, conditional, lat)
	elapsed := time.Since(t0)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(float64(len(all))*p))]
	}
	r.rps = float64(r.n) / elapsed.Seconds()
	r.p50, r.p90, r.p99, r.max = pct(0.50), pct(0.90), pct(0.99), pct(1)
	return r, nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// drive runs the goroutine pool until ctx ends or max requests were sent;
// lat (when not nil) receives each worker's latencies. conditional clients
// send If-None-Match with the ETag they last got for the month.
func drive(ctx context.Context, client *http.Client, base, bearer string, year, workers, max int, conditional bool, lat [][]time.Duration) (int, int) {
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(w), 7))
			var etags [12]string
			for ctx.Err() == nil && sent.Add(1) <= int64(max) {
				month := r.IntN(12)
				u := base + fmt.Sprintf("%d-%02d", year, 1+month)
				t := time.Now()
				etag, err := calendarRequest(ctx, client, u, bearer, etags[month])
				if ctx.Err() != nil {
					sent.Add(-1)
					return
				}
				if err != nil {
					failed.Add(1)
				}
				if conditional && etag != "" {
					etags[month] = etag
				}
				if lat != nil {
					lat[w] = append(lat[w], time.Since(t))
				}
			}
		}()
	}
	wg.Wait()
	return int(min(sent.Load(), int64(max))), int(failed.Load())
}

// calendarRequest sends one request (conditional when etag is not empty)
// and checks the answer: 200 with the days, or 304 for a conditional one.
// It returns the answer's ETag.
func calendarRequest(ctx context.Context, client *http.Client, u, bearer, etag string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := client.Do(req)
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

// scratchDatabase creates and migrates soomcare_bench_<random> on the
// configured server; drop removes it.
func scratchDatabase(ctx context.Context, c *config.Config) (*sql.DB, func(), error) {
	admin, err := openMySQL(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	b := make([]byte, 5)
	rand.Read(b)
	name := "soomcare_bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		admin.Close()
		return nil, nil, fmt.Errorf("bench: create scratch database (the mysql.dsn user needs CREATE/DROP): %w", err)
	}
	drop := func() {
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name)
		admin.Close()
	}
	cfg, err := mysql.ParseDSN(c.MySQL.DSN)
	if err != nil {
		drop()
		return nil, nil, err
	}
	cfg.DBName = name
	db, err := mysql.Open(ctx, cfg.FormatDSN(), mysql.Options{MaxOpenConns: c.MySQL.MaxOpenConns, MaxIdleConns: c.MySQL.MaxOpenConns})
	if err != nil {
		drop()
		return nil, nil, err
	}
	m, err := mysql.NewMigrator(db, nil)
	if err == nil {
		_, err = m.Up(ctx)
	}
	if err != nil {
		db.Close()
		drop()
		return nil, nil, err
	}
	return db, func() { db.Close(); drop() }, nil
}

// loadCalendarUser inserts one user with a year of records and returns its id.
func loadCalendarUser(ctx context.Context, db *sql.DB, i, year int) (uint64, error) {
	res, err := db.ExecContext(ctx, `INSERT INTO users (email, nickname) VALUES (?, ?)`, fmt.Sprintf("bench%d@example.test", i), fmt.Sprintf("벤치%d", i))
	if err != nil {
		return 0, err
	}
	id, _ := res.LastInsertId()
	uid := uint64(id)
	loc, _ := time.LoadLocation("Asia/Seoul")
	first := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	if _, err := db.ExecContext(ctx, `INSERT INTO care_plans (user_id, personal_best_lpm, time_zone) VALUES (?, 500, 'Asia/Seoul')`, uid); err != nil {
		return 0, err
	}
	var meds [2]int64
	for j, role := range []string{"controller", "reliever"} {
		res, err := db.ExecContext(ctx, `INSERT INTO medications (user_id, name, role, form, dose, dose_unit) VALUES (?, ?, ?, 'inhaler', 100, 'mcg')`, uid, role, role)
		if err != nil {
			return 0, err
		}
		meds[j], _ = res.LastInsertId()
	}
	res, err = db.ExecContext(ctx, `INSERT INTO medication_schedules (user_id, medication_id, times, weekdays, time_zone, active_from) VALUES (?, ?, '08:00,20:00', 127, 'Asia/Seoul', ?)`, uid, meds[0], first.UTC())
	if err != nil {
		return 0, err
	}
	sched, _ := res.LastInsertId()
	r := mrand.New(mrand.NewPCG(uint64(i), 42))
	var sym, pef, intake batch
	for d := 0; d < 365; d++ {
		day := first.AddDate(0, 0, d)
		at := func(h, m int) time.Time {
			return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute).UTC()
		}
		sev := r.IntN(4) * r.IntN(2)
		sym.add(uid, at(21, r.IntN(60)), sev, r.IntN(10) == 0, sev >= 2)
		for _, slot := range []string{"morning", "evening"} {
			h := 7
			if slot == "evening" {
				h = 21
			}
			v := 300 + r.IntN(220)
			pct := v * 100 / 500
			zone := "green"
			if pct < 50 {
				zone = "red"
			} else if pct < 80 {
				zone = "yellow"
			}
			pef.add(uid, at(h, r.IntN(30)), v, slot, 500, pct, zone)
		}
		for _, h := range []int{8, 20} {
			if r.IntN(10) < 8 {
				intake.add(uid, meds[0], sched, at(h, 0), "taken", at(h, 5+r.IntN(20)))
			}
		}
		for range r.IntN(3) {
			intake.add(uid, meds[1], nil, nil, "taken", at(12+r.IntN(8), r.IntN(60)))
		}
	}
	for _, b := range []struct {
		q string
		b *batch
	}{
		{"INSERT INTO symptom_records (user_id, recorded_at, severity, night_waking, activity_limited) VALUES ", &sym},
		{"INSERT INTO peak_flow_records (user_id, recorded_at, value_lpm, slot, personal_best_lpm, percent_of_best, zone) VALUES ", &pef},
		{"INSERT INTO medication_intakes (user_id, medication_id, schedule_id, scheduled_at, status, recorded_at) VALUES ", &intake},
	} {
		if err := b.b.flush(ctx, db, b.q); err != nil {
			return 0, err
		}
	}
	return uid, nil
}

// batch collects rows of one multi-row INSERT.
type batch struct {
	rows [][]any
}

func (b *batch) add(v ...any) { b.rows = append(b.rows, v) }

func (b *batch) flush(ctx context.Context, db *sql.DB, prefix string) error {
	for start := 0; start < len(b.rows); start += 500 {
		part := b.rows[start:min(start+500, len(b.rows))]
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(part[0])), ", ") + ")"
		var args []any
		q := prefix + strings.TrimSuffix(strings.Repeat(ph+", ", len(part)), ", ")
		for _, r := range part {
			args = append(args, r...)
		}
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("bench: load: %w", err)
		}
	}
	return nil
}
