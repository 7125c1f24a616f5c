package community_test

import (
	"strings"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
)

// The community's report keys: defaults, and out-of-range values refused
// with the key named.
func TestReportConfigKeys(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Community; got.ReporterMinAge != 7*24*time.Hour || got.ReporterMinActivity != 1 || got.ReportDailyLimit != 10 {
		t.Errorf("defaults: %+v", got)
	}
	c, err = config.Load("", []string{"SOOMCARE_COMMUNITY_REPORTER_MIN_AGE=0s", "SOOMCARE_COMMUNITY_REPORTER_MIN_ACTIVITY=0"})
	if err != nil || c.Community.ReporterMinAge != 0 || c.Community.ReporterMinActivity != 0 {
		t.Errorf("0 (off) must be accepted: %v %+v", err, c)
	}
	for _, tt := range []struct{ env, key string }{
		{"SOOMCARE_COMMUNITY_REPORTER_MIN_AGE=-1h", "community.reporter_min_age"},
		{"SOOMCARE_COMMUNITY_REPORTER_MIN_AGE=9000h", "community.reporter_min_age"},
		{"SOOMCARE_COMMUNITY_REPORTER_MIN_ACTIVITY=-1", "community.reporter_min_activity"},
		{"SOOMCARE_COMMUNITY_REPORT_DAILY_LIMIT=0", "community.report_daily_limit"},
		{"SOOMCARE_COMMUNITY_REPORT_DAILY_LIMIT=1001", "community.report_daily_limit"},
	} {
		if _, err := config.Load("", []string{tt.env}); err == nil || !config.IsConfigError(err) || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: %v, want a config error naming %s", tt.env, err, tt.key)
		}
	}
}
