package indexer

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
)

// SIGKILL the node holding the primary of the index a `reindex posts` is
// loading (no replicas during the load), and start it again: the build
// either completes with an index equal to MySQL, or fails with the alias
// still on the previous index, which still answers.
func TestDisruptiveClusterReindexNodeKilled(t *testing.T) {
	testenv.Disruptive(t)
	e := testengine.Cluster(t)
	testengine.WaitHealth(t, e.Client, "green", 3*time.Minute)
	db, _ := testdb.New(t)
	fixture(t, db)
	// seq_1_to_20000: MariaDB's Sequence engine (a recursive CTE stops at
	// max_recursive_iterations, 1000 by default).
	if _, err := db.Exec(`INSERT INTO posts (user_id, category, title, body)
		SELECT 1 + seq % 4, '자유', CONCAT('천식 일기 ', seq), '밤마다 기침이 나요. 흡입기를 챙겨요.' FROM seq_1_to_20000`); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, life := newReindexer(t, db, e, randomPrefix(t), nil)
	first, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile})
	if err != nil {
		t.Fatal(err)
	}
	alias := life.Alias(mappings.Posts)
	before, _ := life.Count(ctx, alias)

	var once sync.Once
	var victim string
	killed, restarted := make(chan struct{}), make(chan struct{})
	start := time.Now()
	rep, err := r.Run(ctx, mappings.Posts, ReindexOptions{Profile: e.Profile, BatchSize: 500, OnPage: func(rp ResumePoint) error {
		once.Do(func() {
			victim = testengine.PrimaryNode(t, e.Client, rp.Physical)
			testenv.ClusterNode(t, "kill", victim)
			close(killed)
			go func() { defer close(restarted); testenv.ClusterNode(t, "start", victim) }()
		})
		return nil
	}})
	<-killed
	took := time.Since(start).Round(time.Millisecond)
	_, current, perr := life.Physical(ctx, mappings.Posts)
	if perr != nil {
		t.Fatal(perr)
	}
	if err != nil {
		t.Logf("reindex failed after %s (node %s killed): %v", took, victim, err)
		if current != first.Physical {
			t.Fatalf("a failed reindex moved the alias: on %q, want %q", current, first.Physical)
		}
		if n, _ := life.Count(ctx, alias); n != before {
			t.Errorf("the previous index answers %d documents, want %d", n, before)
		}
	} else {
		t.Logf("reindex completed in %s with node %s killed at its first page: %d rows", took, victim, rep.Rows)
		if current != rep.Physical {
			t.Fatalf("alias on %q, want the new %q", current, rep.Physical)
		}
		d, err := Compare(ctx, e.Client.ES, NewSource(db), alias, mappings.Posts)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Equal() {
			t.Errorf("the rebuilt index differs from MySQL: %s", d)
		}
	}
	<-restarted
	testengine.WaitHealth(t, e.Client, "green", 3*time.Minute) // the node is back before the next test
}
