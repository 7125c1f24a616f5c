package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// http.trusted_proxies is the one client-address setting; its old name
// searchapi.trusted_proxies still works, with a warning.
func TestTrustedProxiesKey(t *testing.T) {
	cases := []struct {
		name      string
		env       []string
		want      []string // http.trusted_proxies after Load
		warned    bool
		errKey    string
		errSubstr string
	}{
		{"default", nil, nil, false, "", ""},
		{"new key", []string{"SOOMCARE_HTTP_TRUSTED_PROXIES=10.0.0.0/8"}, []string{"10.0.0.0/8"}, false, "", ""},
		{"old key carried over", []string{"SOOMCARE_SEARCHAPI_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.10"}, []string{"10.0.0.0/8", "192.168.1.10"}, true, "", ""},
		{"both, the same", []string{"SOOMCARE_HTTP_TRUSTED_PROXIES=10.0.0.0/8", "SOOMCARE_SEARCHAPI_TRUSTED_PROXIES=10.0.0.0/8"}, []string{"10.0.0.0/8"}, true, "", ""},
		{"both, different", []string{"SOOMCARE_HTTP_TRUSTED_PROXIES=10.0.0.0/8", "SOOMCARE_SEARCHAPI_TRUSTED_PROXIES=172.16.0.0/12"}, nil, false, "searchapi.trusted_proxies", "keep only http.trusted_proxies"},
		{"bad entry", []string{"SOOMCARE_HTTP_TRUSTED_PROXIES=proxy.local"}, nil, false, "http.trusted_proxies", "proxy.local"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load("", tc.env)
			if tc.errKey != "" {
				var ce *Error
				if err == nil || !strings.Contains(err.Error(), tc.errSubstr) || !errors.As(err, &ce) || ce.Key != tc.errKey {
					t.Fatalf("err = %v, want one naming %s and saying %q", err, tc.errKey, tc.errSubstr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.HTTP.TrustedProxies, tc.want) {
				t.Errorf("http.trusted_proxies = %q, want %q", c.HTTP.TrustedProxies, tc.want)
			}
			if got := len(c.HTTP.Proxies()); got != len(tc.want) {
				t.Errorf("Proxies() has %d prefixes, want %d", got, len(tc.want))
			}
			w := c.Warnings()
			if tc.warned != (len(w) == 1 && strings.Contains(w[0], "searchapi.trusted_proxies is deprecated") && strings.Contains(w[0], "http.trusted_proxies")) {
				t.Errorf("warnings %q, want a deprecation warning: %v", w, tc.warned)
			}
		})
	}
}
