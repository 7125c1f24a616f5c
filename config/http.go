package config

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Log configures log/slog.
type Log struct {
	Level  string `mapstructure:"level"`  // debug | info | warn | error
	Format string `mapstructure:"format"` // text | json
}

// HTTP configures the API server.
type HTTP struct {
	Addr            string        `mapstructure:"addr"`
	ReadTimeout     time.Duration `mapstructure:"read_timeout"`
	WriteTimeout    time.Duration `mapstructure:"write_timeout"`
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	MaxBodyBytes    int64         `mapstructure:"max_body_bytes"`
	CORS            CORS          `mapstructure:"cors"`
	// TrustedProxies lists the addresses or CIDRs of reverse proxies whose
	// X-Forwarded-For header names the client; empty means the TCP peer is
	// the client. The search rate limit and the login and sign-up throttles
	// all count clients this way (HTTP.Proxies).
	TrustedProxies []string `mapstructure:"trusted_proxies"`
	// MetricsAddr is where serve answers GET /metrics (Prometheus), on a
	// listener of its own, never the public port; "" turns it off.
	MetricsAddr string `mapstructure:"metrics_addr"`
}

// CORS configures which web pages may call the API from a browser.
type CORS struct {
	// AllowedOrigins lists exact origins such as https://app.soomcare.kr
	// (scheme://host[:port], lower case, no path, no wildcard); empty (the
	// default) turns CORS off: no answer carries a CORS header.
	AllowedOrigins []string `mapstructure:"allowed_origins"`
}

// logDefaults are the log section's defaults.
func logDefaults() map[string]any {
	return map[string]any{
		"log.level":  "info",
		"log.format": "text",
	}
}

// httpDefaults are the http section's defaults.
func httpDefaults() map[string]any {
	return map[string]any{
		"http.addr":                 "127.0.0.1:8080",
		"http.read_timeout":         "10s",
		"http.write_timeout":        "15s",
		"http.shutdown_timeout":     "10s",
		"http.max_body_bytes":       1 << 20,
		"http.cors.allowed_origins": []string{},
		"http.trusted_proxies":      []string{},
		"http.metrics_addr":         "", // off: a fixed default port collides when several serve run on one host (tests, blue/green)
	}
}

// validateLog checks log.level and log.format.
func (c *Config) validateLog(oneOf func(key, got string, allowed ...string)) {
	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "text", "json")
}

// validateHTTP checks the http section: listen address, timeouts, body
// limit, metrics listeners and CORS origins.
func (c *Config) validateHTTP(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		bad("http.addr", "must be host:port (got %q)", c.HTTP.Addr)
	}
	positive("http.read_timeout", c.HTTP.ReadTimeout)
	positive("http.write_timeout", c.HTTP.WriteTimeout)
	positive("http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	if c.HTTP.MaxBodyBytes < 1024 {
		bad("http.max_body_bytes", "must be at least 1024 (got %d)", c.HTTP.MaxBodyBytes)
	}
	c.validateMetricsAddrs(bad)
	for _, o := range c.HTTP.CORS.AllowedOrigins {
		if !isOrigin(o) {
			bad("http.cors.allowed_origins", "%q is not an origin such as https://app.soomcare.kr (scheme://host[:port], lower case, no path, no wildcard)", o)
		}
	}
}

// validateMetricsAddrs checks http.metrics_addr and reminders.metrics_addr:
// empty (off) or host:port, and never the public port of http.addr.
func (c *Config) validateMetricsAddrs(bad func(key, format string, args ...any)) {
	_, public, _ := net.SplitHostPort(c.HTTP.Addr)
	for _, kv := range [][2]string{{"http.metrics_addr", c.HTTP.MetricsAddr}, {"reminders.metrics_addr", c.Reminders.MetricsAddr}} {
		key, addr := kv[0], kv[1]
		if addr == "" {
			continue
		}
		_, port, err := net.SplitHostPort(addr)
		switch {
		case err != nil:
			bad(key, "must be host:port or empty to turn metrics off (got %q)", addr)
		case port == public && port != "0":
			bad(key, "must not be the public port of http.addr (%s): metrics get a listener of their own", c.HTTP.Addr)
		}
	}
}

// ParseProxy parses one http.trusted_proxies entry: an IP address (a
// single host) or a CIDR prefix.
func ParseProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Proxies returns TrustedProxies parsed (Validate has checked them).
func (h HTTP) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range h.TrustedProxies {
		if prefix, err := ParseProxy(p); err == nil {
			out = append(out, prefix)
		}
	}
	return out
}

// isOrigin reports whether o is one exact web origin as browsers send it:
// http(s)://host[:port] in lower case, nothing more ("*" is refused: the
// list is explicit).
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.Contains(u.Host, "*") && o == strings.ToLower(o) && o == u.Scheme+"://"+u.Host
}
