# shellcheck shell=bash
# Sourced by scripts/contract.sh and scripts/clients.sh: a real `soomcare serve` on a scratch MariaDB
# database and an index prefix of its own, on the test engines (`scripts/testenv.sh env`). The caller sets
# WORK, DB and PREFIX and defines die(); SERVER_PID and ADDR are set here.

MYSQL_HOSTPORT="$(sed -E 's/^[^@]*@tcp\(([^)]*)\).*$/\1/' <<<"$SOOMCARE_TEST_MYSQL_DSN")"
MYSQL_USERPASS="${SOOMCARE_TEST_MYSQL_DSN%%@*}"
SERVER_PID=""

sql() {
	mariadb --protocol=tcp -h"${MYSQL_HOSTPORT%:*}" -P"${MYSQL_HOSTPORT##*:}" -u"${MYSQL_USERPASS%%:*}" \
		-p"${MYSQL_USERPASS#*:}" -N "$@"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# scratch_env builds the binary, creates the database, picks an address and exports the settings every
# scratch serve shares; the caller exports its own after it.
scratch_env() {
	go build -o "$WORK/soomcare" ./cmd/soomcare
	sql -e "CREATE DATABASE \`$DB\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
	ADDR="127.0.0.1:$(free_port)"
	export SOOMCARE_MYSQL_DSN="${SOOMCARE_TEST_MYSQL_DSN%/*}/$DB"
	export SOOMCARE_SEARCH_ENGINE=opensearch
	export SOOMCARE_SEARCH_ADDRESSES="$SOOMCARE_TEST_OPENSEARCH_URL"
	export SOOMCARE_SEARCH_INDEX_PREFIX="$PREFIX"
	export SOOMCARE_HTTP_ADDR="$ADDR"
	export SOOMCARE_AUTH_JWT_SECRET="$(openssl rand -base64 48)" # random per run: serve refuses committed secrets
	export SOOMCARE_UPLOADS_DIR="$WORK/uploads"
}

# scratch_run NAME ARGS… runs one `soomcare` command, its output in $WORK/NAME.log, and dies with the
# log's tail if it fails.
scratch_run() {
	local name="$1"
	shift
	"$WORK/soomcare" "$@" >"$WORK/$name.log" 2>&1 || {
		tail -20 "$WORK/$name.log" >&2
		die "soomcare $* failed"
	}
}

# scratch_serve starts serve in the background and waits until /readyz answers (30 s).
scratch_serve() {
	"$WORK/soomcare" serve >"$WORK/serve.log" 2>&1 &
	SERVER_PID=$!
	local i
	for ((i = 0; i < 60; i++)); do
		curl -fsS -m 2 "http://$ADDR/readyz" >/dev/null 2>&1 && return 0
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.5
	done
	tail -20 "$WORK/serve.log" >&2
	die "serve did not become ready on $ADDR"
}

# scratch_stop stops serve; scratch_drop deletes the database and the indices.
scratch_stop() {
	if [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null; then
		wait "$SERVER_PID" 2>/dev/null || true
	fi
}
scratch_drop() {
	sql -e "DROP DATABASE IF EXISTS \`$DB\`" 2>/dev/null || true
	curl -fsS -m 10 -X DELETE "$SOOMCARE_TEST_OPENSEARCH_URL/$PREFIX-*" >/dev/null 2>&1 || true
}
