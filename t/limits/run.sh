#!/bin/bash
# run.sh RELAYMILTER_BIN - limits, max_recipients and deny.logins in the
# daemon, driven by miltertest (limits.lua): a login relays up to its
# limit, the next recipient gets 451 4.7.1; local recipients and other
# logins are not counted; max_recipients gives 452 4.5.3; a denied login
# gets 550 and is named in the log, not in the reply; a lock-out, its
# on_lock command and "relaymilter limits" to list and lift it; SIGUSR1
# keeps the counters.  77 (skip) without miltertest.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: run.sh RELAYMILTER_BIN}
want_tools miltertest
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rml

CONF=$TMPD/r.conf
SPEC=unix:$TMPD/milter
LOG=$TMPD/log
# the command also lists the descriptors it was given (ls opens one more)
printf '#!/bin/sh\nls /proc/self/fd >%s\necho "$@ $RELAYMILTER_KEY" >>%s\n' \
	"$TMPD/alert.fds" "$TMPD/alerts" >"$TMPD/alert"
chmod 755 "$TMPD/alert"
{
	sed "s#ON_LOCK#$TMPD/alert#" "$HERE/relaymilter.conf"
	echo "control_socket = \"$TMPD/control\";"
} >"$CONF"
rm_start "$LOG" -c "$CONF" -p "$SPEC" || bail "daemon start"
ok "relaymilter starts"

run_lua "$HERE/limits.lua" "$LOG" "$SPEC" -D phase=first
grep_log "451 4.7.1 in the log" 'rcpt=<a4@remote.test> listener=mx-in rule=limit[login-hourly] verdict=tempfail reply="451 4.7.1'
grep_log "a trip is logged once" 'limit login-hourly: login alice is over 100 messages, 3 recipients/1h'
grep_log "452 4.5.3 in the log" 'rule=max_recipients verdict=tempfail reply="452 4.5.3'
grep_log "the login in the log line" 'auth=mallory@example.com from=<'
check "the login not in the reply" \
	bash -c "! grep 'rule=deny_login' '$LOG' | grep -q 'reply=\"[^\"]*mallory'"
grep_log "the lock is logged" 'limit lock-login: login carol locked for 1d'
n=$(grep -c 'limit login-hourly: login alice is over' "$LOG")
check "one trip line for alice (got $n)" [ "$n" -eq 1 ]
wait_log "$TMPD/alerts" "lock-login carol carol" 50
check "on_lock ran with %l %k and the environment" \
	grep -qx "lock-login carol carol" "$TMPD/alerts"
fds=$(sort -n "$TMPD/alert.fds" | tr '\n' ' ')
check "on_lock got descriptors 0-2 only, not the milter socket, sessions or log ($fds)" \
	[ "$fds" = "0 1 2 3 " ]

out=$("$BIN" limits -c "$CONF" --key carol)
check "limits --key lists the lock ($out)" \
	grep -q '^lock-login carol messages=0 recipients=2 per=1h locked=' <<<"$out"
out=$("$BIN" limits -c "$CONF")
check "limits lists every key" grep -q '^login-hourly alice messages=2 recipients=3 per=1h' <<<"$out"
check "relaymilter stats still works" bash -c "'$BIN' stats -c '$CONF' | grep -q relaymilter_limit_refusals_total"
check "refusals by limit in the metrics" bash -c \
	"'$BIN' stats -c '$CONF' | grep -q 'relaymilter_limit_locks_total{limit=\"lock-login\"} *1'"

kill -USR1 "$RM_PID"
wait_log "$LOG" "(generation 2)" 50 || not_ok "reloaded"
run_lua "$HERE/limits.lua" "$LOG" "$SPEC" -D phase=after-reload

out=$("$BIN" limits -c "$CONF" --lift lock-login:carol)
check "limits --lift ($out)" [ "$out" = "lifted 1" ]
rc=0
"$BIN" limits -c "$CONF" --lift lock-login:nobody >/dev/null || rc=$?
check "lifting nothing fails (exit $rc)" [ $rc -eq 1 ]
run_lua "$HERE/limits.lua" "$LOG" "$SPEC" -D phase=after-lift
check "still running" alive "$RM_PID"
stop_check "relaymilter" "$RM_PID"
finish
