#!/bin/sh
# ownercache.sh OUTDIR - the on-demand sender lookup cache: the cost of a
# lookup (a hit) with 100 to 100 000 cached logins, from one thread and
# from OWNERCACHE_THREADS at once.  Writes OUTDIR/ownercache.tsv and
# OUTDIR/ownercache.md.
#
# Environment: BUILD (default build), OWNERCACHE_SIZES (default
# "100 1000 10000 100000"), OWNERCACHE_THREADS (default 4),
# OWNERCACHE_SECONDS (per measurement, default 2).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
BUILD=${BUILD:-build}
bin=$BUILD/contrib/bench/ownercache
sizes=${OWNERCACHE_SIZES:-100 1000 10000 100000}
threads=${OWNERCACHE_THREADS:-4}
secs=${OWNERCACHE_SECONDS:-2}
[ -x "$bin" ] || { echo "$0: no $bin (build with -DRM_BENCH=ON)" >&2; exit 1; }
mkdir -p "$out"
printf 'logins\tthreads\thits\tmisses\twall_ns\tcpu_ns\n' >"$out/ownercache.tsv"
for n in $sizes; do
	"$bin" "$n" "$threads" "$secs" |
		sed -n 's/.*logins=\([0-9]*\) threads=\([0-9]*\) hits=\([0-9]*\) misses=\([0-9]*\) wall_ns_per_lookup=\([0-9]*\) cpu_ns_per_lookup=\([0-9]*\).*/\1\t\2\t\3\t\4\t\5\t\6/p' \
		>>"$out/ownercache.tsv"
done
{
	echo "## On-demand sender lookup cache"
	echo
	echo "| logins | threads | wall ns/lookup | CPU ns/lookup | misses |"
	echo "|---:|---:|---:|---:|---:|"
	awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s |\n", $1, $2, $5, $6, $4 }' "$out/ownercache.tsv"
	echo
	big=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -1)
	cpu=$(awk -F'\t' -v n="$big" '$1 == n && $2 == 1 { print $6 }' "$out/ownercache.tsv")
	echo "Target: <= 1000 ns per hit at $big logins (one thread, CPU): $cpu ns:" \
		"$([ "${cpu:-99999}" -le 1000 ] && echo met || echo MISSED)"
} >"$out/ownercache.md"
cat "$out/ownercache.md"
