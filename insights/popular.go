package insights

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/hangul"
	"github.com/soomcare/soomcare/searchapi"
)

// PopularSize bounds the popular-query list kept in memory.
const PopularSize = 1000

// Popular is the list of popular past queries suggest blends in
// (searchapi.Popular): the queries of searches that found something, with
// at least MinCount requests in the window, most searched first. It is a
// snapshot replaced whole by Refresh, so Match never waits for the engine.
type Popular struct {
	list atomic.Pointer[[]popularEntry]
}

var _ searchapi.Popular = (*Popular)(nil)

// popularEntry is a query with the forms suggest input is compared in.
type popularEntry struct {
	text    string // searchapi.QueryKey form
	chosung string // hangul.Chosung(text): for 초성 input
	qwerty  string // lower-cased hangul.ToQwerty(text): for English-keyboard input and unfinished syllables
	count   int64
}

// NewPopular returns an empty list.
func NewPopular() *Popular {
	p := &Popular{}
	p.Set(nil)
	return p
}

// Set replaces the list with counts (any order; the most searched are kept,
// at most PopularSize, each text once).
func (p *Popular) Set(counts []QueryCount) {
	list := make([]popularEntry, 0, min(len(counts), PopularSize))
	seen := map[string]bool{}
	for _, c := range counts {
		key := searchapi.QueryKey(c.Query)
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		list = append(list, popularEntry{text: key, chosung: hangul.Chosung(key), qwerty: strings.ToLower(hangul.ToQwerty(key)), count: c.Count})
	}
	slices.SortStableFunc(list, func(a, b popularEntry) int {
		if a.count != b.count {
			return int(b.count - a.count)
		}
		return strings.Compare(a.text, b.text)
	})
	list = list[:min(len(list), PopularSize)]
	p.list.Store(&list)
}

// Match returns up to n popular queries that complete q (QueryKey form):
// 초성 input against their 초성, English-keyboard input against their keys
// or the Hangul it converts to, Hangul input as written or by keys (천시 on
// the way to 천식). Most searched first.
func (p *Popular) Match(q string, n int) []string {
	if q == "" || n <= 0 {
		return nil
	}
	match := matcher(q)
	var out []string
	for _, e := range *p.list.Load() {
		if match(e) {
			out = append(out, e.text)
			if len(out) == n {
				break
			}
		}
	}
	return out
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

// popularBody asks for the most requested queries of searches that found
// something since since, each with at least minCount requests.
func popularBody(since time.Time, minCount int) M {
	return M{
		"size": 0, "track_total_hits": false,
		"query": M{"bool": M{
			"filter": []M{
				{"range": M{"@timestamp": M{"gte": since.UnixMilli(), "format": "epoch_millis"}}},
				{"range": M{"hits": M{"gt": 0}}},
			},
			"must_not": []M{{"term": M{"endpoint": searchapi.EndpointSuggest}}},
		}},
		"aggs": M{"top": M{"terms": M{"field": "query", "size": PopularSize, "min_doc_count": minCount}}},
	}
}

// Popular returns the popular queries of the window before now.
func (r *Reader) Popular(ctx context.Context, now time.Time, window time.Duration, minCount int) ([]QueryCount, error) {
	var ans struct {
		Aggregations struct {
			Top struct {
				Buckets []struct {
					Key      string `json:"key"`
					DocCount int64  `json:"doc_count"`
				} `json:"buckets"`
			} `json:"top"`
		} `json:"aggregations"`
	}
	err := r.search(ctx, popularBody(now.Add(-window), minCount), &ans)
	if se := (*engine.StatusError)(nil); errors.As(err, &se) && se.Status == http.StatusNotFound {
		return nil, nil // nothing recorded yet
	}
	if err != nil {
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
	top, err := r.Popular(ctx, now, window, minCount)
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
	Every    time.Duration // insights.popular_refresh
	Window   time.Duration // insights.popular_window
	MinCount int           // insights.popular_min_count
	Logger   *slog.Logger
}

// Refresh rebuilds p from r now and then every o.Every until ctx ends. A
// failed rebuild keeps the previous list and is logged.
func (p *Popular) Refresh(ctx context.Context, r *Reader, o RefreshOptions) {
	t := time.NewTicker(o.Every)
	defer t.Stop()
	for {
		counts, err := r.Popular(ctx, time.Now(), o.Window, o.MinCount)
		switch {
		case err == nil:
			p.Set(counts)
		case ctx.Err() == nil && o.Logger != nil:
			o.Logger.Warn("search insights: popular queries not refreshed; the previous list stays", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
