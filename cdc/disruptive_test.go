package cdc

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
)

// The engine is stopped for 60 s mid-stream while rows keep changing, then
// started: nothing is lost and the lag recovers. Stops the shared OpenSearch,
// so the README's test command runs it in the disruptive phase.
func TestDisruptiveCDCEngineOutage(t *testing.T) {
	if os.Getenv("SOOMCARE_TEST_DISRUPTIVE") != "1" {
		t.Skip("stops a shared engine: run with SOOMCARE_TEST_DISRUPTIVE=1")
	}
	ctl := testenv.Ctl(t)
	eng := testEngines(t)[0]
	db, dsn := testdb.New(t)
	seedRows(t, db)
	p := newPipeline(t, db, dsn, eng)
	p.start(Config{})
	p.caughtUp(60 * time.Second)

	stop := make(chan struct{})
	wait := writers(t, db, 2, stop)
	time.Sleep(2 * time.Second)
	if out, err := exec.Command("bash", ctl, "stop", "opensearch").CombinedOutput(); err != nil {
		t.Fatalf("stop opensearch: %v\n%s", err, out)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			exec.Command("bash", ctl, "start", "opensearch").Run()
		}
	})
	time.Sleep(60 * time.Second)
	select {
	case err := <-p.done:
		t.Fatalf("worker gave up during the outage: %v", err)
	default:
	}
	close(stop)
	writes := wait()
	if out, err := exec.Command("bash", ctl, "start", "opensearch").CombinedOutput(); err != nil {
		t.Fatalf("start opensearch: %v\n%s", err, out)
	}
	restarted = true
	start := time.Now()
	p.caughtUp(3 * time.Minute)
	t.Logf("%d writes during a 60 s outage; caught up %s after the engine came back", writes, time.Since(start).Round(time.Millisecond))
	p.assertEqual()
	retries := testutil.ToFloat64(p.worker.Metrics().Retries)
	if retries == 0 {
		t.Error("no retries counted during the outage")
	}
	time.Sleep(3 * time.Second) // a few heartbeats through the recovered pipeline
	if lag := testutil.ToFloat64(p.worker.Metrics().LagSeconds); lag > 5 {
		t.Errorf("lag after recovery = %.1fs", lag)
	}
	if err := p.stop(); err != nil {
		t.Errorf("graceful stop: %v", err)
	}
}
