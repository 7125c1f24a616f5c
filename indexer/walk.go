package indexer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/soomcare/soomcare/engine"
)

// Hit is one document of a walk.
type Hit struct {
	ID     string          `json:"_id"`
	Source json.RawMessage `json:"_source"`
}

// walk visits every document of index in pages, through a scroll: one
// consistent view of the index, whatever is written meanwhile, with no sort
// key whose ties could skip documents. withSource false fetches ids only.
func walk(ctx context.Context, es *elasticsearch.Client, index string, withSource bool, visit func([]Hit) error) error {
	body := `{"size":5000,"sort":["_doc"],"query":{"match_all":{}}}`
	if !withSource {
		body = `{"size":10000,"sort":["_doc"],"_source":false,"query":{"match_all":{}}}`
	}
	res, err := es.Search(es.Search.WithContext(ctx), es.Search.WithIndex(index), es.Search.WithBody(strings.NewReader(body)),
		es.Search.WithScroll(scrollKeepAlive))
	var scrollID string
	defer func() {
		if scrollID != "" {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), scrollKeepAlive)
			defer cancel()
			if r, err := es.ClearScroll(es.ClearScroll.WithContext(cctx), es.ClearScroll.WithScrollID(scrollID)); err == nil {
				r.Body.Close()
			}
		}
	}()
	for {
		if err != nil {
			return fmt.Errorf("walk %s: %w", index, err)
		}
		var page struct {
			ScrollID string `json:"_scroll_id"`
			TimedOut bool   `json:"timed_out"`
			Shards   struct {
				Failed int `json:"failed"`
			} `json:"_shards"`
			Hits struct {
				Hits []Hit `json:"hits"`
			} `json:"hits"`
		}
		err = engine.CheckStatus(res)
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&page)
		}
		res.Body.Close()
		if err == nil && (page.TimedOut || page.Shards.Failed > 0) {
			err = fmt.Errorf("partial results (timed out %v, %d shards failed)", page.TimedOut, page.Shards.Failed)
		}
		if err != nil {
			return fmt.Errorf("walk %s: %w", index, err)
		}
		scrollID = page.ScrollID
		if len(page.Hits.Hits) == 0 {
			return nil
		}
		if err := visit(page.Hits.Hits); err != nil {
			return err
		}
		next, _ := json.Marshal(map[string]string{"scroll": "2m", "scroll_id": scrollID})
		res, err = es.Scroll(es.Scroll.WithContext(ctx), es.Scroll.WithBody(bytes.NewReader(next)))
	}
}

const scrollKeepAlive = 2 * time.Minute // between pages
