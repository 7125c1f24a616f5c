package cdc

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestCanalLogKeepsOnlyWatchedDDL(t *testing.T) {
	tests := []struct {
		name     string
		msg      string
		db, tbl  string
		wantKept bool
	}{
		{"watched table", canalDDLMessage, "soomcare", "posts", true},
		{"other schema", canalDDLMessage, "other_app", "posts", false},
		{"unwatched table", canalDDLMessage, "soomcare", "reminders", false},
		{"other canal line", "rotate binlog", "other_app", "x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			h := newWatchedLog(slog.NewTextHandler(&buf, nil), "soomcare", map[string]keyColumn{"posts": {}})
			slog.New(h).With("component", "canal").Info(tt.msg, slog.String("database", tt.db), slog.String("table", tt.tbl))
			if kept := strings.Contains(buf.String(), tt.msg); kept != tt.wantKept {
				t.Fatalf("kept = %v, want %v (log %q)", kept, tt.wantKept, buf.String())
			}
		})
	}
}
