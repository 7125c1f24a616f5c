package testengine

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
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
	rows := shards(t, c, index)
	for _, r := range rows {
		if r.Shard == "0" && r.Prirep == "p" && r.State == "STARTED" {
			return r.Node
		}
	}
	t.Fatalf("no started primary of %s: %+v", index, rows)
	return ""
}

type shardRow struct{ Shard, Prirep, State, Node string }

// shards lists the copies of index's shards (_cat/shards).
func shards(t testing.TB, c *engine.Client, index string) []shardRow {
	t.Helper()
	res, err := c.ES.Cat.Shards(c.ES.Cat.Shards.WithIndex(index), c.ES.Cat.Shards.WithFormat("json"), c.ES.Cat.Shards.WithH("shard", "prirep", "state", "node"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatalf("shards of %s: %v", index, err)
	}
	var rows []shardRow
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil {
		t.Fatal(err)
	}
	return rows
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

// ClusterManager names the elected cluster manager (osc1..osc3).
func ClusterManager(t testing.TB, c *engine.Client) string {
	t.Helper()
	res, err := c.ES.Cat.Master(c.ES.Cat.Master.WithFormat("json"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		t.Fatalf("cluster manager: %v", err)
	}
	var rows []struct{ Node string }
	if err := json.NewDecoder(res.Body).Decode(&rows); err != nil || len(rows) != 1 {
		t.Fatalf("cluster manager: %v %+v", err, rows)
	}
	return rows[0].Node
}

// PinShards keeps the copies of index's shards on the named nodes (an
// allocation filter by name) and waits until every copy is started there.
func PinShards(t testing.TB, c *engine.Client, index string, nodes ...string) {
	t.Helper()
	body := strings.NewReader(`{"index.routing.allocation.include._name":` + strconv.Quote(strings.Join(nodes, ",")) + `}`)
	res, err := c.ES.Indices.PutSettings(body, c.ES.Indices.PutSettings.WithIndex(index))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.IsError() {
		t.Fatalf("pin %s to %v: HTTP %d", index, nodes, res.StatusCode)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		rows := shards(t, c, index)
		settled := len(rows) > 0
		for _, r := range rows {
			settled = settled && r.State == "STARTED" && slices.Contains(nodes, r.Node)
		}
		if settled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shards of %s did not settle on %v within 2 minutes: %+v", index, nodes, rows)
		}
	}
}
