package report

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/records"
)

// Store is the report's SQL: read-only range scans of the records and
// medication tables of one user, each a range scan of a (user_id, time)
// index. The statements are prepared once on the pool (one round trip per
// query on the hot calendar path instead of prepare/execute/close), so the
// store runs on its pool only. Each method calls its function once per row.
type Store struct {
	db    *sql.DB
	mu    sync.Mutex // guards preparing stmts
	stmts atomic.Pointer[map[string]*sql.Stmt]
}

// NewStore returns the store over the pool; Close releases its statements.
func NewStore(db *sql.DB) *Store { return &Store{db: db} }

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
	// month: see Month.
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

// State returns the user's records version and the zone name of the plan
// ("" without a plan).
func (s *Store) State(ctx context.Context, userID uint64) (uint64, string, error) {
	st, err := s.stmt(ctx, "state")
	if err != nil {
		return 0, "", err
	}
	var version uint64
	var zone sql.NullString
	if err := st.QueryRowContext(ctx, userID, userID).Scan(&version, &zone); err != nil {
		return 0, "", fmt.Errorf("report: state: %w", err)
	}
	return version, zone.String, nil
}

// Symptoms reads the symptom records of [from, to).
func (s *Store) Symptoms(ctx context.Context, userID uint64, from, to time.Time, fn func(at time.Time, severity int, night, limited bool)) error {
	var at time.Time
	var sev int
	var night, limited bool
	return s.each(ctx, "symptoms", func(r mysql.Scanner) error {
		if err := r.Scan(&at, &sev, &night, &limited); err != nil {
			return err
		}
		fn(at, sev, night, limited)
		return nil
	}, userID, from, to)
}

// PeakFlows reads the peak-flow readings of [from, to) with their zone
// ("" without a personal best).
func (s *Store) PeakFlows(ctx context.Context, userID uint64, from, to time.Time, fn func(at time.Time, lpm int, zone string)) error {
	var at time.Time
	var v int
	var zone string
	return s.each(ctx, "pef", func(r mysql.Scanner) error {
		if err := r.Scan(&at, &v, &zone); err != nil {
			return err
		}
		fn(at, v, zone)
		return nil
	}, userID, from, to)
}

// TakenIntakes reads the taken doses of controllers and relievers recorded
// in [from, to), with the dose's due time (scheduled doses) and the
// medication's role.
func (s *Store) TakenIntakes(ctx context.Context, userID uint64, from, to time.Time, fn func(at time.Time, due sql.NullTime, role string)) error {
	var at time.Time
	var due sql.NullTime
	var role string
	return s.each(ctx, "intakes", func(r mysql.Scanner) error {
		if err := r.Scan(&at, &due, &role); err != nil {
			return err
		}
		fn(at, due, role)
		return nil
	}, userID, from, to)
}

// ControllerSchedules reads the schedules of controllers active at some
// time in [from, to), deleted ones included.
func (s *Store) ControllerSchedules(ctx context.Context, userID uint64, from, to time.Time, fn func(times string, bits uint8, tz string, active time.Time, ended sql.NullTime)) error {
	var times, tz string
	var bits uint8
	var active time.Time
	var ended sql.NullTime
	return s.each(ctx, "schedules", func(r mysql.Scanner) error {
		if err := r.Scan(&times, &bits, &tz, &active, &ended); err != nil {
			return err
		}
		fn(times, bits, tz, active, ended)
		return nil
	}, userID, to, from)
}

// monthRow is one row of Month, (kind, at, n, at2, s): 1 symptom (n =
// severity×4 + night waking×2 + activity limited), 2 peak flow (n = L/min,
// s = zone), 3 taken intake (n = medication, at2 = the dose's due time), 4
// medication (at = created, n = id, s = role), 5 controller schedule (at =
// start, n = weekdays, at2 = end, s = "times zone"). str is valid only
// during the call.
type monthRow struct {
	kind, n int64
	at      time.Time
	at2     sql.NullTime
	str     sql.RawBytes
}

// Month reads a month's rows in one round trip: the symptoms and peak
// flows of [from, to), the taken intakes recorded in [wideFrom, wideTo),
// every medication and the controller schedules active in [from, to).
// Narrow rows of fixed types and no join per intake: the scan is the
// expensive part on both sides.
func (s *Store) Month(ctx context.Context, userID uint64, from, to, wideFrom, wideTo time.Time, fn func(*monthRow)) error {
	var row monthRow
	return s.each(ctx, "month", func(r mysql.Scanner) error {
		if err := r.Scan(&row.kind, &row.at, &row.n, &row.at2, &row.str); err != nil {
			return err
		}
		fn(&row)
		return nil
	}, userID, from, to, userID, from, to, userID, wideFrom, wideTo, userID, userID, to, from)
}

// ACTs reads the ACT totals recorded in [from, to), in time order.
func (s *Store) ACTs(ctx context.Context, userID uint64, from, to time.Time, fn func(at time.Time, total int)) error {
	var at time.Time
	var total int
	return s.each(ctx, "act", func(r mysql.Scanner) error {
		if err := r.Scan(&at, &total); err != nil {
			return err
		}
		fn(at, total)
		return nil
	}, userID, from, to)
}

// HealthEvents returns the health events overlapping the local dates
// [from, until) (YYYY-MM-DD), by start date.
func (s *Store) HealthEvents(ctx context.Context, userID uint64, from, until string) ([]records.HealthEvent, error) {
	out := []records.HealthEvent{}
	err := s.each(ctx, "events", func(r mysql.Scanner) error {
		h, err := records.ScanHealthEvent(r)
		out = append(out, h)
		return err
	}, userID, until, from)
	return out, err
}

func (s *Store) stmt(ctx context.Context, name string) (*sql.Stmt, error) {
	if m := s.stmts.Load(); m != nil {
		return (*m)[name], nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.stmts.Load(); m != nil {
		return (*m)[name], nil
	}
	m := map[string]*sql.Stmt{}
	for n, q := range queries {
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			for _, st := range m {
				st.Close()
			}
			return nil, fmt.Errorf("report: prepare %s: %w", n, err)
		}
		m[n] = st
	}
	s.stmts.Store(&m)
	return m[name], nil
}

// each runs the prepared statement name and calls row for every row.
func (s *Store) each(ctx context.Context, name string, row func(mysql.Scanner) error, args ...any) error {
	st, err := s.stmt(ctx, name)
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
func (s *Store) Close() error {
	if m := s.stmts.Swap(nil); m != nil {
		for _, st := range *m {
			st.Close()
		}
	}
	return nil
}
