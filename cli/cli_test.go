package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, &out, &errb, environ)
	return code, out.String(), errb.String()
}

func TestBadConfigExitsWithOneLine(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "bad.yaml")
	os.WriteFile(malformed, []byte("search: [engine: :\n"), 0o600)
	unknownKey := filepath.Join(dir, "typo.yaml")
	os.WriteFile(unknownKey, []byte("search:\n  engin: opensearch\n"), 0o600)
	tests := []struct {
		name     string
		environ  []string
		args     []string
		wantCode int
		want     string
	}{
		{"unknown engine kind", []string{"SOOMCARE_SEARCH_ENGINE=solr"}, []string{"serve"}, ExitUsage, "search.engine: must be one of elasticsearch, opensearch"},
		{"malformed yaml", nil, []string{"--config", malformed, "serve"}, ExitUsage, "not valid YAML"},
		{"unknown key", nil, []string{"--config", unknownKey, "migrate", "status"}, ExitUsage, "search.engin: unknown key"},
		{"config from env path", []string{"SOOMCARE_CONFIG=" + malformed}, []string{"serve"}, ExitUsage, "not valid YAML"},
		{"missing config file", nil, []string{"--config", filepath.Join(dir, "none.yaml"), "serve"}, ExitUsage, "cannot read config file"},
		{"unreachable mysql", []string{"SOOMCARE_MYSQL_DSN=u:p@tcp(127.0.0.1:1)/db", "SOOMCARE_STARTUP_WAIT_TIMEOUT=0s", "SOOMCARE_MYSQL_CONNECT_TIMEOUT=1s"}, []string{"serve"}, ExitFailure, "MySQL at 127.0.0.1:1 is unreachable"},
		{"migrate without subcommand", nil, []string{"migrate"}, ExitUsage, "needs a subcommand"},
		{"unknown flag", nil, []string{"serve", "--bogus"}, ExitUsage, "unknown flag"},
		{"unknown command", nil, []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"reindex unknown index", nil, []string{"reindex", "comments"}, ExitUsage, `unknown index "comments"`},
		{"reindex without index", nil, []string{"reindex"}, ExitUsage, "needs one index name"},
		{"reindex negative warm-up", nil, []string{"reindex", "posts", "--warm", "-1s"}, ExitUsage, "--warm must not be negative"},
		{"analyze without text", nil, []string{"analyze"}, ExitUsage, "needs the text"},
		{"cdc unknown table", []string{"SOOMCARE_MYSQL_DSN=u:p@tcp(127.0.0.1:1)/db", "SOOMCARE_STARTUP_WAIT_TIMEOUT=0s", "SOOMCARE_MYSQL_CONNECT_TIMEOUT=1s"}, []string{"cdc", "status"}, ExitFailure, "MySQL at 127.0.0.1:1 is unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.environ, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "soomcare: ") || !strings.Contains(last, tt.want) {
				t.Errorf("last stderr line = %q, want it to contain %q", last, tt.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr: %q", stderr)
			}
		})
	}
}

func TestEverySubcommandHasHelp(t *testing.T) {
	root := newRoot(&env{})
	names := [][]string{{}}
	for _, c := range root.Commands() {
		names = append(names, []string{c.Name()})
		for _, sub := range c.Commands() {
			names = append(names, []string{c.Name(), sub.Name()})
		}
	}
	if len(names) < 8 {
		t.Fatalf("only %d commands found", len(names))
	}
	for _, n := range names {
		args := append(append([]string{}, n...), "--help")
		code, out, stderr := run(t, nil, args...)
		if code != ExitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("soomcare %s: code %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, nil, "version")
	if code != ExitOK || !strings.HasPrefix(out, "soomcare ") {
		t.Fatalf("code %d out %q", code, out)
	}
}

// calendar.cache_entries 0 means no cache; report.Options reads 0 as "default".
func TestCalendarCacheSetting(t *testing.T) {
	for entries, want := range map[int]int{0: -1, 1: 1, 4096: 4096} {
		if got := calendarCache(entries); got != want {
			t.Errorf("calendarCache(%d) = %d, want %d", entries, got, want)
		}
	}
}
