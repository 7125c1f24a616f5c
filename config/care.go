package config

import (
	"net/url"
	"os"
	"strings"
	"time"
)

// Push configures the FCM HTTP v1 sender of reminders and notices.
type Push struct {
	// Endpoint is the FCM API root: https://fcm.googleapis.com in
	// production, a local server in tests. Requests go to
	// {endpoint}/v1/projects/{project_id}/messages:send.
	Endpoint  string `mapstructure:"endpoint"`
	ProjectID string `mapstructure:"project_id"` // Firebase project id; empty disables push
	// CredentialsFile is a Google service-account JSON key: its JWT is
	// exchanged at the key's token_uri for an OAuth access token with the
	// firebase.messaging scope. StaticToken is a fixed bearer token instead
	// (local test servers, a token minted by a sidecar). Set one of them.
	CredentialsFile string        `mapstructure:"credentials_file"`
	StaticToken     string        `mapstructure:"static_token"`
	Timeout         time.Duration `mapstructure:"timeout"` // per FCM request
}

// Enabled reports whether push is configured.
func (p Push) Enabled() bool { return p.ProjectID != "" }

// Reminders configures the medication reminder dispatcher.
type Reminders struct {
	Interval    time.Duration `mapstructure:"interval"`     // between passes
	Grace       time.Duration `mapstructure:"grace"`        // how late a due dose is still reminded
	MaxAttempts int           `mapstructure:"max_attempts"` // sends of one reminder before it is failed
	Backoff     time.Duration `mapstructure:"backoff"`      // first retry delay, doubled per attempt
	InServe     bool          `mapstructure:"in_serve"`     // also run the dispatcher inside `soomcare serve`
	MetricsAddr string        `mapstructure:"metrics_addr"` // GET /metrics of `soomcare reminders`; "" = off
}

// Calendar configures GET /v1/me/calendar.
type Calendar struct {
	// CacheEntries is how many computed months (user, month) each serve
	// process keeps in memory (≈ 7 KB each), checked against the user's
	// records version on every request; 0 turns the cache off.
	CacheEntries int `mapstructure:"cache_entries"`
}

// careDefaults are the push, reminders and calendar sections' defaults.
func careDefaults() map[string]any {
	return map[string]any{
		"push.endpoint":          "https://fcm.googleapis.com",
		"push.project_id":        "",
		"push.credentials_file":  "",
		"push.static_token":      "",
		"push.timeout":           "10s",
		"reminders.interval":     "30s",
		"reminders.grace":        "10m",
		"reminders.max_attempts": 5,
		"reminders.backoff":      "30s",
		"reminders.in_serve":     false,
		"reminders.metrics_addr": "", // off, as http.metrics_addr
		"calendar.cache_entries": 4096,
	}
}

// validateCare checks the push, reminders and calendar sections.
func (c *Config) validateCare(bad func(key, format string, args ...any), positive func(key string, d time.Duration)) {
	if c.Calendar.CacheEntries < 0 || c.Calendar.CacheEntries > 1_000_000 {
		bad("calendar.cache_entries", "must be between 0 (no cache) and 1000000 (got %d)", c.Calendar.CacheEntries)
	}
	u, err := url.Parse(strings.TrimSpace(c.Push.Endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("push.endpoint", "must be an http(s) URL such as https://fcm.googleapis.com (got %q)", c.Push.Endpoint)
	}
	if c.Push.CredentialsFile != "" && c.Push.StaticToken != "" {
		bad("push.credentials_file", "set either push.credentials_file or push.static_token, not both")
	}
	if c.Push.ProjectID != "" && c.Push.CredentialsFile == "" && c.Push.StaticToken == "" {
		bad("push.project_id", "is set but neither push.credentials_file nor push.static_token is")
	}
	if c.Push.CredentialsFile != "" {
		if _, err := os.Stat(c.Push.CredentialsFile); err != nil {
			bad("push.credentials_file", "cannot be read: %v", err)
		}
	}
	positive("push.timeout", c.Push.Timeout)
	positive("reminders.interval", c.Reminders.Interval)
	positive("reminders.grace", c.Reminders.Grace)
	if c.Reminders.Grace > 0 && c.Reminders.Interval > 0 && c.Reminders.Grace < 2*c.Reminders.Interval {
		bad("reminders.grace", "must be at least twice reminders.interval (%s) so a dose is never skipped between passes (got %s)", c.Reminders.Interval, c.Reminders.Grace)
	}
	if c.Reminders.MaxAttempts < 1 || c.Reminders.MaxAttempts > 20 {
		bad("reminders.max_attempts", "must be between 1 and 20 (got %d)", c.Reminders.MaxAttempts)
	}
	positive("reminders.backoff", c.Reminders.Backoff)
}
