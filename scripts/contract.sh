#!/usr/bin/env bash
# The OpenAPI contract phase of scripts/test.sh (docs/openapi.md "The OpenAPI contract checks"):
#   1. Redocly's linter (@redocly/cli, recommended rules) over the served /openapi.json;
#   2. Schemathesis (--checks all) against a real `soomcare serve`: a scratch MariaDB database, migrated,
#      seeded with a small demo corpus, indexed into OpenSearch under a prefix of its own, with an
#      admin's bearer token;
#   3. the security probe (scripts/probe) against the same server: issue #26's findings, each held.
# Exits non-zero on any lint problem, any Schemathesis failure or any probe check not held. Needs the
# test engines up (MariaDB and OpenSearch: scripts/testenv.sh up) and SOOMCARE_TEST_MYSQL_DSN /
# SOOMCARE_TEST_OPENSEARCH_URL as `scripts/testenv.sh env` exports them. Tools are installed on first
# use and cached:
#   $SOOMCARE_CACHE_DIR/contract/venv       schemathesis (pip)
#   $SOOMCARE_CACHE_DIR/contract/redocly    @redocly/cli (npm)
#
#   scripts/contract.sh                                   lint + schemathesis
#   SOOMCARE_TEST_CONTRACT_EXAMPLES=50 scripts/contract.sh  more generated cases per operation (default 8, ≈ 2–3 min)
#   SOOMCARE_TEST_CONTRACT_KEEP=1 scripts/contract.sh      keep the server, database and report afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

SCHEMATHESIS_VERSION="${SOOMCARE_TEST_SCHEMATHESIS_VERSION:-4.32.5}"
REDOCLY_VERSION="${SOOMCARE_TEST_REDOCLY_VERSION:-2.77.0}"
EXAMPLES="${SOOMCARE_TEST_CONTRACT_EXAMPLES:-8}"
SEED="${SOOMCARE_TEST_CONTRACT_SEED:-15}"
if [ "$(id -u)" = 0 ]; then DEFAULT_CACHE=/var/cache/soomcare; else DEFAULT_CACHE="$HOME/.cache/soomcare"; fi
TOOLS="${SOOMCARE_CACHE_DIR:-$DEFAULT_CACHE}/contract"

log() { printf '[contract] %s\n' "$*" >&2; }
die() {
	printf '[contract] ERROR: %s\n' "$*" >&2
	exit 1
}

: "${SOOMCARE_TEST_MYSQL_DSN:?run eval \"\$(scripts/testenv.sh env)\" first}"
: "${SOOMCARE_TEST_OPENSEARCH_URL:?run eval \"\$(scripts/testenv.sh env)\" first}"

# ---------------------------------------------------------------- tools (cached)
install_tools() {
	mkdir -p "$TOOLS"
	local st="$TOOLS/venv/bin/schemathesis"
	if ! [ -x "$st" ] || ! "$st" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
		log "installing schemathesis $SCHEMATHESIS_VERSION (pip, into $TOOLS/venv)"
		python3 -m venv "$TOOLS/venv"
		"$TOOLS/venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >"$TOOLS/pip.log" 2>&1 ||
			{
				tail -20 "$TOOLS/pip.log" >&2
				die "pip install schemathesis failed"
			}
	fi
	local rd="$TOOLS/redocly/node_modules/.bin/redocly"
	if ! [ -x "$rd" ] || [ "$("$rd" --version 2>/dev/null)" != "$REDOCLY_VERSION" ]; then
		log "installing @redocly/cli $REDOCLY_VERSION (npm, into $TOOLS/redocly)"
		mkdir -p "$TOOLS/redocly"
		(cd "$TOOLS/redocly" && npm install --no-audit --no-fund --silent "@redocly/cli@$REDOCLY_VERSION") >"$TOOLS/npm.log" 2>&1 ||
			{
				tail -20 "$TOOLS/npm.log" >&2
				die "npm install @redocly/cli failed"
			}
	fi
}

# ---------------------------------------------------------------- the server under test
WORK="$(mktemp -d /tmp/soomcare-contract.XXXXXX)"
DB="soomcare_contract_$$"
PREFIX="contract-$$"
FCM_PID=""
# shellcheck source=scripts/scratch-serve.sh
. "$ROOT/scripts/scratch-serve.sh" # sql, free_port, scratch_env/run/serve/stop/drop

cleanup() {
	local rc=$?
	scratch_stop
	[ -n "$FCM_PID" ] && kill -TERM "$FCM_PID" 2>/dev/null && { wait "$FCM_PID" 2>/dev/null || true; }
	if [ "${SOOMCARE_TEST_CONTRACT_KEEP:-}" = 1 ]; then
		log "kept: $WORK, database $DB, indices $PREFIX-*"
	else
		scratch_drop
		if [ $rc -eq 0 ]; then rm -rf "$WORK"; else log "logs and report kept in $WORK"; fi
	fi
	exit $rc
}
trap cleanup EXIT

# A stand-in for FCM (push.endpoint), so that POST /v1/admin/notices is exercised instead of answering
# 503 "push not configured": it accepts every message.
start_fcm() {
	FCM_PORT="$(free_port)"
	python3 - "$FCM_PORT" >"$WORK/fcm.log" 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"name":"projects/contract/messages/1"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
	FCM_PID=$!
}


start_server() {
	scratch_env
	start_fcm
	export SOOMCARE_PUSH_ENDPOINT="http://127.0.0.1:$FCM_PORT" SOOMCARE_PUSH_PROJECT_ID=contract SOOMCARE_PUSH_STATIC_TOKEN=contract
	# Generated traffic from one address: throttles and the search rate limit would only answer 429
	# (documented, and checked by their own tests) instead of exercising the endpoints.
	export SOOMCARE_SEARCHAPI_RATE_LIMIT=0
	export SOOMCARE_AUTH_SIGNUP_THROTTLE_PER_IP=0
	export SOOMCARE_AUTH_LOGIN_THROTTLE_ACCOUNT_FAILURES=0
	export SOOMCARE_AUTH_LOGIN_THROTTLE_IP_FAILURES=0
	export SOOMCARE_COMMUNITY_REPORT_DAILY_LIMIT=1000
	# The security probe (scripts/probe, finding 2) waits out one rebuild of the popular-query list.
	export SOOMCARE_INSIGHTS_POPULAR_REFRESH=2s
	scratch_run migrate migrate up
	scratch_run seed seed --users 40 --contents 30 --posts 120 --no-progress
	scratch_run reindex reindex all --keep 1 --no-progress
	scratch_serve
}

# An admin's access token: sign up, promote in MySQL, sign in again (a token carries the role it was
# issued with, and the server checks it against the user's current role).
admin_token() {
	local body='{"email":"contract-admin@example.com","password":"contract-password-1","nickname":"계약검사관"}'
	curl -fsS -m 10 -H 'Content-Type: application/json' -d "$body" "http://$ADDR/v1/auth/signup" >/dev/null
	sql "$DB" -e "UPDATE users SET role = 'admin' WHERE email = 'contract-admin@example.com'"
	admin_login
}

# A fresh access token of the admin (the one Schemathesis used may have expired).
admin_login() {
	curl -fsS -m 10 -H 'Content-Type: application/json' \
		-d '{"email":"contract-admin@example.com","password":"contract-password-1"}' "http://$ADDR/v1/auth/login" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# ---------------------------------------------------------------- checks
install_tools
start_server
log "serving on http://$ADDR (database $DB, indices $PREFIX-*)"
# pretty-printed, so that the linter's line numbers point somewhere readable
curl -fsS -m 10 "http://$ADDR/openapi.json" | python3 -m json.tool --indent 1 >"$WORK/openapi.json"

log "redocly lint (recommended rules) of /openapi.json"
# Exceptions (docs/openapi.md): the health probes answer no 4xx at all; the API publishes no licence.
cat >"$WORK/.redocly.lint-ignore.yaml" <<'EOF'
openapi.json:
  operation-4xx-response:
    - '#/paths/~1healthz/get/responses'
    - '#/paths/~1readyz/get/responses'
  info-license:
    - '#/info'
EOF
lint=0
(cd "$WORK" && "$TOOLS/redocly/node_modules/.bin/redocly" lint --format=stylish --max-problems=1000 \
	--extends=recommended openapi.json) || lint=$?

TOKEN="$(admin_token)"
[ -n "$TOKEN" ] || die "could not sign in the contract admin"
log "schemathesis $SCHEMATHESIS_VERSION --checks all, up to $EXAMPLES cases per operation (seed $SEED)"
status=0
# From $WORK: schemathesis keeps a cache directory (.schemathesis) in the current one.
# One worker: with two, Hypothesis describing a filter in two threads at once crashed in CPython's ast
# ("AST constructor recursion depth mismatch", a Python 3.11 thread-safety bug) and failed the phase.
(cd "$WORK" && SCHEMATHESIS_HOOKS=contract_hooks PYTHONPATH="$ROOT/scripts" "$TOOLS/venv/bin/schemathesis" --no-color --config-file "$ROOT/scripts/schemathesis.toml" run "http://$ADDR/openapi.json" \
	--url "http://$ADDR" \
	--header "Authorization: Bearer $TOKEN" \
	--checks all \
	--max-examples "$EXAMPLES" \
	--seed "$SEED" \
	--workers 1 \
	--request-timeout 15 \
	--suppress-health-check all \
	--report junit,ndjson --report-dir "$WORK/report" \
	${SOOMCARE_TEST_CONTRACT_ARGS:-}) || status=$?

# The findings of issue #26 replayed against the same server (scripts/probe: one line per check, held or
# FAILED); -serve-binary also starts `serve` with the once-committed JWT secret, which must refuse it.
log "security probe (scripts/probe) against the same server"
probe=0
go build -o "$WORK/probe" ./scripts/probe
"$WORK/probe" -url "http://$ADDR" -token "$(admin_login)" -popular-wait 6s -serve-binary "$WORK/soomcare" || probe=$?
[ $lint -eq 0 ] || die "redocly lint found problems (above)"
[ $status -eq 0 ] || die "schemathesis found failures (exit $status); report in $WORK/report"
[ $probe -eq 0 ] || die "the security probe found findings of issue #26 not held (FAILED lines above)"
log "contract checks passed"
