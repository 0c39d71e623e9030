# shellcheck shell=bash
# t/lib/daemon.sh - relaymilter run directly, driven by miltertest (the
# tests of t/miltertest, t/daemon, t/hostile, t/install, t/pkg).  Sourced
# after tap.sh; the caller sets BIN (the relaymilter binary) and calls
# t_begin for TMPD (its private temporary directory, short: unix socket
# paths are limited to 107 bytes).  The Lua side is t/miltertest/lib.
MT_LIB=$SRC/t/miltertest/lib
T_PIDS=""
# shellcheck source-path=SCRIPTDIR source=../../contrib/testbed/lib.sh
. "$SRC/contrib/testbed/lib.sh"

# t_begin PREFIX: TMPD=/tmp/PREFIX.XXXXXX; at exit, stop every process we
# started and remove TMPD
t_begin() {
	TMPD=$(mktemp -d "/tmp/$1.XXXXXX")
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}
t_cleanup() {
	kill_all
	rm -rf "$TMPD"
}

# alive PID: the process exists and is not a zombie (contrib/testbed)
alive() { tb_alive "$1"; }

# kill_all: TERM, then KILL, every process we started (cleanup traps)
kill_all() {
	local p
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null || true
	done
	for p in $T_PIDS; do
		wait_gone "$p" 50 || kill -9 "$p" 2>/dev/null || true
	done
	T_PIDS=""
}

# wait_gone PID TENTHS: wait until PID has exited (and was reaped if ours)
wait_gone() {
	local i=0
	while alive "$1"; do
		[ "$i" -ge "$2" ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 0
}

# wait_log FILE FIXED-STRING TENTHS [NTH]: wait for the NTH line (default 1)
# containing the string.  A file not created yet has none.
wait_log() {
	local i=0 n=${4:-1} got
	for (( ; ; )); do
		got=$(grep -cF -- "$2" "$1" 2>/dev/null || true)
		[ "${got:-0}" -ge "$n" ] && return 0
		[ "$i" -ge "$3" ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# stop_check NAME PID: SIGTERM to our child PID; ok if it exits with
# status 0 within 15 s
stop_check() {
	local rc=0
	kill -TERM "$2" || true
	if wait_gone "$2" 150; then
		wait "$2" || rc=$?
		check "$1: SIGTERM, exit 0 (got $rc)" [ $rc -eq 0 ]
	else
		not_ok "$1: still running 15 s after SIGTERM"
	fi
	forget "$2"
}

# forget PID: not ours to stop any more (the others, a redis-server say,
# still are)
forget() {
	local p keep=""
	for p in $T_PIDS; do
		[ "$p" = "$1" ] || keep="$keep $p"
	done
	T_PIDS=$keep
}

# stop_settled NAME PID: stop_check after half a second without milter
# traffic.  libmilter's worker pool destroys its task mutex at stop while
# idle workers may still wait on it (libmilter/worker.c, a race between its
# own threads that t/tsan.supp cannot name): a stop right after the last
# session lets the TSan build see it.
stop_settled() {
	sleep 0.5
	stop_check "$@"
}

# rm_start LOG ARGS...: start "$BIN -f ARGS" in the background, logging to
# LOG; sets RM_PID.  Returns 1 if it does not say "listening on" within
# 10 s (the log is printed then).  RM_WRAP, when set, is a command line
# the daemon runs under (t/valgrind/run.sh: valgrind).
rm_start() {
	local log=$1
	shift
	# shellcheck disable=SC2086 # RM_WRAP is a command line
	${RM_WRAP:-} "$BIN" -f "$@" </dev/null >>"$log" 2>&1 &
	RM_PID=$!
	T_PIDS="$T_PIDS $RM_PID"
	# the start line, not "another process is listening on this socket"
	if ! eventually 100 grep -Eq 'relaymilter [^ :]+ listening on ' "$log"; then
		echo "# relaymilter did not start; log:"
		sed 's/^/#   /' "$log"
		return 1
	fi
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# check_log_expect LOG LINE: verify one "#expect-log" line from common.lua
check_log_expect() {
	local log=$1 from rcpt code name want
	IFS=$'\t' read -r _ from rcpt code name <<<"$2"
	if [ "$code" = "-" ]; then want='reply="-"'; else want="reply=\"$code "; fi
	if grep -F -e "from=<$from>" "$log" |
		grep -F -e "rcpt=$rcpt" -e "rcpt=<$rcpt>" | grep -qF -- "$want"; then
		ok "log: $name ($want)"
	else
		not_ok "log: $name: no decision line with from=<$from> rcpt=$rcpt $want"
	fi
}

# run_lua SCRIPT LOG SOCKSPEC [-D k=v ...]: run one miltertest script; its
# ok/not ok lines count here, its #expect-log lines are checked against LOG
# (LOG "-": no log to check, e.g. a daemon logging to syslog)
run_lua() {
	local script=$1 log=$2 spec=$3 out rc=0 line name n=0
	shift 3
	name=$(basename "$script")
	out=$(miltertest -s "$script" -D libdir="$MT_LIB" -D socket="$spec" "$@" 2>&1) ||
		rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) echo "$line"; T_PASS=$((T_PASS + 1)); n=$((n + 1)) ;;
		"not ok - "*) echo "$line"; T_FAIL=$((T_FAIL + 1)); n=$((n + 1)) ;;
		"#expect-log"*) [ "$log" = - ] || check_log_expect "$log" "$line" ;;
		*) echo "# $name: $line" ;;
		esac
	done <<<"$out"
	# a Lua error() ends the script early with exit 1 (T.fatal says why)
	if [ $rc -ne 0 ]; then
		not_ok "$name: miltertest exit $rc"
	elif [ $n -eq 0 ]; then
		not_ok "$name: no results"
	fi
}

# probe LOG SOCKSPEC NAME CLIENT RCPT WANT [AUTH]: one decision via probe.lua
probe() {
	local log=$1 spec=$2 name=$3 client=$4 rcpt=$5 want=$6 auth=${7:-}
	local args=(-D client="$client" -D rcpt="$rcpt" -D want="$want" -D name="$name")
	[ -n "$auth" ] && args+=(-D auth="$auth")
	run_lua "$MT_LIB/probe.lua" "$log" "$spec" "${args[@]}"
}

# grep_log NAME STRING [LOG]: ok when the log (default $LOG) has STRING
grep_log() {
	if grep -qF -- "$2" "${3:-$LOG}"; then ok "$1"; else not_ok "$1: no \"$2\" in the log"; fi
}

# redis_start: a redis-server of the test's own on 127.0.0.1:$RPORT (no
# persistence, its files in $TMPD); RD_PID its pid.  1 when it does not
# answer within 5 s.
redis_start() {
	redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no \
		--dir "$TMPD" --logfile "$TMPD/redis.log" </dev/null >/dev/null 2>&1 &
	RD_PID=$!
	T_PIDS="$T_PIDS $RD_PID"
	local i
	for i in $(seq 50); do
		redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.1
	done
	return 1
}
rcli() { redis-cli -p "$RPORT" "$@"; }

# redis_daemon NAME STORE_DOWN BASE_CONF TIMEOUT_MS: relaymilter with BASE_CONF
# and the Redis store at $RPORT; config $TMPD/NAME.conf, milter socket
# $TMPD/NAME.sock, control socket $TMPD/NAME.ctl, log $TMPD/NAME.log; PID_NAME
redis_daemon() {
	{
		cat "$3"
		echo "store = \"redis://127.0.0.1:$RPORT/0\";"
		echo "store_timeout = \"${4}ms\";"
		echo "store_down = \"$2\";"
		echo "control_socket = \"$TMPD/$1.ctl\";"
	} >"$TMPD/$1.conf"
	rm_start "$TMPD/$1.log" -c "$TMPD/$1.conf" -p "unix:$TMPD/$1.sock" ||
		bail "daemon $1 start"
	eval "PID_$1=\$RM_PID"
}
