package cli

import (
	"database/sql"
	"strings"
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

// cliStep is one command of a scripted CLI session: setup (SQL, optional)
// runs first; the command must exit wantCode and print every want and no
// never (row text that must not leak, say), on stdout or stderr.
type cliStep struct {
	name     string
	args     []string
	setup    string
	wantCode int
	want     []string
	never    []string
}

// play runs the steps in order; a wrong exit code stops the session.
func (s cliScratch) play(t *testing.T, steps []cliStep) {
	t.Helper()
	for _, st := range steps {
		if st.setup != "" {
			if _, err := s.db.Exec(st.setup); err != nil {
				t.Fatal(err)
			}
		}
		code, out, stderr := run(t, s.environ, st.args...)
		if code != st.wantCode {
			t.Fatalf("%s: %v exit %d, want %d\n%s%s", st.name, st.args, code, st.wantCode, out, stderr)
		}
		for _, w := range st.want {
			if !strings.Contains(out+stderr, w) {
				t.Errorf("%s: %v output lacks %q:\n%s%s", st.name, st.args, w, out, stderr)
			}
		}
		for _, n := range st.never {
			if strings.Contains(out+stderr, n) {
				t.Errorf("%s: %v output has %q:\n%s%s", st.name, st.args, n, out, stderr)
			}
		}
	}
}
