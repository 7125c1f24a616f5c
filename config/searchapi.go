package config

import (
	"slices"
	"time"
)

// SearchAPI configures the search, suggest and feed endpoints of `serve`.
type SearchAPI struct {
	// Timeout bounds each request to the engine; past it the API answers 503
	// at once. It must stay well under http.write_timeout.
	Timeout time.Duration `mapstructure:"timeout"`
	// RateLimit is the sustained requests per second allowed per client IP
	// (token bucket, shared by every search endpoint); 0 disables limiting.
	RateLimit float64 `mapstructure:"rate_limit"`
	// RateBurst is the bucket size: how many requests a client may make at once.
	RateBurst int `mapstructure:"rate_burst"`
	// TrustedProxies is the deprecated name of http.trusted_proxies: still
	// read (Load carries it over when http.trusted_proxies is empty, and
	// Warnings says so), an error when both are set and differ.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
}

// searchAPIDefaults are the searchapi section's defaults.
func searchAPIDefaults() map[string]any {
	return map[string]any{
		"searchapi.timeout":         "2s",
		"searchapi.rate_limit":      20.0,
		"searchapi.rate_burst":      40,
		"searchapi.trusted_proxies": []string{},
	}
}

// validateSearchAPI checks the searchapi section (timeout, rate limit) and
// the trusted proxies of http and searchapi.
func (c *Config) validateSearchAPI(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	positive("searchapi.timeout", c.SearchAPI.Timeout)
	if c.SearchAPI.Timeout > 0 && c.HTTP.WriteTimeout > 0 && c.SearchAPI.Timeout > c.HTTP.WriteTimeout/2 {
		bad("searchapi.timeout", "must be at most half of http.write_timeout (%s) so a slow engine answers 503 before the connection is cut (got %s)", c.HTTP.WriteTimeout, c.SearchAPI.Timeout)
	}
	if c.SearchAPI.RateLimit < 0 || c.SearchAPI.RateLimit > 100000 {
		bad("searchapi.rate_limit", "must be between 0 (off) and 100000 requests per second (got %g)", c.SearchAPI.RateLimit)
	}
	if c.SearchAPI.RateLimit > 0 && (c.SearchAPI.RateBurst < 1 || c.SearchAPI.RateBurst > 100000) {
		bad("searchapi.rate_burst", "must be between 1 and 100000 when searchapi.rate_limit is on (got %d)", c.SearchAPI.RateBurst)
	}
	for _, kv := range []struct {
		key  string
		list []string
	}{{"http.trusted_proxies", c.HTTP.TrustedProxies}, {"searchapi.trusted_proxies", c.SearchAPI.TrustedProxies}} {
		for _, p := range kv.list {
			if _, err := ParseProxy(p); err != nil {
				bad(kv.key, "%q is not an IP address or CIDR such as 10.0.0.0/8", p)
			}
		}
	}
	if len(c.SearchAPI.TrustedProxies) > 0 && len(c.HTTP.TrustedProxies) > 0 && !slices.Equal(c.SearchAPI.TrustedProxies, c.HTTP.TrustedProxies) {
		bad("searchapi.trusted_proxies", "is the deprecated name of http.trusted_proxies, which is set to something else: keep only http.trusted_proxies")
	}
}

// applyDeprecated carries deprecated keys over to their successors when
// those are not set.
func (c *Config) applyDeprecated() {
	if len(c.HTTP.TrustedProxies) == 0 && len(c.SearchAPI.TrustedProxies) > 0 {
		c.HTTP.TrustedProxies = slices.Clone(c.SearchAPI.TrustedProxies)
	}
}

// Warnings are the deprecated keys in use, one sentence each, for the
// commands to log at start.
func (c *Config) Warnings() []string {
	var out []string
	if len(c.SearchAPI.TrustedProxies) > 0 {
		out = append(out, "searchapi.trusted_proxies is deprecated: rename it http.trusted_proxies (it serves the search rate limit and the login and sign-up throttles alike)")
	}
	return out
}
