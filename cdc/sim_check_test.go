package cdc

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// The invariants checked after each schedule of the fault simulation.

// lagSlack covers the scrape interval and the heartbeat period: the gauge
// must reach an outage's planned length less this.
const lagSlack = time.Second

// finish lets the pipeline catch up and checks every invariant.
func (s *sim) finish(obs *observer) {
	t := s.t
	t.Helper()
	if s.live() == 0 {
		s.startWorker()
	}
	s.note("final: catching up")
	caught := s.caughtUp(3 * time.Minute)
	time.Sleep(time.Second) // one more scrape of the recovered gauges
	obs.halt()
	s.checkLag(obs)
	for _, r := range obs.regress {
		t.Errorf("checkpoint went backwards: %s", r)
	}
	if caught {
		s.checkRows()
	}

	s.mu.Lock()
	workers := slices.Clone(s.workers)
	s.mu.Unlock()
	for _, w := range workers {
		w.terminate(t)
	}
	if t.Failed() {
		s.mu.Lock()
		logs := slices.Clone(s.logs)
		s.mu.Unlock()
		for _, w := range workers {
			logs = append(logs, w.log.String())
		}
		diagnose(t, s.p, s.db, logs)
	}
}

// checkRows: the dead letters are the poisoned rows, fixing those resolves
// them, and every index equals MySQL.
func (s *sim) checkRows() {
	poisoned := s.poisonedRows()
	s.note("final: rows still poisoned: %v", poisoned)
	s.checkDeadLetters(poisoned, "with the rows above still poisoned")
	for _, row := range poisoned {
		s.exec([]string{simFixes[row.Table]}, [][]any{{row.ID}})
	}
	if s.caughtUp(2 * time.Minute) {
		s.checkDeadLetters(nil, "after every poisoned row was fixed")
		s.verifyAll()
	}
}

// caughtUp waits until the checkpoint reaches MySQL's current position; a
// pipeline that does not is an error, reported with the checkpoint.
func (s *sim) caughtUp(timeout time.Duration) bool {
	ctx := context.Background()
	target, err := mysql.CurrentPosition(ctx, s.db)
	if err != nil {
		s.t.Errorf("final position: %v", err)
		return false
	}
	store := NewStore(s.db, "default")
	deadline := time.Now().Add(timeout)
	for {
		st, err := store.Load(ctx)
		if err == nil && st.Phase == PhaseStreaming && !before(st.Position, target) {
			return true
		}
		if time.Now().After(deadline) {
			s.t.Errorf("the pipeline did not catch up within %s: checkpoint %s (%s, err %v), MySQL at %s", timeout, st.Position, st.Phase, err, target)
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkLag: during every outage the schedule caused, while it lasted, some
// worker's lag gauge reached the outage's planned length (the gauge is read
// from the worker's own listener, which MariaDB's outage does not stop). A
// gauge that jumps only once the stall is over (the heartbeat's round trip,
// measured when it finally arrives) does not count.
func (s *sim) checkLag(obs *observer) {
	for _, st := range s.stalls {
		got, n := obs.maxLag(st.start, st.end.Add(lagSlack))
		if want := (st.planned - lagSlack).Seconds(); got < want {
			s.t.Errorf("lag gauge: %s for %s (t+%.1fs–t+%.1fs): soomcare_cdc_lag_seconds peaked at %.2fs in %d scrapes, want ≥ %.1fs",
				st.what, st.planned, st.start.Sub(s.start).Seconds(), st.end.Sub(s.start).Seconds(), got, n, want)
		}
	}
}

// poisonedRows are the rows MySQL holds now that cannot become documents:
// searchable contents whose tags are not a JSON string array or hold a term
// over Lucene's limit, and searchable posts with a counter beyond the
// mapping's integer.
func (s *sim) poisonedRows() []simRow {
	t := s.t
	t.Helper()
	var rows []simRow
	res, err := s.db.Query(`SELECT id, tags FROM contents WHERE status = 'published' AND deleted_at IS NULL ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for res.Next() {
		var id uint64
		var raw []byte
		if err := res.Scan(&id, &raw); err != nil {
			t.Fatal(err)
		}
		if badTags(raw) {
			rows = append(rows, simRow{"contents", id})
		}
	}
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	res, err = s.db.Query(`SELECT p.id FROM posts p JOIN users u ON u.id = p.user_id
	  WHERE p.status = 'visible' AND p.deleted_at IS NULL AND u.status = 'active' AND u.deleted_at IS NULL
	    AND (p.like_count > 2147483647 OR p.comment_count > 2147483647) ORDER BY p.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	for res.Next() {
		var id uint64
		if err := res.Scan(&id); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, simRow{"posts", id})
	}
	return rows
}

func badTags(raw []byte) bool {
	var tags []string
	if err := json.Unmarshal(raw, &tags); err != nil {
		return true
	}
	return slices.ContainsFunc(tags, func(tag string) bool { return len(strings.TrimSpace(tag)) > 32766 })
}

// checkDeadLetters compares the open dead letters (distinct rows) with want.
func (s *sim) checkDeadLetters(want []simRow, when string) {
	got := s.openDeadLetters()
	if !slices.Equal(got, want) {
		s.t.Errorf("open dead letters %s = %v, want exactly %v", when, got, want)
	}
}

// openDeadLetters lists the rows with an open dead letter, sorted. A dead
// letter names its row by index and document id (the document id is the
// primary key), or by table and row id when it has those columns and no
// document; it is open until resolved_at is set, when the table has that
// column.
func (s *sim) openDeadLetters() []simRow {
	t := s.t
	t.Helper()
	res, err := s.db.Query(`SELECT * FROM cdc_dead_letters WHERE pipeline = 'default'`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	cols, err := res.Columns()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[simRow]bool{}
	for res.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := res.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		m := map[string]sql.NullString{}
		for i, c := range cols {
			m[c] = vals[i]
		}
		if r, ok := m["resolved_at"]; ok && r.Valid {
			continue
		}
		seen[deadLetterRow(m)] = true
	}
	rows := make([]simRow, 0, len(seen))
	for r := range seen {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b simRow) int {
		if c := strings.Compare(a.Table, b.Table); c != 0 {
			return c
		}
		return int(a.ID) - int(b.ID)
	})
	return rows
}

func deadLetterRow(m map[string]sql.NullString) simRow {
	table := ""
	for _, part := range strings.Split(m["index_name"].String, "-") {
		if slices.Contains(mappings.Names(), part) {
			table = part
		}
	}
	id, err := strconv.ParseUint(m["doc_id"].String, 10, 64)
	if table == "" || err != nil {
		for _, c := range []string{"table_name", "source_table"} {
			if v := m[c]; v.Valid && v.String != "" {
				table = v.String
			}
		}
		for _, c := range []string{"row_id", "pk"} {
			if v := m[c]; v.Valid {
				id, _ = strconv.ParseUint(v.String, 10, 64)
			}
		}
	}
	return simRow{table, id}
}

// verifyAll runs `soomcare verify all`: ids and content hashes of every
// index against MySQL.
func (s *sim) verifyAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.env.bin, "verify", "all")
	cmd.Env = append(os.Environ(), procEnv(s.p)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Errorf("soomcare verify all: %v\n%s", err, out)
		return
	}
	s.note("final: verify all: equal")
}
