package cdc

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
)

// The randomized fault simulation (docs/cdc.md, "Fault simulation"): seeded
// schedules of writes and faults against the real `soomcare cdc` binary,
// then, after each schedule, the invariants: every index equals MySQL
// (`soomcare verify all`), the open dead letters are exactly the rows still
// poisoned and fixing them resolves them, no checkpoint went backwards, and
// the lag gauge exceeded the length of every outage while it lasted. A
// failure prints the seed, the schedule and what happened, and the command
// that replays it. It stops MariaDB and the engine, so it runs only in the
// disruptive phase.
func TestDisruptiveCDCSimulation(t *testing.T) {
	ctl := disruptive(t)
	params, err := simProfile(os.Getenv(EnvSimProfile))
	if err != nil {
		t.Fatal(err)
	}
	seeds, err := simSeeds(os.Getenv(EnvSimSeeds), simSeedFile)
	if err != nil {
		t.Fatal(err)
	}
	env := simEnv{ctl: ctl, eng: testEngines(t)[0], bin: buildBinary(t)}
	start, steps, faults := time.Now(), 0, map[simKind]int{}
	for _, seed := range seeds {
		sched := newSchedule(seed, params)
		steps += len(sched.Steps)
		for _, st := range sched.Steps {
			if st.Kind.fault() {
				faults[st.Kind]++
			}
		}
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { runSchedule(t, env, sched) })
	}
	t.Logf("fault simulation: %d schedules (profile %s, engine %s), %d steps, %d faults %v, in %s",
		len(seeds), params.Name, env.eng.Kind, steps, sumFaults(faults), simFaultList(faults), time.Since(start).Round(time.Second))
}

func sumFaults(f map[simKind]int) int {
	n := 0
	for _, v := range f {
		n += v
	}
	return n
}

func simFaultList(f map[simKind]int) string {
	var parts []string
	for k := simKind(0); int(k) < len(simKindNames); k++ {
		if f[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, f[k]))
		}
	}
	return strings.Join(parts, " ")
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "soomcare")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/soomcare").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// simEnv is what every schedule shares.
type simEnv struct {
	ctl string // scripts/testenv.sh
	bin string // the soomcare binary
	eng testEngine
}

// sim is one schedule being played.
type sim struct {
	t     *testing.T
	env   simEnv
	db    *sql.DB
	p     *pipeline
	sched simSchedule
	start time.Time

	mu      sync.Mutex
	workers []*simWorker // live worker processes
	logs    []string     // logs of the workers that ended
	journal []string     // what happened, with actual times
	stalls  []simStall
}

// simStall is an outage the schedule caused.
type simStall struct {
	what       string
	start, end time.Time
	planned    time.Duration
}

func runSchedule(t *testing.T, env simEnv, sched simSchedule) {
	began := time.Now()
	db, dsn := testdb.New(t)
	seedRows(t, db)
	simSeedRows(t, db)
	s := &sim{t: t, env: env, db: db, p: newPipeline(t, db, dsn, env.eng), sched: sched}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s\nwhat happened:\n%s\nreplay with:\n  %s", sched, strings.Join(s.journalLines(), "\n"), sched.replay())
		}
	})
	first := s.startWorker()
	first.waitLog(t, "msg=streaming", 2*time.Minute)
	s.start = time.Now()
	obs := s.observe()
	stop := make(chan struct{})
	wait := pacedWriters(t, db, 2, 40*time.Millisecond, true, stop) // lenient: MariaDB stops under them
	for i, st := range sched.Steps {
		time.Sleep(st.Gap)
		s.note("step %d: %s", i+1, st)
		s.do(st)
	}
	close(stop)
	writes := wait()
	s.finish(obs)
	t.Logf("seed %d: %d steps, %d faults, %d background writes, %s", sched.Seed, len(sched.Steps), sched.faults(), writes, time.Since(began).Round(time.Second))
	if testing.Verbose() && !t.Failed() { // a failure prints them in the cleanup
		t.Logf("%s\nwhat happened:\n%s", sched, strings.Join(s.journalLines(), "\n"))
	}
}

// simSeedRows adds the rows poison steps use (simAuthor's contents and posts)
// and the users the schedule's writes name, beside seedRows' users 1..20 and
// posts 1..300.
func simSeedRows(t *testing.T, db *sql.DB) {
	t.Helper()
	for u := 21; u <= simUsers; u++ {
		mustExec(t, db, `INSERT INTO users (id, nickname, bio, role) VALUES (?, ?, '천식 전문가', 'editor')`, u, fmt.Sprintf("편집자%d", u))
	}
	for c := 1; c <= simContents; c++ {
		mustExec(t, db, `INSERT INTO contents (id, author_id, title, body, category, tags, status, published_at)
		  VALUES (?, ?, ?, '흡입기는 천천히', '약물', '["흡입기"]', 'published', NOW())`, c, simAuthor, fmt.Sprintf("콘텐츠 %d", c))
	}
	for p := simPostBase + 1; p <= simPostBase+simPosts; p++ {
		mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (?, ?, '질문', ?, '편집자의 글')`, p, simAuthor, fmt.Sprintf("글 %d", p))
	}
}

func (s *sim) note(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var at time.Duration
	if !s.start.IsZero() {
		at = time.Since(s.start)
	}
	s.journal = append(s.journal, fmt.Sprintf("  t+%5.1fs %s", at.Seconds(), fmt.Sprintf(format, args...)))
}

func (s *sim) journalLines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.journal)
}

// do plays one step.
func (s *sim) do(st simStep) {
	switch st.Kind {
	case simWrite:
		for _, op := range st.Ops {
			s.exec(op.SQL, op.Args)
		}
	case simPoison:
		k := simPoisonKinds[st.Poison]
		s.exec([]string{k.Set}, [][]any{append(slices.Clone(k.Args), st.Row.ID)})
	case simFix:
		s.exec([]string{simFixes[st.Row.Table]}, [][]any{{st.Row.ID}})
	case simKill:
		s.kill(st.Dur)
	case simRacer:
		if s.live() < 2 {
			s.startWorker()
		} else {
			s.note("  two workers already")
		}
	case simLockLoss:
		s.loseLock()
	case simMySQLDown:
		s.outage("mariadb", st.Dur)
	case simEngineDown:
		s.outage(s.env.eng.Kind, st.Dur)
	case simReindex, simRollback:
		s.reindex(st.Index, st.Kind == simRollback)
	}
}

// exec runs statements as one transaction. Errors that are the database
// doing its job (duplicate key, foreign key, deadlock) end the op; others
// (MariaDB just restarted: dead pooled connections) are retried.
func (s *sim) exec(stmts []string, args [][]any) {
	s.t.Helper()
	var err error
	for range 60 {
		if err = s.tx(stmts, args); err == nil || tolerated(err) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.t.Errorf("write %q: %v", stmts[0], err)
}

func (s *sim) tx(stmts []string, args [][]any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args[i]...); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

func tolerated(err error) bool {
	for _, code := range []string{"1062", "1451", "1452", "1213", "1205"} {
		if strings.Contains(err.Error(), "Error "+code) {
			return true
		}
	}
	return false
}

// outage stops a test service for d, then starts it again.
func (s *sim) outage(name string, d time.Duration) {
	start := time.Now()
	service(s.t, s.env.ctl, "stop", name)
	time.Sleep(d)
	service(s.t, s.env.ctl, "start", name)
	end := time.Now()
	s.mu.Lock()
	s.stalls = append(s.stalls, simStall{what: name + " down", start: start, end: end, planned: d})
	s.mu.Unlock()
	s.note("  %s back after %s", name, end.Sub(start).Round(100*time.Millisecond))
}

// reindex runs `soomcare reindex [--rollback] NAME`. Failing is allowed (a
// poisoned row rejects a build, a rollback may have no target or refuse
// one); what it leaves behind is checked at the end.
func (s *sim) reindex(name string, rollback bool) {
	args := []string{"reindex", name, "--no-progress", "--warm", "0"}
	if rollback {
		args = append(args, "--rollback")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.env.bin, args...)
	cmd.Env = append(os.Environ(), procEnv(s.p)...)
	out, err := cmd.CombinedOutput() // an exit status is an outcome, not a test failure
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	s.note("  %s: exit %d (%v): %s", strings.Join(args[:2], " "), code, err, lastLine(string(out)))
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := lines[len(lines)-1]
	if len(l) > 240 {
		l = l[:240] + "…"
	}
	return l
}

// loseLock kills the MySQL connection that holds the single-worker lock (a
// network cut or a DBA's KILL): the holder has lost the lock while another
// worker may take it.
func (s *sim) loseLock() {
	var dbName string
	var holder sql.NullInt64
	err := s.db.QueryRow(`SELECT DATABASE()`).Scan(&dbName)
	if err == nil {
		err = s.db.QueryRow(`SELECT IS_USED_LOCK(?)`, "soomcare-cdc:"+dbName+":default").Scan(&holder)
	}
	if err == nil && holder.Valid {
		_, err = s.db.Exec(fmt.Sprintf("KILL CONNECTION %d", holder.Int64))
	}
	s.note("  lock holder connection %v killed (err %v)", holder, err)
}
