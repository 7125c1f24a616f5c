package testenv

import (
	"os"
	"strings"
	"testing"
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
	if !Enabled() {
		t.Skipf("integration test: set %s=1 (the README's test command does)", EnvIntegration)
	}
	v := os.Getenv(EnvOpenSearchClusterURLs)
	if v == "" {
		t.Skipf("needs the OpenSearch cluster: scripts/testenv.sh up opensearch-cluster, then set %s", EnvOpenSearchClusterURLs)
	}
	return strings.Split(v, ",")
}
