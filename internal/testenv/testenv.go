// Package testenv tells integration tests where the real engines started by
// scripts/testenv.sh are listening.
//
// Integration tests call the helpers below. Without SOOMCARE_INTEGRATION=1 they
// skip, so plain `go test ./...` stays fast and needs no services. With it (the
// README's test command sets it) a missing address is a test failure, never a
// silent skip.
package testenv

import (
	"os"
	"testing"
)

// Environment variables written by `scripts/testenv.sh env`.
const (
	EnvIntegration   = "SOOMCARE_INTEGRATION"
	EnvMySQLDSN      = "SOOMCARE_TEST_MYSQL_DSN"      // user:pass@tcp(host:port)/ with SUPER/REPLICATION rights
	EnvOpenSearchURL = "SOOMCARE_TEST_OPENSEARCH_URL" // OpenSearch with analysis-nori
	EnvESURL         = "SOOMCARE_TEST_ELASTICSEARCH_URL"
	EnvCtl           = "SOOMCARE_TEST_CTL" // path of scripts/testenv.sh, for tests that stop/start an engine
)

// Enabled reports whether integration tests were asked for.
func Enabled() bool { return os.Getenv(EnvIntegration) == "1" }

// Require skips t unless integration tests are enabled, then returns the value
// of the named variable, failing t when it is empty.
func Require(t testing.TB, name string) string {
	t.Helper()
	skipUnlessEnabled(t)
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s=1 but %s is empty: start the engines with scripts/testenv.sh up and source `scripts/testenv.sh env`", EnvIntegration, name)
	}
	return v
}

// optional is Require for a service outside the default environment: an
// empty variable skips t, naming the service and the testenv.sh service
// that starts it.
func optional(t testing.TB, name, what, service string) string {
	t.Helper()
	skipUnlessEnabled(t)
	v := os.Getenv(name)
	if v == "" {
		t.Skipf("needs the %s: scripts/testenv.sh up %s, then set %s", what, service, name)
	}
	return v
}

func skipUnlessEnabled(t testing.TB) {
	t.Helper()
	if !Enabled() {
		t.Skipf("integration test: set %s=1 (the README's test command does)", EnvIntegration)
	}
}

// MySQLDSN returns the DSN of the private MariaDB instance (binlog ROW).
func MySQLDSN(t testing.TB) string { return Require(t, EnvMySQLDSN) }

// OpenSearchURL returns the address of the OpenSearch node with nori.
func OpenSearchURL(t testing.TB) string { return requireEngine(t, "opensearch", EnvOpenSearchURL) }

// ElasticsearchURL returns the address of the Elasticsearch node.
func ElasticsearchURL(t testing.TB) string {
	return requireEngine(t, "elasticsearch", EnvESURL)
}

// Ctl returns the path of the test environment script.
func Ctl(t testing.TB) string { return Require(t, EnvCtl) }
