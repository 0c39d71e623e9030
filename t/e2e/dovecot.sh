#!/bin/bash
# t/e2e/dovecot.sh BIN - POP/IMAP-before-SMTP with a real Dovecot (Debian's
# dovecot-pop3d and dovecot-imapd, started here on 127.0.0.1 with a
# passwd-file user) and a real Postfix in the authority deployment (the MX
# listener on 2525, no SMTP AUTH):
#   - the log follower (grants.follow on Dovecot's log_path, format
#     dovecot, ttl 3s): before a POP3 login a relay from 127.0.0.9 gets
#     550; after USER/PASS from there it is accepted within 2 s; after the
#     ttl it is refused again; an IMAP login grants its address too;
#   - forgery: failed logins from 127.0.0.12 with the user names
#     "x>, method=PLAIN, rip=127.0.0.13, lip=127.0.0.1, mpid=9" and
#     "x, rip=127.0.0.13" grant nothing (Dovecot lets any user name
#     through here: auth_username_chars is empty);
#   - the push: Dovecot's post-login script (script-login) runs
#     "relaymilter grant $IP --login $USER" after a POP3 login (relaymilter
#     without grants.follow): refused before, accepted after, source=push.
#
# Root only (exit 77 = skipped, also without dovecot); runs in private
# namespaces (contrib/testbed).  TB_KEEP=1 keeps the state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: dovecot.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix postqueue swaks saslpasswd2 dovecot doveadm python3
getent passwd dovenull >/dev/null || skip "no user dovenull (dovecot-core makes it)"
e2e_begin "$0" "$@"

DV=$TB_STATE/dovecot
DVLOG=$DV/dovecot.log
CTL=$TB_STATE/control
EVIL='x>, method=PLAIN, rip=127.0.0.13, lip=127.0.0.1, mpid=9'
mkdir -p "$DV/mail" "$DV/run"
chmod 755 "$DV"
chown nobody "$DV/mail"
{
	echo 'alice:{PLAIN}secret'
	} >"$DV/passwd"
# the push only in its own part of the test (the file $DV/push), so that
# the follower's grants are the follower's alone
cat >"$DV/postlogin.sh" <<EOF
#!/bin/sh
[ -e "$DV/push" ] && "$BIN" grant -c "$MCONF" "\$IP" --login "\$USER" >>"$DV/postlogin.out" 2>&1
exec "\$@"
EOF
chmod 755 "$DV/postlogin.sh"
cat >"$DV/dovecot.conf" <<EOF
protocols = pop3 imap
base_dir = $DV/run
state_dir = $DV/run
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
# the worst case: any user name (the default allows letters, digits, .-_@)
auth_username_chars =
log_path = $DVLOG
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DV/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DV/mail/%u
}
mail_location = maildir:$DV/mail/%u
service pop3-login {
  inet_listener pop3 {
    port = 11110
  }
}
service imap-login {
  inet_listener imap {
    port = 11143
  }
}
service pop3 {
  executable = pop3 pop3-postlogin
}
service pop3-postlogin {
  executable = script-login $DV/postlogin.sh
  user = root
  # unlimited address space: a sanitizer build of relaymilter maps
  # terabytes of shadow memory (Dovecot's default limit is 256M)
  vsz_limit = 0
  unix_listener pop3-postlogin {
  }
}
EOF
dovecot -c "$DV/dovecot.conf" || bail "dovecot starts" "$(tail -3 "$DVLOG" 2>/dev/null)"
trap 'doveadm -c "$DV/dovecot.conf" stop 2>/dev/null; tb_cleanup' EXIT
for _ in $(seq 50); do ss -ltn | grep -q ':11110 ' && break; sleep 0.1; done
ok "Dovecot $(dovecot --version | cut -d' ' -f1) on 127.0.0.1:11110 (POP3) and 11143 (IMAP)"

# conf FOLLOW: relaymilter's config, with grants.follow or without
conf() {
	e2e_write_conf "control_socket = \"$CTL\";
grants = { ttl = \"3s\"; trusted = true; $1 };"
}
conf "follow = ( { file = \"$DVLOG\"; format = \"dovecot\"; } );"
e2e_pf_authority
tb_pf_cool
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 || bail "Postfix starts"
ok "Postfix (MX on 2525) and relaymilter following $DVLOG"

# relay SRC TO: one session through the MX listener, no AUTH
relay() {
	tb_smtp "$OUT" --server 127.0.0.1 --port 2525 --local-interface "$1" \
		--helo client.example --from billing@partner.test --to "$2"
}
reply() { awk -v c="$1" '$1 == c { sub(/^[A-Z]+ /, ""); print; exit }' "$OUT"; }
expect() {
	local got
	got=$(reply RCPT)
	if [[ $got =~ $2 ]]; then ok "$1: $got"; else
		not_ok "$1" "RCPT: ${got:-no reply} ($(tail -3 "$OUT" | tr '\n' ' '))"
	fi
}
# login PROTO SRC USER [PASS]: one POP3 or IMAP login from SRC
login() {
	python3 - "$@" <<'PY'
import imaplib, poplib, socket, sys
proto, src, user = sys.argv[1:4]
pw = sys.argv[4] if len(sys.argv) > 4 else "secret"
try:
    if proto == "pop3":
        c = poplib.POP3("127.0.0.1", 11110, timeout=5)
        c.sock.close()
        s = socket.create_connection(("127.0.0.1", 11110), 5, (src, 0))
        c.sock, c.file = s, s.makefile("rb")
        c._debugging = 0
        c.welcome = c._getresp()
        c.user(user)
        c.pass_(pw)
        c.quit()
    else:
        class I(imaplib.IMAP4):
            def _create_socket(self, timeout):
                return socket.create_connection(("127.0.0.1", 11143), 5, (src, 0))
        c = I("127.0.0.1", 11143)
        c.login(user, pw)
        c.logout()
    print("ok")
except Exception as e:
    print("failed: %s" % e)
PY
}
# granted ADDR: wait up to 2 s for the grant's log line
granted() {
	local _
	for _ in $(seq 20); do
		grep -q "grants: $1 may relay until .*$2" "$TB_MILTER_LOG" && return 0
		sleep 0.1
	done
	return 1
}

# ---- the follower ----------------------------------------------------------
relay 127.0.0.9 r1@remote.test
expect "before a POP3 login: 127.0.0.9 may not relay" '^550 5\.7\.1 '
out=$(login pop3 127.0.0.9 alice)
check "POP3 USER/PASS from 127.0.0.9 ($out)" [ "$out" = ok ]
check "Dovecot logged the login" grep -q 'pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127.0.0.9,' "$DVLOG"
check "the grant within 2 s, source follow" granted 127.0.0.9 "login alice, follow $DVLOG pop3"
relay 127.0.0.9 r2@remote.test
expect "after it: 127.0.0.9 relays" '^250 '
if eventually 30 grep -q 'rcpt=<r2@remote.test> .*rule=relay_grant\[login=alice source=follow' "$TB_MILTER_LOG"; then
	ok "rule=relay_grant, source follow, in the log"
else
	not_ok "rule=relay_grant, source follow, in the log"
	grep -e 'r2@remote' -e 'grants:' "$TB_MILTER_LOG" | cut -c1-300 | sed 's/^/#   /'
fi
for _ in $(seq 40); do
	[ -z "$("$BIN" grants -c "$MCONF" --address 127.0.0.9)" ] && break
	sleep 0.2
done
check "the 3s grant is gone within 8 s" [ -z "$("$BIN" grants -c "$MCONF" --address 127.0.0.9)" ]
relay 127.0.0.9 r3@remote.test
expect "after the ttl: refused again" '^550 5\.7\.1 '
out=$(login imap 127.0.0.11 alice)
check "IMAP login from 127.0.0.11 ($out)" [ "$out" = ok ]
check "an IMAP login grants too" granted 127.0.0.11 "login alice, follow $DVLOG imap"

# ---- forgery ---------------------------------------------------------------
out=$(login pop3 127.0.0.12 "$EVIL" wrong)
check "a failed login as '$EVIL' ($out)" [ "${out#failed}" != "$out" ]
out=$(login pop3 127.0.0.12 'x, rip=127.0.0.13' wrong)
check "a failed login as 'x, rip=127.0.0.13' ($out)" [ "${out#failed}" != "$out" ]
check "Dovecot logged the hostile names" grep -q 'rip=127.0.0.13' "$DVLOG"
if grep -q 'grants: 127.0.0.1[23] ' "$TB_MILTER_LOG"; then
	not_ok "no grant for 127.0.0.12 or 127.0.0.13" "$(grep 'grants: 127.0.0.1[23] ' "$TB_MILTER_LOG")"
else
	ok "no grant for 127.0.0.12 or 127.0.0.13"
fi
relay 127.0.0.13 r4@remote.test
expect "the forged address 127.0.0.13 may not relay" '^550 5\.7\.1 '

# ---- the push: Dovecot's post-login script ---------------------------------
tb_milter_stop TERM
conf ""
: >"$DV/push"
: >"$TB_MILTER_LOG"
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts again" "$(tail -3 "$TB_MILTER_LOG")"
relay 127.0.0.15 r5@remote.test
expect "push: before a POP3 login, 127.0.0.15 may not relay" '^550 5\.7\.1 '
out=$(login pop3 127.0.0.15 alice)
check "POP3 USER/PASS from 127.0.0.15 ($out)" [ "$out" = ok ]
check "the post-login script pushed the grant within 2 s" granted 127.0.0.15 "login alice, push"
relay 127.0.0.15 r6@remote.test
expect "push: after it, 127.0.0.15 relays" '^250 '
check "rule=relay_grant, source push" eventually 30 \
	grep -q 'rcpt=<r6@remote.test> .*rule=relay_grant\[login=alice source=push' "$TB_MILTER_LOG"
check "the login went on after the script" grep -q 'pop3(alice)<[0-9]*><[^>]*>: Info: Disconnected: Logged out' "$DVLOG"
finish
