#!/bin/bash
# contrib/bench/ldapscale.sh OUTDIR - a million rules in slapd, followed by
# content synchronisation (ldap.sync = "auto"): initial load, memory,
# change-to-decision latency, LDAP operations when nothing changes, and
# session latency while changes stream in.
#
# slapd (contrib/testbed/ldap.sh, syncprov, "loglevel stats") is loaded
# offline (slapadd) with RULES values in relayMilterRule entries:
#   local_domains      90 %, dN.example; one value per entry, every 20th
#                      entry five
#   relay_domains       4 %, one per entry
#   trusted_networks    3 %, 172.16.x.y/32, one per entry
#   licensed_senders    3 %, one per entry
# plus example.ldif and the bench's own (trusted 127.0.0.1, local
# testbed.test, licensed x.test).  relaymilter (log_level info, every
# ldap setting but uri, bind and cache_file at its default) then:
#   load      start to the listening socket, and to the first decision
#             that knows the data (a probe session, below); VmRSS, VmHWM
#   quiet     QUIET s: scale sessions (scale.c, 2 clients back to back)
#             and a probe every PERIOD s whose answer does not change;
#             slapd's operations in the window (target 0)
#   stream    CHANGES changes at the provider (ldapmodify: add an entry,
#             replace the value of an entry, delete an entry added
#             before), one every PERIOD s, with the same sessions running:
#             change-to-decision latency and session latency
#   deliver   the same changes with Postfix's deliver workload running
#             instead (smtp-source -> Postfix -> relaymilter -> smtp-sink,
#             S parallel, as postfix.sh)
# Change-to-decision latency: from ldapmodify's return ($EPOCHREALTIME) to
# the end of the first milter session through the running daemon
# ("scale probe": client 100.66.1.1, untrusted, RCPT to the changed
# domain; accepted iff local) whose answer is the new one; probes every
# 1 ms, so the figure includes one session and up to 1 ms of polling.
# Builds: the daemon's log says "rebuilt as a layer" or "rebuilt in full".
#
# Env: BUILD (with -DRM_BENCH=ON: the scale program; default build),
# RULES (1000000), CHANGES (per phase, 60; at a million a change takes
# seconds to reach decisions: CHANGES=20 keeps the run near 12 minutes),
# PERIOD (0.2), QUIET (60),
# S (10), LD_MAXSIZE (default 4 GiB per million rules, at least 64 MiB).
# Writes OUTDIR/ldapscale.tsv, ldapscale-changes.tsv, ldapscale.md.
# Needs root; contrib/install-deps bench.
set -u
exec </dev/null
HERE=$(cd "$(dirname "$0")" && pwd)
RULES=${RULES:-1000000} CHANGES=${CHANGES:-60} PERIOD=${PERIOD:-0.2}
QUIET=${QUIET:-60} S=${S:-10}
mb=$((RULES * 4096 / 1000000))
[ "$mb" -ge 64 ] || mb=64
LD_MAXSIZE=${LD_MAXSIZE:-$((mb * 1048576))}
LD_LOG=stats
export RULES CHANGES PERIOD QUIET S LD_MAXSIZE LD_LOG
# shellcheck source-path=SCRIPTDIR source=pflib.sh
. "$HERE/pflib.sh"
# shellcheck source-path=SCRIPTDIR source=../testbed/ldap.sh
. "$SRC/contrib/testbed/ldap.sh"
bl_prelude ldapscale.sh "${1:-}" slapd slapadd ldapmodify smtp-source
SCALE=$BUILD/contrib/bench/scale
[ -x "$SCALE" ] || {
	echo "ldapscale.sh: no $SCALE (cmake -DRM_BENCH=ON)" >&2
	exit 1
}
tb_enter_ns "$0" "$@"

# ---- inside the namespaces ------------------------------------------------------
bl_ns_setup || exit 1
tb_state_init
TB_MILTER_SOCK=unix:$TB_STATE/rm.sock
SESS_PID='' SESS_PHASE='' SRC_PID='' PROBE_PID=''
trap 'kill $SESS_PID $SRC_PID $PROBE_PID 2>/dev/null; bl_cleanup; ld_stop' EXIT
trap 'exit 130' INT TERM HUP
log() { printf 'ldapscale.sh: %s\n' "$*" >&2; }
now() { echo "$EPOCHREALTIME"; }
since_ms() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
TSV=$OUTDIR/ldapscale.tsv
printf 'metric\tvalue\n' >"$TSV"
put() { printf '%s\t%s\n' "$1" "$2" >>"$TSV"; }
put rules "$RULES"
put period "$PERIOD"
put loadavg_start "$(loadavg)"
log "load average at start: $(loadavg)"

# ---- the directory --------------------------------------------------------------
LDIF=$TB_STATE/rules.ldif
awk -v n="$RULES" 'BEGIN {
	b = ",ou=relaymilter,dc=example,dc=com"
	nl = int(n * 0.90); nr = int(n * 0.04); nt = int(n * 0.03); ns = n - nl - nr - nt
	for (v = 0; v < nl; e++) {
		printf "dn: cn=l-%d%s\nobjectClass: relayMilterRule\ncn: l-%d\nrelayMilterList: local_domains\n", e, b, e
		for (k = (e % 20 ? 1 : 5); k > 0 && v < nl; k--)
			printf "relayMilterValue: d%d.example\n", v++
		print ""
	}
	for (i = 0; i < nr; i++)
		printf "dn: cn=r-%d%s\nobjectClass: relayMilterRule\ncn: r-%d\nrelayMilterList: relay_domains\nrelayMilterValue: r%d.example\n\n", i, b, i, i
	for (i = 0; i < nt; i++)
		printf "dn: cn=t-%d%s\nobjectClass: relayMilterRule\ncn: t-%d\nrelayMilterList: trusted_networks\nrelayMilterValue: 172.%d.%d.%d/32\n\n", i, b, i, 16 + int(i / 65536), int(i / 256) % 256, i % 256
	for (i = 0; i < ns; i++)
		printf "dn: cn=s-%d%s\nobjectClass: relayMilterRule\ncn: s-%d\nrelayMilterList: licensed_senders\nrelayMilterValue: s%d.example\n\n", i, b, i, i
	printf "dn: cn=bench-trusted%s\nobjectClass: relayMilterRule\ncn: bench-trusted\nrelayMilterList: trusted_networks\nrelayMilterValue: 127.0.0.1\n\n", b
	printf "dn: cn=bench-local%s\nobjectClass: relayMilterRule\ncn: bench-local\nrelayMilterList: local_domains\nrelayMilterValue: testbed.test\n\n", b
	printf "dn: cn=bench-licensed%s\nobjectClass: relayMilterRule\ncn: bench-licensed\nrelayMilterList: licensed_senders\nrelayMilterValue: x.test\nrelayMilterValue: testbed.test\n\n", b
}' >"$LDIF"
ENTRIES=$(grep -c '^dn: ' "$LDIF")
put entries "$ENTRIES"
t0=$(now)
# each list is read in one search: relaymilter's account needs the size
# limit lifted, as etc/relaymilter-access.ldif does (slapd's default: 500)
if ! { ld_init && sed -i '/^directory/a limits dn.exact="cn=relaymilter,ou=services,dc=example,dc=com" size=unlimited time=unlimited' \
	"$LD_STATE/slapd.conf" && slapadd -q -f "$LD_STATE/slapd.conf" -l "$LDIF"; }; then
	log "slapadd failed"
	exit 1
fi
put slapadd_s "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')"
ld_start || exit 1
SLAPD_LOG=$LD_STATE/slapd.log
log "$ENTRIES entries ($RULES values) in slapd"

# ---- Postfix (the deliver workload) and relaymilter ----------------------------------
mapfile -t AUTH_OPTS < <(bl_authority_opts)
bl_pf_init '2525 inet n - n - - smtpd' "${AUTH_OPTS[@]}" >"$TB_RUN/check.out" 2>&1 || {
	log "Postfix set-up failed: $(head -3 "$TB_RUN/check.out")"
	exit 1
}
tb_pf_conf "relaymilter_milters = $TB_MILTER_SOCK"
SECRET=$TB_STATE/secret
printf 's3cret-for-tests\n' >"$SECRET"
chmod 600 "$SECRET"
MCONF=$TB_STATE/relaymilter.conf
{
	echo 'log_level = "info";'
	echo 'socket_group = "postfix";'
	echo 'ldap = {'
	ld_client "$SECRET"
	printf '\tcache_file = "%s";\n' "$TB_STATE/ldap.cache"
	echo '};'
} >"$MCONF"
SOCK=${TB_MILTER_SOCK#unix:}
t0=$(now)
(
	umask 0
	exec "$BIN" -f -c "$MCONF" -p "$TB_MILTER_SOCK"
) >>"$TB_MILTER_LOG" 2>&1 &
TB_MILTER_PID=$!
for _ in $(seq 6000); do
	[ -S "$SOCK" ] && break
	tb_alive "$TB_MILTER_PID" || break
	sleep 0.01
done
[ -S "$SOCK" ] || {
	log "relaymilter did not start: $(tail -3 "$TB_MILTER_LOG")"
	exit 1
}
put load_listen_ms "$(since_ms "$t0")"
coproc PROBE { SCALE_PROBE_MAX_S=600 "$SCALE" probe "$TB_MILTER_SOCK" 2>"$TB_RUN/probe.err"; }
# probe T0 ADDRESS WANT: MS, the milliseconds from T0 until the daemon
# answers so, and TRIES, the sessions it took (the coprocess's descriptors
# are the shell's own: no subshell)
probe() {
	MS=timeout TRIES=0
	echo "$1 $2 $3" >&"${PROBE[1]}"
	read -r MS TRIES <&"${PROBE[0]}" || log "probe: no answer (read status $?)"
}
probe "$t0" u@d1.example accept
put load_first_decision_ms "$MS"
log "first probe: $MS ms, $TRIES sessions; $(cat "$TB_RUN/probe.err")"
probe "$t0" "u@d$((RULES * 9 / 10 - 1)).example" accept
put load_last_domain_ms "$MS"
probe "$(now)" u@nowhere.example refuse
[ "$TRIES" = 1 ] || log "a remote domain was not refused at once ($MS ms, $TRIES tries)"
# the sync searches: the cache file keeps a cookie per list once each
# list's refresh is done; ready when that and slapd's log stand still
n=-1 q=0
for _ in $(seq 1200); do
	c=$(grep -c '^cookie' "$TB_STATE/ldap.cache" 2>/dev/null)
	l=$(wc -l <"$SLAPD_LOG")
	if [ "${c:-0}" -gt 0 ] && [ "$c.$l" = "$n" ]; then q=$((q + 1)); else q=0; fi
	n=$c.$l
	[ "$q" -ge 4 ] && break
	sleep 0.5
done
put sync_ready_ms "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", (b - a) * 1000 - 2000 }')"
put sync_cookies "${c:-0}"
for k in VmRSS VmHWM; do
	put "daemon_${k}_kb" "$(awk -v k="$k:" '$1 == k { print $2 }' "/proc/$TB_MILTER_PID/status")"
done
put slapd_VmRSS_kb "$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$LD_PID/status")"
log "loaded: $(tail -n +2 "$TSV" | tr '\t\n' '= ')"
bl_sink_start || exit 1
tb_pf_start 2525 || exit 1

# ---- the phases ---------------------------------------------------------------
CH=$OUTDIR/ldapscale-changes.tsv
printf 'phase\tn\tkind\tldapmodify_ms\tlatency_ms\ttries\n' >"$CH"
NEXT=0 # changes made so far, all phases
# pace T: sleep until T + PERIOD
pace() {
	local d
	d=$(awk -v a="$1" -v b="$(now)" -v p="$PERIOD" 'BEGIN { d = a + p - b; print (d > 0 ? d : 0) }')
	sleep "$d"
}
# changes PHASE COUNT: add, replace, delete in turn, each probed
changes() {
	local phase=$1 i k t0 t1 dom kind sel
	for i in $(seq "$2"); do
		k=$NEXT
		t0=$(now)
		sel=$((k % 3))
		if [ "$phase" = control ]; then
			sel=3 # outside ou=relaymilter: slapd works, relaymilter hears nothing
		else
			NEXT=$((NEXT + 1))
		fi
		case $sel in
		0)
			kind=add dom=n$k.example
			printf 'dn: cn=n-%d,ou=relaymilter,dc=example,dc=com\nchangetype: add\nobjectClass: relayMilterRule\ncn: n-%d\nrelayMilterList: local_domains\nrelayMilterValue: %s\n' \
				"$k" "$k" "$dom" | ld_modify
			;;
		1)
			# an entry of one value (not a multiple of 20)
			kind=modify dom=m$k.example
			printf 'dn: cn=l-%d,ou=relaymilter,dc=example,dc=com\nchangetype: modify\nreplace: relayMilterValue\nrelayMilterValue: %s\n' \
				"$((k * 20 + 7))" "$dom" | ld_modify
			;;
		2)
			kind=delete dom=n$((k - 2)).example
			printf 'dn: cn=n-%d,ou=relaymilter,dc=example,dc=com\nchangetype: delete\n' \
				"$((k - 2))" | ld_modify
			;;
		3)
			kind=other dom=d5.example
			printf 'dn: uid=carol,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: description\ndescription: %s\n' \
				"$i" | ld_modify
			;;
		esac || log "ldapmodify failed ($kind $dom)"
		t1=$(now)
		if [ "$kind" = delete ]; then probe "$t1" "u@$dom" refuse; else
			probe "$t1" "u@$dom" accept; fi
		printf '%s\t%d\t%s\t%s\t%s\t%s\n' "$phase" "$k" "$kind" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')" "$MS" "$TRIES" >>"$CH"
		pace "$t0"
	done
}
# unchanged COUNT: the probe's cadence, nothing changes
unchanged() {
	local i t0
	for i in $(seq "$1"); do
		t0=$(now)
		if [ $((i % 2)) = 0 ]; then probe "$t0" u@d5.example accept; else
			probe "$t0" u@nowhere.example refuse; fi
		echo "$MS $TRIES" >>"$TB_RUN/unchanged.out"
		pace "$t0"
	done
}
ops() { # ops FROM-LINE: slapd operations logged since then, by kind
	tail -n +$(($1 + 1)) "$SLAPD_LOG" |
		grep -oE ' (SRCH base|BIND dn|MOD dn|ADD dn|DEL dn|MODRDN dn|CMP dn|EXT oid|UNBIND)' |
		awk '{ n[$1]++ } END { for (k in n) printf "%s=%d ", k, n[k] }'
}
nops() { tail -n +$(($1 + 1)) "$SLAPD_LOG" | grep -cE ' (SRCH base|BIND dn|MOD dn|ADD dn|DEL dn|MODRDN dn|CMP dn|EXT oid)='; }
builds() { # builds FROM-LINE: "LAYERS FULL" in the daemon's log since then
	tail -n +$(($1 + 1)) "$TB_MILTER_LOG" | awk '/synchronisation\), rebuilt as a layer/ { l++ }
		/synchronisation\), rebuilt in full/ { f++ } END { print l + 0, f + 0 }'
}
# sessions PHASE: scale sessions in the background, in runs of 5 s until
# sessions_stop; OUTDIR/ldapscale-sessions-PHASE.tsv gets every session,
# its start as seconds since the epoch
sessions() {
	: >"$TB_RUN/sessions.on"
	(
		while [ -e "$TB_RUN/sessions.on" ]; do
			t=$(now)
			"$SCALE" sessions "$TB_MILTER_SOCK" 5 "$TB_RUN/run.tsv" >/dev/null &&
				awk -v t="$t" 'NR > 1 { printf "%.6f\t%s\n", t + $1, $2 }' "$TB_RUN/run.tsv"
		done
	) >"$TB_RUN/sessions-$1.tsv" &
	SESS_PID=$!
	SESS_PHASE=$1
}
sessions_stop() {
	rm -f "$TB_RUN/sessions.on"
	wait "$SESS_PID"
	SESS_PID=
	{
		printf 'start_s\tlatency_us\n'
		cat "$TB_RUN/sessions-$SESS_PHASE.tsv"
	} >"$OUTDIR/ldapscale-sessions-$SESS_PHASE.tsv"
}

# quiet: nothing changes for QUIET s, sessions and probes running
l0=$(wc -l <"$SLAPD_LOG") m0=$(wc -l <"$TB_MILTER_LOG")
sessions quiet
q0=$(now)
unchanged "$(awk -v q="$QUIET" -v p="$PERIOD" 'BEGIN { print int(q / p) }')"
put quiet_start "$q0"
put quiet_end "$(now)"
sessions_stop
put quiet_s "$(awk -v a="$q0" -v b="$(tail -1 "$TSV" | cut -f2)" 'BEGIN { printf "%.1f", b - a }')"
put quiet_ldap_ops "$(nops "$l0")"
put quiet_ldap_ops_kinds "$(ops "$l0")"
put quiet_builds "$(builds "$m0")"
put quiet_unchanged_probe_ms_max "$(awk '{ if ($1 > m) m = $1 } END { print m + 0 }' "$TB_RUN/unchanged.out")"
log "quiet: $(tail -5 "$TSV" | tr '\t\n' '= ')"

# control: the same cadence of ldapmodify, on an entry relaymilter does not
# follow (what the changes cost the machine, not the daemon)
sessions control
sleep 1
put control_start "$(now)"
changes control "$CHANGES"
put control_end "$(now)"
sessions_stop

# stream: changes with the sessions running
l0=$(wc -l <"$SLAPD_LOG") m0=$(wc -l <"$TB_MILTER_LOG")
sessions stream
sleep 1
put stream_start "$(now)"
changes stream "$CHANGES"
put stream_end "$(now)"
sessions_stop
put stream_builds "$(builds "$m0")"
put stream_ldap_ops_kinds "$(ops "$l0")"
log "stream: builds (layers full) $(builds "$m0")"

# deliver: changes with Postfix's deliver workload running
l0=$(wc -l <"$SLAPD_LOG") m0=$(wc -l <"$TB_MILTER_LOG")
k0=$(bl_sink_count)
smtp-source -m 10000000 -s "$S" -l 1024 -M client.test -f a@x.test -t b@y.test \
	"$BL_TRUSTED:2525" >"$TB_RUN/source.out" 2>&1 &
SRC_PID=$!
sleep 2
d0=$(now) k1=$(bl_sink_count)
changes deliver "$CHANGES"
k2=$(bl_sink_count) d1=$(now)
kill "$SRC_PID" 2>/dev/null
wait "$SRC_PID" 2>/dev/null
SRC_PID=
put deliver_msgs_per_s "$(awk -v n=$((k2 - k1)) -v a="$d0" -v b="$d1" 'BEGIN { printf "%.0f", n / (b - a) }')"
put deliver_builds "$(builds "$m0")"
put deliver_ldap_ops_kinds "$(ops "$l0")"
[ $((k2 - k0)) -gt 0 ] || log "the deliver workload delivered nothing: $(head -c 300 "$TB_RUN/source.out")"
for k in VmRSS VmHWM; do
	put "daemon_${k}_kb_end" "$(awk -v k="$k:" '$1 == k { print $2 }' "/proc/$TB_MILTER_PID/status")"
done
put loadavg_end "$(loadavg)"
log "load average at end: $(loadavg)"
# the daemon's log without its decision lines (a gigabyte at a million)
grep -v ': S[0-9A-F]*: client=' "$TB_MILTER_LOG" >"$OUTDIR/ldapscale-milter.log"
grep -v ' conn=.* op=' "$SLAPD_LOG" | tail -20 >"$OUTDIR/ldapscale-slapd-tail.log"

# ---- the report ---------------------------------------------------------------
python3 - "$OUTDIR" >"$OUTDIR/ldapscale.md" <<'PY'
import csv, sys
d = sys.argv[1]
m = {r["metric"]: r["value"] for r in csv.DictReader(open(d + "/ldapscale.tsv"), delimiter="\t")}
ch = list(csv.DictReader(open(d + "/ldapscale-changes.tsv"), delimiter="\t"))

def pct(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, max(0, int(len(v) * p / 100 + 0.999999) - 1))]

def sess(name):
    lo, hi = float(m[name + "_start"]), float(m[name + "_end"])
    v = []
    for r in csv.DictReader(open(f"{d}/ldapscale-sessions-{name}.tsv"), delimiter="\t"):
        s = float(r["start_s"])
        if lo <= s <= hi:
            v.append(float(r["latency_us"]))
    return v

rules = int(m["rules"])
print(f"## {rules} rules in LDAP, followed by synchronisation (ldapscale.sh)\n")
print(f"{rules} values in {m['entries']} relayMilterRule entries (90 % local_domains, mostly one "
      f"value per entry; relay_domains, trusted_networks, licensed_senders), slapadd "
      f"{m['slapadd_s']} s. relaymilter with ldap.sync at its default (auto). "
      f"Load average {m['loadavg_start']} at the start, {m['loadavg_end']} at the end.\n")
print("| initial load | |")
print("|---|---:|")
print(f"| start to listening | {float(m['load_listen_ms']) / 1000:.2f} s |")
print(f"| start to the first decision that knows the data | {float(m['load_first_decision_ms']) / 1000:.2f} s |")
print(f"| start to the sync searches' refresh done ({m['sync_cookies']} cookies in the cache file) | {float(m['sync_ready_ms']) / 1000:.1f} s |")
print(f"| daemon VmRSS / VmHWM after the load | {int(m['daemon_VmRSS_kb']) // 1024} / {int(m['daemon_VmHWM_kb']) // 1024} MB |")
print(f"| daemon VmRSS / VmHWM at the end | {int(m['daemon_VmRSS_kb_end']) // 1024} / {int(m['daemon_VmHWM_kb_end']) // 1024} MB |")
print(f"| slapd VmRSS | {int(m['slapd_VmRSS_kb']) // 1024} MB |")
print()
print("| change to decision (ms) | changes | p50 | p99 | max | layers / full builds |")
print("|---|---:|---:|---:|---:|---:|")
res = {}
for ph, what in (("stream", "with milter sessions back to back"),
                 ("deliver", f"with Postfix's deliver workload ({m['deliver_msgs_per_s']} msg/s)")):
    rows = [r for r in ch if r["phase"] == ph]
    lat = [float(r["latency_ms"]) for r in rows if r["latency_ms"] != "timeout"]
    bad = len(rows) - len(lat)
    lay, full = m[ph + "_builds"].split()
    res[ph] = (pct(lat, 99), bad)
    print(f"| {what} | {len(rows)}{f' ({bad} timed out)' if bad else ''} | {pct(lat, 50):.1f} | "
          f"{pct(lat, 99):.1f} | {max(lat or [0]):.1f} | {lay} / {full} |")
mod = [float(r["ldapmodify_ms"]) for r in ch]
print(f"\nldapmodify itself (a process, bind, the change): p50 {pct(mod, 50):.1f} ms. "
      "The latency runs from its return to the end of the first probe session "
      "that gets the new answer (a session every 1 ms).\n")
idle = sess("quiet")
ctl = sess("control")
busy = sess("stream")
print("| milter session latency (us) | sessions | p50 | p99 |")
print("|---|---:|---:|---:|")
print(f"| nothing changing | {len(idle)} | {pct(idle, 50):.0f} | {pct(idle, 99):.0f} |")
print(f"| ldapmodify every {m['period']} s outside ou=relaymilter (control) | {len(ctl)} | {pct(ctl, 50):.0f} | {pct(ctl, 99):.0f} |")
print(f"| changes streaming (1 per {m['period']} s, as fast as they reach decisions) | {len(busy)} | {pct(busy, 50):.0f} | {pct(busy, 99):.0f} |")
print()
print(f"Quiet window ({m['quiet_s']} s, sessions running, nothing changing): "
      f"{m['quiet_ldap_ops']} LDAP operations ({m['quiet_ldap_ops_kinds'] or 'none'}), "
      f"builds (layers full) {m['quiet_builds']}.\n")
def mark(ok):
    return "met" if ok else "MISSED"
p99 = max(res["stream"][0], res["deliver"][0])
print("Targets:\n")
print(f"- a change reaches decisions in <= 1 s under load: p99 {p99:.1f} ms: **{mark(p99 <= 1000 and not res['deliver'][1])}**")
print(f"- 0 LDAP requests when nothing changes: {m['quiet_ldap_ops']}: **{mark(m['quiet_ldap_ops'] == '0')}**")
cp, bp = pct(ctl, 99), pct(busy, 99)
print(f"- session p99 unmoved while changes stream in (<= 1.2x the control's, which makes the same "
      f"ldapmodify calls; nothing changing: {pct(idle, 99):.0f} us): {bp:.0f} us vs {cp:.0f} us: **{mark(bp <= 1.2 * cp)}**")
print()
PY
cat "$OUTDIR/ldapscale.md" >&2
