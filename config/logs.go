package config

import (
	"regexp"
	"strconv"
	"strings"
)

// Logs configures where the processes' JSON log lines are stored in the
// engine (`soomcare logs setup|rollover|prune`, package logstore). Sizes and
// ages are in the engines' own units (30d, 12h, 50gb) because they go into
// lifecycle policies verbatim.
type Logs struct {
	// DataStream is the data stream the shipper writes to; its index
	// template, and its lifecycle policy, carry the same name.
	DataStream string `mapstructure:"data_stream"`
	// Retention is how long a backing index is kept after it was rolled
	// over (ILM delete min_age, ISM min_rollover_age).
	Retention string `mapstructure:"retention"`
	// RolloverSize rolls the write index over once its primary shard is
	// this large; RolloverAge once it is this old.
	RolloverSize string `mapstructure:"rollover_size"`
	RolloverAge  string `mapstructure:"rollover_age"`
}

var (
	engineAge  = regexp.MustCompile(`^([1-9][0-9]{0,5})(d|h|m|s)$`)
	engineSize = regexp.MustCompile(`^([1-9][0-9]{0,5})(b|kb|mb|gb|tb)$`)
	// A data stream name the engines accept: lower case, no wildcard or
	// path characters, not hidden, not a backing index.
	dataStreamName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)
)

// AgeSeconds parses an engine time value such as 30d, 12h, 15m or 90s.
func AgeSeconds(s string) (int64, bool) {
	m := engineAge.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]int64{"d": 86400, "h": 3600, "m": 60, "s": 1}[m[2]]
	return n * unit, true
}

func (c *Config) validateLogs(bad func(key, format string, args ...any)) {
	l := c.Logs
	if !dataStreamName.MatchString(l.DataStream) || strings.HasPrefix(l.DataStream, ".") || strings.Contains(l.DataStream, "..") {
		bad("logs.data_stream", "must be a lower-case data stream name such as logs-soomcare-default (letters, digits, '.', '-', '_'; got %q)", l.DataStream)
	}
	retention, okR := AgeSeconds(l.Retention)
	if !okR {
		bad("logs.retention", "must be an age such as 30d, 72h or 90m (got %q)", l.Retention)
	}
	age, okA := AgeSeconds(l.RolloverAge)
	if !okA {
		bad("logs.rollover_age", "must be an age such as 1d or 12h (got %q)", l.RolloverAge)
	}
	if !engineSize.MatchString(l.RolloverSize) {
		bad("logs.rollover_size", "must be a size such as 30gb or 500mb (got %q)", l.RolloverSize)
	}
	if okR && okA && retention < age {
		bad("logs.retention", "must be at least logs.rollover_age (%s), or an index would be deleted before the next one takes over (got %s)", l.RolloverAge, l.Retention)
	}
}
