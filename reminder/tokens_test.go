package reminder

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
)

// fakeRows yields tokens, failing the Scan of the row at scanFails (-1:
// none) and ending with err.
type fakeRows struct {
	tokens    []string
	scanFails int
	err       error
	n         int
}

func (f *fakeRows) Next() bool { f.n++; return f.n <= len(f.tokens) }
func (f *fakeRows) Err() error { return f.err }
func (f *fakeRows) Scan(dest ...any) error {
	if f.n-1 == f.scanFails {
		return errors.New("converting NULL to string is unsupported")
	}
	*dest[0].(*string) = f.tokens[f.n-1]
	return nil
}

// A token list with an unreadable row, or cut short by an error, is an
// error: never a shorter list.
func TestScanTokens(t *testing.T) {
	tests := []struct {
		name    string
		rows    *fakeRows
		want    []string
		wantErr string
	}{
		{"all read", &fakeRows{tokens: []string{"a", "b"}, scanFails: -1}, []string{"a", "b"}, ""},
		{"none", &fakeRows{scanFails: -1}, nil, ""},
		{"second row unreadable", &fakeRows{tokens: []string{"a", "b"}, scanFails: 1}, nil, "NULL"},
		{"connection lost mid-read", &fakeRows{tokens: []string{"a"}, scanFails: -1, err: errors.New("invalid connection")}, nil, "invalid connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanTokens(tt.rows)
			if (err != nil) != (tt.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("tokens %v, want %v", got, tt.want)
			}
		})
	}
}

// A device token that cannot be read makes the delivery a retry with nothing
// sent (not a send to the readable devices only); an unregistered token
// whose delete fails is logged (without the token) and counted, and the
// token stays.
func TestDeviceTokenFailuresAreNotSilent(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, db *sql.DB, user uint64)
		sendErr    error
		wantSends  int
		wantStats  Stats
		wantStatus string
		wantLog    string
		wantTokens int // device_tokens rows of the user afterwards
	}{
		{
			name: "a token row cannot be read",
			setup: func(t *testing.T, db *sql.DB, user uint64) {
				mustExec(t, db, `ALTER TABLE device_tokens MODIFY token VARCHAR(255) COLLATE utf8mb4_bin NULL`)
				mustExec(t, db, `INSERT INTO device_tokens (user_id, token, platform) VALUES (?, NULL, 'ios')`, user)
			},
			wantStats:  Stats{Planned: 1, Claimed: 1, Retry: 1},
			wantStatus: "retry",
			wantLog:    "device tokens unreadable; delivery retried",
			wantTokens: 2,
		},
		{
			name: "the delete of an unregistered token fails",
			setup: func(t *testing.T, db *sql.DB, user uint64) {
				mustExec(t, db, `CREATE TRIGGER keep_tokens BEFORE DELETE ON device_tokens FOR EACH ROW
					SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'deletes refused'`)
			},
			sendErr:    ErrUnregistered,
			wantSends:  1,
			wantStats:  Stats{Planned: 1, Claimed: 1, Failed: 1, TokenDeleteFailed: 1},
			wantStatus: "failed",
			wantLog:    "could not delete an unregistered device token",
			wantTokens: 1,
		},
		{
			name:       "an unregistered token is deleted",
			sendErr:    ErrUnregistered,
			wantSends:  1,
			wantStats:  Stats{Planned: 1, Claimed: 1, Failed: 1},
			wantStatus: "failed",
			wantTokens: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := testdb.New(t)
			u := seed(t, db, 1)[0]
			if tt.setup != nil {
				tt.setup(t, db, u)
			}
			s := &hookSender{err: tt.sendErr}
			var logs bytes.Buffer
			now := time.Date(2024, 3, 14, 23, 0, 5, 0, time.UTC)
			d := NewDispatcher(db, s, Options{Now: func() time.Time { return now }, ID: "one", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			st, err := d.Tick(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if st != tt.wantStats {
				t.Errorf("stats %+v, want %+v", st, tt.wantStats)
			}
			if len(s.tokens) != tt.wantSends {
				t.Errorf("sent to %d device(s), want %d", len(s.tokens), tt.wantSends)
			}
			if got := deliveryStatus(t, db, u, "2024-03-14 23:00:00"); got != tt.wantStatus {
				t.Errorf("delivery %s, want %s", got, tt.wantStatus)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q lacks %q", logs.String(), tt.wantLog)
			}
			if strings.Contains(logs.String(), "device-token-0000") {
				t.Errorf("log names the token: %s", logs.String())
			}
			var n int
			if err := db.QueryRow(`SELECT COUNT(*) FROM device_tokens WHERE user_id = ?`, u).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tt.wantTokens {
				t.Errorf("%d device tokens left, want %d", n, tt.wantTokens)
			}
		})
	}
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}
