# shellcheck shell=bash
# t/lib/tap.sh - what every test script starts with.  Sourced first, as
#   . "$(dirname "$0")/../lib/tap.sh"
# it sets strict mode (set -eu), reads stdin from /dev/null, adds the sbin
# directories to PATH and sets
#   HERE   the directory of the script
#   SRC    the source tree
#   T_LIB  this directory (the other libraries: daemon.sh, e2e.sh)
#
# Results, one line each, counted in T_PASS and T_FAIL:
#   ok NAME               "ok - NAME"
#   not_ok NAME [WHY]     "not ok - NAME (WHY)"
#   check NAME CMD...     ok when CMD succeeds, else not_ok
#   skip NAME WHY         "ok - NAME # SKIP WHY"
#   bail NAME [WHY]       not_ok, then finish: nothing can follow
#   finish [TEXT]         "# N passed, N failed[, TEXT]"; exits 0 when
#                         something passed and nothing failed, else 1
# The prologue:
#   t_abs PATH            PATH made absolute (the namespace tests re-run
#                         themselves, the package test changes directory)
#   skip_all WHY          "# SKIP: WHY", exit 77 (SKIP_RETURN_CODE in
#                         t/CMakeLists.txt)
#   need_root WHY         skip_all unless root
#   need_tools TOOL...    bail unless every TOOL is there
#   want_tools TOOL...    skip_all unless every TOOL is there
set -eu
exec </dev/null
PATH=$PATH:/usr/sbin:/sbin
T_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # for the sourcing script
SRC=$(cd "$T_LIB/../.." && pwd)
# shellcheck disable=SC2034
HERE=$(cd "$(dirname "$0")" && pwd)
T_PASS=0
T_FAIL=0

ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok - $1"
}
not_ok() {
	T_FAIL=$((T_FAIL + 1))
	echo "not ok - $1${2:+ ($2)}"
}
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}
skip() { ok "$1 # SKIP $2"; }
# eventually TENTHS CMD...: CMD succeeds within TENTHS tenths of a second
# (for what another process writes after the reply a test has seen)
eventually() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
bail() {
	not_ok "$@"
	# shellcheck disable=SC2119 # no TEXT
	finish
}
# shellcheck disable=SC2120 # TEXT is optional
finish() {
	echo "# $T_PASS passed, $T_FAIL failed${1:+, $1}"
	[ "$T_FAIL" -eq 0 ] && [ "$T_PASS" -gt 0 ] && exit 0
	exit 1
}

t_abs() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}
skip_all() {
	echo "# SKIP: $1"
	exit 77
}
need_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root ($1)"
}
need_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			bail "prerequisites" "$tool missing: contrib/install-deps test"
	done
}
want_tools() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			skip_all "$tool is not installed (contrib/install-deps test)"
	done
}
