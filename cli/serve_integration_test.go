package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testenv"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
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

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs `soomcare serve` in-process and returns its base URL;
// extra SOOMCARE_ variables override the defaults below.
func startServe(t *testing.T, kind, engineURL string, extra ...string) string {
	t.Helper()
	base, _ := startServeLogged(t, kind, engineURL, extra...)
	return base
}

// startServeLogged is startServe that also hands back serve's stderr, where
// it logs.
func startServeLogged(t *testing.T, kind, engineURL string, extra ...string) (string, *syncBuffer) {
	t.Helper()
	dsn := testenv.MySQLDSN(t)
	addr := freeAddr(t)
	environ := []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=" + kind,
		"SOOMCARE_SEARCH_ADDRESSES=" + engineURL,
		"SOOMCARE_SEARCH_MAX_RETRIES=0",
		"SOOMCARE_HTTP_ADDR=" + addr,
		"SOOMCARE_STARTUP_WAIT_TIMEOUT=20s",
	}
	environ = append(environ, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Main(ctx, []string{"serve"}, &bytes.Buffer{}, stderr, environ) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != ExitOK {
				t.Errorf("serve exited %d after SIGTERM-equivalent: %s", code, stderr.String())
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop within 15s")
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			return base, stderr
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited early with %d: %s", code, stderr.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not answer /healthz: %s", stderr.String())
	return "", nil
}

type readyBody struct {
	Code   string                     `json:"code"`
	Down   []string                   `json:"down"`
	Checks map[string]json.RawMessage `json:"checks"`
}

func getReady(t *testing.T, base string) (int, readyBody) {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b readyBody
	if err := json.NewDecoder(res.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

func TestIntegrationReadyzWhenEverythingIsUp(t *testing.T) {
	for kind, url := range map[string]string{
		"opensearch":    testenv.OpenSearchURL(t),
		"elasticsearch": testenv.ElasticsearchURL(t),
	} {
		t.Run(kind, func(t *testing.T) {
			base := startServe(t, kind, url)
			code, body := getReady(t, base)
			if code != http.StatusOK {
				t.Fatalf("/readyz = %d %+v", code, body)
			}
			if _, ok := body.Checks["mysql"]; !ok {
				t.Errorf("checks %v lack mysql", body.Checks)
			}
			if _, ok := body.Checks[kind]; !ok {
				t.Errorf("checks %v lack %s", body.Checks, kind)
			}
		})
	}
}

func TestIntegrationServeRefusesUnreachableEngine(t *testing.T) {
	dsn := testenv.MySQLDSN(t)
	code, _, stderr := run(t, []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ADDRESSES=http://127.0.0.1:1",
		"SOOMCARE_STARTUP_WAIT_TIMEOUT=1s",
	}, "serve")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != ExitFailure || !strings.Contains(lines[len(lines)-1], "search engine (elasticsearch) at http://127.0.0.1:1 is unreachable") {
		t.Fatalf("code %d, last line %q", code, lines[len(lines)-1])
	}
}

// Disruptive: stops the shared OpenSearch, so the README's test command runs it
// alone, after the other integration tests (SOOMCARE_TEST_DISRUPTIVE=1).
func TestDisruptiveReadyzNamesStoppedEngine(t *testing.T) {
	if os.Getenv("SOOMCARE_TEST_DISRUPTIVE") != "1" {
		t.Skip("stops a shared engine: run with SOOMCARE_TEST_DISRUPTIVE=1 (the README's test command does, in its own phase)")
	}
	url := testenv.OpenSearchURL(t)
	ctl := testenv.Ctl(t)
	base := startServe(t, "opensearch", url)
	if code, body := getReady(t, base); code != http.StatusOK {
		t.Fatalf("before: /readyz = %d %+v", code, body)
	}
	engineCtl(t, ctl, "stop", "opensearch")
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			engineCtl(t, ctl, "start", "opensearch")
		}
	})
	code, body := getReady(t, base)
	if code != http.StatusServiceUnavailable || body.Code != "unavailable" || strings.Join(body.Down, ",") != "opensearch" {
		t.Fatalf("engine stopped: /readyz = %d %+v, want 503 naming opensearch only", code, body)
	}
	engineCtl(t, ctl, "start", "opensearch")
	restarted = true
	ok := func(code int, _ readyBody) bool { return code == http.StatusOK }
	if code, body := waitReady(t, base, 30*time.Second, ok); !ok(code, body) {
		t.Fatalf("engine restarted: /readyz still %d %+v", code, body)
	}
}

// waitReady asks /readyz every 500 ms until until holds or within has
// passed, and returns the last answer.
func waitReady(t *testing.T, base string, within time.Duration, until func(int, readyBody) bool) (int, readyBody) {
	t.Helper()
	code, body := getReady(t, base)
	for deadline := time.Now().Add(within); !until(code, body) && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		code, body = getReady(t, base)
	}
	return code, body
}

func engineCtl(t *testing.T, ctl string, verb, name string) {
	t.Helper()
	start := time.Now()
	out, err := exec.Command("bash", ctl, verb, name).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s %s: %v\n%s", ctl, verb, name, err, out)
	}
	t.Logf("%s %s took %s", verb, name, strconv.Quote(time.Since(start).Round(time.Millisecond).String()))
}
