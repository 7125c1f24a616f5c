package config

import (
	"strings"
	"testing"
	"time"
)

func TestDiscoverInterval(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		want    time.Duration
		wantErr bool
	}{
		{name: "off by default"},
		{name: "set", env: []string{"SOOMCARE_SEARCH_DISCOVER_INTERVAL=5m"}, want: 5 * time.Minute},
		{name: "negative", env: []string{"SOOMCARE_SEARCH_DISCOVER_INTERVAL=-1s"}, wantErr: true},
		{name: "too often", env: []string{"SOOMCARE_SEARCH_DISCOVER_INTERVAL=100ms"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", tt.env)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "search.discover_interval") {
					t.Fatalf("error %v should name search.discover_interval", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Search.DiscoverInterval != tt.want {
				t.Errorf("discover_interval %s, want %s", c.Search.DiscoverInterval, tt.want)
			}
		})
	}
}
