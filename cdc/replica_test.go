package cdc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/indexer"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/mysql"
)

// SIGKILL at random moments under concurrent writes while the workers follow
// the read replica (cdc.source_dsn): binlog, positions and every row read on
// the replica; the final index equals MySQL exactly. The workers' primary
// account may use only the lock and the cdc_* (and other unwatched) tables:
// it has no right to read a watched table, the binlog or its position, so a
// single CDC read on the primary would fail the run.
func TestIntegrationCDCCrashLoopOnReplica(t *testing.T) {
	replica := testenv.MySQLReplicaDSN(t)
	crashLoop(t, testEngines(t)[0], replica)
}

// watchedOnPrimary are the tables whose rows only the source may serve.
var watchedOnPrimary = []string{"users", "contents", "posts", "comments", "post_likes"}

// followReplica points a process pipeline at the replica: it returns env with
// SOOMCARE_CDC_SOURCE_DSN on the replica (the scratch database, replicated)
// and SOOMCARE_MYSQL_DSN on a primary account that cannot do CDC reads, and a
// pool on the replica. After the run it checks that the primary served no
// binlog stream to that account while the replica did.
func followReplica(t *testing.T, db *sql.DB, env []string, replica string) (_ []string, source *sql.DB, whileStreaming func()) {
	t.Helper()
	source, rc := testdb.OnReplica(t, db, replica)
	primary := restrictedPrimary(t, db, rc.DBName)
	out := []string{"SOOMCARE_CDC_SOURCE_DSN=" + rc.FormatDSN()}
	for _, kv := range env {
		if strings.HasPrefix(kv, "SOOMCARE_MYSQL_DSN=") {
			kv = "SOOMCARE_MYSQL_DSN=" + primary
		}
		out = append(out, kv)
	}
	user := strings.SplitN(primary, ":", 2)[0]
	return out, source, func() {
		if n := dumpThreads(t, db, user); n != 0 {
			t.Errorf("the primary serves %d binlog streams to the worker's account", n)
		}
		if n := dumpThreads(t, source, rc.User); n != 1 {
			t.Errorf("the replica serves %d binlog streams to %s, want the worker's one", n, rc.User)
		}
	}
}

// On the replica the window between "in the binlog" and "visible" is the
// apply thread's transaction before its commit. A row lock taken on the
// replica holds the apply thread inside a replicated transaction, after its
// INSERT of post 901 and before its commit: a plain read there does not see
// the post yet, and the worker's locking re-read must wait for the commit and
// return the committed row, as it does on the primary
// (TestIntegrationCDCReReadWaitsForCommit).
func TestIntegrationCDCReReadOnReplicaWaitsForApply(t *testing.T) {
	replica := testenv.MySQLReplicaDSN(t)
	db, dsn := testdb.New(t)
	seedRows(t, db)
	source, rc := testdb.OnReplica(t, db, replica)
	ctx := context.Background()
	eng := testEngines(t)[0]
	w, err := New(Config{DSN: dsn, SourceDSN: rc.FormatDSN(), Source: source, ServerID: 7, Tables: []string{"posts"}},
		db, eng.Client, indexer.NewLifecycle(eng.Client.ES, "unused"), nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}

	// the blocker: the test's own account (it may take row locks) on the replica
	bc, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	bc.Addr, bc.DBName = rc.Addr, rc.DBName
	bdb, err := mysql.Open(ctx, bc.FormatDSN(), mysql.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	blocker, err := bdb.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer blocker.Rollback()
	if _, err := blocker.Exec("SELECT id FROM posts WHERE id = 2 FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil) // committed on the primary at once; its apply on the replica stops at post 2
	if err != nil {
		t.Fatal(err)
	}
	mustExecTx(t, tx, `INSERT INTO posts (id, user_id, category, title, body) VALUES (901, 1, '자유', '복제 중인 글', '본문')`)
	mustExecTx(t, tx, `UPDATE posts SET title = '막힌 갱신' WHERE id = 2`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the apply thread reaches the lock

	plain, err := indexer.NewSource(source).ByIDs(ctx, mappings.Posts, []uint64{901})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) == 1 && plain[0].Doc != nil {
		t.Fatal("a plain read on the replica already sees post 901: the apply was not held, the test proves nothing")
	}
	type result struct {
		docs []indexer.Doc
		err  error
		at   time.Time
	}
	done := make(chan result, 1)
	go func() {
		d, err := w.src.ByIDs(ctx, mappings.Posts, []uint64{901}) // the worker's re-read
		done <- result{d, err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond)
	released := time.Now()
	if err := blocker.Rollback(); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("re-read still blocked 30 s after the apply was released")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.at.Before(released) {
		t.Error("the locking re-read returned before the replicated transaction committed")
	}
	if len(r.docs) != 1 || r.docs[0].Doc == nil {
		t.Errorf("re-read after the apply = %+v, want post 901 searchable", r.docs)
	}
}

func mustExecTx(t *testing.T, tx *sql.Tx, q string) {
	t.Helper()
	if _, err := tx.Exec(q); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
}

// restrictedPrimary creates a primary account for the worker with rights on
// the unwatched tables of database name only (checkpoints, heartbeats, dead
// letters, analysis rules…), and returns its DSN.
func restrictedPrimary(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 5)
	rand.Read(b)
	user, pass := "cdcp_"+hex.EncodeToString(b), hex.EncodeToString(b)+"-pw"
	mustExec(t, db, fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'", user, pass))
	t.Cleanup(func() { db.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'127.0.0.1'", user)) })
	rows, err := db.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", name)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var tb string
		rows.Scan(&tb)
		tables = append(tables, tb)
	}
	rows.Close()
	granted := 0
	for _, tb := range tables {
		if slices.Contains(watchedOnPrimary, tb) {
			continue
		}
		mustExec(t, db, fmt.Sprintf("GRANT SELECT, INSERT, UPDATE, DELETE ON `%s`.`%s` TO '%s'@'127.0.0.1'", name, tb, user))
		granted++
	}
	if granted == 0 || granted == len(tables) {
		t.Fatalf("granted %d of %d tables", granted, len(tables))
	}
	cfg, err := mysql.ParseDSN(testenv.MySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Passwd, cfg.DBName = user, pass, name
	return cfg.FormatDSN()
}

// dumpThreads counts the binlog streams db's server serves to user now.
func dumpThreads(t *testing.T, db *sql.DB, user string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'", user).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// `cdc status` of a pipeline following the replica compares the checkpoint
// with the replica's binlog: a checkpoint in the replica's binlog is neither
// purged nor compared with the primary's files.
func TestIntegrationCDCStatusOnReplica(t *testing.T) {
	replica := testenv.MySQLReplicaDSN(t)
	db, _ := testdb.New(t)
	source, _ := testdb.OnReplica(t, db, replica)
	ctx := context.Background()
	pos, err := mysql.CurrentPosition(ctx, source)
	if err != nil {
		t.Fatal(err)
	}
	store := NewStore(db, "default").WithBinlog(source)
	if err := store.Save(ctx, State{Phase: PhaseStreaming, Position: pos}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Status(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.CheckpointPurged || st.BytesBehind < 0 || st.Server.File != pos.File || st.Checkpoint != pos {
		t.Errorf("status of a checkpoint in the replica's binlog (%s): %+v", pos, st)
	}
}

// A checkpoint names the server whose binlog it is in. A worker whose
// source is another server (cdc.source_dsn moved to the replica) exits with
// ErrSourceMoved before streaming, naming both, and leaves the checkpoint as
// it was; a checkpoint saved before the server was recorded takes the
// source's at the next start.
func TestIntegrationCDCSourceMoved(t *testing.T) {
	replica := testenv.MySQLReplicaDSN(t)
	ctx := context.Background()
	p, db := caughtUpAndStopped(t, testEngines(t)[0])
	primary, err := mysql.BinlogServer(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	checkpoint := func() (server, file string, pos uint32) {
		t.Helper()
		if err := db.QueryRow(`SELECT source_server, binlog_file, binlog_pos FROM cdc_state`).Scan(&server, &file, &pos); err != nil {
			t.Fatal(err)
		}
		return server, file, pos
	}
	if server, _, _ := checkpoint(); server != primary {
		t.Fatalf("checkpoint server = %q, want the primary's %q", server, primary)
	}

	mustExec(t, db, `UPDATE cdc_state SET source_server = ''`) // as saved before the column existed
	p.start(Config{})
	p.caughtUp(60 * time.Second)
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	server, file, pos := checkpoint()
	if server != primary {
		t.Fatalf("an old checkpoint took server %q, want the primary's %q", server, primary)
	}

	source, rc := testdb.OnReplica(t, db, replica)
	moved, err := mysql.BinlogServer(ctx, source)
	if err != nil || moved == primary {
		t.Fatalf("replica server = %q, %v; want another than the primary's %q", moved, err, primary)
	}
	p.start(Config{SourceDSN: rc.FormatDSN(), Source: source})
	err = p.exited(30 * time.Second)
	if !errors.Is(err, ErrSourceMoved) {
		t.Fatalf("err = %v, want ErrSourceMoved", err)
	}
	for _, want := range []string{primary, moved, file, "soomcare cdc reset"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	st, err := NewStore(db, "default").WithBinlog(source).Status(ctx, time.Now())
	if err != nil || !st.SourceMoved || st.CheckpointServer != primary || st.SourceServer != moved {
		t.Errorf("status after the move = %+v, %v; want source_moved from %q to %q", st, err, primary, moved)
	}
	if s, f, ps := checkpoint(); s != server || f != file || ps != pos {
		t.Errorf("checkpoint after the refusal = %s %s:%d, want %s %s:%d untouched", s, f, ps, server, file, pos)
	}
}
