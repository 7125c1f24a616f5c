package config

import "time"

// Community configures the community endpoints.
type Community struct {
	// ReportHideThreshold is how many abuse reports (one per user) hide a post.
	ReportHideThreshold int `mapstructure:"report_hide_threshold"`
	// ReporterMinAge is how old a reporter's account must be for the
	// report to count toward hiding (0: any age).
	ReporterMinAge time.Duration `mapstructure:"reporter_min_age"`
	// ReporterMinActivity is how many posts or comments (not deleted) a reporter
	// must have written for the report to count toward hiding (0: none).
	ReporterMinActivity int `mapstructure:"reporter_min_activity"`
	// ReportDailyLimit is how many reports one user may file in 24 hours.
	ReportDailyLimit int `mapstructure:"report_daily_limit"`
}

// communityDefaults are the community section's defaults.
func communityDefaults() map[string]any {
	return map[string]any{
		"community.report_hide_threshold": 5,
		"community.reporter_min_age":      "168h",
		"community.reporter_min_activity": 1,
		"community.report_daily_limit":    10,
	}
}

// validateCommunity checks the community section's report thresholds.
func (c *Config) validateCommunity(bad func(key, format string, args ...any)) {
	if c.Community.ReportHideThreshold < 1 || c.Community.ReportHideThreshold > 1000 {
		bad("community.report_hide_threshold", "must be between 1 and 1000 reports (got %d)", c.Community.ReportHideThreshold)
	}
	if a := c.Community.ReporterMinAge; a < 0 || a > 365*24*time.Hour {
		bad("community.reporter_min_age", "must be between 0 (any age) and 8760h (got %s)", a)
	}
	if n := c.Community.ReporterMinActivity; n < 0 || n > 1000 {
		bad("community.reporter_min_activity", "must be between 0 (none) and 1000 posts or comments (got %d)", n)
	}
	if n := c.Community.ReportDailyLimit; n < 1 || n > 1000 {
		bad("community.report_daily_limit", "must be between 1 and 1000 reports (got %d)", n)
	}
}
