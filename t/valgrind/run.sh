#!/bin/bash
# run.sh BUILD_DIR - the unit tests and "relaymilter check" under valgrind
# memcheck: any error or leak fails; then the daemon itself under memcheck
# while the miltertest suite drives it (sessions, replies, SIGTERM).
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
build=${1:?usage: run.sh BUILD_DIR}
vg="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
for t in "$build"/t/test_*; do
	[ -x "$t" ] || continue
	# shellcheck disable=SC2086 # vg is a command line
	if $vg "$t" >/dev/null; then
		ok "valgrind $(basename "$t")"
	else
		not_ok "valgrind $(basename "$t")"
	fi
done
conf=$SRC/t/golden/relaymilter.conf
rc=0
$vg "$build"/milter/relaymilter check -c "$conf" --explain --client 203.0.113.9 \
	--auth alice --rcpt u@example.com --rcpt u@remote.test >/dev/null || rc=$?
if [ $rc -eq 0 ]; then
	ok "valgrind relaymilter check"
else
	not_ok "valgrind relaymilter check" "exit $rc"
fi
# The daemon: any error, or a definite or indirect leak, makes valgrind
# exit 99, which the suite's "SIGTERM: exit status 0" check reports.
# "Possibly lost" is not counted here: libmilter never joins its listener
# and signal threads, whose thread-local blocks are still held at exit.
if command -v miltertest >/dev/null 2>&1; then
	if RM_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
		"$SRC/t/miltertest/run.sh" "$build"/milter/relaymilter >"$build/valgrind-daemon.log" 2>&1; then
		ok "valgrind relaymilter daemon under the miltertest suite"
	else
		not_ok "valgrind relaymilter daemon under the miltertest suite" "$build/valgrind-daemon.log"
		grep -E '^not ok|==[0-9]+==' "$build/valgrind-daemon.log" | head -20
	fi
else
	skip "valgrind daemon" "miltertest not installed"
fi
finish
