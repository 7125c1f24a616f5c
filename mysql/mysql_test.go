package mysql

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	migrationName = regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)
	createTable   = regexp.MustCompile(`(?is)CREATE TABLE\s+(\w+)\s*\((.*?)\)\s*(ENGINE[^;]*);`)
	alterTable    = regexp.MustCompile(`(?i)ALTER TABLE\s+(\w+)`)
)

type migrationFile struct {
	name, up, down string
}

// readMigrations parses the embedded files into their Up and Down sections.
func readMigrations(t *testing.T) []migrationFile {
	t.Helper()
	entries, err := fs.ReadDir(migrationsFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("no embedded migrations")
	}
	var files []migrationFile
	for _, e := range entries {
		b, err := fs.ReadFile(migrationsFS, "migrations/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		f := migrationFile{name: e.Name()}
		upAt := strings.Index(text, "-- +goose Up")
		downAt := strings.Index(text, "-- +goose Down")
		if upAt < 0 || downAt < upAt ||
			strings.Count(text, "-- +goose Up") != 1 || strings.Count(text, "-- +goose Down") != 1 {
			t.Errorf("%s: want exactly one '-- +goose Up' followed by one '-- +goose Down'", e.Name())
		} else {
			f.up, f.down = text[upAt:downAt], text[downAt:]
		}
		files = append(files, f)
	}
	return files
}

// Versions strictly increase; gaps are allowed.
func TestMigrationFilesAreSequential(t *testing.T) {
	prev := 0
	for _, f := range readMigrations(t) {
		m := migrationName.FindStringSubmatch(f.name)
		if m == nil {
			t.Errorf("%s: name must look like 00001_table.sql", f.name)
			continue
		}
		v, _ := strconv.Atoi(m[1])
		if v <= prev {
			t.Errorf("%s: version %d does not increase on %d (no duplicates)", f.name, v, prev)
		}
		prev = v
	}
}

// Released migrations never change, and a new one always takes a version
// above every released one: goose refuses to apply a migration numbered
// below the database's current version ("missing (out-of-order)
// migrations"), so a number slotted into a gap would break `migrate up` on
// every database already past it. migrations_released.txt lists what main
// has shipped; add a migration to it once it has landed.
func TestMigrationsAppendOnly(t *testing.T) {
	raw, err := os.ReadFile("migrations_released.txt")
	if err != nil {
		t.Fatal(err)
	}
	released := map[string]bool{}
	maxReleased := 0
	for _, name := range strings.Fields(string(raw)) {
		m := migrationName.FindStringSubmatch(name)
		if m == nil {
			t.Fatalf("migrations_released.txt: %q is not a migration file name", name)
		}
		released[name] = true
		v, _ := strconv.Atoi(m[1])
		maxReleased = max(maxReleased, v)
	}
	present := map[string]bool{}
	for _, f := range readMigrations(t) {
		present[f.name] = true
		if released[f.name] {
			continue
		}
		if m := migrationName.FindStringSubmatch(f.name); m != nil {
			if v, _ := strconv.Atoi(m[1]); v <= maxReleased {
				t.Errorf("%s: new migration numbered at or below the released %05d; databases past it would refuse it — renumber it above", f.name, maxReleased)
			}
		}
	}
	for name := range released {
		if !present[name] {
			t.Errorf("released migration %s is gone: released migrations are never renamed or removed", name)
		}
	}
}

func TestMigrationConventions(t *testing.T) {
	for _, f := range readMigrations(t) {
		t.Run(f.name, func(t *testing.T) {
			tables := createTable.FindAllStringSubmatch(f.up, -1)
			if len(tables) == 0 {
				// A migration that changes an existing table: its Down must change the same table back.
				alters := alterTable.FindAllStringSubmatch(f.up, -1)
				if len(alters) == 0 {
					t.Fatal("Up section has no CREATE TABLE … ENGINE=…; nor ALTER TABLE")
				}
				for _, a := range alters {
					if !regexp.MustCompile(`(?i)ALTER TABLE\s+` + a[1] + `\b`).MatchString(f.down) {
						t.Errorf("Down section does not alter %s back", a[1])
					}
				}
				return
			}
			for _, tb := range tables {
				name, columns, options := tb[1], tb[2], tb[3]
				for _, want := range []string{"ENGINE=InnoDB", "CHARSET=utf8mb4", "COLLATE=utf8mb4_unicode_ci"} {
					if !strings.Contains(options, want) {
						t.Errorf("table %s: options %q lack %s", name, options, want)
					}
				}
				for _, want := range []string{
					"id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT",
					"PRIMARY KEY (id)",
					"created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
					"updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)",
				} {
					if !strings.Contains(squash(columns), want) {
						t.Errorf("table %s lacks %q", name, want)
					}
				}
				if strings.Contains(strings.ToUpper(columns), "CASCADE") {
					t.Errorf("table %s: cascaded deletes never reach the binlog; use RESTRICT", name)
				}
				if !strings.Contains(f.down, "DROP TABLE "+name+";") {
					t.Errorf("Down section does not drop %s", name)
				}
			}
		})
	}
}

// squash collapses runs of blanks so column definitions compare regardless of alignment.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestNewMigratorSeesEveryFile(t *testing.T) {
	// Open does not connect, so the provider can be built without a server.
	db, err := Open(context.Background(), "u:p@tcp(127.0.0.1:1)/x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, err := NewMigrator(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	files := readMigrations(t)
	sources := m.provider.ListSources()
	if len(sources) != len(files) {
		t.Fatalf("goose sees %d migrations, %d files embedded", len(sources), len(files))
	}
	for i, s := range sources {
		if i > 0 && s.Version <= sources[i-1].Version {
			t.Errorf("source %d has version %d after %d", i, s.Version, sources[i-1].Version)
		}
	}
}

// Queries interpolate their arguments (one round trip each) unless the DSN
// says otherwise.
func TestParseDSNInterpolatesByDefault(t *testing.T) {
	for dsn, want := range map[string]bool{
		"u:p@tcp(db:3306)/x":                           true,
		"u:p@tcp(db:3306)/x?interpolateParams=false":   false,
		"u:p@tcp(db:3306)/x?interpolateParams=true":    true,
		"u:p@tcp(db:3306)/x?timeout=3s&charset=latin1": true,
	} {
		cfg, err := ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.InterpolateParams != want {
			t.Errorf("%s: InterpolateParams = %v, want %v", dsn, cfg.InterpolateParams, want)
		}
	}
}

func TestParseDSN(t *testing.T) {
	tests := []struct {
		name, dsn string
		wantErr   bool
	}{
		{name: "plain", dsn: "soomcare:secret@tcp(db:3306)/soomcare"},
		{name: "overrides unsafe params", dsn: "u:p@tcp(db:3306)/soomcare?parseTime=false&loc=Asia%2FSeoul&charset=latin1&collation=latin1_swedish_ci&multiStatements=true&time_zone=%27%2B09%3A00%27"},
		{name: "keeps other params", dsn: "u:p@tcp(db:3306)/?timeout=3s&readTimeout=5s"},
		{name: "no slash", dsn: "u:p@tcp(db:3306)", wantErr: true},
		{name: "unterminated address", dsn: "u:p@tcp(db:3306/soomcare", wantErr: true},
		{name: "bad duration", dsn: "u:p@tcp(db:3306)/x?timeout=soon", wantErr: true},
		{name: "unknown boolean", dsn: "u:p@tcp(db:3306)/x?parseTime=maybe", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseDSN(tt.dsn)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseDSN(%q) succeeded, want an error", tt.dsn)
				}
				if _, openErr := Open(context.Background(), tt.dsn, Options{}); openErr == nil {
					t.Fatalf("Open(%q) succeeded, want an error", tt.dsn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.ParseTime || cfg.Loc != time.UTC || cfg.MultiStatements {
				t.Errorf("ParseTime=%v Loc=%v MultiStatements=%v, want true UTC false", cfg.ParseTime, cfg.Loc, cfg.MultiStatements)
			}
			if cfg.Collation != Collation {
				t.Errorf("Collation = %q, want %q", cfg.Collation, Collation)
			}
			if got := cfg.Params["time_zone"]; got != "'+00:00'" {
				t.Errorf("time_zone = %q, want '+00:00'", got)
			}
			formatted := cfg.FormatDSN() // the charset list is unexported; FormatDSN shows it
			if !strings.Contains(formatted, "charset="+Charset+"&") && !strings.HasSuffix(formatted, "charset="+Charset) {
				t.Errorf("FormatDSN() = %q, want charset=%s", formatted, Charset)
			}
			if tt.name == "keeps other params" && (cfg.Timeout != 3*time.Second || cfg.ReadTimeout != 5*time.Second) {
				t.Errorf("timeouts lost: %v %v", cfg.Timeout, cfg.ReadTimeout)
			}
		})
	}
}

func TestOpenAppliesPoolOptions(t *testing.T) {
	db, err := Open(context.Background(), "u:p@tcp(127.0.0.1:1)/x", Options{MaxOpenConns: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := db.Stats().MaxOpenConnections; got != 7 {
		t.Errorf("MaxOpenConnections = %d, want 7", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := Ping(ctx, db); err == nil {
		t.Error("Ping to a closed port succeeded")
	} else if !strings.HasPrefix(err.Error(), "mysql: ping:") {
		t.Errorf("Ping error %q is not wrapped", err)
	}
}

func ExampleParseDSN() {
	cfg, err := ParseDSN("soomcare:secret@tcp(127.0.0.1:3306)/soomcare")
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Addr, cfg.DBName, cfg.ParseTime, cfg.Loc, cfg.Collation)
	// Output: 127.0.0.1:3306 soomcare true UTC utf8mb4_unicode_ci
}

func TestPlaceholders(t *testing.T) {
	for n, want := range map[int]string{1: "(?)", 2: "(?,?)", 4: "(?,?,?,?)"} {
		if got := Placeholders(n); got != want {
			t.Errorf("Placeholders(%d) = %q, want %q", n, got, want)
		}
	}
}
