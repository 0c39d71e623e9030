#!/bin/bash
# run.sh BUILD_DIR CMAKE SBINDIR MANDIR DATADIR SYSCONFDIR UNITDIR (the
# build's absolute install directories) - "cmake --install" into a scratch
# DESTDIR: the binary in sbin, the man pages in man8/man5, the sample config in
# SYSCONFDIR/relaymilter, the LDAP schema and example in DATADIR/relaymilter,
# the systemd unit with its paths rewritten for the prefix; the installed
# binary's default config is the installed one, and the installed sample
# config is valid.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
[ $# -eq 7 ] || { echo "usage: run.sh BUILD_DIR CMAKE SBINDIR MANDIR DATADIR SYSCONFDIR UNITDIR" >&2; exit 2; }
BUILD=$1 CMAKE=$2 SBIN=$3 MAN=$4 DATA=$5 ETC=$6 UNITDIR=$7
# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmi
D=$TMPD/dest
rc=0
DESTDIR=$D "$CMAKE" --install "$BUILD" >"$TMPD/install.log" 2>&1 || rc=$?
check "cmake --install into DESTDIR: exit 0 (got $rc)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/#   /' "$TMPD/install.log"
BIN=$D$SBIN/relaymilter
for f in "$SBIN/relaymilter" "$MAN/man8/relaymilter.8.gz" \
	"$MAN/man5/relaymilter.conf.5.gz" "$ETC/relaymilter/relaymilter.conf" \
	"$DATA/relaymilter/relaymilter.schema" "$DATA/relaymilter/relaymilter.ldif" \
	"$DATA/relaymilter/example.ldif" "$UNITDIR/relaymilter.service"; do
	check "installed: $f" test -f "$D$f"
done
check "the binary is executable" test -x "$BIN"
out=$("$BIN" -h 2>&1) || true
check "the binary's default config is $ETC/relaymilter/relaymilter.conf" \
	grep -qF "default $ETC/relaymilter/relaymilter.conf)" <<<"$out"
out=$("$BIN" -n -c "$D$ETC/relaymilter/relaymilter.conf" 2>&1) || true
check "the installed minimal config is valid, and names what to set ($out)" \
	eval '[[ $out == *"$D$ETC/relaymilter/relaymilter.conf: OK"* &&
		$out == *"set local_domains"* ]]'
check "the annotated sample is in the documentation" \
	test -f "$D$DATA/doc/relaymilter/examples/relaymilter.conf"
U=$D$UNITDIR/relaymilter.service
check "unit: ExecStart runs $SBIN/relaymilter on $ETC/relaymilter/relaymilter.conf" \
	grep -qx "ExecStart=$SBIN/relaymilter -f -c $ETC/relaymilter/relaymilter.conf" "$U"
check "unit: ExecStartPre checks the same config with -n" \
	grep -qx "ExecStartPre=$SBIN/relaymilter -n -c $ETC/relaymilter/relaymilter.conf" "$U"
finish
