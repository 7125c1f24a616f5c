package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The test harness's own variables share the SOOMCARE_ prefix; the binaries
// inherit them when a test or scripts/test.sh runs them, so they must not be
// read as misspelled keys. A misspelled key next to them still fails.
func TestToolVariablesAreNotConfiguration(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantErr string // "" for a successful load
	}{
		{"keep engines", []string{"SOOMCARE_KEEP_ENGINES=1"}, ""},
		{"test variables", []string{"SOOMCARE_TEST_SHORT=1", "SOOMCARE_TEST_DISRUPTIVE=1", "SOOMCARE_TEST_MYSQL_DSN=x"}, ""},
		{"environment script", []string{"SOOMCARE_INTEGRATION=1", "SOOMCARE_TESTENV_DIR=/tmp/x", "SOOMCARE_CACHE_DIR=/tmp/c", "SOOMCARE_JAVA17_HOME=/opt/j"}, ""},
		{"engine versions and ops tools", []string{"SOOMCARE_ELASTICSEARCH9_VERSION=9.2.4", "SOOMCARE_OPENSEARCH_VERSION=3.8.0", "SOOMCARE_PROMTOOL=/usr/bin/promtool", "SOOMCARE_AMTOOL=/usr/bin/amtool"}, ""},
		{"keep engines and a real key", []string{"SOOMCARE_KEEP_ENGINES=1", "SOOMCARE_HTTP_ADDR=127.0.0.1:7000"}, ""},
		{"keep engines and a misspelled key", []string{"SOOMCARE_KEEP_ENGINES=1", "SOOMCARE_HTTP_ADDRESS=127.0.0.1:7000"}, "SOOMCARE_HTTP_ADDRESS"},
		{"misspelled tool variable", []string{"SOOMCARE_KEEP_ENGINE=1"}, "SOOMCARE_KEEP_ENGINE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", tt.env)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "unknown environment variable")):
				t.Fatalf("Load = %v, want an unknown-variable error naming %s", err, tt.wantErr)
			case tt.wantErr == "" && strings.Contains(strings.Join(tt.env, " "), "SOOMCARE_HTTP_ADDR=") && c.HTTP.Addr != "127.0.0.1:7000":
				t.Errorf("http.addr = %q: the real key beside the tool variable was not applied", c.HTTP.Addr)
			}
		})
	}
}

// Every SOOMCARE_ variable the harness scripts (scripts/*.sh, .ci/run) set
// or read is a configuration key or a tool variable the binaries ignore, so
// a binary run under the harness never refuses one as unknown.
func TestHarnessVariablesAreKeysOrIgnored(t *testing.T) {
	files, err := filepath.Glob("../scripts/*.sh")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	files = append(files, "../.ci/run")
	keys := map[string]bool{}
	for _, k := range Keys() {
		keys[EnvName(k)] = true
	}
	name := regexp.MustCompile(`\bSOOMCARE_[A-Z0-9_]*[A-Z0-9]`)
	seen := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range name.FindAllString(string(src), -1) {
			seen++
			if !keys[n] && !isToolEnv(n) {
				t.Errorf("%s: %s is neither a configuration key nor a tool variable (isToolEnv)", f, n)
			}
		}
	}
	if seen < 20 {
		t.Errorf("only %d SOOMCARE_ names found in the scripts", seen)
	}
}
