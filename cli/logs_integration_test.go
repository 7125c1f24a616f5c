package cli

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/internal/testenv"
)

// TestIntegrationLogsCommands runs `soomcare logs setup|rollover|prune` on
// the OpenSearch of the test environment, which has no ISM plugin: the
// output says so, --require-lifecycle finds that out before installing
// anything and exits 1, and the core rollover and prune work (a rollover
// that is not due says why, in words).
func TestIntegrationLogsCommands(t *testing.T) {
	url := testenv.OpenSearchURL(t)
	ds := fmt.Sprintf("logs-soomcare-cli%d", rand.Uint32())
	t.Cleanup(func() {
		for _, p := range []string{"/_data_stream/", "/_index_template/"} {
			req, _ := http.NewRequest(http.MethodDelete, url+p+ds, nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}
	})
	environ := []string{"SOOMCARE_SEARCH_ENGINE=" + config.EngineOpenSearch, "SOOMCARE_SEARCH_ADDRESSES=" + url, "SOOMCARE_LOGS_DATA_STREAM=" + ds}
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), args, &out, &errOut, environ)
		return code, out.String() + errOut.String()
	}
	tests := []struct {
		args   []string
		code   int
		want   []string
		absent []string
	}{
		{[]string{"logs", "setup", "--require-lifecycle"}, ExitFailure, []string{
			"offers: data stream API yes, lifecycle none (GET /_plugins/_ism/policies answered 400)",
			"--require-lifecycle: the engine has no lifecycle support", "nothing was installed"},
			[]string{"index template", "data stream " + ds}},
		{[]string{"logs", "setup"}, ExitOK, []string{
			"✗ lifecycle policy: not available on this engine", "soomcare logs rollover",
			"✓ index template " + ds + ": installed", "✓ data stream " + ds + ": created"}, nil},
		{[]string{"logs", "setup"}, ExitOK, []string{"✓ data stream " + ds + ": exists"}, nil},
		{[]string{"logs", "rollover"}, ExitOK, []string{"not rolled over: write index .ds-" + ds + "-000001 is younger than logs.rollover_age (1d) and smaller than logs.rollover_size",
			"not met"}, []string{"map["}},
		{[]string{"logs", "rollover", "--now"}, ExitOK, []string{"rolled over: .ds-" + ds + "-000001 -> .ds-" + ds + "-000002"}, nil},
		{[]string{"logs", "prune", "--dry-run"}, ExitOK, []string{"nothing older than logs.retention (30d)"}, nil},
	}
	for _, tt := range tests {
		code, out := run(tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d\n%s", tt.args, code, tt.code, out)
		}
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.args, w, out)
			}
		}
		for _, a := range tt.absent {
			if strings.Contains(out, a) {
				t.Errorf("%v: output has %q:\n%s", tt.args, a, out)
			}
		}
	}
}
