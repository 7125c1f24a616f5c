package cli

import (
	"database/sql"
	"testing"
	"time"

	"github.com/soomcare/soomcare/config"
	"github.com/soomcare/soomcare/engine"
	"github.com/soomcare/soomcare/internal/testdb"
	"github.com/soomcare/soomcare/internal/testenv"
)

// cliScratch is a scratch database and an index prefix (p + random, deleted
// when the test ends) on the test OpenSearch, and the environment that points
// the CLI at them.
type cliScratch struct {
	db      *sql.DB
	es      *engine.Client
	prefix  string
	environ []string
}

func newCLIScratch(t *testing.T, p string) cliScratch {
	t.Helper()
	osURL := testenv.OpenSearchURL(t)
	db, dsn := testdb.New(t)
	es, err := engine.New(config.Search{Engine: config.EngineOpenSearch, Addresses: []string{osURL}, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	prefix := randomPrefix(t, p)
	deleteIndices(t, es, prefix)
	return cliScratch{db: db, es: es, prefix: prefix, environ: []string{
		"SOOMCARE_MYSQL_DSN=" + dsn,
		"SOOMCARE_SEARCH_ENGINE=opensearch",
		"SOOMCARE_SEARCH_ADDRESSES=" + osURL,
		"SOOMCARE_SEARCH_INDEX_PREFIX=" + prefix,
	}}
}
