package config

import (
	"errors"
	"strings"
	"testing"
)

func TestLogsDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Logs{DataStream: "logs-soomcare-default", Retention: "30d", RolloverSize: "30gb", RolloverAge: "1d"}
	if c.Logs != want {
		t.Errorf("logs defaults = %+v, want %+v", c.Logs, want)
	}
}

func TestLogsValidation(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		wantKey string // "" means valid
		want    string
	}{
		{"hours and megabytes", []string{"SOOMCARE_LOGS_RETENTION=72h", "SOOMCARE_LOGS_ROLLOVER_AGE=12h", "SOOMCARE_LOGS_ROLLOVER_SIZE=500mb"}, "", ""},
		{"other stream", []string{"SOOMCARE_LOGS_DATA_STREAM=logs-soomcare-prod"}, "", ""},
		{"go duration is not an engine age", []string{"SOOMCARE_LOGS_RETENTION=720h0m0s"}, "logs.retention", "30d, 72h"},
		{"retention without unit", []string{"SOOMCARE_LOGS_RETENTION=30"}, "logs.retention", "30d"},
		{"zero age", []string{"SOOMCARE_LOGS_ROLLOVER_AGE=0d"}, "logs.rollover_age", "1d or 12h"},
		{"upper-case size unit", []string{"SOOMCARE_LOGS_ROLLOVER_SIZE=30GB"}, "logs.rollover_size", "30gb"},
		{"retention shorter than rollover", []string{"SOOMCARE_LOGS_RETENTION=12h", "SOOMCARE_LOGS_ROLLOVER_AGE=1d"}, "logs.retention", "at least logs.rollover_age"},
		{"upper-case stream", []string{"SOOMCARE_LOGS_DATA_STREAM=Logs"}, "logs.data_stream", "lower-case"},
		{"wildcard stream", []string{"SOOMCARE_LOGS_DATA_STREAM=logs-*"}, "logs.data_stream", "lower-case"},
		{"hidden stream", []string{"SOOMCARE_LOGS_DATA_STREAM=.ds-logs"}, "logs.data_stream", "lower-case"},
		{"empty stream", []string{"SOOMCARE_LOGS_DATA_STREAM="}, "logs.data_stream", "lower-case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("", tt.env)
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Key != tt.wantKey || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error on %s mentioning %q", err, tt.wantKey, tt.want)
			}
		})
	}
}

func TestAgeSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"30d", 30 * 86400, true}, {"12h", 12 * 3600, true}, {"15m", 900, true}, {"90s", 90, true},
		{"1w", 0, false}, {"", 0, false}, {"-1d", 0, false}, {"1.5d", 0, false}, {"05d", 0, false},
	}
	for _, tt := range tests {
		got, ok := AgeSeconds(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("AgeSeconds(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
