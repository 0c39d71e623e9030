# shellcheck shell=bash
# contrib/testbed/ldap.sh - throwaway slapds for the LDAP tests and
# benchmarks (sourced after contrib/testbed/lib.sh, inside the namespace).
#
# One slapd (most tests):
#   ld_init            slapd.conf and an mdb database under $TB_STATE/ldap,
#                      loaded offline with ldap/base.ldif and
#                      contrib/ldap/example.ldif
#   ld_start / ld_stop slapd on ldap://127.0.0.1:$LD_PORT
#   ld_modify          ldapmodify as the rootdn, LDIF on stdin
#   ld_client SECRET [URI]   relaymilter's ldap settings to reach it (uri,
#                      default $LD_URI, base, bind as cn=relaymilter with
#                      the password file SECRET)
#   ld_milter_ldap URI SECRET-FILE CACHE-FILE [TIMEOUT [MORE]]
#                      relaymilter's whole "ldap" group: ld_client, refresh
#                      1 s, the cache file; MORE goes inside it (a senders
#                      group, say)
#
# Several, by name (replication: a provider and its consumers), each in
# $TB_STATE/ldap-NAME with its own port and database:
#   ld_node_init NAME PORT [CONFIG-LDIF...]   slapd.conf as above plus the
#                      cn=config LDIF files turned into slapd.conf lines
#                      (ld_ldif2conf); an empty database
#   ld_node_load NAME LDIF...   slapadd, offline
#   ld_node_start NAME / ld_node_stop NAME / ld_node_stop_all
#   ld_node_uri NAME   its ldap:// URI
#   ld_node_modify NAME   ldapmodify as the rootdn, LDIF on stdin
#   ld_cnconfig_apply LDIF   the template as a cn=config slapd (slapd.d,
#                      root manages cn=config over ldapi:// as on Debian):
#                      LDIF applies with ldapmodify -Y EXTERNAL
# LD_SYNCPROV=0: no syncprov overlay (content synchronisation refused);
# LD_LOG=LEVEL: slapd's log at that level (e.g. stats) in $LD_STATE/slapd.log
# LD_MAXSIZE=BYTES: the mdb map size (default 16 MiB; a million entries
# want a few GiB)
LD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ldap
LD_SRC=$(cd "$LD_DIR/../../.." && pwd)
LD_PORT=${LD_PORT:-3899}
LD_URI=ldap://127.0.0.1:$LD_PORT
LD_PID=
LD_ROOTDN="cn=admin,dc=example,dc=com"
LD_ROOTPW=admin-secret
LD_SYNCPROV=${LD_SYNCPROV:-1}
LD_LOG=${LD_LOG:-}
LD_MAXSIZE=${LD_MAXSIZE:-16777216}

# ld_ldif2conf OUTDIR LDIF...: the olc* attributes of cn=config LDIF (the
# changes of etc/replication-*.ldif) as slapd.conf lines, in three parts:
# OUTDIR/global.conf (cn=module), OUTDIR/overlay.conf (olcOverlay=...
# entries) and OUTDIR/database.conf (the rest: the database entry).
# Both forms configure the same slapd; an attribute it does not know fails.
ld_ldif2conf() {
	local out=$1
	shift
	: >"$out/global.conf"
	: >"$out/database.conf"
	: >"$out/overlay.conf"
	cat -- "$@" </dev/null | awk -v out="$out" '
	BEGIN {
		map["olcModuleLoad"] = "moduleload"
		map["olcDbIndex"] = "index"
		map["olcAccess"] = "access"
		map["olcLimits"] = "limits"
		map["olcSyncrepl"] = "syncrepl"
		map["olcUpdateRef"] = "updateref"
		map["olcSpCheckpoint"] = "syncprov-checkpoint"
		map["olcSpSessionLog"] = "syncprov-sessionlog"
		part = "database"
	}
	function handle(l,    k, v) {
		if (l == "" || l == "-") return
		k = l; sub(/:.*/, "", k)
		v = l; sub(/^[^:]*:[ \t]*/, "", v)
		if (k == "dn") {
			part = v ~ /^olcOverlay=/ ? "overlay" : v ~ /^cn=module/ ? "global" : "database"
			return
		}
		if (k ~ /^(changetype|add|replace|objectClass)$/) return
		sub(/^\{[0-9]+\}/, "", v)
		if (k == "olcOverlay") { print "overlay " v > (out "/overlay.conf"); return }
		if (!(k in map)) {
			print "ld_ldif2conf: no slapd.conf form known for " k > "/dev/stderr"
			bad = 1
			return
		}
		print map[k] " " v > (out "/" part ".conf")
	}
	/^#/ { next }
	/^ / { line = line substr($0, 2); next }
	{ handle(line); line = $0 }
	END { handle(line); exit bad }'
}

# ld_make DIR [CONFIG-LDIF...]: DIR/slapd.conf (the template with the LDIF's
# lines in place) and an empty DIR/db
ld_make() {
	local dir=$1
	shift
	rm -rf "$dir"
	mkdir -p "$dir/db"
	ld_ldif2conf "$dir" "$@" || return 1
	sed -e "/^@GLOBAL@\$/{r $dir/global.conf" -e 'd;}' \
		-e "/^@DATABASE@\$/{r $dir/database.conf" -e 'd;}' \
		-e "/^@OVERLAY@\$/{r $dir/overlay.conf" -e 'd;}' \
		-e "s#@DIR@#$dir#g" -e "s#@SRC@#$LD_SRC#g" \
		-e "s#@LOGLEVEL@#${LD_LOG:-none}#g" -e "s#@MAXSIZE@#$LD_MAXSIZE#g" \
		"$LD_DIR/slapd.conf.in" >"$dir/slapd.conf"
	slaptest -u -Q -f "$dir/slapd.conf"
}

# ld_up DIR URI: slapd with DIR/slapd.conf, until it answers on URI (with
# LD_LOG, in the foreground for its log, DIR/slapd.log; it writes its pid
# file all the same)
ld_up() {
	local _
	if [ -n "$LD_LOG" ]; then
		slapd -f "$1/slapd.conf" -h "$2/" -d "$LD_LOG" 2>>"$1/slapd.log" &
	else
		slapd -f "$1/slapd.conf" -h "$2/" -s 0 || return 1
	fi
	for _ in $(seq 100); do
		ldapsearch -x -H "$2" -b "" -s base -LLL namingContexts \
			>/dev/null 2>&1 && return 0
		sleep 0.05
	done
	tb_log "slapd did not come up on $2"
	return 1
}

# ld_down PID: TERM (thawed first), and wait up to 10 s
ld_down() {
	local _
	[ -n "$1" ] || return 0
	kill -CONT "$1" 2>/dev/null || true
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 200); do
		tb_alive "$1" || break
		sleep 0.05
	done
}

ld_init() {
	LD_STATE=${TB_STATE:?}/ldap
	if [ "$LD_SYNCPROV" = 0 ]; then
		ld_make "$LD_STATE" || return 1
	else
		ld_make "$LD_STATE" "$LD_DIR/syncprov.ldif" || return 1
	fi
	cat "$LD_DIR/base.ldif" - "$LD_SRC/contrib/ldap/example.ldif" </dev/null |
		slapadd -q -f "$LD_STATE/slapd.conf" || return 1
}

ld_start() {
	ld_up "$LD_STATE" "$LD_URI" || return 1
	LD_PID=$(cat "$LD_STATE/slapd.pid")
}

ld_stop() {
	ld_down "$LD_PID"
	LD_PID=
}

ld_modify() {
	ldapmodify -x -H "$LD_URI" -D "$LD_ROOTDN" -w "$LD_ROOTPW" >/dev/null
}

ld_milter_ldap() {
	printf 'ldap = {\n'
	ld_client "$2" "$1"
	printf '\ttimeout = %s;\n\trefresh = 1;\n\tcache_file = "%s";\n' "${4:-2}" "$3"
	[ -z "${5:-}" ] || printf '%s\n' "$5"
	printf '};\n'
}

ld_node_init() {
	local dir=$TB_STATE/ldap-$1 port=$2
	shift 2
	ld_make "$dir" "$@" || return 1
	echo "$port" >"$dir/port"
}

ld_node_uri() { echo "ldap://127.0.0.1:$(cat "$TB_STATE/ldap-$1/port")"; }

ld_node_load() {
	local dir=$TB_STATE/ldap-$1
	shift
	cat -- "$@" </dev/null | slapadd -q -f "$dir/slapd.conf"
}

ld_node_start() { ld_up "$TB_STATE/ldap-$1" "$(ld_node_uri "$1")"; }

ld_node_stop() {
	local pidfile=$TB_STATE/ldap-$1/slapd.pid
	[ -s "$pidfile" ] || return 0
	ld_down "$(cat "$pidfile")"
	rm -f "$pidfile"
}

ld_node_stop_all() {
	local d
	for d in "${TB_STATE:-/nonexistent}"/ldap-*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		ld_node_stop "${d##*/ldap-}"
	done
}

ld_node_modify() {
	ldapmodify -x -H "$(ld_node_uri "$1")" -D "$LD_ROOTDN" -w "$LD_ROOTPW" >/dev/null
}

ld_client() {
	printf '\turi = "%s";\n' "${2:-$LD_URI}"
	printf '\tbase = "ou=relaymilter,dc=example,dc=com";\n'
	printf '\tbind_dn = "cn=relaymilter,ou=services,dc=example,dc=com";\n'
	printf '\tbind_password_file = "%s";\n' "$1"
}

ld_cnconfig_apply() {
	local d=$TB_STATE/ldap-cnconfig uri rc=0 _
	ld_make "$d" || return 1
	sed -i '/^database[ \t]*mdb/i database config\
access to * by dn.exact="gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth" manage by * none' \
		"$d/slapd.conf"
	mkdir "$d/slapd.d"
	slapadd -q -f "$d/slapd.conf" -l "$LD_DIR/base.ldif" &&
		slaptest -Q -f "$d/slapd.conf" -F "$d/slapd.d" || return 1
	uri=ldapi://$(printf %s "$d/ldapi" | sed 's#/#%2F#g')
	slapd -F "$d/slapd.d" -h "$uri" -s 0 || return 1
	for _ in $(seq 100); do
		ldapsearch -Q -Y EXTERNAL -H "$uri" -b cn=config -s base >/dev/null 2>&1 && break
		sleep 0.05
	done
	ldapmodify -Q -Y EXTERNAL -H "$uri" -f "$1" >"$d/ldapmodify.out" 2>&1 || rc=$?
	ld_node_stop cnconfig
	return "$rc"
}
