package config

import (
	"strings"
	"time"
)

// Insights configures search insights (package insights): every answered
// search and suggest request is recorded off the request path into a data
// stream on the engine, and popular past queries feed the suggestions.
type Insights struct {
	// Enabled turns recording and the popular-query blend on; the editors'
	// report still reads what was recorded while it was on.
	Enabled bool `mapstructure:"enabled"`
	// DataStream is the data stream the recorder writes to; its index
	// template and lifecycle policy carry the same name.
	DataStream string `mapstructure:"data_stream"`
	// Retention, RolloverSize and RolloverAge are as in logs.* (engine units).
	Retention    string `mapstructure:"retention"`
	RolloverSize string `mapstructure:"rollover_size"`
	RolloverAge  string `mapstructure:"rollover_age"`
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

func (c *Config) validateInsights(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	in := c.Insights
	if !dataStreamName.MatchString(in.DataStream) || strings.HasPrefix(in.DataStream, ".") || strings.Contains(in.DataStream, "..") {
		bad("insights.data_stream", "must be a lower-case data stream name such as soomcare-search-insights (got %q)", in.DataStream)
	}
	if in.DataStream == c.Logs.DataStream {
		bad("insights.data_stream", "must differ from logs.data_stream (%q)", in.DataStream)
	}
	retention, okR := AgeSeconds(in.Retention)
	if !okR {
		bad("insights.retention", "must be an age such as 90d or 720h (got %q)", in.Retention)
	}
	age, okA := AgeSeconds(in.RolloverAge)
	if !okA {
		bad("insights.rollover_age", "must be an age such as 1d or 12h (got %q)", in.RolloverAge)
	}
	if !engineSize.MatchString(in.RolloverSize) {
		bad("insights.rollover_size", "must be a size such as 5gb or 500mb (got %q)", in.RolloverSize)
	}
	if okR && okA && retention < age {
		bad("insights.retention", "must be at least insights.rollover_age (%s) (got %s)", in.RolloverAge, in.Retention)
	}
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
