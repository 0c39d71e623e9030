#!/bin/bash
# contrib/bench/ldap.sh OUTDIR - LDAP requests per message in steady state.
#
# relaymilter with its rules in a throwaway slapd (contrib/testbed/ldap.sh: the
# project's schema, contrib/ldap/example.ldif, plus the testbed's domain,
# trusted 127.0.0.1 and LOGINS SMTP AUTH users whose sender addresses are
# looked up on demand through ldap.senders), behind Postfix (the
# authority deployment of contrib/postfix).  After the initial fetch and a
# warm-up that fills the owner cache (every login once), a load of mixed
# sessions runs for a while; slapd logs every operation ("loglevel stats"
# on its stderr), and the operations of the load window are counted:
#   on demand   SRCH under ldap.senders' base (owner lookups): must be 0
#               per message in steady state
#   refresh     SRCH under ldap.base and BINDs: the periodic re-read every
#               ldap.refresh seconds, reported per refresh
# Sessions of the load (smtpload.py, each checks its RCPT reply):
#   untrusted 127.0.0.9 -> remote            550 (relay denied)
#   trusted 127.0.0.1 -> remote              250, relayed to smtp-sink
#   untrusted -> local domain                250
#   AUTH uNN@testbed.test, from uNN@testbed.test -> remote   250 (owner
#                                            looked up, cache warm)
#
# Env: BUILD (default build), N (sessions of each kind per round, 200),
# S (parallel, 10), LOGINS (20), REFRESH (ldap.refresh, 5 s),
# DURATION (load window, at least 3 refreshes: 16 s).
# Writes OUTDIR/ldap.tsv and OUTDIR/ldap.md.  Needs root.
set -u
exec </dev/null
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=pflib.sh
. "$HERE/pflib.sh"
# shellcheck source-path=SCRIPTDIR source=../testbed/ldap.sh
. "$SRC/contrib/testbed/ldap.sh"
bl_prelude ldap.sh "${1:-}" slapd slapadd ldapmodify saslpasswd2
N=${N:-200} S=${S:-10} LOGINS=${LOGINS:-20} REFRESH=${REFRESH:-5} DURATION=${DURATION:-16}
export N S LOGINS REFRESH DURATION
tb_enter_ns "$0" "$@"

# ---- inside the namespaces ------------------------------------------------------
bl_ns_setup || exit 1
tb_state_init
trap 'bl_cleanup; ld_stop' EXIT
trap 'exit 130' INT TERM HUP
log() { printf 'ldap.sh: %s\n' "$*" >&2; }

# slapd as contrib/testbed/ldap.sh runs it, but in the foreground with the stats log
ld_init || exit 1
SLAPD_LOG=$TB_RUN/slapd.log
slapd -f "$LD_STATE/slapd.conf" -h "$LD_URI/" -d stats >"$SLAPD_LOG" 2>&1 &
LD_PID=$!
for _ in $(seq 100); do
	ldapsearch -x -H "$LD_URI" -b "" -s base namingContexts >/dev/null 2>&1 && break
	sleep 0.05
done
{
	cat <<'LDIF'
dn: cn=bench-local,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: bench-local
description: the testbed's domain
relayMilterList: local_domains
relayMilterValue: testbed.test

dn: cn=bench-trusted,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: bench-trusted
description: the trusted load client
relayMilterList: trusted_networks
relayMilterValue: 127.0.0.1

dn: cn=bench-licensed,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: bench-licensed
description: the senders of the load
relayMilterList: licensed_senders
relayMilterValue: testbed.test
relayMilterValue: x.test
LDIF
	for i in $(seq -f %02g "$LOGINS"); do
		printf '\ndn: uid=u%s@testbed.test,ou=people,dc=example,dc=com\n' "$i"
		printf 'changetype: add\nobjectClass: inetOrgPerson\n'
		printf 'uid: u%s@testbed.test\ncn: u%s\nsn: u%s\nmail: u%s@testbed.test\n' "$i" "$i" "$i" "$i"
	done
} | ld_modify || {
	log "cannot load the bench entries"
	exit 1
}

mapfile -t AUTH_OPTS < <(bl_authority_opts)
bl_pf_init '2525 inet n - n - - smtpd' "${AUTH_OPTS[@]}" >"$TB_RUN/check.out" 2>&1 || {
	log "Postfix set-up failed: $(head -3 "$TB_RUN/check.out")"
	exit 1
}
for i in $(seq -f %02g "$LOGINS"); do
	printf secret | saslpasswd2 -p -f "$TB_PFC/sasl/sasldb2" -c -u testbed.test "u$i"
done

SECRET=$TB_STATE/secret
printf 's3cret-for-tests\n' >"$SECRET"
chmod 600 "$SECRET"
MCONF=$TB_STATE/relaymilter.conf
cat >"$MCONF" <<CONF
log_level = "info";
ldap = {
	uri = "$LD_URI";
	base = "ou=relaymilter,dc=example,dc=com";
	bind_dn = "cn=relaymilter,ou=services,dc=example,dc=com";
	bind_password_file = "$SECRET";
	refresh = $REFRESH;
	senders = {
		# the owners, and the groups they are members of
		filter = "(&(objectClass=inetOrgPerson)(uid=%s))";
		group_filter = "(&(objectClass=groupOfNames)(member=%d))";
		base = "ou=people,dc=example,dc=com";
		attrs = "mail";
		group_attr = "mail";
	};
};
CONF
TB_MILTER_SOCK=$(bl_milter_sock) || exit 1
tb_milter_start "$BIN" "$MCONF" || exit 1
bl_sink_start || exit 1
tb_pf_start 2525 || exit 1

LOAD_BAD=0
# load N: one round of the four kinds of sessions
load() {
	local n=$1 kind out
	for kind in untrusted trusted local auth; do
		case $kind in
		untrusted) set -- "$BL_UNTRUSTED" a@x.test user@remote.test 550 ;;
		trusted) set -- "$BL_TRUSTED" a@x.test user@remote.test 250 ;;
		local) set -- "$BL_UNTRUSTED" a@x.test user@testbed.test 250 ;;
		auth) set -- "$BL_UNTRUSTED" 'u{i}@testbed.test' user@remote.test 250 \
			'u{i}@testbed.test' secret ;;
		esac
		local host=$1
		shift
		out=$(LOGINS=$LOGINS python3 "$HERE/smtpload.py" "$host" 2525 "$n" "$S" "$@") || {
			LOAD_BAD=$((LOAD_BAD + 1))
			log "$kind: $out"
		}
		SESSIONS=$((SESSIONS + n))
	done
}

# warm-up: the initial fetch is done (the milter listens); every login once
SESSIONS=0
load "$LOGINS"
LOAD_BAD=0
sleep 1
l0=$(wc -l <"$SLAPD_LOG")
s0=$(date +%s.%N)
m0=$(bl_proc_cpu "$TB_MILTER_PID")
SESSIONS=0 ROUNDS=0
end=$(($(date +%s) + DURATION))
while [ "$(date +%s)" -lt "$end" ]; do
	load "$N"
	ROUNDS=$((ROUNDS + 1))
done
s1=$(date +%s.%N)
m1=$(bl_proc_cpu "$TB_MILTER_PID")
sleep 0.5
tail -n +$((l0 + 1)) "$SLAPD_LOG" >"$TB_RUN/window.log"
PEOPLE='base="ou=people,dc=example,dc=com"'
RULES='base="ou=relaymilter,dc=example,dc=com"'
# the warm-up did look the owners up (else the load proves nothing)
warm=$(head -n "$l0" "$SLAPD_LOG" | grep -c " SRCH $PEOPLE")
# slapd logs two lines per operation: count the first ("base=", "method=")
ops() { grep -cE -- "$1" "$TB_RUN/window.log"; }
ondemand=$(ops " SRCH $PEOPLE")
refresh_srch=$(ops " SRCH $RULES")
binds=$(ops ' BIND dn=.* method=')
other=$(($(ops ' (SRCH base=|MOD dn=|ADD dn=|DEL dn=|MODRDN dn=|CMP dn=|EXT oid=)') -
	ondemand - refresh_srch))
# a refresh reads every list once, hostnames among them
refreshes=$(ops " SRCH $RULES .*relayMilterList=hostnames\\)")
{
	printf 'sessions\tmessages_accepted\tseconds\trefresh_s\tlogins\tondemand_srch\trefresh_srch\tbinds\tother_ops\trefreshes\trelaymilter_cpu_s\tbad_rounds\twarmup_ondemand\n'
	awk -v OFS='\t' -v se="$SESSIONS" -v s0="$s0" -v s1="$s1" -v r="$REFRESH" -v lg="$LOGINS" \
		-v od="$ondemand" -v rs="$refresh_srch" -v b="$binds" -v o="$other" -v rf="$refreshes" \
		-v m="$((m1 - m0))" -v hz="$BL_HZ" -v bad="$LOAD_BAD" -v w="$warm" 'BEGIN {
		print se, se * 3 / 4, sprintf("%.1f", s1 - s0), r, lg, od, rs, b, o, rf,
			sprintf("%.2f", m / hz), bad, w }'
} >"$OUTDIR/ldap.tsv"
log "$(tail -1 "$OUTDIR/ldap.tsv")"
python3 - "$OUTDIR/ldap.tsv" >"$OUTDIR/ldap.md" <<'PY'
import csv, sys
r = next(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
ses, msgs, secs = int(r["sessions"]), int(r["messages_accepted"]), float(r["seconds"])
od, rs, b, o, rf = (int(r[k]) for k in ("ondemand_srch", "refresh_srch", "binds", "other_ops", "refreshes"))
bad = int(r["bad_rounds"])
per_msg = (od + o) / max(1, ses)
print("## LDAP in steady state (ldap.sh)\n")
print(f"Rules in slapd, relaymilter behind Postfix (authority), ldap.refresh = {r['refresh_s']} s, "
      f"{r['logins']} SMTP AUTH logins whose sender addresses are looked up on demand "
      f"(owner cache warmed first). Load window {secs:.1f} s: {ses} sessions "
      f"({msgs} accepted, the rest refused), slapd operations counted from its stats log.\n")
print("| LDAP operations in the window | count | per session |")
print("|---|---:|---:|")
print(f"| on-demand owner lookups (SRCH under ldap.senders base) | {od} | {od / max(1, ses):.4f} |")
print(f"| other operations not part of a refresh | {o} | {o / max(1, ses):.4f} |")
print(f"| refresh searches (SRCH under ldap.base) | {rs} | - |")
print(f"| BINDs | {b} | - |")
print(f"| refreshes in the window | {rf} | - |")
print(f"| relaymilter CPU s / 1000 sessions | {1000 * float(r['relaymilter_cpu_s']) / max(1, ses):.3f} | - |")
print()
if rf:
    print(f"Per refresh: {rs / rf:.1f} searches, {b / rf:.1f} binds (expected, not per message).\n")
warm = int(r["warmup_ondemand"])
print(f"Warm-up (every login once): {warm} on-demand owner lookups.\n")
valid = bad == 0 and ses > 0 and warm >= int(r["logins"])
mark = "met" if per_msg == 0 and valid else "MISSED"
note = "" if valid else f" (invalid run: {bad} load batches with unexpected replies, {warm} warm-up lookups)"
print(f"- LDAP requests per message in steady state = {per_msg:.4f} (target 0): **{mark}**{note}")
print()
PY
