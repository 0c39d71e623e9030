#!/bin/bash
# run.sh RELAYMILTER_BIN RAWMILTER_BIN - hostile milter protocol input.
# Starts RELAYMILTER_BIN -f on t/miltertest/relaymilter.conf and a unix
# socket, then sends it, through rawmilter (t/hostile/rawmilter.c), what no
# MTA sends: garbage, an HTTP request, lengths 0 and 0xFFFFFFFF, truncated
# packets, unknown commands, commands out of order, malformed CONNECT,
# HELO and macro packets, arguments at and beyond libmilter's packet limit,
# 1000 recipients, 10 000 messages on one connection and 1000 connections
# dropped mid-negotiation.  After each case:
#   - the replies on the hostile connection are exactly the expected ones,
#     and none of them lets an untrusted relay through;
#   - a well-formed session held open on another connection still gets
#     550 for a relay from an untrusted client and continue for a local
#     domain;
#   - the daemon is alive.
# At the end: VmRSS after the 10 000 messages and the churn is within
# RSS_SLACK_KB of its value after a warm-up, the log has no crash, and
# SIGTERM exits 0.  Prints "ok - ..." / "not ok - ..."; exit 1 on any
# failure.
#
# Reply words (rawmilter): O negotiation, c continue, yNNN reply code,
# EOF: the connection was closed (rawmilter half-closes its side after the
# last step, so every case ends so, unless libmilter hung up earlier).
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: run.sh RELAYMILTER_BIN RAWMILTER_BIN}
RAW=${2:?usage: run.sh RELAYMILTER_BIN RAWMILTER_BIN}
CONF=$SRC/t/miltertest/relaymilter.conf
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmh

SOCK=$TMPD/sock
LOG=$TMPD/log
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by
# default) and every thread keeps an allocator cache, so VmRSS says little:
# no quarantine for the daemon, and a looser bound (LeakSanitizer checks for
# leaks at SIGTERM anyway).
RSS_SLACK_KB=${RSS_SLACK_KB:-2048}
if { ldd "$BIN" 2>/dev/null | grep -q libasan; } || grep -qa __asan_init "$BIN"; then
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
	RSS_SLACK_KB=8192
fi
rm_start "$LOG" -c "$CONF" -p "unix:$SOCK" || bail "relaymilter starts on unix:$SOCK"
ok "relaymilter starts on unix:$SOCK"

# hostile NAME WANT STEP...: the steps on one connection (see rawmilter.c)
# while a session from 203.0.113.9 waits between MAIL and RCPT on another
hostile() {
	local name=$1 want=$2 out got probe
	shift 2
	out=$("$RAW" "$SOCK" seq "$@" 2>&1) || true
	got=$(sed -n 's/^hostile: //p' <<<"$out")
	probe=$(sed -n 's/^probe: //p' <<<"$out")
	if [ "$got" = "$want" ]; then
		ok "$name: $got"
	else
		not_ok "$name: want \"$want\", got \"$got\""
		sed 's/^/#   /' <<<"$out" | cut -c1-200
	fi
	if [[ " $got " == *" a "* ]]; then
		not_ok "$name: an accept (a) on the hostile connection"
	fi
	check "$name: the other session still gets 550 for a relay, continue for a local domain (got $probe)" \
		[ "$probe" = "y550 c" ]
	check "$name: relaymilter still running" alive "$RM_PID"
}

# vmrss: the daemon's resident set in kB
vmrss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$RM_PID/status"; }

OPT=opt
C="conn=203.0.113.9"
H="helo=c.test"
M="mail=<a@sender.test>"
RR="rcpt=<u@remote.test>"
RL="rcpt=<u@example.com>"
Q="pkt=Q:"

# --- not the milter protocol at all ---------------------------------------
hostile "256 bytes of garbage" "EOF" garbage=256
hostile "an HTTP request" "EOF" 'raw=GET / HTTP/1.1\r\nHost: mx\r\n\r\n'
hostile "an SMTP greeting" "EOF" 'raw=220 mx.example.com ESMTP\r\n'
hostile "nothing, then close" "EOF"

# --- lengths ----------------------------------------------------------------
hostile "length 0xFFFFFFFF on OPTNEG" "EOF" 'len=0xffffffff:O\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff'
hostile "length 0 on OPTNEG" "EOF" 'len=0:O'
hostile "length 1 (command byte only) on OPTNEG" "EOF" 'len=1:O'
hostile "length 0x80000001 on RCPT" "O c EOF" $OPT $C $H "$M" 'len=0x80000001:R<u@remote.test>\0'
hostile "length 0xFFFFFFFF on RCPT" "O c EOF" $OPT $C $H "$M" 'len=0xffffffff:R<u@remote.test>\0'
hostile "length 0 on RCPT" "O c EOF" $OPT $C $H "$M" 'len=0:R<u@remote.test>\0'
hostile "length 0x7FFFFFFF on RCPT" "O c EOF" $OPT $C $H "$M" 'len=0x7fffffff:R<u@remote.test>\0'
# a length beyond the payload: libmilter waits for the rest, then EOF
hostile "length 1000 on a 20-byte RCPT" "O c EOF" $OPT $C $H "$M" 'len=1000:R<u@remote.test>\0'
# length 0 on a no-argument command reads as that command: the bytes that
# were its payload become the next packet (a smuggled RCPT)
hostile "length 0 on ABORT, a RCPT hidden after it: no sender, 451" "O c y451 EOF" $OPT $C $H "$M" \
	'len=0:A' "$RR" $Q

# --- truncated packets ------------------------------------------------------
hostile "header only (4 bytes), then close" "EOF" 'raw=\0\0\0\x0d'
hostile "OPTNEG header and half its payload, then close" "EOF" 'raw=\0\0\0\x0dO\0\0\0\x06\0\0'
hostile "RCPT header only, then close" "O c EOF" $OPT $C $H "$M" 'raw=\0\0\0\x20R'
hostile "RCPT with half its payload, then close" "O c EOF" $OPT $C $H "$M" 'raw=\0\0\0\x20R<u@rem'

# --- unknown commands -------------------------------------------------------
hostile "unknown command Z after OPTNEG" "O EOF" $OPT 'pkt=Z:hello\0' $C $H "$M" "$RR" $Q
hostile "command byte 0x00 after OPTNEG" "O EOF" $OPT 'pkt=\x00:x' $C $H "$M" "$RR" $Q
hostile "command byte 0xFF inside a message" "O c EOF" $OPT $C $H "$M" 'pkt=\xff:x' "$RR" $Q
# SMFIC_UNKNOWN is a real command (an SMTP verb the MTA did not know);
# libmilter lets a RCPT follow it without MAIL: relaymilter must decide
# without a sender
hostile "RCPT after an unknown SMTP verb, no MAIL: 451" "O c y451 y451 EOF" \
	$OPT $C $H 'pkt=U:VRFY x\0' "$RR" "$RL" $Q
hostile "content commands after a refused RCPT: no accept" "O c y550 c c c c c EOF" \
	$OPT $C $H "$M" "$RR" 'pkt=T:' 'pkt=L:Subject\0x\0' 'pkt=N:' 'pkt=B:body' 'pkt=E:' $Q

# --- every command before OPTNEG --------------------------------------------
# libmilter ignores a command it cannot reach from HELO, and its state is
# HELO from then on: the OPTNEG and CONNECT that follow are out of order and
# ignored, HELO, MAIL and UNKNOWN run; a MAIL without a session tempfails
for c in A B C E H K L N R T; do
	hostile "$c before OPTNEG: no session, 451" "y451 EOF" "pkt=$c:x\0" $OPT $C $H "$M" "$RR" $Q
done
hostile "Q before OPTNEG: closed" "EOF" "pkt=Q:" $OPT $C $H "$M" "$RR" $Q
hostile "D before OPTNEG: kept, the session goes on" "O c y550 EOF" "pkt=D:Cj\0mx\0" $OPT $C $H "$M" "$RR" $Q
hostile "M before OPTNEG: 451" "y451 y451 EOF" "$M" $OPT $C $H "$M" "$RR" $Q
hostile "U before OPTNEG" "c y451 EOF" "pkt=U:x\0" $OPT $C $H "$M" "$RR" $Q
hostile "O twice: CONNECT then ignored, 451" "O y451 EOF" $OPT $OPT $C $H "$M" "$RR" $Q

# --- commands out of order ----------------------------------------------------
hostile "RCPT before MAIL: ignored by libmilter" "O EOF" $OPT $C $H "$RR" "$RL" $Q
hostile "MAIL before CONNECT: 451, RCPT ignored" "O y451 EOF" $OPT "$M" "$RR" $Q
hostile "MAIL and RCPT with no CONNECT, after UNKNOWN: 451" "O c y451 EOF" \
	$OPT 'pkt=U:x\0' "$RR" $Q
hostile "CONNECT twice: the second is ignored" "O c y550 EOF" \
	$OPT $C "conn=192.0.2.5" $H "$M" "$RR" $Q
hostile "QUIT_NC inside a message, a trusted CONNECT: ignored, still 550" "O c y550 c y550 EOF" \
	$OPT $C $H "$M" "$RR" 'pkt=K:' "conn=192.0.2.5" $H "$M" "$RR" $Q
hostile "QUIT_NC after end of message, a trusted CONNECT: a new session" "O c y550 c c c EOF" \
	$OPT $C $H "$M" "$RR" 'pkt=E:' 'pkt=K:' "conn=192.0.2.5" $H "$M" "$RR" $Q
hostile "MAIL twice, RCPT" "O c c y550 EOF" \
	$OPT $C $H "$M" "mail=<b@sender.test>" "$RR" $Q
hostile "ABORT, then RCPT without MAIL: no sender, 451" "O c y451 EOF" $OPT $C $H "$M" 'pkt=A:' "$RR" $Q
hostile "QUIT, then a whole session: ignored" "O EOF" $OPT $C $H $Q $C $H "$M" "$RR"

# --- malformed arguments ------------------------------------------------------
hostile "HELO without NUL: dropped by libmilter, HELO unset" "O c y550 EOF" \
	$OPT $C 'pkt=H:mx.example.com' "$M" "$RR" $Q
hostile "MAIL without NUL: connection closed" "O EOF" $OPT $C $H 'pkt=M:<a@sender.test>' "$RR" $Q
hostile "RCPT without NUL: connection closed" "O c EOF" $OPT $C $H "$M" 'pkt=R:<u@remote.test>' $Q
hostile "RCPT with an empty payload: connection closed" "O c EOF" $OPT $C $H "$M" 'pkt=R:' $Q
hostile "RCPT of a lone NUL" "O c y550 EOF" $OPT $C $H "$M" 'pkt=R:\0' $Q
hostile "RCPT with NULs inside (local domain first)" "O c y550 EOF" \
	$OPT $C $H "$M" 'pkt=R:<u@example.com\0>@remote.test\0' $Q
hostile "RCPT with NUL before the domain" "O c y550 EOF" \
	$OPT $C $H "$M" 'pkt=R:<u\0@example.com>\0' $Q
hostile "CONNECT without any NUL: closed" "O EOF" $OPT 'pkt=C:client.test' $H "$M" "$RR" $Q
hostile "CONNECT with the address unterminated: closed" "O EOF" \
	$OPT 'pkt=C:c.test\04\x09\xdd192.0.2.5' $H "$M" "$RR" $Q
hostile "CONNECT with a bad IPv4 address: closed" "O EOF" \
	$OPT 'pkt=C:c.test\04\x09\xdd192.0.2.500\0' $H "$M" "$RR" $Q
hostile "CONNECT with an unknown family: closed" "O EOF" \
	$OPT 'pkt=C:c.test\0X\x09\xdd192.0.2.5\0' $H "$M" "$RR" $Q
hostile "CONNECT with family but no port: closed" "O EOF" $OPT 'pkt=C:c.test\04' $H "$M" "$RR" $Q
hostile "CONNECT from a unix socket path: client unknown, 451" "O c y451 EOF" \
	$OPT 'pkt=C:c.test\0L\0\0/tmp/trusted\0' $H "$M" "$RR" $Q
hostile "CONNECT with no address and a trusted {client_addr}: 451" "O c y451 EOF" \
	$OPT 'pkt=D:C{client_addr}\0192.0.2.5\0' conn=unspec $H "$M" "$RR" $Q
hostile "macros for an unknown stage" "O c y550 EOF" \
	$OPT 'pkt=D:Z{auth_authen}\0bob\0' $C $H "$M" "$RR" $Q
hostile "macros packet with only the stage byte" "O c y550 EOF" $OPT 'pkt=D:M' $C $H "$M" "$RR" $Q
hostile "macros packet with no payload: closed" "O EOF" $OPT 'pkt=D:' $C $H "$M" "$RR" $Q
hostile "{auth_authen} with an empty value" "O c y550 EOF" \
	$OPT $C $H 'pkt=D:M{auth_authen}\0\0' "$M" "$RR" $Q

# --- size -----------------------------------------------------------------------
# libmilter's limit is MILTER_MAX_DATA_SIZE, 65535 bytes of data after the
# command byte; beyond it the connection is dropped.  Offering the 1 MiB
# option (SMFIP_MDS_1M) does not raise it for this milter.
K64=65534
hostile "64 KiB HELO (the largest packet): 550" "O c y550 EOF" \
	$OPT $C "helo={h*$K64}" "$M" "$RR" $Q
hostile "64 KiB RCPT at a local domain (the largest packet): judged, continues" "O c c EOF" \
	$OPT $C $H "$M" "rcpt=<{a*$((K64 - 14))}@example.com>" $Q
hostile "64 KiB MAIL: judged at RCPT, the relay refused" "O c y550 EOF" $OPT $C $H "mail=<{a*$((K64 - 15))}@sender.test>" "$RR" $Q
hostile "64 KiB macro value" "O c y550 EOF" \
	$OPT "pkt=D:C{daemon_name}\\0{d*$((K64 - 15))}\\0" $C $H "$M" "$RR" $Q
hostile "RCPT one byte over the limit: closed" "O c EOF" \
	$OPT $C $H "$M" "rcpt=<{a*$((K64 - 13))}@example.com>" $Q
hostile "1 MiB RCPT after offering SMFIP_MDS_1M: closed" "O c EOF" \
	opt=6,0x1ff,0x201fffff $C $H "$M" "rcpt=<{a*1048576}@remote.test>" $Q

# --- volume -----------------------------------------------------------------------
out=$("$RAW" "$SOCK" rcpts 1000 2>&1) && rc=0 || rc=$?
check "1000 RCPTs in one message: each answered, relays 550 ($out)" [ $rc -eq 0 ]
check "1000 RCPTs: relaymilter still running" alive "$RM_PID"

# warm-up: the same kinds of load as below, smaller, so that the allocator's
# arenas and libmilter's thread stacks exist before the first measurement
"$RAW" "$SOCK" loop 500 >/dev/null 2>&1 || true
"$RAW" "$SOCK" churn 100 >/dev/null 2>&1 || true
rss0=$(vmrss)
out=$("$RAW" "$SOCK" loop 10000 2>&1) && rc=0 || rc=$?
check "10000 messages on one connection: every relay 550 ($out)" [ $rc -eq 0 ]
check "10000 messages: relaymilter still running" alive "$RM_PID"
out=$("$RAW" "$SOCK" churn 1000 2>&1) && rc=0 || rc=$?
check "1000 connections dropped mid-negotiation ($out)" [ $rc -eq 0 ]
check "churn: relaymilter still running" alive "$RM_PID"
hostile "after the churn" "O c y550 EOF" $OPT $C $H "$M" "$RR" $Q
rss1=$(vmrss)
# relaymilter keeps nothing per message or per closed connection; what may
# grow is allocator slack and a few pages of libmilter thread stacks, far
# below 2 MB, while a leak of a session or of libmilter's per-packet
# buffers over 10 000 messages and 1000 connections would exceed it
echo "# VmRSS after warm-up: $rss0 kB; after 10000 messages and 1000 connections: $rss1 kB"
check "VmRSS stays within +$RSS_SLACK_KB kB ($rss0 -> $rss1 kB)" \
	[ "$rss1" -le $((rss0 + RSS_SLACK_KB)) ]

# --- a last look ----------------------------------------------------------------
probe_out=$("$RAW" "$SOCK" seq $OPT "conn=192.0.2.5" $H "$M" "$RR" "$RL" $Q 2>&1)
check "a trusted client still relays (continue)" grep -qx 'hostile: O c c c EOF' <<<"$probe_out"
if grep -qiE 'AddressSanitizer|runtime error|segfault|abort|assert' "$LOG"; then
	not_ok "no crash or sanitizer report in the daemon log"
	grep -iE 'AddressSanitizer|runtime error|segfault|abort|assert' "$LOG" | head -5 | sed 's/^/#   /'
else
	ok "no crash or sanitizer report in the daemon log"
fi
check "the log names commands that came before CONNECT" \
	grep -q 'without a CONNECT' "$LOG"
check "the log names connections closed before CONNECT" \
	grep -q 'closed before CONNECT' "$LOG"
stop_check "hostile input" "$RM_PID"

# --- macro packets with an odd number of strings --------------------------
# libmilter's smfi_getsymval() walks a stage's macros two strings at a time
# and, when a packet held an odd number, reads one pointer past the end of
# its array (valgrind: "Invalid read of size 8 ... 0 bytes after a block",
# in smfi_getsymval): whether the daemon survives depends on what the heap
# held there (contrib/libmilter: the reproduction, the patch and why).
# relaymilter cannot check the packets libmilter parses; who may connect is
# decided by the socket (t/daemon/socket.sh).  So this asserts what it can promise: nothing it answers lets the relay
# through, and a dead daemon is counted and reported (the MTA's
# milter_default_action = tempfail / F=T covers the gap).  A fresh daemon
# for each case.
ODD_CASES=(
	'pkt=D:Cj\0mx\0{daemon_name}\0'
	'pkt=D:C{client_addr}\0'
	'pkt=D:Cj'
	'pkt=D:M{auth_authen}\0bob'
	'pkt=D:R{x}\0{auth_authen}\0bob\0'
)
odd_died=0
for i in "${!ODD_CASES[@]}"; do
	odd=${ODD_CASES[$i]}
	# a log and a socket of its own: the last daemon may still be dying
	olog=$TMPD/odd.$i.log
	osock=$TMPD/odd.$i.sock
	if ! rm_start "$olog" -c "$CONF" -p "unix:$osock"; then
		not_ok "odd macros $i: relaymilter starts"
		continue
	fi
	out=$("$RAW" "$osock" seq $OPT $C $H "$odd" "$M" "$RR" $Q 2>&1)
	got=$(sed -n 's/^hostile: //p' <<<"$out")
	case $got in
	"O c y550 EOF" | "O c EOF" | "O EOF") ok "odd macros \"$odd\": no continue for the relay ($got)" ;;
	*)
		not_ok "odd macros \"$odd\": want 550 or a closed connection, got \"$got\""
		sed 's/^/#   rawmilter: /' <<<"$out" | cut -c1-200
		grep -v '^ *#[0-9]' "$olog" | head -20 | sed 's/^/#   log: /' | cut -c1-200
		;;
	esac
	if alive "$RM_PID"; then
		kill_all
	else
		odd_died=$((odd_died + 1))
		T_PIDS=""
	fi
done
echo "# libmilter over-read on odd macro packets: the daemon died in $odd_died of ${#ODD_CASES[@]} cases"
finish
