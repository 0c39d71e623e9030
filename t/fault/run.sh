#!/bin/bash
# t/fault/run.sh BIN - relaymilter's faults through a real Postfix in the
# authority deployment (contrib/postfix/*.authority, milter_default_action
# = tempfail): relaymilter killed at each stage of a session, frozen past
# Postfix's milter timeouts, reloaded (good and broken config) under load.
# Each fault asserts what the SMTP client saw: never a 250 for a relay, a
# 4xx (not a 5xx) where relaymilter could not decide, and a normal answer
# once the fault is gone.  t/RELIABILITY.md has the table; limits.sh
# and load.sh have the other faults.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the
# state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: run.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
need_root "Postfix, network namespace"
need_tools postfix python3
e2e_begin "$0" "$@"
fl_start

# 1. SIGKILL after each stage of a session; then a restart, as a
# supervisor would do.
kill_milter() { tb_milter_stop KILL; }
for stage in connect helo mail rcpt1; do
	fl_step "$stage" kill_milter
	got=$(awk '{ printf "%s%s=%s", s, $1, $2; s = " " }' "$FL_OUT")
	if [ "$(fl_reply rcpt2)" = 250 ] || grep -q '^data 250' "$FL_OUT"; then
		not_ok "SIGKILL after $stage: nothing relayed" "$got"
	elif grep -Eq '^(helo|mail|rcpt1|rcpt2|data) 5' "$FL_OUT"; then
		not_ok "SIGKILL after $stage: no permanent refusal" "$got"
	elif [ "$stage" != rcpt1 ] && [ "$(fl_reply rcpt1)" = 250 ]; then
		not_ok "SIGKILL after $stage: local recipient tempfailed" "$got"
	elif ! grep -Eq '^(helo|mail|rcpt1|rcpt2) 4' "$FL_OUT"; then
		not_ok "SIGKILL after $stage: a 4xx" "$got"
	else
		ok "SIGKILL after $stage: $got"
	fi
	if tb_milter_start "$BIN" "$MCONF"; then
		fl_normal "restart after SIGKILL at $stage: normal answers"
	else
		not_ok "restart after SIGKILL at $stage" "$(tail -2 "$TB_MILTER_LOG")"
	fi
done

# 2. SIGSTOP past milter_connect_timeout / milter_command_timeout (3 s):
# new sessions and one frozen between MAIL and RCPT.
freeze() { kill -STOP "$TB_MILTER_PID"; }
fl_step mail freeze
fl_load "$TB_RUN/frozen" 4 4
kill -CONT "$TB_MILTER_PID"
got=$(awk '{ printf "%s%s=%s", s, $1, $2; s = " " }' "$FL_OUT")
if [[ $(fl_reply rcpt1) == 4* && $(fl_reply rcpt2) == 4* ]] && ! grep -q '^data' "$FL_OUT"; then
	ok "SIGSTOP during a session: $got"
else
	not_ok "SIGSTOP during a session: 4xx for both recipients" "$got"
fi
fl_check "SIGSTOP, new sessions" "$TB_RUN/frozen" 4 degraded
if [ "$FL_TEMP" -ne 4 ]; then
	not_ok "SIGSTOP: every new session tempfailed" "$FL_GOOD answered normally"
fi
fl_milter_alive "SIGCONT: relaymilter runs on"
fl_normal "SIGCONT: normal answers again"

# 3. Reloads under load: a good config (a new relay_denied text), then a
# broken one; every session answered by the old or the new policy.
decisions() { grep -c ' rule=' "$TB_MILTER_LOG" || true; }
wait_decisions() { # N: until N more decisions were logged (30 s at most)
	local want=$(($(decisions) + $1)) _
	for _ in $(seq 600); do
		[ "$(decisions)" -ge "$want" ] && return 0
		sleep 0.05
	done
}
fl_load "$TB_RUN/reload" 300 20 &
load=$!
wait_decisions 100
e2e_write_conf 'replies = { relay_denied = "550 5.7.1 Relaying denied, policy two"; };'
e2e_reload
wait_decisions 100
cp "$MCONF" "$MCONF.good"
echo 'local_domains = [ "no closing bracket" ;' >>"$MCONF"
kill -USR1 "$TB_MILTER_PID"
wait "$load" || true
fl_check "reloads under load" "$TB_RUN/reload" 300 strict
two=$(grep -c 'policy two' "$TB_RUN/reload" || true)
if [ "$two" -gt 0 ] && [ "$two" -lt 300 ]; then
	ok "reloads under load: $two sessions saw the new policy, $((300 - two)) the old"
else
	not_ok "reloads under load: the good reload took effect during the run" "$two of 300"
fi
if grep -q 'reload failed, keeping the running policy' "$TB_MILTER_LOG"; then
	ok "the broken config is logged: $(grep -o 'reload failed.*' "$TB_MILTER_LOG" | tail -1 | cut -c1-100)"
else
	not_ok "the broken config is logged" "$(tail -2 "$TB_MILTER_LOG")"
fi
fl_load "$TB_RUN/after" 1 1
if grep -q 'policy two' "$TB_RUN/after"; then
	ok "after the broken reload the last good policy answers"
else
	not_ok "after the broken reload the last good policy answers" "$(cat "$TB_RUN/after")"
fi
cp "$MCONF.good" "$MCONF"

fl_no_relay
finish
