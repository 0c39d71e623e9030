#!/bin/sh
# scale.sh OUTDIR - rule scaling: load time, memory and RCPT decision cost
# with 10, 1k, 100k and 1M local domains (plus 100k trusted networks and
# 100k licensed senders), and session latency while the daemon reloads
# the 1M-domain config (SCALE_RELOADS times, SCALE_RELOAD_AT s apart),
# beside a control: the same sessions while, in the same windows, an
# unrelated process at idle priority maps, writes and unmaps 256 MB of
# fresh memory over and over (the machine's own cost of such background
# work).  Both runs tail the daemon's log the same way.
# Writes OUTDIR/scale.tsv and OUTDIR/scale.md.
#
# Environment: BUILD (default build), SCALE_SIZES (default
# "10 1000 100000 1000000"), SCALE_CALLS, SCALE_BATCHES, SCALE_CPU (see
# scale.c), SCALE_SECONDS (length of the session run, default 50),
# SCALE_RELOAD_AT (seconds to the first reload and from the end of each
# to the next, default 5), SCALE_RELOADS (default 3).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
BUILD=${BUILD:-build}
bin=$BUILD/contrib/bench/scale
daemon=$BUILD/milter/relaymilter
sizes=${SCALE_SIZES:-10 1000 100000 1000000}
secs=${SCALE_SECONDS:-50}
at=${SCALE_RELOAD_AT:-5}
reloads=${SCALE_RELOADS:-3}
export SCALE_RELOADS=$reloads
big=$(echo "$sizes" | tr ' ' '\n' | sort -n | tail -1)
[ -x "$bin" ] || { echo "$0: no $bin (build with -DRM_BENCH=ON)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scale.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# ---- the engine, one process per size ------------------------------------
printf 'domains\tmetric\trep\tvalue\n' >"$tmp/engine.tsv"
# shellcheck disable=SC2086
"$bin" engine "$tmp/engine.tsv" "$tmp" $sizes

# ---- sessions across a reload of the largest config ----------------------
"$bin" gen "$tmp/reload.conf" "$big"
sock=$tmp/milter.sock
# daemon_start LOG: the daemon on the config, listening within 60 s;
# daemon_stop
daemon_start() {
	"$daemon" -f -c "$tmp/reload.conf" -p "unix:$sock" 2>"$1" &
	pid=$!
	i=0
	while ! grep -q 'listening on' "$1"; do
		i=$((i + 1))
		[ $i -lt 600 ] && kill -0 "$pid" 2>/dev/null || {
			echo "$0: the daemon did not start:" >&2
			cat "$1" >&2
			exit 1
		}
		sleep 0.1
	done
}
daemon_stop() {
	kill "$pid"
	wait "$pid" || true
	pid=
}
daemon_start "$tmp/daemon.log"
"$bin" sessions "unix:$sock" "$secs" "$tmp/sessions.tsv" "$pid" \
	"$tmp/daemon.log" "$at" >"$tmp/window"
daemon_stop
# the windows, "SENT:LOGGED" seconds into the run, one per reload
wins=$(awk '$1 == "reload" { printf "%s%s:%s", n++ ? " " : "", $2, $3 }' "$tmp/window")
case " $wins" in *:-* | " ")
	echo "$0: not all $reloads reloads finished within $secs s (SCALE_SECONDS):" >&2
	cat "$tmp/window" >&2
	exit 1 ;;
esac
failed=$(awk '$1 == "failed" { print $2 }' "$tmp/window")

# ---- the control: the same windows, a burn instead of each reload -------
daemon_start "$tmp/control.log"
(
	t=0
	for w in $wins; do
		s=${w%:*} l=${w#*:}
		sleep "$(echo "$s - $t" | bc -l)"
		"$bin" burn "$(echo "$l - $s" | bc -l)" 256
		t=$l
	done
) &
burner=$!
SCALE_RELOADS=0 "$bin" sessions "unix:$sock" "$secs" "$tmp/control.tsv" \
	"$tmp/control.log" >/dev/null
wait "$burner"
daemon_stop

# ---- scale.tsv: every raw row, one table ---------------------------------
# phase: idle (from 1 s in, outside the reloads and the second after
# each), reload (overlaps a window from a signal to its log line), after
# (starts within the second after a window)
phase='function phase(st, lat,   k, n, w, e, ph) {
		e = st + lat / 1e6; ph = st >= 1 ? "idle" : ""
		n = split(wins, w, " ")
		for (k = 1; k <= n; k++) {
			split(w[k], sl, ":")
			if (e >= sl[1] && st <= sl[2]) return "reload"
			if (st > sl[2] && st <= sl[2] + 1) ph = "after"
		}
		return ph
	}'
{
	printf 'part\tdomains\tmetric\trep\tvalue\n'
	awk -F '\t' 'NR > 1 { print "engine\t" $0 }' "$tmp/engine.tsv"
	awk -F '\t' -v wins="$wins" -v big="$big" "$phase"'
	NR > 1 && (ph = phase($1, $2)) != "" {
		print "sessions\t" big "\tlatency_us_" ph "\t" NR - 1 "\t" $2
	}' "$tmp/sessions.tsv"
	awk -F '\t' -v wins="$wins" -v big="$big" "$phase"'
	NR > 1 && phase($1, $2) == "reload" {
		print "sessions\t" big "\tlatency_us_control\t" NR - 1 "\t" $2
	}' "$tmp/control.tsv"
	for w in $wins; do
		printf 'sessions\t%s\treload_window_s\t1\t%s\n' "$big" \
			"$(echo "${w#*:} - ${w%:*}" | bc -l)"
	done
	printf 'sessions\t%s\tfailed_sessions\t1\t%s\n' "$big" "$failed"
} >"$out/scale.tsv"

# ---- scale.md ------------------------------------------------------------
# stat FILTER: "median min max n p99" of the values of matching rows
stat() {
	awk -F '\t' "NR > 1 && $1 { print \$5 }" "$out/scale.tsv" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "- - - 0 -"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			p = int(NR * 0.99 + 0.999999); if (p < 1) p = 1
			print m, v[1], v[NR], NR, v[p]
		}'
}
eng() { stat "\$1 == \"engine\" && \$2 == \"$1\" && \$3 == \"$2\""; }
med() { eng "$1" "$2" | cut -d' ' -f1; }
mark() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo met; else echo MISSED; fi; }

small=$(echo "$sizes" | tr ' ' '\n' | sort -n | head -1)
{
	echo "## Rule scaling"
	echo
	echo "Local domains as listed, plus 100k trusted networks (IPv4 and IPv6"
	echo "CIDRs) and 100k licensed senders.  Load: rm_conf_load() of the"
	echo "generated file, median of 3.  Memory: VmRSS and VmHWM after the"
	echo "first load, a fresh process per size.  RCPT: ns per rm_policy_rcpt()"
	echo "call over a mix of local, subdomain, remote-miss, trusted IPv4/IPv6"
	echo "and (un)licensed-sender facts, pinned to one CPU; median of the"
	echo "batches, min-max spread."
	echo
	echo "| local domains | load s (min-max) | RSS MB | HWM MB | RCPT ns median (min-max) | free s |"
	echo "|---:|---:|---:|---:|---:|---:|"
	for n in $sizes; do
		set -- $(eng "$n" load_s)
		load="$1 ($2-$3)"
		rss=$(echo "$(med "$n" rss_kb) / 1024" | bc)
		hwm=$(echo "$(med "$n" hwm_kb) / 1024" | bc)
		set -- $(eng "$n" rcpt_ns)
		echo "| $n | $load | $rss | $hwm | $1 ($2-$3) | $(med "$n" free_s) |"
	done
	echo
	echo "RCPT ns per kind of fact (one batch each):"
	echo
	echo "| local domains | local | subdomain | remote_miss | trusted_v4 | trusted_v6 | unlicensed |"
	echo "|---:|---:|---:|---:|---:|---:|---:|"
	for n in $sizes; do
		row="| $n |"
		for k in local subdomain remote_miss trusted_v4 trusted_v6 unlicensed; do
			row="$row $(med "$n" "rcpt_ns_$k") |"
		done
		echo "$row"
	done
	echo
	set -- $(stat '$3 == "latency_us_idle"')
	idle=$5
	echo "Sessions (connect, HELO, MAIL, 3 RCPT, QUIT) back to back on the"
	echo "daemon with $big local domains; $reloads reloads (SIGUSR1 at ${at} s,"
	echo "then ${at} s after each \"reloaded\" log line); a reload window runs"
	echo "from the signal to that line ($(for w in $wins; do
		echo "${w#*:} - ${w%:*}" | bc -l | cut -c1-5
	done | paste -sd' ' -) s); failed sessions: $failed."
	echo
	echo "| phase | sessions | p50 us | p99 us | max us |"
	echo "|---|---:|---:|---:|---:|"
	for ph in idle reload after control; do
		set -- $(stat "\$3 == \"latency_us_$ph\"")
		echo "| $ph | $4 | $1 | $5 | $3 |"
	done
	set -- $(stat '$3 == "latency_us_reload"')
	rel=$5
	set -- $(stat '$3 == "latency_us_control"')
	ctl=$5
	echo
	echo "control: no reload; for the same windows a process of its own at"
	echo "idle priority maps, writes and unmaps 256 MB of fresh memory over"
	echo "and over (scale burn): what such background work costs the"
	echo "sessions on this machine."
	echo
	echo "Targets:"
	echo
	rcpt=$(med "$big" rcpt_ns)
	rcpt0=$(med "$small" rcpt_ns)
	rss=$(med "$big" rss_kb)
	load=$(med "$big" load_s)
	# logarithmic growth: from the smallest to the largest size the cost
	# may grow at most by the ratio of their logarithms
	lg=$(echo "l($big) / l($small)" | bc -l)
	echo "- RCPT decision <= 1 us median with $big domains: $rcpt ns: $(mark "$rcpt <= 1000")"
	echo "- growth no worse than logarithmic ($small -> $big: x$(echo "$rcpt / $rcpt0" | bc -l | cut -c1-5), log ratio x$(echo "$lg" | cut -c1-5)): $(mark "$rcpt / $rcpt0 <= $lg")"
	echo "- RSS <= 200 MB at $big domains: $(echo "$rss / 1024" | bc) MB: $(mark "$rss <= 204800")"
	echo "- $big entries load in <= 2 s: $load s: $(mark "$load <= 2")"
	echo "- p99 during reload <= 2x idle p99: $rel us vs $idle us: $(mark "$rel <= 2 * $idle")"
	echo "- p99 during reload <= 1.2x the control's: $rel us vs $ctl us: $(mark "$rel <= 1.2 * $ctl")"
} >"$out/scale.md"
cat "$out/scale.md"
