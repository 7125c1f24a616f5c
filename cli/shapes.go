package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/indexer"
)

// indexShapes is search.indices as the lifecycle takes it.
func indexShapes(s config.Search) map[string]indexer.Shape {
	out := make(map[string]indexer.Shape, len(s.Indices))
	for name, sh := range s.Indices {
		out[name] = indexer.Shape{Shards: sh.Shards, Replicas: sh.ReplicaCount()}
	}
	return out
}

// newLifecycle is the lifecycle of the configured prefix, building indices
// with the configured shapes.
func newLifecycle(c *config.Config, es *engine.Client, opts ...indexer.LifecycleOption) *indexer.Lifecycle {
	return indexer.NewLifecycle(es.ES, c.Search.IndexPrefix, append(opts, indexer.WithShapes(indexShapes(c.Search)))...)
}

// printShapes writes the cluster's health and, per index, the live shape
// next to the configured one (a difference is applied by `soomcare reindex
// NAME`). Engine errors are printed, not returned: the shape is a report.
func printShapes(ctx context.Context, w io.Writer, c *config.Config, es *engine.Client, names []string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if h, err := es.Health(ctx); err != nil {
		fmt.Fprintf(w, "cluster:         unknown (%v)\n", err)
	} else {
		fmt.Fprintf(w, "cluster:         %s, %d nodes (%d data), %d active / %d unassigned shard copies\n",
			h.Status, h.Nodes, h.DataNodes, h.ActiveShards, h.UnassignedShards)
	}
	life := newLifecycle(c, es)
	for _, name := range names {
		want := c.Search.Indices[name]
		live, err := life.Shape(ctx, name)
		switch {
		case err != nil:
			fmt.Fprintf(w, "index %-9s unknown (%v); configured %s\n", name+":", err, want)
		case live.Physical == "":
			fmt.Fprintf(w, "index %-9s no alias yet; configured %s\n", name+":", want)
		default:
			note := ""
			if live.Shards != want.Shards || (want.ReplicaCount() != nil && *want.ReplicaCount() != live.Replicas) ||
				(want.ReplicaCount() == nil && live.AutoExpand != "0-1") {
				note = " — differs: `soomcare reindex " + name + "` applies the configured shape"
			}
			fmt.Fprintf(w, "index %-9s %s; configured %s%s\n", name+":", live, want, note)
		}
	}
}
