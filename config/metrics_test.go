package config

import (
	"strings"
	"testing"
)

func TestMetricsAddrs(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantErr string // "" = valid
		wantKey string
	}{
		{"defaults", nil, "", ""},
		{"off", []string{"SOOMCARE_HTTP_METRICS_ADDR=", "SOOMCARE_REMINDERS_METRICS_ADDR="}, "", ""},
		{"on", []string{"SOOMCARE_HTTP_METRICS_ADDR=127.0.0.1:9464", "SOOMCARE_REMINDERS_METRICS_ADDR=127.0.0.1:9465"}, "", ""},
		{"any port", []string{"SOOMCARE_HTTP_METRICS_ADDR=127.0.0.1:0"}, "", ""},
		{"not host:port", []string{"SOOMCARE_HTTP_METRICS_ADDR=9464"}, "must be host:port", "http.metrics_addr"},
		{"public port", []string{"SOOMCARE_HTTP_ADDR=0.0.0.0:8080", "SOOMCARE_HTTP_METRICS_ADDR=127.0.0.1:8080"}, "public port", "http.metrics_addr"},
		{"reminders public port", []string{"SOOMCARE_REMINDERS_METRICS_ADDR=:8080"}, "public port", "reminders.metrics_addr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load("", tt.env)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.name == "off" && (c.HTTP.MetricsAddr != "" || c.Reminders.MetricsAddr != "") {
					t.Errorf("empty env must turn metrics off: http %q reminders %q", c.HTTP.MetricsAddr, c.Reminders.MetricsAddr)
				}
				if tt.env == nil && (c.HTTP.MetricsAddr != "" || c.Reminders.MetricsAddr != "") {
					t.Errorf("defaults: http %q reminders %q", c.HTTP.MetricsAddr, c.Reminders.MetricsAddr)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("error %v should name %s and say %q", err, tt.wantKey, tt.wantErr)
			}
		})
	}
}
