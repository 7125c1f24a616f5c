// Package config loads the platform's configuration: built-in defaults, an
// optional YAML file, then SOOMCARE_* environment variables (SOOMCARE_MYSQL_DSN
// overrides mysql.dsn; a dot becomes an underscore). Every key is documented in
// config.example.yaml at the repository root.
package config

import (
	"fmt"
	"maps"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
)

// EnvPrefix is the prefix of environment overrides.
const EnvPrefix = "SOOMCARE"

// Config is the whole configuration. Field tags are the keys of the YAML file.
// Each section's type, defaults and validation live together in the file
// named beside it; Load and the key list are in load.go.
type Config struct {
	Log       Log       `mapstructure:"log"`       // http.go
	HTTP      HTTP      `mapstructure:"http"`      // http.go
	MySQL     MySQL     `mapstructure:"mysql"`     // mysql.go
	Search    Search    `mapstructure:"search"`    // search.go, indices.go
	CDC       CDC       `mapstructure:"cdc"`       // cdc.go
	Startup   Startup   `mapstructure:"startup"`   // cdc.go
	SearchAPI SearchAPI `mapstructure:"searchapi"` // searchapi.go
	Auth      Auth      `mapstructure:"auth"`      // auth.go, jwtsecret.go
	Community Community `mapstructure:"community"` // community.go
	Uploads   Uploads   `mapstructure:"uploads"`   // uploads.go
	Push      Push      `mapstructure:"push"`      // care.go
	Reminders Reminders `mapstructure:"reminders"` // care.go
	Calendar  Calendar  `mapstructure:"calendar"`  // care.go
	Logs      Logs      `mapstructure:"logs"`      // logs.go
	Insights  Insights  `mapstructure:"insights"`  // insights.go
}

// sectionDefaults are the sections' defaults, each beside its section's type
// and validation. Together they hold every key with its default value and
// are the list of keys that exist (Keys), so a key can never be documented
// but unknown; no key is in two of them (TestSectionDefaultsAreDisjoint).
func sectionDefaults() []map[string]any {
	return []map[string]any{
		logDefaults(), httpDefaults(), mysqlDefaults(), searchDefaults(), indexDefaults(),
		cdcDefaults(), searchAPIDefaults(), authDefaults(), oidcDefaults(), communityDefaults(),
		uploadsDefaults(), careDefaults(), logsDefaults(), insightsDefaults(),
	}
}

// defaults holds every key with its default value (sectionDefaults merged).
func defaults() map[string]any {
	d := map[string]any{}
	for _, section := range sectionDefaults() {
		maps.Copy(d, section)
	}
	return d
}

// Validate checks every value and returns the first problem, naming the key.
// The steps run in a fixed order (log, http, mysql, search, cdc, searchapi,
// auth, community, uploads, care, logs, insights), which is the order
// problems are reported in.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, got string, allowed ...string) {
		for _, a := range allowed {
			if got == a {
				return
			}
		}
		bad(key, "must be one of %s (got %q)", strings.Join(allowed, ", "), got)
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "must be a positive duration such as 5s (got %s)", d)
		}
	}

	c.validateLog(oneOf)
	c.validateHTTP(bad, positive)
	c.validateMySQL(bad, positive)
	c.validateSearch(bad, positive, oneOf)
	c.validateCDC(bad, positive)
	c.validateSearchAPI(bad, positive)
	c.validateAuth(bad, positive)
	c.validateCommunity(bad)
	c.validateUploads(bad)
	c.validateCare(bad, positive)
	c.validateLogs(bad)
	c.validateInsights(bad, positive)
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// Masked returns a copy safe to log: secrets replaced, DSN password hidden.
func (c Config) Masked() Config {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "****"
	}
	c.Search.Password = mask(c.Search.Password)
	c.Search.APIKey = mask(c.Search.APIKey)
	c.Push.StaticToken = mask(c.Push.StaticToken)
	c.Auth.JWTSecret = mask(c.Auth.JWTSecret)
	c.Uploads.S3.SecretKey = mask(c.Uploads.S3.SecretKey)
	c.Insights.ClientHashSecret = mask(c.Insights.ClientHashSecret)
	if d, err := gomysql.ParseDSN(c.MySQL.DSN); err == nil && d.Passwd != "" {
		d.Passwd = "****"
		c.MySQL.DSN = d.FormatDSN()
	}
	if d, err := gomysql.ParseDSN(c.CDC.SourceDSN); err == nil && d.Passwd != "" {
		d.Passwd = "****"
		c.CDC.SourceDSN = d.FormatDSN()
	} else if err != nil {
		c.CDC.SourceDSN = mask(c.CDC.SourceDSN) // unparsable: may hold a password anywhere
	}
	return c
}
