package testenv

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The engine matrix. The default run tests every engine of the environment;
// a matrix run re-runs the engine-facing packages against another version of
// one engine, e.g. Elasticsearch 9 (scripts/test.sh):
//
//	SOOMCARE_TEST_ENGINES=elasticsearch \
//	SOOMCARE_TEST_ELASTICSEARCH_URL=$SOOMCARE_TEST_ELASTICSEARCH9_URL go test ./engine/ ./indexer/... ./searchapi/ ./cdc/
//
// Tests of an engine left out skip (OpenSearchURL, ElasticsearchURL), and
// testengine.All lists only the engines selected, so a test that runs on the
// first engine runs on the selected one.
const (
	// EnvEngines, when set, is a comma list of the engine kinds under test
	// ("opensearch", "elasticsearch"); empty means all.
	EnvEngines = "SOOMCARE_TEST_ENGINES"
	// EnvES9URL is the Elasticsearch 9.x node (`scripts/testenv.sh up elasticsearch9`).
	EnvES9URL = "SOOMCARE_TEST_ELASTICSEARCH9_URL"
)

// Selected reports whether engine kind is under test in this run.
func Selected(kind string) bool {
	v := strings.TrimSpace(os.Getenv(EnvEngines))
	if v == "" {
		return true
	}
	return slices.ContainsFunc(strings.Split(v, ","), func(s string) bool { return strings.TrimSpace(s) == kind })
}

// requireEngine skips t when engine kind is left out of this run, then
// returns the value of the named variable as Require does.
func requireEngine(t testing.TB, kind, name string) string {
	t.Helper()
	if Enabled() && !Selected(kind) {
		t.Skipf("engine matrix run: %s=%s leaves %s out", EnvEngines, os.Getenv(EnvEngines), kind)
	}
	return Require(t, name)
}
