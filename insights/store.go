package insights

import (
	"context"
	_ "embed"

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
	return logstore.New(es, logstore.Options{DataStream: c.DataStream, Retention: c.Retention,
		RolloverSize: c.RolloverSize, RolloverAge: c.RolloverAge, Template: indexTemplate})
}

// Setup runs the store's Setup; serve calls it at start.
func Setup(ctx context.Context, es *engine.Client, c config.Insights) (logstore.Report, error) {
	return NewStore(es, c).Setup(ctx)
}
