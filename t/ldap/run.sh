#!/bin/bash
# t/ldap/run.sh BIN - relaymilter with its policy in a real slapd.
#
# Runs as root in private namespaces (contrib/testbed/lib.sh): a throwaway slapd
# on 127.0.0.1:3899 loaded with contrib/ldap/example.ldif (the list part of
# t/golden/policy.conf), relaymilter check against it, then the daemon
# behind a real Postfix while entries change.  Prints ok/not ok lines and
# exits 1 on any failure; 77 (skipped) when not root.  TB_KEEP=1 keeps the
# state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: run.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
ldap_begin "$0" "$@"

{ ld_init && ld_start; } || bail "slapd starts"
ok "slapd starts with the example policy"

SECRET=$TB_STATE/secret
printf 's3cret-for-tests\n' >"$SECRET"
chmod 600 "$SECRET"
CACHE=$TB_STATE/ldap.cache
LCONF=$TB_STATE/ldap.conf
FCONF=$SRC/t/golden/policy.conf
# write_conf URIS [EXTRA-LDAP-LINES]: the policy of policy.conf, lists in LDAP
write_conf() {
	cat >"$LCONF" <<CONF
listeners = {
	submission = { require_auth = true; };
	mx = { checks = { helo_spoof = "monitor"; }; };
	audit = { mode = "monitor"; };
	lax = { checks = { local_sender_spoof = "off"; unlicensed_sender = "off"; }; };
};
replies = {
	helo_spoof = "550 5.7.1 <{helo}>: Helo command rejected: client {client} is not us";
};
ldap = {
	uri = [ $1 ];
	base = "ou=relaymilter,dc=example,dc=com";
	bind_dn = "cn=relaymilter,ou=services,dc=example,dc=com";
	bind_password_file = "$SECRET";
	timeout = 2;
	refresh = 1;
	sync = "poll"; # t/ldap/sync.sh tests content synchronisation
	cache_file = "$CACHE";
	senders = {
		base = "ou=people,dc=example,dc=com";
		filter = "(&(objectClass=inetOrgPerson)(uid=%s))";
		attrs = [ "mail", "relayMilterSenderAddress" ];
		group_filter = "(&(objectClass=groupOfNames)(member=%d))";
		group_attr = "mail";
	};
	${2:-}
};
CONF
}
GOOD_URI="\"$LD_URI\""
write_conf "$GOOD_URI"
check "relaymilter -n accepts the LDAP config" \
	"$BIN" -n -c "$LCONF" >/dev/null

# verdicts CONF ARGS...: the verdict lines and exit status, without origins
verdicts() {
	local conf=$1
	shift
	{
		"$BIN" check -c "$conf" "$@" 2>"$TB_RUN/check.err"
		echo "exit $?"
	} | grep -E '^(<|exit )' | sed -E 's/ \((ldap:|\/)[^)]*\)//'
}

# ---- the same decisions as the same policy in a file --------------------------
n=0 same=0
while IFS= read -r line; do
	case $line in '$ '*) ;; *) continue ;; esac
	eval "args=(${line#\$ })"
	n=$((n + 1))
	a=$(verdicts "$FCONF" "${args[@]}")
	b=$(verdicts "$LCONF" "${args[@]}")
	if [ "$a" = "$b" ]; then
		same=$((same + 1))
	else
		not_ok "LDAP = file: ${line#\$ }" "file: $a / ldap: $b"
	fi
done <"$SRC/t/golden/policy.golden"
if [ "$n" -gt 50 ] && [ "$same" -eq "$n" ]; then
	ok "LDAP = file: $same of $n golden decisions identical"
else
	not_ok "LDAP = file" "$same of $n identical"
fi
check "the fetch wrote the cache file" test -s "$CACHE"
check "the cache file is not world-readable" \
	bash -c "[ \$(( 0\$(stat -c %a '$CACHE') & 4 )) -eq 0 ]"
out=$("$BIN" check -c "$LCONF" --client 203.0.113.9 --from a@remote.test \
	--rcpt user@example.com 2>&1) || true
case $out in
*'entry="example.com" (ldap:cn=local,ou=relaymilter,dc=example,dc=com)'*)
	ok "check names the DN of the matching entry" ;;
*) not_ok "check names the DN of the matching entry" "$out" ;;
esac

# ---- on-demand sender lookups ---------------------------------------------------
# want NAME EXIT ARGS...: relaymilter check exits EXIT
want() {
	local name=$1 code=$2 rc=0
	shift 2
	"$BIN" check -c "$LCONF" "$@" >"$TB_RUN/want.out" 2>&1 || rc=$?
	if [ "$rc" -eq "$code" ]; then ok "$name"; else
		not_ok "$name" "exit $rc: $(head -c 300 "$TB_RUN/want.out")"
	fi
}
# relaymilter check as root keeps the owner and mode of the daemon's cache
chown nobody:nogroup "$CACHE"
chmod 600 "$CACHE"
want "check as root, LDAP up" 1 --client 203.0.113.9 --from a@remote.test --rcpt user@remote.test
check "check as root: the cache still belongs to the daemon's user" \
	test "$(stat -c '%U %a' "$CACHE")" = "nobody 600"
AUTH=(--client 203.0.113.9 --rcpt user@remote.test)
want "carol owns her mail address (LDAP lookup)" 0 "${AUTH[@]}" --auth carol --from carol@example.com
want "carol owns her relayMilterSenderAddress" 0 "${AUTH[@]}" --auth carol --from c.smith@example.com
want "carol owns her group's address" 0 "${AUTH[@]}" --auth Carol --from sales@example.com
want "carol does not own bob's address" 1 "${AUTH[@]}" --auth carol --from bob@example.com
want "alice's static sender_logins still apply" 0 "${AUTH[@]}" --auth alice --from alice@example.com
want "an unknown login owns nothing" 1 "${AUTH[@]}" --auth nobody --from carol@example.com
want "login '*' matches nobody" 1 "${AUTH[@]}" --auth '*' --from carol@example.com
want "login '*)(uid=*' matches nobody" 1 "${AUTH[@]}" --auth '*)(uid=*' --from carol@example.com
want "login 'carol)(uid=*' matches nobody" 1 "${AUTH[@]}" --auth 'carol)(uid=*' --from carol@example.com
want "an 8-bit login matches nobody" 1 "${AUTH[@]}" --auth $'car\xffol' --from carol@example.com
want "a 64 KiB login matches nobody" 1 "${AUTH[@]}" --auth "$(head -c 65536 /dev/zero | tr '\0' c)" --from carol@example.com
want "a 64 KiB HELO and sender: a safe answer" 1 --client 203.0.113.9 \
	--helo "$(head -c 65536 /dev/zero | tr '\0' h)" \
	--from "$(head -c 65536 /dev/zero | tr '\0' s)@example.com" --rcpt user@example.com

# ---- sender_login_mode = "known": the directory's reverse question ---------------
printf 'sender_login_mode = "known";\nrecipient_delimiter = "+";\n' >>"$LCONF"
KNOWN=(--client 203.0.113.9 --rcpt user@example.com --auth nobody)
want "known: carol's address is refused to another login" 1 "${KNOWN[@]}" --from carol@example.com
want "known: her relayMilterSenderAddress, with a tag" 1 "${KNOWN[@]}" --from C.Smith+x@example.com
want "known: her group's address" 1 "${KNOWN[@]}" --from sales@example.com
want "known: an address nobody owns is free" 0 "${KNOWN[@]}" --from stranger@remote.example
want "known: carol keeps her own" 0 --client 203.0.113.9 --rcpt user@example.com --auth carol --from carol+news@example.com
want "known: a filter-shaped sender owns nothing, owned by nobody" 0 "${KNOWN[@]}" --from '"*)(mail=*"@remote.example'
write_conf "$GOOD_URI"

# ---- a bad entry is skipped, with its DN -----------------------------------------
ld_modify <<'LDIF'
dn: cn=bad-cidr,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: bad-cidr
relayMilterList: trusted_networks
relayMilterValue: 10.0.0.0/33
relayMilterValue: 203.0.113.77/32
LDIF
want "a malformed CIDR does not poison the policy" 1 --client 203.0.113.9 --from a@remote.test --rcpt user@remote.test
if grep -q 'ldap:cn=bad-cidr,ou=relaymilter,dc=example,dc=com: trusted_networks "10.0.0.0/33"' "$TB_RUN/want.out"; then
	ok "the bad entry is reported with its DN"
else
	not_ok "the bad entry is reported with its DN" "$(head -c 300 "$TB_RUN/want.out")"
fi
want "the good value of the same entry applies" 0 --client 203.0.113.77 --from a@example.com --rcpt user@remote.test

# ---- a whole-domain grant from the directory is named, with its DN ---------------
"$BIN" check -c "$LCONF" --explain --client 203.0.113.9 --auth alice \
	--from alice@sales.example.com --rcpt user@remote.test >"$TB_RUN/want.out" 2>&1 || true
if grep -q 'warning: ldap:cn=owns-alice,ou=relaymilter,dc=example,dc=com: sender_logins: "@sales.example.com" covers every address of sales.example.com' "$TB_RUN/want.out"; then
	ok "check --explain: an LDAP value starting with @ is a whole-domain grant (warning with its DN)"
else
	not_ok "check --explain: an LDAP value starting with @ warns" "$(head -c 600 "$TB_RUN/want.out")"
fi

# ---- faults ---------------------------------------------------------------------
want "first URI dead, second alive" 0 --client 192.0.2.5 --from a@example.com --rcpt user@remote.test
write_conf "\"ldap://127.0.0.1:3898\", $GOOD_URI"
want "first URI dead, second alive: still the LDAP policy" 0 --client 203.0.113.77 --from a@example.com --rcpt user@remote.test

write_conf "$GOOD_URI" "starttls = true;"
rm -f "$CACHE"
want "StartTLS refused by the server: fails closed (tempfail)" 2 --client 192.0.2.5 --from a@example.com --rcpt user@remote.test
if grep -q "StartTLS failed" "$TB_RUN/want.out" && grep -q "rule=policy_unavailable" "$TB_RUN/want.out"; then
	ok "StartTLS failure: says why, policy unavailable"
else
	not_ok "StartTLS failure: says why" "$(head -c 300 "$TB_RUN/want.out")"
fi
# -n cannot see that; it says so, and ldap-test shows it
out=$("$BIN" -n -c "$LCONF" 2>&1)
check "-n: OK, and says the directory was not checked" \
	eval '[[ $out == *"$LCONF: OK"* && $out == *"not checked: the LDAP directory"* ]]'
rc=0
"$BIN" ldap-test -c "$LCONF" >"$TB_RUN/lt.out" 2>&1 || rc=$?
check "ldap-test, StartTLS refused: fails (exit $rc) and says why" \
	eval '[ $rc -eq 1 ] && grep -q "FAILED.*StartTLS" "$TB_RUN/lt.out"'

write_conf "$GOOD_URI"
rc=0
"$BIN" ldap-test -c "$LCONF" --login carol >"$TB_RUN/lt.out" 2>&1 || rc=$?
check "ldap-test: the directory answers, with the entries of each list (exit $rc)" \
	eval '[ $rc -eq 0 ] && grep -q "connected, bound and searched" "$TB_RUN/lt.out" &&
		grep -qE "^  local_domains +[1-9][0-9]* entr" "$TB_RUN/lt.out"'
check "ldap-test --login: the on-demand lookup of a login" \
	grep -q "carol@example.com" "$TB_RUN/lt.out"
want "a good fetch writes the cache again" 0 --client 192.0.2.5 --from a@example.com --rcpt user@remote.test
check "cache written" test -s "$CACHE"
printf 'wrong\n' >"$SECRET"
want "bad bind password: the cached policy answers" 0 --client 192.0.2.5 --from a@example.com --rcpt user@remote.test
if grep -q "Invalid credentials" "$TB_RUN/want.out" && ! grep -q "wrong" "$TB_RUN/want.out"; then
	ok "bad bind password: logged, the password is not"
else
	not_ok "bad bind password: logged, the password is not" "$(head -c 300 "$TB_RUN/want.out")"
fi
printf 's3cret-for-tests\n' >"$SECRET"
chmod 644 "$SECRET"
rc=0
"$BIN" -n -c "$LCONF" >"$TB_RUN/n.out" 2>&1 || rc=$?
if [ $rc -eq 78 ] && grep -q "readable by everyone" "$TB_RUN/n.out"; then
	ok "a world-readable password file is a config error"
else
	not_ok "a world-readable password file is a config error" "exit $rc: $(cat "$TB_RUN/n.out")"
fi
chmod 600 "$SECRET"

ld_stop
want "slapd stopped: the cached policy answers" 0 --client 192.0.2.5 --from a@example.com --rcpt user@remote.test
check "slapd stopped: says it uses the cache" grep -q "last known good" "$TB_RUN/want.out"
want "slapd stopped: a relay is still refused" 1 --client 203.0.113.9 --from a@remote.test --rcpt user@remote.test
want "slapd stopped: an on-demand lookup tempfails" 2 "${AUTH[@]}" --auth carol --from carol@example.com
mv "$CACHE" "$CACHE.saved"
want "slapd stopped, no cache: tempfail, never continue" 2 --client 192.0.2.5 --from a@example.com --rcpt user@example.com
mv "$CACHE.saved" "$CACHE"

ld_start
kill -STOP "$LD_PID"
t0=$(date +%s)
want "slapd frozen: the cached policy answers" 0 --client 192.0.2.5 --from a@example.com --rcpt user@remote.test
t1=$(date +%s)
if [ $((t1 - t0)) -le 12 ]; then
	ok "slapd frozen: the timeouts bound the wait ($((t1 - t0)) s)"
else
	not_ok "slapd frozen: the timeouts bound the wait" "$((t1 - t0)) s"
fi
kill -CONT "$LD_PID"

# ---- mapping onto an existing directory ---------------------------------------
MCONF=$TB_STATE/mapped.conf
cat >"$MCONF" <<CONF
hostnames = [ "mx.example.com" ];
ldap = {
	uri = "$LD_URI";
	base = "dc=example,dc=com";
	bind_dn = "cn=relaymilter,ou=services,dc=example,dc=com";
	bind_password_file = "$SECRET";
	lists = {
		local_domains = { base = "ou=domains,dc=example,dc=com";
			filter = "(objectClass=domainRelatedObject)";
			attr = "associatedDomain"; };
	};
	senders = { base = "ou=people,dc=example,dc=com";
		filter = "(&(objectClass=inetOrgPerson)(uid=%s))"; attrs = "mail"; };
};
CONF
rc=0
out=$("$BIN" check -c "$MCONF" --client 203.0.113.9 --from a@remote.test \
	--rcpt u@other.mapped.example --rcpt u@example.com 2>&1) || rc=$?
case $out in
*'<u@other.mapped.example> continue - rule=local_domains entry="other.mapped.example" (ldap:dc=mapped,ou=domains,dc=example,dc=com)'*'<u@example.com> reject'*)
	ok "associatedDomain mapped onto local_domains; nothing else read" ;;
*) not_ok "associatedDomain mapped onto local_domains" "exit $rc: $out" ;;
esac

# ---- the daemon behind Postfix while the directory changes -----------------------
# the submission port too, for the on-demand lookups
ldap_postfix submission:2587
# the test domain of the testbed is ours, via LDAP like the rest
ld_modify <"$HERE/testbed.ldif"
{ tb_milter_start "$BIN" "$LCONF" && tb_pf_start 2525; } ||
	bail "relaymilter and Postfix start" "$(tail -3 "$TB_MILTER_LOG")"
# flips NAME CODE: the relay reply becomes CODE within 10 s (refresh = 1 s)
flips() {
	local _ code=
	for _ in $(seq 40); do
		code=$(relay_code)
		[ "$code" = "$2" ] && { ok "$1 ($code)"; return 0; }
		sleep 0.25
	done
	not_ok "$1" "still $code"
}
flips "untrusted client: relay refused" 550
ld_modify <<'LDIF'
dn: cn=client9,ou=relaymilter,dc=example,dc=com
changetype: add
objectClass: relayMilterRule
cn: client9
relayMilterList: trusted_networks
relayMilterValue: 127.0.0.9
LDIF
flips "ldapadd trusted_networks 127.0.0.9: relays" 250
ld_modify <<'LDIF'
dn: cn=client9,ou=relaymilter,dc=example,dc=com
changetype: modify
replace: relayMilterEnabled
relayMilterEnabled: FALSE
LDIF
flips "relayMilterEnabled FALSE: refused again" 550
ld_modify <<'LDIF'
dn: cn=client9,ou=relaymilter,dc=example,dc=com
changetype: modify
delete: relayMilterEnabled
LDIF
flips "enabled again: relays" 250
ld_stop
sleep 2
code=$(relay_code)
if [ "$code" = 250 ]; then ok "slapd down: the daemon keeps its data ($code)"; else
	not_ok "slapd down: the daemon keeps its data" "$code"
fi
ld_start
ld_modify <<'LDIF'
dn: cn=client9,ou=relaymilter,dc=example,dc=com
changetype: delete
LDIF
flips "slapd back, entry deleted: refused, no restart needed" 550

# on-demand sender lookups from the daemon (SASL user alice@testbed.test)
auth_code() { # auth_code SENDER: the RCPT reply of an authenticated relay
	tb_smtp "$OUT" --server 127.0.0.1 --port 2587 --local-interface 127.0.0.9 \
		--helo client.example -a PLAIN -au alice@testbed.test -ap secret \
		--from "$1" --to user@remote.test
	awk '$1 == "RCPT" { print $2; exit }' "$OUT"
}
code=$(auth_code alice@testbed.test)
if [ "$code" = 250 ]; then ok "daemon: AUTH alice, her own sender (looked up): relays"; else
	not_ok "daemon: AUTH alice, her own sender (looked up): relays" "$code: $(cat "$OUT")"
fi
code=$(auth_code bob@testbed.test)
if [ "$code" = 553 ]; then ok "daemon: AUTH alice, someone else's sender: 553"; else
	not_ok "daemon: AUTH alice, someone else's sender: 553" "$code"
fi
kill -STOP "$LD_PID"
code=$(auth_code alice@testbed.test)
if [ "$code" = 250 ]; then ok "daemon: slapd frozen, the cached lookup answers"; else
	not_ok "daemon: slapd frozen, the cached lookup answers" "$code"
fi
kill -CONT "$LD_PID"
check "the daemon logged that LDAP was down" grep -q "LDAP unavailable" "$TB_MILTER_LOG"
check "the daemon logged that LDAP is back" grep -q "LDAP is back" "$TB_MILTER_LOG"
tb_milter_stop TERM

# a restart while slapd is down: the daemon starts from its cache file
ld_stop
n0=$(wc -l <"$TB_MILTER_LOG")
if tb_milter_start "$BIN" "$LCONF"; then
	check "restart, slapd down: says it uses the last known good data" \
		eval 'tail -n +$((n0 + 1)) "$TB_MILTER_LOG" | grep -q "using the last known good LDAP data"'
	code=$(relay_code)
	if [ "$code" = 550 ]; then ok "restart, slapd down: the cached policy refuses a relay ($code)"; else
		not_ok "restart, slapd down: the cached policy refuses a relay" "$code"
	fi
	tb_smtp "$OUT" --server 127.0.0.1 --port 2525 --local-interface 127.0.0.9 \
		--helo client.example --from a@remote.example --to user@testbed.test
	code=$(awk '$1 == "RCPT" { print $2; exit }' "$OUT")
	if [ "$code" = 250 ]; then ok "restart, slapd down: a cached local domain is accepted ($code)"; else
		not_ok "restart, slapd down: a cached local domain is accepted" "$code: $(cat "$OUT")"
	fi
	tb_milter_stop TERM
else
	not_ok "restart, slapd down: the daemon starts" "$(tail -3 "$TB_MILTER_LOG")"
fi

finish
