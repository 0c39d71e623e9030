#!/bin/bash
# redis.sh RELAYMILTER_BIN - limits counted in Redis (store = "redis://"),
# two daemons sharing one redis-server of the test's own (a loopback
# port, no persistence), driven by miltertest (redis.lua):
#   a login's budget is spent across both daemons; another login is not
#   touched; "relaymilter limits" on one shows what the other counted, and
#   a lock lifted through one is lifted for both;
#   redis-server killed: a recipient is answered within the timeout, daemon
#   A (store_down = "local") counts in its memory and still limits, daemon
#   B (store_down = "tempfail") gives 451; redis-server started again: both
#   count there again;
#   redis-server frozen (SIGSTOP): the same, then SIGCONT and counting
#   resumes in Redis.
# 77 (skip) without redis-server, redis-cli or miltertest.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: redis.sh RELAYMILTER_BIN}
want_tools miltertest redis-server redis-cli
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmr

RPORT=$(free_port)
TIMEOUT_MS=200
# a decision without Redis may take the timeout once (then the breaker
# answers at once); a generous margin for a slow (sanitized) build
MAX_MS=2500

# daemon NAME STORE_DOWN: redis.conf with the store (t/lib/daemon.sh)
daemon() { redis_daemon "$1" "$2" "$HERE/redis.conf" "$TIMEOUT_MS"; }
A() { run_lua "$HERE/redis.lua" "$TMPD/A.log" "unix:$TMPD/A.sock" "$@"; }
B() { run_lua "$HERE/redis.lua" "$TMPD/B.log" "unix:$TMPD/B.sock" "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# timed NAME DAEMON ARGS...: one run, its time checked against MAX_MS
timed() {
	local name=$1 t0 t1
	shift
	t0=$(ms)
	"$@"
	t1=$(ms)
	check "$name: answered in $((t1 - t0)) ms (timeout ${TIMEOUT_MS} ms)" \
		[ $((t1 - t0)) -lt $MAX_MS ]
}
cr() { rcli HGET "rm:l:shared:$1" cr; }

redis_start || bail "redis-server does not start"
ok "redis-server on 127.0.0.1:$RPORT"
daemon A local
daemon B tempfail
ok "two daemons share it"

# (a) one budget across both daemons
A -D phase=a
B -D phase=b
A -D phase=a-over
check "Redis holds alice's count (4)" [ "$(cr alice)" = 4 ]
check "Redis holds bob's count (1)" [ "$(cr bob)" = 1 ]
check "the 4.7.1 refusal in B's log" grep -qF \
	'rule=limit[shared] verdict=tempfail reply="451 4.7.1' "$TMPD/B.log"
ttl=$(rcli TTL rm:l:shared:alice)
check "the key expires after 2 * per ($ttl s)" [ "$ttl" -gt 7000 ] && [ "$ttl" -le 7200 ]

# (b) relaymilter limits against either daemon; a lift for both
out=$("$BIN" limits -c "$TMPD/B.conf" --key alice)
check "limits --key on B: the shared counter ($out)" \
	grep -qx 'shared alice messages=0 recipients=4 per=1h' <<<"$out"
B -D phase=lock
A -D phase=locked
out=$("$BIN" limits -c "$TMPD/A.conf" --key carol)
check "limits --key on A: B's lock ($out)" \
	grep -q '^lock-login carol messages=0 recipients=2 per=1h locked=' <<<"$out"
out=$("$BIN" limits -c "$TMPD/A.conf" --lift lock-login:carol)
check "limits --lift through A ($out)" [ "$out" = "lifted 1" ]
B -D phase=lifted

# (c) redis-server killed
kill -KILL "$RD_PID"
wait "$RD_PID" 2>/dev/null || true
timed "A, Redis gone" A -D phase=one -D who=dave -D n=4 -D want=continue
A -D phase=one -D who=dave -D n=1 -D want=tempfail
ok "A without Redis: counted in its memory, still limited (4, then 451)"
timed "B, Redis gone" B -D phase=one -D who=erin -D n=1 -D want=tempfail
check "B: the tempfail is the store's (4.3.0)" grep -qF \
	'rule=limit[shared] verdict=tempfail reply="451 4.3.0' "$TMPD/B.log"
check "A logs the outage" grep -qF 'does not answer' "$TMPD/A.log"
check "A: counting locally" grep -qF "counting in this daemon's memory" "$TMPD/A.log"
n=$(grep -c 'does not answer' "$TMPD/A.log")
check "the outage logged once (got $n)" [ "$n" -eq 1 ]
check "the fallbacks in the metrics" bash -c \
	"'$BIN' stats -c '$TMPD/A.conf' | grep -qE '^relaymilter_limit_store_fallbacks_total +[1-9]'"

# (e) redis-server back: both reconnect (after the breaker's second)
redis_start || bail "redis-server does not start again"
sleep 1.2
A -D phase=one -D who=frank -D n=1 -D want=continue
B -D phase=one -D who=frank -D n=1 -D want=continue
check "after a restart, both count in Redis again (frank: $(cr frank))" [ "$(cr frank)" = 2 ]
wait_log "$TMPD/A.log" "answers again" 20
check "A logs the return" grep -qF 'answers again' "$TMPD/A.log"

# (d) redis-server frozen
kill -STOP "$RD_PID"
timed "A, Redis frozen" A -D phase=one -D who=gina -D n=1 -D want=continue
timed "B, Redis frozen" B -D phase=one -D who=gina -D n=1 -D want=tempfail
kill -CONT "$RD_PID"
sleep 1.2
A -D phase=one -D who=hugo -D n=1 -D want=continue
B -D phase=one -D who=hugo -D n=1 -D want=continue
check "after SIGCONT, counting resumes in Redis (hugo: $(cr hugo))" [ "$(cr hugo)" = 2 ]
out=$("$BIN" limits -c "$TMPD/B.conf" --key hugo)
check "limits --key after the freeze ($out)" \
	grep -qx 'shared hugo messages=0 recipients=2 per=1h' <<<"$out"

check "A still running" alive "$PID_A"
check "B still running" alive "$PID_B"
stop_settled "relaymilter A" "$PID_A"
T_PIDS="$PID_B $RD_PID"
stop_check "relaymilter B" "$PID_B"
finish
