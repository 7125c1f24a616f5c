package testengine

import (
	"context"
	"testing"

	"github.com/soomcare/soomcare/engine"
)

// Searches is how many searches the engine ran on index (all its shard
// copies): every search, or with a group those whose body named it in
// "stats" (so a test counts its own searches apart from any others).
func Searches(t testing.TB, c *engine.Client, index, group string) int64 {
	t.Helper()
	var groups []string
	if group != "" {
		groups = []string{group}
	}
	type counts struct {
		QueryTotal int64 `json:"query_total"`
	}
	var out struct {
		All struct {
			Total struct {
				Search struct {
					counts
					Groups map[string]counts `json:"groups"`
				} `json:"search"`
			} `json:"total"`
		} `json:"_all"`
	}
	if err := c.IndexStats(context.Background(), []string{index}, []string{"search"}, groups, &out); err != nil {
		t.Fatal(err)
	}
	if group != "" {
		return out.All.Total.Search.Groups[group].QueryTotal
	}
	return out.All.Total.Search.QueryTotal
}
