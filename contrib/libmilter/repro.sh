#!/bin/bash
# repro.sh [SENDMAIL_SRC] - libmilter's over-read on a macro packet with an
# odd number of strings (README here), shown with oddmacro.c:
#   1. oddmacro against the system's libmilter: the filter dies (SIGSEGV);
#   2. the same under valgrind, when installed: "Invalid read of size 8"
#      in smfi_getsymval;
#   3. with SENDMAIL_SRC, a sendmail 8.17.1 source tree ("apt-get source
#      sendmail"): libmilter built from it as it is (the filter dies) and
#      with oddmacro.patch applied (the filter answers, valgrind is quiet).
# Needs cc and libmilter-dev.  Exit 0 when every step showed what is said
# above, 1 otherwise.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SMSRC=${1:-}
W=$(mktemp -d "${TMPDIR:-/tmp}/oddmacro.XXXXXX")
FILTER_PID=
cleanup() {
	[ -n "$FILTER_PID" ] && kill "$FILTER_PID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
fails=0
say() { printf '%s\n' "$*"; }
bad() {
	say "UNEXPECTED: $*"
	fails=$((fails + 1))
}
CC=${CC:-cc}
CFLAGS="-std=c11 -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra"

# run NAME BIN [WRAPPER...]: the filter (under WRAPPER), one client, the
# filter's fate in $W/NAME.status ("died: signal N" or "alive")
run() {
	local name=$1 bin=$2 sock=$W/$1.sock i
	shift 2
	"$@" "$bin" filter "$sock" 2>"$W/$name.err" &
	FILTER_PID=$!
	for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	"$bin" client "$sock" >"$W/$name.out" 2>&1
	sleep 0.5
	if kill -0 "$FILTER_PID" 2>/dev/null; then
		echo alive >"$W/$name.status"
		kill "$FILTER_PID"
		wait "$FILTER_PID" 2>/dev/null
	else
		wait "$FILTER_PID"
		i=$?
		echo "died: $([ $i -gt 128 ] && echo "signal $((i - 128))" || echo "exit $i")" >"$W/$name.status"
	fi
	FILTER_PID=
	say "--- $name: client: $(cat "$W/$name.out"); filter: $(cat "$W/$name.status")"
	sed -n 's/^/    /p' "$W/$name.err" | head -"${SHOW:-4}"
}

say "== 1. the system's libmilter ($(dpkg-query -W -f='${Version}' libmilter1.0.1 2>/dev/null || echo '?'))"
# shellcheck disable=SC2086
$CC $CFLAGS -o "$W/odd" "$HERE/oddmacro.c" -lmilter -pthread || exit 1
run system "$W/odd"
grep -q '^died' "$W/system.status" || bad "the filter survived the odd packet"

if command -v valgrind >/dev/null; then
	say "== 2. under valgrind"
	SHOW=12 run valgrind "$W/odd" valgrind -q
	if ! grep -A1 'Invalid read of size 8' "$W/valgrind.err" | grep -q smfi_getsymval; then
		bad "valgrind did not report the read in smfi_getsymval"
	fi
else
	say "== 2. skipped: valgrind is not installed"
fi

# libmilter LABEL SRC: build libmilter's sources in SRC into $W/LABEL.a
libmilter() {
	local label=$1 src=$2 d=$W/$1 f
	mkdir -p "$d"
	cp "$src/include/sm/os/sm_os_linux.h" "$d/sm_os.h"
	for f in main engine listener worker handler comm smfi signal sm_gethost monitor \
		../libsm/errstring ../libsm/strl; do
		$CC -c -g -O1 -w -pthread -DNOT_SENDMAIL -Dsm_snprintf=snprintf -I"$d" \
			-I"$src/sendmail" -I"$src/include" "$src/libmilter/$f.c" \
			-o "$d/$(basename "$f").o" || return 1
	done
	ar rcs "$W/$label.a" "$d"/*.o
}

if [ -n "$SMSRC" ]; then
	[ -f "$SMSRC/libmilter/smfi.c" ] || { say "$SMSRC: no libmilter/smfi.c"; exit 1; }
	say "== 3. libmilter built from $SMSRC"
	cp -r "$SMSRC" "$W/src-fixed"
	patch -s -p1 -d "$W/src-fixed" <"$HERE/oddmacro.patch" || exit 1
	libmilter asis "$SMSRC" && libmilter fixed "$W/src-fixed" || exit 1
	for v in asis fixed; do
		# shellcheck disable=SC2086
		$CC $CFLAGS -I"$SMSRC/include" -o "$W/odd-$v" "$HERE/oddmacro.c" \
			"$W/$v.a" -pthread || exit 1
	done
	run source-as-is "$W/odd-asis"
	grep -q '^died' "$W/source-as-is.status" || bad "the unpatched build survived"
	run source-patched "$W/odd-fixed"
	if ! grep -q '^alive' "$W/source-patched.status" ||
		! grep -q 'continue' "$W/source-patched.out"; then
		bad "the patched build failed"
	fi
	if command -v valgrind >/dev/null; then
		run source-patched-valgrind "$W/odd-fixed" valgrind -q --error-exitcode=99
		grep -q 'Invalid' "$W/source-patched-valgrind.err" &&
			bad "valgrind reports on the patched build"
	fi
else
	say "== 3. skipped: no sendmail source tree given (repro.sh SENDMAIL_SRC)"
fi
say "== $([ $fails -eq 0 ] && echo "reproduced as described" || echo "$fails unexpected result(s)")"
[ $fails -eq 0 ]
