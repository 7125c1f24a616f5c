package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct", "198.51.100.7:1234", "", "198.51.100.7"},
		{"untrusted peer's header ignored", "198.51.100.7:1234", "203.0.113.1", "198.51.100.7"},
		{"trusted proxy", "10.0.0.5:80", "203.0.113.1", "203.0.113.1"},
		{"chain of proxies", "10.0.0.5:80", "203.0.113.1, 192.0.2.9, 10.3.3.3", "192.0.2.9"},
		{"spoofed left entries", "10.0.0.5:80", "1.2.3.4, 203.0.113.1", "203.0.113.1"},
		{"garbage stops the walk", "10.0.0.5:80", "203.0.113.1, junk", "10.0.0.5"},
		{"ipv6 proxy", "[fd00::1]:443", "2001:db8::5", "2001:db8::5"},
		{"mapped ipv4", "[::ffff:198.51.100.7]:1", "", "198.51.100.7"},
		{"trusted peer, no header", "10.1.2.3:1234", "", "10.1.2.3"},
		{"ipv6 peer", "[2001:db8::1]:443", "", "2001:db8::1"},
		{"peer without a port", "198.51.100.7", "", "198.51.100.7"},
		// Entries with ports, as some proxies write them: each client keeps its own bucket.
		{"ipv4 with port", "10.0.0.5:80", "1.2.3.4:5678", "1.2.3.4"},
		{"bracketed ipv6 with port", "10.0.0.5:80", "[2001:db8::1]:443", "2001:db8::1"},
		{"bracketed ipv6", "10.0.0.5:80", "[2001:db8::1]", "2001:db8::1"},
		{"mapped ipv4 with port", "10.0.0.5:80", "[::ffff:1.2.3.4]:80", "1.2.3.4"},
		{"ports in a chain", "10.0.0.5:80", "1.2.3.4:1, 203.0.113.1:5678, 10.3.3.3:443", "203.0.113.1"},
		{"trusted hop with port is skipped", "[fd00::1]:443", "[2001:db8::7]:1234, [fd00::2]:80", "2001:db8::7"},
		{"spaces around a hop with port", "10.0.0.5:80", " 1.2.3.4:5678 ", "1.2.3.4"},
		{"bad port stops the walk", "10.0.0.5:80", "1.2.3.4:99999", "10.0.0.5"},
		{"empty port stops the walk", "10.0.0.5:80", "1.2.3.4:", "10.0.0.5"},
		{"ipv4 in brackets stops the walk", "10.0.0.5:80", "[1.2.3.4]", "10.0.0.5"},
		{"host name stops the walk", "10.0.0.5:80", "client.example:80", "10.0.0.5"},
		{"unknown stops the walk", "10.0.0.5:80", "unknown", "10.0.0.5"},
		{"unbracketed v6 with port-like tail is an address", "10.0.0.5:80", "2001:db8::1:443", "2001:db8::1:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if got := ClientAddr(r, trusted).String(); got != tt.want {
				t.Errorf("ClientAddr = %s, want %s", got, tt.want)
			}
		})
	}
}
