#!/bin/bash
# t/e2e/limits.sh BIN - limits, max_recipients and deny.logins as a user
# sees them through a real Postfix in the "authority" deployment
# (contrib/postfix/*.authority as shipped; an MX listener and a submission
# listener with SMTP AUTH, each with its own {daemon_name}, as in
# scenarios.sh).  The submission profile has a login limit:
#   - alice relays up to it (3 recipients per hour), the next RCPT gets
#     "451 4.7.1", in the same transaction and in a new session; a local
#     recipient is not counted; bob is unaffected;
#   - max_recipients = 5: the 6th RCPT of one transaction gets 452 4.5.3;
#   - deny.logins: 550 5.7.1, and the reply does not name the login;
#   - a limit with lock = "1h": the lock holds in a new session, is listed
#     by "relaymilter limits" and lifted by "relaymilter limits --lift"
#     (the control socket), after which the login relays again.
# What Postfix delivered is read from its maillog (every transport is the
# discard daemon; the smtp and relay transports log as postfix/outbound):
# exactly the recipients that got 250, nothing over a limit.
# Then the login limit once more through a real Sendmail (its MSA daemon
# with SMTP AUTH, contrib/sendmail/*.mc as shipped, queue only; a fresh
# relaymilter): the same 451 4.7.1 (Sendmail may put "<rcpt>... " before
# a milter's reply text), and its queue must hold exactly the recipients
# accepted.  Skipped without the
# unpacked Sendmail (contrib/install-deps test).
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the state
# directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: limits.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix postqueue swaks saslpasswd2 m4
e2e_begin "$0" "$@"

CTL=$TB_RUN/control
EXTRA="max_recipients = 5;
deny = { logins = [ \"mallory@testbed.test\" ]; };
control_socket = \"$CTL\";"
# limits_conf LIMIT: the policy with LIMIT the submission profile's limit
limits_conf() {
	E2E_SUB_PROFILE="limits = ( $1 );" e2e_write_conf "$EXTRA"
}
limits_conf '{ name = "sub-hourly"; key = "login"; recipients = 3; per = "1h"; }'

e2e_pf_authority bob mallory
postconf -c "$TB_PFC" -P 'smtp/unix/syslog_name=postfix/outbound' \
	'relay/unix/syslog_name=postfix/outbound' 'local/unix/syslog_name=postfix/inbound'
tb_pf_cool
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 2587 || bail "Postfix starts"
ok "Postfix with an MX (2525) and a submission (2587) listener"

# ---- Postfix ----------------------------------------------------------------------
# send LOGIN|- FROM TO[,TO...]: one session, on submission with AUTH as
# LOGIN@testbed.test, else on the MX from the trusted LAN
send() {
	local -a a=(--server 127.0.0.1 --helo client.example --from "$2" --to "$3")
	if [ "$1" = - ]; then
		a+=(--port 2525 --local-interface 127.0.0.20)
	else
		a+=(--port 2587 --local-interface 127.0.0.9 -a PLAIN -au "$1@testbed.test" -ap secret)
	fi
	tb_smtp "$OUT" "${a[@]}"
}
# reply CMD [N]: the reply to the Nth CMD of the last session
reply() { awk -v c="$1" -v n="${2:-1}" '$1 == c && ++i == n { sub(/^[A-Z]+ /, ""); print; exit }' "$OUT"; }
# expect NAME ERE CMD [N]
expect() {
	local got
	got=$(reply "$3" "${4:-1}")
	if [[ $got =~ $2 ]]; then ok "$1: $got"; else
		not_ok "$1" "$3 ${4:-1}: ${got:-no reply}"
	fi
}
# logged NAME STRING: relaymilter's log has STRING
logged() {
	if grep -qF -- "$2" "$TB_MILTER_LOG"; then ok "$1"; else
		not_ok "$1" "$(grep -m3 'limit' "$TB_MILTER_LOG")"
	fi
}
# rcpts N: a1@remote.test,...,aN@remote.test with the prefix of $2
rcpts() { seq -s, -f "$2%g@remote.test" 1 "$1"; }

# (Sendmail may put the recipient before the reply text)
LIMIT='^451 4\.7\.1 (<[^ >]+>\.\.\. )?Sending limit reached'
# ---- a login limit: 3 relayed recipients per hour -------------------------------
send alice alice@testbed.test "$(rcpts 4 alice-)"
expect "alice, 1st remote recipient" '^250 ' RCPT 1
expect "alice, 3rd remote recipient: the last within the limit" '^250 ' RCPT 3
expect "alice, 4th remote recipient: over the limit" "$LIMIT" RCPT 4
expect "alice: the 3 within the limit are accepted" '^250 ' DATA
send alice alice@testbed.test alice-5@remote.test
expect "alice, new session: still over the limit" "$LIMIT" RCPT
send alice alice@testbed.test user@testbed.test
expect "alice, local recipient: not counted by a relay limit" '^250 ' RCPT
send bob bob@testbed.test bob-1@remote.test
expect "bob: another login is unaffected" '^250 ' RCPT
logged "the trip is logged" 'limit sub-hourly: login alice@testbed.test is over'

# ---- max_recipients = 5 ----------------------------------------------------------
send - home@testbed.test "$(rcpts 6 many-)"
expect "max_recipients 5: the 5th recipient" '^250 ' RCPT 5
expect "max_recipients 5: the 6th recipient" '^452 4\.5\.3 ' RCPT 6

# ---- deny.logins -----------------------------------------------------------------
send mallory mallory@testbed.test mallory-1@remote.test
expect "deny.logins: AUTH itself succeeds" '^235 ' AUTH
expect "deny.logins: refused" '^550 5\.7\.1 ' RCPT
got=$(reply RCPT)
if [[ ${got,,} == *mallory* ]]; then not_ok "deny.logins: the reply does not name the login" "$got"; else
	ok "deny.logins: the reply does not name the login"
fi

# ---- a lock: 2 recipients per hour, then locked for an hour ----------------------
limits_conf '{ name = "sub-lock"; key = "login"; recipients = 2; per = "1h"; lock = "1h"; }'
e2e_reload
send bob bob@testbed.test "$(rcpts 3 lock-)"
expect "lock: 2nd remote recipient within the limit" '^250 ' RCPT 2
expect "lock: 3rd over the limit" "$LIMIT" RCPT 3
send bob bob@testbed.test lock-4@remote.test
expect "lock: a new session is refused" "$LIMIT" RCPT
logged "lock: logged" 'limit sub-lock: login bob@testbed.test locked for 1h'
out=$("$BIN" limits -c "$MCONF" --key bob@testbed.test 2>&1)
check "lock: relaymilter limits lists it ($out)" grep -q '^sub-lock bob@testbed.test .* locked=' <<<"$out"
out=$("$BIN" limits -c "$MCONF" --lift sub-lock:bob@testbed.test 2>&1)
check "lock: relaymilter limits --lift ($out)" [ "$out" = "lifted 1" ]
send bob bob@testbed.test lock-5@remote.test
expect "lock lifted: the next session relays" '^250 ' RCPT

# ---- what Postfix delivered ------------------------------------------------------
for _ in $(seq 200); do
	postqueue -c "$TB_PFC" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
	sleep 0.05
done
want="alice-1 alice-2 alice-3 bob-1 lock-1 lock-2 lock-5 many-1 many-2 many-3 many-4 many-5"
got=$(sed -nE 's#.*postfix/outbound/discard\[[0-9]+\]: [0-9A-F]+: to=<([^@>]*)@remote\.test>.*#\1#p' \
	"$TB_MAILLOG" | sort | tr '\n' ' ')
check "relayed: exactly the recipients accepted, nothing over a limit ($got)" [ "${got% }" = "$want" ]
if grep -qE 'postfix/inbound/discard\[[0-9]+\]: [0-9A-F]+: to=<user@testbed\.test>' "$TB_MAILLOG"; then
	ok "the local recipient was delivered"
else
	not_ok "the local recipient was delivered" "$(grep -m3 'user@testbed' "$TB_MAILLOG")"
fi

check "relaymilter still running" tb_alive "$TB_MILTER_PID"
tb_pf_stop
tb_milter_stop TERM

# ---- Sendmail: the login limit through its MSA -----------------------------------
E2E_SUB_NAME=MSA
limits_conf '{ name = "sub-hourly"; key = "login"; recipients = 3; per = "1h"; }'
e2e_sm_start "$BIN"
ok "Sendmail with an MTA (2525) and an MSA (2587) daemon"
send alice alice@testbed.test "$(rcpts 4 sm-alice-)"
expect "Sendmail: alice, 3rd remote recipient: within the limit" '^250 ' RCPT 3
expect "Sendmail: alice, 4th remote recipient: over the limit" "$LIMIT" RCPT 4
expect "Sendmail: alice, the 3 within the limit are accepted" '^250 ' DATA
send alice alice@testbed.test sm-alice-5@remote.test
expect "Sendmail: alice, new session: still over the limit" "$LIMIT" RCPT
send bob bob@testbed.test sm-bob-1@remote.test
expect "Sendmail: bob is unaffected" '^250 ' RCPT
tb_sm_stop
got=$(sed -n 's/^R[^:]*:<\{0,1\}\([^@>]*\)@remote\.test>\{0,1\}$/\1/p' "$TB_SM"/mqueue/qf* 2>/dev/null | sort | tr '\n' ' ')
check "Sendmail queued exactly the recipients accepted ($got)" \
	[ "${got% }" = "sm-alice-1 sm-alice-2 sm-alice-3 sm-bob-1" ]
finish
