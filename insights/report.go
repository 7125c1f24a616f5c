package insights

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/searchapi"
)

// Zone is where days begin for the report: the app's users live in Korea.
var Zone = time.FixedZone("KST", 9*60*60)

// QueryCount is a query and how many requests had it.
type QueryCount struct {
	Query string `json:"query"`
	Count int64  `json:"count"`
}

// Day is one day's activity (in Zone).
type Day struct {
	Date        string `json:"date"` // YYYY-MM-DD
	Searches    int64  `json:"searches"`
	ZeroResults int64  `json:"zero_result_searches"`
	Suggests    int64  `json:"suggests"`
}

// Report is what editors see for a range [From, To). Both ends are in
// Korean time (+09:00, Zone), the zone its dates and days are in, whatever
// zone they were given in.
//
// Searches are the search endpoints' first pages (combined and per type);
// suggest requests are counted apart (they are keystrokes, not queries).
// ClicksMeasured is false: no view is tied to the search that led to it, so
// "queries rarely followed by a view" are not measured.
type Report struct {
	From           time.Time    `json:"from"`
	To             time.Time    `json:"to"`
	Searches       int64        `json:"searches"`
	ZeroResults    int64        `json:"zero_result_searches"`
	Suggests       int64        `json:"suggests"`
	TopQueries     []QueryCount `json:"top_queries"`
	ZeroResultTop  []QueryCount `json:"zero_result_queries"`
	Days           []Day        `json:"days"`
	ClicksMeasured bool         `json:"clicks_measured"`
}

// Reader runs reports over the data stream.
type Reader struct {
	es     *elasticsearch.Client
	stream string
}

// NewReader reads the data stream of es.
func NewReader(es *elasticsearch.Client, dataStream string) *Reader {
	return &Reader{es: es, stream: dataStream}
}

// M is a JSON object under construction.
type M = map[string]any

// notSuggest selects the search endpoints' records.
func notSuggest() M {
	return M{"bool": M{"must_not": []M{{"term": M{"endpoint": searchapi.EndpointSuggest}}}}}
}

func zeroSearches() M {
	return M{"bool": M{"filter": []M{{"term": M{"hits": 0}}}, "must_not": []M{{"term": M{"endpoint": searchapi.EndpointSuggest}}}}}
}

// reportBody is the one aggregation request of Report: top queries and
// zero-result queries (terms, most requests first, then the query), and a
// date_histogram per day in Zone.
func reportBody(from, to time.Time, top int) M {
	return M{
		"size": 0, "track_total_hits": false,
		"query": M{"range": M{"@timestamp": M{"gte": from.UnixMilli(), "lt": to.UnixMilli(), "format": "epoch_millis"}}},
		"aggs": M{
			"searches": M{"filter": notSuggest(), "aggs": M{"top": M{"terms": M{"field": "query", "size": top}}}},
			"zero":     M{"filter": zeroSearches(), "aggs": M{"top": M{"terms": M{"field": "query", "size": top}}}},
			"suggests": M{"filter": M{"term": M{"endpoint": searchapi.EndpointSuggest}}},
			"days": M{"date_histogram": M{"field": "@timestamp", "calendar_interval": "day", "time_zone": "+09:00", "format": "yyyy-MM-dd"},
				"aggs": M{"searches": M{"filter": notSuggest()}, "zero": M{"filter": zeroSearches()},
					"suggests": M{"filter": M{"term": M{"endpoint": searchapi.EndpointSuggest}}}}},
		},
	}
}

type bucketCount struct {
	DocCount int64 `json:"doc_count"`
}

// topTerms is a terms aggregation's buckets: each key and how many records.
type topTerms struct {
	Buckets []struct {
		Key      string `json:"key"`
		DocCount int64  `json:"doc_count"`
	} `json:"buckets"`
}

type termsAgg struct {
	DocCount int64    `json:"doc_count"`
	Top      topTerms `json:"top"`
}

type reportAnswer struct {
	Aggregations struct {
		Searches termsAgg    `json:"searches"`
		Zero     termsAgg    `json:"zero"`
		Suggests bucketCount `json:"suggests"`
		Days     struct {
			Buckets []struct {
				Key      string      `json:"key_as_string"`
				Searches bucketCount `json:"searches"`
				Zero     bucketCount `json:"zero"`
				Suggests bucketCount `json:"suggests"`
			} `json:"buckets"`
		} `json:"days"`
	} `json:"aggregations"`
}

// Report aggregates [from, to) with the top most frequent queries of each
// list. A data stream that does not exist yet (nothing recorded) is an
// empty report.
func (r *Reader) Report(ctx context.Context, from, to time.Time, top int) (Report, error) {
	rep := Report{From: from.In(Zone), To: to.In(Zone), TopQueries: []QueryCount{}, ZeroResultTop: []QueryCount{}}
	var ans reportAnswer
	err := r.search(ctx, reportBody(from, to, top), &ans)
	var se *engine.StatusError
	switch {
	case errors.As(err, &se) && se.Status == http.StatusNotFound:
	case err != nil:
		return rep, err
	}
	a := ans.Aggregations
	rep.Searches, rep.ZeroResults, rep.Suggests = a.Searches.DocCount, a.Zero.DocCount, a.Suggests.DocCount
	for _, b := range a.Searches.Top.Buckets {
		rep.TopQueries = append(rep.TopQueries, QueryCount{Query: b.Key, Count: b.DocCount})
	}
	for _, b := range a.Zero.Top.Buckets {
		rep.ZeroResultTop = append(rep.ZeroResultTop, QueryCount{Query: b.Key, Count: b.DocCount})
	}
	byDate := map[string]Day{}
	for _, b := range a.Days.Buckets {
		byDate[b.Key] = Day{Date: b.Key, Searches: b.Searches.DocCount, ZeroResults: b.Zero.DocCount, Suggests: b.Suggests.DocCount}
	}
	rep.Days = days(from, to, byDate)
	return rep, nil
}

// days lists every day of [from, to) in Zone, with the activity found.
func days(from, to time.Time, found map[string]Day) []Day {
	out := []Day{}
	f := from.In(Zone)
	for d := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, Zone); d.Before(to); d = d.AddDate(0, 0, 1) {
		key := d.Format(time.DateOnly)
		day, ok := found[key]
		if !ok {
			day = Day{Date: key}
		}
		out = append(out, day)
	}
	return out
}

// search runs body on the data stream and decodes the answer into out.
func (r *Reader) search(ctx context.Context, body M, out any) error {
	buf, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("insights: encode: %w", err)
	}
	res, err := r.es.Search(r.es.Search.WithContext(ctx), r.es.Search.WithIndex(r.stream), r.es.Search.WithBody(bytes.NewReader(buf)))
	if err != nil {
		return fmt.Errorf("insights: %w: %w", engine.ErrUnavailable, err)
	}
	defer res.Body.Close()
	if err := engine.CheckStatus(res); err != nil {
		return fmt.Errorf("insights: search %s: %w", r.stream, err)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("insights: decode: %w", err)
	}
	return nil
}
