package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/soomcare/soomcare/internal/testenv"
)

// TestBenchCalendar runs `soomcare bench calendar` briefly against the test
// MariaDB (SOOMCARE_TEST_BENCH_DURATION=10s, SOOMCARE_TEST_BENCH_CONCURRENCY=… for a real measurement). The
// command is registered under `bench` in cli.go; this calls its constructor.
func TestBenchCalendar(t *testing.T) {
	dsn := testenv.MySQLDSN(t) + "soomcare"
	dur := os.Getenv("SOOMCARE_TEST_BENCH_DURATION")
	if dur == "" {
		dur = "2s"
	}
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, environ: []string{"SOOMCARE_MYSQL_DSN=" + dsn}}
	cmd := newBenchCalendarCmd(e)
	conc := os.Getenv("SOOMCARE_TEST_BENCH_CONCURRENCY")
	if conc == "" {
		conc = "16"
	}
	cmd.SetArgs([]string{"--duration", dur, "--concurrency", conc})
	cmd.SetOut(&out)
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errOut.String())
	}
	t.Log("\n" + out.String())
	if !strings.Contains(out.String(), "req/s") || strings.Contains(out.String(), "errors 0,") == false {
		t.Errorf("output:\n%s", out.String())
	}
}
