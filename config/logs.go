package config

import (
	"regexp"
	"strconv"
	"strings"
)

// Lifecycle is a data stream in the engine and the lifecycle of its backing
// indices: the whole logs section, and the data stream of the insights
// section (embedded there, so its keys are insights.data_stream,
// insights.retention, …). Sizes and ages are in the engines' own units (30d,
// 12h, 50gb) because they go into lifecycle policies verbatim.
type Lifecycle struct {
	// DataStream is the data stream written to; its index template and its
	// lifecycle policy carry the same name.
	DataStream string `mapstructure:"data_stream"`
	// Retention is how long a backing index is kept after it was rolled
	// over (ILM delete min_age, ISM min_rollover_age).
	Retention string `mapstructure:"retention"`
	// RolloverSize rolls the write index over once its primary shard is
	// this large; RolloverAge once it is this old.
	RolloverSize string `mapstructure:"rollover_size"`
	RolloverAge  string `mapstructure:"rollover_age"`
}

// Logs configures where the processes' JSON log lines are stored in the
// engine (`soomcare logs setup|rollover|prune`, package logstore): the
// shipper writes to DataStream.
type Logs = Lifecycle

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

// lifecycleExamples are the values a section's messages suggest (its
// defaults, and what else suits it).
type lifecycleExamples struct {
	stream    string // a data stream name
	retention string // retentions
	size      string // a rollover size beside 500mb
}

// validate checks the lifecycle keys of section (logs or insights): a data
// stream name the engines accept, engine ages and sizes, and a retention no
// shorter than the rollover age.
func (l Lifecycle) validate(section string, ex lifecycleExamples, bad func(key, format string, args ...any)) {
	if !dataStreamName.MatchString(l.DataStream) || strings.HasPrefix(l.DataStream, ".") || strings.Contains(l.DataStream, "..") {
		bad(section+".data_stream", "must be a lower-case data stream name such as %s (letters, digits, '.', '-', '_'; got %q)", ex.stream, l.DataStream)
	}
	retention, okR := AgeSeconds(l.Retention)
	if !okR {
		bad(section+".retention", "must be an age such as %s (got %q)", ex.retention, l.Retention)
	}
	age, okA := AgeSeconds(l.RolloverAge)
	if !okA {
		bad(section+".rollover_age", "must be an age such as 1d or 12h (got %q)", l.RolloverAge)
	}
	if !engineSize.MatchString(l.RolloverSize) {
		bad(section+".rollover_size", "must be a size such as %s or 500mb (got %q)", ex.size, l.RolloverSize)
	}
	if okR && okA && retention < age {
		bad(section+".retention", "must be at least %s.rollover_age (%s), or an index would be deleted before the next one takes over (got %s)", section, l.RolloverAge, l.Retention)
	}
}

// logsDefaults are the logs section's defaults.
func logsDefaults() map[string]any {
	return map[string]any{
		"logs.data_stream":   "logs-soomcare-default",
		"logs.retention":     "30d",
		"logs.rollover_size": "30gb",
		"logs.rollover_age":  "1d",
	}
}

// validateLogs checks the logs section.
func (c *Config) validateLogs(bad func(key, format string, args ...any)) {
	c.Logs.validate("logs", lifecycleExamples{stream: "logs-soomcare-default", retention: "30d, 72h or 90m", size: "30gb"}, bad)
}
