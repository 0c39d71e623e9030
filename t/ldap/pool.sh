#!/bin/bash
# t/ldap/pool.sh BIN - the on-demand sender lookups share a few LDAP
# connections (ldap.senders.connections), as slapd itself sees them.
#
# Runs as root in private namespaces (contrib/testbed/lib.sh): a throwaway
# slapd on 127.0.0.1:3899 logging its operations ("-d stats"), relaymilter
# with ldap.senders, no owner cache (cache_size = 0: every session is a
# lookup) and a pool of 2, behind a real Postfix; swaks sessions with SMTP
# AUTH alice@testbed.test.  Shows: N sessions bind at most 2 times, not N;
# a slapd restart in between costs no tempfail (the dropped connections
# are replaced); slapd down tempfails within ldap.timeout; a reload with
# another pool size closes the old connections.  Prints ok/not ok lines
# and exits 1 on any failure; 77 (skipped) when not root.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: pool.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=../../contrib/testbed/ldap.sh
. "$SRC/contrib/testbed/ldap.sh"
need_root "network namespace, slapd, Postfix"
need_tools slapd slapadd ldapmodify ldapsearch postfix swaks ss
e2e_begin "$0" "$@"
trap 'ld_stop; tb_cleanup' EXIT

# slapd as contrib/testbed/ldap.sh runs it, in the foreground with its log
SLOG=$TB_RUN/slapd.log
slapd_up() {
	local _
	slapd -f "$LD_STATE/slapd.conf" -h "$LD_URI/" -d stats >>"$SLOG" 2>&1 &
	LD_PID=$!
	for _ in $(seq 100); do
		ldapsearch -x -H "$LD_URI" -b "" -s base -LLL namingContexts \
			>/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
{ ld_init && slapd_up; } || bail "slapd starts"
ld_modify <"$HERE/testbed.ldif"
# an address of alice's that only a lookup tells (not her login itself)
ld_modify <<'LDIF'
dn: uid=alice@testbed.test,ou=people,dc=example,dc=com
changetype: modify
add: mail
mail: a.smith@testbed.test
LDIF
ok "slapd starts"

SECRET=$TB_STATE/secret
printf 's3cret-for-tests\n' >"$SECRET"
chmod 600 "$SECRET"
LCONF=$TB_STATE/ldap.conf
POOL=2
write_conf() { # write_conf CONNECTIONS
	cat >"$LCONF" <<CONF
listeners = { submission = { require_auth = true; }; };
ldap = {
$(ld_client "$SECRET")
	timeout = 2;
	refresh = 3600;
	sync = "poll"; # the lists' connections are not the pool's
	senders = {
		base = "ou=people,dc=example,dc=com";
		filter = "(&(objectClass=inetOrgPerson)(uid=%s))";
		attrs = [ "mail" ];
		cache_size = 0;
		connections = $1;
	};
};
CONF
}
write_conf $POOL
check "relaymilter -n accepts ldap.senders.connections" "$BIN" -n -c "$LCONF"

tb_pf_init
tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
tb_pf_conf 'mynetworks = 127.0.0.1/32'
mapfile -t OPTS < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
	"$SRC/contrib/postfix/master.cf.authority")
tb_pf_listen '127.0.0.1:2587 inet n - n - - smtpd' "${OPTS[@]}" \
	'  -o milter_macro_daemon_name=submission'
{ tb_milter_start "$BIN" "$LCONF" && tb_pf_start 2587; } ||
	bail "relaymilter and Postfix start" "$(tail -3 "$TB_MILTER_LOG")"

# session I: the RCPT reply code of alice's relay from an address of hers
session() {
	tb_smtp "$OUT.$1" --server 127.0.0.1 --port 2587 --local-interface 127.0.0.9 \
		--helo client.example -a PLAIN -au alice@testbed.test -ap secret \
		--from a.smith@testbed.test --to user@remote.test
	awk '$1 == "RCPT" { print $2; exit }' "$OUT.$1"
}
# sessions N PARALLEL: N sessions, PARALLEL at once; prints the codes
sessions() {
	local i
	for i in $(seq "$1"); do
		session "$i" >"$TB_RUN/code.$i" &
		[ $((i % $2)) -eq 0 ] && wait
	done
	wait
	for i in $(seq "$1"); do cat "$TB_RUN/code.$i"; done | sort | uniq -c |
		awk '{ printf "%s%sx%s", sep, $1, $2; sep = " " }'
}
binds() { grep -c 'BIND dn="cn=relaymilter,ou=services.*method=128' "$SLOG" || true; }
lookups() { grep -c 'SRCH base="ou=people,dc=example,dc=com"' "$SLOG" || true; }
# established: the daemon's connections to slapd now
established() {
	ss -Htnp state established "( dport = :$LD_PORT )" |
		grep -c "pid=$TB_MILTER_PID," || true
}

# ---- N lookups, at most POOL connections ------------------------------------------
N=16
b0=$(binds) s0=$(lookups)
codes=$(sessions $N 4)
b1=$(binds) s1=$(lookups)
if [ "$codes" = "${N}x250" ]; then ok "$N sessions, 4 at once, each looked up: relayed ($codes)"; else
	not_ok "$N sessions, 4 at once: relayed" "$codes: $(cat "$OUT.1")"
fi
if [ $((s1 - s0)) -ge $N ]; then ok "slapd saw $((s1 - s0)) lookups (no cache)"; else
	not_ok "slapd saw every lookup" "$((s1 - s0)) of $N"
fi
if [ $((b1 - b0)) -ge 1 ] && [ $((b1 - b0)) -le $POOL ]; then
	ok "$N lookups bound $((b1 - b0)) connection(s), at most $POOL"
else
	not_ok "$N lookups bound at most $POOL connections" "$((b1 - b0)) binds"
fi
e=$(established)
if [ "$e" -ge 1 ] && [ "$e" -le $POOL ]; then ok "the daemon keeps $e connection(s) open"; else
	not_ok "the daemon keeps at most $POOL connections open" "$e"
fi

# ---- a slapd restart: the dropped connections are replaced, no tempfail -------------
ld_stop
slapd_up || bail "slapd restarts"
b0=$(binds)
codes=$(sessions 6 3)
if [ "$codes" = "6x250" ]; then ok "slapd restarted: the next lookups answer ($codes)"; else
	not_ok "slapd restarted: the next lookups answer" "$codes: $(cat "$OUT.1")"
fi
b1=$(binds)
if [ $((b1 - b0)) -ge 1 ] && [ $((b1 - b0)) -le $POOL ]; then
	ok "slapd restarted: $((b1 - b0)) new connection(s)"
else
	not_ok "slapd restarted: at most $POOL new connections" "$((b1 - b0))"
fi
check "slapd restarted: no lookup failed" eval '! grep -q ": sender lookup: " "$TB_MILTER_LOG"'

# ---- slapd down: tempfail within the deadline ------------------------------------
ld_stop
t0=$(date +%s.%N)
code=$(session 1)
t1=$(date +%s.%N)
if [ "${code:0:1}" = 4 ]; then ok "slapd down: the lookup tempfails ($code)"; else
	not_ok "slapd down: the lookup tempfails" "$code: $(cat "$OUT.1")"
fi
if awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 5) }'; then
	ok "slapd down: within the deadline ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"
else
	not_ok "slapd down: within the deadline" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s"
fi
slapd_up || bail "slapd starts again"
code=$(session 1)
if [ "$code" = 250 ]; then ok "slapd back: relayed ($code)"; else
	not_ok "slapd back: relayed" "$code: $(cat "$OUT.1")"
fi

# ---- reloads: the same connection settings keep the pool, others close it ---------
# reload CONNECTIONS: write the config, SIGUSR1, wait for "reloaded"
reload() {
	local _ n0
	write_conf "$1"
	n0=$(wc -l <"$TB_MILTER_LOG")
	kill -USR1 "$TB_MILTER_PID"
	for _ in $(seq 200); do
		tail -n +$((n0 + 1)) "$TB_MILTER_LOG" | grep -q "reloaded" && return 0
		sleep 0.05
	done
	return 1
}
e0=$(established)
check "reload, the same settings" reload $POOL
e=$(established)
if [ "$e0" -ge 1 ] && [ "$e" = "$e0" ]; then ok "reload, the same settings: the pool stays ($e open)"; else
	not_ok "reload, the same settings: the pool stays" "$e0 open before, $e after"
fi
check "reload, connections = 3" reload 3
e=$(established)
if [ "$e" = 0 ]; then ok "reload, connections = 3: the old pool is closed"; else
	not_ok "reload, connections = 3: the old pool is closed" "$e open"
fi
codes=$(sessions 6 3)
e=$(established)
if [ "$codes" = "6x250" ] && [ "$e" -ge 1 ] && [ "$e" -le 3 ]; then
	ok "reload: lookups on the new pool ($codes, $e open)"
else
	not_ok "reload: lookups on the new pool" "$codes, $e open"
fi
tb_milter_stop TERM

finish
