#!/bin/bash
# t/ldap/sync.sh BIN - content synchronisation (ldap.sync): the daemon
# behind a real Postfix follows a slapd with the syncprov overlay (RFC 4533
# refreshAndPersist), and polls one without it.
#
# Runs as root in private namespaces (contrib/testbed/lib.sh).  Shows: an
# ldapmodify add/modify/rename/delete reaches decisions within a bounded
# wait (the latency is measured and printed), a burst is one rebuild or a
# few, a restart resumes from the cache file's cookies (entries received:
# the delta, not the directory), slapd stopped keeps the data and slapd
# back resumes the synchronisation; the base renamed away (the server's
# e-syncRefreshRequired) empties the lists and back refills them; without
# syncprov, "auto" polls and an unchanged directory costs one search per
# interval (slapd's stats log), asks again at a reload and every 10th
# check, and follows the server once it has syncprov.
# ldap.refresh is 30 s while synchronising: no change can come by polling.
# Prints ok/not ok lines, exits 1 on any failure, 77 when not root.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: sync.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
ldap_begin "$0" "$@"

LD_LOG=stats
{ ld_init && ld_start; } || bail "slapd starts"
ok "slapd with syncprov starts with the example policy"
ld_modify <"$HERE/testbed.ldif"

SECRET=$TB_STATE/secret
printf 's3cret-for-tests\n' >"$SECRET"
chmod 600 "$SECRET"
CACHE=$TB_STATE/ldap.cache
LCONF=$TB_STATE/ldap.conf
# write_conf REFRESH SYNC
write_conf() {
	cat >"$LCONF" <<CONF
log_level = "debug";
ldap = {
	uri = "$LD_URI";
	base = "ou=relaymilter,dc=example,dc=com";
	bind_dn = "cn=relaymilter,ou=services,dc=example,dc=com";
	bind_password_file = "$SECRET";
	timeout = 2;
	refresh = $1;
	sync = "$2";
	cache_file = "$CACHE";
};
CONF
}
write_conf 30 auto

# shellcheck disable=SC2119 # no extra listener
ldap_postfix
{ tb_milter_start "$BIN" "$LCONF" && tb_pf_start 2525; } ||
	bail "relaymilter and Postfix start" "$(tail -3 "$TB_MILTER_LOG")"

now_ms() { date +%s%3N; }
# flips NAME CODE [SECONDS]: the relay reply becomes CODE within SECONDS
# (default 5); prints the time from the call (just after ldapmodify)
flips() {
	local t0 code='' limit=$((${3:-5} * 1000))
	t0=$(now_ms)
	while :; do
		code=$(relay_code)
		if [ "$code" = "$2" ]; then
			LAT=$(($(now_ms) - t0))
			ok "$1 ($code after $LAT ms)"
			return 0
		fi
		[ $(($(now_ms) - t0)) -lt "$limit" ] || break
	done
	not_ok "$1" "still $code after $(($(now_ms) - t0)) ms"
	return 1
}
# change CN CHANGETYPE [LINE...]: one change of cn=CN under ou=relaymilter
change() {
	local cn=$1 type=$2
	shift 2
	{
		printf 'dn: cn=%s,ou=relaymilter,dc=example,dc=com\nchangetype: %s\n' "$cn" "$type"
		printf '%s\n' "$@"
	} | ld_modify
}
# trust9: add cn=client9, the trusted_networks entry for 127.0.0.9
trust9() {
	change client9 add 'objectClass: relayMilterRule' 'cn: client9' \
		'relayMilterList: trusted_networks' 'relayMilterValue: 127.0.0.9'
}
milter_log_since() { tail -n +$(($1 + 1)) "$TB_MILTER_LOG"; }
note() { echo "# $*"; }
# wait_log FROM PATTERN [SECONDS]: the daemon logs PATTERN after line FROM
# within SECONDS (default 5)
wait_log() {
	local _
	for _ in $(seq $((${3:-5} * 10))); do
		milter_log_since "$1" | grep -q "$2" && return 0
		sleep 0.1
	done
	return 1
}
# cache_soon CMD...: CMD holds within 5 s (the cache file is written once
# changes pause for 2 s, and at least every 30 s while they stream)
cache_soon() {
	local _
	for _ in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

check "the daemon synchronises (refresh done)" wait_log 0 "refresh done"
# its connections to slapd probe a silent server after 60 s, not 2 h
ka=$(ss -tnoH state established "( dport = :$LD_PORT )" | grep -o 'timer:(keepalive,[0-9.a-z]*' | head -1)
secs=$(sed -n 's/.*keepalive,\([0-9]*\)\(\.[0-9]*\)\{0,1\}\(sec\|min\).*/\1 \3/p' <<<"$ka")
check "the sync connections keep alive within 60 s ($ka)" \
	eval '[ -n "$secs" ] && [ "${secs#* }" = sec ] && [ "${secs% *}" -le 60 ]'
flips "untrusted client: relay refused" 550
LATS=()
n1=$(wc -l <"$TB_MILTER_LOG")
trust9
flips "add trusted_networks 127.0.0.9: relays" 250 && LATS+=("$LAT")
change client9 modify 'replace: relayMilterEnabled' 'relayMilterEnabled: FALSE'
flips "modify relayMilterEnabled FALSE (leaves the filter): refused" 550 && LATS+=("$LAT")
change client9 modify 'delete: relayMilterEnabled'
flips "enabled again: relays" 250 && LATS+=("$LAT")
change client9 modrdn 'newrdn: cn=client9b' 'deleteoldrdn: 1'
sleep 0.5
check "rename: still relays" test "$(relay_code)" = 250
check "rename: the cache names the new DN only" cache_soon \
	eval 'grep -q "cn=client9b,ou=relaymilter" "$CACHE" && ! grep -q "cn=client9,ou=relaymilter" "$CACHE"'
change client9b modify 'replace: relayMilterValue' 'relayMilterValue: 127.0.0.99'
flips "modify the value: refused" 550 && LATS+=("$LAT")
change client9b modify 'replace: relayMilterValue' 'relayMilterValue: 127.0.0.9'
flips "modify it back: relays" 250 && LATS+=("$LAT")
change client9b delete
flips "delete: refused" 550 && LATS+=("$LAT")
note "change-to-decision latency (ms, incl. one swaks session each): ${LATS[*]}"
layers=$(milter_log_since "$n1" | grep -c "a layer over it" || true)
full=$(milter_log_since "$n1" | grep -c "changed records handed over" || true)
check "each change handed over as changed records ($full) and laid over the full build ($layers)" \
	eval '[ "$layers" -ge 6 ] && [ "$full" -ge 6 ] &&
		! milter_log_since "$n1" | grep -q "[0-9] records handed over"'
max=0
for l in "${LATS[@]}"; do [ "$l" -gt "$max" ] && max=$l; done
if [ "${#LATS[@]}" -eq 6 ] && [ "$max" -le 3000 ]; then
	ok "every change reached decisions, the slowest in $max ms"
else
	not_ok "every change reached decisions in time" "${LATS[*]}"
fi

# ---- a burst: a few rebuilds, not one per change -----------------------------
n0=$(wc -l <"$TB_MILTER_LOG")
for i in $(seq 200); do
	printf 'dn: cn=burst%d,ou=relaymilter,dc=example,dc=com\nchangetype: add\nobjectClass: relayMilterRule\ncn: burst%d\nrelayMilterList: trusted_networks\nrelayMilterValue: 198.51.100.%d\n\n' \
		"$i" "$i" "$((i % 250))"
done | ld_modify
sleep 1
rebuilds=$(milter_log_since "$n0" | grep -c "synchronisation), rebuilt" || true)
if [ "$rebuilds" -ge 1 ] && [ "$rebuilds" -le 50 ]; then
	ok "200 adds: $rebuilds rebuilds"
else
	not_ok "200 adds: a few rebuilds" "$rebuilds"
fi
# 200 changes to 234 records: handed over as changes, built in full
check "the burst: handed over as changed records, not the whole data" \
	eval 'milter_log_since "$n0" | grep -q "changed records handed over" &&
		! milter_log_since "$n0" | grep -q "[0-9] records handed over"'
# each says which: a layer over the last full build, or a full build
check "the log names each rebuild as a layer or in full" \
	eval '[ "$(milter_log_since "$n0" | grep -cE "synchronisation\), rebuilt (as a layer|in full) ")" -eq "$rebuilds" ]'
check "the burst's entries are in the cache" cache_soon \
	eval '[ "$(grep -c "^trusted_networks.*cn=burst" "$CACHE")" -eq 200 ]'
check "the cache file keeps the cookies" cache_soon grep -q "^cookie	trusted_networks	" "$CACHE"
# relaymilter check fetches on its own, and leaves the daemon's file (its
# data and cookies) as it is
sleep 2.5 # past the last save
before=$(stat -c '%i %Y %s' "$CACHE")
"$BIN" check -c "$LCONF" --client 127.0.0.9 --from a@example.com \
	--rcpt user@remote.test >/dev/null 2>&1 || true
check "relaymilter check leaves the daemon's cache file and its cookies" \
	eval '[ "$(stat -c "%i %Y %s" "$CACHE")" = "$before" ] &&
		grep -q "^cookie	trusted_networks	" "$CACHE"'

# ---- a reload that changes the ldap settings stops or starts it --------------
n0=$(wc -l <"$TB_MILTER_LOG")
write_conf 30 poll
kill -USR1 "$TB_MILTER_PID"
check "reload to sync = poll: the synchronisation stops" \
	wait_log "$n0" "synchronisation stopped: the LDAP settings changed"
write_conf 30 auto
kill -USR1 "$TB_MILTER_PID"
check "reload to sync = auto: it starts again, with a full refresh" \
	wait_log "$n0" "records handed over"

# ---- a restart resumes from the cookies: only the changes since ---------------
tb_milter_stop TERM
trust9
n0=$(wc -l <"$TB_MILTER_LOG")
tb_milter_start "$BIN" "$LCONF" || bail "restart" "$(tail -3 "$TB_MILTER_LOG")"
flips "restart: the entry added while down relays" 250
sleep 0.3
check "restart: started from the cache file" \
	wait_log "$n0" "content synchronisation brings the changes since"
full=$(grep -c "^[a-z_]*	" "$CACHE")
got=$(milter_log_since "$n0" | sed -n 's/.*refresh done (.* phase, \([0-9]*\) entries received).*/\1/p' |
	awk '{ s += $1 } END { print s + 0 }')
incr=$(milter_log_since "$n0" | grep -c "incremental refresh" || true)
note "restart: $got entries received over $incr incremental refreshes; the directory holds $full records"
if [ "$incr" -ge 1 ] && [ "$got" -ge 1 ] && [ "$got" -le 10 ]; then
	ok "restart: a delta ($got entries), not a full reload"
else
	not_ok "restart: a delta, not a full reload" "$got entries, $incr incremental"
fi

# ---- slapd stopped: the data stays; back: the synchronisation resumes --------
n0=$(wc -l <"$TB_MILTER_LOG")
ld_stop
sleep 2
check "slapd stopped: the daemon keeps deciding from its data" test "$(relay_code)" = 250
sleep 2
lost=$(milter_log_since "$n0" | grep -c "content synchronisation lost" || true)
check "slapd stopped: the loss logged once ($lost), not per retry" test "$lost" -eq 1
ld_start || bail "slapd restarts"
change client9 delete
flips "slapd back: a delete reaches decisions" 550 10
check "slapd back: resumption logged" \
	wait_log "$n0" "content synchronisation resumed"
tb_milter_stop TERM

# ---- slapd down at start and no cache: tempfail, then the sync's data ---------
ld_stop
rm -f "$CACHE"
n0=$(wc -l <"$TB_MILTER_LOG")
tb_milter_start "$BIN" "$LCONF" || bail "start, slapd down" "$(tail -3 "$TB_MILTER_LOG")"
code=$(relay_code)
check "slapd down at start, no cache: tempfail ($code)" eval '[[ "$code" == 4* ]]'
ld_start || bail "slapd restarts"
flips "slapd up: the synchronisation brings the data (client9 is gone: refused)" 550 15
check "slapd up: the data came by the synchronisation alone, once" \
	eval '! milter_log_since "$n0" | grep -q "changes without data\|LDAP changed, rebuilt"'
tb_milter_stop TERM

# ---- the base renamed away and back: e-syncRefreshRequired -----------------
# syncprov ends a persistent search whose base is gone with
# e-syncRefreshRequired (at the next write); the refresh then finds no
# base: the lists are empty, as for a fetch, and are looked for again
# every ldap.refresh s
write_conf 2 auto
n0=$(wc -l <"$TB_MILTER_LOG")
tb_milter_start "$BIN" "$LCONF" || bail "start, refresh 2" "$(tail -3 "$TB_MILTER_LOG")"
trust9
flips "base: 127.0.0.9 trusted again: relays" 250
rename_base() { # rename_base FROM TO: modrdn of ou=FROM,dc=example,dc=com
	printf 'dn: ou=%s,dc=example,dc=com\nchangetype: modrdn\nnewrdn: ou=%s\ndeleteoldrdn: 1\n' \
		"$1" "$2" | ld_modify
}
rename_base relaymilter relaymilter-away
# slapd notices the base gone at the next write (here, a change that must
# come with the full refresh once the base is back)
printf 'dn: cn=client9,ou=relaymilter-away,dc=example,dc=com\nchangetype: modrdn\nnewrdn: cn=client9c\ndeleteoldrdn: 1\n' | ld_modify
check "base renamed away: the server asks for a full refresh (e-syncRefreshRequired)" \
	wait_log "$n0" "the server asks for a full refresh"
check "base renamed away: logged as a missing base, looked for again" \
	wait_log "$n0" "no base ou=relaymilter,dc=example,dc=com: an empty list; looking again every 2 s"
flips "base renamed away: the lists are empty, as for a fetch: refused" 550
rename_base relaymilter-away relaymilter
flips "base back: found again within ldap.refresh, relays" 250 6
check "base back: the change made while it was away came with it" cache_soon \
	eval 'grep -q "cn=client9c,ou=relaymilter" "$CACHE" && ! grep -q "cn=client9,ou=relaymilter" "$CACHE"'
change client9c delete
flips "base back: the persistent search runs again (a delete refuses)" 550 3
tb_milter_stop TERM

# ---- without syncprov: "auto" polls, with the cheap change check -------------
ld_stop
LD_SYNCPROV=0
{ ld_init && ld_start; } || bail "slapd without syncprov starts"
ld_modify <"$HERE/testbed.ldif"
rm -f "$CACHE"
write_conf 1 auto
n0=$(wc -l <"$TB_MILTER_LOG")
tb_milter_start "$BIN" "$LCONF" || bail "start, no syncprov" "$(tail -3 "$TB_MILTER_LOG")"
flips "no syncprov: the policy answers" 550
check "no syncprov: auto falls back to polling" \
	wait_log "$n0" "offers no content synchronisation"
trust9
flips "no syncprov: a change arrives by polling" 250 10
# the idle directory: searches per interval, from slapd's stats log: the
# change checks (no contextCSN without syncprov: modifyTimestamp), and the
# full read of every 10th check (deletes), one search per list
searches() { grep -c " SRCH base=.*$1" "$LD_STATE/slapd.log"; }
# every 10th check asks for content synchronisation again: 14 searches
asks() { grep -c "content synchronisation again" "$TB_MILTER_LOG" || true; }
sleep 2
c0=$(searches modifyTimestamp) f0=$(searches relayMilterList=) a0=$(asks)
sleep 5
c1=$(searches modifyTimestamp) f1=$(searches relayMilterList=) a1=$(asks)
note "no syncprov, idle, 5 s at refresh = 1 s: $((c1 - c0)) change checks, $((f1 - f0)) list searches (a full read is 15), $((a1 - a0)) sync attempts (14 each)"
check "no syncprov, idle: one change check search per interval ($((c1 - c0)) in 5 s)" \
	test $((c1 - c0)) -ge 3 -a $((c1 - c0)) -le 7
# (a full read every tenth check; the window may catch the end of one
# and the start of the next)
check "no syncprov, idle: less than two full reads in 5 s ($((f1 - f0)) list searches)" \
	test $((f1 - f0)) -lt $((30 + 14 * (a1 - a0)))
check "no syncprov: the change check is logged" \
	eval 'milter_log_since "$n0" | grep -q "LDAP unchanged"'
# a reload asks again (refused: polling goes on); so does every 10th
# check, and a server given syncprov meanwhile is followed from then on
n0=$(wc -l <"$TB_MILTER_LOG")
kill -USR1 "$TB_MILTER_PID"
check "no syncprov, reload: asks for the synchronisation again" \
	wait_log "$n0" "asking the server for content synchronisation again"
check "no syncprov, reload: refused again, polls" \
	wait_log "$n0" "offers no content synchronisation"
ld_stop
LD_SYNCPROV=1
{ ld_init && ld_start; } || bail "slapd with syncprov starts again"
ld_modify <"$HERE/testbed.ldif"
n0=$(wc -l <"$TB_MILTER_LOG")
check "syncprov added: within 10 checks the synchronisation runs" \
	wait_log "$n0" "refresh done" 15
trust9
flips "syncprov added: a change arrives" 250
check "syncprov added: by the synchronisation" \
	wait_log "$n0" "LDAP changed (synchronisation)"
tb_milter_stop TERM
ld_stop
LD_SYNCPROV=0
{ ld_init && ld_start; } || bail "slapd without syncprov starts again"
ld_modify <"$HERE/testbed.ldif"

# ---- ldap.sync = "persist" against it: refused, retried, the data stays -------
write_conf 30 persist
n0=$(wc -l <"$TB_MILTER_LOG")
tb_milter_start "$BIN" "$LCONF" || bail "start, persist" "$(tail -3 "$TB_MILTER_LOG")"
sleep 1
check "persist, no syncprov: the policy still answers from the cache" test "$(relay_code)" = 250
check "persist, no syncprov: logged" \
	eval 'milter_log_since "$n0" | grep -q "content synchronisation lost"'
tb_milter_stop TERM
check "no sanitizer report in the daemon's log" \
	eval '! grep -qiE "sanitizer|runtime error|data race" "$TB_MILTER_LOG"'

finish
