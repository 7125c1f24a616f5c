package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/spf13/cobra"

	"github.com/soomcare/soomcare/apidoc"
	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/mysql"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/server"
)

func newServeCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API for the app",
		Long: `Serve the HTTP API on http.addr.

At start it waits up to startup.wait_timeout for MySQL and the search engine and exits 1 with one
line naming the unreachable one. Once running, GET /healthz answers 200 while the process is up and
GET /readyz answers 200 when MySQL and the engine are reachable, 503 naming the ones that are not.
The search API (GET /v1/search, /v1/{contents,posts,users}/search, /v1/search/suggest,
/v1/feed/posts) reads the aliases <search.index_prefix>-{contents,posts,users}; its limits are the
searchapi.* keys. GET /openapi.json serves the OpenAPI document of every endpoint.
SIGINT/SIGTERM drain in-flight requests for up to http.shutdown_timeout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := e.config()
			if err != nil {
				return err
			}
			log := e.logger(c)
			log.Info("starting", "command", "serve", "version", Version, "config", c.Masked())
			db, err := openMySQL(ctx, c)
			if err != nil {
				return err
			}
			defer db.Close()
			es, err := openEngine(ctx, c)
			if err != nil {
				return err
			}
			search := searchapi.New(es.ES, searchOptions(c, log))
			srv := server.New(c.HTTP, log, []server.Check{
				{Name: "mysql", Ping: func(ctx context.Context) error { return mysql.Ping(ctx, db) }},
				{Name: es.Kind, Ping: es.Ping},
			}, search.Mount, apidoc.Mount)
			ln, err := net.Listen("tcp", c.HTTP.Addr)
			if err != nil {
				return fmt.Errorf("listen on http.addr %s: %w", c.HTTP.Addr, err)
			}
			log.Info("listening", "addr", ln.Addr().String())
			if err := srv.Run(ctx, ln); err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			log.Info("stopped")
			return nil
		},
	}
}

// searchOptions maps the configuration onto the search API's options
// (config.Validate has already checked every value).
func searchOptions(c *config.Config, log *slog.Logger) searchapi.Options {
	var proxies []netip.Prefix
	for _, p := range c.SearchAPI.TrustedProxies {
		if prefix, err := config.ParseProxy(p); err == nil {
			proxies = append(proxies, prefix)
		}
	}
	return searchapi.Options{
		IndexPrefix:    c.Search.IndexPrefix,
		Timeout:        c.SearchAPI.Timeout,
		RateLimit:      c.SearchAPI.RateLimit,
		RateBurst:      c.SearchAPI.RateBurst,
		TrustedProxies: proxies,
		Logger:         log,
	}
}
