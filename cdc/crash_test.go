package cdc

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mysql"
)

// These tests run the real binary, so a crash is a real SIGKILL.

// procPipeline builds the binary and gives a process test its database
// (seeded) and pipeline on eng.
func procPipeline(t *testing.T, eng testEngine) (bin string, db *sql.DB, p *pipeline) {
	t.Helper()
	bin = filepath.Join(t.TempDir(), "soomcare")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/soomcare").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db, dsn := testdb.New(t)
	seedRows(t, db)
	return bin, db, newPipeline(t, db, dsn, eng)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type proc struct {
	cmd    *exec.Cmd
	log    *lockedBuffer
	exited chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's result, once exited is closed
}

func startProc(t *testing.T, bin string, env []string) *proc {
	t.Helper()
	cmd := exec.Command(bin, "cdc")
	cmd.Env = append(os.Environ(), env...)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if !p.exitedYet() {
			cmd.Process.Kill()
			p.wait()
		}
	})
	return p
}

// wait waits for the process to exit and returns cmd.Wait's result.
func (p *proc) wait() error {
	<-p.exited
	return p.err
}

// exitedYet says whether the process has exited.
func (p *proc) exitedYet() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *proc) waitLog(t *testing.T, s string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for !strings.Contains(p.log.String(), s) {
		if time.Since(start) > timeout {
			t.Fatalf("no %q in the worker's log within %s:\n%s", s, timeout, tail(p.log.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

func tail(s string) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// procEnv configures a process of pipeline p.
func procEnv(p *pipeline) []string {
	url := os.Getenv(testenv.EnvOpenSearchURL)
	if p.eng.Kind == config.EngineElasticsearch {
		url = os.Getenv(testenv.EnvESURL)
	}
	return []string{
		"SOOMCARE_MYSQL_DSN=" + p.dsn,
		"SOOMCARE_SEARCH_ENGINE=" + p.eng.Kind,
		"SOOMCARE_SEARCH_ADDRESSES=" + url,
		"SOOMCARE_SEARCH_ANALYSIS_PROFILE=" + p.eng.Profile,
		"SOOMCARE_SEARCH_INDEX_PREFIX=" + p.prefix,
		fmt.Sprintf("SOOMCARE_CDC_SERVER_ID=%d", 2000+mrand.Uint32N(1_000_000)),
		"SOOMCARE_CDC_METRICS_ADDR=127.0.0.1:0",
		"SOOMCARE_CDC_FLUSH_INTERVAL=100ms",
		"SOOMCARE_STARTUP_WAIT_TIMEOUT=10s",
	}
}

// writers change posts, comments, likes and nicknames until stop is closed,
// as fast as they can.
func writers(t *testing.T, db *sql.DB, n int, stop <-chan struct{}) (wait func() int64) {
	return pacedWriters(t, db, n, 0, false, stop)
}

// pacedWriters are writers that pause at least pace between writes; lenient
// ones carry on through errors (MySQL stopped under them) instead of failing.
func pacedWriters(t *testing.T, db *sql.DB, n int, pace time.Duration, lenient bool, stop <-chan struct{}) (wait func() int64) {
	var wg sync.WaitGroup
	var count atomic.Int64
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(w), 7))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				post := 1 + r.IntN(300)
				op := r.IntN(32)
				if op >= 8 { // nickname changes (op 5) are rare, as in the app: each re-indexes all of a user's posts
					op = []int{0, 1, 2, 3, 4, 6, 7}[op%7]
				}
				switch op {
				case 0, 1:
					_, err = db.Exec(`INSERT INTO posts (user_id, category, title, body) VALUES (?, '자유', ?, '천식 일기')`, 1+r.IntN(20), fmt.Sprintf("새 글 %d-%d", w, i))
				case 2, 3:
					_, err = db.Exec(`UPDATE posts SET title = ?, body = CONCAT(body, '.') WHERE id = ?`, fmt.Sprintf("고친 제목 %d-%d", w, i), post)
				case 4:
					_, err = db.Exec(`UPDATE posts SET deleted_at = IF(deleted_at IS NULL, NOW(6), NULL) WHERE id = ?`, post)
				case 5:
					_, err = db.Exec(`UPDATE users SET nickname = ? WHERE id = ?`, fmt.Sprintf("별명%d_%d", w, i), 1+r.IntN(20))
				case 6:
					var tx *sql.Tx
					if tx, err = db.Begin(); err == nil {
						if _, err = tx.Exec(`INSERT INTO comments (post_id, user_id, body) SELECT id, 1, '응원해요' FROM posts WHERE id = ?`, post); err == nil {
							_, err = tx.Exec(`UPDATE posts SET comment_count = comment_count + 1 WHERE id = ?`, post)
						}
						if err == nil {
							err = tx.Commit()
						} else {
							tx.Rollback()
						}
					}
				case 7:
					_, err = db.Exec(`DELETE FROM posts WHERE id = ? AND NOT EXISTS (SELECT 1 FROM comments c WHERE c.post_id = posts.id)`, post)
				}
				// duplicate key, FK restrict and deadlock victims are the database doing its job
				if err != nil && !strings.Contains(err.Error(), "1062") && !strings.Contains(err.Error(), "1451") && !strings.Contains(err.Error(), "1213") {
					if lenient {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					t.Errorf("writer: %v", err)
					return
				}
				count.Add(1)
				time.Sleep(pace + time.Duration(r.IntN(3))*time.Millisecond)
			}
		}()
	}
	return func() int64 { wg.Wait(); return count.Load() }
}

func seedRows(t *testing.T, db *sql.DB) {
	t.Helper()
	for u := 1; u <= 20; u++ {
		mustExec(t, db, `INSERT INTO users (id, nickname, bio) VALUES (?, ?, '천식과 함께')`, u, fmt.Sprintf("사용자%d", u))
	}
	for p := 1; p <= 300; p++ {
		mustExec(t, db, `INSERT INTO posts (id, user_id, category, title, body) VALUES (?, ?, '질문', ?, '흡입기 질문')`, p, 1+p%20, fmt.Sprintf("글 %d", p))
	}
}

func waitCaughtUp(t *testing.T, db *sql.DB, timeout time.Duration) {
	t.Helper()
	waitCaughtUpOn(t, db, db, timeout)
}

// waitCaughtUpOn waits until the checkpoint (in db) reaches the current
// position of source's binlog (the primary, or the replica the worker follows).
func waitCaughtUpOn(t *testing.T, db, source *sql.DB, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	if source != db {
		if err := mysql.WaitReplica(ctx, db, source, timeout); err != nil {
			t.Fatal(err)
		}
	}
	target, err := mysql.CurrentPosition(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore(db, "default")
	deadline := time.Now().Add(timeout)
	for {
		st, err := store.Load(ctx)
		if err == nil && st.Phase == PhaseStreaming && !before(st.Position, target) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not caught up within %s: state %+v (err %v), target %s", timeout, st, err, target)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SIGKILL at random moments, ten times, under concurrent writes: the final
// index equals MySQL exactly. On both engines.
func TestIntegrationCDCCrashLoop(t *testing.T) {
	for _, eng := range testEngines(t) {
		t.Run(eng.Kind, func(t *testing.T) { crashLoop(t, eng, "") })
	}
}

// crashLoop runs the workers against the primary, or with replica (a DSN
// without a database) following it (followReplica).
func crashLoop(t *testing.T, eng testEngine, replica string) {
	bin, db, p := procPipeline(t, eng)
	env, source, whileStreaming := procEnv(p), db, func() {}
	if replica != "" {
		env, source, whileStreaming = followReplica(t, db, env, replica)
	}

	stop := make(chan struct{})
	wait := writers(t, db, 3, stop)
	r := mrand.New(mrand.NewPCG(42, 42))
	var logs []string
	for i := range 10 {
		w := startProc(t, bin, env)
		time.Sleep(time.Duration(300+r.IntN(2200)) * time.Millisecond)
		w.cmd.Process.Signal(syscall.SIGKILL)
		w.wait()
		logs = append(logs, w.log.String())
		t.Logf("kill %d after %s", i+1, w.cmd.ProcessState)
	}
	close(stop)
	writes := wait()

	final := startProc(t, bin, env)
	final.waitLog(t, "msg=streaming", 90*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("final worker's log:\n%s", tail(final.log.String()))
		}
	})
	waitCaughtUpOn(t, db, source, 90*time.Second)
	whileStreaming()
	final.terminate(t)
	p.refreshAll()
	t.Logf("%d writes across 10 SIGKILLs", writes)
	p.assertEqual()
	if t.Failed() {
		diagnose(t, p, db, append(logs, final.log.String()))
	}
}

// terminate sends SIGTERM and expects exit 0 with the checkpoint saved.
func (p *proc) terminate(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(); err != nil {
		t.Fatalf("SIGTERM: %v\n%s", err, tail(p.log.String()))
	}
	if !strings.Contains(p.log.String(), "stopped; checkpoint saved") {
		t.Errorf("SIGTERM did not save the checkpoint:\n%s", tail(p.log.String()))
	}
}

// refreshAll makes every index's latest writes searchable.
func (p *pipeline) refreshAll() {
	p.t.Helper()
	for _, n := range []string{"posts", "users", "contents"} {
		if err := p.life.Refresh(context.Background(), p.life.Alias(n)); err != nil {
			p.t.Fatalf("refresh %s: %v", n, err)
		}
	}
}

// diagnose prints where things stand after a failed comparison.
func diagnose(t *testing.T, p *pipeline, db *sql.DB, logs []string) {
	ctx := context.Background()
	st, err := NewStore(db, "default").Load(ctx)
	t.Logf("state: %+v %v", st, err)
	all, cur, _ := p.life.Physical(ctx, "posts")
	for _, idx := range all {
		n, _ := p.life.Count(ctx, idx)
		res, _ := p.eng.Client.ES.Indices.GetSettings(p.eng.Client.ES.Indices.GetSettings.WithIndex(idx), p.eng.Client.ES.Indices.GetSettings.WithName("index.refresh_interval"))
		var b bytes.Buffer
		if res != nil {
			b.ReadFrom(res.Body)
			res.Body.Close()
		}
		t.Logf("physical %s: %d docs (alias: %v) %s", idx, n, idx == cur, b.String())
	}
	d, err := indexer.Compare(ctx, p.eng.Client.ES, indexer.NewSource(db), p.life.Alias("posts"), "posts")
	t.Logf("compare again: %v %v", d, err)
	for _, path := range []string{"/_alias/" + p.life.Alias("posts"), "/" + p.life.Alias("posts") + "/_count", "/_cat/indices/" + p.prefix + "-*?h=index,docs.count,docs.deleted"} {
		req, _ := http.NewRequest("GET", os.Getenv(testenv.EnvOpenSearchURL)+path, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			var b bytes.Buffer
			b.ReadFrom(res.Body)
			res.Body.Close()
			t.Logf("GET %s → %s", path, b.String())
		}
	}
	var after []any
	for page := 0; page < 6; page++ {
		q := map[string]any{"size": 2000, "_source": false, "sort": []any{map[string]any{"id": "asc"}}}
		if after != nil {
			q["search_after"] = after
		}
		body, _ := json.Marshal(q)
		res, err := p.eng.Client.ES.Search(p.eng.Client.ES.Search.WithIndex(p.life.Alias("posts")), p.eng.Client.ES.Search.WithBody(bytes.NewReader(body)))
		if err != nil {
			t.Logf("page %d: %v", page, err)
			return
		}
		var out struct {
			Hits struct {
				Total struct{ Value int } `json:"total"`
				Hits  []struct {
					ID   string `json:"_id"`
					Sort []any  `json:"sort"`
				} `json:"hits"`
			} `json:"hits"`
		}
		json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		h := out.Hits.Hits
		if len(h) == 0 {
			t.Logf("page %d: empty (total %d)", page, out.Hits.Total.Value)
			return
		}
		t.Logf("page %d: %d hits, first %s %v last %s %v (total %d)", page, len(h), h[0].ID, h[0].Sort, h[len(h)-1].ID, h[len(h)-1].Sort, out.Hits.Total.Value)
		after = h[len(h)-1].Sort
	}
	for i, l := range logs {
		var keep []string
		for _, line := range strings.Split(l, "\n") {
			if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") || strings.Contains(line, "snapshot") || strings.Contains(line, "streaming") || strings.Contains(line, "rebuil") {
				keep = append(keep, line)
			}
		}
		t.Logf("process %d:\n%s", i+1, strings.Join(keep, "\n"))
	}
}

// A second worker waits for the lock and takes over within seconds when the
// first dies. On both engines.
func TestIntegrationCDCTakeover(t *testing.T) {
	for _, eng := range testEngines(t) {
		t.Run(eng.Kind, func(t *testing.T) { takeover(t, eng) })
	}
}

func takeover(t *testing.T, eng testEngine) {
	bin, db, p := procPipeline(t, eng)

	a := startProc(t, bin, procEnv(p))
	a.waitLog(t, "msg=streaming", 60*time.Second)
	b := startProc(t, bin, procEnv(p))
	b.waitLog(t, "waiting to take over", 20*time.Second)
	if strings.Contains(b.log.String(), "lock acquired") {
		t.Fatal("two workers active at once")
	}
	killed := time.Now()
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.wait()
	b.waitLog(t, "lock acquired", 20*time.Second)
	took := time.Since(killed)
	t.Logf("takeover %s after SIGKILL", took.Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("takeover took %s", took)
	}
	mustExec(t, db, `UPDATE posts SET title = '인계 후 수정' WHERE id = 7`)
	b.waitLog(t, "msg=streaming", 30*time.Second)
	waitCaughtUp(t, db, 30*time.Second)
	b.terminate(t)
	p.refreshAll()
	p.assertEqual()
}

// The binary exits with code 4 and says what to do when the checkpoint's
// binlog file is gone.
func TestIntegrationCDCPurgedExitCode(t *testing.T) {
	bin, db, p := procPipeline(t, testEngines(t)[0])
	first := startProc(t, bin, procEnv(p))
	first.waitLog(t, "msg=streaming", 60*time.Second)
	first.cmd.Process.Signal(syscall.SIGTERM)
	if err := first.wait(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	mustExec(t, db, `UPDATE cdc_state SET binlog_file = 'binlog.000000', binlog_pos = 4`)
	again := startProc(t, bin, procEnv(p))
	err := again.wait()
	code := again.cmd.ProcessState.ExitCode()
	out := again.log.String()
	if code != 4 || !strings.Contains(out, "soomcare cdc reset") {
		t.Fatalf("exit %d (%v), want 4 with the fix named:\n%s", code, err, tail(out))
	}
}
