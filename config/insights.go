package config

import "time"

// Insights configures search insights (package insights): every answered
// search and suggest request is recorded off the request path into a data
// stream on the engine, and popular past queries feed the suggestions.
type Insights struct {
	// Enabled turns recording and the popular-query blend on; the editors'
	// report still reads what was recorded while it was on.
	Enabled bool `mapstructure:"enabled"`
	// Lifecycle is the data stream the recorder writes to (its index
	// template and lifecycle policy carry the same name) with its retention
	// and rollover, as in logs.*; its keys sit in the insights section
	// itself (insights.data_stream, …).
	Lifecycle `mapstructure:",squash"`
	// QueueSize bounds the events waiting for the writer; past it new
	// events are dropped and counted.
	QueueSize int `mapstructure:"queue_size"`
	// FlushInterval is how long an event may wait for a fuller batch.
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	// PopularRefresh is how often the popular-query list is rebuilt;
	// PopularWindow how far back it looks; PopularMinClients how many
	// distinct clients (one per client and day) and PopularMinCount how
	// many searches a query needs before it is ever suggested to others.
	PopularRefresh    time.Duration `mapstructure:"popular_refresh"`
	PopularWindow     time.Duration `mapstructure:"popular_window"`
	PopularMinClients int           `mapstructure:"popular_min_clients"`
	PopularMinCount   int           `mapstructure:"popular_min_count"`
	// ClientHashSecret keys the daily hash of the client stored with each
	// search (a day's key is HMAC(secret, date)); empty: a random key per
	// process. At least 32 bytes; masked in logs.
	ClientHashSecret string `mapstructure:"client_hash_secret"`
	// BlocksRefresh is how often serve checks MySQL for editors' removals
	// and blocks of suggestions (the bound on their taking effect).
	BlocksRefresh time.Duration `mapstructure:"blocks_refresh"`
}

// insightsDefaults are the insights section's defaults.
func insightsDefaults() map[string]any {
	return map[string]any{
		"insights.enabled":             true,
		"insights.data_stream":         "soomcare-search-insights",
		"insights.retention":           "90d",
		"insights.rollover_size":       "5gb",
		"insights.rollover_age":        "7d",
		"insights.queue_size":          10000,
		"insights.flush_interval":      "2s",
		"insights.popular_refresh":     "5m",
		"insights.popular_window":      "720h",
		"insights.popular_min_count":   5,
		"insights.popular_min_clients": 5,
		"insights.client_hash_secret":  "",
		"insights.blocks_refresh":      "2s",
	}
}

// validateInsights checks the insights section; its data stream must not be
// the logs' one.
func (c *Config) validateInsights(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	in := c.Insights
	if in.DataStream == c.Logs.DataStream {
		bad("insights.data_stream", "must differ from logs.data_stream (%q)", in.DataStream)
	}
	in.Lifecycle.validate("insights", lifecycleExamples{stream: "soomcare-search-insights", retention: "90d or 720h", size: "5gb"}, bad)
	if in.QueueSize < 1 || in.QueueSize > 1_000_000 {
		bad("insights.queue_size", "must be between 1 and 1000000 (got %d)", in.QueueSize)
	}
	positive("insights.flush_interval", in.FlushInterval)
	positive("insights.popular_refresh", in.PopularRefresh)
	positive("insights.popular_window", in.PopularWindow)
	positive("insights.blocks_refresh", in.BlocksRefresh)
	if in.PopularMinClients < 1 {
		bad("insights.popular_min_clients", "must be at least 1 (got %d)", in.PopularMinClients)
	}
	if in.ClientHashSecret != "" && len(in.ClientHashSecret) < 32 {
		bad("insights.client_hash_secret", "must be at least 32 bytes (got %d); generate one with `openssl rand -base64 48`", len(in.ClientHashSecret))
	}
	if in.PopularMinCount < 1 {
		bad("insights.popular_min_count", "must be at least 1 (got %d)", in.PopularMinCount)
	}
}
