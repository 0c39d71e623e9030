#!/bin/sh
# proto.sh OUTDIR - the milter protocol benchmark: relaymilter against the
# floor libmilter allows (emptymilter, the same negotiation and no work),
# both driven by miltload over a unix socket the way Postfix drives a
# milter.  Target: relaymilter's sessions/s >= 0.95 x the empty filter's.
#
# For each workload and concurrency the two filters run alternately
# (ABAB..., the order turned every run), each run on a freshly started
# filter: a warm-up of $WARMUP sessions, then $SESSIONS measured ones.
#
#   accept  an untrusted client (203.0.113.5), a foreign sender, RCPT to a
#           local domain: relaymilter continues (rule=local_domains)
#   refuse  the same client relaying to a remote domain: relaymilter
#           answers 550 5.7.1 (rule=relay_denied)
#   submit  authenticated submission: login alice on the submission
#           listener, sender and From: alice@example.com, RCPT to a remote
#           domain, the message sent (-e data): relaymilter continues
#           (rule=authenticated, and rule=header_from at the end of
#           headers where it is on)
#
# The filters each workload compares (workload_filters) and the floor
# each is judged against (floor_of):
#   relaymilter  proto.conf: checks.header_from off everywhere
#   rm-hf        proto.conf with checks.header_from = "reject" on the
#                submission listener: the headers and the end of headers
#                negotiated for every connection (OUTDIR/relaymilter-hf.conf)
#   empty        emptymilter: relaymilter's negotiation, no work
#   empty-hdr    emptymilter -h: rm-hf's negotiation, no work
# miltload -P records what each run negotiated (OUTDIR/negotiation.tsv);
# the run fails unless relaymilter's equals empty's, rm-hf's equals
# empty-hdr's, and only the header_from filters have the header and
# end-of-headers steps.
#
# relaymilter runs as in production, at the default log level (info: one
# line per decision), with -f, so the lines go to stderr: redirected to a
# file (OUTDIR/relaymilter.log, rewritten every run, its line count
# checked against the decisions made).  For the accept workload at the
# first concurrency, two more variants run in the same alternation:
# rm-devnull (stderr to /dev/null: formatting without the write) and
# rm-nolog (log_level = "warning": no decision line at all).
#
# Writes
#   OUTDIR/proto.md     the report
#   OUTDIR/proto.tsv    one row per workload, concurrency, filter, step:
#                       sessions/s median/min/max, p50/p99 (medians of the
#                       runs'), filter CPU per session, ratio to empty
#   OUTDIR/runs.tsv     every run's miltload rows, with the filter's CPU
#                       and the CPU others used meanwhile
#   OUTDIR/relaymilter.conf  the policy used (contrib/bench/proto.conf)
#
# Environment: BUILD (the cmake build directory, default ./build of the
# source tree; relaymilter, miltload and emptymilter are built there if
# missing), RUNS (>= 3, default 9), SESSIONS (default 10000), WARMUP
# (default 1000), CONC (default "8 32"), RCPTS (per message, default 1),
# MSGS (per connection, default 1), WORKLOADS (default "accept refuse
# submit").
set -eu

usage() {
	echo "usage: $0 OUTDIR   (env: BUILD RUNS SESSIONS WARMUP CONC RCPTS MSGS WORKLOADS)" >&2
	exit 64
}
[ $# -eq 1 ] || usage
case $1 in -*) usage ;; esac

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=protolib.sh
. "$here/protolib.sh"
OUT=$1
BUILD=${BUILD:-$src/build}
RUNS=${RUNS:-9}
SESSIONS=${SESSIONS:-10000}
WARMUP=${WARMUP:-1000}
CONC=${CONC:-"8 32"}
RCPTS=${RCPTS:-1}
MSGS=${MSGS:-1}
WORKLOADS=${WORKLOADS:-accept refuse submit}
TARGET=0.95

isnum() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }
for v in RUNS SESSIONS WARMUP RCPTS MSGS; do
	eval "x=\$$v"
	isnum "$x" || { echo "$0: $v=$x: not a number" >&2; exit 64; }
done
[ "$RUNS" -ge 3 ] || { echo "$0: RUNS must be >= 3" >&2; exit 64; }
[ "$SESSIONS" -ge 1 ] || { echo "$0: SESSIONS must be >= 1" >&2; exit 64; }
for c in $CONC; do
	isnum "$c" && [ "$c" -ge 1 ] || { echo "$0: CONC: bad \"$c\"" >&2; exit 64; }
done
for w in $WORKLOADS; do
	case $w in accept | refuse | submit) ;; *) echo "$0: WORKLOADS: bad \"$w\"" >&2; exit 64 ;; esac
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# unix socket paths are short: keep the sockets out of OUTDIR
sock=$(mktemp -d /tmp/proto.XXXXXX)
milter_pid=

# stop_milter - SIGKILL: the run is over and measured, and libmilter's
# listener takes up to 5 s more to notice a SIGTERM
stop_milter() {
	[ -n "$milter_pid" ] || return 0
	kill -KILL "$milter_pid" 2>/dev/null || true
	wait "$milter_pid" 2>/dev/null || true
	milter_pid=
}
cleanup() {
	stop_milter
	rm -rf "$sock"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build --------------------------------------------------------------
proto_build

# --- the policy: a production-like config ---------------------------------
conf=$OUT/relaymilter.conf
cp "$here/proto.conf" "$conf"
sed 's/^log_level = "info";/log_level = "warning";/' "$conf" >"$OUT/relaymilter-nolog.conf"
# rm-hf: header_from on in one listener profile only, as a site would
sed 's/^\(\tsubmission = { require_auth = true;\) };$/\1 checks = { header_from = "reject"; }; };/' \
	"$conf" >"$OUT/relaymilter-hf.conf"
grep -q 'header_from = "reject"' "$OUT/relaymilter-hf.conf" || {
	echo "proto: no submission listener in proto.conf to turn header_from on in" >&2
	exit 1
}
for f in "$conf" "$OUT/relaymilter-nolog.conf" "$OUT/relaymilter-hf.conf"; do
	"$rm_bin" -n -c "$f" >/dev/null
done

# --- helpers --------------------------------------------------------------
tck=$(getconf CLK_TCK)

# proc_ticks PID - utime + stime of the whole process, in ticks
proc_ticks() {
	# the command name may hold spaces: count fields after ") "
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
# busy_ticks - ticks the machine was busy, all CPUs
busy_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# start_milter KIND - start one filter on $sock/m.sock; sets milter_pid
start_milter() {
	rm -f "$sock/m.sock"
	case $1 in
	relaymilter)
		"$rm_bin" -f -c "$conf" -p "unix:$sock/m.sock" \
			2>"$OUT/relaymilter.log" &
		;;
	rm-devnull)
		"$rm_bin" -f -c "$conf" -p "unix:$sock/m.sock" 2>/dev/null &
		;;
	rm-nolog)
		"$rm_bin" -f -c "$OUT/relaymilter-nolog.conf" \
			-p "unix:$sock/m.sock" 2>"$OUT/relaymilter.log" &
		;;
	rm-hf)
		"$rm_bin" -f -c "$OUT/relaymilter-hf.conf" \
			-p "unix:$sock/m.sock" 2>"$OUT/relaymilter.log" &
		;;
	empty)
		"$EMPTY" -p "unix:$sock/m.sock" &
		;;
	empty-hdr)
		"$EMPTY" -h -p "unix:$sock/m.sock" &
		;;
	esac
	milter_pid=$!
	i=0
	while [ ! -S "$sock/m.sock" ]; do
		kill -0 "$milter_pid" 2>/dev/null || {
			echo "proto: $1 did not start" >&2
			exit 1
		}
		[ $i -lt 100 ] || { echo "proto: $1: no socket after 10 s" >&2; exit 1; }
		sleep 0.1
		i=$((i + 1))
	done
}

# workload_args WORKLOAD - the miltload options of a workload
workload_args() {
	case $1 in
	accept) echo "-a 203.0.113.5 -N unknown -H client.example.org -f sender@example.org -r user%d@example.com" ;;
	refuse) echo "-a 203.0.113.5 -N unknown -H client.example.org -f sender@example.org -r user%d@remote.example" ;;
	submit) echo "-a 203.0.113.5 -N unknown -H client.example.org -D submission -A alice -f alice@example.com -r user%d@remote.example -e data" ;;
	esac
}
# workload_filters WORKLOAD - the filters compared (the extra logging
# variants of accept are added below)
workload_filters() {
	case $1 in
	submit) echo "relaymilter rm-hf empty empty-hdr" ;;
	*) echo "relaymilter empty" ;;
	esac
}
# floor_of FILTER - the empty filter with the same negotiation, or "-"
floor_of() {
	case $1 in
	rm-hf) echo empty-hdr ;;
	empty | empty-hdr) echo - ;;
	*) echo empty ;;
	esac
}
# off_of FILTER - the same filter with header_from off, or "-"
off_of() {
	case $1 in
	rm-hf) echo relaymilter ;;
	empty-hdr) echo empty ;;
	*) echo - ;;
	esac
}
# is_rm FILTER - a relaymilter, whose decision lines are counted
is_rm() { case $1 in relaymilter | rm-hf | rm-nolog | rm-devnull) return 0 ;; esac; return 1; }
# awk functions of the summary and the report: sortn (in place), median
# ("-" of none), kvmap ("k=v k=v ..." into an array)
awklib='
function sortn(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
}
function median(s,   a, n) {
	n = split(s, a, " ")
	if (n == 0) return "-"
	sortn(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function kvmap(s, arr,   fl, kv, i, n) {
	n = split(s, fl, " ")
	for (i = 1; i <= n; i++) { split(fl[i], kv, "="); arr[kv[1]] = kv[2] }
}
'
floors='' offs=''
for m in relaymilter rm-hf rm-devnull rm-nolog empty empty-hdr; do
	floors="$floors $m=$(floor_of "$m")"
	offs="$offs $m=$(off_of "$m")"
done

runs=$OUT/runs.tsv
negs=$OUT/negotiation.tsv
printf 'workload\tconc\tmilter\trun\tversion\tactions\tprotocol\tflags\tsteps\tvaried\n' >"$negs"
printf 'workload\tconc\tmilter\trun\tstep\tsent\treplied\tp50_us\tp99_us\tmax_us\tcontinue\taccept\treject\ttempfail\treplycode\tother\tsessions\terrors\telapsed_s\tsessions_per_s\tclient_cpu_s\tmilter_cpu_s\tmilter_cpu_us_per_session\tothers_cpu_cores\tloadavg1\n' >"$runs"
bad=0

# one_run WORKLOAD CONC MILTER RUN
one_run() {
	w=$1 c=$2 m=$3 r=$4
	args=$(workload_args "$w")
	start_milter "$m"
	# shellcheck disable=SC2086
	"$LOAD" -s "unix:$sock/m.sock" -n "$WARMUP" -c "$c" -k "$RCPTS" \
		-m "$MSGS" $args -l warmup >/dev/null 2>"$sock/warm.err" || {
		echo "proto: $w c=$c $m run $r: warm-up failed:" >&2
		cat "$sock/warm.err" >&2
		exit 1
	}
	load1=$(cut -d' ' -f1 /proc/loadavg)
	t0=$(proc_ticks "$milter_pid")
	b0=$(busy_ticks)
	rc=0
	# shellcheck disable=SC2086
	"$LOAD" -s "unix:$sock/m.sock" -n "$SESSIONS" -c "$c" -k "$RCPTS" \
		-m "$MSGS" $args -l "$w:$c:$m:$r" -o "$sock/run.tsv" \
		-P "$sock/neg.tsv" 2>"$sock/run.err" || rc=$?
	t1=$(proc_ticks "$milter_pid")
	b1=$(busy_ticks)
	stop_milter
	if [ $rc -ne 0 ]; then
		echo "proto: $w c=$c $m run $r: miltload failed ($rc):" >&2
		cat "$sock/run.err" >&2
		bad=1
	fi
	# expected RCPT replies (end of headers and of message: continue),
	# and one log line per decision
	kind=continue
	case $w:$m in refuse:empty*) ;; refuse:*) kind=replycode ;; esac
	awk -F'\t' -v kind="$kind" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$2 == "rcpt" && $(col["replied"]) != $(col[kind]) {
			print "proto: " $1 ": " $(col[kind]) " of " \
			    $(col["replied"]) " RCPT replies were " kind; bad = 1 }
		($2 == "eoh" || $2 == "eom") && $(col["replied"]) != $(col["continue"]) {
			print "proto: " $1 ": " $(col["continue"]) " of " \
			    $(col["replied"]) " " $2 " replies were continue"; bad = 1 }
		END { exit bad }' "$sock/run.tsv" >&2 || bad=1
	# what was negotiated: header and end of headers only with header_from
	printf '%s\t%s\t%s\t%s\t' "$w" "$c" "$m" "$r" >>"$negs"
	cat "$sock/neg.tsv" >>"$negs"
	hf=no
	case $m in rm-hf | empty-hdr) hf=yes ;; esac
	awk -F'\t' -v hf="$hf" -v what="$w c=$c $m run $r" '
		{ on = $5 !~ /(^| )header:off/ && $5 !~ /(^| )eoh:off/
		  off = $5 ~ /(^| )header:off/ && $5 ~ /(^| )eoh:off/ }
		$6 != 0 { print "proto: " what ": " $6 " sessions negotiated differently"; bad = 1 }
		hf == "yes" && !(on && $4 ~ /(^| )NR_HDR( |$)/) { print "proto: " what ": headers not negotiated: " $4; bad = 1 }
		hf == "no" && !off { print "proto: " what ": headers negotiated: " $4; bad = 1 }
		END { exit bad }' "$sock/neg.tsv" >&2 || bad=1
	if is_rm "$m" && [ "$m" != rm-devnull ]; then
		# a decision per RCPT, and one at each end of headers answered
		want=$(awk -F'\t' '$2 == "rcpt" || $2 == "eoh" { n += $4 } END { print n + 0 }' "$sock/run.tsv")
		per=$RCPTS
		[ "$m" = rm-hf ] && [ "$w" = submit ] && per=$((per + 1))
		want=$((want + WARMUP * MSGS * per))
		[ "$m" = rm-nolog ] && want=0
		got=$(grep -c ' rule=' "$OUT/relaymilter.log" || true)
		if [ "$got" -ne "$want" ]; then
			echo "proto: $w c=$c $m run $r: $got decision lines for $want decisions" >&2
			bad=1
		fi
	fi
	awk -F'\t' -v OFS='\t' -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" \
	    -v tck="$tck" -v load1="$load1" '
		NR == 1 { next }
		{
			split($1, l, ":")
			mcpu = (t1 - t0) / tck
			per = $14 > 0 ? mcpu * 1e6 / $14 : 0
			others = $16 > 0 ? ((b1 - b0) / tck - mcpu - $18) / $16 : 0
			if (others < 0) others = 0
			$1 = l[1] OFS l[2] OFS l[3] OFS l[4]
			print $0, sprintf("%.3f", mcpu), sprintf("%.1f", per), \
			    sprintf("%.2f", others), load1
		}' "$sock/run.tsv" >>"$runs"
	sps=$(awk -F'\t' '$2 == "session" { print $17 }' "$sock/run.tsv")
	printf 'proto: %-6s c=%-3s %-11s run %s: %s sessions/s\n' "$w" "$c" "$m" "$r" "$sps" >&2
}

# --- the runs -------------------------------------------------------------
first_conc=$(echo $CONC | cut -d' ' -f1)
started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
for w in $WORKLOADS; do
	for c in $CONC; do
		# shellcheck disable=SC2046
		set -- $(workload_filters "$w")
		if [ "$w" = accept ] && [ "$c" = "$first_conc" ]; then
			set -- "$@" rm-devnull rm-nolog
		fi
		r=1
		while [ $r -le "$RUNS" ]; do
			# turn the order every run: ABAB..., then BABA...
			for m in "$@"; do
				one_run "$w" "$c" "$m" "$r"
			done
			first=$1
			shift
			set -- "$@" "$first"
			r=$((r + 1))
		done
	done
done

# every filter negotiated what its floor did (the comparison is fair)
awk -F'\t' -v floors="$floors" "$awklib"'
	NR == 1 { kvmap(floors, floor); next }
	{ p[$1, $3] = $7; w[$1] = 1; m[$3] = 1 }
	END {
		for (x in w)
			for (y in m)
				if (floor[y] != "-" && ((x, y) in p) && ((x, floor[y]) in p) && p[x, y] != p[x, floor[y]]) {
					print "proto: " x ": " y " negotiated " p[x, y] ", its floor " floor[y] " " p[x, floor[y]]
					bad = 1
				}
		exit bad
	}' "$negs" >&2 || bad=1

# --- summary --------------------------------------------------------------
# medians over runs.  The ratio judged is the median of the per-run ratios
# (run i of a filter against run i of its floor, floor_of, adjacent in
# time), with their range, the ratio of the medians, and the median over
# the "quiet" pairs only (both runs with < 0.1 core used by other
# processes)
awk -F'\t' -v OFS='\t' -v target="$TARGET" -v floors="$floors" "$awklib"'
function mini(s,   a, n) { n = split(s, a, " "); sortn(a, n); return a[1] }
function maxi(s,   a, n) { n = split(s, a, " "); sortn(a, n); return a[n] }
NR == 1 { kvmap(floors, floor); next }
{
	cell = $1 OFS $2 OFS $3
	if (!(cell in seen)) { seen[cell] = 1; cells[++ncells] = cell }
	if (!(($1 OFS $2 OFS $3 OFS $5) in sseen)) {
		sseen[$1 OFS $2 OFS $3 OFS $5] = 1
		steps[cell] = steps[cell] " " $5
	}
	k = cell OFS $5
	if ($8 != "-") { p50[k] = p50[k] " " $8; p99[k] = p99[k] " " $9 }
	if ($5 == "session") {
		sps[cell] = sps[cell] " " $20
		cpu[cell] = cpu[cell] " " $23
		run_sps[cell, $4] = $20
		run_oth[cell, $4] = $24
		nrun[cell] = $4 > nrun[cell] ? $4 : nrun[cell]
	}
}
END {
	print "workload", "conc", "milter", "step", "runs", "sessions_per_s_median",
	    "sessions_per_s_min", "sessions_per_s_max", "p50_us_median",
	    "p99_us_median", "milter_cpu_us_per_session_median",
	    "ratio_of_medians", "ratio_pairs_median", "ratio_min", "ratio_max",
	    "quiet_pairs", "ratio_quiet_median", "target", "verdict", "floor"
	for (i = 1; i <= ncells; i++) {
		cell = cells[i]
		split(cell, f, OFS)
		fm = (f[3] in floor) ? floor[f[3]] : "-"
		e = f[1] OFS f[2] OFS fm
		ratio = pmed = rmin = rmax = qmed = verdict = "-"
		nq = 0
		if (fm != "-" && (e in sps)) {
			ratio = sprintf("%.3f", median(sps[cell]) / median(sps[e]))
			rr = qr = ""
			for (r = 1; r <= nrun[cell]; r++)
				if (((cell, r) in run_sps) && ((e, r) in run_sps) && run_sps[e, r] > 0) {
					x = run_sps[cell, r] / run_sps[e, r]
					rr = rr " " x
					if (run_oth[cell, r] < 0.1 && run_oth[e, r] < 0.1) {
						qr = qr " " x
						nq++
					}
				}
			if (rr != "") {
				pmed = sprintf("%.3f", median(rr))
				rmin = sprintf("%.3f", mini(rr))
				rmax = sprintf("%.3f", maxi(rr))
				verdict = pmed + 0 >= target ? "meets" : "short"
			}
			if (qr != "")
				qmed = sprintf("%.3f", median(qr))
		}
		n = split(sps[cell], tmp, " ")
		ns = split(steps[cell], st, " ")
		for (j = 1; j <= ns; j++) {
			k = cell OFS st[j]
			print cell, st[j], n, sprintf("%.1f", median(sps[cell])),
			    mini(sps[cell]), maxi(sps[cell]),
			    (k in p50) ? sprintf("%.1f", median(p50[k])) : "-",
			    (k in p99) ? sprintf("%.1f", median(p99[k])) : "-",
			    sprintf("%.1f", median(cpu[cell])), ratio, pmed, rmin,
			    rmax, nq, qmed, ">=" target, verdict, fm
		}
	}
}' "$runs" >"$OUT/proto.tsv"

# --- the report -----------------------------------------------------------
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$src" status --porcelain -- milter include 2>/dev/null | head -1)
[ -z "$dirty" ] || commit="$commit (milter/ or include/ modified)"
libmilter=$(dpkg-query -W -f '${Version}' libmilter1.0.1 2>/dev/null || echo unknown)
{
	echo "# Milter protocol benchmark: relaymilter vs the empty filter"
	echo
	echo "Started $started; relaymilter $commit; libmilter $libmilter;"
	echo "$(uname -sr), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))."
	echo
	echo "Each cell: $RUNS runs per filter, alternating (order turned every run),"
	echo "each on a freshly started filter: $WARMUP warm-up sessions, then $SESSIONS"
	echo "measured sessions of $MSGS message(s) x $RCPTS recipient(s), SMFIC_ABORT after"
	echo "the recipients (submit: the message), QUIT, and the filter's close awaited.  Driver: miltload"
	echo "(contrib/bench/miltload.c) over a unix socket, speaking milter v6 as"
	echo "Postfix does; the load generator runs on the same $(nproc) CPUs."
	echo
	echo "- **accept**: untrusted client 203.0.113.5, sender@example.org, RCPT"
	echo "  user1@example.com (local domain): relaymilter continues."
	echo "- **refuse**: the same client, RCPT user1@remote.example: relaymilter"
	echo "  answers 550 5.7.1 Relaying denied.  The empty filter continues in both."
	echo "- **submit**: login alice on the submission listener, sender and From:"
	echo "  alice@example.com, RCPT user1@remote.example, then the message (5 header"
	echo "  fields, end of headers, end of message; the body negotiated away):"
	echo "  every filter continues.  Filters: relaymilter (checks.header_from off,"
	echo "  proto.conf), rm-hf (header_from on for the submission listener,"
	echo "  relaymilter-hf.conf), empty, empty-hdr (emptymilter -h: rm-hf's"
	echo "  negotiation, no work).  Each is judged against the empty filter of"
	echo "  its own negotiation: relaymilter against empty, rm-hf against empty-hdr."
	echo
	echo "relaymilter: \`relaymilter -f -c relaymilter.conf -p unix:...\`, log level"
	echo "info (the default: one line per decision), stderr redirected to a file"
	echo "(relaymilter.log, page cache; every run's line count was checked)."
	echo
	echo "## Sessions/s (target: relaymilter >= $TARGET x empty)"
	echo
	echo "ratio: the median of the per-run ratios (run i of relaymilter / run i"
	echo "of empty, adjacent in time), and their range; of medians: median"
	echo "relaymilter / median empty; quiet: the pairs in which other processes"
	echo "used < 0.1 core in both runs (how many, their median ratio)."
	echo
	echo "| workload | conc | relaymilter median (min-max) | empty median (min-max) | ratio | range | of medians | quiet | verdict | filter CPU us/session rm / empty | CPU ratio empty/rm |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '
		NR > 1 && $4 == "session" { k = $1 "|" $2; s[k, $3] = $6 " (" $7 "-" $8 ")"; c[k, $3] = $11
			if ($3 == "relaymilter") { r[k] = $13; rr[k] = $14 "-" $15; m[k] = $12; q[k] = $16 ": " $17; v[k] = $19 }
			if (!(k in seen)) { seen[k] = 1; o[++n] = k } }
		END { for (i = 1; i <= n; i++) { k = o[i]; split(k, f, "|")
			printf "| %s | %s | %s | %s | **%s** | %s | %s | %s | %s | %s / %s | %.3f |\n", f[1], f[2], s[k, "relaymilter"], s[k, "empty"], r[k], rr[k], m[k], q[k], v[k], c[k, "relaymilter"], c[k, "empty"], (c[k, "relaymilter"] > 0 ? c[k, "empty"] / c[k, "relaymilter"] : 0) } }' "$OUT/proto.tsv"
	echo
	echo "## Latency per step, microseconds (median over runs of each run's p50 / p99)"
	echo
	echo "negotiate: connect(2) to the SMFIC_OPTNEG reply; connect, helo: negotiated"
	echo "to no reply by both filters (written with MAIL, so their cost shows in"
	echo "mail); mail, rcpt, eoh, eom: command written to reply read (eoh: with the"
	echo "header commands before it, which have no reply); session: connect(2) to"
	echo "the filter's close after QUIT; -: the step was not sent."
	echo
	echo "| workload | conc | filter | negotiate | connect | helo | mail | rcpt | eoh | eom | session |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	awk -F'\t' '
		NR > 1 { k = $1 "|" $2 "|" $3; if (!(k in seen)) { seen[k] = 1; o[++n] = k }
			v[k, $4] = ($9 == "-" ? "no reply" : $9 " / " $10) }
		function val(k, st) { return (k, st) in v ? v[k, st] : "-" }
		END { for (i = 1; i <= n; i++) { k = o[i]; split(k, f, "|")
			printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], val(k, "negotiate"), val(k, "connect"), val(k, "helo"), val(k, "mail"), val(k, "rcpt"), val(k, "eoh"), val(k, "eom"), val(k, "session") } }' "$OUT/proto.tsv"
	echo
	echo "## Negotiation: checks.header_from off and on"
	echo
	echo "What each filter negotiated (miltload -P; every session of every run"
	echo "alike, negotiation.tsv).  A step is off (SMFIP_NO*: not sent at all),"
	echo "noreply (SMFIP_NR_*: sent, no answer awaited) or answered.  With"
	echo "header_from off everywhere relaymilter negotiates what the empty filter"
	echo "does: no header and no end-of-headers step.  Turned on in one listener"
	echo "profile, every connection gets the headers (no reply) and the end of"
	echo "headers (answered): the profile is known only after CONNECT, the"
	echo "negotiation comes before it."
	echo
	echo "| filter | protocol | flags | steps per message |"
	echo "|---|---|---|---|"
	awk -F'\t' 'NR > 1 && !(($3, $7) in seen) { seen[$3, $7] = 1
		printf "| %s | %s | %s | %s |\n", $3, $7, $8, $9 }' "$negs"
	echo
	if awk -F'\t' '$1 == "submit" { f = 1 } END { exit !f }' "$runs"; then
		echo "### Commands per session and cost (submit)"
		echo
		echo "cmds/session: milter commands miltload wrote per session (macro packets"
		echo "not counted; OPTNEG, CONNECT, HELO, MAIL, RCPT, the headers, EOH,"
		echo "EOM, QUIT), and how many of them were answered.  vs off: the median of"
		echo "the per-run ratios (adjacent in time) to the same filter with the"
		echo "headers not negotiated; vs floor: the same to the empty filter of the"
		echo "same negotiation."
		echo
		echo "| conc | filter | cmds/session (answered) | sessions/s median (min-max) | vs off | vs floor (floor) | session p50 / p99 us | eoh p50 / p99 us | filter CPU us/session |"
		echo "|---|---|---|---|---|---|---|---|---|"
		awk -F'\t' -v floors="$floors" -v offs="$offs" "$awklib"'
		function pairs(c, m, ref,   r, s) {
			s = ""
			for (r = 1; r <= nrun; r++)
				if (((c, m, r) in sps) && ((c, ref, r) in sps) && sps[c, ref, r] > 0)
					s = s " " sps[c, m, r] / sps[c, ref, r]
			return s == "" ? "-" : sprintf("%.3f", median(s))
		}
		NR == 1 { kvmap(floors, floor); kvmap(offs, off); next }
		$1 != "submit" { next }
		{
			k = $2 SUBSEP $3
			if (!(k in seen)) { seen[k] = 1; o[++nk] = k }
			if ($4 > nrun) nrun = $4
			if ($5 != "session") {
				cmds[k, $4] += $6; ans[k, $4] += $7
			} else {
				sps[$2, $3, $4] = $20; ss[k] = ss[k] " " $20
				nses[k, $4] = $17; cpu[k] = cpu[k] " " $23
				p50[k] = p50[k] " " $8; p99[k] = p99[k] " " $9
			}
			if ($5 == "eoh") { e50[k] = e50[k] " " $8; e99[k] = e99[k] " " $9 }
		}
		END {
			for (i = 1; i <= nk; i++) {
				split(o[i], f, SUBSEP)
				k = o[i]
				n = split(ss[k], a, " "); sortn(a, n)
				fm = (f[2] in floor) ? floor[f[2]] : "-"
				om = (f[2] in off) ? off[f[2]] : "-"
				printf "| %s | %s | %.1f (%.1f) | %.1f (%s-%s) | %s | %s | %.1f / %.1f | %s | %.1f |\n",
				    f[1], f[2], cmds[k, 1] / nses[k, 1], ans[k, 1] / nses[k, 1],
				    median(ss[k]), a[1], a[n],
				    om == "-" ? "-" : pairs(f[1], f[2], om) " (" om ")",
				    fm == "-" ? "-" : pairs(f[1], f[2], fm) " (" fm ")",
				    median(p50[k]), median(p99[k]),
				    (k in e50) ? sprintf("%.1f / %.1f", median(e50[k]), median(e99[k])) : "-",
				    median(cpu[k])
			}
		}' "$runs"
		echo
	fi
	echo "## Logging (accept, conc $first_conc)"
	echo
	echo "rm-devnull: stderr to /dev/null (the line is formatted, the write goes"
	echo "nowhere); rm-nolog: log_level = \"warning\", no decision line at all."
	echo "Without -f relaymilter logs through syslog(3): one sendto(2) on /dev/log"
	echo "per decision plus the syslog daemon's own work (journald or rsyslog, on"
	echo "the same CPUs), which costs more than the file write measured here and"
	echo "was not measured (this machine has no syslog daemon): take"
	echo "relaymilter - rm-nolog as the lower bound of the log line's cost."
	echo
	echo "| variant | sessions/s median (min-max) | ratio to empty (median of pairs) | quiet pairs: ratio | filter CPU us/session |"
	echo "|---|---|---|---|---|"
	awk -F'\t' -v c="$first_conc" '
		NR > 1 && $1 == "accept" && $2 == c && $4 == "session" {
			printf "| %s | %s (%s-%s) | %s | %s: %s | %s |\n", $3, $6, $7, $8, $13, $16, $17, $11 }' "$OUT/proto.tsv"
	echo
	echo "## Noise"
	echo
	awk -F'\t' 'NR > 1 && $5 == "session" { n++; s += $24; if ($24 > m) m = $24; if ($18 > 0) e += $18 }
		END { printf "CPU used by other processes during the measured runs: mean %.2f, max %.2f cores\n(of %d); sessions with errors: %d.\n", s / n, m, '"$(nproc)"', e }' "$runs"
	echo "Alternating runs cancel slow drifts only: when other work shares the"
	echo "machine, sessions/s moves with it and the per-run ratios spread.  The"
	echo "filter's CPU per session (from /proc/PID/stat, clock ticks) moves less;"
	echo "the CPU ratio is what the filter alone would allow if it were the only"
	echo "consumer (the load generator and the kernel's socket work on its side"
	echo "dilute the sessions/s ratio towards 1).  For counts that do not move at"
	echo "all, run contrib/bench/proto-profile.sh (instructions and system calls"
	echo "per session)."
	echo
	echo "Raw runs: runs.tsv; summary: proto.tsv."
} >"$OUT/proto.md"

echo "proto: wrote $OUT/proto.md and $OUT/proto.tsv" >&2
[ $bad -eq 0 ] || { echo "proto: some runs failed their checks (see above)" >&2; exit 1; }
