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
set -eu
exec </dev/null
BIN=${1:?usage: scenarios.sh RELAYMILTER-BINARY}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
SC_TOOLS="postfix swaks saslpasswd2 unshare ip ss"
# shellcheck source-path=SCRIPTDIR source=scenarios.inc
. "$HERE/scenarios.inc"
sc_prologue "$0" "$@"

SC_MX=2525 SC_SUB=2587 SC_SUB_NAME=submission SC_PFX='' SC_AUTH=1
sc_write_conf

tb_pf_init
printf secret | saslpasswd2 -p -f "$TB_PFC/sasl/sasldb2" -u testbed.test bob
tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
tb_pf_conf 'mynetworks = 127.0.0.1/32'
mapfile -t OPTS < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
	"$SRC/contrib/postfix/master.cf.authority")
tb_pf_listen \
	'127.0.0.1:2525 inet n - n - - smtpd' "${OPTS[@]}" \
	'  -o milter_macro_daemon_name=mx' \
	'127.0.0.1:2587 inet n - n - - smtpd' "${OPTS[@]}" \
	'  -o milter_macro_daemon_name=submission'
if ! tb_milter_start "$BIN" "$MCONF"; then
	echo "not ok - relaymilter starts ($(tail -3 "$TB_MILTER_LOG"))"
	exit 1
fi
if ! tb_pf_start 2525 2587; then
	echo "not ok - Postfix starts"
	exit 1
fi
ok "Postfix with an MX (2525) and a submission (2587) listener"

sc_run
sc_monitor

tb_milter_stop TERM
session 127.0.0.9 mx --helo client.example --from friend@remote.test --to user@testbed.test
expect "milter down: temporary failure" MAIL '^451 4\.7\.1 '

echo "# $NFAIL failed"
[ "$NFAIL" -eq 0 ]
