#!/usr/bin/env bash
# The local stack (README): MariaDB + OpenSearch with nori on this machine (no Docker needed), the schema
# migrated, the demo corpus loaded through MySQL, the CDC worker streaming it into the indices, and the API
# on http://127.0.0.1:8080 until Ctrl-C.
#
#   scripts/run-local.sh                                      start (or reuse) everything
#   SOOMCARE_HTTP_ADDR=127.0.0.1:9000 scripts/run-local.sh     another port
#   scripts/testenv.sh down                                   afterwards: stop the engines, delete their data
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/testenv.sh up mariadb opensearch
mkdir -p bin
go build -o bin/soomcare ./cmd/soomcare

export SOOMCARE_MYSQL_DSN="soomcare:soomcare@tcp(127.0.0.1:${SOOMCARE_TEST_MYSQL_PORT:-13306})/soomcare"
export SOOMCARE_SEARCH_ENGINE=opensearch
export SOOMCARE_SEARCH_ADDRESSES="http://127.0.0.1:${SOOMCARE_TEST_OPENSEARCH_PORT:-19200}"
export SOOMCARE_HTTP_ADDR="${SOOMCARE_HTTP_ADDR:-127.0.0.1:8080}"
: "${SOOMCARE_AUTH_JWT_SECRET:=local-development-secret-change-me-0123456789}"
export SOOMCARE_AUTH_JWT_SECRET

./bin/soomcare migrate up
./bin/soomcare seed --if-empty # demo data goes in through MySQL, like everything else

# The CDC worker snapshots MySQL into the indices on its first run, then streams every change.
mkdir -p /tmp/soomcare-local
./bin/soomcare cdc >/tmp/soomcare-local/cdc.log 2>&1 &
cdc_pid=$!
trap 'kill -TERM $cdc_pid 2>/dev/null; wait $cdc_pid 2>/dev/null' EXIT
echo "cdc worker started (log: /tmp/soomcare-local/cdc.log, metrics: http://127.0.0.1:9102/metrics)" >&2
for _ in $(seq 1 120); do
	grep -q 'msg=streaming' /tmp/soomcare-local/cdc.log 2>/dev/null && break # snapshot or rebuild done
	kill -0 $cdc_pid 2>/dev/null || { tail -20 /tmp/soomcare-local/cdc.log >&2; exit 1; }
	sleep 1
done
echo "serving the API on http://$SOOMCARE_HTTP_ADDR — try /readyz, /openapi.json, /v1/search?q=천식" >&2
./bin/soomcare serve
