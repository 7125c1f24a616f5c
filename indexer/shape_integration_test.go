package indexer

import (
	"context"
	"log/slog"
	"testing"

	"github.com/soomcare/soomcare/indexer/bulk"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testengine"
	"github.com/soomcare/soomcare/mappings"
)

func replicas(n int) *int { return &n }

// reindexShapes rebuilds users once per shape, each build with a lifecycle
// configured with that shape (the configuration changed between runs), and
// checks the live shape behind the alias after each swap.
func reindexShapes(t *testing.T, e testEngine, steps []struct {
	shape              Shape
	shards, replicas   int
	autoExpand, health string
}) {
	db, _ := testdb.New(t)
	fixture(t, db)
	ctx := context.Background()
	prefix := randomPrefix(t)
	var life *Lifecycle
	t.Cleanup(func() {
		all, _, _ := life.Physical(context.Background(), mappings.Users)
		for _, idx := range all {
			life.Delete(context.Background(), idx)
		}
	})
	for i, st := range steps {
		life = NewLifecycle(e.Client.ES, prefix, WithShapes(map[string]Shape{mappings.Users: st.shape}))
		r := NewReindexer(db, e.Client.ES, life, bulk.NewWriter(e.Client.ES, bulk.Options{}, slog.Default()), slog.Default())
		rep, err := r.Run(ctx, mappings.Users, ReindexOptions{Profile: e.Profile, Keep: 2})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got, err := life.Shape(ctx, mappings.Users)
		if err != nil {
			t.Fatal(err)
		}
		if got.Physical != rep.Physical || got.Shards != st.shards || got.Replicas != st.replicas ||
			got.AutoExpand != st.autoExpand || (st.health != "" && got.Health != st.health) {
			t.Errorf("step %d (%+v): live %+v, want %d shards × %d replicas, auto %q, %s", i, st.shape, got, st.shards, st.replicas, st.autoExpand, st.health)
		}
		if n, _ := life.Count(ctx, life.Alias(mappings.Users)); n != 2 {
			t.Errorf("step %d: %d users searchable, want 2", i, n)
		}
	}
}

// Reindex is how a running index takes a new shape: each build creates the
// physical index with the configured shards, loads it without replicas,
// then Finish sets the configured replicas (or auto 0-1) before the swap.
func TestIntegrationReindexAppliesShape(t *testing.T) {
	e := testEngines(t)[0]
	reindexShapes(t, e, []struct {
		shape              Shape
		shards, replicas   int
		autoExpand, health string
	}{
		{Shape{}, 1, 0, "0-1", "green"}, // default: one node, auto-expanded to none
		{Shape{Shards: 2, Replicas: replicas(0)}, 2, 0, "false", "green"},
		{Shape{Shards: 3, Replicas: replicas(1)}, 3, 1, "false", "yellow"}, // one node cannot hold the replica; Finish does not wait for it
	})
}

// On the three-node cluster a replica is placed, and Finish waits for it
// before the alias moves: the index is green right after the swap.
func TestIntegrationClusterReindexAppliesShape(t *testing.T) {
	e := testengine.Cluster(t)
	reindexShapes(t, e, []struct {
		shape              Shape
		shards, replicas   int
		autoExpand, health string
	}{
		{Shape{}, 1, 1, "0-1", "green"},
		{Shape{Shards: 2, Replicas: replicas(1)}, 2, 1, "false", "green"},
		{Shape{Shards: 3, Replicas: replicas(2)}, 3, 2, "false", "green"},
	})
}
