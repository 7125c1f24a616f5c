package config

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/soomcare/soomcare/mappings"
)

// MaxShards bounds search.indices.<name>.shards (the engines' default
// per-index limit is 1024).
const MaxShards = 1024

// ReplicasAuto is the replicas value that keeps auto_expand_replicas 0-1: a
// replica whenever a second data node exists, none on a single node.
const ReplicasAuto = "auto"

// IndexShape is the shards and replicas of one logical index, applied when a
// physical index is created (reindex, or the first start); a running index
// takes a new shape through `soomcare reindex` and its alias swap.
type IndexShape struct {
	// Shards is number_of_shards (1–MaxShards).
	Shards int `mapstructure:"shards"`
	// Replicas is number_of_replicas (0 or more), or "auto".
	Replicas string `mapstructure:"replicas"`
}

// ReplicaCount is Replicas as a number, nil for "auto".
func (s IndexShape) ReplicaCount() *int {
	n, err := strconv.Atoi(s.Replicas)
	if err != nil {
		return nil
	}
	return &n
}

// String is the shape as verify prints it: "2 shards, 1 replicas" or
// "1 shards, replicas auto 0-1".
func (s IndexShape) String() string {
	if n := s.ReplicaCount(); n != nil {
		return fmt.Sprintf("%d shards, %d replicas", s.Shards, *n)
	}
	return fmt.Sprintf("%d shards, replicas auto 0-1", s.Shards)
}

// indexDefaults are the search.indices keys: one shard and auto replicas for
// each index of package mappings (the one list of index names), so an index
// there is a key here and any other name is an unknown key.
func indexDefaults() map[string]any {
	d := map[string]any{}
	for _, name := range mappings.Names() {
		d["search.indices."+name+".shards"] = 1
		d["search.indices."+name+".replicas"] = ReplicasAuto
	}
	return d
}

// validateIndices checks search.indices: shards 1–MaxShards, replicas auto
// or 0 or more.
func (c *Config) validateIndices(bad func(key, format string, args ...any)) {
	names := make([]string, 0, len(c.Search.Indices))
	for n := range c.Search.Indices {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sh, key := c.Search.Indices[n], "search.indices."+n
		if sh.Shards < 1 || sh.Shards > MaxShards {
			bad(key+".shards", "must be between 1 and %d (got %d)", MaxShards, sh.Shards)
		}
		if r := sh.ReplicaCount(); sh.Replicas != ReplicasAuto && (r == nil || *r < 0) {
			bad(key+".replicas", "must be auto (0-1, following the data nodes) or a number of replicas 0 or more (got %q)", sh.Replicas)
		}
	}
}
