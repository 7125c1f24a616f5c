package config

import (
	"time"

	gomysql "github.com/go-sql-driver/mysql"
)

// MySQL configures the source-of-truth database.
type MySQL struct {
	DSN             string        `mapstructure:"dsn"` // go-sql-driver DSN: user:pass@tcp(host:port)/db
	MaxOpenConns    int           `mapstructure:"max_open_conns"`
	MaxIdleConns    int           `mapstructure:"max_idle_conns"`
	ConnMaxLifetime time.Duration `mapstructure:"conn_max_lifetime"`
	ConnectTimeout  time.Duration `mapstructure:"connect_timeout"`
	// SlowQueryThreshold: statements taking at least this long log at warn
	// with their family (mysql.Family), never their values; 0 turns it off.
	SlowQueryThreshold time.Duration `mapstructure:"slow_query_threshold"`
}

// mysqlDefaults are the mysql section's defaults.
func mysqlDefaults() map[string]any {
	return map[string]any{
		"mysql.dsn":                  "soomcare:soomcare@tcp(127.0.0.1:3306)/soomcare",
		"mysql.max_open_conns":       20,
		"mysql.max_idle_conns":       10,
		"mysql.conn_max_lifetime":    "5m",
		"mysql.connect_timeout":      "5s",
		"mysql.slow_query_threshold": "200ms",
	}
}

// validateMySQL checks the mysql section: DSN, pool sizes and timeouts.
func (c *Config) validateMySQL(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if c.MySQL.DSN == "" {
		bad("mysql.dsn", "must not be empty")
	} else if _, err := gomysql.ParseDSN(c.MySQL.DSN); err != nil {
		bad("mysql.dsn", "is not a valid DSN such as user:pass@tcp(127.0.0.1:3306)/soomcare: %v", err)
	}
	if c.MySQL.MaxOpenConns < 1 {
		bad("mysql.max_open_conns", "must be at least 1 (got %d)", c.MySQL.MaxOpenConns)
	}
	if c.MySQL.MaxIdleConns < 0 || c.MySQL.MaxIdleConns > c.MySQL.MaxOpenConns {
		bad("mysql.max_idle_conns", "must be between 0 and mysql.max_open_conns (got %d)", c.MySQL.MaxIdleConns)
	}
	positive("mysql.conn_max_lifetime", c.MySQL.ConnMaxLifetime)
	positive("mysql.connect_timeout", c.MySQL.ConnectTimeout)
	if c.MySQL.SlowQueryThreshold < 0 {
		bad("mysql.slow_query_threshold", "must be 0 (off) or a positive duration such as 200ms (got %s)", c.MySQL.SlowQueryThreshold)
	}
}
