package engine

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/internal/testenv"
)

// With search.discover_interval the client, given one node of the cluster,
// learns all three from GET /_nodes/http; without it, it keeps the one.
func TestIntegrationNodeDiscovery(t *testing.T) {
	nodes := testenv.OpenSearchClusterURLs(t)
	var hosts []string
	for _, n := range nodes {
		u, err := url.Parse(n)
		if err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, u.Host)
	}
	want := slices.Sorted(slices.Values(hosts))
	tests := []struct {
		name     string
		interval time.Duration
		wait     time.Duration
		want     []string
	}{
		{"discovery on: every node", time.Second, 20 * time.Second, want},
		{"discovery off: the configured node only", 0, 3 * time.Second, hosts[:1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(config.Search{Engine: config.EngineOpenSearch, Addresses: []string{nodes[0]}, RequestTimeout: 10 * time.Second,
				MaxRetries: 3, DiscoverInterval: tt.interval})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for deadline := time.Now().Add(tt.wait); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
				got = got[:0]
				for _, u := range c.ES.Transport.(interface{ URLs() []*url.URL }).URLs() {
					got = append(got, u.Host)
				}
				slices.Sort(got)
				if len(got) == len(want) {
					break
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("client's nodes %v, want %v", got, tt.want)
			}
			if _, err := c.Health(t.Context()); err != nil {
				t.Errorf("health through the discovered nodes: %v", err)
			}
		})
	}
}
