package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "soomcare.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatalf("defaults must be valid: %v", err)
	}
	if c.Search.Engine != EngineElasticsearch || c.Search.AnalysisProfile != ProfileNori {
		t.Errorf("engine/profile defaults = %q/%q", c.Search.Engine, c.Search.AnalysisProfile)
	}
	if c.HTTP.ReadTimeout != 10*time.Second {
		t.Errorf("http.read_timeout = %s", c.HTTP.ReadTimeout)
	}
}

func TestLoadFileThenEnv(t *testing.T) {
	p := writeFile(t, `
search:
  engine: opensearch
  addresses: [http://a:9200, http://b:9200]
  tls:
    insecure_skip_verify: true
http:
  addr: 0.0.0.0:9000
`)
	c, err := Load(p, []string{
		"SOOMCARE_HTTP_ADDR=127.0.0.1:7000",
		"SOOMCARE_SEARCH_REQUEST_TIMEOUT=3s",
		"SOOMCARE_CDC_TABLES=users,posts",
		"PATH=/usr/bin",
		"SOOMCARE_TEST_MYSQL_DSN=ignored-tooling-variable",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Search.Engine != EngineOpenSearch || len(c.Search.Addresses) != 2 || !c.Search.TLS.InsecureSkipVerify {
		t.Errorf("file values not applied: %+v", c.Search)
	}
	if c.HTTP.Addr != "127.0.0.1:7000" {
		t.Errorf("env must override the file: http.addr = %q", c.HTTP.Addr)
	}
	if c.Search.RequestTimeout != 3*time.Second {
		t.Errorf("search.request_timeout = %s", c.Search.RequestTimeout)
	}
	if strings.Join(c.CDC.Tables, "|") != "users|posts" {
		t.Errorf("cdc.tables from a comma list = %q", c.CDC.Tables)
	}
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		env     []string
		wantKey string
		want    string
	}{
		{"unknown engine", "", []string{"SOOMCARE_SEARCH_ENGINE=solr"}, "search.engine", "must be one of elasticsearch, opensearch"},
		{"bad address", "search:\n  addresses: [\"localhost:9200\"]\n", nil, "search.addresses", "not an http(s) URL"},
		{"unknown profile", "", []string{"SOOMCARE_SEARCH_ANALYSIS_PROFILE=klingon"}, "search.analysis_profile", "must be one of nori, basic"},
		{"bad duration", "", []string{"SOOMCARE_HTTP_READ_TIMEOUT=soon"}, "", "invalid duration"},
		{"negative timeout", "http:\n  write_timeout: -1s\n", nil, "http.write_timeout", "positive duration"},
		{"bad dsn", "", []string{"SOOMCARE_MYSQL_DSN=not a dsn"}, "mysql.dsn", "not a valid DSN"},
		{"negative calendar cache", "", []string{"SOOMCARE_CALENDAR_CACHE_ENTRIES=-1"}, "calendar.cache_entries", "between 0 (no cache)"},
		{"unknown file key", "serch:\n  engine: opensearch\n", nil, "serch.engine", "unknown key"},
		{"unknown env", "", []string{"SOOMCARE_SEARCH_ENGIN=opensearch"}, "SOOMCARE_SEARCH_ENGIN", "unknown environment variable"},
		{"malformed yaml", "search: [engine: :\n", nil, "", "not valid YAML"},
		{"password without user", "", []string{"SOOMCARE_SEARCH_PASSWORD=x"}, "search.password", "search.username is empty"},
		{"bad prefix", "", []string{"SOOMCARE_SEARCH_INDEX_PREFIX=Upper"}, "search.index_prefix", "lower-case"},
		{"zero server id", "", []string{"SOOMCARE_CDC_SERVER_ID=0"}, "cdc.server_id", "non-zero"},
		{"idle above open", "", []string{"SOOMCARE_MYSQL_MAX_OPEN_CONNS=2", "SOOMCARE_MYSQL_MAX_IDLE_CONNS=5"}, "mysql.max_idle_conns", "between 0"},
		{"search timeout too long", "", []string{"SOOMCARE_SEARCHAPI_TIMEOUT=10s"}, "searchapi.timeout", "half of http.write_timeout"},
		{"zero search timeout", "", []string{"SOOMCARE_SEARCHAPI_TIMEOUT=0s"}, "searchapi.timeout", "positive duration"},
		{"negative rate", "", []string{"SOOMCARE_SEARCHAPI_RATE_LIMIT=-1"}, "searchapi.rate_limit", "between 0"},
		{"zero burst", "", []string{"SOOMCARE_SEARCHAPI_RATE_BURST=0"}, "searchapi.rate_burst", "between 1"},
		{"bad proxy", "", []string{"SOOMCARE_SEARCHAPI_TRUSTED_PROXIES=10.0.0.0/8,proxy.local"}, "searchapi.trusted_proxies", "proxy.local"},
		{"negative refresh grace", "", []string{"SOOMCARE_AUTH_REFRESH_REUSE_GRACE=-1s"}, "auth.refresh_reuse_grace", "between 0"},
		{"long refresh grace", "auth:\n  refresh_reuse_grace: 1h\n", nil, "auth.refresh_reuse_grace", "5m"},
		{"negative account failures", "", []string{"SOOMCARE_AUTH_LOGIN_THROTTLE_ACCOUNT_FAILURES=-1"}, "auth.login_throttle.account_failures", "between 0"},
		{"negative ip failures", "", []string{"SOOMCARE_AUTH_LOGIN_THROTTLE_IP_FAILURES=-5"}, "auth.login_throttle.ip_failures", "between 0"},
		{"zero throttle window", "auth:\n  login_throttle:\n    window: 0s\n", nil, "auth.login_throttle.window", "between 1s and 24h"},
		{"unknown throttle key", "auth:\n  login_throttle:\n    max_failures: 3\n", nil, "auth.login_throttle.max_failures", "unknown key"},
		{"zero popular clients", "", []string{"SOOMCARE_INSIGHTS_POPULAR_MIN_CLIENTS=0"}, "insights.popular_min_clients", "at least 1"},
		{"short client hash secret", "", []string{"SOOMCARE_INSIGHTS_CLIENT_HASH_SECRET=short"}, "insights.client_hash_secret", "at least 32 bytes"},
		{"zero blocks refresh", "", []string{"SOOMCARE_INSIGHTS_BLOCKS_REFRESH=0s"}, "insights.blocks_refresh", "positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := Load(path, tt.env)
			if err == nil {
				t.Fatal("want an error")
			}
			if !IsConfigError(err) {
				t.Errorf("error is not a *config.Error: %T %v", err, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || (tt.wantKey != "" && !strings.Contains(msg, tt.wantKey)) {
				t.Errorf("error %q should name %q and say %q", msg, tt.wantKey, tt.want)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error must be one line: %q", msg)
			}
		})
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "cannot read config file") {
		t.Fatalf("err = %v", err)
	}
}

func TestMaskedHidesSecrets(t *testing.T) {
	c, err := Load("", []string{
		"SOOMCARE_MYSQL_DSN=app:s3cret@tcp(db:3306)/soomcare",
		"SOOMCARE_SEARCH_USERNAME=elastic",
		"SOOMCARE_SEARCH_PASSWORD=hunter2",
		"SOOMCARE_INSIGHTS_CLIENT_HASH_SECRET=hunter2hunter2hunter2hunter2hunter2",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := c.Masked()
	for _, s := range []string{m.MySQL.DSN, m.Search.Password, m.Insights.ClientHashSecret} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "hunter2") {
			t.Errorf("secret leaked: %q", s)
		}
	}
	if c.Search.Password != "hunter2" {
		t.Error("Masked must not change the original")
	}
}

// The example file documents every key and nothing else.
func TestExampleFileDocumentsEveryKey(t *testing.T) {
	p := filepath.Join("..", "config.example.yaml")
	if _, err := Load(p, nil); err != nil {
		t.Fatalf("config.example.yaml must load: %v", err)
	}
	body, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(body), leaf+":") {
			t.Errorf("config.example.yaml does not document %s", k)
		}
	}
}

func TestSearchAPIKeys(t *testing.T) {
	c, err := Load("", []string{"SOOMCARE_SEARCHAPI_TRUSTED_PROXIES=10.0.0.0/8, 192.168.1.10", "SOOMCARE_SEARCHAPI_RATE_LIMIT=0.5", "SOOMCARE_SEARCHAPI_RATE_BURST=3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.SearchAPI.Timeout != 2*time.Second || c.SearchAPI.RateLimit != 0.5 || c.SearchAPI.RateBurst != 3 {
		t.Errorf("searchapi = %+v", c.SearchAPI)
	}
	if len(c.SearchAPI.TrustedProxies) != 2 {
		t.Fatalf("trusted_proxies = %q", c.SearchAPI.TrustedProxies)
	}
	for in, want := range map[string]string{"10.0.0.0/8": "10.0.0.0/8", " 192.168.1.10": "192.168.1.10/32", "10.1.2.3/8": "10.0.0.0/8", "::1": "::1/128"} {
		p, err := ParseProxy(in)
		if err != nil || p.String() != want {
			t.Errorf("ParseProxy(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	d, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.SearchAPI.TrustedProxies) != 0 || d.SearchAPI.RateLimit != 20 || d.SearchAPI.RateBurst != 40 {
		t.Errorf("defaults = %+v", d.SearchAPI)
	}
}

func TestEnvName(t *testing.T) {
	if got := EnvName("search.tls.ca_file"); got != "SOOMCARE_SEARCH_TLS_CA_FILE" {
		t.Errorf("EnvName = %q", got)
	}
}

func TestAuthThrottleAndGraceKeys(t *testing.T) {
	d, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := LoginThrottle{AccountFailures: 5, IPFailures: 100, Window: 15 * time.Minute}
	if d.Auth.LoginThrottle != want || d.Auth.RefreshReuseGrace != 20*time.Second {
		t.Errorf("defaults: login_throttle %+v, refresh_reuse_grace %s", d.Auth.LoginThrottle, d.Auth.RefreshReuseGrace)
	}
	c, err := Load(writeFile(t, "auth:\n  refresh_reuse_grace: 0s\n  login_throttle:\n    account_failures: 0\n    window: 1h\n"),
		[]string{"SOOMCARE_AUTH_LOGIN_THROTTLE_IP_FAILURES=7"})
	if err != nil {
		t.Fatal(err)
	}
	want = LoginThrottle{AccountFailures: 0, IPFailures: 7, Window: time.Hour}
	if c.Auth.LoginThrottle != want || c.Auth.RefreshReuseGrace != 0 {
		t.Errorf("file+env: login_throttle %+v, refresh_reuse_grace %s", c.Auth.LoginThrottle, c.Auth.RefreshReuseGrace)
	}
}

// Each section's defaults are its own: no key is in two sections, so
// merging them (defaults) never drops a value.
func TestSectionDefaultsAreDisjoint(t *testing.T) {
	seen := map[string]int{}
	for i, section := range sectionDefaults() {
		for k := range section {
			if j, ok := seen[k]; ok {
				t.Errorf("%s is in sections %d and %d", k, j, i)
			}
			seen[k] = i
		}
	}
	if len(seen) != len(Keys()) {
		t.Errorf("%d keys in the sections, %d in Keys", len(seen), len(Keys()))
	}
}
