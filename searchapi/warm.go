package searchapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"sync"

	"github.com/soomcare/soomcare/mappings"
	"github.com/soomcare/soomcare/web"
)

// CommonQueries are what app users type most: the warm-up's queries when
// no recorded popular queries are at hand, and the search bench's load.
var CommonQueries = []string{
	"천식", "천식이", "소아천식", "흡입기", "흡입기 사용법", "벤토린", "살부타몰", "미세먼지", "기침",
	"밤에 기침", "숨가쁨", "호흡곤란", "최대호기유량", "FEV1", "ICS", "스페이서", "운동유발천식",
	"알레르기비염", "응급실", "꽃가루", "집먼지진드기", "흡입스테로이드", "천식 악화", "네뷸라이저",
}

// WarmBodies are the search bodies the API sends to the index kind for
// queries: a search per query and sort mode (queries the API would refuse
// are left out), a suggestion per query, and
// for posts the first feed page of each sort. A reindex sends them to the
// new index before its alias moves (indexer.Warm), so that it is neither
// cold nor unable to answer what the API asks.
func WarmBodies(kind string, queries []string) ([][]byte, error) {
	var bodies []M
	for _, q := range queries {
		for _, sort := range sortsOf[kind] {
			p, err := ParseSearch(kind, url.Values{"q": {q}, "sort": {sort}})
			if err != nil {
				break // a query the API would refuse (too long, say) is left out
			}
			bodies = append(bodies, SearchBody(p))
		}
		if p, err := ParseSuggest(url.Values{"q": {q}, "types": {kind}}); err == nil {
			bodies = append(bodies, SuggestBody(kind, p.Query, p.Size))
		}
	}
	if kind == mappings.Posts {
		for _, sort := range sortsOf["feed"] {
			p, err := ParseFeed(url.Values{"sort": {sort}})
			if err != nil {
				return nil, err
			}
			bodies = append(bodies, FeedBody(p))
		}
	}
	out := make([][]byte, len(bodies))
	for i, b := range bodies {
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		out[i] = raw
	}
	return out, nil
}

// MaxPopularWarm bounds how many recorded popular queries warm an index.
const MaxPopularWarm = 20

// PopularQueries reads up to n of the most searched queries, most searched
// first, followed by those of fallback not among them; with an error it
// still returns fallback (insights.WarmSource).
type PopularQueries func(ctx context.Context, n int, fallback []string) ([]string, error)

// Warmup chooses the searches that warm a new index of each kind before its
// alias moves (indexer.WarmEach): the API's searches (WarmBodies) of the
// most searched queries (up to MaxPopularWarm; none when popular is nil),
// then CommonQueries. The queries are read once, on the first call (a CDC
// worker that rebuilds nothing never reads them); a failure to read them is
// a warning on log, and the built-in list warms alone.
func Warmup(ctx context.Context, popular PopularQueries, log *slog.Logger) func(kind string) [][]byte {
	queries := sync.OnceValue(func() []string { return warmQueries(ctx, popular, log) })
	return func(kind string) [][]byte {
		bodies, err := WarmBodies(kind, queries())
		if err != nil {
			log.Warn("warm-up: no searches for the index; it is not warmed", "index", kind, "error", err)
		}
		return bodies
	}
}

// warmQueries are the warm-up's queries: the most searched ones, then
// CommonQueries.
func warmQueries(ctx context.Context, popular PopularQueries, log *slog.Logger) []string {
	if popular == nil {
		return CommonQueries
	}
	queries, err := popular(ctx, MaxPopularWarm, CommonQueries)
	if err != nil {
		log.Warn("warm-up: the popular queries could not be read; warming with the built-in list", "error", web.Withheld(err))
	}
	return queries
}
