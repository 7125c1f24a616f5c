package config

import (
	"errors"
	"strings"
	"testing"
)

// lifecycleOf is the Lifecycle of section (logs or insights) of c.
func lifecycleOf(c *Config, section string) Lifecycle {
	if section == "insights" {
		return c.Insights.Lifecycle
	}
	return c.Logs
}

// The logs and insights sections share one Lifecycle and its validation:
// the same values are accepted or refused the same way in both, with the
// same message naming the section's key.
func TestLifecycleValidation(t *testing.T) {
	tests := []struct {
		name    string
		set     map[string]string // lifecycle key → value, in the section under test
		wantKey string            // "" means valid; else the key after "<section>."
		want    string            // in the message; <s> stands for the section
	}{
		{"hours and megabytes", map[string]string{"retention": "72h", "rollover_age": "12h", "rollover_size": "500mb"}, "", ""},
		{"other stream", map[string]string{"data_stream": "soomcare-other.1"}, "", ""},
		{"retention equal to rollover age", map[string]string{"retention": "1d", "rollover_age": "24h"}, "", ""},
		{"go duration is not an engine age", map[string]string{"retention": "720h0m0s"}, "retention", "must be an age such as"},
		{"retention without unit", map[string]string{"retention": "30"}, "retention", "must be an age such as"},
		{"weeks are not an engine unit", map[string]string{"retention": "2w"}, "retention", "must be an age such as"},
		{"zero age", map[string]string{"rollover_age": "0d"}, "rollover_age", "must be an age such as 1d or 12h"},
		{"upper-case size unit", map[string]string{"rollover_size": "30GB"}, "rollover_size", "or 500mb"},
		{"size without unit", map[string]string{"rollover_size": "30"}, "rollover_size", "must be a size such as"},
		{"retention shorter than rollover", map[string]string{"retention": "12h", "rollover_age": "1d"}, "retention", "must be at least <s>.rollover_age (1d), or an index would be deleted"},
		{"upper-case stream", map[string]string{"data_stream": "Logs"}, "data_stream", "lower-case data stream name"},
		{"wildcard stream", map[string]string{"data_stream": "logs-*"}, "data_stream", "lower-case data stream name"},
		{"hidden stream", map[string]string{"data_stream": ".ds-logs"}, "data_stream", "lower-case data stream name"},
		{"dot-dot stream", map[string]string{"data_stream": "a..b"}, "data_stream", "lower-case data stream name"},
		{"empty stream", map[string]string{"data_stream": ""}, "data_stream", "lower-case data stream name"},
	}
	for _, section := range []string{"logs", "insights"} {
		for _, tt := range tests {
			t.Run(section+"/"+tt.name, func(t *testing.T) {
				var env []string
				for k, v := range tt.set {
					env = append(env, EnvName(section+"."+k)+"="+v)
				}
				c, err := Load("", env)
				if tt.wantKey == "" {
					if err != nil {
						t.Fatalf("want valid, got %v", err)
					}
					l := lifecycleOf(c, section)
					got := map[string]string{"data_stream": l.DataStream, "retention": l.Retention, "rollover_size": l.RolloverSize, "rollover_age": l.RolloverAge}
					for k, v := range tt.set {
						if got[k] != v {
							t.Errorf("%s.%s = %q, want %q", section, k, got[k], v)
						}
					}
					return
				}
				key, want := section+"."+tt.wantKey, strings.ReplaceAll(tt.want, "<s>", section)
				var cerr *Error
				if !errors.As(err, &cerr) || cerr.Key != key || !strings.Contains(err.Error(), want) {
					t.Fatalf("got %v, want an error on %s mentioning %q", err, key, want)
				}
			})
		}
	}
}

// The insights keys of a file reach the embedded Lifecycle, and its data
// stream may not be the logs' one.
func TestInsightsLifecycleFromFile(t *testing.T) {
	c, err := Load(writeFile(t, "insights:\n  data_stream: insights-x\n  retention: 10d\n  rollover_size: 1gb\n  rollover_age: 2d\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Lifecycle{DataStream: "insights-x", Retention: "10d", RolloverSize: "1gb", RolloverAge: "2d"}
	if c.Insights.Lifecycle != want {
		t.Errorf("insights lifecycle = %+v, want %+v", c.Insights.Lifecycle, want)
	}
	_, err = Load("", []string{"SOOMCARE_INSIGHTS_DATA_STREAM=logs-soomcare-default"})
	var cerr *Error
	if !errors.As(err, &cerr) || cerr.Key != "insights.data_stream" || !strings.Contains(err.Error(), "must differ from logs.data_stream") {
		t.Errorf("got %v, want insights.data_stream must differ from logs.data_stream", err)
	}
}
