package insights

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/searchapi"
	"github.com/soomcare/soomcare/web"
)

// Runtime is search insights inside `serve`: the recorder and the popular
// list the search API uses (none when insights.enabled is false), the
// editors' report and suggestion-block routes, and the goroutines that
// write, refresh and follow until Stop.
type Runtime struct {
	recorder *Recorder
	popular  *Popular
	report   *API
	blocks   *BlockAPI
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

// Start installs the data stream (idempotent; a failure is a warning: the
// first write creates the stream from the template, and recording is never
// fatal), registers the drop counter on reg, and starts the writer, the
// popular-list refresh and the editors' blocks follower. They outlive ctx's
// cancellation until Stop (serve stops them after its last request, so
// requests still draining are recorded).
func Start(ctx context.Context, c config.Insights, db *sql.DB, es *engine.Client, log *slog.Logger, reg prometheus.Registerer) *Runtime {
	reader, blocks := NewReader(es.ES, c.DataStream), NewBlockStore(db, nil)
	r := &Runtime{cancel: func() {}}
	if c.Enabled {
		r.popular = NewPopular()
	}
	r.report, r.blocks = NewAPI(reader, log, nil), NewBlockAPI(blocks, r.popular, log)
	if !c.Enabled {
		return r
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	setupStream(ctx, c, es, log)
	if c.ClientHashSecret == "" {
		log.Warn("insights.client_hash_secret is not set; hashing clients with a random key for this process only, " +
			"so each serve replica counts a client once more toward insights.popular_min_clients. Set SOOMCARE_INSIGHTS_CLIENT_HASH_SECRET (openssl rand -base64 48).")
	}
	r.recorder = NewRecorder(es.ES, NewMetrics(reg), Options{DataStream: c.DataStream,
		QueueSize: c.QueueSize, FlushInterval: c.FlushInterval, Logger: log, ClientSecret: []byte(c.ClientHashSecret)})
	r.wg.Add(3)
	go func() { defer r.wg.Done(); r.recorder.Run(ctx) }()
	go func() {
		defer r.wg.Done()
		r.popular.Refresh(ctx, reader, RefreshOptions{Every: c.PopularRefresh, Window: c.PopularWindow,
			MinClients: c.PopularMinClients, MinCount: c.PopularMinCount, Logger: log})
	}()
	go func() { defer r.wg.Done(); r.popular.FollowBlocks(ctx, blocks, c.BlocksRefresh, log) }()
	return r
}

// setupStream installs the data stream within 10 s and logs how it went.
func setupStream(ctx context.Context, c config.Insights, es *engine.Client, log *slog.Logger) {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rep, err := Setup(sctx, es, c)
	if err != nil {
		log.Warn("search insights: data stream setup failed; recording goes on", "data_stream", c.DataStream, "error", web.Withheld(err))
		return
	}
	log.Info("search insights: data stream ready", "data_stream", c.DataStream, "lifecycle", rep.Caps.Lifecycle, "steps", len(rep.Steps))
}

// SearchOptions adds the recorder and the popular list to the search API's
// options (unchanged when insights are off).
func (r *Runtime) SearchOptions(o searchapi.Options) searchapi.Options {
	if r.recorder != nil {
		o.Recorder, o.Popular = r.recorder, r.popular
	}
	return o
}

// Mount adds the editors' report (/v1/editor/search-insights) and the
// suggestion blocks' routes.
func (r *Runtime) Mount(e *gin.Engine) {
	r.report.Mount(e)
	r.blocks.Mount(e)
}

// Stop ends the writer and the refresh and returns after the last flush.
func (r *Runtime) Stop() {
	r.cancel()
	r.wg.Wait()
}

// WarmSource is the popular-query source of a new index's warm-up
// (searchapi.Warmup): up to n of the queries searched at least
// c.PopularMinCount times in c.PopularWindow, most searched first, then
// those of fallback not among them. Nil when insights are off.
func WarmSource(es *engine.Client, c config.Insights) searchapi.PopularQueries {
	if !c.Enabled {
		return nil
	}
	reader := NewReader(es.ES, c.DataStream)
	return func(ctx context.Context, n int, fallback []string) ([]string, error) {
		return reader.WarmQueries(ctx, time.Now(), c.PopularWindow, c.PopularMinCount, n, fallback)
	}
}
