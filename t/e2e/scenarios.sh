#!/bin/bash
# t/e2e/scenarios.sh BIN - the relay scenarios of the full policy, as real
# SMTP sessions through Postfix: an MX listener and a submission listener
# (SMTP AUTH), each with its own {daemon_name}, in the "authority"
# deployment (contrib/postfix/*.authority) so that every refusal below comes
# from relaymilter.
#
# Root only (exit 77 = skipped); runs in private namespaces (t/testbed).
# 127.0.0.20 is the home/ISP network (trusted), 127.0.0.9 a client away
# from home.  Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1
# keeps the state directory.
set -eu
exec </dev/null
BIN=${1:?usage: scenarios.sh RELAYMILTER-BINARY}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "# skipped: needs root (Postfix master, network namespace)"
	exit 77
fi
PATH=$PATH:/usr/sbin:/sbin
for tool in postfix swaks saslpasswd2 unshare ip ss; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "not ok - prerequisites ($tool missing: contrib/install-deps test)"
		exit 1
	fi
done

# shellcheck source-path=SCRIPTDIR source=../testbed/lib.sh
. "$SRC/t/testbed/lib.sh"
tb_enter_ns "$0" "$@"
if ! tb_ns_setup; then
	echo "not ok - namespace setup"
	exit 1
fi
tb_state_init
trap 'tb_cleanup' EXIT
trap 'exit 130' INT TERM HUP

NFAIL=0
ok() { echo "ok - $1"; }
not_ok() {
	NFAIL=$((NFAIL + 1))
	echo "not ok - $1 ($2)"
}

MCONF=$TB_STATE/relaymilter.conf
# write_conf [EXTRA]: the policy under test
write_conf() {
	cat >"$MCONF" <<CONF
log_level = "info";
hostnames = [ "mx.testbed.test" ];
local_domains = [ "testbed.test" ];
trusted_networks = [ "127.0.0.20/32" ];
licensed_senders = [ "testbed.test", "billing@partner.test" ];
sender_logins = (
	{ login = "alice@testbed.test"; senders = [ "alice@testbed.test" ]; },
	{ login = "bob@testbed.test"; senders = [ "bob@testbed.test" ]; }
);
listeners = { submission = { require_auth = true; }; };
${1:-}
CONF
}
write_conf

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

OUT=$TB_RUN/smtp
# session NAME FROM-ADDR PORT SWAKS-ARGS...
session() {
	local src=$2 port=$3
	shift 3
	tb_smtp "$OUT" --server 127.0.0.1 --port "$port" --local-interface "$src" "$@"
}
# expect NAME CMD ERE: the reply to CMD in the last session matches
expect() {
	local got
	got=$(awk -v c="$2" '$1 == c { sub(/^[A-Z]+ /, ""); print; exit }' "$OUT")
	if [[ $got =~ $3 ]]; then ok "$1: $got"; else
		not_ok "$1" "${2}: ${got:-no reply}"
	fi
}
AUTH_ALICE=(-a PLAIN -au alice@testbed.test -ap secret)
HELO=(--helo client.example)

session "home user, ISP network, to a local domain" 127.0.0.20 2525 "${HELO[@]}" \
	--from home@testbed.test --to user@testbed.test
expect "home user on the ISP network -> local domain: accepted" RCPT '^250 '
session "" 127.0.0.20 2525 "${HELO[@]}" --from home@testbed.test --to user@remote.test
expect "home user on the ISP network -> remote domain: relayed" RCPT '^250 '
session "" 127.0.0.9 2525 "${HELO[@]}" --from friend@remote.test --to user@testbed.test
expect "away, unauthenticated -> local domain: accepted (inbound)" RCPT '^250 '
session "" 127.0.0.9 2525 "${HELO[@]}" --from home@remote.test --to user@remote.test
expect "away, unauthenticated -> remote domain: relaying denied" RCPT '^550 5\.7\.1 Relaying denied'
session "" 127.0.0.9 2587 "${HELO[@]}" "${AUTH_ALICE[@]}" --from alice@testbed.test --to user@remote.test
expect "away, authenticated on submission: AUTH" AUTH '^235 '
expect "away, authenticated on submission -> remote domain: relayed" RCPT '^250 '
session "" 127.0.0.9 2587 "${HELO[@]}" "${AUTH_ALICE[@]}" --from bob@testbed.test --to user@remote.test
expect "authenticated, another user's sender: refused" RCPT '^553 5\.7\.1 <bob@testbed\.test>: .*not owned by user alice@testbed\.test'
session "" 127.0.0.9 2525 "${HELO[@]}" --from boss@testbed.test --to user@testbed.test
expect "outsider claiming a local sender: refused" RCPT '^553 5\.7\.1 <boss@testbed\.test>'
session "" 127.0.0.9 2525 --helo mx.testbed.test --from friend@remote.test --to user@testbed.test
expect "outsider HELO as our host name: refused" RCPT '^550 5\.7\.1 <mx\.testbed\.test>: Helo command rejected'
session "" 127.0.0.20 2525 "${HELO[@]}" --from someone@elsewhere.test --to user@remote.test
expect "LAN client, unlicensed sender -> remote: not authorised" RCPT '^553 5\.7\.1 <someone@elsewhere\.test>: not authorised'
session "" 127.0.0.20 2525 "${HELO[@]}" --from someone@elsewhere.test --to user@testbed.test
expect "LAN client, unlicensed sender -> local: accepted" RCPT '^250 '
session "" 127.0.0.20 2525 "${HELO[@]}" --from billing@partner.test --to user@remote.test
expect "LAN client, licensed partner sender -> remote: relayed" RCPT '^250 '
session "" 127.0.0.9 2525 "${HELO[@]}" --from billing@partner.test --to user@remote.test
expect "outsider with a licensed sender -> remote: still relaying denied" RCPT '^550 5\.7\.1 Relaying denied'
session "" 127.0.0.9 2587 "${HELO[@]}" --from alice@testbed.test --to user@remote.test
expect "submission without AUTH: refused at MAIL FROM" MAIL '^530 5\.7\.0 '
session "" 127.0.0.20 2587 "${HELO[@]}" --from home@testbed.test --to user@testbed.test
expect "submission without AUTH, even from the LAN: refused" MAIL '^530 5\.7\.0 '
session "" 127.0.0.9 2525 --helo mx.testbed.test --from boss@testbed.test --to postmaster@testbed.test
expect "postmaster: reachable even by a spoofing outsider" RCPT '^250 '
session "" 127.0.0.9 2525 "${HELO[@]}" --from '<>' --to user@remote.test
expect "bounce <> from outside -> remote: relaying denied" RCPT '^550 5\.7\.1 Relaying denied'
session "" 127.0.0.9 2525 "${HELO[@]}" --from '<>' --to user@testbed.test
expect "bounce <> from outside -> local: accepted" RCPT '^250 '
session "" 127.0.0.9 2525 "${HELO[@]}" --from friend@remote.test --to 'user%remote.test@testbed.test'
expect "percent hack from outside: relaying denied" RCPT '^550 5\.7\.1 Relaying denied'

# monitor: the spoofed HELO is only logged after a reload
write_conf 'checks = { helo_spoof = "monitor"; };'
before=$(grep -c "reloaded" "$TB_MILTER_LOG" || true)
kill -USR1 "$TB_MILTER_PID"
for _ in $(seq 100); do
	[ "$(grep -c "reloaded" "$TB_MILTER_LOG" || true)" -gt "$before" ] && break
	sleep 0.05
done
session "" 127.0.0.9 2525 --helo mx.testbed.test --from friend@remote.test --to user@testbed.test
expect "monitor: outsider HELO as our host name: accepted" RCPT '^250 '
if grep -q 'helo=<mx.testbed.test> .* verdict=continue .*monitor=helo_spoof would="550 5.7.1' "$TB_MILTER_LOG"; then
	ok "monitor: the log says what would have happened"
else
	not_ok "monitor: the log says what would have happened" "$(grep helo=.mx.testbed "$TB_MILTER_LOG" | tail -1)"
fi
session "" 127.0.0.9 2525 "${HELO[@]}" --from boss@testbed.test --to user@testbed.test
expect "monitor of one check: the others still enforce" RCPT '^553 5\.7\.1 '

tb_milter_stop TERM
session "" 127.0.0.9 2525 "${HELO[@]}" --from friend@remote.test --to user@testbed.test
expect "milter down: temporary failure" MAIL '^451 4\.7\.1 '

echo "# $NFAIL failed"
[ "$NFAIL" -eq 0 ]
