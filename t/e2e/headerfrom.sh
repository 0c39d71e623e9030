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
#     the listener;
#   - header_from_sessions = "all": on the MX listener (2525) an outsider's
#     message with a From: of ours (however written) is refused, with its
#     own From: accepted; a trusted client (127.0.0.20) is not judged.
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

# header_from on every listener, for outsiders too
HF_CONF='checks = { header_from = "reject"; };
header_from_sessions = "all";'

# send FROM-HEADER: alice on submission, envelope her own, to a remote;
# with OUTSIDE=IP, a client at IP on the MX, from outside, to a user of ours
send() {
	if [ -n "${OUTSIDE:-}" ]; then
		tb_smtp "$OUT" --server 127.0.0.1 --port 2525 \
			--local-interface "$OUTSIDE" --helo client.example \
			--from friend@remote.test --to user@testbed.test \
			--header "From: $1"
		return
	fi
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
SPOOF='^550 5\.7\.1 .*From: header names a domain of ours'
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
	local OUTSIDE=127.0.0.9
	expect "$1: outsider on the MX: a From: of ours refused" 'Bob <bob@testbed.test>' "$SPOOF"
	expect "$1: outsider on the MX: a From: of ours in capitals, encoded name, refused" \
		'=?utf-8?b?Qm9i?= <BOB@TESTBED.TEST>' "$SPOOF"
	expect "$1: outsider on the MX: its own From: among others of ours refused" \
		'friend@remote.test, bob@testbed.test' "$SPOOF"
	expect "$1: outsider on the MX: its own From: accepted" 'Friend <friend@remote.test>' "$ACCEPTED"
	OUTSIDE=127.0.0.20
	expect "$1: trusted client on the MX: a From: of ours accepted" 'bob@testbed.test' "$ACCEPTED"
	if [ "$T_FAIL" -ne 0 ]; then
		tail -15 "$TB_MILTER_LOG" | sed 's/^/# /'
	fi
}

# ---- Postfix ---------------------------------------------------------------------
e2e_write_conf "$HF_CONF"
e2e_pf_authority bob
tb_pf_cool
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 2587 || bail "Postfix starts"
ok "Postfix with an MX (2525) and a submission listener (2587), header_from on"
cases Postfix
if [ "$T_FAIL" -ne 0 ]; then
	tail -15 "$TB_MAILLOG" | sed 's/^/# /'
fi
tb_pf_stop
tb_milter_stop TERM

# ---- Sendmail: its MSA daemon ----------------------------------------------------
E2E_SUB_NAME=MSA
e2e_write_conf "$HF_CONF"
e2e_sm_start "$BIN"
ok "Sendmail with an MX (2525) and an MSA daemon (2587), header_from on"
cases Sendmail
tb_sm_stop
# alice's messages (the outsiders' went to a user of ours)
mapfile -t qf < <(grep -al '^S<alice@testbed.test>' "$TB_SM"/mqueue/qf* 2>/dev/null)
got=${#qf[@]}
bad=
if ((got)); then bad=$(grep -ah '^H[^:]*From: .*bob@' "${qf[@]}" || true); fi
check "Sendmail queued alice's 4 messages accepted, none with bob's From: ($got${bad:+; $bad})" \
	[ "$got" = 4 -a -z "$bad" ]
finish "milter log: $TB_MILTER_LOG (TB_KEEP=1 keeps it)"
