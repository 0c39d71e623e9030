#!/bin/bash
# t/e2e/relayrules.sh BIN - who may relay beyond static lists, as a user
# sees it through a real Postfix in the "authority" deployment (an MX
# listener on 2525, a submission listener with SMTP AUTH on 2587, each
# with its own {daemon_name}, as in limits.sh):
#   - login_networks: alice may relay only from 127.0.0.9; from
#     127.0.0.30 her relay gets 550 5.7.1 (the reply does not name her,
#     the log line says rule=login_network and her login), her mail for
#     our domain is still accepted; bob, not listed, relays from there;
#   - auth_relay = false on the MX: an authenticated relay on 2525 gets
#     relay_denied, the same on 2587 is accepted.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the state
# directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: relayrules.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix postqueue swaks saslpasswd2
e2e_begin "$0" "$@"

e2e_write_conf 'login_networks = ( { login = "alice@testbed.test"; networks = [ "127.0.0.9/32" ]; } );
listeners = { mx = { auth_relay = false; }; };'
# e2e_write_conf's listeners = { } is the submission one: merge the two
sed -i 's/^listeners = { mx = { auth_relay = false; }; };$//; s/^listeners = { \(.*\) };$/listeners = { \1 mx = { auth_relay = false; }; };/' "$MCONF"

e2e_pf_authority alice bob
tb_pf_cool
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 2587 || bail "Postfix starts"
ok "Postfix with an MX (2525) and a submission (2587) listener"

# send PORT SRC LOGIN TO: one session with AUTH as LOGIN@testbed.test
send() {
	tb_smtp "$OUT" --server 127.0.0.1 --port "$1" --local-interface "$2" \
		--helo client.example --from "$3@testbed.test" --to "$4" \
		-a PLAIN -au "$3@testbed.test" -ap secret
}
reply() { awk -v c="$1" '$1 == c { sub(/^[A-Z]+ /, ""); print; exit }' "$OUT"; }
expect() {
	local got
	got=$(reply "$3")
	if [[ $got =~ $2 ]]; then ok "$1: $got"; else
		not_ok "$1" "$3: ${got:-no reply} ($(tail -3 "$OUT" | tr '\n' ' '))"
	fi
}

# ---- login_networks --------------------------------------------------------
send 2587 127.0.0.9 alice a1@remote.test
expect "alice from her network relays" '^250 ' RCPT
send 2587 127.0.0.30 alice a2@remote.test
expect "alice from elsewhere: AUTH itself succeeds" '^235 ' AUTH
expect "alice from elsewhere: her relay is refused" '^550 5\.7\.1 ' RCPT
got=$(reply RCPT)
if [[ ${got,,} == *alice* ]]; then not_ok "the reply does not name the login" "$got"; else
	ok "the reply does not name the login"
fi
if grep -q 'rule=login_network.*alice@testbed.test\|alice@testbed.test.*rule=login_network' "$TB_MILTER_LOG"; then
	ok "the log line names the rule and the login"
else
	not_ok "the log line names the rule and the login" "$(grep -m2 login_network "$TB_MILTER_LOG")"
fi
send 2587 127.0.0.30 alice user@testbed.test
expect "alice from elsewhere: mail for our domain is accepted" '^250 ' RCPT
send 2587 127.0.0.30 bob b1@remote.test
expect "bob, not listed, relays from anywhere" '^250 ' RCPT

# ---- auth_relay = false on the MX ------------------------------------------
send 2525 127.0.0.9 bob b2@remote.test
if [ "$(reply AUTH | cut -c1-3)" = 235 ]; then
	expect "MX (auth_relay = false): an authenticated relay is refused" '^550 5\.7\.1 Relaying denied' RCPT
else
	not_ok "MX: AUTH offered" "$(reply AUTH)"
fi
send 2587 127.0.0.9 bob b3@remote.test
expect "submission: the same relay is accepted" '^250 ' RCPT
finish
