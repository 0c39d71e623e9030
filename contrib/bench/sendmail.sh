#!/bin/bash
# contrib/bench/sendmail.sh OUTDIR - Sendmail + relaymilter: the milter
# socket's cost, inet against unix.
#
# smtp-source -> Sendmail (the unpacked one of contrib/install-deps test,
# contrib/sendmail/*.mc as shipped, the MTA daemon on 127.0.0.1:2525,
# queue only) -> relaymilter, in private namespaces.  Each run starts
# relaymilter on one socket, sends N messages from S parallel sessions to a
# local recipient (every RCPT continued by relaymilter) and stops it.
# Configurations, alternating run by run:
#   unix         S=local:PATH
#   inet         S=inet:8894@127.0.0.1 (answer_data "auto": DATA answered)
#   inet-nodata  the same with answer_data = "no"
# then, with the namespace's loopback routes set to "quickack 1" (no
# delayed ACKs; see the README, "The inet socket"), once more:
#   unix-quickack, inet-quickack
# Sendmail writes every milter macro packet apart from its command, without
# TCP_NODELAY: over TCP each waits for the milter host's delayed ACK.
#
# Env: BUILD (build dir, default build), N (messages per run, 300), S (10),
# L (body bytes, 1024), REPS (3).  Writes OUTDIR/sendmail.tsv and
# OUTDIR/sendmail.md.  Needs root; contrib/install-deps test (Sendmail) and
# bench.
set -u
exec </dev/null
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=pflib.sh
. "$HERE/pflib.sh"
bl_prelude sendmail.sh "${1:-}" smtp-source m4
N=${N:-300} S=${S:-10} L=${L:-1024} REPS=${REPS:-3}
export N S L REPS
tb_sm_have || {
	echo "sendmail.sh: no Sendmail unpacked under $TB_SM_ROOT (contrib/install-deps test)" >&2
	exit 1
}
tb_enter_ns "$0" "$@"

# ---- inside the namespaces ------------------------------------------------------
bl_ns_setup || exit 1
tb_state_init
trap 'tb_cleanup' EXIT
trap 'exit 130' INT TERM HUP
log() { printf 'sendmail.sh: %s\n' "$*" >&2; }

MCONF=$TB_STATE/relaymilter.conf
cat >"$MCONF" <<EOF
log_level = "warning";
hostnames = [ "mx.testbed.test" ];
local_domains = [ "testbed.test" ];
trusted_networks = [ "127.0.0.20/32" ];
EOF
UNIX_SOCK=$TB_RUN/rm.sock INET_SOCK=inet:8894@127.0.0.1
# the shipped snippets; only the socket and the daemon's port changed
grep -q 'INPUT_MAIL_FILTER(`relaymilter'"'"', `S=' "$SRC/contrib/sendmail/relaymilter.mc" || {
	log "no INPUT_MAIL_FILTER with S= in contrib/sendmail/relaymilter.mc"
	exit 1
}
for sock in inet unix; do
	spec=$INET_SOCK
	[ "$sock" = unix ] && spec=local:$UNIX_SOCK
	sed -E "/^INPUT_MAIL_FILTER/s|S=[^,]*|S=$spec|" \
		"$SRC/contrib/sendmail/relaymilter.mc" >"$TB_STATE/relaymilter-$sock.mc"
done
sed -e 's/Port=smtp,/Port=2525, Addr=127.0.0.1,/' \
	-e 's/Port=submission,/Port=2587, Addr=127.0.0.1,/' \
	"$SRC/contrib/sendmail/daemons.mc" >"$TB_STATE/daemons.mc"
# two Sendmail configurations, one per socket; the daemon restarts between
cf_for() { echo "$TB_STATE/sendmail-$1.cf"; }
for sock in inet unix; do
	mc=$TB_STATE/relaymilter-$sock.mc
	tb_sm_init "$mc" "$TB_STATE/daemons.mc" "$SRC/contrib/sendmail/authority.mc" || {
		log "sendmail.cf for $sock"
		exit 1
	}
	cp "$TB_SM/etc/test.cf" "$(cf_for "$sock")"
done

TSV=$OUTDIR/sendmail.tsv
printf 'config\trep\tN\tS\tL\tseconds\trate\tcontinued\tvalid\n' >"$TSV"

# inet-nodata's policy: the same, DATA negotiated away
NODATA_CONF=$TB_STATE/relaymilter-nodata.conf
{
	cat "$MCONF"
	echo 'answer_data = "no";'
} >"$NODATA_CONF"

# run CONFIG REP: one relaymilter, one Sendmail, N messages
run() {
	local cfg=$1 rep=$2 sock conf=$MCONF s0 s1 got valid=1 rc=0
	case $cfg in
	unix*) sock=unix ;;
	*) sock=inet ;;
	esac
	[ "${cfg%-quickack}" = inet-nodata ] && conf=$NODATA_CONF
	cp "$(cf_for "$sock")" "$TB_SM/etc/test.cf"
	TB_MILTER_LOG=$TB_RUN/rm-$cfg-$rep.log
	if [ "$sock" = unix ]; then TB_MILTER_SOCK=unix:$UNIX_SOCK; else TB_MILTER_SOCK=$INET_SOCK; fi
	tb_milter_start "$BIN" "$conf" || return 1
	tb_sm_start 2525 || return 1
	s0=$(date +%s.%N)
	smtp-source -m "$N" -s "$S" -l "$L" -M client.test -f a@x.test \
		-t user@testbed.test 127.0.0.1:2525 >"$TB_RUN/source.out" 2>&1 || rc=$?
	s1=$(date +%s.%N)
	tb_sm_stop
	kill "$TB_MILTER_PID" 2>/dev/null
	wait "$TB_MILTER_PID" 2>/dev/null
	TB_MILTER_PID=
	# every message went through the milter: one queue file each
	got=$(find "$TB_SM/mqueue" -name 'qf*' | wc -l)
	find "$TB_SM/mqueue" -type f -delete
	[ "$rc" -eq 0 ] && [ "$got" -eq "$N" ] || valid=0
	[ "$rep" = 0 ] && return 0
	awk -v OFS='\t' -v c="$cfg" -v r="$rep" -v n="$N" -v s="$S" -v l="$L" \
		-v s0="$s0" -v s1="$s1" -v g="$got" -v v="$valid" 'BEGIN {
		d = s1 - s0
		print c, r, n, s, l, sprintf("%.3f", d), sprintf("%.1f", n / d), g, v }' >>"$TSV"
	log "$(tail -1 "$TSV")"
}

run unix 0
for rep in $(seq "$REPS"); do
	for c in unix inet inet-nodata; do run "$c" "$rep"; done
done
for r in 127.0.0.0/8 127.0.0.1; do
	ip route replace local "$r" dev lo table local proto kernel scope host \
		src 127.0.0.1 quickack 1 || exit 1
done
for rep in $(seq "$REPS"); do
	for c in unix-quickack inet-quickack; do run "$c" "$rep"; done
done

python3 - "$TSV" >"$OUTDIR/sendmail.md" <<'EOF'
import csv, statistics as st, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
first = rows[0] if rows else {"N": "?", "S": "?", "L": "?"}
print("## Sendmail end to end (sendmail.sh)\n")
print(f"smtp-source -> Sendmail (queue only) -> relaymilter, N={first['N']} messages "
      f"per run, S={first['S']} in parallel, L={first['L']} body bytes; rates are "
      "medians of the valid runs. `-quickack`: the loopback routes had "
      "`quickack 1` (no delayed ACKs).\n")
print("| configuration | msg/s | min-max | valid runs |")
print("|---|---:|---:|---:|")
med = {}
for c in dict.fromkeys(r["config"] for r in rows):
    allr = [r for r in rows if r["config"] == c]
    rr = [float(r["rate"]) for r in allr if r["valid"] == "1"]
    if not rr:
        print(f"| {c} | - | - | 0/{len(allr)} |")
        continue
    med[c] = st.median(rr)
    print(f"| {c} | {med[c]:.1f} | {min(rr):.1f}-{max(rr):.1f} | {len(rr)}/{len(allr)} |")
print()
for a, b in (("inet", "unix"), ("inet-nodata", "unix"), ("inet-quickack", "unix-quickack"),
             ("inet-quickack", "inet")):
    if a in med and b in med:
        print(f"- {a}/{b} = {med[a]:.1f}/{med[b]:.1f} = {med[a] / med[b]:.3f}")
print()
EOF
