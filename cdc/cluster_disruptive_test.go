package cdc

import (
	"context"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
)

// Disruptive tests on the three-node OpenSearch cluster (scripts/testenv.sh
// up opensearch-cluster): the indices have auto_expand_replicas 0-1, so one
// replica of every shard.

// clusterPipeline is a worker on a scratch database streaming into the
// cluster, caught up with the seed rows.
func clusterPipeline(t *testing.T) *pipeline {
	t.Helper()
	testenv.Disruptive(t)
	eng := testengine.Cluster(t)
	testengine.WaitHealth(t, eng.Client, "green", 3*time.Minute)
	db, dsn := testdb.New(t)
	seedRows(t, db)
	p := newPipeline(t, db, dsn, eng)
	p.start(Config{})
	p.caughtUp(2 * time.Minute)
	return p
}

// status reads the pipeline's counters.
func (p *pipeline) status() Status {
	p.t.Helper()
	st, err := p.worker.Store().Status(context.Background(), time.Now())
	if err != nil {
		p.t.Fatal(err)
	}
	return st
}

// running fails the test when the worker exited.
func (p *pipeline) running(when string) {
	p.t.Helper()
	select {
	case err := <-p.done:
		p.cancel = nil
		p.t.Fatalf("the worker exited %s: %v", when, err)
	default:
	}
}

// events is how many row events the worker has received.
func (p *pipeline) events() int64 {
	p.t.Helper()
	mfs, err := p.worker.Metrics().Registry.Gather()
	if err != nil {
		p.t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() == "soomcare_cdc_events_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return int64(n)
}

// writeFor lets the writers run until d after start, failing when the
// worker exits meanwhile.
func (p *pipeline) writeFor(start time.Time, d time.Duration) {
	p.t.Helper()
	for time.Since(start) < d {
		p.running("while streaming")
		time.Sleep(200 * time.Millisecond)
	}
}

// SIGKILL the node holding the posts primary 10 s into 40 s of four
// paced concurrent writers (longer runs mostly measure the nickname fan-out
// on two cores, not the node loss) (the events are logged): after catch-up every index
// equals MySQL, nothing was dead-lettered, and the worker never exited.
func TestDisruptiveClusterCDCNodeKilled(t *testing.T) {
	p := clusterPipeline(t)
	victim := testengine.PrimaryNode(t, p.eng.Client, p.life.Alias(mappings.Posts))
	base := p.events()
	stop := make(chan struct{})
	// paced: at full speed the writers' nickname fan-out outruns the worker on 2 busy cores
	wait := pacedWriters(t, p.db, 4, 5*time.Millisecond, false, stop)
	start := time.Now()
	p.writeFor(start, 10*time.Second)
	testenv.ClusterNode(t, "kill", victim)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			testenv.ClusterNode(t, "start", victim)
		}
	})
	killedAt := time.Since(start)
	p.writeFor(start, 40*time.Second)
	close(stop)
	writes := wait()
	p.running("after the node was killed")
	catch := time.Now()
	p.caughtUp(5 * time.Minute)
	st := p.status()
	t.Logf("%d writes, %d events in %s (node %s killed at %s); caught up %s after the writers stopped",
		writes, p.events()-base, time.Since(start).Round(time.Second), victim, killedAt.Round(time.Second), time.Since(catch).Round(time.Millisecond))
	p.assertEqual()
	if st.DeadLetters != 0 {
		t.Errorf("%d dead letters", st.DeadLetters)
	}
	testenv.ClusterNode(t, "start", victim)
	restarted = true
	p.running("after the node came back")
}

// The whole cluster stops for 60 s, rows changing during its first 20 s,
// then starts: the worker waits it out and nothing is lost.
func TestDisruptiveClusterCDCClusterOutage(t *testing.T) {
	p := clusterPipeline(t)
	stop := make(chan struct{})
	wait := pacedWriters(t, p.db, 2, 5*time.Millisecond, false, stop)
	time.Sleep(2 * time.Second)
	testenv.ClusterNode(t, "stop", "opensearch-cluster")
	started := false
	t.Cleanup(func() {
		if !started {
			testenv.ClusterNode(t, "up", "opensearch-cluster")
		}
	})
	time.Sleep(20 * time.Second)
	close(stop)
	writes := wait()
	time.Sleep(40 * time.Second)
	p.running("during the outage")
	testenv.ClusterNode(t, "up", "opensearch-cluster")
	started = true
	catch := time.Now()
	p.caughtUp(3 * time.Minute)
	t.Logf("%d writes during a 60 s outage of the whole cluster; caught up %s after it came back", writes, time.Since(catch).Round(time.Millisecond))
	p.assertEqual()
	if dl := p.status().DeadLetters; dl != 0 {
		t.Errorf("%d dead letters", dl)
	}
}
