package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// EnvOpenSearchClusterURLs lists the HTTP addresses of the three-node
// OpenSearch cluster (`scripts/testenv.sh up opensearch-cluster`), comma-separated.
const EnvOpenSearchClusterURLs = "SOOMCARE_TEST_OPENSEARCH_CLUSTER_URLS"

// ClusterNodes are the names `scripts/testenv.sh stop|start` takes for the
// cluster's nodes, in the order of OpenSearchClusterURLs.
var ClusterNodes = []string{"osc1", "osc2", "osc3"}

// OpenSearchClusterURLs returns the cluster's node addresses. The cluster is
// not part of the default environment: tests that need it skip without it.
func OpenSearchClusterURLs(t testing.TB) []string {
	t.Helper()
	return strings.Split(optional(t, EnvOpenSearchClusterURLs, "OpenSearch cluster", "opensearch-cluster"), ",")
}

// ClusterNode runs `scripts/testenv.sh VERB NODE` (kill: SIGKILL, stop:
// SIGTERM, start: start and wait until the cluster has its three nodes
// again) and returns how long it took. Tests that kill or stop a node start
// it again in their cleanup when they did not themselves.
func ClusterNode(t testing.TB, verb, node string) time.Duration {
	t.Helper()
	start := time.Now()
	out, err := exec.Command("bash", Ctl(t), verb, node).CombinedOutput()
	if err != nil {
		t.Fatalf("testenv.sh %s %s: %v\n%s", verb, node, err, out)
	}
	d := time.Since(start).Round(time.Millisecond)
	t.Logf("%s %s took %s", verb, node, d)
	return d
}

// Disruptive skips t unless SOOMCARE_TEST_DISRUPTIVE=1 (tests that kill
// engines run in the test command's own phases).
func Disruptive(t testing.TB) {
	t.Helper()
	if os.Getenv("SOOMCARE_TEST_DISRUPTIVE") != "1" {
		t.Skip("kills or stops engine nodes: run with SOOMCARE_TEST_DISRUPTIVE=1")
	}
}
