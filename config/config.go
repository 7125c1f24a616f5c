// Package config loads the platform's configuration: built-in defaults, an
// optional YAML file, then SOOMCARE_* environment variables (SOOMCARE_MYSQL_DSN
// overrides mysql.dsn; a dot becomes an underscore). Every key is documented in
// config.example.yaml at the repository root.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of environment overrides.
const EnvPrefix = "SOOMCARE"

// Engine kinds.
const (
	EngineElasticsearch = "elasticsearch"
	EngineOpenSearch    = "opensearch"
)

// Analysis profiles.
const (
	ProfileNori  = "nori"  // Korean morphological analysis; needs the analysis-nori plugin
	ProfileBasic = "basic" // only what every engine ships (standard analyzer)
)

// Config is the whole configuration. Field tags are the keys of the YAML file.
type Config struct {
	Log       Log       `mapstructure:"log"`
	HTTP      HTTP      `mapstructure:"http"`
	MySQL     MySQL     `mapstructure:"mysql"`
	Search    Search    `mapstructure:"search"`
	CDC       CDC       `mapstructure:"cdc"`
	Startup   Startup   `mapstructure:"startup"`
	SearchAPI SearchAPI `mapstructure:"searchapi"`
	Auth      Auth      `mapstructure:"auth"`
	Community Community `mapstructure:"community"`
	Uploads   Uploads   `mapstructure:"uploads"`
	Push      Push      `mapstructure:"push"`      // care.go
	Reminders Reminders `mapstructure:"reminders"` // care.go
	Calendar  Calendar  `mapstructure:"calendar"`  // care.go
	Logs      Logs      `mapstructure:"logs"`      // logs.go
	Insights  Insights  `mapstructure:"insights"`  // insights.go
}

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

// MySQL configures the source-of-truth database.
type MySQL struct {
	DSN             string        `mapstructure:"dsn"` // go-sql-driver DSN: user:pass@tcp(host:port)/db
	MaxOpenConns    int           `mapstructure:"max_open_conns"`
	MaxIdleConns    int           `mapstructure:"max_idle_conns"`
	ConnMaxLifetime time.Duration `mapstructure:"conn_max_lifetime"`
	ConnectTimeout  time.Duration `mapstructure:"connect_timeout"`
	// SlowQueryThreshold: statements taking at least this long log at warn
	// with their family (mysql.Family), never their values; 0 turns it off.
	SlowQueryThreshold time.Duration `mapstructure:"slow_query_threshold"`
}

// Search configures the search engine.
type Search struct {
	Engine          string        `mapstructure:"engine"` // elasticsearch | opensearch
	Addresses       []string      `mapstructure:"addresses"`
	Username        string        `mapstructure:"username"`
	Password        string        `mapstructure:"password"`
	APIKey          string        `mapstructure:"api_key"`
	TLS             TLS           `mapstructure:"tls"`
	RequestTimeout  time.Duration `mapstructure:"request_timeout"`
	MaxRetries      int           `mapstructure:"max_retries"`
	Compression     bool          `mapstructure:"compression"`      // gzip engine answers (worth it only over slow links)
	AnalysisProfile string        `mapstructure:"analysis_profile"` // nori | basic
	IndexPrefix     string        `mapstructure:"index_prefix"`
	// SlowCallThreshold: engine calls taking at least this long log at warn
	// with their family (method and API, no index or document names, no
	// body); 0 turns it off.
	SlowCallThreshold time.Duration `mapstructure:"slow_call_threshold"`
	// DiscoverInterval, when above 0, has the client ask the cluster for its
	// nodes (GET /_nodes/http) at start and then this often, and use their
	// publish addresses instead of Addresses; 0 (the default) uses Addresses
	// only.
	DiscoverInterval time.Duration `mapstructure:"discover_interval"`
	// Indices shapes each logical index (search.indices.<name>.shards|replicas;
	// indices.go).
	Indices map[string]IndexShape `mapstructure:"indices"`
}

// TLS configures the connection to the search engine.
type TLS struct {
	CAFile             string `mapstructure:"ca_file"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
}

// CDC configures the binlog worker.
type CDC struct {
	ServerID      uint32        `mapstructure:"server_id"`
	Tables        []string      `mapstructure:"tables"`
	MetricsAddr   string        `mapstructure:"metrics_addr"`
	FlushInterval time.Duration `mapstructure:"flush_interval"`
	BatchSize     int           `mapstructure:"batch_size"`
	// SourceDSN, when set, is a read replica (log_bin, log_slave_updates,
	// binlog ROW FULL) whose binlog the worker follows and whose rows it
	// re-reads, and where reindex reads rows and positions; the lock,
	// checkpoints and heartbeats stay on mysql.dsn. Same schema name.
	SourceDSN string `mapstructure:"source_dsn"`
}

// SearchAPI configures the search, suggest and feed endpoints of `serve`.
type SearchAPI struct {
	// Timeout bounds each request to the engine; past it the API answers 503
	// at once. It must stay well under http.write_timeout.
	Timeout time.Duration `mapstructure:"timeout"`
	// RateLimit is the sustained requests per second allowed per client IP
	// (token bucket, shared by every search endpoint); 0 disables limiting.
	RateLimit float64 `mapstructure:"rate_limit"`
	// RateBurst is the bucket size: how many requests a client may make at once.
	RateBurst int `mapstructure:"rate_burst"`
	// TrustedProxies is the deprecated name of http.trusted_proxies: still
	// read (Load carries it over when http.trusted_proxies is empty, and
	// Warnings says so), an error when both are set and differ.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
}

// Auth configures sign-in, access tokens (HS256 JWTs) and refresh tokens.
type Auth struct {
	// JWTSecret signs access tokens (HS256), at least 32 bytes. It has no
	// default: when empty, `serve` uses a random per-process key and warns.
	JWTSecret       string        `mapstructure:"jwt_secret"`
	JWTIssuer       string        `mapstructure:"jwt_issuer"`
	AccessTokenTTL  time.Duration `mapstructure:"access_token_ttl"`
	RefreshTokenTTL time.Duration `mapstructure:"refresh_token_ttl"`
	// RefreshReuseGrace is how long after a rotation the rotated refresh
	// token may be presented again and get the same successor (two requests
	// of the app in flight) instead of revoking the session; 0 turns it off.
	RefreshReuseGrace time.Duration `mapstructure:"refresh_reuse_grace"`
	LoginThrottle     LoginThrottle `mapstructure:"login_throttle"`
	OIDC              OIDC          `mapstructure:"oidc"`
	// HashConcurrency bounds concurrent argon2id runs (64 MiB each): at most
	// HashConcurrency × 64 MiB of heap is held by password hashing.
	HashConcurrency int `mapstructure:"hash_concurrency"`
	// HashWait is how long a sign-up or login waits for a hashing slot
	// before it answers 503 busy with Retry-After.
	HashWait       time.Duration  `mapstructure:"hash_wait"`
	SignupThrottle SignupThrottle `mapstructure:"signup_throttle"`
	// AccountCheckTTL is how long a user's state (deleted, role) is cached
	// per process for the check every access token gets; 0: every request.
	AccountCheckTTL time.Duration `mapstructure:"account_check_ttl"`
}

// SignupThrottle limits sign-ups per client address (counted in MySQL with
// the login throttle's table).
type SignupThrottle struct {
	PerIP  int           `mapstructure:"per_ip"` // sign-up attempts per client address in Window; 0 turns it off
	Window time.Duration `mapstructure:"window"` // fixed window from the address's first attempt
}

// LoginThrottle limits failed email/password logins, counted in MySQL so
// every `serve` instance shares them. At the limit a login answers 429
// login_throttled with Retry-After, without checking the password.
type LoginThrottle struct {
	// AccountFailures is how many failed logins one e-mail address may have
	// in Window; 0 turns the per-account limit off.
	AccountFailures int `mapstructure:"account_failures"`
	// IPFailures is how many failed logins one client address (an IPv6
	// client is its /64) may have in Window over all accounts; 0 turns it
	// off. The client address is taken as http.trusted_proxies says.
	IPFailures int           `mapstructure:"ip_failures"`
	Window     time.Duration `mapstructure:"window"` // fixed window from the first failure
}

// OIDC configures SNS login: ID tokens of each provider are verified against
// its JWKS. A provider is enabled when its audience lists a client id.
type OIDC struct {
	JWKSCacheTTL time.Duration `mapstructure:"jwks_cache_ttl"`
	HTTPTimeout  time.Duration `mapstructure:"http_timeout"`
	Kakao        OIDCProvider  `mapstructure:"kakao"`
	Naver        OIDCProvider  `mapstructure:"naver"`
	Apple        OIDCProvider  `mapstructure:"apple"`
	Google       OIDCProvider  `mapstructure:"google"`

	// JWKSRefetchInterval is the least time between two fetches of one
	// provider's keys (unknown key ids, failures); fetches are single-flight.
	JWKSRefetchInterval time.Duration `mapstructure:"jwks_refetch_interval"`
	// NonceTTL is how long a nonce from POST /v1/auth/oidc/nonce may be used.
	NonceTTL time.Duration `mapstructure:"nonce_ttl"`
}

// OIDCProvider is one ID token issuer.
type OIDCProvider struct {
	Issuer   string   `mapstructure:"issuer"`   // exact "iss" claim
	JWKSURL  string   `mapstructure:"jwks_url"` // where its signing keys are
	Audience []string `mapstructure:"audience"` // accepted "aud" values (the app's client ids); empty disables
}

// Providers returns the providers by name (kakao, naver, apple, google).
func (o OIDC) Providers() map[string]OIDCProvider {
	return map[string]OIDCProvider{"kakao": o.Kakao, "naver": o.Naver, "apple": o.Apple, "google": o.Google}
}

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

// Uploads configures editor image uploads.
type Uploads struct {
	Backend   string    `mapstructure:"backend"`    // local | s3
	Dir       string    `mapstructure:"dir"`        // local directory the files are stored in (backend local)
	URLPrefix string    `mapstructure:"url_prefix"` // path they are served under by `serve`
	MaxBytes  int64     `mapstructure:"max_bytes"`  // largest image accepted
	S3        UploadsS3 `mapstructure:"s3"`         // backend s3
}

// Upload backends.
const (
	UploadsBackendLocal = "local"
	UploadsBackendS3    = "s3"
)

// UploadsS3 addresses the bucket of an S3-compatible object store.
type UploadsS3 struct {
	Endpoint      string        `mapstructure:"endpoint"` // http(s)://host[:port]
	Bucket        string        `mapstructure:"bucket"`
	Region        string        `mapstructure:"region"`
	AccessKey     string        `mapstructure:"access_key"`
	SecretKey     string        `mapstructure:"secret_key"`      // from SOOMCARE_UPLOADS_S3_SECRET_KEY; masked in logs
	SecretKeyFile string        `mapstructure:"secret_key_file"` // or a file holding it (a mounted secret)
	PathStyle     bool          `mapstructure:"path_style"`
	Timeout       time.Duration `mapstructure:"timeout"`
}

// Secret returns the secret key: secret_key, or the trimmed content of
// secret_key_file.
func (s UploadsS3) Secret() (string, error) {
	if s.SecretKeyFile == "" {
		return s.SecretKey, nil
	}
	b, err := os.ReadFile(s.SecretKeyFile)
	if err != nil {
		return "", fmt.Errorf("cannot be read: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// Startup configures how long commands wait for their dependencies.
type Startup struct {
	WaitTimeout time.Duration `mapstructure:"wait_timeout"`
}

// defaults holds every key with its default value; it is also the list of
// keys that exist (Keys), so a key can never be documented but unknown.
// It is a flat table, one line per key, so it may exceed the 80-line limit.
func defaults() map[string]any {
	return map[string]any{
		"log.level":                       "info",
		"log.format":                      "text",
		"http.addr":                       "127.0.0.1:8080",
		"http.read_timeout":               "10s",
		"http.write_timeout":              "15s",
		"http.shutdown_timeout":           "10s",
		"http.max_body_bytes":             1 << 20,
		"http.cors.allowed_origins":       []string{},
		"http.trusted_proxies":            []string{},
		"http.metrics_addr":               "", // off: a fixed default port collides when several serve run on one host (tests, blue/green)
		"reminders.metrics_addr":          "",
		"mysql.dsn":                       "soomcare:soomcare@tcp(127.0.0.1:3306)/soomcare",
		"mysql.max_open_conns":            20,
		"mysql.max_idle_conns":            10,
		"mysql.conn_max_lifetime":         "5m",
		"mysql.connect_timeout":           "5s",
		"mysql.slow_query_threshold":      "200ms",
		"search.engine":                   EngineElasticsearch,
		"search.addresses":                []string{"http://127.0.0.1:9200"},
		"search.username":                 "",
		"search.password":                 "",
		"search.api_key":                  "",
		"search.tls.ca_file":              "",
		"search.tls.insecure_skip_verify": false,
		"search.request_timeout":          "10s",
		"search.max_retries":              3,
		"search.compression":              false,
		"search.analysis_profile":         ProfileNori,
		"search.index_prefix":             "soomcare",
		"search.slow_call_threshold":      "1s",
		"search.discover_interval":        "0s",
		"cdc.server_id":                   1001,
		"cdc.tables":                      []string{"users", "contents", "posts", "comments", "post_likes"},
		"cdc.metrics_addr":                "127.0.0.1:9102",
		"cdc.flush_interval":              "500ms",
		"cdc.batch_size":                  1000,
		"cdc.source_dsn":                  "",
		"startup.wait_timeout":            "30s",
		"searchapi.timeout":               "2s",
		"searchapi.rate_limit":            20.0,
		"searchapi.rate_burst":            40,
		"searchapi.trusted_proxies":       []string{},
		"auth.jwt_secret":                 "",
		"auth.jwt_issuer":                 "soomcare",
		"auth.access_token_ttl":           "15m",
		"auth.refresh_token_ttl":          "720h",
		"auth.oidc.jwks_cache_ttl":        "1h",
		"auth.oidc.http_timeout":          "5s",
		"auth.oidc.kakao.issuer":          "https://kauth.kakao.com",
		"auth.oidc.kakao.jwks_url":        "https://kauth.kakao.com/.well-known/jwks.json",
		"auth.oidc.kakao.audience":        []string{},
		"auth.oidc.naver.issuer":          "",
		"auth.oidc.naver.jwks_url":        "",
		"auth.oidc.naver.audience":        []string{},
		"auth.oidc.apple.issuer":          "https://appleid.apple.com",
		"auth.oidc.apple.jwks_url":        "https://appleid.apple.com/auth/keys",
		"auth.oidc.apple.audience":        []string{},
		"auth.oidc.google.issuer":         "https://accounts.google.com",
		"auth.oidc.google.jwks_url":       "https://www.googleapis.com/oauth2/v3/certs",
		"auth.oidc.google.audience":       []string{},
		"community.report_hide_threshold": 5,
		"community.reporter_min_age":      "168h",
		"community.reporter_min_activity": 1,
		"community.report_daily_limit":    10,
		"uploads.dir":                     "data/uploads",
		"uploads.url_prefix":              "/uploads",
		"uploads.max_bytes":               960 << 10,
		"uploads.backend":                 UploadsBackendLocal,
		"uploads.s3.endpoint":             "",
		"uploads.s3.bucket":               "",
		"uploads.s3.region":               "us-east-1",
		"uploads.s3.access_key":           "",
		"uploads.s3.secret_key":           "",
		"uploads.s3.secret_key_file":      "",
		"uploads.s3.path_style":           false,
		"uploads.s3.timeout":              "10s",
		"push.endpoint":                   "https://fcm.googleapis.com",
		"push.project_id":                 "",
		"push.credentials_file":           "",
		"push.static_token":               "",
		"push.timeout":                    "10s",
		"reminders.interval":              "30s",
		"reminders.grace":                 "10m",
		"reminders.max_attempts":          5,
		"reminders.backoff":               "30s",
		"reminders.in_serve":              false,
		"calendar.cache_entries":          4096,

		// shards and replicas per index (config/indices.go)
		"search.indices.contents.shards":   1,
		"search.indices.contents.replicas": ReplicasAuto,
		"search.indices.posts.shards":      1,
		"search.indices.posts.replicas":    ReplicasAuto,
		"search.indices.users.shards":      1,
		"search.indices.users.replicas":    ReplicasAuto,

		// log storage in the engine (package logstore, config/logs.go)
		"logs.data_stream":   "logs-soomcare-default",
		"logs.retention":     "30d",
		"logs.rollover_size": "30gb",
		"logs.rollover_age":  "1d",

		// search insights (package insights, config/insights.go)
		"insights.enabled":             true,
		"insights.data_stream":         "soomcare-search-insights",
		"insights.retention":           "90d",
		"insights.rollover_size":       "5gb",
		"insights.rollover_age":        "7d",
		"insights.queue_size":          10000,
		"insights.flush_interval":      "2s",
		"insights.popular_refresh":     "5m",
		"insights.popular_window":      "720h",
		"insights.popular_min_count":   5,
		"insights.popular_min_clients": 5,
		"insights.client_hash_secret":  "",
		"insights.blocks_refresh":      "2s",

		// login throttle and refresh-token grace (package auth)
		"auth.refresh_reuse_grace":             "20s",
		"auth.login_throttle.account_failures": 5,
		"auth.login_throttle.ip_failures":      100,
		"auth.login_throttle.window":           "15m",

		// password hashing, sign-up throttle, SNS key fetches and nonces, account check (package auth)
		"auth.hash_concurrency":           2,
		"auth.hash_wait":                  "2s",
		"auth.signup_throttle.per_ip":     20,
		"auth.signup_throttle.window":     "1h",
		"auth.oidc.jwks_refetch_interval": "1m",
		"auth.oidc.nonce_ttl":             "10m",
		"auth.account_check_ttl":          "10s",
	}
}

// Keys returns every configuration key in dotted form, sorted.
func Keys() []string {
	d := defaults()
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// EnvName returns the environment variable that overrides key.
func EnvName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Error is a configuration problem that names the key and why.
type Error struct {
	Key    string
	Reason string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Reason
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Reason)
}

// Load reads the configuration. path may be empty (defaults and environment
// only). environ is the process environment (os.Environ()); tests pass their own.
func Load(path string, environ []string) (*Config, error) {
	v := viper.New()
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, &Error{Reason: fmt.Sprintf("cannot read config file: %v", err)}
		}
		defer f.Close()
		v.SetConfigType("yaml")
		if err := v.ReadConfig(f); err != nil {
			return nil, &Error{Reason: fmt.Sprintf("%s is not valid YAML: %s", path, oneLine(err))}
		}
		if err := checkKnown(v.AllKeys()); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(v, environ); err != nil {
		return nil, err
	}
	var c Config
	hook := mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	)
	if err := v.Unmarshal(&c, viper.DecodeHook(hook)); err != nil {
		return nil, &Error{Reason: oneLine(err)}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.applyDeprecated()
	return &c, nil
}

// checkKnown rejects keys that are not configuration keys (typos).
func checkKnown(keys []string) error {
	known := defaults()
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			return &Error{Key: k, Reason: "unknown key (see config.example.yaml for the keys)"}
		}
	}
	return nil
}

// applyEnv maps SOOMCARE_* variables onto keys; an unknown SOOMCARE_ variable is
// an error so a typo in a deployment never silently falls back to a default.
func applyEnv(v *viper.Viper, environ []string) error {
	byEnv := map[string]string{}
	for _, k := range Keys() {
		byEnv[EnvName(k)] = k
	}
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix+"_") {
			continue
		}
		key, known := byEnv[name]
		if !known {
			if isToolEnv(name) {
				continue
			}
			return &Error{Key: name, Reason: "unknown environment variable (want SOOMCARE_<KEY> for a key in config.example.yaml)"}
		}
		v.Set(key, val)
	}
	return nil
}

// isToolEnv reports variables with the prefix that belong to tooling, not to
// the configuration: the test harness and scripts (scripts/*.sh, .ci/run),
// whose variables the binaries inherit when tests run them. This is the one
// list of them; TestHarnessVariablesAreKeysOrIgnored checks that every
// SOOMCARE_ name in those scripts is a key or listed here. Test-only
// switches go under SOOMCARE_TEST_, the local stack's (run-local.sh) under
// SOOMCARE_LOCAL_; the other names are matched exactly, so
// a misspelling of them is still an error.
func isToolEnv(name string) bool {
	for _, p := range []string{"SOOMCARE_TEST_", "SOOMCARE_TESTENV_", "SOOMCARE_LOCAL_", "SOOMCARE_JAVA"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	switch name {
	case "SOOMCARE_KEEP_ENGINES", "SOOMCARE_INTEGRATION", "SOOMCARE_CACHE_DIR", "SOOMCARE_CONFIG",
		"SOOMCARE_OPENSEARCH_VERSION", "SOOMCARE_ELASTICSEARCH_VERSION", "SOOMCARE_ELASTICSEARCH9_VERSION",
		"SOOMCARE_LUCENE_VERSION", "SOOMCARE_PROMTOOL", "SOOMCARE_AMTOOL":
		return true
	}
	return false
}

// Validate checks every value and returns the first problem, naming the key.
// The steps run in a fixed order (log, http, mysql, search, cdc, searchapi,
// auth, community, uploads, care, logs), which is the order problems are reported in.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, got string, allowed ...string) {
		for _, a := range allowed {
			if got == a {
				return
			}
		}
		bad(key, "must be one of %s (got %q)", strings.Join(allowed, ", "), got)
	}
	positive := func(key string, d time.Duration) {
		if d <= 0 {
			bad(key, "must be a positive duration such as 5s (got %s)", d)
		}
	}

	c.validateLog(oneOf)
	c.validateHTTP(bad, positive)
	c.validateMySQL(bad, positive)
	c.validateSearch(bad, positive, oneOf)
	c.validateCDC(bad, positive)
	c.validateSearchAPI(bad, positive)
	c.validateAuth(bad, positive)
	c.validateCommunity(bad)
	c.validateUploads(bad)
	c.validateCare(bad, positive)
	c.validateLogs(bad)
	c.validateInsights(bad, positive)
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
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

// validateMySQL checks the mysql section: DSN, pool sizes and timeouts.
func (c *Config) validateMySQL(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if c.MySQL.DSN == "" {
		bad("mysql.dsn", "must not be empty")
	} else if _, err := gomysql.ParseDSN(c.MySQL.DSN); err != nil {
		bad("mysql.dsn", "is not a valid DSN such as user:pass@tcp(127.0.0.1:3306)/soomcare: %v", err)
	}
	if c.MySQL.MaxOpenConns < 1 {
		bad("mysql.max_open_conns", "must be at least 1 (got %d)", c.MySQL.MaxOpenConns)
	}
	if c.MySQL.MaxIdleConns < 0 || c.MySQL.MaxIdleConns > c.MySQL.MaxOpenConns {
		bad("mysql.max_idle_conns", "must be between 0 and mysql.max_open_conns (got %d)", c.MySQL.MaxIdleConns)
	}
	positive("mysql.conn_max_lifetime", c.MySQL.ConnMaxLifetime)
	positive("mysql.connect_timeout", c.MySQL.ConnectTimeout)
	if c.MySQL.SlowQueryThreshold < 0 {
		bad("mysql.slow_query_threshold", "must be 0 (off) or a positive duration such as 200ms (got %s)", c.MySQL.SlowQueryThreshold)
	}
}

// validateSearch checks the search section: engine, addresses,
// credentials, TLS, timeouts, retries, analysis profile and index prefix.
func (c *Config) validateSearch(bad func(key, format string, args ...any), positive func(string, time.Duration), oneOf func(key, got string, allowed ...string)) {
	oneOf("search.engine", c.Search.Engine, EngineElasticsearch, EngineOpenSearch)
	if len(c.Search.Addresses) == 0 {
		bad("search.addresses", "must list at least one address such as http://127.0.0.1:9200")
	}
	for _, a := range c.Search.Addresses {
		u, err := url.Parse(strings.TrimSpace(a))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("search.addresses", "%q is not an http(s) URL such as http://127.0.0.1:9200", a)
		}
	}
	if c.Search.APIKey != "" && c.Search.Username != "" {
		bad("search.api_key", "set either search.api_key or search.username/password, not both")
	}
	if c.Search.Password != "" && c.Search.Username == "" {
		bad("search.password", "is set but search.username is empty")
	}
	if c.Search.TLS.CAFile != "" {
		if _, err := os.Stat(c.Search.TLS.CAFile); err != nil {
			bad("search.tls.ca_file", "cannot be read: %v", err)
		}
	}
	positive("search.request_timeout", c.Search.RequestTimeout)
	if c.Search.SlowCallThreshold < 0 {
		bad("search.slow_call_threshold", "must be 0 (off) or a positive duration such as 1s (got %s)", c.Search.SlowCallThreshold)
	}
	if c.Search.DiscoverInterval < 0 || (c.Search.DiscoverInterval > 0 && c.Search.DiscoverInterval < time.Second) {
		bad("search.discover_interval", "must be 0 (off) or at least 1s, such as 5m (got %s)", c.Search.DiscoverInterval)
	}
	if c.Search.MaxRetries < 0 || c.Search.MaxRetries > 10 {
		bad("search.max_retries", "must be between 0 and 10 (got %d)", c.Search.MaxRetries)
	}
	oneOf("search.analysis_profile", c.Search.AnalysisProfile, ProfileNori, ProfileBasic)
	if !validIndexPrefix(c.Search.IndexPrefix) {
		bad("search.index_prefix", "must be 1-40 lower-case letters, digits, '-' or '_', starting with a letter (got %q)", c.Search.IndexPrefix)
	}
	c.validateIndices(bad)
}

// validateCDCSource checks cdc.source_dsn: empty, or a DSN of the same
// schema as mysql.dsn (the replica carries the primary's databases).
func (c *Config) validateCDCSource(bad func(key, format string, args ...any)) {
	if c.CDC.SourceDSN == "" {
		return
	}
	src, err := gomysql.ParseDSN(c.CDC.SourceDSN)
	if err != nil {
		bad("cdc.source_dsn", "is not a valid DSN such as user:pass@tcp(replica:3306)/soomcare: %v", err)
		return
	}
	if primary, err := gomysql.ParseDSN(c.MySQL.DSN); err == nil && src.DBName != primary.DBName {
		bad("cdc.source_dsn", "names database %q but mysql.dsn names %q: a replica carries the same schema", src.DBName, primary.DBName)
	}
}

// validateCDC checks the cdc section and startup.wait_timeout.
func (c *Config) validateCDC(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if c.CDC.ServerID == 0 {
		bad("cdc.server_id", "must be a non-zero replication server id unique among the source's replicas")
	}
	if len(c.CDC.Tables) == 0 {
		bad("cdc.tables", "must list at least one table")
	}
	if _, _, err := net.SplitHostPort(c.CDC.MetricsAddr); err != nil {
		bad("cdc.metrics_addr", "must be host:port (got %q)", c.CDC.MetricsAddr)
	}
	positive("cdc.flush_interval", c.CDC.FlushInterval)
	c.validateCDCSource(bad)
	if c.CDC.BatchSize < 1 || c.CDC.BatchSize > 50000 {
		bad("cdc.batch_size", "must be between 1 and 50000 (got %d)", c.CDC.BatchSize)
	}
	if c.Startup.WaitTimeout < 0 {
		bad("startup.wait_timeout", "must not be negative (got %s)", c.Startup.WaitTimeout)
	}
}

// validateSearchAPI checks the searchapi section (timeout, rate limit) and
// the trusted proxies of http and searchapi.
func (c *Config) validateSearchAPI(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	positive("searchapi.timeout", c.SearchAPI.Timeout)
	if c.SearchAPI.Timeout > 0 && c.HTTP.WriteTimeout > 0 && c.SearchAPI.Timeout > c.HTTP.WriteTimeout/2 {
		bad("searchapi.timeout", "must be at most half of http.write_timeout (%s) so a slow engine answers 503 before the connection is cut (got %s)", c.HTTP.WriteTimeout, c.SearchAPI.Timeout)
	}
	if c.SearchAPI.RateLimit < 0 || c.SearchAPI.RateLimit > 100000 {
		bad("searchapi.rate_limit", "must be between 0 (off) and 100000 requests per second (got %g)", c.SearchAPI.RateLimit)
	}
	if c.SearchAPI.RateLimit > 0 && (c.SearchAPI.RateBurst < 1 || c.SearchAPI.RateBurst > 100000) {
		bad("searchapi.rate_burst", "must be between 1 and 100000 when searchapi.rate_limit is on (got %d)", c.SearchAPI.RateBurst)
	}
	for _, kv := range []struct {
		key  string
		list []string
	}{{"http.trusted_proxies", c.HTTP.TrustedProxies}, {"searchapi.trusted_proxies", c.SearchAPI.TrustedProxies}} {
		for _, p := range kv.list {
			if _, err := ParseProxy(p); err != nil {
				bad(kv.key, "%q is not an IP address or CIDR such as 10.0.0.0/8", p)
			}
		}
	}
	if len(c.SearchAPI.TrustedProxies) > 0 && len(c.HTTP.TrustedProxies) > 0 && !slices.Equal(c.SearchAPI.TrustedProxies, c.HTTP.TrustedProxies) {
		bad("searchapi.trusted_proxies", "is the deprecated name of http.trusted_proxies, which is set to something else: keep only http.trusted_proxies")
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

// validateAuthLimits checks the password-hashing, sign-up throttle, SNS key
// fetch, nonce and account-check keys.
func (c *Config) validateAuthLimits(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if n := c.Auth.HashConcurrency; n < 1 || n > 64 {
		bad("auth.hash_concurrency", "must be between 1 and 64 concurrent hashes of 64 MiB each (got %d)", n)
	}
	if w := c.Auth.HashWait; w < 10*time.Millisecond || w > time.Minute {
		bad("auth.hash_wait", "must be between 10ms and 1m (got %s)", w)
	}
	if n := c.Auth.SignupThrottle.PerIP; n < 0 || n > 1000000 {
		bad("auth.signup_throttle.per_ip", "must be between 0 (off) and 1000000 (got %d)", n)
	}
	if w := c.Auth.SignupThrottle.Window; w < time.Second || w > 7*24*time.Hour {
		bad("auth.signup_throttle.window", "must be between 1s and 168h (got %s)", w)
	}
	positive("auth.oidc.jwks_refetch_interval", c.Auth.OIDC.JWKSRefetchInterval)
	if n := c.Auth.OIDC.NonceTTL; n < 30*time.Second || n > time.Hour {
		bad("auth.oidc.nonce_ttl", "must be between 30s and 1h (got %s)", n)
	}
	if t := c.Auth.AccountCheckTTL; t < 0 || t > 5*time.Minute {
		bad("auth.account_check_ttl", "must be between 0 (every request) and 5m (got %s)", t)
	}
}

// MinJWTSecretLen is the shortest auth.jwt_secret accepted (HS256, 256 bits).
const MinJWTSecretLen = 32

// validateAuth checks the auth section. An empty
// auth.jwt_secret is valid: `serve` then signs with a random per-process key
// and logs a warning (there is never a fixed, guessable key); a set one must
// pass jwtSecretProblem (long, not public, not predictable).
func (c *Config) validateAuth(bad func(key, format string, args ...any), positive func(string, time.Duration)) {
	if c.Auth.JWTSecret != "" {
		if problem := jwtSecretProblem(c.Auth.JWTSecret); problem != "" {
			bad("auth.jwt_secret", "%s", problem)
		}
	}
	if strings.TrimSpace(c.Auth.JWTIssuer) == "" {
		bad("auth.jwt_issuer", "must not be empty")
	}
	positive("auth.access_token_ttl", c.Auth.AccessTokenTTL)
	if c.Auth.AccessTokenTTL > 24*time.Hour {
		bad("auth.access_token_ttl", "must be at most 24h; access tokens cannot be revoked (got %s)", c.Auth.AccessTokenTTL)
	}
	if c.Auth.RefreshTokenTTL <= c.Auth.AccessTokenTTL {
		bad("auth.refresh_token_ttl", "must be longer than auth.access_token_ttl (got %s)", c.Auth.RefreshTokenTTL)
	}
	if c.Auth.RefreshReuseGrace < 0 || c.Auth.RefreshReuseGrace > 5*time.Minute {
		bad("auth.refresh_reuse_grace", "must be between 0 (off) and 5m; it only has to cover requests in flight together (got %s)", c.Auth.RefreshReuseGrace)
	}
	if lt := c.Auth.LoginThrottle; lt.AccountFailures < 0 || lt.AccountFailures > 1000 {
		bad("auth.login_throttle.account_failures", "must be between 0 (off) and 1000 (got %d)", lt.AccountFailures)
	}
	if lt := c.Auth.LoginThrottle; lt.IPFailures < 0 || lt.IPFailures > 1000000 {
		bad("auth.login_throttle.ip_failures", "must be between 0 (off) and 1000000 (got %d)", lt.IPFailures)
	}
	if w := c.Auth.LoginThrottle.Window; w < time.Second || w > 24*time.Hour {
		bad("auth.login_throttle.window", "must be between 1s and 24h (got %s)", w)
	}
	positive("auth.oidc.jwks_cache_ttl", c.Auth.OIDC.JWKSCacheTTL)
	positive("auth.oidc.http_timeout", c.Auth.OIDC.HTTPTimeout)
	c.validateAuthLimits(bad, positive)
	for _, name := range []string{"apple", "google", "kakao", "naver"} {
		p := c.Auth.OIDC.Providers()[name]
		if len(p.Audience) == 0 {
			continue
		}
		key := "auth.oidc." + name
		if u, err := url.Parse(p.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(key+".issuer", "must be the provider's issuer URL such as https://accounts.google.com when %s.audience is set (got %q)", key, p.Issuer)
		}
		if u, err := url.Parse(p.JWKSURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad(key+".jwks_url", "must be the provider's JWKS URL when %s.audience is set (got %q)", key, p.JWKSURL)
		}
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

// validateUploads checks the uploads section: directory, URL prefix, size.
func (c *Config) validateUploads(bad func(key, format string, args ...any)) {
	if strings.TrimSpace(c.Uploads.Dir) == "" {
		bad("uploads.dir", "must name a directory for uploaded images")
	}
	if !strings.HasPrefix(c.Uploads.URLPrefix, "/") || len(c.Uploads.URLPrefix) < 2 || strings.HasSuffix(c.Uploads.URLPrefix, "/") || strings.HasPrefix(c.Uploads.URLPrefix, "/v1") {
		bad("uploads.url_prefix", "must be a path such as /uploads (leading slash, no trailing slash, not under /v1) (got %q)", c.Uploads.URLPrefix)
	}
	if c.Uploads.MaxBytes < 1024 || c.Uploads.MaxBytes > 100<<20 {
		bad("uploads.max_bytes", "must be between 1024 and 104857600 bytes (got %d); http.max_body_bytes caps every request body too", c.Uploads.MaxBytes)
	}
	switch c.Uploads.Backend {
	case UploadsBackendLocal:
	case UploadsBackendS3:
		c.validateUploadsS3(bad)
	default:
		bad("uploads.backend", "must be one of local, s3 (got %q)", c.Uploads.Backend)
	}
}

// validateUploadsS3 checks the uploads.s3 section (backend s3 only). No
// message quotes the secret.
func (c *Config) validateUploadsS3(bad func(key, format string, args ...any)) {
	s := c.Uploads.S3
	if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		bad("uploads.s3.endpoint", "must be the store's URL http(s)://host[:port], nothing after the host, no credentials (got %q)", s.Endpoint)
	}
	if !validBucket(s.Bucket) {
		bad("uploads.s3.bucket", "must be a bucket name: 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit (got %q)", s.Bucket)
	}
	if strings.TrimSpace(s.AccessKey) == "" {
		bad("uploads.s3.access_key", "must be set with uploads.backend s3")
	}
	switch secret, err := s.Secret(); {
	case s.SecretKey != "" && s.SecretKeyFile != "":
		bad("uploads.s3.secret_key", "set either SOOMCARE_UPLOADS_S3_SECRET_KEY or uploads.s3.secret_key_file, not both")
	case err != nil:
		bad("uploads.s3.secret_key_file", "%s %v", s.SecretKeyFile, err)
	case secret == "":
		bad("uploads.s3.secret_key", "must be set with uploads.backend s3: uploads.s3.secret_key_file (a file holding it) or SOOMCARE_UPLOADS_S3_SECRET_KEY")
	}
	if s.Timeout <= 0 || s.Timeout > 5*time.Minute {
		bad("uploads.s3.timeout", "must be a duration between 1ms and 5m such as 10s (got %s)", s.Timeout)
	}
}

// validBucket reports whether b follows S3's bucket naming rules.
func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return false
	}
	for i, r := range b {
		alnum := r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || i == len(b)-1 || (r != '.' && r != '-')) {
			return false
		}
	}
	return true
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

// applyDeprecated carries deprecated keys over to their successors when
// those are not set.
func (c *Config) applyDeprecated() {
	if len(c.HTTP.TrustedProxies) == 0 && len(c.SearchAPI.TrustedProxies) > 0 {
		c.HTTP.TrustedProxies = slices.Clone(c.SearchAPI.TrustedProxies)
	}
}

// Warnings are the deprecated keys in use, one sentence each, for the
// commands to log at start.
func (c *Config) Warnings() []string {
	var out []string
	if len(c.SearchAPI.TrustedProxies) > 0 {
		out = append(out, "searchapi.trusted_proxies is deprecated: rename it http.trusted_proxies (it serves the search rate limit and the login and sign-up throttles alike)")
	}
	return out
}

func validIndexPrefix(s string) bool {
	if len(s) == 0 || len(s) > 40 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// Masked returns a copy safe to log: secrets replaced, DSN password hidden.
func (c Config) Masked() Config {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "****"
	}
	c.Search.Password = mask(c.Search.Password)
	c.Search.APIKey = mask(c.Search.APIKey)
	c.Push.StaticToken = mask(c.Push.StaticToken)
	c.Auth.JWTSecret = mask(c.Auth.JWTSecret)
	c.Uploads.S3.SecretKey = mask(c.Uploads.S3.SecretKey)
	c.Insights.ClientHashSecret = mask(c.Insights.ClientHashSecret)
	if d, err := gomysql.ParseDSN(c.MySQL.DSN); err == nil && d.Passwd != "" {
		d.Passwd = "****"
		c.MySQL.DSN = d.FormatDSN()
	}
	if d, err := gomysql.ParseDSN(c.CDC.SourceDSN); err == nil && d.Passwd != "" {
		d.Passwd = "****"
		c.CDC.SourceDSN = d.FormatDSN()
	} else if err != nil {
		c.CDC.SourceDSN = mask(c.CDC.SourceDSN) // unparsable: may hold a password anywhere
	}
	return c
}

// IsConfigError reports whether err is a configuration problem.
func IsConfigError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Kind returns the engine kind in canonical form.
func (s Search) Kind() string { return strings.ToLower(strings.TrimSpace(s.Engine)) }

// isOrigin reports whether o is one exact web origin as browsers send it:
// http(s)://host[:port] in lower case, nothing more ("*" is refused: the
// list is explicit).
func isOrigin(o string) bool {
	u, err := url.Parse(o)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.Contains(u.Host, "*") && o == strings.ToLower(o) && o == u.Scheme+"://"+u.Host
}
