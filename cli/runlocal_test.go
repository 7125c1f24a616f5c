package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/config"
)

// scripts/run-local.sh writes the stack's settings to a file the binary
// reads (SOOMCARE_CONFIG): every key in it is a configuration key (Load
// refuses unknown ones), the values are the stack's own engines (never the
// test engines on 13306/19200), the JWT secret is the kept one, the file
// is readable by its owner only, and the script prints the one line that
// points another terminal at it.
func TestRunLocalConfigFileIsLoadable(t *testing.T) {
	for _, tool := range []string{"bash", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	if out, err := exec.Command("bash", "-n", "../scripts/run-local.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n scripts/run-local.sh: %v\n%s", err, out)
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", "../scripts/run-local.sh", "config")
	cmd.Env = append(os.Environ(), "SOOMCARE_LOCAL_DIR="+dir, "SOOMCARE_HTTP_ADDR=127.0.0.1:18080")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run-local.sh config: %v", err)
	}
	path := filepath.Join(dir, "soomcare.yaml")
	if got, want := strings.TrimSpace(string(out)), "export SOOMCARE_CONFIG="+path; got != want {
		t.Errorf("printed %q, want %q", got, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	c, err := config.Load(path, nil)
	if err != nil {
		t.Fatalf("the written file does not load: %v", err)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "jwt-secret"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ what, got, want string }{
		{"mysql.dsn", c.MySQL.DSN, "soomcare:soomcare@tcp(127.0.0.1:23306)/soomcare"},
		{"search.engine", c.Search.Engine, config.EngineOpenSearch},
		{"search.addresses", strings.Join(c.Search.Addresses, ","), "http://127.0.0.1:29200"},
		{"http.addr", c.HTTP.Addr, "127.0.0.1:18080"},
		{"auth.jwt_secret", string(c.Auth.JWTSecret), strings.TrimSpace(string(secret))},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.what, ch.got, ch.want)
		}
	}
}
