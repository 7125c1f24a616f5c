#!/usr/bin/env bash
# Checks the alerting code in ops/: promtool check/test rules (every alert fires on a synthetic series
# and resolves) and amtool check-config. Needs no engines.
#
# promtool and amtool come from Debian's prometheus and prometheus-alertmanager packages, fetched with
# `apt-get download` and unpacked with `dpkg -x` into the cache (no daemon is installed or started).
# Binaries already on PATH (or SOOMCARE_PROMTOOL / SOOMCARE_AMTOOL) are used as they are.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then DEFAULT_CACHE=/var/cache/soomcare; else DEFAULT_CACHE="$HOME/.cache/soomcare"; fi
CACHE_DIR="${SOOMCARE_CACHE_DIR:-$DEFAULT_CACHE}"
TOOLS="$CACHE_DIR/ops-tools"

log() { printf '[ops-check] %s\n' "$*" >&2; }

# extract PACKAGE BINARY: prints the path of BINARY from PACKAGE, unpacked once into $TOOLS.
extract() {
	local pkg=$1 bin=$2 root="$TOOLS/$1"
	if [ ! -x "$root/usr/bin/$bin" ]; then
		command -v apt-get >/dev/null || { log "apt-get missing: install $bin or set SOOMCARE_${bin^^}"; exit 1; }
		local dl
		dl="$(mktemp -d)"
		log "fetching $pkg from Debian (apt-get download + dpkg -x into $root)"
		if ! (cd "$dl" && apt-get download "$pkg" >/dev/null 2>&1); then
			apt-get update >/dev/null
			(cd "$dl" && apt-get download "$pkg" >/dev/null)
		fi
		rm -rf "$root" && mkdir -p "$root"
		dpkg -x "$dl"/"$pkg"_*.deb "$root"
		rm -rf "$dl"
	fi
	echo "$root/usr/bin/$bin"
}

tool() { # tool NAME PACKAGE
	local override="SOOMCARE_${1^^}"
	if [ -n "${!override:-}" ]; then echo "${!override}"; return; fi
	if command -v "$1" >/dev/null; then command -v "$1"; return; fi
	extract "$2" "$1"
}

promtool="$(tool promtool prometheus)"
amtool="$(tool amtool prometheus-alertmanager)"
"$promtool" --version 2>&1 | head -1
"$amtool" --version 2>&1 | head -1

"$promtool" check rules ops/prometheus/rules.yml
"$promtool" check config ops/prometheus/prometheus.yml
(cd ops/prometheus && "$promtool" test rules rules_test.yml)
"$amtool" check-config ops/alertmanager/alertmanager.yml
# The Slack templates render (amtool's example alerts) with their Korean text.
(cd ops/alertmanager && "$amtool" template render --template.glob='templates/*.tmpl' \
	--template.text='{{ template "soomcare.slack.title" . }} {{ template "soomcare.slack.text" . }}') | grep -q '대응 절차'
echo "ops-check: rules, rule tests and alertmanager config OK"
