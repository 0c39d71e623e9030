#!/bin/sh
# run.sh BUILD_DIR - the unit tests and "relaymilter check" under valgrind
# memcheck: any error or leak fails; then the daemon itself under memcheck
# while the miltertest suite drives it (sessions, replies, SIGTERM).
set -eu
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
vg="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible"
fail=0
for t in "$build"/t/test_*; do
	[ -x "$t" ] || continue
	if $vg "$t" >/dev/null; then
		echo "ok - valgrind $(basename "$t")"
	else
		echo "not ok - valgrind $(basename "$t")"
		fail=1
	fi
done
conf=$here/../golden/relaymilter.conf
set +e
$vg "$build"/milter/relaymilter check -c "$conf" --explain --client 203.0.113.9 \
	--auth alice --rcpt u@example.com --rcpt u@remote.test >/dev/null
rc=$?
set -e
if [ $rc -eq 0 ]; then
	echo "ok - valgrind relaymilter check"
else
	echo "not ok - valgrind relaymilter check (exit $rc)"
	fail=1
fi
# The daemon: any error, or a definite or indirect leak, makes valgrind
# exit 99, which the suite's "SIGTERM: exit status 0" check reports.
# "Possibly lost" is not counted here: libmilter never joins its listener
# and signal threads, whose thread-local blocks are still held at exit.
if command -v miltertest >/dev/null 2>&1; then
	if RM_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
		"$here/../miltertest/run.sh" "$build"/milter/relaymilter >"$build/valgrind-daemon.log" 2>&1; then
		echo "ok - valgrind relaymilter daemon under the miltertest suite"
	else
		echo "not ok - valgrind relaymilter daemon under the miltertest suite ($build/valgrind-daemon.log)"
		grep -E '^not ok|==[0-9]+==' "$build/valgrind-daemon.log" | head -20
		fail=1
	fi
else
	echo "ok - valgrind daemon: skipped (miltertest not installed)"
fi
exit $fail
