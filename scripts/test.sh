#!/usr/bin/env bash
# The test command (README): vet, unit tests, then real engines (MariaDB with binlog ROW, OpenSearch
# with nori, Elasticsearch) and the integration tests on both engines, then teardown.
#
#   scripts/test.sh                  everything
#   SOOMCARE_KEEP_ENGINES=1 scripts/test.sh   leave the engines running afterwards (faster reruns)
#   SOOMCARE_TEST_SHORT=1 scripts/test.sh     vet + unit tests only, no engines
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - start))"; }

step "toolchain"
go version
go mod download

step "gofmt + go vet"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
if [ -n "$unformatted" ]; then
	echo "gofmt needed on:"
	echo "$unformatted"
	exit 1
fi
go vet ./...

step "unit tests (no services)"
go test -count=1 ./...

step "alert rules and Alertmanager config (promtool, amtool; no services)"
bash scripts/ops-check.sh

[ "${SOOMCARE_TEST_SHORT:-}" = 1 ] && exit 0

step "engines up"
if [ "${SOOMCARE_KEEP_ENGINES:-}" != 1 ]; then
	trap 'bash scripts/testenv.sh down' EXIT
fi
bash scripts/testenv.sh up
bash scripts/testenv.sh up mariadb-replica # ≈ 10 s: the CDC-from-a-replica test (TestIntegrationCDCCrashLoopOnReplica)
eval "$(bash scripts/testenv.sh env)"

step "integration tests (MariaDB + its replica, OpenSearch+nori, Elasticsearch)"
go test -count=1 -timeout 20m ./...

step "integration on Elasticsearch ${SOOMCARE_ELASTICSEARCH9_VERSION:-9.2.4} (engine, indexer, searchapi, cdc): the engine matrix's 9.x line"
# The same packages on the 9.x integ-test zip (Temurin 25); tests of OpenSearch skip (testenv.EnvEngines),
# and the replica's crash loop (MySQL-side, it ran above).
bash scripts/testenv.sh up elasticsearch9
eval "$(bash scripts/testenv.sh env)"
SOOMCARE_TEST_ENGINES=elasticsearch SOOMCARE_TEST_ELASTICSEARCH_URL="$SOOMCARE_TEST_ELASTICSEARCH9_URL" \
	go test -count=1 -timeout 20m -skip 'OnReplica' ./engine/ ./indexer/... ./searchapi/ ./cdc/
bash scripts/testenv.sh stop elasticsearch9

step "OpenAPI contract: redocly lint + schemathesis against a real serve (scripts/contract.sh)"
bash scripts/contract.sh

step "disruptive integration tests (stop/start engines, one at a time)"
SOOMCARE_TEST_DISRUPTIVE=1 go test -count=1 -p 1 -timeout 30m -run 'Disruptive' ./...

step "cluster phase: a 3-node OpenSearch cluster, nodes killed under CDC, reindex and search (README 'Scale')"
bash scripts/testenv.sh up opensearch-cluster
eval "$(bash scripts/testenv.sh env)"
SOOMCARE_TEST_DISRUPTIVE=1 go test -count=1 -p 1 -timeout 20m -run 'Cluster' ./indexer/ ./cdc/ ./cli/
bash scripts/testenv.sh stop opensearch-cluster

step "done"
