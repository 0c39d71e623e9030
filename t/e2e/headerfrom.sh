#!/bin/bash
# t/e2e/headerfrom.sh BIN - header_from through a real Postfix, then a real
# Sendmail (issue 17): an authenticated user whose mail client shows the
# From: header cannot sign as someone else.  Each MTA in the authority
# deployment, its submission listener (2587, require_auth; Postfix's
# "submission", Sendmail's MSA daemon) with checks.header_from on; swaks
# logs in as alice@testbed.test and sends one message per From:.
#   - a foreign From: (bob's, bob's behind alice's address as display
#     name, or in an encoded word) is refused 550 5.7.1 after the message
#     (both MTAs report a milter's refusal at the end of headers there);
#   - alice's own From:, upper case, with a display name, with an encoded
#     word as display name, is accepted (250);
#   - the decision line says rule=header_from, the login, the address and
#     the listener.
# The Sendmail half is skipped without the unpacked Sendmail
# (contrib/install-deps test).
# Root only (exit 77 = skipped); private namespaces (contrib/testbed).
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: headerfrom.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix postqueue swaks saslpasswd2 m4
e2e_begin "$0" "$@"

E2E_SUB_PROFILE='checks = { header_from = "reject"; };'

# send FROM-HEADER: alice on submission, envelope her own, to a remote
send() {
	tb_smtp "$OUT" --server 127.0.0.1 --port 2587 --local-interface 127.0.0.9 \
		--helo client.example -a PLAIN -au alice@testbed.test -ap secret \
		--from alice@testbed.test --to user@remote.test --header "From: $1"
}
reply() { awk -v c="$1" '$1 == c { sub(/^[A-Z]+ /, ""); print; exit }' "$OUT"; }
# expect NAME FROM-HEADER ERE: the reply after the message matches ERE
expect() {
	local got
	send "$2"
	got=$(reply DATA)
	if [[ $got =~ $3 ]]; then ok "$1: $got"; else
		not_ok "$1" "From: $2: RCPT $(reply RCPT), DATA ${got:-no reply}"
	fi
}
REFUSED='^550 5\.7\.1 .*From: header'
ACCEPTED='^250 '
# cases MTA: every From: through MTA's submission listener ($E2E_SUB_NAME)
cases() {
	expect "$1: foreign From: refused" 'Bob <bob@testbed.test>' "$REFUSED"
	expect "$1: foreign From: behind the login's address as display name refused" \
		'"alice@testbed.test" <bob@testbed.test>' "$REFUSED"
	expect "$1: foreign From: behind an encoded word refused" \
		'=?utf-8?q?alice@testbed.test?= <bob@testbed.test>' "$REFUSED"
	expect "$1: own From: accepted" 'alice@testbed.test' "$ACCEPTED"
	expect "$1: own From:, upper case, accepted" 'ALICE@TESTBED.TEST' "$ACCEPTED"
	expect "$1: own From: with a display name accepted" 'Alice Liddell <alice@testbed.test>' "$ACCEPTED"
	expect "$1: own From: with an encoded word accepted" \
		'=?utf-8?q?Alice_Liddell_=C3=A9?= <alice@testbed.test>' "$ACCEPTED"
	if grep -q "auth=alice@testbed.test .*header_from=<bob@testbed.test> listener=$E2E_SUB_NAME rule=header_from verdict=reject" \
		"$TB_MILTER_LOG"; then
		ok "$1: log: the refusal's decision line names the login, the From: and the rule"
	else
		not_ok "$1: log: rule=header_from line" "$(grep -m1 header_from "$TB_MILTER_LOG")"
	fi
	if [ "$T_FAIL" -ne 0 ]; then
		tail -15 "$TB_MILTER_LOG" | sed 's/^/# /'
	fi
}

# ---- Postfix ---------------------------------------------------------------------
e2e_write_conf
e2e_pf_authority bob
tb_pf_cool
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 2587 || bail "Postfix starts"
ok "Postfix with a submission listener (2587) where header_from is on"
cases Postfix
if [ "$T_FAIL" -ne 0 ]; then
	tail -15 "$TB_MAILLOG" | sed 's/^/# /'
fi
tb_pf_stop
tb_milter_stop TERM

# ---- Sendmail: its MSA daemon ----------------------------------------------------
E2E_SUB_NAME=MSA
e2e_write_conf
e2e_sm_start "$BIN"
ok "Sendmail with an MSA daemon (2587) where header_from is on"
cases Sendmail
tb_sm_stop
got=$(grep -al '^H[^:]*From: ' "$TB_SM"/mqueue/qf* 2>/dev/null | wc -l)
bad=$(grep -ah '^H[^:]*From: .*bob@' "$TB_SM"/mqueue/qf* 2>/dev/null || true)
check "Sendmail queued the 4 messages accepted, none with bob's From: ($got${bad:+; $bad})" \
	[ "$got" = 4 -a -z "$bad" ]
finish "milter log: $TB_MILTER_LOG (TB_KEEP=1 keeps it)"
