#!/bin/sh
# limits.sh OUTDIR - the limits' memory store: the memory of a million
# distinct keys (one (limit, login) entry each, as the daemon keeps them)
# and the cost of counting a recipient for a new and for a known key.
# Writes OUTDIR/limits.tsv and OUTDIR/limits.md.
#
# Environment: BUILD (default build), LIMITS_KEYS (default "10000 100000
# 1000000"; each runs in a fresh process), LIMITS_ROUNDS (passes over the
# known keys, default 3).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
BUILD=${BUILD:-build}
bin=$BUILD/contrib/bench/limits
sizes=${LIMITS_KEYS:-10000 100000 1000000}
rounds=${LIMITS_ROUNDS:-3}
[ -x "$bin" ] || { echo "$0: no $bin (build with -DRM_BENCH=ON)" >&2; exit 1; }
mkdir -p "$out"
printf 'keys\tkept\trss_kb\thwm_kb\tbytes_per_key\tns_new\tns_known\n' >"$out/limits.tsv"
for n in $sizes; do
	"$bin" "$n" "$rounds" |
		sed -n 's/.*keys=\([0-9]*\) kept=\([0-9]*\) errors=0 rss0_kb=[0-9]* rss_kb=\([0-9]*\) hwm_kb=\([0-9]*\) bytes_per_key=\([0-9]*\) ns_per_new_hit=\([0-9]*\) ns_per_known_hit=\([0-9]*\).*/\1\t\2\t\3\t\4\t\5\t\6\t\7/p' \
		>>"$out/limits.tsv"
done
# the section: the table, then the target at the largest size
awk -F'\t' 'NR == 1 {
	print "## Limits: the memory store\n"
	print "| keys | entries kept | RSS MB | peak RSS MB | bytes/key | ns/hit, new key | ns/hit, known key |"
	print "|---:|---:|---:|---:|---:|---:|---:|"
	next
}
{
	printf "| %s | %s | %.1f | %.1f | %s | %s | %s |\n", $1, $2, $3 / 1024, $4 / 1024, $5, $6, $7
	if ($1 + 0 >= big + 0) { big = $1; hwm = $4 / 1024 }
}
END {
	ok = big >= 1000000 && hwm <= 200 ? "met" : "MISSED"
	printf "\nTarget: <= 200 MB at 1000000 keys (peak RSS at %s keys): %.0f MB: %s\n", big, hwm, ok
}' "$out/limits.tsv" >"$out/limits.md"
cat "$out/limits.md"
