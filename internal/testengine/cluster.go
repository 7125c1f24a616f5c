package testengine

import (
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
