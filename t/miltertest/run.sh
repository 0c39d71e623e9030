#!/bin/bash
# run.sh RELAYMILTER_BIN - drive a running relaymilter with a real milter
# client: miltertest (OpenDKIM's Lua-scripted MTA simulator, Debian package
# "miltertest") runs every t/miltertest/*.lua against
#   RELAYMILTER_BIN -f -c t/miltertest/relaymilter.conf -p unix:TMP/sock
# then lib/rawclient.pl sends the 10 KiB arguments miltertest cannot.
# Prints "ok - ..." / "not ok - ..." lines; exit 1 on any failure, 77 (skip)
# when miltertest is not installed.
#
# miltertest can only tell SMFIR_CONTINUE from SMFIR_REPLYCODE; whether a
# reply is the 550 or the 451 one is checked in the daemon's decision log
# ("#expect-log" lines of lib/common.lua).
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: run.sh RELAYMILTER_BIN}
want_tools miltertest
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmt

SOCK=$TMPD/sock
SPEC=unix:$SOCK
LOG=$TMPD/log
rm_start "$LOG" -c "$HERE/relaymilter.conf" -p "$SPEC" ||
	bail "relaymilter starts on $SPEC"
ok "relaymilter starts on $SPEC"

for script in "$HERE"/*.lua; do
	run_lua "$script" "$LOG" "$SPEC"
	check "still running after $(basename "$script")" alive "$RM_PID"
done

# raw NAME WANT STEP...: WANT is the RCPT replies in order, e.g. "y550 c"
# (y + SMTP code for SMFIR_REPLYCODE, c for continue, EOF when the
# connection was closed); "any" accepts anything but a hang.
raw() {
	local name=$1 want=$2 out got
	shift 2
	out=$(perl "$MT_LIB/rawclient.pl" "$SOCK" "$@" 2>&1) || true
	got=$(awk '$1 == "rcpt:" { r = r sep $2 ($2 == "y" ? $3 : ""); sep = " " }
		   $1 == "TIMEOUT" { r = r sep "TIMEOUT"; sep = " " }
		   END { print r }' <<<"$out")
	if [ "$want" = any ] && [[ $got != *TIMEOUT* ]] && [ -n "$got" ]; then
		ok "$name (got: $got)"
	elif [ "$got" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name: want \"$want\", got \"$got\""
		sed 's/^/#   /' <<<"$out" | cut -c1-200
	fi
}
K=10240
raw "10 KiB HELO: remote rejected, local continues" "y550 c" \
	conn=203.0.113.9 "helo={h*$K}" "mail=<a@sender.test>" \
	"rcpt=<u@remote.test>" "rcpt=<u@example.com>" quit=
# (a local part over the limit of addr.h is judged by its domain)
raw "10 KiB RCPT local part: remote rejected, local continues" "y550 c" \
	conn=203.0.113.9 helo=c.test "mail=<a@sender.test>" \
	"rcpt=<{a*$K}@remote.test>" "rcpt=<{a*$K}@example.com>" quit=
raw "10 KiB RCPT domain below a local domain: rejected" "y550" \
	conn=203.0.113.9 helo=c.test "mail=<a@sender.test>" \
	"rcpt=<u@{b*$K}.example.com>" quit=
# (a sender's local part over the limit of addr.h is judged: a relay, 550)
raw "10 KiB MAIL FROM and client name: judged, the relay refused" "y550" \
	"conn=203.0.113.9/{n*$K}.test" helo=c.test "mail=<{s*$K}@sender.test>" \
	"rcpt=<u@remote.test>" quit=
raw "10 KiB 8-bit HELO and RCPT: answered 550" "y550 y550" \
	conn=203.0.113.9 "helo={\\xff*$K}" "mail=<a@sender.test>" \
	"rcpt=<{\\x80*$K}@remote.test>" "rcpt=<u@example.com{\\xe9*$K}>" quit=
# ({mail_addr} without a domain: the MTA resolved the sender to a local user)
raw "10 KiB macro values at every stage: a local {mail_addr}, spoof refused" "y553" \
	"macro=C:j=mx;_={x*$K};{daemon_name}={d*$K};{client_name}={c*$K}" \
	conn=203.0.113.9 helo=c.test \
	"macro=M:i={q*$K};{auth_type}={t*$K};{mail_addr}={m*$K}" "mail=<a@sender.test>" \
	"macro=R:{rcpt_addr}={r*$K};{rcpt_mailer}={x*$K}" "rcpt=<u@remote.test>" quit=
raw "10 KiB {auth_authen}: authenticated, continues" "c" \
	conn=203.0.113.9 helo=c.test "macro=M:{auth_authen}={u*$K}" \
	"mail=<a@sender.test>" "rcpt=<u@remote.test>" quit=
raw "no address, 10 KiB {client_addr} and {daemon_addr}: 451" "y451" \
	"macro=C:{client_addr}={1*$K};{daemon_addr}={2*$K}" conn=unspec/unknown \
	helo=c.test "mail=<a@sender.test>" "rcpt=<u@remote.test>" quit=
raw "RCPT of 1 MiB (beyond libmilter's packet limit): no hang" any \
	conn=203.0.113.9 helo=c.test "mail=<a@sender.test>" \
	"rcpt=<{a*1048576}@remote.test>" quit=
# a connection reused after QUIT_NC (at the end of a message) is a new
# session: nothing of the first one (its HELO, our name here) carries over
raw "QUIT_NC, then a new session without HELO: the old HELO is gone" "y550 c" \
	conn=203.0.113.9 helo=mx.example.com "mail=<a@sender.test>" \
	"rcpt=<u@example.com>" eom= quitnc= conn=203.0.113.9 \
	"mail=<a@sender.test>" "rcpt=<u@example.com>" quit=
raw "client leaves after MAIL without QUIT" "" \
	conn=203.0.113.9 helo=c.test "mail=<a@sender.test>"
check "still running after the raw client cases" alive "$RM_PID"
probe "$LOG" "$SPEC" "serving after the raw cases: untrusted remote rejected" \
	203.0.113.9 user@remote.test reject
probe "$LOG" "$SPEC" "serving after the raw cases: trusted remote continues" \
	192.0.2.5 user@remote.test continue

if grep -q ': error: ' "$LOG"; then
	not_ok "no error lines in the daemon log"
	grep ': error: ' "$LOG" | sed 's/^/#   /' | cut -c1-200
else
	ok "no error lines in the daemon log"
fi
# the first sessions all come from the "mx-in" listener, which names
# itself: that the submission profile matched none of them is no alarm
if grep -q 'listener profile' "$LOG"; then
	not_ok "listeners that name themselves: no profile warning"
	grep 'listener profile' "$LOG" | sed 's/^/#   /' | cut -c1-300
else
	ok "listeners that name themselves: no profile warning"
fi
kill -TERM "$RM_PID" || true
rc=0
wait "$RM_PID" || rc=$?
check "SIGTERM: exit status 0 (got $rc)" [ "$rc" -eq 0 ]
T_PIDS=""

# answer_data: over TCP the DATA step is taken and answered (auto), over a
# unix socket negotiated away; "yes" and "no" force it (data/answer-data.lua)
# data_run NAME WANT SOCKSPEC [SETTING]: one daemon, one script
data_run() {
	local name=$1 want=$2 spec=$3 setting=${4:-} conf=$TMPD/data-$1.conf log=$TMPD/data-$1.log
	{
		cat "$HERE/relaymilter.conf"
		echo "$setting"
	} >"$conf"
	if rm_start "$log" -c "$conf" -p "$spec"; then
		run_lua "$HERE/data/answer-data.lua" "$log" "$spec" -D data="$want"
		kill -TERM "$RM_PID" && wait "$RM_PID" || not_ok "$name: SIGTERM"
	else
		not_ok "$name: relaymilter starts on $spec"
	fi
	T_PIDS=""
}
data_run inet-auto yes "inet:$(free_port)@127.0.0.1"
data_run inet-no no "inet:$(free_port)@127.0.0.1" 'answer_data = "no";'
data_run unix-yes yes "unix:$TMPD/data.sock" 'answer_data = "yes";'

# header_from on: a daemon whose config asks for the headers
conf=$TMPD/hfrom.conf log=$TMPD/hfrom.log
{
	cat "$HERE/relaymilter.conf"
	echo 'sender_logins = { alice = [ "alice@example.com" ]; };'
	echo 'checks = { header_from = "reject"; };'
} >"$conf"
if rm_start "$log" -c "$conf" -p "unix:$TMPD/hfrom.sock"; then
	run_lua "$HERE/data/header-from.lua" "$log" "unix:$TMPD/hfrom.sock"
	check "header_from: the decision line names the From: address" \
		grep -q 'rule=header_from.*verdict=reject' "$log"
	check "header_from: the decision line names the author" \
		grep -q 'header_from=<bob@example.com> .*rule=header_from' "$log"
	kill -TERM "$RM_PID" && wait "$RM_PID" || not_ok "header_from: SIGTERM"
else
	not_ok "header_from: relaymilter starts"
fi
T_PIDS=""
finish
