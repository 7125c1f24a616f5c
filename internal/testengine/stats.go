package testengine

import (
	"encoding/json"
	"testing"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/soomcare/soomcare/engine"
)

// Searches is how many searches the engine ran on index (all its shard
// copies): every search, or with a group those whose body named it in
// "stats" (so a test counts its own searches apart from any others).
func Searches(t testing.TB, c *engine.Client, index, group string) int64 {
	t.Helper()
	o := []func(*esapi.IndicesStatsRequest){c.ES.Indices.Stats.WithIndex(index), c.ES.Indices.Stats.WithMetric("search")}
	if group != "" {
		o = append(o, c.ES.Indices.Stats.WithGroups(group))
	}
	res, err := c.ES.Indices.Stats(o...)
	if err == nil {
		defer res.Body.Close()
		err = engine.CheckStatus(res)
	}
	if err != nil {
		t.Fatalf("search stats of %s: %v", index, err)
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
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("search stats of %s: %v", index, err)
	}
	if group != "" {
		return out.All.Total.Search.Groups[group].QueryTotal
	}
	return out.All.Total.Search.QueryTotal
}
