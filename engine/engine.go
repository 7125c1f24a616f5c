// Package engine connects to the search engine (Elasticsearch or OpenSearch)
// through the go-elasticsearch v8 client.
//
// OpenSearch: go-elasticsearch refuses any server whose first successful
// response lacks the `X-Elastic-Product: Elasticsearch` header, which OpenSearch
// never sends. With search.engine=opensearch — and only then — the client's HTTP
// transport adds that header to responses that lack it, so the client accepts
// the server it was explicitly told about. The APIs this platform uses (index
// lifecycle, _bulk, _search, _analyze, aliases) are wire-compatible. The REST
// compatibility mode of the client (ELASTIC_CLIENT_APIVERSIONING) is forced off
// for OpenSearch, whose servers reject the vendor media type.
package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/soomcare/soomcare/config"
)

// Client is a configured go-elasticsearch client plus what it was told about
// the engine.
type Client struct {
	ES        *elasticsearch.Client
	Kind      string // config.EngineElasticsearch or config.EngineOpenSearch
	Addresses []string
}

// ErrUnavailable wraps every failure to reach the engine (connection refused,
// timeout, 5xx); callers map it to 503.
var ErrUnavailable = errors.New("search engine unavailable")

// ErrWrongProduct means the server is not the kind the configuration names.
var ErrWrongProduct = errors.New("search engine is not the configured kind")

// New builds a client from the search configuration. It does not contact the
// engine.
func New(cfg config.Search) (*Client, error) {
	return NewWith(cfg, Options{})
}

// Options are what only some callers of New want.
type Options struct {
	// Logger receives a warn line for each call slower than
	// search.slow_call_threshold (nil: none).
	Logger *slog.Logger
	// Observe, when set, is told every call's Family, latency and whether
	// it failed (no answer or a status ≥ 400): the engine call histogram of a
	// process's /metrics (telemetry.Calls.Observe).
	Observe func(family string, d time.Duration, failed bool)
}

// NewWith is New with options.
func NewWith(cfg config.Search, opts Options) (*Client, error) {
	rt, err := roundTripper(cfg, opts)
	if err != nil {
		return nil, err
	}
	esCfg, err := clientConfig(cfg, rt)
	if err != nil {
		return nil, err
	}
	es, err := elasticsearch.NewClient(esCfg)
	if err != nil {
		return nil, fmt.Errorf("engine: new client: %w", err)
	}
	return &Client{ES: es, Kind: cfg.Kind(), Addresses: esCfg.Addresses}, nil
}

// baseTransport is the HTTP transport under every engine call.
func baseTransport(cfg config.Search) *http.Transport {
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
		TLSHandshakeTimeout:   5 * time.Second,
		// Without search.compression no Accept-Encoding: gzip: the engine
		// skips compressing and we skip inflating (inflating alone was about
		// a fifth of the search handler's CPU in a profile on loopback).
		DisableCompression: !cfg.Compression,
	}
	if cfg.TLS.InsecureSkipVerify {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // explicit operator choice, documented
	}
	return base
}

// roundTripper stacks, over the base transport, the OpenSearch product
// header, the slow-call log and call histogram, and the 5xx retry.
func roundTripper(cfg config.Search, opts Options) (http.RoundTripper, error) {
	base := baseTransport(cfg)
	var rt http.RoundTripper = base
	if cfg.Kind() == config.EngineOpenSearch {
		rt = productHeader{next: base}
		// The compatibility media type is Elasticsearch-only; OpenSearch rejects it.
		if v := os.Getenv("ELASTIC_CLIENT_APIVERSIONING"); v == "true" || v == "1" {
			return nil, errors.New("engine: ELASTIC_CLIENT_APIVERSIONING=true cannot be used with search.engine=opensearch")
		}
	}
	if slow := cfg.SlowCallThreshold > 0 && opts.Logger != nil; slow || opts.Observe != nil {
		sc := slowCalls{next: rt, observe: opts.Observe}
		if slow {
			sc.threshold, sc.logger = cfg.SlowCallThreshold, opts.Logger
		}
		rt = sc
	}
	if cfg.MaxRetries > 0 {
		rt = retryStatus{next: rt}
	}
	return rt, nil
}

// clientConfig is the go-elasticsearch configuration over rt.
func clientConfig(cfg config.Search, rt http.RoundTripper) (elasticsearch.Config, error) {
	esCfg := elasticsearch.Config{
		Addresses: trimAll(cfg.Addresses),
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		Transport: rt,
		// The transport retries every method on a RetryOnStatus code (and
		// on 502/503/504 when the list is empty), so the list holds only 0,
		// which no answer has. retryStatus turns a 502/503/504 answer to an
		// idempotent call into an error, which retryOnError then retries;
		// any other call gets the answer as it came.
		RetryOnStatus: []int{0},
		MaxRetries:    cfg.MaxRetries,
		RetryOnError:  retryOnError,
		RetryBackoff:  backoff,
		// search.discover_interval: the nodes' publish addresses replace the
		// configured ones at start and then every interval.
		DiscoverNodesOnStart:  cfg.DiscoverInterval > 0,
		DiscoverNodesInterval: cfg.DiscoverInterval,
		DisableRetry:          cfg.MaxRetries == 0,
	}
	if cfg.TLS.CAFile != "" {
		pem, err := os.ReadFile(cfg.TLS.CAFile)
		if err != nil {
			return elasticsearch.Config{}, fmt.Errorf("engine: read search.tls.ca_file: %w", err)
		}
		esCfg.CACert = pem
	}
	return esCfg, nil
}

// retryOnError decides whether a call that got no answer, or a 502/503/504
// (see retryStatus), is sent again, to the next node: always when the
// connection was never made (nothing was sent), otherwise only when sending
// it twice is harmless (Idempotent). A write that is not idempotent (_bulk,
// a POST to _doc or _update) may have been applied by the node that died
// or answered 5xx; its caller decides (the CDC and reindex retry their
// batches themselves, with ids and versions that make a replay a no-op;
// search insights' batch of id-less creates is never sent twice).
func retryOnError(req *http.Request, err error) bool {
	return NotSent(err) || Idempotent(req.Method, req.URL.Path)
}

// retryStatus turns a 502, 503 or 504 answer to an Idempotent call into a
// *StatusError returned as the call's error, so that the transport's
// retryOnError sends it to the next node (and counts that node as failing);
// when every attempt got one, the caller sees that error, which wraps
// ErrUnavailable. Answers to other calls pass untouched: the transport
// retries no status by itself.
type retryStatus struct{ next http.RoundTripper }

func (r retryStatus) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if err != nil || !retriedStatus(res.StatusCode) || !Idempotent(req.Method, req.URL.Path) {
		return res, err
	}
	defer res.Body.Close()
	return nil, readStatusError(res.StatusCode, res.Body)
}

// retriedStatus: the answers of a node (or of a proxy in front of it) that
// could not serve the call, which another node may serve.
func retriedStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// NotSent reports whether a call failed before anything was sent: the
// connection was never made. Any other failure without an answer (a
// timeout, a connection lost mid-request) may have reached the engine,
// which may still be working on it.
func NotSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Idempotent reports whether sending the call twice has the effect of
// sending it once: GET, HEAD, PUT and DELETE, and the POSTs that only read.
// A _bulk never is, whatever its method and ops: it is judged by its path
// alone, and its callers retry it themselves.
func Idempotent(method, path string) bool {
	if strings.HasSuffix(Family(method, path), "/_bulk") {
		return false
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost:
		fam := Family(method, path)
		for _, api := range []string{"/_search", "/_msearch", "/_count", "/_mget", "/_analyze", "/_refresh", "/_field_caps"} {
			if strings.HasSuffix(fam, api) {
				return true
			}
		}
	}
	return false
}

// backoff is exponential with full jitter, capped at 5 s.
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 6)
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	return time.Duration(rand.Int64N(int64(d)) + 1)
}

func trimAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, strings.TrimRight(strings.TrimSpace(s), "/"))
	}
	return out
}

// productHeader marks OpenSearch responses so the client's product check passes.
type productHeader struct{ next http.RoundTripper }

func (p productHeader) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := p.next.RoundTrip(req)
	if err == nil && res.Header.Get("X-Elastic-Product") == "" {
		res.Header.Set("X-Elastic-Product", "Elasticsearch")
	}
	return res, err
}

// slowCalls reports each engine call (each attempt, retries included) to
// observe (when set) and logs the ones that take at least threshold at warn
// on logger (when set), with its Family and duration, and the attributes of
// the request's context (the API request's id). Bodies, query strings and
// index or document names are never logged.
type slowCalls struct {
	next      http.RoundTripper
	threshold time.Duration
	logger    *slog.Logger
	observe   func(family string, d time.Duration, failed bool)
}

func (s slowCalls) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := s.next.RoundTrip(req)
	d := time.Since(start)
	status, outcome := 0, "failure"
	if err == nil {
		status = res.StatusCode
		if status < 400 {
			outcome = "success"
		}
	}
	if s.observe != nil {
		s.observe(Family(req.Method, req.URL.Path), d, outcome == "failure")
	}
	if s.logger == nil || d < s.threshold {
		return res, err
	}
	s.logger.LogAttrs(req.Context(), slog.LevelWarn, "slow engine call",
		slog.String("engine.call", Family(req.Method, req.URL.Path)),
		slog.Int("engine.status", status),
		slog.Int64("event.duration", d.Nanoseconds()),
		slog.String("event.outcome", outcome))
	return res, err
}

// Family names an engine call without its index, document or template
// names: the method, then the path with each segment that names an API
// (starting with "_", or a lower-case word right after one: _cluster/health)
// kept and any other segment as {index} (the first) or {name}:
// "POST /{index}/_search", "PUT /{index}/_doc/{name}", "POST /_bulk",
// "GET /_cluster/health", "GET /".
func Family(method, path string) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteByte(' ')
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		b.WriteByte('/')
		return b.String()
	}
	afterAPI := false
	for i, seg := range segs {
		b.WriteByte('/')
		switch {
		case strings.HasPrefix(seg, "_") && isWord(seg[1:]):
			b.WriteString(seg)
			afterAPI = true
			continue
		case afterAPI && isWord(seg):
			b.WriteString(seg)
		case i == 0:
			b.WriteString("{index}")
		default:
			b.WriteString("{name}")
		}
		afterAPI = false
	}
	return b.String()
}

// isWord: 1–32 lower-case letters or underscores, what API path segments are.
func isWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// Info describes the engine.
type Info struct {
	Distribution string `json:"distribution"` // elasticsearch | opensearch
	Version      string `json:"version"`
	ClusterName  string `json:"cluster_name"`
	NodeName     string `json:"node_name"`
}

// Info returns the cluster's identity. It uses GET / and, on distributions
// without the root endpoint (the Elasticsearch integ-test zip lacks the
// rest-root module and answers 405), the local node's info instead.
func (c *Client) Info(ctx context.Context) (Info, error) {
	res, err := c.ES.Info(c.ES.Info.WithContext(ctx))
	if err != nil {
		return Info{}, c.wrap(err)
	}
	defer drain(res)
	if res.StatusCode == http.StatusMethodNotAllowed || res.StatusCode == http.StatusNotFound {
		return c.nodeInfo(ctx)
	}
	if err := CheckStatus(res); err != nil {
		return Info{}, err
	}
	var body struct {
		Name        string `json:"name"`
		ClusterName string `json:"cluster_name"`
		Version     struct {
			Number       string `json:"number"`
			Distribution string `json:"distribution"`
		} `json:"version"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return Info{}, fmt.Errorf("engine: decode info: %w", err)
	}
	dist := body.Version.Distribution
	if dist == "" {
		dist = config.EngineElasticsearch
	}
	return Info{Distribution: dist, Version: body.Version.Number, ClusterName: body.ClusterName, NodeName: body.Name}, nil
}

func (c *Client) nodeInfo(ctx context.Context) (Info, error) {
	res, err := c.ES.Nodes.Info(c.ES.Nodes.Info.WithContext(ctx), c.ES.Nodes.Info.WithNodeID("_local"),
		c.ES.Nodes.Info.WithFilterPath("cluster_name", "nodes.*.name", "nodes.*.version"))
	if err != nil {
		return Info{}, c.wrap(err)
	}
	defer drain(res)
	if err := CheckStatus(res); err != nil {
		return Info{}, err
	}
	var body struct {
		ClusterName string `json:"cluster_name"`
		Nodes       map[string]struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return Info{}, fmt.Errorf("engine: decode node info: %w", err)
	}
	info := Info{Distribution: c.Kind, ClusterName: body.ClusterName}
	for _, n := range body.Nodes {
		info.NodeName, info.Version = n.Name, n.Version
	}
	return info, nil
}

// Health is the cluster's health as _cluster/health reports it.
type Health struct {
	Status           string `json:"status"` // green | yellow | red
	Nodes            int    `json:"number_of_nodes"`
	DataNodes        int    `json:"number_of_data_nodes"`
	ActiveShards     int    `json:"active_shards"`
	UnassignedShards int    `json:"unassigned_shards"`
	TimedOut         bool   `json:"timed_out"`
}

// Health returns the cluster's health (any node answers for the cluster).
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	res, err := c.ES.Cluster.Health(c.ES.Cluster.Health.WithContext(ctx))
	if err != nil {
		return h, c.wrap(err)
	}
	defer drain(res)
	if err := CheckStatus(res); err != nil {
		return h, err
	}
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		return h, fmt.Errorf("engine: decode health: %w", err)
	}
	return h, nil
}

// IndexStats decodes the _stats of indices, limited to metrics, into v;
// groups, when given, adds the counts of searches that named them in their
// body's "stats".
func (c *Client) IndexStats(ctx context.Context, indices, metrics, groups []string, v any) error {
	o := []func(*esapi.IndicesStatsRequest){c.ES.Indices.Stats.WithContext(ctx),
		c.ES.Indices.Stats.WithIndex(indices...), c.ES.Indices.Stats.WithMetric(metrics...)}
	if len(groups) > 0 {
		o = append(o, c.ES.Indices.Stats.WithGroups(groups...))
	}
	res, err := c.ES.Indices.Stats(o...)
	if err != nil {
		return fmt.Errorf("stats of %v: %w", indices, c.wrap(err))
	}
	defer drain(res)
	if err := CheckStatus(res); err != nil {
		return fmt.Errorf("stats of %v: %w", indices, err)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		return fmt.Errorf("stats of %v: %w", indices, err)
	}
	return nil
}

// Ping checks that the cluster answers and is at least yellow: green and
// yellow (a replica missing, every primary assigned) serve every search;
// red (a primary unassigned) does not, and is ErrUnavailable.
func (c *Client) Ping(ctx context.Context) error {
	h, err := c.Health(ctx)
	if err != nil {
		return err
	}
	if h.Status == "red" {
		return fmt.Errorf("%w: cluster health is red (%d of %d nodes hold data, %d shards unassigned)", ErrUnavailable, h.DataNodes, h.Nodes, h.UnassignedShards)
	}
	return nil
}

// Plugins lists the names of the installed plugins and modules of every node.
func (c *Client) Plugins(ctx context.Context) ([]string, error) {
	res, err := c.ES.Nodes.Info(c.ES.Nodes.Info.WithContext(ctx), c.ES.Nodes.Info.WithMetric("plugins"),
		c.ES.Nodes.Info.WithFilterPath("nodes.*.plugins.name", "nodes.*.modules.name"))
	if err != nil {
		return nil, c.wrap(err)
	}
	defer drain(res)
	if err := CheckStatus(res); err != nil {
		return nil, err
	}
	var body struct {
		Nodes map[string]struct {
			Plugins []struct{ Name string } `json:"plugins"`
			Modules []struct{ Name string } `json:"modules"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("engine: decode plugins: %w", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range body.Nodes {
		for _, p := range append(n.Plugins, n.Modules...) {
			if !seen[p.Name] {
				seen[p.Name] = true
				names = append(names, p.Name)
			}
		}
	}
	return names, nil
}

// wrap classifies a transport-level error.
func (c *Client) wrap(err error) error {
	if strings.Contains(err.Error(), "not Elasticsearch") {
		return fmt.Errorf("%w: the server at %s is not Elasticsearch; if it is OpenSearch set search.engine: opensearch", ErrWrongProduct, strings.Join(c.Addresses, ","))
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %s at %s: %w", ErrUnavailable, c.Kind, strings.Join(c.Addresses, ","), err)
}

// StatusError is a non-2xx answer from the engine.
type StatusError struct {
	Status int
	Type   string // the engine's error.type, when present
	Reason string
}

func (e *StatusError) Error() string {
	if e.Type != "" {
		return fmt.Sprintf("engine: HTTP %d: %s: %s", e.Status, e.Type, e.Reason)
	}
	return fmt.Sprintf("engine: HTTP %d: %s", e.Status, e.Reason)
}

// Unwrap lets errors.Is(err, ErrUnavailable) hold for 429 and 5xx.
func (e *StatusError) Unwrap() error {
	if e.Status == http.StatusTooManyRequests || e.Status >= 500 {
		return ErrUnavailable
	}
	return nil
}

// CheckStatus turns a non-2xx response into a *StatusError; it reads the body
// of an error response and leaves a 2xx response untouched.
func CheckStatus(res *esapi.Response) error {
	if !res.IsError() {
		return nil
	}
	return readStatusError(res.StatusCode, res.Body)
}

// readStatusError reads the body of an error answer into a *StatusError.
func readStatusError(status int, r io.Reader) *StatusError {
	raw, _ := io.ReadAll(io.LimitReader(r, 64<<10))
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	se := &StatusError{Status: status, Reason: strings.TrimSpace(string(raw))}
	if json.Unmarshal(raw, &body) == nil && len(body.Error) > 0 {
		var detail struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(body.Error, &detail) == nil && detail.Type != "" {
			se.Type, se.Reason = detail.Type, detail.Reason
		} else {
			se.Reason = strings.Trim(string(body.Error), `"`)
		}
	}
	return se
}

func drain(res *esapi.Response) {
	if res != nil && res.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
	}
}
