#!/bin/bash
# t/fault/ldap.sh BIN - the LDAP directory down, frozen and flapping while
# SMTP sessions keep coming through a real Postfix in the authority
# deployment (see run.sh).  relaymilter takes its lists from a throwaway
# slapd (contrib/testbed/ldap.sh) with ldap.refresh = 1 s, ldap.timeout = 1 s, a
# cache file, and on-demand sender lookups for SMTP AUTH (kept 1 s).
# Four streams of sessions run throughout:
#   untrusted  127.0.0.9 -> local 250, remote 550
#   trusted    127.0.0.20 (trusted_networks) -> local and remote 250
#   own        AUTH alice, her own sender -> 250, or 4xx when the lookup
#              of what she owns fails
#   other      AUTH alice, bob's sender -> 553, or 4xx; never 250
# The faults: slapd stopped, frozen (SIGSTOP) past ldap.timeout, stopped
# and started again and again, an entry changed in between.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the
# state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: ldap.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
# shellcheck source-path=SCRIPTDIR source=../../contrib/testbed/ldap.sh
. "$SRC/contrib/testbed/ldap.sh"
need_root "Postfix, network namespace"
need_tools postfix python3 slapd slapadd ldapmodify ldapsearch
e2e_begin "$0" "$@"
trap 'touch "$TB_RUN/stop"; ld_stop; tb_cleanup' EXIT
FL_SUB_PORT=2587

{ ld_init && ld_start; } || bail "slapd starts"
# the testbed's domain and addresses, as LDAP entries; 127.0.0.22 is
# trusted until the change made while slapd flaps
ld_modify <"$SRC/t/ldap/testbed.ldif"
ld_modify <<'LDIF'
dn: cn=testbed-lan,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: testbed-lan
relayMilterList: trusted_networks
relayMilterValue: 127.0.0.20

dn: cn=testbed-old,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: testbed-old
relayMilterList: trusted_networks
relayMilterValue: 127.0.0.22
LDIF

SECRET=$TB_STATE/secret
printf 's3cret-for-tests\n' >"$SECRET"
chmod 600 "$SECRET"
cat >"$MCONF" <<CONF
log_level = "info";
hostnames = [ "mx.testbed.test" ];
listeners = { $E2E_SUB_NAME = { require_auth = true; }; };
# the login alice@testbed.test must not own her sender by being it: the
# "own" stream judges the on-demand lookup, not sender_login_implicit
sender_login_implicit = false;
$(ld_milter_ldap "$LD_URI" "$SECRET" "$TB_STATE/ldap.cache" 1 '	sync = "poll"; # these faults are those of polling
	senders = {
		base = "ou=people,dc=example,dc=com";
		filter = "(&(objectClass=inetOrgPerson)(uid=%s))";
		attrs = [ "mail" ];
		ttl = 1;
		negative_ttl = 1;
	};')
CONF
{ tb_milter_start "$BIN" "$MCONF" && fl_postfix; } || bail "slapd, relaymilter and Postfix start"

# The streams: NAME PORT CLIENT NORMAL ERE [ENV...].  A session's
# "GREET_MAIL_LOCAL_REMOTE_DATA" codes are NORMAL with LDAP up, and always
# match ERE.
T4='4[0-9][0-9]'
AUTH=SMTPC_AUTH=alice@testbed.test:secret
STREAMS=(
	"untrusted $FL_PORT 127.0.0.9 220_250_250_550_250 ^220_250_250_550_250$"
	"trusted $FL_PORT 127.0.0.20 220_250_250_250_250 ^220_250_250_250_250$ SMTPC_FROM=home@testbed.test SMTPC_REMOTE=lan@remote.test"
	"own $FL_SUB_PORT 127.0.0.9 220_250_250_250_250 ^220_250_(250_250_250|${T4}_${T4}_-)$ $AUTH SMTPC_FROM=alice@testbed.test SMTPC_REMOTE=own@remote.test"
	"other $FL_SUB_PORT 127.0.0.9 220_250_553_553_- ^220_250_(553|$T4)_(553|$T4)_-$ $AUTH SMTPC_FROM=bob@testbed.test SMTPC_REMOTE=stolen@remote.test"
)
# one NAME: a session of that stream; ONE gets its line
one() {
	local name port src env s
	for s in "${STREAMS[@]}"; do
		read -r name port src _ _ env <<<"$s"
		[ "$name" = "$1" ] || continue
		# shellcheck disable=SC2086 # env holds NAME=VALUE words
		env $env python3 "$HERE/smtpc.py" load "$port" "$src" 1 1 >"$TB_RUN/one"
		ONE=$(awk '{ print $2 "_" $3 "_" $4 "_" $5 "_" $6 }' "$TB_RUN/one")
	done
}
# expect_one NAME STREAM ERE: a session of STREAM is answered as ERE says
expect_one() {
	one "$2"
	if [[ $ONE =~ $3 ]]; then ok "$1: $ONE"; else not_ok "$1" "$ONE"; fi
}
# stream NAME PORT CLIENT NORMAL ERE [ENV...]: batches of 4 sessions, 2 at a
# time, until $TB_RUN/stop exists; $TB_RUN/s.NAME gets their lines,
# s.NAME.n how many were started
stream() {
	local name=$1 port=$2 src=$3 n=0
	shift 5
	while [ ! -e "$TB_RUN/stop" ]; do
		n=$((n + 4))
		echo "$n" >"$TB_RUN/s.$name.n"
		env "$@" python3 "$HERE/smtpc.py" load "$port" "$src" 4 2 \
			>>"$TB_RUN/s.$name" 2>>"$TB_RUN/s.$name.err"
	done
}
# check_stream NAME ERE: every session started was answered, each as ERE
# allows; FL_TEMP: how many had a 4xx
check_stream() {
	local name=$1 ere=$2 n total bad relayed
	n=$(cat "$TB_RUN/s.$name.n")
	total=$(wc -l <"$TB_RUN/s.$name")
	bad=$(awk '{ print $2 "_" $3 "_" $4 "_" $5 "_" $6 }' "$TB_RUN/s.$name" |
		grep -Ev "$ere" | sort | uniq -c | head -3 | tr -s ' \n' ' ' || true)
	relayed=$(awk '$5 == 250' "$TB_RUN/s.$name" | wc -l)
	FL_TEMP=$(awk '/ 4[0-9][0-9] /' "$TB_RUN/s.$name" | wc -l)
	if [ "$total" -ne "$n" ]; then
		not_ok "$name: every session answered" "$total of $n: $(head -c 200 "$TB_RUN/s.$name.err")"
	elif [ -n "$bad" ]; then
		not_ok "$name: $n sessions, each answered as allowed" "$bad"
	else
		ok "$name: $n sessions, $FL_TEMP tempfailed, remote 250: $relayed"
	fi
}

for s in "${STREAMS[@]}"; do
	read -r name _ _ normal _ <<<"$s"
	expect_one "before the faults, $name" "$name" "^$normal\$"
done

relay_from() { # relay_from CLIENT: the remote RCPT code from there
	SMTPC_FROM=home@testbed.test SMTPC_REMOTE=net@remote.test \
		python3 "$HERE/smtpc.py" load "$FL_PORT" "$1" 1 1 | awk '{ print $5 }'
}
flips() { # flips NAME CLIENT CODE: the relay reply becomes CODE within 10 s
	local _ code=
	for _ in $(seq 40); do
		code=$(relay_from "$2")
		[ "$code" = "$3" ] && { ok "$1 ($code)"; return 0; }
		sleep 0.25
	done
	not_ok "$1" "still $code"
}
flips "before the faults: 127.0.0.21 is not trusted" 127.0.0.21 553
flips "before the faults: 127.0.0.22 is trusted" 127.0.0.22 250

rm -f "$TB_RUN/stop"
pids=()
for s in "${STREAMS[@]}"; do
	# shellcheck disable=SC2086 # the stream's words
	stream $s &
	pids+=($!)
done
sleep 1

# (a) slapd stopped: the last good copy answers; a lookup that misses the
# owner cache (kept 1 s) tempfails
ld_stop
sleep 1.5
expect_one "slapd down, AUTH lookup not cached: 4xx" own "^220_250_${T4}_${T4}_-$"
expect_one "slapd down, AUTH with someone else's sender: 4xx" other "^220_250_${T4}_${T4}_-$"
ld_start

# (b) frozen for more than twice ldap.timeout
sleep 1
kill -STOP "$LD_PID"
sleep 2.5
expect_one "slapd frozen, AUTH lookup not cached: 4xx" own "^220_250_${T4}_${T4}_-$"
kill -CONT "$LD_PID"
sleep 1

# (c) stopped and started again and again; (d) in between, 127.0.0.21
# becomes trusted and 127.0.0.22 no longer is
for i in 1 2 3 4 5 6; do
	ld_stop
	sleep 0.3
	ld_start
	if [ "$i" = 3 ]; then
		ld_modify <<'LDIF'
dn: cn=testbed-new,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: testbed-new
relayMilterList: trusted_networks
relayMilterValue: 127.0.0.21

dn: cn=testbed-old,ou=relaymilter,dc=example,dc=com
changetype: modify
replace: relayMilterEnabled
relayMilterEnabled: FALSE
LDIF
	fi
	sleep 0.3
done
sleep 1
touch "$TB_RUN/stop"
wait "${pids[@]}"

for s in "${STREAMS[@]}"; do
	read -r name _ _ _ ere _ <<<"$s"
	check_stream "$name" "$ere"
	if [ "$name" = own ] && [ "$FL_TEMP" -eq 0 ]; then
		not_ok "own: some lookups tempfailed while LDAP was away" "none"
	fi
done

# after the flapping, the change made in between takes effect
flips "LDAP back: the entry added while flapping trusts 127.0.0.21" 127.0.0.21 250
flips "LDAP back: the entry disabled while flapping no longer trusts 127.0.0.22: a local sender from outside" 127.0.0.22 553
expect_one "LDAP back: AUTH, her own sender" own '^220_250_250_250_250$'
expect_one "LDAP back: AUTH, someone else's sender" other '^220_250_553_553_-$'

fl_milter_alive "relaymilter survives"
down=$(grep -c 'LDAP unavailable' "$TB_MILTER_LOG" || true)
back=$(grep -c 'LDAP is back' "$TB_MILTER_LOG" || true)
if [ "$down" -gt 0 ] && [ "$back" -gt 0 ]; then
	ok "logged: LDAP unavailable ($down times), LDAP is back ($back times)"
else
	not_ok "logged: LDAP unavailable, LDAP is back" "$down, $back"
fi
fl_no_relay
if grep -q 'to=<stolen@remote.test>, relay=' "$TB_MAILLOG"; then
	not_ok "nothing with someone else's sender was relayed" "$(grep -m1 'stolen@remote' "$TB_MAILLOG")"
else
	ok "nothing with someone else's sender was relayed (maillog)"
fi
finish
