package cdc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testenv"
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
	ctx := context.Background()
	var name string
	if err := db.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	rc, err := mysql.ParseDSN(replica)
	if err != nil {
		t.Fatal(err)
	}
	rc.DBName = name
	source, err = mysql.Open(ctx, rc.FormatDSN(), mysql.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { source.Close() })
	if err := mysql.WaitReplica(ctx, db, source, time.Minute); err != nil {
		t.Fatal(err)
	}
	primary := restrictedPrimary(t, db, name)
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
