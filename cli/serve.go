package cli

import (
	"context"
	"crypto/rand"
	"database/sql"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/auth"
	"github.com/soomcare/soomcare/community"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/medication"
	"github.com/soomcare/soomcare/records"
	"github.com/soomcare/soomcare/reminder"
	"github.com/soomcare/soomcare/report"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/server"
	"github.com/soomcare/soomcare/telemetry"
)

func newServeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API for the app",
		Long:  serveHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRoot(cmd.Context(), e, newServeRoot) // cli/roots.go
		},
	}
}

const serveHelp = `Serve the HTTP API on http.addr.

At start it waits up to startup.wait_timeout for MySQL and the search engine and exits 1 with one
line naming the unreachable one. Once running, GET /healthz answers 200 while the process is up and
GET /readyz answers 200 when MySQL and the engine are reachable, 503 naming the ones that are not.
The search API (GET /v1/search, /v1/{contents,posts,users}/search, /v1/search/suggest,
/v1/feed/posts) reads the aliases <search.index_prefix>-{contents,posts,users}; its limits are the
searchapi.* keys. GET /openapi.json serves the OpenAPI document of every endpoint.
SIGINT/SIGTERM drain in-flight requests for up to http.shutdown_timeout.
Metrics: http://<http.metrics_addr>/metrics (Prometheus; its own listener, empty = off), /healthz.`

// serveMetrics adds the MySQL pool and the dependency probes (those of
// /readyz, at every scrape) to reg and serves it on http.metrics_addr.
func serveMetrics(ctx context.Context, c *config.Config, log *slog.Logger, reg *prometheus.Registry, db *sql.DB, checks []server.Check) (func(), error) {
	if err := telemetry.RegisterDB(reg, db, "soomcare"); err != nil {
		return nil, err
	}
	probes := make([]telemetry.Probe, len(checks))
	for i, ch := range checks {
		probes[i] = telemetry.Probe{Name: ch.Name, Ping: ch.Ping}
	}
	reg.MustRegister(telemetry.NewDependencies(2*time.Second, probes...))
	return telemetry.Start(ctx, "http.metrics_addr", c.HTTP.MetricsAddr, reg, log)
}

// authMounts is the bearer-token middleware (auth.UseChecked: mounts after
// it see web.Principal) and the auth routes. Without
// auth.jwt_secret it signs with a random per-process key and warns: tokens
// then die with the process and replicas reject each other's tokens, so
// production must set it (there is no fixed, guessable default).
func authMounts(ctx context.Context, c *config.Config, db *sql.DB, log *slog.Logger) ([]func(*gin.Engine), error) {
	secret := []byte(c.Auth.JWTSecret)
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		log.Warn("WARNING: auth.jwt_secret is not set; signing access tokens with a random key for this process only. " +
			"Every restart signs everyone out and replicas reject each other's tokens. Set SOOMCARE_AUTH_JWT_SECRET (openssl rand -base64 48) in production.")
	}
	tokens, err := auth.NewTokenIssuer(auth.TokenConfig{Secret: secret, Issuer: c.Auth.JWTIssuer, AccessTTL: c.Auth.AccessTokenTTL}, nil)
	if err != nil {
		return nil, &config.Error{Key: "auth.jwt_secret", Reason: err.Error()}
	}
	var providers []auth.Provider
	for name, p := range c.Auth.OIDC.Providers() {
		providers = append(providers, auth.Provider{Name: name, Issuer: p.Issuer, JWKSURL: p.JWKSURL, Audience: p.Audience})
	}
	oidc := auth.NewOIDCVerifier(providers, auth.OIDCOptions{CacheTTL: c.Auth.OIDC.JWKSCacheTTL,
		RefetchInterval: c.Auth.OIDC.JWKSRefetchInterval, FetchTimeout: c.Auth.OIDC.HTTPTimeout})
	svc, err := auth.NewService(db, tokens, oidc, auth.ServiceOptions{
		RefreshTTL:   c.Auth.RefreshTokenTTL,
		RefreshGrace: c.Auth.RefreshReuseGrace,
		LoginThrottle: auth.ThrottleConfig{
			AccountFailures: c.Auth.LoginThrottle.AccountFailures,
			IPFailures:      c.Auth.LoginThrottle.IPFailures,
			Window:          c.Auth.LoginThrottle.Window,
		},
		SignupThrottle:  auth.SignupThrottleConfig{PerIP: c.Auth.SignupThrottle.PerIP, Window: c.Auth.SignupThrottle.Window},
		HashConcurrency: c.Auth.HashConcurrency, HashWait: c.Auth.HashWait, NonceTTL: c.Auth.OIDC.NonceTTL,
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if _, err := auth.BackfillNicknameKeys(ctx, db, log); err != nil { // rows without a look-alike key (migration 00046, seed)
		log.Warn("auth: nickname keys not filled; look-alikes of those users' nicknames pass until a start fills them", "err", err)
	}
	// The login throttle counts the client the way the search rate limiter does (http.trusted_proxies).
	authAPI := auth.NewAPI(svc, auth.APIOptions{Logger: log, TrustedProxies: c.HTTP.Proxies()})
	accounts := auth.NewAccounts(db, c.Auth.AccountCheckTTL, nil, log)
	return []func(*gin.Engine){auth.UseChecked(tokens, accounts), authAPI.Mount}, nil
}

// searchOptions maps the configuration onto the search API's options
// (config.Validate has already checked every value).
func searchOptions(c *config.Config, log *slog.Logger) searchapi.Options {
	return searchapi.Options{
		IndexPrefix:    c.Search.IndexPrefix,
		Timeout:        c.SearchAPI.Timeout,
		RateLimit:      c.SearchAPI.RateLimit,
		RateBurst:      c.SearchAPI.RateBurst,
		TrustedProxies: c.HTTP.Proxies(),
		Logger:         log,
	}
}

// communityOptions maps community.* onto the community API's options.
func communityOptions(c *config.Config, log *slog.Logger) community.Options {
	return community.Options{
		ReportHideThreshold: c.Community.ReportHideThreshold, ReporterMinAge: c.Community.ReporterMinAge,
		ReporterMinActivity: c.Community.ReporterMinActivity, ReportDailyLimit: c.Community.ReportDailyLimit, Logger: log,
	}
}

// careMounts wires records, medications, devices/notices, calendar and
// reports for serve; they rely on the auth middleware mounted before them.
// With reminders.in_serve (and push configured) the dispatcher runs until ctx
// ends, its series on serve's registry reg.
func careMounts(ctx context.Context, c *config.Config, db *sql.DB, log *slog.Logger, reg prometheus.Registerer) ([]func(*gin.Engine), error) {
	sender, err := pushSender(c)
	if err != nil {
		return nil, err
	}
	if c.Reminders.InServe {
		if sender == nil {
			return nil, &config.Error{Key: "reminders.in_serve", Reason: "needs push.project_id and credentials"}
		}
		go newDispatcher(c, db, sender, log, reg).Run(ctx)
	}
	return []func(*gin.Engine){
		records.New(db, records.Options{Logger: log}).Mount,
		medication.New(db, medication.Options{Logger: log}).Mount,
		reminder.NewAPI(db, sender, nil, log).Mount,
		report.New(db, report.Options{Logger: log, CalendarCache: calendarCache(c.Calendar.CacheEntries)}).Mount,
	}, nil
}

// calendarCache maps calendar.cache_entries (0 = off) onto
// report.Options.CalendarCache (0 = the default, negative = off).
func calendarCache(entries int) int {
	if entries == 0 {
		return -1
	}
	return entries
}
