#!/bin/bash
# run.sh SOURCE_DIR [CMAKE [CPACK]] - the Debian package, end to end, on
# this machine: configure SOURCE_DIR with -DCMAKE_INSTALL_PREFIX=/usr in a
# scratch directory, build, "cpack -G DEB", check the package's metadata,
# "dpkg -i" it, check what landed (binary, man pages, config, LDAP schema,
# unit, system user), verify the unit with systemd-analyze when present,
# run the INSTALLED daemon on the INSTALLED sample config as
#   /usr/sbin/relaymilter -f -c /etc/relaymilter/relaymilter.conf -u relaymilter
# ask it two decisions with miltertest and the check CLI, stop it with
# SIGTERM, then "dpkg --purge" and check that nothing is left.  The daemon
# listens on the default socket, which the postinst makes room for when
# Postfix is installed: /var/spool/postfix/relaymilter (relaymilter:postfix,
# 2750), the socket 0660 in group postfix; without Postfix that part is
# skipped.  Inside a private network namespace when unshare allows.  Root
# only; 77 (skip) when not root, when a tool is missing, or when relaymilter
# (package, user, group, /etc/relaymilter or the socket's directory) is
# already on the machine: the test leaves the machine as it found it.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
SRC=${1:?usage: run.sh SOURCE_DIR [CMAKE [CPACK]]}
CMAKE=${2:-cmake}
CPACK=${3:-cpack}
SRC=$(cd "$SRC" && pwd)
need_root "dpkg -i"
want_tools dpkg dpkg-deb dpkg-shlibdeps objdump miltertest "$CMAKE" "$CPACK"
if dpkg-query -W -f='${Status}' relaymilter 2>/dev/null | grep -q installed; then
	skip_all "the relaymilter package is already installed"
fi
if getent passwd relaymilter >/dev/null || getent group relaymilter >/dev/null ||
	[ -e /etc/relaymilter ] || [ -e /var/lib/relaymilter ] ||
	[ -e /var/spool/postfix/relaymilter ]; then
	skip_all "a relaymilter user, group or directory exists already"
fi
# the daemon's port: a private network namespace, else a free host port
if [ -z "${RM_PKG_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	export RM_PKG_NETNS=1
	exec unshare -n -- "$0" "$SRC" "$CMAKE" "$CPACK" </dev/null
fi
if [ -n "${RM_PKG_NETNS:-}" ]; then
	ip link set lo up
fi

# shellcheck source-path=SCRIPTDIR source=../lib/daemon.sh
. "$T_LIB/daemon.sh"
t_begin rmp
INSTALLED=
pkg_cleanup() {
	kill_all
	if [ -n "$INSTALLED" ]; then
		dpkg --purge relaymilter >/dev/null 2>&1 || true
	fi
	rm -rf "$TMPD"
}
trap pkg_cleanup EXIT

# --- build the package -------------------------------------------------------
B=$TMPD/build
if "$CMAKE" -S "$SRC" -B "$B" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DBUILD_TESTING=OFF >"$TMPD/build.log" 2>&1 &&
	"$CMAKE" --build "$B" -j "$(nproc 2>/dev/null || echo 2)" >>"$TMPD/build.log" 2>&1 &&
	(cd "$B" && "$CPACK" -G DEB) >>"$TMPD/build.log" 2>&1; then
	ok "configure (prefix /usr), build, cpack -G DEB"
else
	not_ok "configure, build, cpack -G DEB; log:"
	tail -30 "$TMPD/build.log" | sed 's/^/#   /'
	finish
fi
DEB=$(ls "$B"/relaymilter_*.deb 2>/dev/null | head -1)
check "one .deb produced (${DEB##*/})" test -f "$DEB"
[ -f "$DEB" ] || finish
field() { dpkg-deb -f "$DEB" "$1"; }
check "Package: relaymilter, Section: mail ($(field Package), $(field Section))" \
	eval '[ "$(field Package)" = relaymilter ] && [ "$(field Section)" = mail ]'
DEPS=$(field Depends)
for p in libc6 libmilter1.0.1 libconfig9 libldap-2.5-0 libhiredis0.14 adduser; do
	check "Depends names $p ($DEPS)" eval 'tr "," "\n" <<<"$DEPS" | grep -qE "^ *$p( |\$)"'
done
# every shared library the binary needs (DT_NEEDED) comes from a package
# in Depends
missing=
needed=$(objdump -p "$B/milter/relaymilter" | awk '$1 == "NEEDED" { print $2 }')
while read -r lib; do
	owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true)
	owner=${owner%%:*}
	[ -n "$owner" ] && ! tr ',' '\n' <<<"$DEPS" | grep -qE "^ *$owner( |\$)" &&
		missing="$missing $owner($lib)"
done < <(ldd "$B/milter/relaymilter" |
	awk -v n="$needed" 'BEGIN { split(n, a, "\n"); for (i in a) want[a[i]] = 1 }
		$1 in want && $3 ~ /^\// { print $3 }')
check "each of the $(wc -w <<<"$needed") libraries the binary needs is covered by Depends (missing:${missing:- none})" \
	eval '[ -z "$missing" ] && [ -n "$needed" ]'
# Debian's own checks: no error, no warning
if command -v lintian >/dev/null; then
	lintian --tag-display-limit 0 "$DEB" >"$TMPD/lintian.out" 2>&1 || true
	check "lintian: no error, no warning" \
		eval '! grep -qE "^[EW]: " "$TMPD/lintian.out"'
	grep -E "^[EW]: " "$TMPD/lintian.out" | sed 's/^/#   /'
else
	not_ok "lintian" "not installed: contrib/install-deps test"
fi
# built hardened: PIE, RELRO and BIND_NOW, stack protector, FORTIFY_SOURCE
dpkg-deb -x "$DEB" "$TMPD/x"
bin=$TMPD/x/usr/sbin/relaymilter
check "hardened: PIE" eval 'readelf -h "$bin" | grep -q "DYN (Position-Independent"'
check "hardened: RELRO and BIND_NOW" \
	eval 'readelf -lW "$bin" | grep -q GNU_RELRO && readelf -d "$bin" | grep -q BIND_NOW'
check "hardened: stack protector and FORTIFY_SOURCE" \
	eval 'readelf --dyn-syms -W "$bin" | grep -q __stack_chk_fail &&
		readelf --dyn-syms -W "$bin" | grep -q "_chk@"'
check "stripped, man pages and changelog compressed, copyright" \
	eval '! readelf -S "$bin" | grep -q "\.symtab" &&
		[ -f "$TMPD/x/usr/share/man/man8/relaymilter.8.gz" ] &&
		[ -f "$TMPD/x/usr/share/doc/relaymilter/changelog.gz" ] &&
		[ -f "$TMPD/x/usr/share/doc/relaymilter/copyright" ] &&
		[ -f "$TMPD/x/usr/share/doc/relaymilter/sendmail/authority.mc" ]'
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles >"$TMPD/conffiles" 2>/dev/null || true
check "conffiles: /etc/relaymilter/relaymilter.conf" \
	grep -qx /etc/relaymilter/relaymilter.conf "$TMPD/conffiles"

# --- install -----------------------------------------------------------------
INSTALLED=1
rc=0
dpkg -i "$DEB" >"$TMPD/dpkg-i.log" 2>&1 || rc=$?
check "dpkg -i: exit 0 (got $rc)" [ $rc -eq 0 ]
check "postinst names the next step" \
	eval 'grep -q "edit /etc/relaymilter/relaymilter.conf" "$TMPD/dpkg-i.log" &&
		grep -q "systemctl enable --now relaymilter.service" "$TMPD/dpkg-i.log"'
[ $rc -eq 0 ] || sed 's/^/#   /' "$TMPD/dpkg-i.log"
check "dpkg: relaymilter is installed" \
	eval 'dpkg-query -W -f="\${Status}" relaymilter | grep -q "ok installed"'
for f in /usr/sbin/relaymilter /usr/share/man/man8/relaymilter.8.gz \
	/usr/share/man/man5/relaymilter.conf.5.gz /etc/relaymilter/relaymilter.conf \
	/usr/lib/systemd/system/relaymilter.service /usr/share/relaymilter/relaymilter.schema \
	/usr/share/relaymilter/relaymilter.ldif /usr/share/relaymilter/example.ldif; do
	check "installed: $f" test -f "$f"
done
check "/usr/sbin/relaymilter is executable" test -x /usr/sbin/relaymilter
check "system user relaymilter (uid $(id -u relaymilter 2>/dev/null) < 1000, no login shell)" \
	eval '[ "$(id -u relaymilter)" -lt 1000 ] &&
		getent passwd relaymilter | cut -d: -f7 | grep -qE "(nologin|false)\$"'
check "group relaymilter is the user's group" \
	eval '[ "$(id -gn relaymilter)" = relaymilter ]'
check "/var/lib/relaymilter: relaymilter, 0750 (got $(stat -c "%U %a" /var/lib/relaymilter 2>&1))" \
	eval '[ "$(stat -c "%U %a" /var/lib/relaymilter)" = "relaymilter 750" ]'
SOCKDIR=/var/spool/postfix/relaymilter
POSTFIX=
[ -d /var/spool/postfix ] && getent group postfix >/dev/null && POSTFIX=1
if [ -n "$POSTFIX" ]; then
	check "$SOCKDIR: relaymilter:postfix, 2750 (got $(stat -c "%U:%G %a" $SOCKDIR 2>&1))" \
		eval '[ "$(stat -c "%U:%G %a" $SOCKDIR)" = "relaymilter:postfix 2750" ]'
	check "postinst names the main.cf line" \
		grep -qF "smtpd_milters = unix:relaymilter/relaymilter.sock" "$TMPD/dpkg-i.log"
else
	check "no Postfix: no $SOCKDIR, and postinst says to set socket" \
		eval '[ ! -e $SOCKDIR ] && grep -q "set socket" "$TMPD/dpkg-i.log"'
fi
out=$(/usr/sbin/relaymilter -n 2>&1) || true
check "relaymilter -n: the installed minimal config is valid, and names what to set ($out)" \
	eval '[[ $out == *"/etc/relaymilter/relaymilter.conf: OK"* &&
		$out == *"local_domains and relay_domains are empty"*"set local_domains"* ]]'
check "the annotated sample: /usr/share/doc/relaymilter/examples/relaymilter.conf" \
	test -f /usr/share/doc/relaymilter/examples/relaymilter.conf
check "the bind account and its access rule: /usr/share/relaymilter/relaymilter-{bind,access}.ldif" \
	eval '[ -f /usr/share/relaymilter/relaymilter-bind.ldif ] &&
		[ -f /usr/share/relaymilter/relaymilter-access.ldif ]'
UNIT=/usr/lib/systemd/system/relaymilter.service
check "unit: the installed paths and the relaymilter user" \
	eval 'grep -qx "ExecStart=/usr/sbin/relaymilter -f -c /etc/relaymilter/relaymilter.conf" "$UNIT" &&
		grep -qx "ExecStartPre=/usr/sbin/relaymilter -n -c /etc/relaymilter/relaymilter.conf" "$UNIT" &&
		grep -qx "User=relaymilter" "$UNIT"'
if command -v systemd-analyze >/dev/null 2>&1; then
	rc=0
	out=$(systemd-analyze verify --man=no "$UNIT" 2>&1) || rc=$?
	check "systemd-analyze verify: clean (exit $rc: ${out:-no output})" \
		eval '[ $rc -eq 0 ] && [ -z "$out" ]'
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi

# --- the installed daemon ----------------------------------------------------
BIN=/usr/sbin/relaymilter
SPEC=unix:$SOCKDIR/relaymilter.sock
LOG=$TMPD/log
if [ -z "$POSTFIX" ]; then
	skip "installed daemon on the default socket" "Postfix is not installed"
elif rm_start "$LOG" -c /etc/relaymilter/relaymilter.conf -u relaymilter; then
	ok "installed daemon listens on $SPEC as -u relaymilter"
	check "log: listening on $SPEC, config /etc/relaymilter/relaymilter.conf" \
		grep -qF "listening on $SPEC, config /etc/relaymilter/relaymilter.conf" "$LOG"
	uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$RM_PID/status")
	R=$(id -u relaymilter)
	check "daemon runs as relaymilter ($R; got $uids)" [ "$uids" = "$R $R $R $R" ]
	check "the socket: 0660 relaymilter:postfix (got $(stat -c "%a %U:%G" $SOCKDIR/relaymilter.sock 2>&1))" \
		eval '[ "$(stat -c "%a %U:%G" $SOCKDIR/relaymilter.sock)" = "660 relaymilter:postfix" ]'
	[ "$uids" = "$R $R $R $R" ] || sed 's/^/#   /' "$LOG"
	probe "$LOG" "$SPEC" "installed daemon: relay from an untrusted client rejected" \
		203.0.113.9 user@remote.test reject
	probe "$LOG" "$SPEC" "installed daemon: mail for the host itself continues" \
		203.0.113.9 root@localhost continue
	check "decision logged: rule=relay_denied" grep -q "rcpt=<user@remote.test>.*rule=relay_denied" "$LOG"
	stop_check "installed daemon" "$RM_PID"
else
	not_ok "installed daemon starts on the installed config"
	kill_all
fi
rc=0
out=$(/usr/sbin/relaymilter check --client 203.0.113.9 --rcpt root@localhost \
	--rcpt user@remote.test 2>&1) || rc=$?
check "relaymilter check on the installed config: exit 1, the host's own mail continues, relay rejected" \
	eval '[ $rc -eq 1 ] && grep -q "^<root@localhost> continue" <<<"$out" &&
		grep -q "^<user@remote.test> reject" <<<"$out"'

# --- purge -------------------------------------------------------------------
rc=0
dpkg --purge relaymilter >"$TMPD/purge.log" 2>&1 || rc=$?
check "dpkg --purge: exit 0 (got $rc)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/#   /' "$TMPD/purge.log"
INSTALLED=
check "dpkg: relaymilter is gone" \
	eval '! dpkg-query -W -f="\${Status}" relaymilter 2>/dev/null | grep -q installed'
for f in /usr/sbin/relaymilter /usr/share/man/man8/relaymilter.8.gz /etc/relaymilter \
	/usr/lib/systemd/system/relaymilter.service /usr/share/relaymilter \
	/usr/share/doc/relaymilter /var/lib/relaymilter $SOCKDIR; do
	check "purged: $f" eval '[ ! -e "$f" ]'
done
check "purged: user and group relaymilter" \
	eval '! getent passwd relaymilter >/dev/null && ! getent group relaymilter >/dev/null'
finish
