package dictionary

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/analyzers"
)

// seedMigration is the migration that creates the tables and seeds them
// from the embedded files.
const seedMigration = "../mysql/migrations/00042_analysis_rules.sql"

var update = flag.Bool("update", false, "rewrite the seed INSERTs of "+seedMigration+" from the embedded files (only before the migration is released)")

// seedSQL is the generated part of the migration: one INSERT per table with
// the embedded rules, in file order.
func seedSQL(r analyzers.Rules) string {
	var b strings.Builder
	b.WriteString(seedBegin + "\n")
	b.WriteString("INSERT INTO analysis_dictionary_entries (entry, surface, created_by, updated_by) VALUES\n")
	for i, e := range r.UserDictionary {
		fmt.Fprintf(&b, "    (%s, %s, 'seed', 'seed')%s\n", sqlString(e), sqlString(Surface(e)), sep(i, len(r.UserDictionary)))
	}
	b.WriteString("INSERT INTO analysis_synonym_rules (rule, created_by, updated_by) VALUES\n")
	for i, s := range r.Synonyms {
		fmt.Fprintf(&b, "    (%s, 'seed', 'seed')%s\n", sqlString(s), sep(i, len(r.Synonyms)))
	}
	b.WriteString(seedEnd + "\n")
	return b.String()
}

const (
	seedBegin = "-- seed: generated from analyzers/userdict_ko.txt and analyzers/synonyms_ko.txt (go test ./dictionary -run TestSeed -update)"
	seedEnd   = "-- end of seed"
)

func sep(i, n int) string {
	if i == n-1 {
		return ";"
	}
	return ","
}

// sqlString quotes s for MySQL (the seed has no quotes or backslashes; they
// are escaped anyway).
func sqlString(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

var seedBlock = regexp.MustCompile(`(?s)` + regexp.QuoteMeta(seedBegin) + `\n.*?` + regexp.QuoteMeta(seedEnd) + `\n`)

// The migration's seed is exactly the embedded files: they are the seed and
// nothing more (editors change the rules in MySQL).
func TestSeedEqualsEmbeddedFiles(t *testing.T) {
	raw, err := os.ReadFile(seedMigration)
	if err != nil {
		t.Fatal(err)
	}
	want := seedSQL(analyzers.Embedded())
	got := seedBlock.FindString(string(raw))
	if *update {
		if got == "" {
			t.Fatalf("%s has no seed block to replace", seedMigration)
		}
		if err := os.WriteFile(seedMigration, []byte(strings.Replace(string(raw), got, want, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Fatalf("the seed of %s differs from analyzers.Embedded(): the embedded files are the seed only; change the rules with `soomcare dict`/`soomcare synonyms` or the editor API", seedMigration)
	}
}

// The embedded lines are already in the stored form, so the seed is what
// Normalize keeps.
func TestSeedIsNormalized(t *testing.T) {
	r := analyzers.Embedded()
	for _, c := range []struct {
		kind  Kind
		lines []string
	}{{Dictionary, r.UserDictionary}, {Synonyms, r.Synonyms}} {
		norm := make([]string, len(c.lines))
		for i, l := range c.lines {
			norm[i] = Normalize(c.kind, l)
		}
		if !slices.Equal(norm, c.lines) {
			t.Errorf("%s: Normalize changes seed lines", c.kind)
		}
	}
}
