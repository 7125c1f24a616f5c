#!/usr/bin/env bash
# Statement coverage of the non-test code from a cover profile written with -coverpkg=./... (the test
# command's integration step: unit and integration tests together). A block several test binaries cover
# appears once per binary in the profile; it counts as covered when any of them ran it. Test-helper
# packages (internal/test*, …test) are test code and not counted.
#
#   scripts/coverage.sh PROFILE        the total and each package, lowest first
set -euo pipefail
profile="${1:?usage: scripts/coverage.sh PROFILE}"
module="$(go list -m)"
awk -v module="$module/" '
	NR == 1 { next } # mode: set
	{
		split($1, a, ":"); file = a[1]
		block = $1; stmts = $2; count = $3
		if (!(block in seen)) { seen[block] = 1; n[block] = stmts; pkgOf[block] = file }
		if (count > 0) hit[block] = 1
	}
	END {
		for (b in seen) {
			f = pkgOf[b]; sub(/\/[^\/]*$/, "", f); sub(module, "", f)
			if (f ~ /test$/ || f ~ /^internal\/test/) continue # test helpers (internal/testdb, records/caretest…)
			total[f] += n[b]; all += n[b]
			if (b in hit) { covered[f] += n[b]; allc += n[b] }
		}
		for (p in total) printf "%5.1f%%  %6d statements  %s\n", 100 * covered[p] / total[p], total[p], p | "sort -n"
		close("sort -n")
		printf "total: %.1f%% of %d statements (unit and integration tests together)\n", 100 * allc / all, all
	}
' "$profile"
