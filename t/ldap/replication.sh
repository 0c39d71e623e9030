#!/bin/bash
# t/ldap/replication.sh BIN - the multi-MTA deployment: one provider slapd
# (syncprov), two consumer slapds (syncrepl refreshAndPersist), each beside
# a node of Postfix + relaymilter that reads only its local consumer.
#
# The provider and the consumers run the cn=config changes of
# etc/replication-provider.ldif and etc/replication-consumer.ldif, in their
# slapd.conf form (contrib/testbed/ldap.sh, ld_ldif2conf), and the same
# LDIF is applied to a cn=config slapd as the README says; the consumers
# get the provider on loopback and a 1 s retry.  Relaymilter polls with
# ldap.refresh = 1.  Shown through each node's Postfix with swaks:
#   - a rule added, changed and deleted at the provider reaches both nodes
#     within 2 s (the latencies are printed);
#   - with the provider down both nodes answer from their consumers;
#   - with a consumer down its node keeps the last known data, across a
#     restart of its relaymilter (the cache file), the other node follows
#     the provider, and the consumer back catches up;
#   - an outsider's relay, tried through both nodes all along, is never
#     accepted, and a grant deleted no longer relays on either node.
# Root only (private namespaces, contrib/testbed); exits 77 otherwise.
# TB_KEEP=1 keeps the state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: replication.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=../../contrib/testbed/ldap.sh
. "$SRC/contrib/testbed/ldap.sh"
need_root "network namespaces, slapd, Postfix"
need_tools slapd slapadd slaptest ldapmodify ldapsearch postfix swaks
e2e_begin "$0" "$@"
trap 'ld_node_stop_all; tb_cleanup' EXIT

WITHIN_MS=2000 # the promise: a change reaches every node within 2 s
SECRET=$TB_STATE/secret
printf 's3cret-for-tests\n' >"$SECRET"
chmod 600 "$SECRET"
REPL_PW=replicator-secret

# ---- the directories ------------------------------------------------------------
# the LDIF of etc/ as it is meant to be used, on a cn=config slapd
for f in replication-provider replication-consumer relaymilter-access; do
	check "etc/$f.ldif applies to a cn=config slapd (ldapmodify -Y EXTERNAL)" \
		ld_cnconfig_apply "$SRC/etc/$f.ldif"
done
sed "s#^userPassword: .*#userPassword: $REPL_PW#" "$SRC/etc/replication-account.ldif" \
	>"$TB_STATE/account.ldif"
{ ld_node_init provider 3901 "$SRC/etc/replication-provider.ldif" &&
	ld_node_load provider "$SRC/contrib/testbed/ldap/base.ldif" \
		"$SRC/contrib/ldap/example.ldif" "$TB_STATE/account.ldif" &&
	ld_node_start provider; } || bail "the provider starts (syncprov)"
PROVIDER=$(ld_node_uri provider)
sed -e "s#ldap://ldap-provider.example.com#$PROVIDER#g" \
	-e "s#credentials=[^ ]*#credentials=$REPL_PW#" \
	-e 's#retry="[^"]*"#retry="1 +"#' \
	"$SRC/etc/replication-consumer.ldif" >"$TB_STATE/consumer.ldif"
for c in 1 2; do
	{ ld_node_init "c$c" $((3901 + c)) "$TB_STATE/consumer.ldif" &&
		ld_node_start "c$c"; } || bail "consumer $c starts (syncrepl)"
done
check "the consumers' slapd.conf says refreshAndPersist, from the provider" \
	grep -q "^syncrepl rid=001 provider=$PROVIDER .*type=refreshAndPersist" \
	"$TB_STATE/ldap-c1/slapd.conf"
# the testbed's mail domain, as a first change at the provider
ld_node_modify provider <"$HERE/testbed.ldif"

# csn NAME: the contextCSN of the suffix at slapd NAME (README's one-liner)
csn() {
	ldapsearch -x -H "$(ld_node_uri "$1")" -D "$LD_ROOTDN" -w "$LD_ROOTPW" \
		-b dc=example,dc=com -s base -LLL contextCSN 2>/dev/null |
		awk '/^contextCSN:/ { print $2 }' | sort | tr '\n' ' '
}
# in_step C...: the consumers' contextCSN equals the provider's, within 15 s
in_step() {
	local _ c p lag
	for _ in $(seq 60); do
		p=$(csn provider)
		lag=
		for c in "$@"; do [ "$(csn "$c")" = "$p" ] || lag="$lag $c"; done
		[ -n "$p" ] && [ -z "$lag" ] && return 0
		sleep 0.25
	done
	tb_log "contextCSN: provider $p, behind:$lag"
	return 1
}
check "both consumers replicate the provider (contextCSN equal)" in_step c1 c2

# ---- the nodes: Postfix + relaymilter, each reading its own consumer --------------
declare -A MX_PORT=([a]=2525 [b]=2625) SUB_PORT=([a]=2587 [b]=2687) CONSUMER=([a]=c1 [b]=c2)
node_up() { # node_up NODE: its relaymilter (on the config written below) and Postfix
	local n=$1
	tb_node "$n"
	{
		echo 'log_level = "info";'
		ld_milter_ldap "$(ld_node_uri "${CONSUMER[$n]}")" "$SECRET" "$TB_STATE/ldap-$n.cache"
	} >"$TB_STATE/relaymilter-$n.conf"
	# shellcheck disable=SC2119 # no extra logins
	E2E_MX_PORT=${MX_PORT[$n]} E2E_SUB_PORT=${SUB_PORT[$n]} e2e_pf_authority
	tb_milter_start "$BIN" "$TB_STATE/relaymilter-$n.conf" &&
		tb_pf_start "${MX_PORT[$n]}"
}
for n in a b; do
	node_up "$n" || bail "node $n: relaymilter and Postfix start" "$(tail -3 "$TB_MILTER_LOG")"
done
ok "two Postfix instances, each with its relaymilter and consumer"

PROBE_OUT=$TB_RUN/probe
# code NODE CLIENT SENDER [RCPT]: the reply to the RCPT of one session
# through NODE's Postfix (or to MAIL, when that is refused)
code() {
	tb_smtp "$PROBE_OUT.$1" --server 127.0.0.1 --port "${MX_PORT[$1]}" \
		--local-interface "$2" --helo client.example --from "$3" \
		--to "${4:-user@remote.test}" --quit-after RCPT
	awk '$1 == "MAIL" && $2 !~ /^2/ || $1 == "RCPT" { c = $2; exit }
		END { print (c == "" ? "none" : c) }' "$PROBE_OUT.$1"
}
ms() { echo $(($(date +%s%N) / 1000000)); }

LATENCIES=
# reaches NAME T0 PROBE...: for each PROBE, "WANT CLIENT SENDER [RCPT]",
# both nodes answer WANT (a code or its first digit) within 10 s of T0
# (ms), and within WITHIN_MS.  Each round sends all the sessions still
# waiting at once, so that a latency is not that of the others' sessions.
reaches() {
	local name=$1 t0=$2 k n c now _ want args i
	shift 2
	local -A lat=() last=()
	local -a pids keys
	for _ in $(seq 50); do
		pids=() keys=()
		for k in "$@"; do
			read -r want args <<<"$k"
			for n in a b; do
				[ -z "${lat[$n $k]:-}" ] || continue
				i=${#keys[@]}
				keys+=("$n $k")
				(
					PROBE_OUT=$TB_RUN/reach.$i
					now=$(ms)
					# shellcheck disable=SC2086 # args: CLIENT SENDER [RCPT]
					echo "$now $(code "$n" $args)" >"$TB_RUN/reach.$i.code"
				) &
				pids+=($!)
			done
		done
		wait "${pids[@]}" || true
		for i in "${!keys[@]}"; do
			read -r now c <"$TB_RUN/reach.$i.code"
			read -r n want _ <<<"${keys[$i]}"
			last[${keys[$i]}]=$c
			case $c in "$want"*) lat[${keys[$i]}]=$((now - t0)) ;; esac
		done
		[ "${#lat[@]}" -eq $((2 * $#)) ] && break
		[ $(($(ms) - t0)) -lt 10000 ] || break
		sleep 0.1
	done
	for k in "$@"; do
		read -r want args <<<"$k"
		for n in a b; do
			if [ -z "${lat[$n $k]:-}" ]; then
				not_ok "$name: node $n, $args" "still ${last[$n $k]} after 10 s"
			elif [ "${lat[$n $k]}" -le "$WITHIN_MS" ]; then
				ok "$name: node $n answers ${last[$n $k]} ($args) by ${lat[$n $k]} ms"
				LATENCIES="$LATENCIES ${lat[$n $k]}"
			else
				not_ok "$name: node $n within $WITHIN_MS ms ($args)" "${lat[$n $k]} ms"
			fi
		done
	done
}
# stays NAME WANT NODES CLIENT SENDER [RCPT]: each of NODES answers WANT,
# three times in a row
stays() {
	local name=$1 want=$2 nodes=$3 n c _ bad=
	shift 3
	for _ in 1 2 3; do
		for n in $nodes; do
			c=$(code "$n" "$@")
			case $c in "$want"*) ;; *) bad="$bad $n:$c" ;; esac
		done
		sleep 0.2
	done
	if [ -z "$bad" ]; then ok "$name ($want)"; else not_ok "$name" "$want wanted:$bad"; fi
}
# past_window T0: sleep until the 2 s window after T0 (ms) is over, and a bit
past_window() {
	sleep "$(awk -v t="$(($(ms) - $1))" 'BEGIN { d = (2500 - t) / 1000; print (d > 0 ? d : 0) }')"
}
# grant CN ADDRESS: the LDIF of a trusted_networks entry
grant() {
	printf '%s\n' "dn: cn=$1,ou=relaymilter,dc=example,dc=com" "changetype: add" \
		"objectClass: relayMilterRule" "cn: $1" \
		"relayMilterList: trusted_networks" "relayMilterValue: $2"
}
# answers_by NODE WANT T0 LIMIT CLIENT SENDER: NODE polled until it answers
# WANT or LIMIT ms have passed since T0 (ms); prints the ms since T0
answers_by() {
	local n=$1 want=$2 t0=$3 limit=$4 _
	shift 4
	for _ in $(seq 300); do
		[ "$(code "$n" "$@")" = "$want" ] && break
		[ $(($(ms) - t0)) -lt "$limit" ] || break
		sleep 0.1
	done
	echo $(($(ms) - t0))
}
# change LDIF on stdin at the provider; T0 the time it was made (ms)
change() {
	ld_node_modify provider || not_ok "ldapmodify at the provider"
	T0=$(ms)
}

P1=(127.0.0.9 billing@partner.example)  # licensed at first
P2=(127.0.0.9 billing@partner2.example) # licensed after the change
P3=(127.0.0.10 billing@partner2.example) # trusted while consumer 2 is down
LOCAL=(127.0.0.66 a@remote.example user@testbed.test)
reaches "the testbed domain is local on both nodes" "$(ms)" "250 ${LOCAL[*]}"
stays "client 127.0.0.9 is not trusted yet: relay refused" 550 "a b" "${P1[@]}"
LATENCIES= # from here on, of changes at the provider

# ---- an outsider's relay, tried through both nodes all along -----------------------
STOP=$TB_RUN/outsider.stop
outsider() { # until STOP, at most 100 s: "tries accepted" in outsider.count
	local end=$(($(date +%s) + 100)) tries=0 acc=0 n c
	local PROBE_OUT=$TB_RUN/outsider sender
	while [ ! -e "$STOP" ] && [ "$(date +%s)" -lt "$end" ]; do
		for n in a b; do
			sender=billing@partner.example
			[ $((tries % 4)) -lt 2 ] || sender=billing@partner2.example
			c=$(code "$n" 127.0.0.66 "$sender")
			tries=$((tries + 1))
			case $c in 2*)
				acc=$((acc + 1))
				echo "node $n accepted $sender: $c" >>"$TB_RUN/outsider.accepted"
				;;
			esac
		done
		echo "$tries $acc" >"$TB_RUN/outsider.count"
	done
}
outsider &
OUTSIDER=$!

# ---- (1) add, change, delete at the provider ------------------------------------------
change < <(grant client9 127.0.0.9)
reaches "added trusted_networks 127.0.0.9: relays" "$T0" "250 ${P1[*]}"

change <<'LDIF'
dn: cn=licensed,ou=relaymilter,dc=example,dc=com
changetype: modify
delete: relayMilterValue
relayMilterValue: billing@partner.example
-
add: relayMilterValue
relayMilterValue: billing@partner2.example
LDIF
t0=$T0
reaches "licensed sender changed: the new one relays, the old one is refused" "$t0" \
	"250 ${P2[*]}" "553 ${P1[*]}"
past_window "$t0"
stays "past 2 s: the deleted sender relays on neither node" 553 "a b" "${P1[@]}"

# ---- (2) the provider down: both nodes answer from their consumers ---------------------
down_lines() { grep -c "LDAP unavailable" "$TB_RUN/milter-$1.log" || true; }
da=$(down_lines a) db=$(down_lines b)
ld_node_stop provider
sleep 3 # three refreshes
stays "provider down: the trusted client still relays" 250 "a b" "${P2[@]}"
stays "provider down: the old sender is still refused" 553 "a b" "${P1[@]}"
stays "provider down: the local domain is still local" 250 "a b" "${LOCAL[@]}"
check "provider down: neither relaymilter lost its LDAP (the consumers answer)" \
	test "$(down_lines a) $(down_lines b)" = "$da $db"
ld_node_start provider || bail "the provider starts again"
check "provider back: the consumers are in step again" in_step c1 c2

# ---- (3) consumer 2 down: node b keeps its last known data ---------------------------
ld_node_stop c2
change < <(grant client10 127.0.0.10)
lat=$(answers_by a 250 "$T0" 10000 "${P3[@]}")
if [ "$lat" -le "$WITHIN_MS" ]; then
	ok "consumer 2 down: node a follows the provider (127.0.0.10 relays after <= $lat ms)"
else
	not_ok "consumer 2 down: node a follows the provider within $WITHIN_MS ms" "$lat ms"
fi
sleep 2
stays "consumer 2 down: node b has not heard of 127.0.0.10" 550 b "${P3[@]}"
stays "consumer 2 down: node b keeps its last known data" 250 b "${P2[@]}"
tb_node b
n0=$(wc -l <"$TB_MILTER_LOG")
tb_milter_stop TERM
if tb_milter_start "$BIN" "$TB_STATE/relaymilter-b.conf"; then
	# with content synchronisation it resumes from the cache's cookies,
	# with polling it falls back to the cache: either way, the cache file
	if tail -n +$((n0 + 1)) "$TB_MILTER_LOG" |
		grep -Eq "using the last known good LDAP data|LDAP data from .*ldap-b\.cache"; then
		ok "consumer 2 down, node b restarted: it starts from its cache file"
	else
		not_ok "consumer 2 down, node b restarted: it starts from its cache file" \
			"$(tail -n +$((n0 + 1)) "$TB_MILTER_LOG" | head -5)"
	fi
	stays "restarted from the cache: the trusted client relays" 250 b "${P2[@]}"
	stays "restarted from the cache: the old sender is refused" 553 b "${P1[@]}"
	stays "restarted from the cache: the local domain is local" 250 b "${LOCAL[@]}"
	stays "restarted from the cache: still no 127.0.0.10" 550 b "${P3[@]}"
else
	not_ok "node b's relaymilter restarts" "$(tail -3 "$TB_MILTER_LOG")"
fi
stays "consumer 2 down: node a unaffected" 250 a "${P3[@]}"
ld_node_start c2 || bail "consumer 2 starts again"
lat=$(answers_by b 250 "$(ms)" 15000 "${P3[@]}")
if [ "$lat" -lt 15000 ]; then
	ok "consumer 2 back: node b catches up (127.0.0.10 relays after <= $lat ms)"
else
	not_ok "consumer 2 back: node b catches up" "not after $lat ms"
fi
check "consumer 2 back: in step with the provider" in_step c1 c2

# ---- (4) the grants deleted ---------------------------------------------------------
change <<'LDIF'
dn: cn=client9,ou=relaymilter,dc=example,dc=com
changetype: delete

dn: cn=client10,ou=relaymilter,dc=example,dc=com
changetype: delete
LDIF
t0=$T0
reaches "deleted trusted_networks 127.0.0.9 and 127.0.0.10: refused" "$t0" \
	"550 ${P2[*]}" "550 ${P3[*]}"
past_window "$t0"
stays "past 2 s: 127.0.0.9 relays on neither node" 550 "a b" "${P2[@]}"
stays "past 2 s: 127.0.0.10 relays on neither node" 550 "a b" "${P3[@]}"

touch "$STOP"
wait "$OUTSIDER" || true
read -r tries acc <"$TB_RUN/outsider.count" || tries=0 acc=
if [ "$tries" -ge 20 ] && [ "$acc" = 0 ]; then
	ok "the outsider's relay, tried $tries times through both nodes during the changes: never accepted"
else
	not_ok "the outsider's relay is never accepted" \
		"$acc of $tries accepted: $(head -3 "$TB_RUN/outsider.accepted" 2>/dev/null)"
fi
check "at the end all three directories hold the same data (contextCSN)" in_step c1 c2
# the cache file is written when the data changes: its age is that of the
# last change the node saw (README, what to monitor)
for n in a b; do
	check "node $n: its cache file was written after the last change" \
		test "$(stat -c %Y "$TB_STATE/ldap-$n.cache")" -ge $((t0 / 1000))
done
echo "# propagation latencies (ms, provider change -> SMTP answer):$LATENCIES"
finish
