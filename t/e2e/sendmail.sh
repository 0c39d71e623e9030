#!/bin/bash
# t/e2e/sendmail.sh BIN - the relay scenarios of the full policy
# (scenarios.inc, the same as scenarios.sh runs through Postfix), as real
# SMTP sessions through a real Sendmail: an MTA daemon (Name=MTA) and a
# submission daemon (Name=MSA, SMTP AUTH), in the "authority" deployment
# built from contrib/sendmail/*.mc as shipped (only the ports changed), so
# that every refusal comes from relaymilter.  Then Sendmail's own ways:
# -bs sessions (no client address), and relaymilter down (F=T).
#
# Sendmail is unpacked, not installed: contrib/install-deps test.  Root
# only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the
# state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: sendmail.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=scenarios.inc
. "$HERE/scenarios.inc"
need_root "MTA daemons, network namespace"
need_tools m4 swaks saslpasswd2
e2e_begin "$0" "$@"
tb_sm_have || bail "prerequisites" "no Sendmail unpacked under $TB_SM_ROOT: contrib/install-deps test"

# Sendmail puts the command's address before a milter's reply text:
# "550 5.7.1 <user@remote.test>... Relaying denied: ..."
SC_MX=2525 SC_SUB=2587 E2E_SUB_NAME=MSA SC_PFX='<[^ >]+>\.\.\. ' SC_AUTH=0
e2e_write_conf

# the snippets as shipped; the test daemons listen on loopback, high ports
e2e_sm_authority || bail "sendmail.cf from contrib/sendmail/*.mc"
if tb_sm_sasl; then SC_AUTH=1; else tb_log "no SMTP AUTH (no private mount namespace)"; fi
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_sm_start 2525 2587 || bail "Sendmail starts"
ok "Sendmail with an MTA (2525) and an MSA (2587) daemon"

sc_run
# {daemon_name} is the Name= of DAEMON_OPTIONS: listeners.MSA applies on
# the submission daemon only
if grep -q ' listener=MSA rule=require_auth verdict=reject' "$TB_MILTER_LOG" &&
	grep -q ' listener=MTA rule=relay_denied verdict=reject' "$TB_MILTER_LOG"; then
	ok "{daemon_name}: listener=MTA and listener=MSA (profile listeners.MSA)"
else
	not_ok "{daemon_name}: listener=MTA and listener=MSA" "$(tail -2 "$TB_MILTER_LOG")"
fi
sc_monitor

# sendmail -bs: SMTP on stdin, no client address ({client_addr} is "0");
# Sendmail's own relay rules trust such a session, relaymilter does not
BS=$(tb_sm_cmd)
tb_smtp "$OUT" --pipe "$BS -bs" --helo client.example --from billing@partner.test --to user@remote.test
expect "-bs session (no client address) -> remote: temporary failure, never relayed" RCPT '^451 4\.3\.0 '
tb_smtp "$OUT" --pipe "$BS -bs" --helo client.example --from friend@remote.test --to user@testbed.test
expect "-bs session -> local domain: accepted" RCPT '^250 '
tb_smtp "$OUT" --pipe "$BS -bs -oM{client_addr}=127.0.0.20" --helo client.example \
	--from billing@partner.test --to user@remote.test
expect "-bs session claiming a trusted {client_addr} (-oM): still no relay" RCPT '^451 4\.3\.0 '
if grep -q 'client=[^ ]*\[unknown\] .* rcpt=<user@remote.test> .*rule=client_address_unknown verdict=tempfail' "$TB_MILTER_LOG"; then
	ok "-bs: logged as an unknown client address"
else
	not_ok "-bs: logged as an unknown client address" "$(tail -1 "$TB_MILTER_LOG")"
fi

tb_milter_stop TERM
session 127.0.0.9 mx --helo client.example --from friend@remote.test --to user@testbed.test
expect "milter down (F=T): temporary failure" MAIL '^451 4\.3\.2 '
session 127.0.0.20 mx --helo client.example --from billing@partner.test --to user@remote.test
expect "milter down (F=T): no relay even for the LAN" MAIL '^451 4\.3\.2 '

finish
