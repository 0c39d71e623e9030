#!/bin/bash
# t/e2e/postfix.sh BIN - relaymilter end to end through a real Postfix.
#
# BIN is the relaymilter binary.  Runs as root only (exit 77 = skipped when
# not root or Postfix is not installed).  Everything happens in private
# network/UTS/PID/mount namespaces (contrib/testbed/lib.sh): a throwaway Postfix
# on 127.0.0.1:2525 and [::1]:2525, relaymilter on a unix socket where the
# shipped snippets look for it (unix:relaymilter/relaymilter.sock, relative
# to the queue directory: the default socket's place, 0660, group postfix),
# clients sent by swaks from several loopback addresses (127.0.0.9 and
# fd00::9 untrusted, 127.0.0.20 and ::1 trusted) and with SMTP AUTH.
# Nothing leaves the namespace; Postfix discards what it accepts.
#
# Part 1 is the "narrowing" deployment (contrib/postfix/main.cf.narrowing)
# with a Postfix mynetworks wide enough to let every test client relay, so
# any refusal comes from relaymilter.  Part 2 is the "authority" deployment
# (contrib/postfix/main.cf.authority + master.cf.authority): Postfix's gate
# is open on the listener and relaymilter alone decides.
#
# Prints "ok - NAME" or "not ok - NAME (got ...)" per check and exits 1 if
# any failed.  TB_KEEP=1 keeps the state directory (logs) for a look.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
if [ $# -ne 1 ]; then
	echo "usage: $0 RELAYMILTER-BINARY" >&2
	exit 2
fi
BIN=$(t_abs "$1")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "Postfix master, network namespace"
want_tools postfix
need_tools swaks saslpasswd2
perl -MIO::Socket::INET6 -e 1 2>/dev/null ||
	bail "prerequisites" "swaks needs IO::Socket::INET6 for IPv6: contrib/install-deps test"
[ -x "$BIN" ] || bail "prerequisites" "$BIN is not an executable"
e2e_begin "$0" "$@"

# ---- inside the namespaces from here on -------------------------------------
DENIED='550 5.7.1 Relaying denied (e2e policy, 100% sure)'
TEMPFAIL='451 4.3.0 Temporary policy failure (e2e)'
# the config under test; $1 = extra trusted networks
write_conf() {
	cat >"$MCONF" <<EOF
log_level = "info";
hostnames = [ "mx.testbed.test" ];
local_domains = [ "testbed.test" ];
relay_domains = [ "backup.test" ];
trusted_networks = [ "127.0.0.20/32", "::1/128"$1 ];
replies = {
	relay_denied = "$DENIED";
	tempfail = "$TEMPFAIL";
};
EOF
}

# decision lines in the milter log (one per RCPT the milter saw)
decisions() { grep -cE ' rule=.* verdict=(continue|reject|tempfail) ' "$TB_MILTER_LOG" || true; }
# the decisions we expect the milter to have logged so far
EXPECTED_DECISIONS=0
DECISION_TROUBLE=

# smtp SRC SERVER SWAKS-ARGS...: one session from address SRC to SERVER
# (an IPv4 or IPv6 address; port 2525 unless IPv4 SERVER ends in :PORT);
# the replies go to $OUT.  Unless MILTER=0 (milter down, or a listener
# without it), it also checks that the session added one decision line to
# the milter log per RCPT that Postfix passed on to the milter.
smtp() {
	local src=$1 server=$2 port=2525 before after want
	shift 2
	case $server in
	*:*:*) ;;
	*:*) port=${server#*:} server=${server%:*} ;;
	esac
	before=$(decisions)
	tb_smtp "$OUT" --server "$server" --port "$port" --local-interface "$src" \
		--helo client.example --from sender@client.example "$@"
	[ "${MILTER:-1}" = 1 ] || return 0
	after=$(decisions)
	# the RCPTs the milter answered: 250, or one of its own replies
	want=$(grep -cE "^RCPT (250 |550 5\.7\.1 Relaying denied \(e2e|451 4\.3\.0 Temporary policy failure \(e2e)" "$OUT" || true)
	EXPECTED_DECISIONS=$((EXPECTED_DECISIONS + want))
	if [ $((after - before)) -ne "$want" ]; then
		DECISION_TROUBLE="$DECISION_TROUBLE [$*: $((after - before)) lines for $want RCPTs]"
	fi
}
# reply CMD [N]: the N-th (default 1st) reply to CMD in the last session
reply() { awk -v c="$1" -v n="${2:-1}" '$1 == c && ++i == n { sub(/^[A-Z]+ /, ""); print; exit }' "$OUT"; }
# expect NAME CMD ERE [N]: the reply to the N-th CMD matches ERE
expect() {
	local got
	got=$(reply "$2" "${4:-1}")
	if printf '%s\n' "$got" | grep -Eq -- "$3"; then
		ok "$1"
	else
		not_ok "$1" "got ${2} reply '${got:-none}'"
	fi
}
# expect_log NAME ERE: the last decision line matches ERE
expect_log() {
	local got
	got=$(grep -E ' rule=.* verdict=' "$TB_MILTER_LOG" | tail -1)
	if printf '%s\n' "$got" | grep -Eq -- "$2"; then
		ok "$1"
	else
		not_ok "$1" "got log line '${got:-none}'"
	fi
}
# wait_log ERE N: wait up to 5 s for the N-th line matching ERE
wait_log() {
	local _
	for _ in $(seq 100); do
		[ "$(grep -cE -- "$1" "$TB_MILTER_LOG" || true)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

RE_DENIED='^550 5\.7\.1 Relaying denied \(e2e policy, 100% sure\)$'
RE_OK='^250 '
Q=(--quit-after RCPT)
REMOTE=user@remote.example

# ---- setup --------------------------------------------------------------------
tb_pf_init >"$TB_RUN/init.out" 2>&1 ||
	bail "Postfix instance set up" "$(tail -3 "$TB_RUN/init.out")"
LISTEN=(
	'127.0.0.1:2525 inet n - n - - smtpd'
	'[::1]:2525 inet n - n - - smtpd'
)
write_conf ""

# ==== part 1: narrowing ===========================================================
# contrib/postfix/main.cf.narrowing as shipped, then a mynetworks that lets
# every test client relay as far as Postfix is concerned
tb_pf_apply "$SRC/contrib/postfix/main.cf.narrowing"
tb_pf_conf 'mynetworks = 127.0.0.0/8 [::1]/128 [fd00::]/64'
tb_pf_listen "${LISTEN[@]}"
tb_milter_start "$BIN" "$MCONF" ||
	bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 ||
	bail "Postfix starts (narrowing)" "see above"

echo "# narrowing: contrib/postfix/main.cf.narrowing, mynetworks covers all clients"
smtp 127.0.0.9 127.0.0.1 --to user@testbed.test "${Q[@]}"
expect "untrusted -> local domain: 250" RCPT "$RE_OK"
expect_log "log: local domain decision" 'client=.*\[127\.0\.0\.9\] .*rcpt=<user@testbed\.test> .*rule=local_domains.* verdict=continue'

smtp 127.0.0.9 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "untrusted -> remote: 550 5.7.1 from relaymilter ('%' intact)" RCPT "$RE_DENIED"
expect_log "log: relay_denied decision" 'client=.*\[127\.0\.0\.9\] .*rcpt=<user@remote\.example> .*rule=relay_denied verdict=reject reply="550 5\.7\.1 Relaying denied'

smtp 127.0.0.9 127.0.0.1 --to postmaster@testbed.test "${Q[@]}"
expect "untrusted -> postmaster@local: 250" RCPT "$RE_OK"
smtp 127.0.0.9 127.0.0.1 --to postmaster "${Q[@]}"
expect "untrusted -> bare postmaster: 250" RCPT "$RE_OK"
smtp 127.0.0.9 127.0.0.1 --to user@backup.test "${Q[@]}"
expect "untrusted -> relay domain: 250" RCPT "$RE_OK"
smtp 127.0.0.9 127.0.0.1 --to user@mx.testbed.test "${Q[@]}"
expect "untrusted -> our hostname: 250" RCPT "$RE_OK"
smtp 127.0.0.9 127.0.0.1 --to 'user@[127.0.0.1]' "${Q[@]}"
expect "untrusted -> literal of the address it connected to: 250" RCPT "$RE_OK"

for rcpt in 'user%remote.example@testbed.test' 'remote.example!user@testbed.test' \
	'"user@remote.example"@testbed.test' '@testbed.test:user@remote.example' \
	'user@[198.51.100.1]' \
	'user@[IPv6:2001:db8::1]' 'user@remote.example.'; do
	smtp 127.0.0.9 127.0.0.1 --to "$rcpt" "${Q[@]}"
	expect "untrusted -> routing trick $rcpt: 550 from relaymilter" RCPT "$RE_DENIED"
done

smtp 127.0.0.9 127.0.0.1 --to "$REMOTE" -a PLAIN -au alice@testbed.test -ap secret "${Q[@]}"
expect "SMTP AUTH from untrusted address: AUTH 235" AUTH '^235 '
expect "authenticated -> remote: 250" RCPT "$RE_OK"
expect_log "log: authenticated decision" 'auth=alice@testbed\.test .*rule=authenticated.* verdict=continue'
if grep -q secret "$TB_MILTER_LOG"; then
	not_ok "log: no password" "the password is in the log"
else
	ok "log: no password"
fi

smtp 127.0.0.20 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "trusted 127.0.0.20 -> remote: 250" RCPT "$RE_OK"
expect_log "log: trusted_networks decision" '\[127\.0\.0\.20\] .*rule=trusted_networks.* verdict=continue'

smtp fd00::9 ::1 --to "$REMOTE" "${Q[@]}"
expect "untrusted IPv6 fd00::9 -> remote: 550 5.7.1" RCPT "$RE_DENIED"
expect_log "log: IPv6 client address" '\[fd00::9\] .*rule=relay_denied.* verdict=reject'
smtp fd00::9 ::1 --to user@testbed.test "${Q[@]}"
expect "untrusted IPv6 fd00::9 -> local domain: 250" RCPT "$RE_OK"
smtp ::1 ::1 --to "$REMOTE" "${Q[@]}"
expect "trusted IPv6 ::1 -> remote: 250" RCPT "$RE_OK"

smtp 127.0.0.9 127.0.0.1 --to "user@testbed.test,$REMOTE,other@testbed.test" "${Q[@]}"
expect "one session: local rcpt 250" RCPT "$RE_OK" 1
expect "one session: then remote rcpt 550 (no ACCEPT shortcut)" RCPT "$RE_DENIED" 2
expect "one session: then local rcpt 250 again" RCPT "$RE_OK" 3

smtp 127.0.0.9 127.0.0.1 --to "$REMOTE,user@testbed.test"
expect "whole message, remote+local: remote 550" RCPT "$RE_DENIED" 1
expect "whole message, remote+local: local 250" RCPT "$RE_OK" 2
expect "whole message, remote+local: queued for the local rcpt" DATA '^250 .*queued as'
smtp 127.0.0.20 127.0.0.1 --to "$REMOTE"
expect "whole message from trusted -> remote: queued" DATA '^250 .*queued as'

# reload: 127.0.0.9 becomes trusted
reloads=$(grep -c 'reloaded ' "$TB_MILTER_LOG" || true)
write_conf ', "127.0.0.9/32"'
kill -USR1 "$TB_MILTER_PID" || true
if wait_log 'reloaded ' $((reloads + 1)); then
	ok "SIGUSR1 reload logged"
else
	not_ok "SIGUSR1 reload logged" "no 'reloaded' line"
fi
smtp 127.0.0.9 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "after reload: 127.0.0.9 -> remote: 250" RCPT "$RE_OK"

# a broken file: the running policy stays (this one would also drop 127.0.0.9)
write_conf ', "127.0.0.9/8"'
kill -USR1 "$TB_MILTER_PID" || true
if wait_log 'reload failed' 1; then
	ok "broken config + SIGUSR1: failure logged"
else
	not_ok "broken config + SIGUSR1: failure logged" "no 'reload failed' line"
fi
if tb_alive "$TB_MILTER_PID"; then
	ok "broken config + SIGUSR1: still running"
else
	not_ok "broken config + SIGUSR1: still running" "relaymilter exited"
fi
smtp 127.0.0.9 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "broken config + SIGUSR1: previous policy still in force (250)" RCPT "$RE_OK"
smtp 127.0.0.10 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "broken config + SIGUSR1: others still refused (550)" RCPT "$RE_DENIED"

# relaymilter stops: Postfix must tempfail (milter_default_action = tempfail)
tb_milter_stop TERM
if [ "$TB_MILTER_RC" = 0 ]; then
	ok "SIGTERM: relaymilter exits 0"
else
	not_ok "SIGTERM: relaymilter exits 0" "exit status $TB_MILTER_RC"
fi
MILTER=0 smtp 127.0.0.9 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "milter down: MAIL FROM gets 451 4.7.1" MAIL '^451 4\.7\.1 '
expect "milter down: no RCPT accepted" RCPT '^$|^[45]'
MILTER=0 smtp 127.0.0.20 127.0.0.1 --to user@testbed.test "${Q[@]}"
expect "milter down: trusted client tempfailed too" MAIL '^451 4\.7\.1 '

# ==== part 2: authority ===========================================================
echo "# authority: contrib/postfix/main.cf.authority + master.cf.authority"
tb_pf_stop
write_conf ""
tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
# Postfix's own mynetworks: 127.0.0.1 only, so 127.0.0.20 relays only
# because relaymilter trusts it
tb_pf_conf 'mynetworks = 127.0.0.1/32'
# the -o options of the "smtp" service in master.cf.authority
mapfile -t OPTS < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
	"$SRC/contrib/postfix/master.cf.authority")
if [ "${#OPTS[@]}" -ge 3 ]; then
	ok "master.cf.authority: smtp service has ${#OPTS[@]} -o options"
else
	not_ok "master.cf.authority: smtp service has -o options" "${#OPTS[@]} found"
fi
# 2525 on both addresses with them; 2526 = a listener without them (control)
tb_pf_listen '127.0.0.1:2525 inet n - n - - smtpd' "${OPTS[@]}" \
	'[::1]:2525 inet n - n - - smtpd' "${OPTS[@]}" \
	'127.0.0.1:2526 inet n - n - - smtpd'
if postfix -c "$TB_PFC" check >"$TB_RUN/check.out" 2>&1 && [ ! -s "$TB_RUN/check.out" ]; then
	ok "authority config: postfix check is silent"
else
	not_ok "authority config: postfix check is silent" "$(head -2 "$TB_RUN/check.out")"
fi
tb_milter_start "$BIN" "$MCONF" ||
	bail "relaymilter starts again" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 2526 ||
	bail "Postfix starts (authority)" "see above"

smtp 127.0.0.9 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "authority: untrusted -> remote: 550 from relaymilter" RCPT "$RE_DENIED"
if grep -q 'fatal' "$TB_MAILLOG"; then
	not_ok "authority: smtpd accepts the opened gate" "$(grep -m1 fatal "$TB_MAILLOG")"
else
	ok "authority: smtpd accepts the opened gate"
fi
smtp 127.0.0.9 127.0.0.1 --to user@testbed.test "${Q[@]}"
expect "authority: untrusted -> local domain: 250" RCPT "$RE_OK"
smtp 127.0.0.20 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "authority: 127.0.0.20 (trusted by relaymilter only) -> remote: 250" RCPT "$RE_OK"
smtp 127.0.0.9 127.0.0.1 --to "$REMOTE" -a PLAIN -au alice@testbed.test -ap secret "${Q[@]}"
expect "authority: authenticated -> remote: 250" RCPT "$RE_OK"
smtp fd00::9 ::1 --to "$REMOTE" "${Q[@]}"
expect "authority: untrusted IPv6 -> remote: 550" RCPT "$RE_DENIED"
smtp ::1 ::1 --to "$REMOTE" "${Q[@]}"
expect "authority: trusted IPv6 ::1 -> remote: 250" RCPT "$RE_OK"
smtp 127.0.0.9 127.0.0.1 --to "user@testbed.test,$REMOTE" "${Q[@]}"
expect "authority: one session: local 250" RCPT "$RE_OK" 1
expect "authority: one session: then remote 550" RCPT "$RE_DENIED" 2
MILTER=0 smtp 127.0.0.20 127.0.0.1:2526 --to "$REMOTE" "${Q[@]}"
expect "authority: listener without the options keeps Postfix's gate (554)" RCPT '^554 5\.7\.1 .*Relay access denied'

tb_milter_stop KILL
MILTER=0 smtp 127.0.0.20 127.0.0.1 --to "$REMOTE" "${Q[@]}"
expect "authority: milter killed: 451 4.7.1, nothing relayed" MAIL '^451 4\.7\.1 '

# ==== the log =====================================================================
got=$(decisions)
if [ -z "$DECISION_TROUBLE" ] && [ "$got" -eq "$EXPECTED_DECISIONS" ]; then
	ok "log: one decision line per RCPT ($got lines)"
else
	not_ok "log: one decision line per RCPT" "$got lines for $EXPECTED_DECISIONS RCPTs;$DECISION_TROUBLE"
fi
bad=$(grep -E ' verdict=' "$TB_MILTER_LOG" | grep -vcE '^.*S[0-9A-F]+: client=.* helo=<.*> auth=.* from=<.*> rcpt=<.*> listener=.* rule=[a-z_]+.* verdict=(continue|reject|tempfail) reply=' || true)
if [ "$bad" -eq 0 ]; then
	ok "log: every decision line has client, helo, auth, from, rcpt, listener, rule, verdict, reply"
else
	not_ok "log: decision line format" "$bad lines differ"
fi

if [ "$T_FAIL" -ne 0 ]; then
	echo "# --- last lines of the milter log"
	tail -15 "$TB_MILTER_LOG" | sed 's/^/# /'
	echo "# --- last lines of the Postfix log"
	tail -15 "$TB_MAILLOG" | sed 's/^/# /'
fi
finish "$SECONDS s; milter log: $TB_MILTER_LOG (TB_KEEP=1 keeps it)"
