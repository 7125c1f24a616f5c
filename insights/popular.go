package insights

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/hangul"
	"github.com/soomcare/soomcare/internal/tick"
	"github.com/soomcare/soomcare/searchapi"
)

// PopularSize bounds the popular-query list kept in memory.
const PopularSize = 1000

// Popular is the list of popular past queries suggest blends in
// (searchapi.Popular): the queries (in SuggestForm) of searches that found
// something, made by at least insights.popular_min_clients distinct clients
// in the window, most clients first, without those its Filter refuses. The
// list is a snapshot rebuilt whole by Set (new counts from the engine) and
// SetBlocks (editors' blocks from MySQL), so Match never waits.
type Popular struct {
	mu     sync.Mutex // serialises rebuilds
	counts []QueryCount
	filter *Filter
	list   atomic.Pointer[[]popularEntry]
}

var _ searchapi.Popular = (*Popular)(nil)

// popularEntry is a query with the forms suggest input is compared in.
type popularEntry struct {
	text    string // SuggestForm
	chosung string // hangul.Chosung(text): for 초성 input
	qwerty  string // lower-cased hangul.ToQwerty(text): for English-keyboard input and unfinished syllables
	count   int64
}

// NewPopular returns an empty list with the built-in blocklist.
func NewPopular() *Popular {
	p := &Popular{filter: NewFilter(nil)}
	p.Set(nil)
	return p
}

// Set replaces the counts (any order; Count is the distinct clients) and
// rebuilds the list: each query in SuggestForm once (the most counted),
// none the filter refuses, the most counted first, at most PopularSize.
func (p *Popular) Set(counts []QueryCount) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = counts
	p.rebuild()
}

// SetBlocks replaces the editors' blocks and rebuilds the list at once.
func (p *Popular) SetBlocks(blocks []Block) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.filter = NewFilter(blocks)
	p.rebuild()
}

// rebuild makes the list from counts and filter; p.mu is held.
func (p *Popular) rebuild() {
	sorted := slices.Clone(p.counts)
	slices.SortStableFunc(sorted, func(a, b QueryCount) int { return cmp.Compare(b.Count, a.Count) })
	list := make([]popularEntry, 0, min(len(sorted), PopularSize))
	seen := map[string]bool{}
	for _, c := range sorted {
		key, ok := SuggestForm(c.Query)
		if !ok || seen[key] || p.filter.Refusal(key) != "" {
			continue
		}
		seen[key] = true
		list = append(list, popularEntry{text: key, chosung: hangul.Chosung(key), qwerty: strings.ToLower(hangul.ToQwerty(key)), count: c.Count})
	}
	slices.SortStableFunc(list, func(a, b popularEntry) int {
		if a.count != b.count {
			return cmp.Compare(b.count, a.count)
		}
		return strings.Compare(a.text, b.text)
	})
	list = list[:min(len(list), PopularSize)]
	p.list.Store(&list)
}

// Shown returns up to n entries of the list as suggest uses it (Count:
// distinct clients), those q (QueryKey form) completes, or all for q "":
// for editors.
func (p *Popular) Shown(q string, n int) []QueryCount {
	var out []QueryCount
	p.each(q, n, func(e popularEntry) { out = append(out, QueryCount{Query: e.text, Count: e.count}) })
	return out
}

// Match returns up to n popular queries that complete q (QueryKey form):
// 초성 input against their 초성, English-keyboard input against their keys
// or the Hangul it converts to, Hangul input as written or by keys (천시 on
// the way to 천식). Most searched first.
func (p *Popular) Match(q string, n int) []string {
	if q == "" {
		return nil
	}
	var out []string
	p.each(q, n, func(e popularEntry) { out = append(out, e.text) })
	return out
}

// each calls fn for up to n entries that complete q (every entry for "").
func (p *Popular) each(q string, n int, fn func(popularEntry)) {
	if n <= 0 {
		return
	}
	match := func(popularEntry) bool { return true }
	if q != "" {
		match = matcher(q)
	}
	taken := 0
	for _, e := range *p.list.Load() {
		if taken == n {
			return
		}
		if match(e) {
			fn(e)
			taken++
		}
	}
}

// matcher is the test of an entry for input q, decided once per request.
func matcher(q string) func(popularEntry) bool {
	switch {
	case hangul.IsChosungQuery(q):
		cho := hangul.Chosung(q)
		return func(e popularEntry) bool { return strings.HasPrefix(e.chosung, cho) }
	case hangul.LooksLikeQwertyKorean(q):
		keys, conv := strings.ToLower(q), searchapi.QueryKey(hangul.FromQwerty(q))
		return func(e popularEntry) bool { return strings.HasPrefix(e.qwerty, keys) || strings.HasPrefix(e.text, conv) }
	case hasHangul(q):
		keys := strings.ToLower(hangul.ToQwerty(q))
		return func(e popularEntry) bool { return strings.HasPrefix(e.text, q) || strings.HasPrefix(e.qwerty, keys) }
	default:
		return func(e popularEntry) bool { return strings.HasPrefix(e.text, q) }
	}
}

func hasHangul(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.Is(unicode.Hangul, r) }) >= 0
}

// searchedBody asks for the most requested queries (as recorded) of
// searches that found something since since, each with at least minCount
// requests: a reindex's warm-up (WarmQueries), never shown to anyone.
func searchedBody(since time.Time, minCount int) M {
	return M{
		"size": 0, "track_total_hits": false,
		"query": foundSince(since),
		"aggs":  M{"top": M{"terms": M{"field": "query", "size": PopularSize, "min_doc_count": minCount}}},
	}
}

// foundSince selects the searches (not suggest requests) that found
// something since since.
func foundSince(since time.Time) M {
	return M{"bool": M{
		"filter": []M{
			{"range": M{"@timestamp": M{"gte": since.UnixMilli(), "format": "epoch_millis"}}},
			{"range": M{"hits": M{"gt": 0}}},
		},
		"must_not": []M{{"term": M{"endpoint": searchapi.EndpointSuggest}}},
	}}
}

// clientPrecision is the cardinality aggregation's precision_threshold:
// counts below it are exact in practice, and the thresholds that matter
// (insights.popular_min_clients) are far below it.
const clientPrecision = 200

// popularBody asks for the queries in SuggestForm (field suggest_form) of
// searches that found something since since, with their distinct client
// hashes (one per client and day) and searches, the most clients first;
// Popular keeps those with at least minClients clients and minCount
// searches. Records without a client hash (written before it existed) do
// not count.
func popularBody(since time.Time, minCount int) M {
	q := foundSince(since)
	q["bool"].(M)["filter"] = append(q["bool"].(M)["filter"].([]M), M{"exists": M{"field": "client"}})
	return M{
		"size": 0, "track_total_hits": false,
		"query": q,
		"aggs": M{"top": M{
			"terms": M{"field": "suggest_form", "size": PopularSize, "min_doc_count": minCount,
				"order": []M{{"clients": "desc"}, {"_key": "asc"}}},
			"aggs": M{"clients": M{"cardinality": M{"field": "client", "precision_threshold": clientPrecision}}},
		}},
	}
}

// PopularCount is a popular query with its distinct clients and searches.
type PopularCount struct {
	Query    string `json:"query"`
	Clients  int64  `json:"clients"`
	Searches int64  `json:"searches"`
}

// Popular returns the queries of the window before now that at least
// minClients distinct clients (one per client and day) searched for, with
// at least minCount searches, most clients first. Their Count is clients.
func (r *Reader) Popular(ctx context.Context, now time.Time, window time.Duration, minClients, minCount int) ([]PopularCount, error) {
	var ans struct {
		Aggregations struct {
			Top struct {
				Buckets []struct {
					Key      string `json:"key"`
					DocCount int64  `json:"doc_count"`
					Clients  struct {
						Value int64 `json:"value"`
					} `json:"clients"`
				} `json:"buckets"`
			} `json:"top"`
		} `json:"aggregations"`
	}
	if err := r.searchStream(ctx, popularBody(now.Add(-window), minCount), &ans); err != nil {
		return nil, err
	}
	var out []PopularCount
	for _, b := range ans.Aggregations.Top.Buckets {
		if b.Clients.Value >= int64(minClients) {
			out = append(out, PopularCount{Query: b.Key, Clients: b.Clients.Value, Searches: b.DocCount})
		}
	}
	return out, nil
}

// Counts is pc as Popular.Set takes it (Count: distinct clients).
func Counts(pc []PopularCount) []QueryCount {
	out := make([]QueryCount, len(pc))
	for i, c := range pc {
		out[i] = QueryCount{Query: c.Query, Count: c.Clients}
	}
	return out
}

// searchStream runs body on the stream; a stream not created yet answers
// nothing.
func (r *Reader) searchStream(ctx context.Context, body M, into any) error {
	err := r.search(ctx, body, into)
	if se := (*engine.StatusError)(nil); errors.As(err, &se) && se.Status == http.StatusNotFound {
		return nil // nothing recorded yet
	}
	return err
}

// searched returns the most searched queries as recorded (searchedBody).
func (r *Reader) searched(ctx context.Context, now time.Time, window time.Duration, minCount int) ([]QueryCount, error) {
	var ans struct {
		Aggregations struct {
			Top topTerms `json:"top"`
		} `json:"aggregations"`
	}
	if err := r.searchStream(ctx, searchedBody(now.Add(-window), minCount), &ans); err != nil {
		return nil, err
	}
	out := make([]QueryCount, len(ans.Aggregations.Top.Buckets))
	for i, b := range ans.Aggregations.Top.Buckets {
		out[i] = QueryCount{Query: b.Key, Count: b.DocCount}
	}
	return out, nil
}

// WarmQueries are the queries a reindex warms a new index with
// (indexer.Warm): the at most n most searched of the window before now, then
// fallback's, each once. On an error reading them it returns fallback's
// with the error.
func (r *Reader) WarmQueries(ctx context.Context, now time.Time, window time.Duration, minCount, n int, fallback []string) ([]string, error) {
	top, err := r.searched(ctx, now, window, minCount)
	out := make([]string, 0, min(len(top), n)+len(fallback))
	for _, q := range top[:min(len(top), n)] {
		out = append(out, q.Query)
	}
	for _, q := range fallback {
		if !slices.Contains(out, q) {
			out = append(out, q)
		}
	}
	return out, err
}

// RefreshOptions configure Refresh.
type RefreshOptions struct {
	Every      time.Duration // insights.popular_refresh
	Window     time.Duration // insights.popular_window
	MinClients int           // insights.popular_min_clients
	MinCount   int           // insights.popular_min_count
	Logger     *slog.Logger
}

// Refresh rebuilds p from r now and then every o.Every until ctx ends. A
// failed rebuild keeps the previous list and is logged.
func (p *Popular) Refresh(ctx context.Context, r *Reader, o RefreshOptions) {
	tick.Every(ctx, o.Every, func() {
		counts, err := r.Popular(ctx, time.Now(), o.Window, o.MinClients, o.MinCount)
		switch {
		case err == nil:
			p.Set(Counts(counts))
		case ctx.Err() == nil && o.Logger != nil:
			o.Logger.Warn("search insights: popular queries not refreshed; the previous list stays", "error", err)
		}
	})
}

// FollowBlocks loads the editors' blocks into p now, then polls the
// blocks' version every interval until ctx ends and reloads them when it
// moved: a removal or block made anywhere (another serve process, the
// CLI) applies here within interval plus one read. A failed read keeps the
// previous blocks and is logged.
func (p *Popular) FollowBlocks(ctx context.Context, s *BlockStore, interval time.Duration, logger *slog.Logger) {
	var seen uint64
	loaded := false
	tick.Every(ctx, interval, func() {
		v, err := s.Version(ctx)
		if err == nil && loaded && v == seen {
			return
		}
		var blocks []Block
		if err == nil {
			blocks, err = s.List(ctx)
		}
		if err != nil {
			if ctx.Err() == nil && logger != nil {
				logger.Warn("search insights: suggestion blocks not reloaded; the previous ones stay", "error", err)
			}
			return
		}
		p.SetBlocks(blocks)
		seen, loaded = v, true
	})
}
