#!/bin/bash
# socket.sh RELAYMILTER_BIN - who may connect to the unix socket, and the
# pid file.  With socket_mode 0660 and socket_group G, a process outside G
# is refused at connect() and a member of G gets decisions (the clients are
# miltertest run by setpriv as an unused uid with or without G as a
# supplementary group: no account is created).  The pid file (-P and
# pid_file) holds the daemon's pid, mode 0644, replaces a stale file
# without following a planted symlink, and is removed at exit, also after
# -u.  The defaults (no socket_mode, no socket_group) with a group postfix:
# the socket is 0660 in group postfix, in a set-group-ID directory like the
# default socket's; user nobody is refused, a member of postfix is
# answered.  Root only (exit 77 otherwise, or without miltertest/setpriv).
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: socket.sh RELAYMILTER_BIN}
MT=$SRC/t/miltertest
want_tools miltertest setpriv
need_root "setpriv, socket groups"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rms

NOBODY=$(id -u nobody)
# G: a group no account is in; U: a client uid/gid no account has
G=4711
while getent group "$G" >/dev/null || id -G nobody | tr ' ' '\n' | grep -qx "$G"; do
	G=$((G + 1))
done
U=$((G + 1))
while getent passwd "$U" >/dev/null || getent group "$U" >/dev/null; do U=$((U + 1)); done
# clients as U (no other group) and as U in G; the miltertest helpers and
# the socket directory must be reachable for them
chmod 755 "$TMPD"
cp -r "$MT/lib" "$TMPD/lib"
chmod -R a+rX "$TMPD/lib"
outsider() { setpriv --reuid="$U" --regid="$U" --clear-groups "$@"; }
member() { setpriv --reuid="$U" --regid="$U" --groups="$G" "$@"; }
# ask AS NAME SPEC RCPT: one decision (untrusted client, relay: reject)
ask() {
	$1 miltertest -s "$TMPD/lib/probe.lua" -D libdir="$TMPD/lib" -D socket="$3" \
		-D client=203.0.113.9 -D rcpt="$4" -D want=reject -D name="$2" 2>&1
}
# perms FILE: "MODE UID GID"
perms() { stat -c '%a %u %g' "$1"; }
# who_connects LOG SPEC N OUT_AS OUT_NAME IN_AS IN_NAME: a client run by
# OUT_AS is refused at connect() and nothing of it is logged; one run by
# IN_AS gets a decision, logged (recipients oN@ and mN@remote.test)
who_connects() {
	local wc_log=$1 wc_spec=$2 wc_n=$3 wc_out wc_oname=$5 wc_iname=$7
	wc_out=$(ask "$4" "$wc_oname" "$wc_spec" "o$wc_n@remote.test") || true
	check "$wc_oname: connect refused ($(head -c 160 <<<"$wc_out"))" \
		eval '[[ $wc_out != *"ok - $wc_oname"* ]] && [[ $wc_out == *"ermission denied"* ]]'
	check "$wc_oname: no decision logged" \
		eval '! grep -qF "rcpt=<o$wc_n@remote.test>" "$wc_log"'
	wc_out=$(ask "$6" "$wc_iname: decision (reject)" "$wc_spec" "m$wc_n@remote.test") || true
	check "$wc_iname: connects and gets a decision ($(grep -m1 'ok - ' <<<"$wc_out" || head -c 160 <<<"$wc_out"))" \
		eval '[[ $wc_out == *"ok - $wc_iname: decision (reject)"* ]] && [[ $wc_out != *"not ok"* ]]'
	check "$wc_iname: decision logged" grep -qF "rcpt=<m$wc_n@remote.test>" "$wc_log"
}

CONF=$TMPD/r.conf
{
	cat "$MT/relaymilter.conf"
	printf 'socket_mode = "0660";\nsocket_group = "%s";\n' "$G"
} >"$CONF"
chmod 644 "$CONF"

# --- group-restricted socket, root-owned --------------------------------
SOCK=$TMPD/s
SPEC=unix:$SOCK
LOG=$TMPD/log
PID=$TMPD/relaymilter.pid
if rm_start "$LOG" -c "$CONF" -p "$SPEC" -P "$PID"; then
	ok "start with socket_mode 0660, socket_group $G, -P $PID"
	check "socket is 0660 root:$G (got $(perms "$SOCK"))" \
		[ "$(perms "$SOCK")" = "660 0 $G" ]
	who_connects "$LOG" "$SPEC" 1 outsider "uid $U outside group $G" \
		member "uid $U in group $G"
	# --- the pid file ---
	check "-P: pid file holds the daemon's pid ($RM_PID; got $(cat "$PID" 2>&1))" \
		eval '[ "$(cat "$PID")" = "$RM_PID" ]'
	check "-P: pid file is 0644 root (got $(perms "$PID"))" \
		eval '[ "$(perms "$PID" | cut -d" " -f1,2)" = "644 0" ]'
	kill -TERM "$RM_PID" || true
	if wait_gone "$RM_PID" 150; then ok "SIGTERM: gone"; else not_ok "SIGTERM: still running"; fi
	T_PIDS=""
	check "SIGTERM: pid file removed" eval '[ ! -e "$PID" ]'
	check "SIGTERM: socket removed" eval '[ ! -e "$SOCK" ]'
else
	not_ok "start with socket_mode 0660, socket_group $G"
	kill_all
fi

# --- the defaults: 0660, group postfix, in a 2750 root:postfix directory --
# (the default socket's directory, /var/spool/postfix/relaymilter, as the
# package makes it; a local user outside postfix never reaches libmilter)
if PFGID=$(getent group postfix | cut -d: -f3) && [ -n "$PFGID" ]; then
	install -d -o root -g postfix -m 2750 "$TMPD/pf"
	DSOCK=$TMPD/pf/relaymilter.sock
	pfmember() { setpriv --reuid="$U" --regid="$U" --groups="$PFGID" "$@"; }
	asnobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
	if rm_start "$TMPD/dlog" -c "$MT/relaymilter.conf" -p "unix:$DSOCK"; then
		check "defaults: socket is 0660 root:postfix (got $(perms "$DSOCK"))" \
			[ "$(perms "$DSOCK")" = "660 0 $PFGID" ]
		who_connects "$TMPD/dlog" "unix:$DSOCK" 3 asnobody "defaults: user nobody" \
			pfmember "defaults: uid $U in group postfix"
		kill -TERM "$RM_PID" || true
		wait_gone "$RM_PID" 150 || true
		T_PIDS=""
	else
		not_ok "start with the default socket_mode and socket_group"
		kill_all
	fi
else
	skip "the default socket_group postfix" "no group postfix"
fi

# a unix socket whose directory is missing: refused, and said so
rc=0
out=$(timeout 20 "$BIN" -f -c "$MT/relaymilter.conf" -p "unix:$TMPD/none/s" 2>&1) || rc=$?
check "no socket directory: exit non-zero, names it ($rc: $out)" \
	eval '[ $rc -ne 0 ] && [[ $out == *"no directory $TMPD/none"* ]]'

# --- pid_file in the config, a stale file, a planted symlink ---------------
PCONF=$TMPD/p.conf
PID2=$TMPD/p.pid
{
	cat "$MT/relaymilter.conf"
	printf 'pid_file = "%s";\n' "$PID2"
} >"$PCONF"
echo 999999 >"$TMPD/victim"
ln -s "$TMPD/victim" "$PID2"
LOG2=$TMPD/log2
if rm_start "$LOG2" -c "$PCONF" -p "$SPEC"; then
	check "pid_file: a planted symlink is replaced, not followed" \
		eval '[ ! -L "$PID2" ] && [ "$(cat "$TMPD/victim")" = 999999 ]'
	check "pid_file: holds the daemon's pid" eval '[ "$(cat "$PID2")" = "$RM_PID" ]'
	check "socket without socket_mode: 0660 (got $(perms "$SOCK"))" \
		eval '[ "$(perms "$SOCK" | cut -d" " -f1)" = 660 ]'
	# a second instance is refused and leaves the pid file alone
	rc=0
	timeout 20 "$BIN" -f -c "$PCONF" -p "$SPEC" >"$TMPD/second.out" 2>&1 || rc=$?
	check "second instance refused (exit $rc), pid file untouched" \
		eval '[ $rc -ne 0 ] && [ "$(cat "$PID2")" = "$RM_PID" ]'
	kill -TERM "$RM_PID" || true
	wait_gone "$RM_PID" 150 || true
	T_PIDS=""
	check "pid_file: removed at exit" eval '[ ! -e "$PID2" ] && [ ! -L "$PID2" ]'
else
	not_ok "start with pid_file in the config"
	kill_all
fi
echo 123456 >"$PID2"
if rm_start "$TMPD/log3" -c "$PCONF" -p "$SPEC"; then
	check "pid_file: a stale file is replaced" eval '[ "$(cat "$PID2")" = "$RM_PID" ]'
	kill -TERM "$RM_PID" || true
	wait_gone "$RM_PID" 150 || true
	T_PIDS=""
else
	not_ok "start over a stale pid file"
	kill_all
fi

# --- daemon mode: the pid of the detached process ----------------------------
DPID_FILE=$TMPD/d.pid
rc=0
timeout 20 "$BIN" -c "$CONF" -p "unix:$TMPD/d" -P "$DPID_FILE" >"$TMPD/d.out" 2>&1 || rc=$?
check "daemon mode with -P: the starting process exits 0 (got $rc)" [ $rc -eq 0 ]
for i in $(seq 100); do [ -s "$DPID_FILE" ] && [ -S "$TMPD/d" ] && break; sleep 0.1; done
DPID=$(cat "$DPID_FILE" 2>/dev/null || true)
if [ -n "$DPID" ] && alive "$DPID"; then
	T_PIDS="$DPID"
	check "daemon mode: the pid file names the detached daemon" \
		eval '[ "$(readlink "/proc/$DPID/exe")" = "$(readlink -f "$BIN")" ] &&
			[ "$(ps -o ppid= -p "$DPID" | tr -d " ")" != "$$" ]'
	kill -TERM "$DPID" || true
	check "daemon mode: gone after SIGTERM" wait_gone "$DPID" 150
	T_PIDS=""
	check "daemon mode: pid file removed" eval '[ ! -e "$DPID_FILE" ]'
else
	not_ok "daemon mode: no live pid in $DPID_FILE ('$DPID')"
fi

# --- -u nobody: socket nobody:G, pid file written as root, removed as nobody
mkdir "$TMPD/u"
chown nobody "$TMPD/u"
USOCK=$TMPD/u/s
UPID=$TMPD/u/relaymilter.pid
ULOG=$TMPD/ulog
if rm_start "$ULOG" -c "$CONF" -p "unix:$USOCK" -P "$UPID" -u nobody; then
	check "-u nobody: socket is 0660 nobody:$G (got $(perms "$USOCK"))" \
		[ "$(perms "$USOCK")" = "660 $NOBODY $G" ]
	check "-u nobody: pid file 0644 root, written before the switch (got $(perms "$UPID"))" \
		eval '[ "$(perms "$UPID" | cut -d" " -f1,2)" = "644 0" ] && [ "$(cat "$UPID")" = "$RM_PID" ]'
	out=$(ask outsider "outsider" "unix:$USOCK" o2@remote.test) || true
	check "-u nobody: uid $U outside group $G refused" \
		eval '[[ $out == *"ermission denied"* ]]'
	out=$(ask member "-u nobody: member of $G gets a decision" "unix:$USOCK" m2@remote.test) || true
	check "-u nobody: member of $G connects" \
		eval '[[ $out == *"ok - -u nobody: member of $G gets a decision"* ]] && [[ $out != *"not ok"* ]]'
	kill -TERM "$RM_PID" || true
	wait_gone "$RM_PID" 150 || true
	T_PIDS=""
	check "-u nobody: pid file and socket removed at exit" \
		eval '[ ! -e "$UPID" ] && [ ! -e "$USOCK" ]'
else
	not_ok "-u nobody with socket_group and -P"
	kill_all
fi
finish
