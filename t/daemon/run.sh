#!/bin/bash
# run.sh RELAYMILTER_BIN - the daemon's life cycle: -V, -n, start in the
# foreground, a second instance on the same socket, SIGUSR1 reloads (good
# and broken config), SIGTERM, a stale socket after SIGKILL, daemon mode,
# and -u (as root only).  Decisions are asked with miltertest through the
# helpers in t/lib/daemon.sh.  Prints "ok - ..." / "not ok - ..."; exit 1
# on any failure, 77 (skip) when miltertest is not installed.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: run.sh RELAYMILTER_BIN}
MT=$SRC/t/miltertest
want_tools miltertest
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmd

CONF=$TMPD/r.conf
cp "$MT/relaymilter.conf" "$CONF"
# the same policy, plus 203.0.113.0/24 as a trusted network
sed 's#trusted_networks = \[#trusted_networks = [ "203.0.113.0/24",#' \
	"$MT/relaymilter.conf" >"$TMPD/trust.conf"
printf 'local_domains = [ "example.com" ];\ntrusted_networks = [ "127.0.0.0/8"\nhostnames = [ "x" ];\n' \
	>"$TMPD/broken.conf"

# --- command line ---------------------------------------------------------
rc=0
out=$(timeout 10 "$BIN" -V 2>&1) || rc=$?
check "-V: exit 0 and \"relaymilter VERSION\" (got $rc: $out)" \
	eval '[ $rc -eq 0 ] && [[ $out =~ ^relaymilter\ [0-9][0-9A-Za-z.~+-]*$ ]]'
rc=0
out=$(timeout 10 "$BIN" -n -c "$CONF" 2>&1) || rc=$?
check "-n on a good config: exit 0, \"FILE: OK\" (got $rc: $out)" \
	eval '[ $rc -eq 0 ] && [ "$out" = "$CONF: OK" ]'
rc=0
timeout 10 "$BIN" -n -c "$TMPD/broken.conf" >"$TMPD/n.out" 2>"$TMPD/n.err" || rc=$?
check "-n on a broken config: exit 78 (got $rc)" [ $rc -eq 78 ]
check "-n on a broken config: \"FILE:LINE:\" on stderr ($(head -c 200 "$TMPD/n.err"))" \
	grep -qE "^$TMPD/broken.conf:[0-9]+:" "$TMPD/n.err"
rc=0
timeout 10 "$BIN" -n -c "$TMPD/missing.conf" >/dev/null 2>"$TMPD/n.err" || rc=$?
check "-n on a missing file: exit 78 (got $rc)" [ $rc -eq 78 ]
rc=0
timeout 10 "$BIN" -f -c "$TMPD/broken.conf" -p "unix:$TMPD/b.sock" >/dev/null 2>"$TMPD/b.err" || rc=$?
check "start with a broken config: exit 78, nothing listening (got $rc)" \
	eval '[ $rc -eq 78 ] && [ ! -e "$TMPD/b.sock" ]'

# --- foreground, second instance ------------------------------------------
SOCK=$TMPD/s
SPEC=unix:$SOCK
LOG=$TMPD/log
rm_start "$LOG" -c "$CONF" -p "$SPEC" || bail "start in the foreground on $SPEC"
ok "start in the foreground on $SPEC"
FIRST=$RM_PID
check "socket file $SOCK exists" test -S "$SOCK"
probe "$LOG" "$SPEC" "first instance: untrusted remote rejected" 203.0.113.9 a1@remote.test reject

rc=0
timeout 20 "$BIN" -f -c "$CONF" -p "$SPEC" >"$TMPD/second.out" 2>&1 || rc=$?
check "second instance on the same socket: non-zero exit (got $rc)" \
	eval '[ $rc -ne 0 ] && [ $rc -ne 124 ]'
check "second instance: says why ($(head -c 200 "$TMPD/second.out"))" \
	grep -q "another process is listening" "$TMPD/second.out"
check "first instance still running" alive "$FIRST"
check "socket file still there" test -S "$SOCK"
probe "$LOG" "$SPEC" "first instance still answers" 203.0.113.9 a2@remote.test reject

# --- reloads ---------------------------------------------------------------
# reload_wait: SIGUSR1, then wait for one more "reloaded"/"reload failed"
# line than the log had before it
nreload=0
reload_wait() {
	nreload=$(grep -cF reload "$LOG" || true)
	nreload=$((nreload + 1))
	kill -USR1 "$FIRST" || return 1
	wait_log "$LOG" "reload" 100 "$nreload"
}
# reload_settle: wait until no reload is in flight (the count of reload
# lines holds still for 1 s; at most 10 s)
reload_settle() {
	local i=0 same=0 last=-1 got
	while [ $i -lt 100 ] && [ $same -lt 10 ]; do
		got=$(grep -cF reload "$LOG" || true)
		if [ "$got" = "$last" ]; then same=$((same + 1)); else same=0; fi
		last=$got
		sleep 0.1
		i=$((i + 1))
	done
}
cp "$TMPD/trust.conf" "$CONF"
check "reload with a good config: logged \"reloaded $CONF (generation N)\"" \
	eval 'reload_wait && grep -qE "reloaded $CONF \(generation [0-9]+\)" "$LOG"'
probe "$LOG" "$SPEC" "after reload: 203.0.113.9 now trusted" 203.0.113.9 b1@remote.test continue
cp "$TMPD/broken.conf" "$CONF"
check "reload with a broken config: \"reload failed, keeping the running policy\" logged" \
	eval 'reload_wait && grep -qF "reload failed, keeping the running policy: $CONF:" "$LOG"'
check "still running after a failed reload" alive "$FIRST"
probe "$LOG" "$SPEC" "after failed reload: policy kept (203.0.113.9 trusted)" \
	203.0.113.9 b2@remote.test continue
probe "$LOG" "$SPEC" "after failed reload: policy kept (local continues)" \
	198.51.100.1 b3@example.com continue
cp "$MT/relaymilter.conf" "$CONF"
check "reload with the first config again: logged" \
	eval 'reload_wait && [ "$(grep -cE "reloaded $CONF \(generation [0-9]+\)" "$LOG")" -eq 2 ]'
probe "$LOG" "$SPEC" "after second reload: 203.0.113.9 untrusted again" \
	203.0.113.9 b4@remote.test reject
# a session open across a reload keeps the policy it started with
printf '#!/bin/sh\nkill -USR1 %s\ni=0\nwhile [ "$(grep -c reloaded %s)" -lt 3 ]; do\n\t[ $i -ge 100 ] && exit 1\n\tsleep 0.1; i=$((i + 1))\ndone\n' \
	"$FIRST" "$LOG" >"$TMPD/reload.sh"
chmod +x "$TMPD/reload.sh"
cp "$TMPD/trust.conf" "$CONF"
run_lua "$HERE/pin.lua" "$LOG" "$SPEC" -D reload="$TMPD/reload.sh"
# signals in a burst (pending SIGUSR1s may merge: at least one more reload)
for i in 1 2 3 4 5; do kill -USR1 "$FIRST" || true; done
check "five SIGUSR1 in a burst: reloaded again" wait_log "$LOG" "reloaded" 100 4
check "still running after the burst" alive "$FIRST"
reload_settle
probe "$LOG" "$SPEC" "after the burst: answers" 203.0.113.9 b5@remote.test continue

# the decision line names the HELO in force
run_lua "$HERE/helo2.lua" "$LOG" "$SPEC"
check "log: the first HELO before a second one" \
	grep -qE 'helo=<first\.helo\.test> .* rcpt=<h1@example\.com>' "$LOG"
check "log: the second HELO after it" \
	grep -qE 'helo=<second\.helo\.test> .* rcpt=<h2@example\.com>' "$LOG"

# MAIL is answered only while a listener requires AUTH
run_lua "$HERE/nrmail.lua" "$LOG" "$SPEC" -D want=no
grep -v require_auth "$MT/relaymilter.conf" >"$CONF"
check "reload without require_auth: logged" eval 'reload_wait'
run_lua "$HERE/nrmail.lua" "$LOG" "$SPEC" -D want=yes
cp "$TMPD/trust.conf" "$CONF"
check "reload with require_auth again: logged" eval 'reload_wait'
run_lua "$HERE/nrmail.lua" "$LOG" "$SPEC" -D want=no

# --- SIGTERM -------------------------------------------------------------
stop_check "first instance" "$FIRST"
check "SIGTERM: \"stopping\" logged" grep -q ": stopping$" "$LOG"
check "SIGTERM: socket file removed" eval '[ ! -e "$SOCK" ]'

# --- a quick stop, and a new instance at once on the same socket ----------
# (libmilter alone looks at its stop flag every 5 s: 0-5 s per stop)
LOGQ=$TMPD/logq
if rm_start "$LOGQ" -c "$CONF" -p "$SPEC"; then
	t0=$(date +%s%N)
	kill -TERM "$RM_PID" || true
	wait "$RM_PID" 2>/dev/null || true
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "SIGTERM: stopped within 2 s (${ms} ms)" [ "$ms" -lt 2000 ]
	T_PIDS=""
	if rm_start "$LOGQ" -c "$CONF" -p "$SPEC"; then
		ok "a new instance takes the socket at once"
		probe "$LOGQ" "$SPEC" "the new instance answers" 203.0.113.9 q1@example.com continue
		stop_check "the new instance" "$RM_PID"
	else
		not_ok "a new instance takes the socket at once" "$(tail -3 "$LOGQ")"
	fi
else
	not_ok "start for the quick stop" "$(tail -3 "$LOGQ")"
fi

# --- the service manager is told (sd_notify: Type=notify) ------------------
NSOCK=$TMPD/notify
python3 - "$NSOCK" "$TMPD/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "a") as out:
    try:
        while True:
            msg = s.recv(4096).decode()
            out.write(msg.replace("\n", " | ") + "\n")
            out.flush()
            if "STOPPING=1" in msg:
                break
    except socket.timeout:
        pass
PY
NPID=$!
for _ in $(seq 50); do [ -S "$NSOCK" ] && break; sleep 0.1; done
LOGN=$TMPD/logn
if NOTIFY_SOCKET=$NSOCK rm_start "$LOGN" -c "$CONF" -p "$SPEC"; then
	for _ in $(seq 50); do grep -q READY=1 "$TMPD/notify.out" 2>/dev/null && break; sleep 0.1; done
	check "notify: READY=1 with a status once it listens" \
		grep -q "^READY=1 | STATUS=listening on $SPEC" "$TMPD/notify.out"
	kill -USR1 "$RM_PID"
	for _ in $(seq 50); do [ "$(grep -c READY=1 "$TMPD/notify.out")" -ge 2 ] && break; sleep 0.1; done
	check "notify: RELOADING=1, then READY=1 again after a reload" \
		eval 'grep -q "^RELOADING=1" "$TMPD/notify.out" &&
			grep -q "^READY=1 | STATUS=reloaded" "$TMPD/notify.out"'
	stop_check "notify" "$RM_PID"
	wait "$NPID" 2>/dev/null || true
	check "notify: STOPPING=1 on SIGTERM" grep -q "^STOPPING=1" "$TMPD/notify.out"
else
	not_ok "start with NOTIFY_SOCKET" "$(tail -3 "$LOGN")"
	kill "$NPID" 2>/dev/null || true
fi

# --- stale socket after SIGKILL -------------------------------------------
LOG2=$TMPD/log2
if rm_start "$LOG2" -c "$CONF" -p "$SPEC"; then
	kill -KILL "$RM_PID" || true
	wait "$RM_PID" 2>/dev/null || true
	T_PIDS=""
	check "SIGKILL leaves a stale socket file" test -S "$SOCK"
	LOG3=$TMPD/log3
	if rm_start "$LOG3" -c "$CONF" -p "$SPEC"; then
		ok "restart over the stale socket"
		probe "$LOG3" "$SPEC" "restarted instance answers" 203.0.113.9 c1@remote.test continue
		kill -TERM "$RM_PID" || true
		wait_gone "$RM_PID" 150 || true
		wait "$RM_PID" 2>/dev/null || true
		T_PIDS=""
	else
		not_ok "restart over the stale socket"
		kill_all
	fi
else
	not_ok "start for the SIGKILL case"
	kill_all
fi

# --- daemon mode -----------------------------------------------------------
DCONF=$TMPD/daemon-mode.conf
cp "$MT/relaymilter.conf" "$DCONF"
DSOCK=$TMPD/d
rc=0
timeout 20 "$BIN" -c "$DCONF" -p "unix:$DSOCK" >"$TMPD/d.out" 2>&1 || rc=$?
check "daemon mode: the starting process exits 0 (got $rc)" [ $rc -eq 0 ]
DPID=
for i in $(seq 100); do
	DPID=$(pgrep -f -- "-c $DCONF -p unix:$DSOCK" || true)
	[ -n "$DPID" ] && [ -S "$DSOCK" ] && break
	sleep 0.1
done
if [ -n "$DPID" ] && [ "$(wc -w <<<"$DPID")" -eq 1 ]; then
	T_PIDS="$T_PIDS $DPID"
	ok "daemon mode: one detached process ($DPID)"
	check "daemon mode: own session (setsid)" \
		eval '[ "$(ps -o sid= -p "$DPID" | tr -d " ")" != "$(ps -o sid= -p $$ | tr -d " ")" ]'
	check "daemon mode: not our child" \
		eval '[ "$(ps -o ppid= -p "$DPID" | tr -d " ")" != "$$" ]'
	# nothing on the terminal, but for the warning that nothing will be
	# logged when no syslog daemon listens
	if python3 -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).connect("/dev/log")' 2>/dev/null; then
		check "daemon mode: nothing on the terminal" eval '[ ! -s "$TMPD/d.out" ]'
	else
		check "daemon mode, no syslog: warns that nothing will be logged" \
			eval '[ "$(grep -c . "$TMPD/d.out")" = 1 ] && grep -q "no syslog daemon listens on /dev/log" "$TMPD/d.out"'
	fi
	probe - "unix:$DSOCK" "daemon mode: answers (untrusted remote)" \
		203.0.113.9 d1@remote.test reject
	kill -TERM "$DPID" || true
	check "daemon mode: gone within 15 s of SIGTERM" wait_gone "$DPID" 150
	T_PIDS=""
else
	not_ok "daemon mode: detached process not found (pgrep: '$DPID')"
fi

# daemon mode with log_file and log_format = "json": the file has one JSON
# object per decision, and a reload reopens it after a rotation
LCONF2=$TMPD/daemon-log.conf
LFILE=$TMPD/relaymilter.log
{
	cat "$DCONF"
	printf 'log_file = "%s";\nlog_format = "json";\n' "$LFILE"
} >"$LCONF2"
rc=0
timeout 20 "$BIN" -c "$LCONF2" -p "unix:$TMPD/dl" >"$TMPD/dl.out" 2>&1 || rc=$?
check "log_file: the daemon starts (got $rc)" [ $rc -eq 0 ]
LPID=$(pgrep -f -- "-c $LCONF2 -p unix:$TMPD/dl" || true)
if [ -n "$LPID" ]; then
	T_PIDS="$T_PIDS $LPID"
	probe - "unix:$TMPD/dl" "log_file: a decision" 203.0.113.9 lf1@remote.test reject
	check "log_file: the JSON decision line is in the file" python3 -c '
import json, sys
lines = [l.split(": info: ", 1)[1] for l in open(sys.argv[1]) if ": info: {" in l]
d = [json.loads(l) for l in lines]
ok = any(x["rcpt"] == "lf1@remote.test" and x["verdict"] == "reject" and
         x["rule"] and x["reply"].startswith("550 ") and x["session"] for x in d)
sys.exit(0 if ok else 1)' "$LFILE"
	check "log_file: the start is logged with a time stamp" \
		grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z relaymilter\[[0-9]+\]: info: relaymilter .* listening on' "$LFILE"
	mv "$LFILE" "$LFILE.1"
	kill -USR1 "$LPID"
	for _ in $(seq 50); do [ -e "$LFILE" ] && break; sleep 0.1; done
	probe - "unix:$TMPD/dl" "log_file: a decision after the rotation" 203.0.113.9 lf2@remote.test reject
	check "log_file: reopened by the reload (rotation)" grep -q '"rcpt":"lf2@remote.test"' "$LFILE"
	kill -TERM "$LPID" || true
	check "log_file: the daemon stops" wait_gone "$LPID" 50
	T_PIDS=""
else
	not_ok "log_file: the daemon runs" "$(cat "$TMPD/dl.out")"
fi

# daemon mode: what fails after detaching fails where it was started
rc=0
timeout 20 "$BIN" -c "$DCONF" -p "unix:$TMPD/d2" -P "$TMPD/no/such/dir/pid" \
	>"$TMPD/d2.out" 2>&1 || rc=$?
check "daemon mode, pid file in a missing directory: non-zero exit (got $rc)" [ $rc -ne 0 ]
check "daemon mode, pid file in a missing directory: says why on stderr" \
	grep -q "pid file $TMPD/no/such/dir/pid" "$TMPD/d2.out"
# (the daemon tells its starter, then cleans up and exits)
for _ in $(seq 50); do
	pgrep -f -- "-p unix:$TMPD/d2" >/dev/null || break
	sleep 0.1
done
check "daemon mode, pid file in a missing directory: no daemon left" \
	eval '! pgrep -f -- "-p unix:$TMPD/d2" >/dev/null'
if [ "$(id -u)" -eq 0 ]; then
	rc=0
	timeout 20 "$BIN" -c "$DCONF" -p "unix:$TMPD/d3" -u no-such-user-rm \
		>"$TMPD/d3.out" 2>&1 || rc=$?
	check "daemon mode, unknown -u user: non-zero exit before detaching (got $rc)" \
		[ $rc -ne 0 ]
	check "daemon mode, unknown -u user: says why" grep -q "no-such-user-rm" "$TMPD/d3.out"
fi

# --- -u nobody -------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then
	skip "-u nobody" "not root"
elif ! id nobody >/dev/null 2>&1; then
	skip "-u nobody" "no user nobody"
else
	# nobody must reach the config (reload) and remove its socket at exit
	chmod 711 "$TMPD"
	mkdir "$TMPD/u"
	chown nobody "$TMPD/u"
	UCONF=$TMPD/u/r.conf
	cp "$MT/relaymilter.conf" "$UCONF"
	chmod 644 "$UCONF"
	USOCK=$TMPD/u/s
	ULOG=$TMPD/ulog
	if rm_start "$ULOG" -c "$UCONF" -p "unix:$USOCK" -u nobody; then
		NOBODY=$(id -u nobody)
		uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$RM_PID/status")
		check "-u nobody: real, effective, saved uid are $NOBODY (got $uids)" \
			[ "$uids" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]
		gids=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$RM_PID/status")
		g=$(id -g nobody)
		check "-u nobody: gids are $g (got $gids)" [ "$gids" = "$g $g $g $g" ]
		grps=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$RM_PID/status")
		check "-u nobody: no root group in Groups: ($grps)" \
			eval '! grep -qw 0 <<<"$grps"'
		probe "$ULOG" "unix:$USOCK" "-u nobody: answers (untrusted remote)" \
			203.0.113.9 e1@remote.test reject
		probe "$ULOG" "unix:$USOCK" "-u nobody: answers (trusted remote)" \
			192.0.2.5 e2@remote.test continue
		cp "$TMPD/trust.conf" "$UCONF"
		kill -USR1 "$RM_PID" || true
		check "-u nobody: reload as nobody works" wait_log "$ULOG" "reloaded" 100
		stop_check "-u nobody" "$RM_PID"
		check "-u nobody: socket removed at exit" eval '[ ! -e "$USOCK" ]'
	else
		not_ok "-u nobody: start"
	fi
fi
finish
