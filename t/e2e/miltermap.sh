#!/bin/bash
# t/e2e/miltermap.sh BIN - the smtpd_milter_maps table through a real
# Postfix (authority deployment): relaymilter writes the trusted networks
# it always continues for (milter_map), Postfix skips the milter for them.
# With relaymilter stopped, a trusted client still relays (Postfix never
# asked the milter) while an untrusted one gets the milter's default
# action (tempfail); a policy with a check that could refuse a trusted
# client leaves the table empty.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: miltermap.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix swaks
e2e_begin "$0" "$@"

MAP=$TB_STATE/relaymilter-bypass.cidr
CONF=$TB_STATE/miltermap.conf
write() { # extra lines of the policy
	{
		echo 'local_domains = [ "testbed.test" ];'
		echo 'trusted_networks = [ "127.0.0.20/32" ];'
		echo "milter_map = \"$MAP\";"
		printf '%s\n' "$@"
	} >"$CONF"
}
write
out=$("$BIN" milter-map -c "$CONF" 2>&1)
check "milter-map: the trusted network, disabled" \
	eval 'grep -qE "^127\.0\.0\.20/32 +DISABLE$" <<<"$out"'
write 'deny = { senders = [ "@spam.example" ]; };'
out=$("$BIN" milter-map -c "$CONF" 2>&1)
check "milter-map: a deny list could refuse it: left out, and why" \
	eval '! grep -q DISABLE <<<"$out" && grep -q "127.0.0.20/32: not here: a deny list" <<<"$out"'
# every check that could refuse a trusted client keeps its network out
for extra in 'listeners = { submission = { require_auth = true; }; };|a listener requires SMTP AUTH' \
	'licensed_senders = [ "testbed.test" ];|licensed_senders' \
	'sender_logins = { alice = [ "alice@testbed.test" ]; };|sender_login' \
	'deny = { clients = [ "127.0.0.0/8" ]; };|a deny list'; do
	write "${extra%%|*}"
	out=$("$BIN" milter-map -c "$CONF" 2>&1)
	check "milter-map: ${extra%%|*}: left out (${extra#*|})" \
		eval '! grep -q DISABLE <<<"$out" && grep -q "not here: ${extra#*|}" <<<"$out"'
done
# ... and what cannot refuse it does not
write 'deny = { clients = [ "203.0.113.0/24" ]; };' 'checks = { sender_login = "off"; };' \
	'sender_logins = { alice = [ "alice@testbed.test" ]; };'
out=$("$BIN" milter-map -c "$CONF" 2>&1)
check "milter-map: a deny list of other clients and sender_login off: disabled" \
	eval 'grep -qE "^127\.0\.0\.20/32 +DISABLE$" <<<"$out"'
write

tb_pf_init
tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
tb_pf_conf 'mynetworks = 127.0.0.1/32' "smtpd_milter_maps = cidr:$MAP"
mapfile -t OPTS < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
	"$SRC/contrib/postfix/master.cf.authority")
tb_pf_listen '127.0.0.1:2525 inet n - n - - smtpd' "${OPTS[@]}"
tb_milter_start "$BIN" "$CONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
check "the daemon wrote the table at start" grep -qE "^127\.0\.0\.20/32 +DISABLE$" "$MAP"
tb_pf_start 2525 || bail "Postfix starts"
OUT=$TB_RUN/smtp
tb_smtp "$OUT" --server 127.0.0.1 --port 2525 --local-interface 127.0.0.20 \
	--helo trusted.example --from a@testbed.test --to user@remote.test
check "milter up: the trusted client relays" eval 'grep -q "^RCPT 250" "$OUT"'
tb_milter_stop KILL
tb_smtp "$OUT" --server 127.0.0.1 --port 2525 --local-interface 127.0.0.20 \
	--helo trusted.example --from a@testbed.test --to user@remote.test
check "milter down: the trusted client still relays (Postfix skipped the milter)" \
	eval 'grep -q "^RCPT 250" "$OUT"'
tb_smtp "$OUT" --server 127.0.0.1 --port 2525 --local-interface 127.0.0.9 \
	--helo client.example --from friend@remote.test --to user@testbed.test
check "milter down: an untrusted client gets the milter's default action (451)" \
	eval 'grep -qE "^(MAIL|RCPT) 451" "$OUT"'
finish
