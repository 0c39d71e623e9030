#!/bin/sh
# proto-profile.sh OUTDIR - where relaymilter's time goes above the floor:
# the counts that do not move with the machine's other load.
#
# For relaymilter and the empty filter, each under the same miltload
# sessions as proto.sh (accept and refuse workloads, concurrency 8):
#   - callgrind: user-space instructions (Ir) per session, and
#     relaymilter's functions (inclusive Ir per session);
#   - strace -f -c: system calls per session;
#   - perf (cpu-clock samples, if perf works here): the share of kernel,
#     libc, libmilter and relaymilter in the filter's CPU time.
# Writes OUTDIR/profile.md, and keeps the raw files in OUTDIR/profile/.
#
# Environment: BUILD (default ./build of the source tree), SESSIONS
# (default 2000; callgrind runs ~50x slower), WARMUP (default 200),
# PERF_SESSIONS (default 20000).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=protolib.sh
. "$here/protolib.sh"
BUILD=${BUILD:-$src/build}
SESSIONS=${SESSIONS:-2000}
WARMUP=${WARMUP:-200}
PERF_SESSIONS=${PERF_SESSIONS:-20000}
for v in "$SESSIONS" "$WARMUP" "$PERF_SESSIONS"; do
	case $v in '' | *[!0-9]*) echo "$0: not a number: $v" >&2; exit 64 ;; esac
done
[ "$SESSIONS" -ge 1 ] && [ "$PERF_SESSIONS" -ge 1 ] || { echo "$0: SESSIONS must be >= 1" >&2; exit 64; }
command -v valgrind >/dev/null || { echo "$0: needs valgrind" >&2; exit 69; }
command -v strace >/dev/null || { echo "$0: needs strace" >&2; exit 69; }

mkdir -p "$1/profile"
OUT=$(cd "$1" && pwd)
P=$OUT/profile
sock=$(mktemp -d /tmp/proto-profile.XXXXXX)
pid= tool_pid=
cleanup() {
	[ -z "$tool_pid" ] || kill -KILL "$tool_pid" 2>/dev/null || true
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$sock"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

proto_build
conf=$here/proto.conf

args() {
	case $1 in
	accept) echo "-a 203.0.113.5 -f sender@example.org -r user%d@example.com" ;;
	refuse) echo "-a 203.0.113.5 -f sender@example.org -r user%d@remote.example" ;;
	esac
}

# start WRAPPER... FILTER - run a filter (maybe under a tool) on $sock/m.sock
start() {
	f=$1
	shift
	rm -f "$sock/m.sock"
	case $f in
	relaymilter) "$@" "$rm_bin" -f -c "$conf" -p "unix:$sock/m.sock" 2>"$P/relaymilter.log" & ;;
	empty) "$@" "$EMPTY" -p "unix:$sock/m.sock" & ;;
	esac
	pid=$!
	i=0
	while [ ! -S "$sock/m.sock" ]; do
		kill -0 "$pid" 2>/dev/null || { echo "$0: $f did not start" >&2; exit 1; }
		[ $i -lt 600 ] || { echo "$0: $f: no socket" >&2; exit 1; }
		sleep 0.1
		i=$((i + 1))
	done
}
stop() {
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}
# load N WORKLOAD
load() {
	# shellcheck disable=SC2046
	"$LOAD" -s "unix:$sock/m.sock" -n "$1" -c 8 -t 60 $(args "$2") >"$sock/load.tsv" 2>"$sock/load.err" || {
		cat "$sock/load.err" >&2
		exit 1
	}
}

for w in accept refuse; do
	for f in relaymilter empty; do
		echo "profile: $w $f: callgrind" >&2
		rm -f "$P/cg.$w.$f".*
		start "$f" valgrind --tool=callgrind \
			--callgrind-out-file="$P/cg.$w.$f.out"
		load "$WARMUP" "$w"
		# count the measured sessions only: zero, run, dump (.out.1)
		callgrind_control -z "$pid" >/dev/null
		load "$SESSIONS" "$w"
		callgrind_control -d "$pid" >/dev/null
		stop
		mv "$P/cg.$w.$f.out.1" "$P/cg.$w.$f"
		rm -f "$P/cg.$w.$f".*

		echo "profile: $w $f: strace" >&2
		start "$f"
		load "$WARMUP" "$w"
		strace -f -c -o "$P/strace.$w.$f" -p "$pid" 2>/dev/null &
		tool_pid=$!
		sleep 1 # strace attaches to every thread
		load "$SESSIONS" "$w"
		kill -INT "$tool_pid" 2>/dev/null || true
		wait "$tool_pid" || true
		tool_pid=
		stop
	done
done

have_perf=no
if command -v perf >/dev/null && perf record -e cpu-clock -o "$sock/p" true >/dev/null 2>&1; then
	have_perf=yes
	for f in relaymilter empty; do
		echo "profile: accept $f: perf" >&2
		start "$f"
		load "$WARMUP" accept
		perf record -F 2999 -e cpu-clock -g -p "$pid" -o "$P/perf.accept.$f.data" >/dev/null 2>&1 &
		tool_pid=$!
		sleep 0.5
		load "$PERF_SESSIONS" accept
		kill -INT "$tool_pid" 2>/dev/null || true
		wait "$tool_pid" || true
		tool_pid=
		stop
	done
fi

# Ir per session: the "PROGRAM TOTALS" line / sessions
ir() {
	callgrind_annotate --auto=no "$P/cg.$1.$2" 2>/dev/null |
		awk -v n="$SESSIONS" '/PROGRAM TOTALS/ { gsub(",", "", $1); printf "%.0f", $1 / n }'
}
sys() { # total system calls per session
	awk -v n="$SESSIONS" '$NF == "total" { printf "%.1f", $4 / n }' "$P/strace.$1.$2"
}

{
	echo "# Where relaymilter's time goes, above the floor"
	echo
	echo "relaymilter $(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown);"
	echo "$SESSIONS measured sessions (after $WARMUP) per tool and filter, 1 message x 1"
	echo "recipient, concurrency 8, the workloads of proto.sh.  Instruction and"
	echo "system call counts do not depend on what else the machine runs."
	echo
	echo "## Per session"
	echo
	echo "| workload | filter | user-space instructions (Ir) | system calls |"
	echo "|---|---|---|---|"
	for w in accept refuse; do
		for f in relaymilter empty; do
			echo "| $w | $f | $(ir $w $f) | $(sys $w $f) |"
		done
	done
	echo
	for w in accept refuse; do
		echo "## System calls per session, $w"
		echo
		echo "| syscall | relaymilter | empty |"
		echo "|---|---|---|"
		awk -v n="$SESSIONS" '
			FNR == 1 { file++ }
			/^ *[0-9]/ && $NF != "total" { calls[$NF, file] = $4; names[$NF] = 1 }
			END { for (s in names) if (calls[s, 1] + 0 >= n / 10 || calls[s, 2] + 0 >= n / 10)
				printf "| %s | %.2f | %.2f |\n", s, calls[s, 1] / n, calls[s, 2] / n }' \
			"$P/strace.$w.relaymilter" "$P/strace.$w.empty" | sort
		echo
	done
	for w in accept refuse; do
		echo "## relaymilter's own functions, $w (inclusive Ir per session)"
		echo
		echo '```'
		# the object-qualified rows only (inlined code shows up twice)
		callgrind_annotate --auto=no --inclusive=yes "$P/cg.$w.relaymilter" 2>/dev/null |
			grep -E '[ /]milter/[a-z]+\.c:.*relaymilter\]$' | head -25 |
			awk -v n="$SESSIONS" '{ x = $1; gsub(",", "", x); fn = $0; sub(/ \[.*$/, "", fn); sub(/^.*[ \/]milter\//, "", fn)
				printf "%8.0f  %s\n", x / n, fn }'
		echo '```'
		echo
	done
	echo "## Top functions by self cost, accept, relaymilter (Ir per session)"
	echo
	echo '```'
	callgrind_annotate --auto=no --inclusive=no "$P/cg.accept.relaymilter" 2>/dev/null |
		awk -v n="$SESSIONS" '/file:function/ { go = 1; getline; next }
			go && NF >= 2 && $1 ~ /^[0-9,]+$/ && k < 30 { x = $1; gsub(",", "", x); fn = $0
				sub(/^ *[0-9,]+ *\([^)]*\) */, "", fn); sub(/ \[.*$/, "", fn)
				printf "%8.0f  %s\n", x / n, fn; k++ }'
	echo '```'
	if [ $have_perf = yes ]; then
		echo
		echo "## CPU time by binary (perf, cpu-clock samples, accept, $PERF_SESSIONS sessions)"
		echo
		for f in relaymilter empty; do
			echo "$f:"
			echo '```'
			perf report -i "$P/perf.accept.$f.data" --no-children -g none --sort dso 2>/dev/null |
				grep -v '^#' | grep -v '^$' | head -6
			echo '```'
		done
	fi
} >"$OUT/profile.md"
echo "profile: wrote $OUT/profile.md" >&2
