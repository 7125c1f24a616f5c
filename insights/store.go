package insights

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/logstore"
)

// indexTemplate is the insights data stream's template (the mappings of
// doc); logstore installs it with the same lifecycle policy and data stream
// steps as the log stream.
//
//go:embed data/index_template.json
var indexTemplate []byte

// NewStore returns the logstore.Store of the insights data stream of c:
// Setup installs policy (ILM or ISM where the engine has one), template and
// data stream, idempotently; Rollover and Prune do the policy's work on
// engines without one.
func NewStore(es *engine.Client, c config.Insights) *logstore.Store {
	o := logstore.OptionsFrom(c.Lifecycle)
	o.Template = indexTemplate
	return logstore.New(es, o)
}

// Setup runs the store's Setup; serve calls it at start. A stream made
// before a field was added to the template gets the field on its backing
// indices too (addedFields), or its strict mapping would refuse every
// record until the next rollover.
func Setup(ctx context.Context, es *engine.Client, c config.Insights) (logstore.Report, error) {
	rep, err := NewStore(es, c).Setup(ctx)
	if err != nil {
		return rep, err
	}
	return rep, addFields(ctx, es, c.DataStream)
}

// addedFields are the template's fields added after streams were first
// created (suggest_form and client, for counting popular queries by
// distinct clients).
const addedFields = `{"properties":{"suggest_form":{"type":"keyword","ignore_above":512},"client":{"type":"keyword"}}}`

// addFields puts addedFields on every backing index of stream (adding a
// field is always allowed); a stream not created yet has nothing to update.
func addFields(ctx context.Context, es *engine.Client, stream string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "/"+url.PathEscape(stream)+"/_mapping", strings.NewReader(addedFields))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := es.ES.Perform(req)
	if err != nil {
		return fmt.Errorf("insights: mapping of %s: %w: %w", stream, engine.ErrUnavailable, err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return nil
	}
	if res.StatusCode >= 300 {
		return fmt.Errorf("insights: mapping of %s: HTTP %d", stream, res.StatusCode)
	}
	return nil
}
