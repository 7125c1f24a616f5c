package config

import (
	"strings"
	"testing"
	"time"
)

func TestSlowThresholds(t *testing.T) {
	tests := []struct {
		name            string
		env             []string
		mysql, search   time.Duration
		wantErr, errKey string
	}{
		{name: "defaults", mysql: 200 * time.Millisecond, search: time.Second},
		{name: "off", env: []string{"SOOMCARE_MYSQL_SLOW_QUERY_THRESHOLD=0s", "SOOMCARE_SEARCH_SLOW_CALL_THRESHOLD=0s"}},
		{name: "set", env: []string{"SOOMCARE_MYSQL_SLOW_QUERY_THRESHOLD=50ms", "SOOMCARE_SEARCH_SLOW_CALL_THRESHOLD=300ms"}, mysql: 50 * time.Millisecond, search: 300 * time.Millisecond},
		{name: "negative mysql", env: []string{"SOOMCARE_MYSQL_SLOW_QUERY_THRESHOLD=-1s"}, wantErr: "must be 0 (off) or a positive duration", errKey: "mysql.slow_query_threshold"},
		{name: "negative search", env: []string{"SOOMCARE_SEARCH_SLOW_CALL_THRESHOLD=-5ms"}, wantErr: "must be 0 (off) or a positive duration", errKey: "search.slow_call_threshold"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.errKey) {
					t.Fatalf("error %v should name %s", err, tt.errKey)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MySQL.SlowQueryThreshold != tt.mysql || c.Search.SlowCallThreshold != tt.search {
				t.Errorf("thresholds mysql %s search %s, want %s %s", c.MySQL.SlowQueryThreshold, c.Search.SlowCallThreshold, tt.mysql, tt.search)
			}
		})
	}
}
