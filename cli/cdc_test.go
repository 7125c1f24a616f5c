package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/cdc"
	"github.com/soomcare/soomcare/mysql"
)

// The worker's results map to the exit codes that `soomcare cdc --help`
// documents; a failed final save is never "0, checkpoint saved".
func TestCDCExitCodes(t *testing.T) {
	cases := []struct {
		err  error
		code int
	}{
		{nil, ExitOK},
		{fmt.Errorf("%w: checkpoint binlog.000001:4", cdc.ErrBinlogPurged), ExitBinlogPurged},
		{fmt.Errorf("%w: posts", cdc.ErrTableDropped), ExitTableDropped},
		{fmt.Errorf("%w: save checkpoint: connection refused", cdc.ErrShutdownSave), ExitNotSaved},
		{fmt.Errorf("%w: checkpoint mariadb-bin.000002:344", cdc.ErrSourceMoved), ExitSourceMoved},
		{errors.New("engine unreachable"), ExitFailure},
	}
	for _, tc := range cases {
		if code := exitCode(cdcExit(tc.err)); code != tc.code {
			t.Errorf("%v: exit %d, want %d", tc.err, code, tc.code)
		}
	}
}

// `cdc status` prints the same Status that GET /status serves.
func TestPrintCDCStatus(t *testing.T) {
	pos := func(f string, p uint32) mysql.Position { return mysql.Position{File: f, Pos: p} }
	cases := []struct {
		name string
		st   cdc.Status
		want []string
	}{
		{"never ran", cdc.Status{Phase: cdc.PhaseNone}, []string{"no checkpoint: the worker has not run yet"}},
		{"streaming", cdc.Status{Phase: cdc.PhaseStreaming, Checkpoint: pos("binlog.000002", 120), Server: pos("binlog.000003", 400),
			BytesBehind: 900, FilesBehind: 1, SavedAgoSeconds: 1.5, EventsApplied: 7, DocsWritten: 5, Conflicts: 2, DeadLetters: 1},
			[]string{"phase:           streaming", "checkpoint:      binlog.000002:120 (saved 1.5s ago)",
				"server position: binlog.000003:400 (900 bytes behind, 1 binlog files further)",
				"events applied:  7", "docs written:    5", "conflicts:       2", "dead letters:    1"}},
		{"purged", cdc.Status{Phase: cdc.PhaseStreaming, BytesBehind: -1, FilesBehind: -1, CheckpointPurged: true},
			[]string{"purged: run 'soomcare cdc reset'"}},
		{"source moved", cdc.Status{Phase: cdc.PhaseStreaming, Server: pos("mariadb-bin.000001", 900), SourceMoved: true,
			CheckpointServer: "server_id 1", SourceServer: "server_id 2"},
			[]string{"server position: mariadb-bin.000001:900 (the checkpoint is in the binlog of server_id 1, not this server's: point the source back or run 'soomcare cdc reset')",
				"binlog server:   server_id 2"}},
		{"snapshot", cdc.Status{Phase: cdc.PhaseSnapshot, Snapshot: &cdc.SnapshotStatus{Done: []string{"users"}, Index: "posts", AfterID: 42}},
			[]string{`snapshot:        done [users], loading "posts" after id 42`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			printCDCStatus(&b, tc.st)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("missing %q in:\n%s", w, b.String())
				}
			}
		})
	}
}

// Every exit code `soomcare cdc` can end with is in the top-level help, in
// its own help and in docs/cdc.md's sentence about the worker's exits.
func TestCDCExitCodesDocumented(t *testing.T) {
	root := newRoot(&env{})
	cdcCmd, _, err := root.Find([]string{"cdc"})
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../docs/cdc.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{ExitBinlogPurged, ExitTableDropped, ExitNotSaved, ExitSourceMoved} {
		if !strings.Contains(root.Long, fmt.Sprint(code)) {
			t.Errorf("soomcare --help does not list exit code %d", code)
		}
		if !strings.Contains(cdcCmd.Long, fmt.Sprintf("\n%d ", code)) && !strings.Contains(cdcCmd.Long, fmt.Sprintf(" %d ", code)) {
			t.Errorf("soomcare cdc --help does not explain exit code %d", code)
		}
	}
	if !strings.Contains(string(readme), "The process exits only on a signal or the codes 4–7") {
		t.Error("docs/cdc.md: the worker's exit sentence does not say 4–7")
	}
}

// `cdc dead-letters list` prints a readable table, open or resolved.
func TestPrintDeadLetters(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	printDeadLetters(&b, []cdc.DeadLetterRecord{
		{ID: 3, DeadLetter: cdc.DeadLetter{Index: "soomcare-contents", DocID: "50", Source: cdc.DeadLetterRow, Version: 4294967396,
			Type: "row_error", Reason: "column tags: JSON number where string was expected"}, CreatedAt: at},
		{ID: 2, DeadLetter: cdc.DeadLetter{Index: "soomcare-posts", DocID: "8", Source: cdc.DeadLetterEngine, Version: 4294967300,
			Type: "mapper_parsing_exception"}, CreatedAt: at, ResolvedAt: &at},
	})
	out := b.String()
	for _, want := range []string{"INDEX", "soomcare-contents", "50", "row", "open", "row_error: column tags", "2026-12-07T12:00:00Z", "mapper_parsing_exception"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	printDeadLetters(&b, nil)
	if !strings.Contains(b.String(), "no dead letters") {
		t.Errorf("empty list printed %q", b.String())
	}
}
