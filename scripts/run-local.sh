#!/usr/bin/env bash
# The local stack (README "Two commands", docs/first-hour.md): MariaDB + OpenSearch with nori on this machine
# (no Docker needed), the schema migrated, the demo corpus loaded through MySQL, the CDC worker streaming it
# into the indices, a demo editor and a demo user, and the API on http://127.0.0.1:8080 until Ctrl-C.
#
#   scripts/run-local.sh                                      start (or reuse) everything
#   SOOMCARE_HTTP_ADDR=127.0.0.1:9000 scripts/run-local.sh     another API port
#   scripts/run-local.sh config                               only write .local/soomcare.yaml (and the secret)
#   scripts/run-local.sh down                                 stop this stack's engines and delete their data
#
# The stack's settings go to .local/soomcare.yaml (git-ignored, readable by you only); every bin/soomcare
# command uses them after `export SOOMCARE_CONFIG=$PWD/.local/soomcare.yaml`, which the script prints.
# The engines are this stack's own (run dir /tmp/soomcare-local/engines, MariaDB on 127.0.0.1:23306, OpenSearch
# on 127.0.0.1:29200; SOOMCARE_LOCAL_MYSQL_PORT / SOOMCARE_LOCAL_OPENSEARCH_PORT change them), never the test
# engines of scripts/testenv.sh (13306, 19200, 19201), so tests and the local stack run side by side.
set -euo pipefail
cd "$(dirname "$0")/.."

local_dir="${SOOMCARE_LOCAL_DIR:-$PWD/.local}" # where the config, the JWT secret and the demo accounts are kept
case "$local_dir" in /*) ;; *) local_dir="$PWD/$local_dir" ;; esac
run_dir=/tmp/soomcare-local
mysql_port="${SOOMCARE_LOCAL_MYSQL_PORT:-23306}"
os_port="${SOOMCARE_LOCAL_OPENSEARCH_PORT:-29200}"
http_addr="${SOOMCARE_HTTP_ADDR:-127.0.0.1:8080}"

testenv() { # scripts/testenv.sh on this stack's run dir and ports
	SOOMCARE_TESTENV_DIR="$run_dir/engines" SOOMCARE_TEST_MYSQL_PORT="$mysql_port" \
		SOOMCARE_TEST_OPENSEARCH_PORT="$os_port" bash scripts/testenv.sh "$@"
}

# write_config writes $local_dir/soomcare.yaml: the keys this stack differs from the defaults in.
# No fixed JWT secret (issue #26): a random one is made on the first run and kept in $local_dir/jwt-secret, so
# tokens survive restarts of this stack and nobody else knows the key (SOOMCARE_AUTH_JWT_SECRET, if set, wins).
write_config() {
	mkdir -p "$local_dir"
	chmod 700 "$local_dir"
	if [ ! -s "$local_dir/jwt-secret" ]; then
		(umask 077 && openssl rand -base64 48 >"$local_dir/jwt-secret")
	fi
	(
		umask 077
		cat >"$local_dir/soomcare.yaml" <<EOF
# Written by scripts/run-local.sh: the local stack's settings. In another terminal:
#   export SOOMCARE_CONFIG=$local_dir/soomcare.yaml
# Environment variables (SOOMCARE_*) still override these keys.
http:
  addr: '$http_addr'
mysql:
  dsn: 'soomcare:soomcare@tcp(127.0.0.1:$mysql_port)/soomcare'
search:
  engine: opensearch
  addresses: ['http://127.0.0.1:$os_port']
  index_prefix: soomcare
cdc:
  metrics_addr: '127.0.0.1:9102'
auth:
  jwt_secret: '${SOOMCARE_AUTH_JWT_SECRET:-$(cat "$local_dir/jwt-secret")}'
EOF
	)
}

config_line() { echo "export SOOMCARE_CONFIG=$local_dir/soomcare.yaml"; }

# demo_account NAME EMAIL NICKNAME: signs EMAIL up through the API with a password made at random on the first
# run and kept in $local_dir/demo-NAME.password; an account that already exists is reused.
demo_account() {
	local pwfile="$local_dir/demo-$1.password" pw code
	[ -s "$pwfile" ] || (umask 077 && printf 'soom-%s\n' "$(openssl rand -hex 12)" >"$pwfile")
	pw="$(cat "$pwfile")"
	code="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-d "{\"email\":\"$2\",\"password\":\"$pw\",\"nickname\":\"$3\"}" "http://$http_addr/v1/auth/signup")"
	case "$code" in
	201) ;;
	409) curl -fs -o /dev/null -H 'Content-Type: application/json' -d "{\"email\":\"$2\",\"password\":\"$pw\"}" \
		"http://$http_addr/v1/auth/login" ||
		echo "warning: $2 exists with another password than $pwfile; 'scripts/run-local.sh down' starts afresh" >&2 ;;
	*) echo "warning: signing up $2 answered HTTP $code" >&2 ;;
	esac
}

case "${1:-}" in
config)
	write_config
	config_line
	exit 0
	;;
down)
	testenv down
	exit 0
	;;
"") ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac

mkdir -p "$run_dir" bin
testenv up mariadb opensearch
go build -o bin/soomcare ./cmd/soomcare
write_config
# the settings come from the file alone, as in a second terminal
unset SOOMCARE_MYSQL_DSN SOOMCARE_SEARCH_ENGINE SOOMCARE_SEARCH_ADDRESSES SOOMCARE_HTTP_ADDR SOOMCARE_AUTH_JWT_SECRET
export SOOMCARE_CONFIG="$local_dir/soomcare.yaml"

./bin/soomcare migrate up
./bin/soomcare seed --if-empty # demo data goes in through MySQL, like everything else

# The CDC worker snapshots MySQL into the indices on its first run, then streams every change.
./bin/soomcare cdc >"$run_dir/cdc.log" 2>&1 &
cdc_pid=$!
serve_pid=
trap 'kill -TERM $cdc_pid $serve_pid 2>/dev/null; wait $cdc_pid $serve_pid 2>/dev/null' EXIT
echo "cdc worker started (log: $run_dir/cdc.log, metrics: http://127.0.0.1:9102/metrics)" >&2
for _ in $(seq 1 120); do
	grep -q 'msg=streaming' "$run_dir/cdc.log" 2>/dev/null && break # snapshot or rebuild done
	kill -0 $cdc_pid 2>/dev/null || {
		tail -20 "$run_dir/cdc.log" >&2
		exit 1
	}
	sleep 1
done

./bin/soomcare serve &
serve_pid=$!
for _ in $(seq 1 60); do
	curl -fs -o /dev/null "http://$http_addr/readyz" && break
	kill -0 $serve_pid 2>/dev/null || exit 1
	sleep 1
done
demo_account editor demo-editor@example.com 데모편집자
demo_account user demo-user@example.com 데모사용자
./bin/soomcare users grant-role demo-editor@example.com editor --by run-local >/dev/null

cat >&2 <<EOF

serving the API on http://$http_addr — try /readyz, /openapi.json, /docs, /v1/search?q=천식
demo editor: demo-editor@example.com  password: $(cat "$local_dir/demo-editor.password")
demo user:   demo-user@example.com  password: $(cat "$local_dir/demo-user.password")
(kept in $local_dir/demo-*.password). Ctrl-C stops the API and the CDC worker; 'scripts/run-local.sh down' the engines.

In another terminal, for every bin/soomcare command to use this stack:
  $(config_line)

EOF
wait $serve_pid
