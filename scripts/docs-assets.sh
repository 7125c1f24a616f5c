#!/usr/bin/env bash
# Refresh the Swagger UI files that GET /docs serves (apidoc/docs/vendor/, embedded in the binary) from
# the npm package swagger-ui-dist, and record its version, licence and checksums in
# apidoc/docs/vendor/VERSION (apidoc's unit test checks the embedded files against them).
#
#   scripts/docs-assets.sh            the version recorded in VERSION again (verifies a clean copy)
#   scripts/docs-assets.sh 5.36.0     another version (then: go test ./apidoc/ and the browser test)
#
# Needs npm (the registry's ordinary client) and tar; nothing is installed, only `npm pack` is used.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=apidoc/docs/vendor
files=(swagger-ui-bundle.js swagger-ui.css swagger-ui-bundle.js.LICENSE.txt LICENSE NOTICE)
version="${1:-$(sed -n 's/^version: //p' "$dest/VERSION" 2>/dev/null)}"
[ -n "$version" ] || { echo "usage: $0 VERSION (no version recorded in $dest/VERSION)" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm is needed (apt-get install npm)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tar -xzf "$tmp"/swagger-ui-dist-*.tgz -C "$tmp"
pkg="$tmp/package"
got="$(node -p 'require(process.argv[1]).version' "$pkg/package.json")"
license="$(node -p 'require(process.argv[1]).license' "$pkg/package.json")"
[ "$got" = "$version" ] || { echo "npm gave swagger-ui-dist $got, asked for $version" >&2; exit 1; }

mkdir -p "$dest"
for f in "${files[@]}"; do cp "$pkg/$f" "$dest/$f"; done
{
	echo "package: swagger-ui-dist"
	echo "version: $version"
	echo "license: $license (LICENSE, NOTICE; bundled third-party notices in swagger-ui-bundle.js.LICENSE.txt)"
	echo "source: the npm registry, by scripts/docs-assets.sh; files copied unchanged"
	for f in "${files[@]}"; do echo "sha256: $(sha256sum "$dest/$f" | cut -d' ' -f1)  $f"; done
} >"$dest/VERSION"
echo "apidoc/docs/vendor: swagger-ui-dist $version ($license)"
