#!/usr/bin/env bash
# The generated-client phase of scripts/test.sh (docs/openapi.md "Generated clients"): the clients app developers
# generate from /openapi.json must build without renames.
#   1. Go: oapi-codegen (pinned by scripts/clients/go/go.mod's tool directive) generates a client into a
#      temporary copy of scripts/clients/go; it must vet clean, and its smoke test calls search, suggest
#      and a 400 through it against a real `soomcare serve` (a scratch MariaDB database, migrated and
#      seeded, indexed into OpenSearch under a prefix of its own);
#   2. openapi-generator-cli (Maven Central jar): kotlin, swift5, swift6 and typescript-fetch generate
#      with no line saying "renamed" or "reserved" and no WARN/ERROR line outside the list below;
#   3. TypeScript: tsc (npm) type-checks the typescript-fetch client with --strict.
# Generated code stays in a temporary directory, never in the repository. Needs the test engines up
# (MariaDB and OpenSearch: scripts/testenv.sh up) and SOOMCARE_TEST_MYSQL_DSN /
# SOOMCARE_TEST_OPENSEARCH_URL as `scripts/testenv.sh env` exports them. Tools are installed on first
# use and cached:
#   $SOOMCARE_CACHE_DIR/dl/openapi-generator-cli-VERSION.jar   (mvn dependency:copy, like testenv.sh)
#   $SOOMCARE_CACHE_DIR/clients/typescript                   typescript (npm)
#
#   scripts/clients.sh                              all of it
#   SOOMCARE_TEST_CLIENTS_KEEP=1 scripts/clients.sh   keep the generated clients, server logs and database
#   SOOMCARE_TEST_CLIENTS_OPENAPI=doc.json scripts/clients.sh   generate from that document, not the served one
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

GENERATOR_VERSION="${SOOMCARE_TEST_OPENAPI_GENERATOR_VERSION:-7.25.0}"
TYPESCRIPT_VERSION="${SOOMCARE_TEST_TYPESCRIPT_VERSION:-7.0.2}"
GENERATORS=(kotlin swift5 swift6 typescript-fetch)
# Generator lines that change nothing generated: swift5's deprecation notice, and ModelUtils' "Failed to
# get the schema name: null", logged once because top-level schemas are an array (Fragments) and a map
# (ReadinessChecks); it goes away only when both are stubbed (found by stubbing schemas one by one).
ALLOWED_WARNINGS='Generator .swift5. is considered deprecated|IMPORTANT: This generator has been deprecated|Failed to get the schema name: null'
if [ "$(id -u)" = 0 ]; then DEFAULT_CACHE=/var/cache/soomcare; else DEFAULT_CACHE="$HOME/.cache/soomcare"; fi
CACHE="${SOOMCARE_CACHE_DIR:-$DEFAULT_CACHE}"
TOOLS="$CACHE/clients"
JAR="$CACHE/dl/openapi-generator-cli-$GENERATOR_VERSION.jar"
TSC="$TOOLS/typescript/node_modules/.bin/tsc"

log() { printf '[clients] %s\n' "$*" >&2; }
die() {
	printf '[clients] ERROR: %s\n' "$*" >&2
	exit 1
}

for t in java mvn npm node curl mariadb; do command -v "$t" >/dev/null 2>&1 || die "$t is not installed (scripts/testenv.sh up installs mvn; node and java come with the machine)"; done
: "${SOOMCARE_TEST_MYSQL_DSN:?run eval \"\$(scripts/testenv.sh env)\" first}"
: "${SOOMCARE_TEST_OPENSEARCH_URL:?run eval \"\$(scripts/testenv.sh env)\" first}"

# ---------------------------------------------------------------- tools (cached)
install_tools() {
	if ! [ -s "$JAR" ]; then
		log "downloading openapi-generator-cli $GENERATOR_VERSION from Maven Central (cached in $CACHE/dl)"
		mkdir -p "$CACHE/dl"
		mvn -q -B dependency:copy -Dartifact="org.openapitools:openapi-generator-cli:$GENERATOR_VERSION" \
			-DoutputDirectory="$CACHE/dl" >"$WORK/mvn.log" 2>&1 || {
			tail -20 "$WORK/mvn.log" >&2
			die "mvn could not fetch openapi-generator-cli $GENERATOR_VERSION"
		}
		[ -s "$JAR" ] || die "mvn fetched openapi-generator-cli but $JAR is missing"
	fi
	if ! [ -x "$TSC" ] || [ "$("$TSC" --version 2>/dev/null)" != "Version $TYPESCRIPT_VERSION" ]; then
		log "installing typescript $TYPESCRIPT_VERSION (npm, into $TOOLS/typescript)"
		mkdir -p "$TOOLS/typescript"
		(cd "$TOOLS/typescript" && npm install --no-audit --no-fund --silent "typescript@$TYPESCRIPT_VERSION") >"$WORK/npm.log" 2>&1 || {
			tail -20 "$WORK/npm.log" >&2
			die "npm install typescript failed"
		}
	fi
}

# ---------------------------------------------------------------- the server the Go client calls
WORK="$(mktemp -d /tmp/soomcare-clients.XXXXXX)"
DB="soomcare_clients_$$"
PREFIX="clients-$$"
BG=()
# shellcheck source=scripts/scratch-serve.sh
. "$ROOT/scripts/scratch-serve.sh" # sql, free_port, scratch_env/run/serve/stop/drop

cleanup() {
	local rc=$?
	local p # generators and the Go build still running after a failure: each is a process group of its own
	for p in "${BG[@]}"; do kill -- "-$p" 2>/dev/null || true; done
	[ ${#BG[@]} -eq 0 ] || wait "${BG[@]}" 2>/dev/null || true
	scratch_stop
	if [ "${SOOMCARE_TEST_CLIENTS_KEEP:-}" = 1 ]; then
		log "kept: $WORK, database $DB, indices $PREFIX-*"
	else
		scratch_drop
		if [ $rc -eq 0 ]; then rm -rf "$WORK"; else log "logs and generated clients kept in $WORK"; fi
	fi
	exit $rc
}
trap cleanup EXIT

# background runs "$@" in the background as a process group of its own (cleanup stops all of it).
background() {
	set -m
	"$@" &
	BG+=($!)
	set +m
}


# A small demo corpus is enough: the smoke test needs hits to decode, not volume.
start_server() {
	scratch_env
	scratch_run migrate migrate up
	scratch_run seed seed --users 20 --contents 20 --posts 20 --no-progress
	scratch_run reindex reindex all --keep 1 --no-progress
	scratch_serve
}

# ---------------------------------------------------------------- the checks
# go_client generates the Go client into a copy of scripts/clients/go, vets it and runs the smoke test.
go_client() {
	cp -r "$ROOT/scripts/clients/go" "$WORK/go"
	mkdir -p "$WORK/go/soomcareapi"
	(
		cd "$WORK/go"
		go tool oapi-codegen -generate types,client -package soomcareapi -o soomcareapi/soomcareapi.gen.go "$WORK/openapi.json"
		go vet ./...
		SOOMCARE_TEST_CLIENTS_URL="http://$ADDR" go test -count=1 -v ./...
	) >"$WORK/go.log" 2>&1
}

# generate runs one openapi-generator generator and fails on renames, reserved words and any warning
# or error not in ALLOWED_WARNINGS (the whole log is printed then).
generate() {
	local g="$1" out="$WORK/clients/$1" glog="$WORK/generate-$1.log"
	java -jar "$JAR" generate -g "$g" -i "$WORK/openapi.json" -o "$out" >"$glog" 2>&1 || {
		cat "$glog" >&2
		die "openapi-generator $g failed"
	}
	local bad
	bad="$(grep -E ' (WARN|ERROR) |[Rr]enamed|RENAMED|[Rr]eserved|RESERVED' "$glog" | grep -vE "$ALLOWED_WARNINGS" || true)"
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad" | sort | uniq -c | sort -rn | head -20 >&2
		die "openapi-generator $g: renames or warnings (above; log $glog)"
	fi
	log "openapi-generator $g: generated cleanly ($(find "$out" -type f | wc -l) files)"
}

# typescript type-checks the typescript-fetch client, strict.
typescript() {
	cat >"$WORK/clients/typescript-fetch/tsconfig.check.json" <<'EOF'
{
  "compilerOptions": {
    "target": "es2022", "module": "esnext", "moduleResolution": "bundler", "lib": ["es2022", "dom"],
    "strict": true, "noEmit": true
  },
  "include": ["index.ts", "runtime.ts", "apis", "models"]
}
EOF
	"$TSC" -p "$WORK/clients/typescript-fetch/tsconfig.check.json" >"$WORK/tsc.log" 2>&1 || {
		head -40 "$WORK/tsc.log" >&2
		die "tsc $TYPESCRIPT_VERSION: the typescript-fetch client does not compile (above)"
	}
	log "tsc $TYPESCRIPT_VERSION --strict: the typescript-fetch client compiles"
}

t0=$(date +%s)
install_tools
start_server
log "serving on http://$ADDR (database $DB, indices $PREFIX-*) after $(($(date +%s) - t0))s"
if [ -n "${SOOMCARE_TEST_CLIENTS_OPENAPI:-}" ]; then
	cp "$SOOMCARE_TEST_CLIENTS_OPENAPI" "$WORK/openapi.json" # another document (e.g. an older one) against this server
else
	curl -fsS -m 10 "http://$ADDR/openapi.json" >"$WORK/openapi.json"
fi

go_status=0
background go_client
go_pid=$!
# Two generators at a time beside the Go build: the machine has two cores.
pids=()
for g in "${GENERATORS[@]}"; do
	background generate "$g"
	pids+=($!)
	if [ ${#pids[@]} -ge 2 ]; then
		wait "${pids[0]}" || die "openapi-generator failed (above)"
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do wait "$p" || die "openapi-generator failed (above)"; done
typescript
wait "$go_pid" || go_status=$?
grep -E '^(=== RUN|--- |ok|FAIL|PASS)' "$WORK/go.log" >&2 || true
[ $go_status -eq 0 ] || {
	tail -40 "$WORK/go.log" >&2
	die "the generated Go client did not build or its smoke test failed (above)"
}
log "oapi-codegen: the Go client compiles, vets clean and its smoke test passed"
log "generated clients passed in $(($(date +%s) - t0))s"
