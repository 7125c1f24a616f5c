#!/usr/bin/env bash
# Real engines for tests and the local stack, on a machine without Docker.
#
#   scripts/testenv.sh up [mariadb|opensearch|elasticsearch ...]   install (cached), start, wait until healthy
#                                                                   (default: mariadb opensearch elasticsearch versitygw;
#                                                                   elasticsearch9, mariadb-replica, opensearch-cluster on request)
#   scripts/testenv.sh fetch [NAME ...]                             download/build only (engines, versitygw), start nothing
#   scripts/testenv.sh down                                         stop everything and delete the data
#   scripts/testenv.sh stop|start NAME                              stop or start one engine, keeping its data
#   scripts/testenv.sh kill NAME                                    SIGKILL one engine (e.g. osc2), keeping its data
#   scripts/testenv.sh status                                       one line per engine
#   scripts/testenv.sh env                                          export lines for tests (eval "$(… env)")
#
# What it runs (see docs/testing.md "How engines are obtained"):
#   mariadb        Debian's mariadb-server as a private instance: own datadir, loopback port,
#                  binlog ROW + FULL row image, server_id 1, GTID (MariaDB's are always on).
#   opensearch     org.opensearch.distribution.integ-test-zip:opensearch (Maven Central) on Temurin 25,
#                  with the official analysis-nori plugin jar + lucene-analysis-nori assembled as a plugin.
#   elasticsearch  org.elasticsearch.distribution.integ-test-zip:elasticsearch (Maven Central) on Java 17,
#                  security off. It has no nori and no analysis-common: the `basic` analysis profile.
#   mariadb-replica a second MariaDB (port SOOMCARE_TEST_MYSQL_REPLICA_PORT, 13307; server_id 2, log_slave_updates,
#                  read_only) replicating from the first by GTID; env SOOMCARE_TEST_MYSQL_REPLICA_DSN once started.
#   elasticsearch9 the same for the 9.x line (SOOMCARE_ELASTICSEARCH9_VERSION, default 9.2.4) on Temurin 25,
#                  port SOOMCARE_TEST_ELASTICSEARCH9_PORT (19202); env: SOOMCARE_TEST_ELASTICSEARCH9_URL.
#   versitygw      an S3-compatible gateway over a directory (posix backend) for the uploads' s3 backend, built
#                  by `go install` (SOOMCARE_TEST_VERSITYGW_VERSION, default v1.8.0; cached), port
#                  SOOMCARE_TEST_S3_PORT (19700); env: SOOMCARE_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY.
#   opensearch-cluster  three OpenSearch nodes osc1..osc3 (same install, nori) forming one cluster on loopback:
#                  HTTP SOOMCARE_TEST_OPENSEARCH_CLUSTER_PORT..+2 (19210-19212), transport +100, heap
#                  SOOMCARE_TEST_CLUSTER_HEAP (384m) each; `stop|start osc2` for one node;
#                  env: SOOMCARE_TEST_OPENSEARCH_CLUSTER_URLS (comma-separated).
#
# Idempotent: downloads are cached in $SOOMCARE_CACHE_DIR, an engine that already answers is left alone.
set -euo pipefail

OS_VERSION="${SOOMCARE_OPENSEARCH_VERSION:-3.8.0}"
ES_VERSION="${SOOMCARE_ELASTICSEARCH_VERSION:-8.19.7}"
LUCENE_NORI_VERSION="${SOOMCARE_LUCENE_VERSION:-10.5.0}"
# root's home is private and the engines run as an unprivileged user: root caches under /var/cache
if [ "$(id -u)" = 0 ]; then DEFAULT_CACHE=/var/cache/soomcare; else DEFAULT_CACHE="$HOME/.cache/soomcare"; fi
CACHE_DIR="${SOOMCARE_CACHE_DIR:-$DEFAULT_CACHE}"
RUN_DIR="${SOOMCARE_TESTENV_DIR:-/tmp/soomcare-testenv}"
MYSQL_PORT="${SOOMCARE_TEST_MYSQL_PORT:-13306}"
OS_PORT="${SOOMCARE_TEST_OPENSEARCH_PORT:-19200}"
ES_PORT="${SOOMCARE_TEST_ELASTICSEARCH_PORT:-19201}"
ES9_VERSION="${SOOMCARE_ELASTICSEARCH9_VERSION:-9.2.4}"
ES9_PORT="${SOOMCARE_TEST_ELASTICSEARCH9_PORT:-19202}"
MYSQL_REPLICA_PORT="${SOOMCARE_TEST_MYSQL_REPLICA_PORT:-13307}"
HEAP="${SOOMCARE_TEST_ENGINE_HEAP:-768m}"
START_TIMEOUT="${SOOMCARE_TEST_START_TIMEOUT:-180}"
ENGINE_USER=soomcare-engine
JAVA17="${SOOMCARE_JAVA17_HOME:-}"
JAVA25="${SOOMCARE_JAVA25_HOME:-}"

log() { printf '[testenv] %s\n' "$*" >&2; }
die() {
	printf '[testenv] ERROR: %s\n' "$*" >&2
	exit 1
}

find_jdk() { # $1 = major version; prints a JAVA_HOME
	local d
	for d in /usr/lib/jvm/*; do
		[ -x "$d/bin/java" ] || continue
		if "$d/bin/java" -version 2>&1 | head -1 | grep -Eq "version \"$1[.\"]"; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

runas() { # engines refuse to run as root: prefix for running as the unprivileged engine user
	if [ "$(id -u)" = 0 ]; then
		echo runuser -u "$ENGINE_USER" --
	fi
}

need_tools() { # install what this script and the integration tests use (chromium: the /docs browser test) when a fresh machine lacks it
	local missing=() t
	for t in unzip:unzip curl:curl mvn:maven setsid:util-linux runuser:util-linux chromium:chromium; do
		command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing tools (${missing[*]}); install them: apt-get install ${missing[*]}"
	log "installing ${missing[*]} from Debian"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_user() {
	[ "$(id -u)" = 0 ] || return 0
	id "$ENGINE_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ENGINE_USER"
}

mvn_fetch() { # $1 = groupId:artifactId:version[:packaging]; $2 = file name expected in cache
	local art="$1" file="$CACHE_DIR/dl/$2"
	[ -s "$file" ] && return 0
	mkdir -p "$CACHE_DIR/dl"
	log "downloading $art from Maven Central (cached in $CACHE_DIR/dl)"
	if ! mvn -q -B dependency:copy -Dartifact="$art" -DoutputDirectory="$CACHE_DIR/dl" >"$CACHE_DIR/dl/mvn.log" 2>&1; then
		tail -20 "$CACHE_DIR/dl/mvn.log" >&2
		die "mvn could not fetch $art"
	fi
	[ -s "$file" ] || die "mvn fetched $art but $file is missing"
}

wait_http() { # $1 name, $2 url, $3 log file
	local i
	for ((i = 0; i < START_TIMEOUT; i++)); do
		if curl -fsS -m 2 "$2" >/dev/null 2>&1; then
			log "$1 is up on $2 after ${i}s"
			return 0
		fi
		if [ -f "$RUN_DIR/$1.pid" ] && ! kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null; then
			break
		fi
		sleep 1
	done
	log "$1 did not become healthy within ${START_TIMEOUT}s; last lines of $3:"
	tail -40 "$3" >&2 || true
	die "$1 failed to start"
}

# ---------------------------------------------------------------- MariaDB
mariadb_bin() { command -v mariadbd || command -v mysqld || ls /usr/sbin/mariadbd 2>/dev/null; }

install_mariadb() {
	if [ -z "$(mariadb_bin)" ]; then
		[ "$(id -u)" = 0 ] || die "mariadb-server is not installed and we are not root: apt-get install mariadb-server"
		log "installing mariadb-server from Debian"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >/dev/null
	fi
}

mysql_up() { mariadb-admin --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" -usoomcare -psoomcare ping >/dev/null 2>&1; }

start_mariadb() {
	install_mariadb
	if mysql_up; then
		log "mariadb already up on 127.0.0.1:$MYSQL_PORT"
		return 0
	fi
	local dir="$RUN_DIR/mariadb" owner=mysql
	[ "$(id -u)" = 0 ] || owner="$(id -un)"
	mkdir -p "$dir"
	cat >"$dir/my.cnf" <<EOF
[mariadbd]
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mysqld.pid
port=$MYSQL_PORT
bind-address=127.0.0.1
user=$owner
server_id=1
log_bin=$dir/data/binlog
binlog_format=ROW
binlog_row_image=FULL
binlog_row_metadata=FULL
binlog_expire_logs_seconds=86400
log_slave_updates=ON
gtid_strict_mode=ON
character_set_server=utf8mb4
collation_server=utf8mb4_unicode_ci
innodb_buffer_pool_size=256M
innodb_flush_log_at_trx_commit=2
sync_binlog=0
max_connections=300
skip_name_resolve=ON
EOF
	local fresh=0
	if [ ! -d "$dir/data/mysql" ]; then
		fresh=1
		mkdir -p "$dir/data"
		chown -R "$owner" "$dir"
		log "initialising MariaDB datadir $dir/data"
		mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 ||
			{
				tail -20 "$dir/install.log" >&2
				die "mariadb-install-db failed"
			}
	fi
	chown -R "$owner" "$dir"
	setsid "$(mariadb_bin)" --defaults-file="$dir/my.cnf" >"$dir/mariadb.log" 2>&1 &
	echo $! >"$RUN_DIR/mariadb.pid"
	local i
	for ((i = 0; i < 60; i++)); do
		mariadb-admin --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
		kill -0 "$(cat "$RUN_DIR/mariadb.pid")" 2>/dev/null || break
		sleep 1
	done
	if ! mariadb-admin --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
		tail -40 "$dir/mariadb.log" >&2
		die "mariadb failed to start"
	fi
	if [ "$fresh" = 1 ] || ! mysql_up; then
		mariadb --socket="$dir/mysqld.sock" -uroot <<'EOF'
CREATE USER IF NOT EXISTS 'soomcare'@'127.0.0.1' IDENTIFIED BY 'soomcare';
CREATE USER IF NOT EXISTS 'soomcare'@'localhost' IDENTIFIED BY 'soomcare';
GRANT ALL PRIVILEGES ON *.* TO 'soomcare'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'soomcare'@'localhost' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS soomcare CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
EOF
	fi
	log "mariadb is up on 127.0.0.1:$MYSQL_PORT (binlog $(mariadb --socket="$dir/mysqld.sock" -uroot -N -e 'select @@binlog_format'))"
}

# ---------------------------------------------------------------- MariaDB read replica
# A second private MariaDB replicating from the first through GTID: the CDC can read its binlog and re-read
# rows there (cdc.source_dsn) so the primary carries no CDC load. Seeded from a consistent dump of the
# primary (--single-transaction --gtid: the dump's own GTID position), then CHANGE MASTER … slave_pos.
# read_only, and the CDC's account on it (soomcare_cdc) has no right to write or bypass read_only.
replica_sql() { mariadb --socket="$RUN_DIR/mariadb-replica/mysqld.sock" -uroot "$@"; }
replica_running() { [ "$(replica_sql -e 'SHOW SLAVE STATUS\G' 2>/dev/null | grep -cE 'Slave_(IO|SQL)_Running: Yes')" = 2 ]; }
replica_up() { mariadb-admin --protocol=tcp -h127.0.0.1 -P"$MYSQL_REPLICA_PORT" -usoomcare_cdc -psoomcare_cdc ping >/dev/null 2>&1; }

start_mariadb_replica() {
	mysql_up || start_mariadb
	if replica_up; then
		log "mariadb-replica already up on 127.0.0.1:$MYSQL_REPLICA_PORT"
		return 0
	fi
	local dir="$RUN_DIR/mariadb-replica" owner=mysql
	[ "$(id -u)" = 0 ] || owner="$(id -un)"
	mkdir -p "$dir"
	cat >"$dir/my.cnf" <<EOF
[mariadbd]
datadir=$dir/data
socket=$dir/mysqld.sock
pid-file=$dir/mysqld.pid
port=$MYSQL_REPLICA_PORT
bind-address=127.0.0.1
user=$owner
server_id=2
log_bin=$dir/data/replica-bin
relay_log=$dir/data/relay-bin
log_slave_updates=ON
binlog_format=ROW
binlog_row_image=FULL
binlog_row_metadata=FULL
binlog_expire_logs_seconds=86400
gtid_strict_mode=ON
read_only=ON
character_set_server=utf8mb4
collation_server=utf8mb4_unicode_ci
innodb_buffer_pool_size=128M
innodb_flush_log_at_trx_commit=2
sync_binlog=0
max_connections=200
skip_name_resolve=ON
EOF
	local fresh=0
	if [ ! -d "$dir/data/mysql" ]; then
		fresh=1
		mkdir -p "$dir/data"
		chown -R "$owner" "$dir"
		mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 ||
			{
				tail -20 "$dir/install.log" >&2
				die "mariadb-install-db failed (replica)"
			}
	fi
	chown -R "$owner" "$dir"
	setsid "$(mariadb_bin)" --defaults-file="$dir/my.cnf" >"$dir/mariadb.log" 2>&1 &
	echo $! >"$RUN_DIR/mariadb-replica.pid"
	local i
	for ((i = 0; i < 60; i++)); do
		replica_sql -e 'DO 1' >/dev/null 2>&1 && break
		kill -0 "$(cat "$RUN_DIR/mariadb-replica.pid")" 2>/dev/null || break
		sleep 1
	done
	replica_sql -e 'DO 1' >/dev/null 2>&1 || {
		tail -40 "$dir/mariadb.log" >&2
		die "mariadb-replica failed to start"
	}
	if [ "$fresh" = 1 ]; then
		# the CDC's account, made on the primary so that it replicates: read rows, follow the binlog, nothing else
		mariadb --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" -usoomcare -psoomcare <<'EOF'
CREATE USER IF NOT EXISTS 'soomcare_cdc'@'127.0.0.1' IDENTIFIED BY 'soomcare_cdc';
GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'soomcare_cdc'@'127.0.0.1';
EOF
		log "seeding mariadb-replica from a consistent dump of the primary"
		mariadb-dump --protocol=tcp -h127.0.0.1 -P"$MYSQL_PORT" -usoomcare -psoomcare --all-databases \
			--single-transaction --gtid --master-data=2 --routines --events --triggers >"$dir/seed.sql" 2>"$dir/dump.log" ||
			die "mariadb-dump of the primary failed: $(tail -3 "$dir/dump.log")"
		local gtid
		gtid="$(sed -n "s/^-- SET GLOBAL gtid_slave_pos='\([^']*\)'.*/\1/p" "$dir/seed.sql" | head -1)"
		[ -n "$gtid" ] || die "no gtid_slave_pos in the primary's dump"
		{ echo 'SET sql_log_bin=0;'; cat "$dir/seed.sql"; } | replica_sql || die "loading the dump into mariadb-replica failed"
		rm -f "$dir/seed.sql"
		replica_sql <<EOF
SET sql_log_bin=0;
FLUSH PRIVILEGES;
STOP SLAVE;
SET GLOBAL gtid_slave_pos='$gtid';
CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$MYSQL_PORT, MASTER_USER='soomcare', MASTER_PASSWORD='soomcare',
  MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1;
START SLAVE;
EOF
	fi
	for ((i = 0; i < 60; i++)); do
		replica_running && break
		sleep 1
	done
	replica_up || die "mariadb-replica is up but soomcare_cdc cannot log in"
	replica_running ||
		die "mariadb-replica does not replicate: $(replica_sql -e 'SHOW SLAVE STATUS\G' | grep -E 'Running|Last_.*Error:' | tr -s ' ')"
	log "mariadb-replica is up on 127.0.0.1:$MYSQL_REPLICA_PORT (server_id 2, GTID slave_pos from 127.0.0.1:$MYSQL_PORT, read_only)"
}

# ---------------------------------------------------------------- OpenSearch
install_opensearch() {
	local home="$CACHE_DIR/opensearch-$OS_VERSION"
	if [ -f "$home/.soomcare-ready" ]; then
		echo "$home"
		return 0
	fi
	mvn_fetch "org.opensearch.distribution.integ-test-zip:opensearch:$OS_VERSION:zip" "opensearch-$OS_VERSION.zip"
	# analysis-nori is published as the plugin's jar; the zip is not on Maven Central for current versions.
	mvn_fetch "org.opensearch.plugin:analysis-nori:$OS_VERSION" "analysis-nori-$OS_VERSION.jar"
	mvn_fetch "org.apache.lucene:lucene-analysis-nori:$LUCENE_NORI_VERSION" "lucene-analysis-nori-$LUCENE_NORI_VERSION.jar"
	rm -rf "$home" "$home.tmp"
	mkdir -p "$home.tmp"
	unzip -q "$CACHE_DIR/dl/opensearch-$OS_VERSION.zip" -d "$home.tmp"
	mv "$home.tmp/opensearch-$OS_VERSION" "$home"
	rmdir "$home.tmp"
	local lucene
	lucene="$(basename "$(ls "$home"/lib/lucene-core-*.jar)" .jar)"
	[ "${lucene#lucene-core-}" = "$LUCENE_NORI_VERSION" ] ||
		die "OpenSearch $OS_VERSION ships $lucene but lucene-analysis-nori is $LUCENE_NORI_VERSION; set SOOMCARE_LUCENE_VERSION"
	mkdir -p "$home/plugins/analysis-nori"
	cp "$CACHE_DIR/dl/analysis-nori-$OS_VERSION.jar" "$CACHE_DIR/dl/lucene-analysis-nori-$LUCENE_NORI_VERSION.jar" "$home/plugins/analysis-nori/"
	local java_version
	java_version="$(sed -n 's/^java.version=//p' "$home/modules/analysis-common/plugin-descriptor.properties")"
	cat >"$home/plugins/analysis-nori/plugin-descriptor.properties" <<EOF
description=The Korean (nori) Analysis plugin integrates Lucene nori analysis module into opensearch.
version=$OS_VERSION
name=analysis-nori
classname=org.opensearch.plugin.analysis.nori.AnalysisNoriPlugin
java.version=$java_version
opensearch.version=$OS_VERSION
custom.foldername=
extended.plugins=
has.native.controller=false
EOF
	touch "$home/.soomcare-ready"
	echo "$home"
}

start_opensearch() {
	if curl -fsS -m 2 "http://127.0.0.1:$OS_PORT" >/dev/null 2>&1; then
		log "opensearch already up on $OS_PORT"
		return 0
	fi
	start_opensearch_node opensearch os1 "$OS_PORT" soomcare-test "$HEAP" -E discovery.type=single-node
	wait_http opensearch "http://127.0.0.1:$OS_PORT/_cluster/health?wait_for_status=yellow&timeout=1s" "$RUN_DIR/opensearch/stdout.log"
}

# start_opensearch_node launches one OpenSearch node in the background (no wait):
# $1 run name (its dir and pid file), $2 node name, $3 HTTP port (transport +100), $4 cluster name,
# $5 heap, then extra -E settings (discovery).
start_opensearch_node() {
	local name="$1" node="$2" port="$3" cluster="$4" heap="$5"
	shift 5
	ensure_user
	local home dir="$RUN_DIR/$name" jh
	home="$(install_opensearch)"
	jh="${JAVA25:-$(find_jdk 25 || find_jdk 21 || true)}"
	[ -n "$jh" ] || die "OpenSearch $OS_VERSION needs Java 21+; none found under /usr/lib/jvm (set SOOMCARE_JAVA25_HOME)"
	mkdir -p "$dir/data" "$dir/logs" "$dir/config"
	cp -r "$home/config/." "$dir/config/"
	# the launcher runs from the (read-only) engine home: point relative log/dump paths at the run dir
	sed -i -e "s#logs/#$dir/logs/#g" -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" "$dir/config/jvm.options"
	chmod -R a+rX "$CACHE_DIR" 2>/dev/null || true
	[ "$(id -u)" = 0 ] && chown -R "$ENGINE_USER" "$dir"
	log "starting opensearch $OS_VERSION node $node on 127.0.0.1:$port (JAVA_HOME=$jh)"
	# jvm.options names gc.log and heap dumps relative to the working directory
	(
		cd "$dir"
		setsid $(runas) env -i PATH="$PATH" HOME="$dir" JAVA_HOME="$jh" OPENSEARCH_PATH_CONF="$dir/config" \
			OPENSEARCH_JAVA_OPTS="-Xms$heap -Xmx$heap" \
			"$home/bin/opensearch" -E cluster.name="$cluster" -E node.name="$node" "$@" \
			-E network.host=127.0.0.1 -E http.port="$port" -E transport.port=$((port + 100)) \
			-E path.data="$dir/data" -E path.logs="$dir/logs" \
			-E cluster.routing.allocation.disk.threshold_enabled=false >"$dir/stdout.log" 2>&1 &
		echo $! >"$RUN_DIR/$name.pid"
	)
}

# ---------------------------------------------------------------- OpenSearch cluster
# Three cluster-manager-eligible data nodes osc1..osc3 on loopback (HTTP OSC_PORT..+2, transport +100),
# seed-host discovery, small heaps; its own run dirs ($RUN_DIR/osc1..3). `stop|start osc2` stops or starts
# one node keeping its data (a restarted node rejoins); `opensearch-cluster` names all three.
OSC_PORT="${SOOMCARE_TEST_OPENSEARCH_CLUSTER_PORT:-19210}"
OSC_HEAP="${SOOMCARE_TEST_CLUSTER_HEAP:-384m}"
OSC_NODES="osc1 osc2 osc3"

osc_port() { echo $((OSC_PORT + ${1#osc} - 1)); } # $1 = osc1..osc3

osc_urls() { # comma-separated HTTP addresses of the cluster's nodes
	local n out=""
	for n in $OSC_NODES; do out="$out${out:+,}http://127.0.0.1:$(osc_port "$n")"; done
	echo "$out"
}

osc_node_up() { curl -fsS -m 2 "http://127.0.0.1:$(osc_port "$1")" >/dev/null 2>&1; }

start_osc_node() { # $1 = osc1..osc3; no wait
	local n="$1" seeds="" m
	if osc_node_up "$n"; then
		log "$n already up on $(osc_port "$n")"
		return 0
	fi
	for m in $OSC_NODES; do seeds="$seeds${seeds:+,}127.0.0.1:$(($(osc_port "$m") + 100))"; done
	start_opensearch_node "$n" "$n" "$(osc_port "$n")" soomcare-test-cluster "$OSC_HEAP" \
		-E discovery.seed_hosts="$seeds" -E cluster.initial_cluster_manager_nodes="${OSC_NODES// /,}"
}

start_opensearch_cluster() { # all three nodes, then wait for a 3-node cluster
	local n
	for n in $OSC_NODES; do start_osc_node "$n"; done
	wait_http osc1 "http://127.0.0.1:$OSC_PORT/_cluster/health?wait_for_nodes=3&timeout=1s" "$RUN_DIR/osc1/stdout.log"
}

start_osc_one() { # one node, then wait until it answers and the cluster has all three again
	start_osc_node "$1"
	wait_http "$1" "http://127.0.0.1:$(osc_port "$1")/_cluster/health?wait_for_nodes=3&timeout=1s" "$RUN_DIR/$1/stdout.log"
}

osc_status() { # one line; down counts as a failure only once started here
	local health
	health="$(curl -fsS -m 2 "http://127.0.0.1:$OSC_PORT/_cluster/health" 2>/dev/null || true)"
	[ -n "$health" ] || health="$(curl -fsS -m 2 "http://127.0.0.1:$((OSC_PORT + 1))/_cluster/health" 2>/dev/null || true)"
	if [ -n "$health" ]; then
		echo "os-cluster     up    $(osc_urls) ($(echo "$health" | sed -E 's/.*"status":"([a-z]+)".*"number_of_nodes":([0-9]+).*/\1, \2 nodes/'))"
	else
		echo "os-cluster     down"
		[ ! -f "$RUN_DIR/osc1.pid" ] && [ ! -f "$RUN_DIR/osc2.pid" ] && [ ! -f "$RUN_DIR/osc3.pid" ] || return 1
	fi
}

# ---------------------------------------------------------------- Elasticsearch
# The engine matrix: one line per Elasticsearch major users run, each its own engine name, version, port
# and JDK. Both are integ-test zips (`basic` analysis profile), run side by side on their own ports.
#   name            version                          http port                       JDK (first found)
es_spec() { # $1 = engine name; prints "version port jdk-majors"
	case "$1" in
	elasticsearch) echo "$ES_VERSION $ES_PORT ${JAVA17:-17 21}" ;;
	elasticsearch9) echo "$ES9_VERSION $ES9_PORT ${JAVA25:-25 21}" ;;
	*) return 1 ;;
	esac
}

install_elasticsearch() { # $1 = version; prints the engine home
	local v="$1" home="$CACHE_DIR/elasticsearch-$1"
	if [ -f "$home/.soomcare-ready" ]; then
		echo "$home"
		return 0
	fi
	mvn_fetch "org.elasticsearch.distribution.integ-test-zip:elasticsearch:$v:zip" "elasticsearch-$v.zip"
	rm -rf "$home" "$home.tmp"
	mkdir -p "$home.tmp"
	unzip -q "$CACHE_DIR/dl/elasticsearch-$v.zip" -d "$home.tmp"
	mv "$home.tmp/elasticsearch-$v" "$home"
	rmdir "$home.tmp"
	touch "$home/.soomcare-ready"
	echo "$home"
}

es_java() { # $@ = JDK majors to try in order, or one JAVA_HOME path; prints a JAVA_HOME
	local m
	for m in "$@"; do
		case "$m" in
		/*) [ -x "$m/bin/java" ] && echo "$m" && return 0 ;;
		*) find_jdk "$m" && return 0 ;;
		esac
	done
	return 1
}

start_elasticsearch() { # $1 = engine name (elasticsearch, elasticsearch9)
	local name="${1:-elasticsearch}" v port jdks
	read -r v port jdks <<<"$(es_spec "$name")"
	if curl -fsS -m 2 "http://127.0.0.1:$port/_cluster/health" >/dev/null 2>&1; then
		log "$name already up on $port"
		return 0
	fi
	ensure_user
	local home dir="$RUN_DIR/$name" jh
	home="$(install_elasticsearch "$v")"
	# shellcheck disable=SC2086 # jdks is a word list
	jh="$(es_java $jdks || true)"
	[ -n "$jh" ] || die "Elasticsearch $v needs Java ${jdks// / or }; none found under /usr/lib/jvm (set SOOMCARE_JAVA17_HOME / SOOMCARE_JAVA25_HOME)"
	mkdir -p "$dir/data" "$dir/logs" "$dir/config"
	cp -r "$home/config/." "$dir/config/"
	# the launcher runs from the (read-only) engine home: point relative log/dump paths at the run dir
	sed -i -e "s#logs/#$dir/logs/#g" -e "s#HeapDumpPath=data#HeapDumpPath=$dir/data#" "$dir/config/jvm.options"
	chmod -R a+rX "$CACHE_DIR" 2>/dev/null || true
	[ "$(id -u)" = 0 ] && chown -R "$ENGINE_USER" "$dir"
	log "starting $name $v on 127.0.0.1:$port (ES_JAVA_HOME=$jh)"
	cd "$dir"
	setsid $(runas) env -i PATH="$PATH" HOME="$dir" ES_JAVA_HOME="$jh" ES_PATH_CONF="$dir/config" \
		ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
		"$home/bin/elasticsearch" -E cluster.name="soomcare-test${name#elasticsearch}" -E node.name="es${name#elasticsearch}1" -E discovery.type=single-node \
		-E network.host=127.0.0.1 -E http.port="$port" -E transport.port=$((port + 100)) \
		-E path.data="$dir/data" -E path.logs="$dir/logs" -E xpack.security.enabled=false \
		-E cluster.routing.allocation.disk.threshold_enabled=false >"$dir/stdout.log" 2>&1 &
	echo $! >"$RUN_DIR/$name.pid"
	wait_http "$name" "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" "$dir/stdout.log"
}

# ---------------------------------------------------------------- versitygw (S3 for uploads)
VGW_VERSION="${SOOMCARE_TEST_VERSITYGW_VERSION:-v1.8.0}"
S3_PORT="${SOOMCARE_TEST_S3_PORT:-19700}"
S3_ACCESS=soomcare-test
S3_SECRET=soomcare-test-secret

s3_up() { # any HTTP answer (an anonymous request is 403) means the gateway listens
	local code
	code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$S3_PORT/" 2>/dev/null || true)"
	[ -n "$code" ] && [ "$code" != 000 ]
}

install_versitygw() { # prints the binary; `go install` of a pinned version, cached under $CACHE_DIR
	local bin="$CACHE_DIR/versitygw-$VGW_VERSION/versitygw"
	if [ ! -x "$bin" ]; then
		command -v go >/dev/null 2>&1 || die "versitygw is built with go install: Go is missing"
		log "building versitygw $VGW_VERSION with go install (first time only, a few minutes)"
		mkdir -p "$(dirname "$bin")"
		GOBIN="$(dirname "$bin")" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$VGW_VERSION" >&2 ||
			die "go install versitygw@$VGW_VERSION failed"
	fi
	echo "$bin"
}

start_versitygw() { # versitygw's posix backend: an S3 gateway over a directory (a bucket is a folder)
	if s3_up; then
		log "versitygw already up on $S3_PORT"
		return 0
	fi
	local bin dir="$RUN_DIR/versitygw" i
	bin="$(install_versitygw)"
	mkdir -p "$dir/data"
	log "starting versitygw $VGW_VERSION on 127.0.0.1:$S3_PORT"
	setsid env -i PATH="$PATH" HOME="$dir" ROOT_ACCESS_KEY="$S3_ACCESS" ROOT_SECRET_KEY="$S3_SECRET" \
		"$bin" --quiet --port "127.0.0.1:$S3_PORT" posix "$dir/data" >"$dir/stdout.log" 2>&1 &
	echo $! >"$RUN_DIR/versitygw.pid"
	for ((i = 0; i < 100; i++)); do
		s3_up && { log "versitygw is up on 127.0.0.1:$S3_PORT"; return 0; }
		kill -0 "$(cat "$RUN_DIR/versitygw.pid")" 2>/dev/null || break
		sleep 0.2
	done
	tail -20 "$dir/stdout.log" >&2 || true
	die "versitygw failed to start"
}

# ---------------------------------------------------------------- control
stop_one() {
	local name="$1" pidf="$RUN_DIR/$1.pid" pid i
	[ -f "$pidf" ] || return 0
	pid="$(cat "$pidf")"
	if kill -0 "$pid" 2>/dev/null; then
		log "stopping $name (pid $pid)"
		# each engine runs in its own session (setsid): signal the whole group, launcher and JVMs alike
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 60; i++)); do
			kill -0 -- "-$pid" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	rm -f "$pidf"
}

fetch_one() { # download or build what NAME needs into the cache, start nothing (test.sh runs this early, in the background)
	case "$1" in
	opensearch | opensearch-cluster) install_opensearch >/dev/null ;;
	elasticsearch | elasticsearch9)
		local v _
		read -r v _ <<<"$(es_spec "$1")"
		install_elasticsearch "$v" >/dev/null
		;;
	versitygw | s3) install_versitygw >/dev/null ;;
	*) die "nothing to fetch for '$1' (want opensearch, elasticsearch, elasticsearch9 or versitygw)" ;;
	esac
}

start_one() {
	case "$1" in
	mariadb | mysql) start_mariadb ;;
	mariadb-replica) start_mariadb_replica ;;
	opensearch) start_opensearch ;;
	elasticsearch | elasticsearch9) start_elasticsearch "$1" ;;
	versitygw | s3) start_versitygw ;;
	opensearch-cluster) start_opensearch_cluster ;;
	osc1 | osc2 | osc3) start_osc_one "$1" ;;
	*) die "unknown engine '$1' (want mariadb, opensearch, elasticsearch or elasticsearch9)" ;;
	esac
}

print_env() {
	cat <<EOF
export SOOMCARE_INTEGRATION=1
export SOOMCARE_TEST_MYSQL_DSN='soomcare:soomcare@tcp(127.0.0.1:$MYSQL_PORT)/'
export SOOMCARE_TEST_OPENSEARCH_URL='http://127.0.0.1:$OS_PORT'
export SOOMCARE_TEST_ELASTICSEARCH_URL='http://127.0.0.1:$ES_PORT'
export SOOMCARE_TEST_ELASTICSEARCH9_URL='http://127.0.0.1:$ES9_PORT'
export SOOMCARE_TEST_S3_ENDPOINT='http://127.0.0.1:$S3_PORT'
export SOOMCARE_TEST_S3_ACCESS_KEY='$S3_ACCESS'
export SOOMCARE_TEST_S3_SECRET_KEY='$S3_SECRET'
export SOOMCARE_TEST_VERSITYGW_BIN='$CACHE_DIR/versitygw-$VGW_VERSION/versitygw'
export SOOMCARE_TEST_CTL='$(cd "$(dirname "$0")" && pwd)/$(basename "$0")'
EOF
	# the replica's tests skip without it: only once `up mariadb-replica` started it here
	[ ! -f "$RUN_DIR/mariadb-replica.pid" ] || echo "export SOOMCARE_TEST_MYSQL_REPLICA_DSN='soomcare_cdc:soomcare_cdc@tcp(127.0.0.1:$MYSQL_REPLICA_PORT)/'"
	# the cluster's tests skip without it: only once `up opensearch-cluster` started it here
	[ ! -f "$RUN_DIR/osc1.pid" ] || echo "export SOOMCARE_TEST_OPENSEARCH_CLUSTER_URLS='$(osc_urls)'"
}

status() {
	local rc=0
	if mysql_up; then echo "mariadb        up    127.0.0.1:$MYSQL_PORT"; else
		echo "mariadb        down"
		rc=1
	fi
	if curl -fsS -m 2 "http://127.0.0.1:$OS_PORT" >/dev/null 2>&1; then echo "opensearch     up    http://127.0.0.1:$OS_PORT"; else
		echo "opensearch     down"
		rc=1
	fi
	if curl -fsS -m 2 "http://127.0.0.1:$ES_PORT/_cluster/health" >/dev/null 2>&1; then echo "elasticsearch  up    http://127.0.0.1:$ES_PORT"; else
		echo "elasticsearch  down"
		rc=1
	fi
	# optional engines (not in the default `up` list): down counts as a failure only once started here
	if curl -fsS -m 2 "http://127.0.0.1:$ES9_PORT/_cluster/health" >/dev/null 2>&1; then echo "elasticsearch9 up    http://127.0.0.1:$ES9_PORT"; else
		echo "elasticsearch9 down"
		[ ! -f "$RUN_DIR/elasticsearch9.pid" ] || rc=1
	fi
	if replica_up; then echo "mariadb-replica up   127.0.0.1:$MYSQL_REPLICA_PORT (replicating: $(replica_running && echo yes || echo NO))"; else
		echo "mariadb-replica down"
		[ ! -f "$RUN_DIR/mariadb-replica.pid" ] || rc=1
	fi
	if s3_up; then echo "versitygw      up    http://127.0.0.1:$S3_PORT"; else
		echo "versitygw      down"
		[ ! -f "$RUN_DIR/versitygw.pid" ] || rc=1
	fi
	osc_status || rc=1
	return $rc
}

cmd="${1:-}"
shift || true
mkdir -p "$RUN_DIR"
chmod 755 "$RUN_DIR"
case "$cmd" in
up)
	need_tools
	[ $# -gt 0 ] || set -- mariadb opensearch elasticsearch versitygw
	for e in "$@"; do start_one "$e"; done
	;;
start)
	[ $# -gt 0 ] || die "start needs an engine name"
	need_tools
	for e in "$@"; do start_one "$e"; done
	;;
stop)
	[ $# -gt 0 ] || die "stop needs an engine name"
	for e in "$@"; do
		if [ "$e" = opensearch-cluster ]; then for n in $OSC_NODES; do stop_one "$n"; done; else stop_one "$e"; fi
	done
	;;
fetch) # downloads and builds only; without Maven or unzip (a fresh machine before `up` installs them) it leaves them to `up`
	[ $# -gt 0 ] || set -- opensearch elasticsearch elasticsearch9 versitygw
	for e in "$@"; do
		case "$e" in
		versitygw | s3) ;;
		*) if ! command -v mvn >/dev/null 2>&1 || ! command -v unzip >/dev/null 2>&1; then
			log "fetch $e: no mvn or unzip yet; 'up' installs them and fetches it"
			continue
		fi ;;
		esac
		fetch_one "$e"
	done
	;;
kill) # SIGKILL one engine's process group at once (a crashed node; its data stays), for disruptive tests
	[ $# -gt 0 ] || die "kill needs an engine name"
	for e in "$@"; do
		[ -f "$RUN_DIR/$e.pid" ] || die "$e was not started here"
		kill -KILL -- "-$(cat "$RUN_DIR/$e.pid")" 2>/dev/null || true
		rm -f "$RUN_DIR/$e.pid"
		log "killed $e"
	done
	;;
down)
	for e in $OSC_NODES versitygw elasticsearch9 elasticsearch opensearch mariadb-replica mariadb; do stop_one "$e"; done
	rm -rf "$RUN_DIR"
	;;
status) status ;;
env) print_env ;;
*)
	sed -n '2,/^# Idempotent/p' "$0" | sed 's/^# \{0,1\}//'
	[ -z "$cmd" ] || [ "$cmd" = help ] || [ "$cmd" = -h ] || [ "$cmd" = --help ] || exit 2
	;;
esac
