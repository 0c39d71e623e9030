#!/bin/bash
# t/e2e/scenarios.sh BIN - the relay scenarios of the full policy, as real
# SMTP sessions through Postfix: an MX listener and a submission listener
# (SMTP AUTH), each with its own {daemon_name}, in the "authority"
# deployment (contrib/postfix/*.authority) so that every refusal comes from
# relaymilter.  The scenarios are in scenarios.inc (shared with
# sendmail.sh).
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1
# keeps the state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: scenarios.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=scenarios.inc
. "$HERE/scenarios.inc"
need_root "MTA daemons, network namespace"
need_tools postfix swaks saslpasswd2
e2e_begin "$0" "$@"

SC_MX=2525 SC_SUB=2587 SC_PFX='' SC_AUTH=1
e2e_write_conf

e2e_pf_authority bob
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 2587 || bail "Postfix starts"
ok "Postfix with an MX (2525) and a submission (2587) listener"

sc_run
sc_monitor

tb_milter_stop TERM
session 127.0.0.9 mx --helo client.example --from friend@remote.test --to user@testbed.test
expect "milter down: temporary failure" MAIL '^451 4\.7\.1 '

finish
