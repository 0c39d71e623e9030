#!/bin/bash
# t/fault/limits.sh BIN [FAILMALLOC.so] - relaymilter short of resources
# behind a real Postfix in the authority deployment (see run.sh): file
# descriptors and threads cut with prlimit, allocations failing (the
# LD_PRELOAD shim failmalloc.c, switched on after start-up).  Sessions
# beyond the limit must get a 4xx, never a 250 for a relay; relaymilter
# survives (or exits cleanly: never a crash) and answers normally again
# once the fault is gone.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the
# state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: limits.sh RELAYMILTER-BINARY [FAILMALLOC.so]}")
SHIM=${2:-}
[ -z "$SHIM" ] || SHIM=$(t_abs "$SHIM")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
need_root "Postfix, network namespace"
need_tools postfix python3 prlimit
e2e_begin "$0" "$@"
fl_start

# 6. Descriptors and threads cut with prlimit on the running daemon: the
# sessions beyond the limit tempfail, the daemon survives and answers
# normally once the load is gone.
starve() { # NAME RESOURCE LIMIT: with LIMIT set, 30 sessions held open
	local name=$1 res=$2 lim=$3 _
	[ "$res" = nofile ] && prlimit --pid "$TB_MILTER_PID" "--$res=$lim:$lim"
	rm -f "$TB_RUN/go"
	SMTPC_HOLD=$TB_RUN/go fl_load "$TB_RUN/$res" 30 30 &
	sleep 5 # past milter_connect_timeout
	touch "$TB_RUN/go"
	wait $! || true
	fl_check "$name limited to $lim: 30 concurrent sessions" "$TB_RUN/$res" 30 degraded
	if [ "$FL_TEMP" -gt 0 ]; then ok "$name: $FL_TEMP sessions beyond the limit tempfailed"; else
		not_ok "$name: sessions beyond the limit tempfailed" "none did"
	fi
	fl_milter_alive "$name: relaymilter survives"
	fl_recover "$name, still limited, load gone: normal answers"
}
# what is open now, and 5 more
starve "RLIMIT_NOFILE" nofile $(($(find "/proc/$TB_MILTER_PID/fd" -mindepth 1 | wc -l) + 5))
tb_milter_stop TERM
# Threads count against the user (root is exempt), across the machine: a
# user of our own, in a private copy of /etc/passwd, with the limit set at
# exec (lowering it from outside would need CAP_SYS_RESOURCE): main,
# libmilter, signal and reload thread, and 3 sessions.  The uid is drawn
# at random: in its PID namespace the test has the same $$ at every run,
# and two runs at once on one machine would share one count.
FAULT_UID=$((40000 + SRANDOM % 20000))
if [ "${TB_NS_MOUNT:-0}" = 1 ] && ! getent passwd "$FAULT_UID" >/dev/null; then
	{
		cat /etc/passwd
		echo "rmfault:x:$FAULT_UID:$FAULT_UID::/nonexistent:/usr/sbin/nologin"
	} >"$TB_STATE/passwd"
	mount --bind "$TB_STATE/passwd" /etc/passwd
	printf '#!/bin/sh\nexec prlimit --nproc=7:7 -- "%s" -u rmfault "$@"\n' "$BIN" >"$TB_STATE/as-user"
	chmod 755 "$TB_STATE/as-user"
	if tb_milter_start "$TB_STATE/as-user" "$MCONF"; then
		starve "RLIMIT_NPROC" nproc 7
	else
		not_ok "relaymilter -u rmfault starts" "$(tail -2 "$TB_MILTER_LOG")"
	fi
else
	ok "RLIMIT_NPROC # SKIP no private mount namespace or uid $FAULT_UID taken"
fi
tb_milter_stop TERM

# 7. Allocation failures (failmalloc.c, switched on after start-up).
FM=$TB_RUN/failmalloc
oom() { # NAME PERCENT: sessions while PERCENT % of the allocations fail
	local name=$1 rc
	printf '%s\n' "$2" >"$FM"
	fl_load "$TB_RUN/oom" 12 6
	rm -f "$FM"
	sleep 0.1
	fl_check "$name" "$TB_RUN/oom" 12 degraded
	echo "# $name: $(cat "$FM.count" 2>/dev/null || echo 0) allocations failed"
	if tb_alive "$TB_MILTER_PID"; then
		ok "$name: relaymilter survives"
	else
		tb_milter_stop KILL
		rc=$TB_MILTER_RC
		if [ "$rc" -gt 128 ]; then
			not_ok "$name: relaymilter survives or exits cleanly" "killed by signal $((rc - 128)): $(tail -3 "$TB_MILTER_LOG" | tr '\n' ' ')"
		else
			ok "$name: relaymilter exits cleanly (status $rc): $(tail -1 "$TB_MILTER_LOG")"
		fi
		tb_milter_start "$TB_STATE/failmalloc" "$MCONF" || true
	fi
	fl_recover "$name, allocations work again: normal answers"
}
if [ -z "$SHIM" ]; then
	ok "allocation failures # SKIP no failmalloc shim given"
elif grep -q __asan_init "$BIN"; then
	ok "allocation failures # SKIP the sanitizer's allocator must come first"
else
	printf '#!/bin/sh\nLD_PRELOAD=%s FAILMALLOC_FILE=%s FAILMALLOC_COUNT=%s exec "%s" "$@"\n' \
		"$SHIM" "$FM" "$FM.count" "$BIN" >"$TB_STATE/failmalloc"
	chmod 755 "$TB_STATE/failmalloc"
	if tb_milter_start "$TB_STATE/failmalloc" "$MCONF"; then
		oom "malloc fails 20%" 20
		oom "malloc fails always" 100
	else
		not_ok "relaymilter starts with failmalloc" "$(tail -2 "$TB_MILTER_LOG")"
	fi
fi

fl_no_relay
finish
