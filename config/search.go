package config

import (
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/soomcare/soomcare/mappings"
)

// Engine kinds.
const (
	EngineElasticsearch = "elasticsearch"
	EngineOpenSearch    = "opensearch"
)

// Analysis profiles (package mappings renders an index for each).
const (
	ProfileNori  = mappings.ProfileNori  // Korean morphological analysis; needs the analysis-nori plugin
	ProfileBasic = mappings.ProfileBasic // only what every engine ships (standard analyzer)
)

// Search configures the search engine.
type Search struct {
	Engine          string        `mapstructure:"engine"` // elasticsearch | opensearch
	Addresses       []string      `mapstructure:"addresses"`
	Username        string        `mapstructure:"username"`
	Password        string        `mapstructure:"password"`
	APIKey          string        `mapstructure:"api_key"`
	TLS             TLS           `mapstructure:"tls"`
	RequestTimeout  time.Duration `mapstructure:"request_timeout"`
	MaxRetries      int           `mapstructure:"max_retries"`
	Compression     bool          `mapstructure:"compression"`      // gzip engine answers (worth it only over slow links)
	AnalysisProfile string        `mapstructure:"analysis_profile"` // nori | basic
	IndexPrefix     string        `mapstructure:"index_prefix"`
	// SlowCallThreshold: engine calls taking at least this long log at warn
	// with their family (method and API, no index or document names, no
	// body); 0 turns it off.
	SlowCallThreshold time.Duration `mapstructure:"slow_call_threshold"`
	// DiscoverInterval, when above 0, has the client ask the cluster for its
	// nodes (GET /_nodes/http) at start and then this often, and use their
	// publish addresses instead of Addresses; 0 (the default) uses Addresses
	// only.
	DiscoverInterval time.Duration `mapstructure:"discover_interval"`
	// Indices shapes each logical index (search.indices.<name>.shards|replicas;
	// indices.go).
	Indices map[string]IndexShape `mapstructure:"indices"`
}

// TLS configures the connection to the search engine.
type TLS struct {
	CAFile             string `mapstructure:"ca_file"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// Kind returns the engine kind in canonical form.
func (s Search) Kind() string { return strings.ToLower(strings.TrimSpace(s.Engine)) }

// searchDefaults are the search section's defaults; search.indices has its
// own (indexDefaults, indices.go).
func searchDefaults() map[string]any {
	return map[string]any{
		"search.engine":                   EngineElasticsearch,
		"search.addresses":                []string{"http://127.0.0.1:9200"},
		"search.username":                 "",
		"search.password":                 "",
		"search.api_key":                  "",
		"search.tls.ca_file":              "",
		"search.tls.insecure_skip_verify": false,
		"search.request_timeout":          "10s",
		"search.max_retries":              3,
		"search.compression":              false,
		"search.analysis_profile":         ProfileNori,
		"search.index_prefix":             "soomcare",
		"search.slow_call_threshold":      "1s",
		"search.discover_interval":        "0s",
	}
}

// validateSearch checks the search section: engine, addresses,
// credentials, TLS, timeouts, retries, analysis profile and index prefix.
func (c *Config) validateSearch(bad func(key, format string, args ...any), positive func(string, time.Duration), oneOf func(key, got string, allowed ...string)) {
	oneOf("search.engine", c.Search.Engine, EngineElasticsearch, EngineOpenSearch)
	if len(c.Search.Addresses) == 0 {
		bad("search.addresses", "must list at least one address such as http://127.0.0.1:9200")
	}
	for _, a := range c.Search.Addresses {
		u, err := url.Parse(strings.TrimSpace(a))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("search.addresses", "%q is not an http(s) URL such as http://127.0.0.1:9200", a)
		}
	}
	if c.Search.APIKey != "" && c.Search.Username != "" {
		bad("search.api_key", "set either search.api_key or search.username/password, not both")
	}
	if c.Search.Password != "" && c.Search.Username == "" {
		bad("search.password", "is set but search.username is empty")
	}
	if c.Search.TLS.CAFile != "" {
		if _, err := os.Stat(c.Search.TLS.CAFile); err != nil {
			bad("search.tls.ca_file", "cannot be read: %v", err)
		}
	}
	positive("search.request_timeout", c.Search.RequestTimeout)
	if c.Search.SlowCallThreshold < 0 {
		bad("search.slow_call_threshold", "must be 0 (off) or a positive duration such as 1s (got %s)", c.Search.SlowCallThreshold)
	}
	if c.Search.DiscoverInterval < 0 || (c.Search.DiscoverInterval > 0 && c.Search.DiscoverInterval < time.Second) {
		bad("search.discover_interval", "must be 0 (off) or at least 1s, such as 5m (got %s)", c.Search.DiscoverInterval)
	}
	if c.Search.MaxRetries < 0 || c.Search.MaxRetries > 10 {
		bad("search.max_retries", "must be between 0 and 10 (got %d)", c.Search.MaxRetries)
	}
	oneOf("search.analysis_profile", c.Search.AnalysisProfile, ProfileNori, ProfileBasic)
	if !validIndexPrefix(c.Search.IndexPrefix) {
		bad("search.index_prefix", "must be 1-40 lower-case letters, digits, '-' or '_', starting with a letter (got %q)", c.Search.IndexPrefix)
	}
	c.validateIndices(bad)
}

// validIndexPrefix reports whether s may begin the indices' names
// (search.index_prefix).
func validIndexPrefix(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
