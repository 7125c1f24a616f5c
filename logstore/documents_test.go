package logstore

import (
	"testing"

	"github.com/soomcare/soomcare/config"
)

// OptionsFrom serves both sections with a lifecycle: logs.* and the
// insights.* data stream keys.
func TestOptionsFrom(t *testing.T) {
	c, err := config.Load("", []string{"SOOMCARE_INSIGHTS_RETENTION=10d", "SOOMCARE_LOGS_ROLLOVER_SIZE=1gb"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   config.Lifecycle
		want Options
	}{
		{"logs", c.Logs, Options{DataStream: "logs-soomcare-default", Retention: "30d", RolloverSize: "1gb", RolloverAge: "1d"}},
		{"insights", c.Insights.Lifecycle, Options{DataStream: "soomcare-search-insights", Retention: "10d", RolloverSize: "5gb", RolloverAge: "7d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OptionsFrom(tt.in)
			if got.DataStream != tt.want.DataStream || got.Retention != tt.want.Retention || got.RolloverSize != tt.want.RolloverSize ||
				got.RolloverAge != tt.want.RolloverAge || got.Template != nil {
				t.Errorf("OptionsFrom = %+v, want %+v", got, tt.want)
			}
		})
	}
}
