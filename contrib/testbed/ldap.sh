# shellcheck shell=bash
# contrib/testbed/ldap.sh - a throwaway slapd for the LDAP tests and
# benchmarks (sourced after contrib/testbed/lib.sh, inside the namespace).
#
#   ld_init            slapd.conf and an mdb database under $TB_STATE/ldap,
#                      loaded offline with ldap/base.ldif and
#                      contrib/ldap/example.ldif
#   ld_start / ld_stop slapd on ldap://127.0.0.1:$LD_PORT
#   ld_modify          ldapmodify as the rootdn, LDIF on stdin
# LD_SYNCPROV=0: no syncprov overlay (content synchronisation refused);
# LD_LOG=LEVEL: slapd's log at that level (e.g. stats) in $LD_STATE/slapd.log
LD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ldap
LD_SRC=$(cd "$LD_DIR/../../.." && pwd)
LD_PORT=${LD_PORT:-3899}
LD_URI=ldap://127.0.0.1:$LD_PORT
LD_PID=
LD_SYNCPROV=${LD_SYNCPROV:-1}
LD_LOG=${LD_LOG:-}

ld_init() {
	LD_STATE=$TB_STATE/ldap
	rm -rf "$LD_STATE"
	mkdir -p "$LD_STATE/db"
	sed -e "s#@DIR@#$LD_STATE#g" -e "s#@SRC@#$LD_SRC#g" \
		-e "s#@LOGLEVEL@#${LD_LOG:-none}#g" \
		-e "$([ "$LD_SYNCPROV" = 0 ] && echo '/# syncprov$/d' || echo 's/ *# syncprov$//')" \
		"$LD_DIR/slapd.conf.in" >"$LD_STATE/slapd.conf"
	slaptest -u -Q -f "$LD_STATE/slapd.conf" || return 1
	cat "$LD_DIR/base.ldif" - "$LD_SRC/contrib/ldap/example.ldif" </dev/null |
		slapadd -q -f "$LD_STATE/slapd.conf" || return 1
}

ld_start() {
	local _
	if [ -n "$LD_LOG" ]; then
		# in the foreground, for its log; it writes its pid file all the same
		slapd -f "$LD_STATE/slapd.conf" -h "$LD_URI/" -d "$LD_LOG" \
			2>>"$LD_STATE/slapd.log" &
	else
		slapd -f "$LD_STATE/slapd.conf" -h "$LD_URI/" -s 0 || return 1
	fi
	for _ in $(seq 100); do
		if ldapsearch -x -H "$LD_URI" -b "" -s base -LLL namingContexts \
			>/dev/null 2>&1; then
			LD_PID=$(cat "$LD_STATE/slapd.pid")
			return 0
		fi
		sleep 0.05
	done
	tb_log "slapd did not come up"
	return 1
}

ld_stop() {
	local _
	[ -n "$LD_PID" ] || return 0
	kill -CONT "$LD_PID" 2>/dev/null || true
	kill -TERM "$LD_PID" 2>/dev/null || true
	for _ in $(seq 200); do
		tb_alive "$LD_PID" || break
		sleep 0.05
	done
	LD_PID=
}

ld_modify() {
	ldapmodify -x -H "$LD_URI" -D "cn=admin,dc=example,dc=com" \
		-w admin-secret >/dev/null
}
