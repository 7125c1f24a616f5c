// Package testengine gives integration tests a client for each real engine
// of the test environment, with the analysis profile that engine supports.
package testengine

import (
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/internal/testenv"
	"github.com/soomcare/soomcare/mappings"
)

// Engine is one engine under test.
type Engine struct {
	Kind    string // config.EngineOpenSearch | config.EngineElasticsearch
	Profile string // nori on OpenSearch (it has the plugin), basic on Elasticsearch
	Client  *engine.Client
}

// All returns OpenSearch (nori) first, then Elasticsearch (basic); a matrix
// run (testenv.EnvEngines) returns only the engines it selects. It skips
// unless integration tests are enabled.
func All(t testing.TB) []Engine {
	t.Helper()
	var out []Engine
	for _, e := range []struct {
		kind    string
		url     func(testing.TB) string
		profile string
	}{
		{config.EngineOpenSearch, testenv.OpenSearchURL, mappings.ProfileNori},
		{config.EngineElasticsearch, testenv.ElasticsearchURL, mappings.ProfileBasic},
	} {
		if !testenv.Selected(e.kind) { // a matrix run (testenv.EnvEngines) tests one engine
			continue
		}
		c, err := engine.New(config.Search{Engine: e.kind, Addresses: []string{e.url(t)}, RequestTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Engine{Kind: e.kind, Profile: e.profile, Client: c})
	}
	if len(out) == 0 {
		t.Skipf("%s selects no engine of this environment", testenv.EnvEngines)
	}
	return out
}

// OpenSearch returns the OpenSearch engine with nori.
func OpenSearch(t testing.TB) Engine {
	testenv.OpenSearchURL(t) // skips a matrix run that leaves OpenSearch out
	return All(t)[0]
}
