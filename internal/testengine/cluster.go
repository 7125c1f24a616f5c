package testengine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
)

// Cluster returns the three-node OpenSearch cluster (nori) with a client
// that knows every node and retries on another one (max_retries 3), as a
// production client is configured. It skips without the cluster.
func Cluster(t testing.TB) Engine {
	t.Helper()
	urls := testenv.OpenSearchClusterURLs(t)
	c, err := engine.New(config.Search{Engine: config.EngineOpenSearch, Addresses: urls, MaxRetries: 3, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return Engine{Kind: config.EngineOpenSearch, Profile: mappings.ProfileNori, Client: c}
}

// PrimaryNode names the node (osc1..osc3) holding the primary of the first
// shard of index (an alias or a physical index).
func PrimaryNode(t testing.TB, c *engine.Client, index string) string {
	t.Helper()
	res, err := c.ES.Cat.Shards(c.ES.Cat.Shards.WithIndex(index), c.ES.Cat.Shards.WithFormat("json"), c.ES.Cat.Shards.WithH("shard", "prirep", "state", "node"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatalf("shards of %s: %v", index, err)
	}
	var rows []struct{ Shard, Prirep, State, Node string }
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Shard == "0" && r.Prirep == "p" && r.State == "STARTED" {
			return r.Node
		}
	}
	t.Fatalf("no started primary of %s: %+v", index, rows)
	return ""
}

// WaitHealth waits until the cluster is at least status (green or yellow).
func WaitHealth(t testing.TB, c *engine.Client, status string, timeout time.Duration) {
	t.Helper()
	res, err := c.ES.Cluster.Health(c.ES.Cluster.Health.WithWaitForStatus(status), c.ES.Cluster.Health.WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("cluster not %s within %s (HTTP %d)", status, timeout, res.StatusCode)
	}
}
