package cdc

import (
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/mysql"
)

func TestBehind(t *testing.T) {
	logs := []BinlogFile{{"binlog.000007", 1000}, {"binlog.000008", 2000}, {"binlog.000009", 500}}
	pos := func(f string, p uint32) mysql.Position { return mysql.Position{File: f, Pos: p} }
	cases := []struct {
		name               string
		checkpoint, server mysql.Position
		bytes              int64
		files              int
	}{
		{"caught up", pos("binlog.000009", 500), pos("binlog.000009", 500), 0, 0},
		{"same file", pos("binlog.000009", 120), pos("binlog.000009", 500), 380, 0},
		{"server read before the checkpoint moved past it", pos("binlog.000009", 600), pos("binlog.000009", 500), 0, 0},
		{"next file", pos("binlog.000008", 1500), pos("binlog.000009", 300), 500 + 300, 1},
		{"two rotations", pos("binlog.000007", 900), pos("binlog.000009", 300), 100 + 2000 + 300, 2},
		{"checkpoint purged", pos("binlog.000003", 4), pos("binlog.000009", 300), -1, -1},
		{"server file not listed yet", pos("binlog.000008", 4), pos("binlog.000010", 4), -1, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bytes, files := Behind(tc.checkpoint, tc.server, logs)
			if bytes != tc.bytes || files != tc.files {
				t.Errorf("Behind = %d bytes, %d files; want %d, %d", bytes, files, tc.bytes, tc.files)
			}
		})
	}
}

// When MySQL cannot tell, GET /status is a 503 with a stable code and no
// driver message.
func TestStatusHandlerUnavailable(t *testing.T) {
	db, err := sql.Open("mysql", "u:secret-password@tcp(127.0.0.1:1)/x")
	if err != nil {
		t.Fatal(err)
	}
	db.Close() // every query now fails
	w := &Worker{store: NewStore(db, "default"), logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := httptest.NewRecorder()
	w.statusHandler(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", rec.Code)
	}
	var e struct{ Code, Message string }
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code != "unavailable" || e.Message == "" ||
		strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "sql:") {
		t.Errorf("body %s (%v): want the error envelope, code unavailable, no driver message", rec.Body.String(), err)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
}
