#!/bin/bash
# run.sh RELAYMILTER_BIN - relay grants in the daemon, driven by miltertest
# (grants.lua): before a grant a relay from 203.0.113.9 is refused;
# "relaymilter grant" lets it relay (rule=relay_grant in the log, with the
# login, the source and the expiry), but not on a listener with grants =
# false, not with a sender of ours, and not past deny; "relaymilter
# grants" lists it; --revoke ends it; a grant with a short ttl expires;
# bad addresses and ttls are refused; the metrics count grants made and
# used; control_socket_group makes the control socket 0660 in that group;
# grants.follow keeps granting from a Dovecot log through rename and
# copytruncate rotations.
# 77 (skip) without miltertest.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: run.sh RELAYMILTER_BIN}
want_tools miltertest
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmg

CONF=$TMPD/g.conf
SPEC=unix:$TMPD/milter
LOG=$TMPD/log
{
	cat "$HERE/relaymilter.conf"
	echo "control_socket = \"$TMPD/control\";"
	echo "control_socket_group = \"mail\";"
} >"$CONF"
rm_start "$LOG" -c "$CONF" -p "$SPEC" || bail "daemon start"
ok "relaymilter starts"
mode=$(stat -c '%a %G' "$TMPD/control")
check "control_socket_group: the socket is 0660 in it ($mode)" [ "$mode" = "660 mail" ]
lua() { run_lua "$HERE/grants.lua" "$LOG" "$SPEC" -D phase="$1"; }

lua refused
out=$("$BIN" grant -c "$CONF" 203.0.113.9 --login bob --ttl 10m)
check "grant ($out)" grep -q '^granted 203.0.113.9 until 20..-..-..T..:..:..Z$' <<<"$out"
grep_log "the grant is logged" 'grants: 203.0.113.9 may relay until'
lua granted
grep_log "rule=relay_grant in the log, with login, source and expiry" \
	'rcpt=<g1@remote.test> listener=mx-in rule=relay_grant[login=bob source=push until=20'
lua submission
lua spoof
lua denied
out=$("$BIN" grants -c "$CONF")
check "grants lists it ($out)" \
	grep -q '^203.0.113.9 login=bob source=push until=.* left=[0-9]*s$' <<<"$out"
out=$("$BIN" grants -c "$CONF" --address ::ffff:203.0.113.9)
check "grants --address, IPv4-mapped ($out)" grep -q '^203.0.113.9 login=bob' <<<"$out"
check "grants made in the metrics" bash -c \
	"'$BIN' stats -c '$CONF' | grep -qE '^relaymilter_grants_made_total +1\$'"
check "grants used in the metrics" bash -c \
	"'$BIN' stats -c '$CONF' | grep -qE '^relaymilter_grants_used_total +1\$'"

out=$("$BIN" grants -c "$CONF" --revoke 203.0.113.9)
check "revoke ($out)" [ "$out" = "revoked 1" ]
rc=0
"$BIN" grants -c "$CONF" --revoke 203.0.113.9 >/dev/null || rc=$?
check "revoking nothing fails (exit $rc)" [ $rc -eq 1 ]
lua refused

# a short ttl: gone within a bounded wait, then refused again
"$BIN" grant -c "$CONF" 203.0.113.9 --ttl 2s >/dev/null
check "a 2s grant is listed" bash -c "'$BIN' grants -c '$CONF' | grep -q '^203.0.113.9 login=- '"
for _ in $(seq 60); do
	[ -z "$("$BIN" grants -c "$CONF")" ] && break
	sleep 0.2
done
check "the 2s grant expired within 12 s" [ -z "$("$BIN" grants -c "$CONF")" ]
lua refused

# what a push may not say
for bad in 203.0.113.0/24 host.example '[203.0.113.9]' ''; do
	rc=0
	"$BIN" grant -c "$CONF" "$bad" >/dev/null 2>&1 || rc=$?
	check "grant '$bad' refused (exit $rc)" [ $rc -eq 64 ]
done
rc=0
"$BIN" grant -c "$CONF" 203.0.113.9 --ttl 2d >/dev/null 2>&1 || rc=$?
check "a ttl over a day refused (exit $rc)" [ $rc -eq 64 ]
check "nothing granted by the refusals" [ -z "$("$BIN" grants -c "$CONF")" ]
check "still running" alive "$RM_PID"
stop_settled "relaymilter" "$RM_PID"

# grants.follow through the daemon: Dovecot's own log file (log_path
# format), written to, rotated by rename, then by copytruncate; every
# login after each rotation still grants, lines from before the start do
# not.
DVLOG=$TMPD/dovecot.log FCONF=$TMPD/f.conf FLOG=$TMPD/flog
dv_login() { # dv_login ADDRESS USER: one successful POP3 login line
	printf 'Dec 02 03:00:00 pop3-login: Info: Login: user=<%s>, method=PLAIN, rip=%s, lip=127.0.0.1, mpid=%s, session=<AbCd>\n' \
		"$2" "$1" "$RANDOM" >>"$DVLOG"
}
followed() { # followed ADDRESS: the daemon logged its grant (bounded wait)
	wait_log "$FLOG" "grants: $1 may relay until" 50
}
dv_login 192.0.2.1 old
{
	sed 's/^grants = .*/grants = { ttl = "30m"; follow = ( { file = "'"${DVLOG//\//\\/}"'"; format = "dovecot"; } ); };/' \
		"$HERE/relaymilter.conf"
	echo "control_socket = \"$TMPD/fcontrol\";"
} >"$FCONF"
grep -q 'follow = ( { file' "$FCONF" || not_ok "the follow config was written"
rm_start "$FLOG" -c "$FCONF" -p "unix:$TMPD/fmilter" || bail "daemon start (follow)"
dv_login 192.0.2.2 alice
check "follow: a login appended to the file grants" followed 192.0.2.2
mv "$DVLOG" "$DVLOG.1"
dv_login 192.0.2.3 bob
check "follow: after a rename, the new file's login grants" followed 192.0.2.3
cp "$DVLOG" "$DVLOG.2" && : >"$DVLOG"
dv_login 192.0.2.4 carol
check "follow: after copytruncate, the next login grants" followed 192.0.2.4
check "follow: a line from before the start grants nothing" \
	bash -c "! grep -q 'grants: 192.0.2.1 ' '$FLOG'"
out=$("$BIN" grants -c "$FCONF")
check "follow: the grants name their source ($out)" \
	grep -q '^192.0.2.4 login=carol source=follow ' <<<"$out"
stop_settled "relaymilter (follow)" "$RM_PID"
finish
