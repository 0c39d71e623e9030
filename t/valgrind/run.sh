#!/bin/sh
# run.sh BUILD_DIR - the unit tests and "relaymilter check" under valgrind
# memcheck: any error or leak fails.
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
exit $fail
