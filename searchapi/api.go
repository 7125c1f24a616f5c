// Package searchapi serves search, autocomplete and the community feed from
// the engine's indices: query builders (pure functions from validated
// parameters to request bodies, query.go), parameter validation and cursors
// (params.go, cursor.go), and the Gin handlers below.
//
// It only reads. Writes go to MySQL and reach the indices through the CDC
// worker, never through this package.
//
// Endpoints (documented in apidoc/paths/search.yaml):
//
//	GET /v1/search             q, types, size: a section per type, one _msearch round trip
//	GET /v1/contents/search    q, category, tags, from, to, sort, size, cursor
//	GET /v1/posts/search       q, category, from, to, sort, size, cursor
//	GET /v1/users/search       q, size, cursor (public fields only)
//	GET /v1/search/suggest     q, types, size: autocomplete per keystroke
//	GET /v1/feed/posts         sort=recent|popular, category, size, cursor
//
// Every error is the web envelope {code, message, fields?}; see the codes in web.
package searchapi

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/gin-gonic/gin"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/web"
)

// Options configure the API.
type Options struct {
	// IndexPrefix is search.index_prefix: the aliases are <prefix>-contents, …
	IndexPrefix string
	// Timeout bounds each engine round trip; past it the request answers 503.
	Timeout time.Duration
	// RateLimit is requests per second per client over every search endpoint;
	// 0 turns limiting off. RateBurst is the bucket size.
	RateLimit float64
	RateBurst int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger // nil: discard (web.NewKit)
	// Now is the clock of the rate limiter (tests); nil means time.Now.
	Now func() time.Time
	// Recorder, when set, is told about every answered search and suggest
	// (search insights, insights.go); Popular, when set, blends popular past
	// queries into suggestions (suggest.go).
	Recorder Recorder
	Popular  Popular
}

// API holds the handlers' dependencies.
type API struct {
	engine  searcher
	prefix  string
	timeout time.Duration
	limiter *limiter
	kit     web.Kit

	recorder Recorder
	popular  Popular
	trusted  []netip.Prefix // the proxies whose X-Forwarded-For names the client
}

// New returns the API over an engine client.
func New(es *elasticsearch.Client, opts Options) *API {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &API{engine: searcher{es: es}, prefix: opts.IndexPrefix, timeout: opts.Timeout, kit: web.NewKit(opts.Logger, errorTable()),
		recorder: opts.Recorder, popular: opts.Popular, trusted: opts.TrustedProxies}
	if opts.RateLimit > 0 {
		a.limiter = newLimiter(opts.RateLimit, max(opts.RateBurst, 1), opts.TrustedProxies, opts.Now)
	}
	return a
}

// Mount adds the routes; pass it to server.New.
func (a *API) Mount(e *gin.Engine) {
	v1, h := e.Group("/v1", a.rateLimit), a.kit.Handle
	v1.GET("/search", h(a.searchAll))
	v1.GET("/search/suggest", h(a.suggest))
	v1.GET("/contents/search", h(a.searchKind(mappings.Contents)))
	v1.GET("/posts/search", h(a.searchKind(mappings.Posts)))
	v1.GET("/users/search", h(a.searchKind(mappings.Users)))
	v1.GET("/feed/posts", h(a.feed))
}

// alias is the name searches use for a logical index (indexer.Lifecycle.Alias).
func (a *API) alias(name string) string { return a.prefix + "-" + name }

// aliases are the aliases of the logical indices names, in their order.
func (a *API) aliases(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = a.alias(n)
	}
	return out
}

func (a *API) rateLimit(c *gin.Context) {
	if a.limiter == nil {
		return
	}
	if ok, wait := a.limiter.allow(web.ClientAddr(c.Request, a.limiter.trusted)); !ok {
		a.kit.Fail(c, web.RateLimited("요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.", wait))
	}
}

func (a *API) ctx(c *gin.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), a.timeout)
}

func (a *API) searchKind(kind string) web.Handler {
	return func(c *gin.Context) (web.Answer, error) {
		start := time.Now()
		p, err := ParseSearch(kind, c.Request.URL.Query())
		if err != nil {
			return web.Answer{}, err
		}
		ctx, cancel := a.ctx(c)
		defer cancel()
		r, err := a.engine.search(ctx, a.alias(kind), SearchBody(p))
		if errors.Is(err, errTooComplex) {
			p.Simple = true
			r, err = a.engine.search(ctx, a.alias(kind), SearchBody(p))
		}
		if err != nil {
			return web.Answer{}, err
		}
		page, err := pageFor(kind, r, p.Size, p.fingerprint())
		if err != nil {
			return web.Answer{}, err
		}
		if len(p.After) == 0 { // first pages only: a next page is the same search
			a.record(c, endpointOf(kind), p.Query, []string{kind}, totalOf(r), start)
		}
		return web.OK(page), nil
	}
}

// pageFor converts a result with the kind's hit type.
func pageFor(kind string, r result, size int, fp string) (any, error) {
	switch kind {
	case mappings.Contents:
		return pageOf(r, size, fp, contentHit)
	case mappings.Posts:
		return pageOf(r, size, fp, postHit)
	default:
		return pageOf(r, size, fp, userHit)
	}
}

func (a *API) searchAll(c *gin.Context) (web.Answer, error) {
	start := time.Now()
	p, err := ParseMulti(c.Request.URL.Query())
	if err != nil {
		return web.Answer{}, err
	}
	indices := a.aliases(p.Kinds)
	ctx, cancel := a.ctx(c)
	defer cancel()
	results, err := a.engine.msearch(ctx, indices, MultiBodies(p))
	if errors.Is(err, errTooComplex) {
		p.Simple = true
		results, err = a.engine.msearch(ctx, indices, MultiBodies(p))
	}
	if err != nil {
		return web.Answer{}, err
	}
	var out MultiResponse
	var hits int64
	for i, k := range p.Kinds {
		hits += totalOf(results[i])
		fp := SearchParams{Kind: k, Query: p.Query, Sort: SortRelevance}.fingerprint()
		switch k {
		case mappings.Contents:
			out.Sections.Contents, err = pageOf(results[i], p.Size, fp, contentHit)
		case mappings.Posts:
			out.Sections.Posts, err = pageOf(results[i], p.Size, fp, postHit)
		case mappings.Users:
			out.Sections.Users, err = pageOf(results[i], p.Size, fp, userHit)
		}
		if err != nil {
			return web.Answer{}, err
		}
	}
	a.record(c, EndpointSearch, p.Query, p.Kinds, hits, start)
	return web.OK(out), nil
}

func (a *API) suggest(c *gin.Context) (web.Answer, error) {
	start := time.Now()
	p, err := ParseSuggest(c.Request.URL.Query())
	if err != nil {
		return web.Answer{}, err
	}
	bodies := make([]M, len(p.Kinds))
	for i, k := range p.Kinds {
		bodies[i] = SuggestBody(k, p.Query, p.Size)
	}
	ctx, cancel := a.ctx(c)
	defer cancel()
	results, err := a.engine.msearch(ctx, a.aliases(p.Kinds), bodies)
	if err != nil {
		return web.Answer{}, err
	}
	out := a.blend(p, results)
	a.record(c, EndpointSuggest, p.Query, p.Kinds, int64(len(out)), start)
	return web.OK(SuggestResponse{Suggestions: out}), nil
}

func (a *API) feed(c *gin.Context) (web.Answer, error) {
	p, err := ParseFeed(c.Request.URL.Query())
	if err != nil {
		return web.Answer{}, err
	}
	ctx, cancel := a.ctx(c)
	defer cancel()
	r, err := a.engine.search(ctx, a.alias(mappings.Posts), FeedBody(p))
	if err != nil {
		return web.Answer{}, err
	}
	page, err := pageOf(r, p.Size, p.fingerprint(), postHit)
	if err != nil {
		return web.Answer{}, err
	}
	return web.OK(FeedResponse{Hits: page.Hits, Posts: page.Hits, NextCursor: page.NextCursor}), nil
}
