package mysql

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/ecslog"
	"github.com/soomcare/soomcare/internal/testenv"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Statements over mysql.slow_query_threshold log at warn with their family
// and the request's id from the context, never the statement's text, its
// arguments or the server's error message (which quotes the duplicate
// value); on both paths database/sql takes (interpolated, prepared).
func TestIntegrationSlowStatementsLogFamilyNotValues(t *testing.T) {
	base := testenv.MySQLDSN(t)
	dsn, drop, err := CreateScratch(t.Context(), base, "soomcare_test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drop(context.Background()) })
	const secret = "secret-value-7f3a"
	for _, tt := range []struct{ name, params string }{
		{"interpolated", ""},
		{"prepared", "interpolateParams=false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := dsn
			if tt.params != "" {
				sep := "?"
				if strings.Contains(d, "?") {
					sep = "&"
				}
				d += sep + tt.params
			}
			var out syncBuffer
			log := ecslog.New(&out, ecslog.Options{Format: ecslog.FormatJSON})
			db, err := Open(t.Context(), d, Options{MaxOpenConns: 2, SlowThreshold: time.Nanosecond, Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx := ecslog.WithAttrs(t.Context(), slog.String("http.request.id", "req-"+tt.name))
			table := "slow_" + tt.name
			if _, err := db.ExecContext(ctx, "CREATE TABLE "+table+" (id BIGINT UNSIGNED PRIMARY KEY, secret VARCHAR(64) UNIQUE)"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id, secret) VALUES (?, ?)", 1, secret); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "INSERT INTO "+table+" (id, secret) VALUES (?, ?)", 2, secret); err == nil {
				t.Fatal("duplicate accepted")
			}
			var got string
			if err := db.QueryRowContext(ctx, "SELECT secret FROM "+table+" WHERE secret = ?", secret).Scan(&got); err != nil {
				t.Fatal(err)
			}
			err = Tx(ctx, db, nil, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, "UPDATE "+table+" SET secret = ? WHERE id = ?", secret+"-2", 1)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			text := out.String()
			if strings.Contains(text, secret) || strings.Contains(text, "Duplicate") || strings.Contains(text, "WHERE") {
				t.Fatalf("values, text or the server's message reached the log:\n%s", text)
			}
			families := map[string]string{}
			for _, raw := range strings.Split(strings.TrimSpace(text), "\n") {
				var l map[string]any
				if err := json.Unmarshal([]byte(raw), &l); err != nil {
					t.Fatalf("%s: %v", raw, err)
				}
				if l["message"] != "slow statement" || l["log.level"] != "warn" || l["http.request.id"] != "req-"+tt.name {
					t.Errorf("line %v", l)
				}
				if d, ok := l["event.duration"].(float64); !ok || d <= 0 {
					t.Errorf("event.duration %v", l["event.duration"])
				}
				fam, _ := l["mysql.statement"].(string)
				outcome, _ := l["event.outcome"].(string)
				if families[fam] != "failure" {
					families[fam] = outcome
				}
			}
			want := map[string]string{"create": "success", "insert " + table: "failure", "select " + table: "success", "update " + table: "success"}
			for fam, outcome := range want {
				if families[fam] != outcome {
					t.Errorf("family %q: outcome %q, want %q (all %v)", fam, families[fam], outcome, families)
				}
			}
		})
	}
}

// Below the threshold nothing is logged (and a zero threshold is off).
func TestIntegrationFastStatementsAreQuiet(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	for _, threshold := range []time.Duration{0, time.Hour} {
		var out syncBuffer
		db, err := Open(t.Context(), dsn, Options{SlowThreshold: threshold, Logger: ecslog.New(&out, ecslog.Options{Format: ecslog.FormatJSON})})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(t.Context(), "SELECT ?", 1).Scan(new(int)); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if out.String() != "" {
			t.Errorf("threshold %s logged %s", threshold, out.String())
		}
	}
}

// Observe sees every statement, fast ones too and without a logger, by
// family; a statement the server refuses is a failure.
func TestIntegrationObserveSeesEveryStatement(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	var mu sync.Mutex
	seen := map[string][2]int{} // family → [ok, failed]
	db, err := Open(t.Context(), dsn, Options{Observe: func(family string, _ time.Duration, failed bool) {
		mu.Lock()
		defer mu.Unlock()
		n := seen[family]
		if failed {
			n[1]++
		} else {
			n[0]++
		}
		seen[family] = n
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRowContext(t.Context(), "SELECT ?", 1).Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), "SELECT * FROM no_such_table_7f3a"); err == nil {
		t.Fatal("a missing table did not fail")
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["select"][0] < 1 {
		t.Errorf("the successful SELECT was not observed: %v", seen)
	}
	if seen["select no_such_table_7f3a"][1] != 1 {
		t.Errorf("the failed SELECT was not observed as a failure: %v", seen)
	}
}
