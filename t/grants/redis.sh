#!/bin/bash
# redis.sh RELAYMILTER_BIN - relay grants in Redis (store = "redis://"):
# two daemons share one redis-server of the test's own (a loopback port,
# no persistence), driven by miltertest (grants.lua):
#   a grant pushed to A lets the client relay through B; the key
#   "rm:g:ADDRESS" expires with the grant; "relaymilter grants" on B lists
#   it; a revoke through B ends it for A;
#   redis-server killed: a grant pushed to A is kept in A's memory (and
#   logged) and A lets the client relay; B (store_down = "tempfail")
#   tempfails the relay.
# 77 (skip) without redis-server, redis-cli or miltertest.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: redis.sh RELAYMILTER_BIN}
want_tools miltertest redis-server redis-cli
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmgr

RPORT=$(free_port)
redis_start || bail "redis-server does not start"
ok "redis-server on 127.0.0.1:$RPORT"
daemon() { redis_daemon "$1" "$2" "$HERE/relaymilter.conf" 200; }
A() { run_lua "$HERE/grants.lua" "$TMPD/A.log" "unix:$TMPD/A.sock" -D phase="$1"; }
B() { run_lua "$HERE/grants.lua" "$TMPD/B.log" "unix:$TMPD/B.sock" -D phase="$1"; }
daemon A local
daemon B tempfail
ok "two daemons share it"

B refused
out=$("$BIN" grant -c "$TMPD/A.conf" 203.0.113.9 --login bob --ttl 10m)
check "grant through A ($out)" grep -q '^granted 203.0.113.9 until ' <<<"$out"
B granted
check "B logs rule=relay_grant with A's grant" grep -qF \
	'rule=relay_grant[login=bob source=push until=' "$TMPD/B.log"
ttl=$(rcli TTL rm:g:203.0.113.9)
check "the key expires with the grant ($ttl s)" [ "$ttl" -gt 500 ] && [ "$ttl" -le 600 ]
check "the value: expiry, source, login" bash -c \
	"redis-cli -p $RPORT GET rm:g:203.0.113.9 | grep -qE '^[0-9]+ push bob\$'"
out=$("$BIN" grants -c "$TMPD/B.conf")
check "grants on B lists A's grant ($out)" grep -q '^203.0.113.9 login=bob source=push ' <<<"$out"
out=$("$BIN" grants -c "$TMPD/B.conf" --revoke 203.0.113.9)
check "revoke through B ($out)" [ "$out" = "revoked 1" ]
A refused

# redis-server gone: A keeps its grants in memory, B tempfails
kill -KILL "$RD_PID"
wait "$RD_PID" 2>/dev/null || true
out=$("$BIN" grant -c "$TMPD/A.conf" 203.0.113.9 --login carol)
check "grant through A without Redis ($out)" grep -q '^granted 203.0.113.9 ' <<<"$out"
check "A logs the grant kept in memory" grep -qF \
	"the grant of 203.0.113.9 is kept in this daemon's memory only" "$TMPD/A.log"
A granted
B unavailable
check "B without Redis (store_down = tempfail): the relay tempfails" \
	grep -qF 'rule=relay_grant_unavailable verdict=tempfail' "$TMPD/B.log"

check "A still running" alive "$PID_A"
check "B still running" alive "$PID_B"
stop_settled "relaymilter A" "$PID_A"
T_PIDS="$PID_B"
stop_check "relaymilter B" "$PID_B"
finish
