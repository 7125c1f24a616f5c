package config

import (
	"net"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
)

// CDC configures the binlog worker.
type CDC struct {
	ServerID      uint32        `mapstructure:"server_id"`
	Tables        []string      `mapstructure:"tables"`
	MetricsAddr   string        `mapstructure:"metrics_addr"`
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	BatchSize     int           `mapstructure:"batch_size"`
	// SourceDSN, when set, is a read replica (log_bin, log_slave_updates,
	// binlog ROW FULL) whose binlog the worker follows and whose rows it
	// re-reads, and where reindex reads rows and positions; the lock,
	// checkpoints and heartbeats stay on mysql.dsn. Same schema name.
	SourceDSN string `mapstructure:"source_dsn"`
}

// Startup configures how long commands wait for their dependencies.
type Startup struct {
	WaitTimeout time.Duration `mapstructure:"wait_timeout"`
}

// cdcDefaults are the cdc and startup sections' defaults.
func cdcDefaults() map[string]any {
	return map[string]any{
		"cdc.server_id":        1001,
		"cdc.tables":           []string{"users", "contents", "posts", "comments", "post_likes"},
		"cdc.metrics_addr":     "127.0.0.1:9102",
		"cdc.flush_interval":   "500ms",
		"cdc.batch_size":       1000,
		"cdc.source_dsn":       "",
		"startup.wait_timeout": "30s",
	}
}

// validateCDC checks the cdc section and startup.wait_timeout.
func (c *Config) validateCDC(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if c.CDC.ServerID == 0 {
		bad("cdc.server_id", "must be a non-zero replication server id unique among the source's replicas")
	}
	if len(c.CDC.Tables) == 0 {
		bad("cdc.tables", "must list at least one table")
	}
	if _, _, err := net.SplitHostPort(c.CDC.MetricsAddr); err != nil {
		bad("cdc.metrics_addr", "must be host:port (got %q)", c.CDC.MetricsAddr)
	}
	positive("cdc.flush_interval", c.CDC.FlushInterval)
	c.validateCDCSource(bad)
	if c.CDC.BatchSize < 1 || c.CDC.BatchSize > 50000 {
		bad("cdc.batch_size", "must be between 1 and 50000 (got %d)", c.CDC.BatchSize)
	}
	if c.Startup.WaitTimeout < 0 {
		bad("startup.wait_timeout", "must not be negative (got %s)", c.Startup.WaitTimeout)
	}
}

// validateCDCSource checks cdc.source_dsn: empty, or a DSN of the same
// schema as mysql.dsn (the replica carries the primary's databases).
func (c *Config) validateCDCSource(bad func(key, format string, args ...any)) {
	if c.CDC.SourceDSN == "" {
		return
	}
	src, err := gomysql.ParseDSN(c.CDC.SourceDSN)
	if err != nil {
		bad("cdc.source_dsn", "is not a valid DSN such as user:pass@tcp(replica:3306)/soomcare: %v", err)
		return
	}
	if primary, err := gomysql.ParseDSN(c.MySQL.DSN); err == nil && src.DBName != primary.DBName {
		bad("cdc.source_dsn", "names database %q but mysql.dsn names %q: a replica carries the same schema", src.DBName, primary.DBName)
	}
}
