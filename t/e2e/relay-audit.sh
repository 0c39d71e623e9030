#!/bin/bash
# t/e2e/relay-audit.sh BIN - open-relay audit: the classic relay probe
# families, from an untrusted, unauthenticated client (127.0.0.9), through
# Postfix and through Sendmail in the "authority" deployment (their own
# relay checks opened by contrib/postfix/*.authority and
# contrib/sendmail/authority.mc as shipped, relaymilter alone decides).
#
# A probe passes when its RCPT is answered 4xx or 5xx (by the MTA or by
# relaymilter: the table says which) AND nothing of it reaches the queue
# or a delivery agent.  Every legitimate local form must be accepted and
# must end up with a local delivery.  The recipients are sent byte for
# byte by smtp-probe.pl (swaks would split source routes at commas).
#
# The literals of our own address include the IPv4-mapped forms, tagged
# or not ([::ffff:127.0.0.1], [0:0:0:0:0:ffff:127.0.0.1], hex
# [::ffff:7f00:1]), and untagged IPv6 literals: Postfix refuses the
# untagged ones itself (501 5.1.3), Sendmail routes all of them to its
# relay mailer, so each must be a relay for relaymilter.
#
# Postfix: the smtp and relay transports log as postfix/outbound, local as
# postfix/inbound (all three discard).  Sendmail: testbed.test,
# mx.testbed.test and [127.0.0.1] are local (class w), mail stays queued
# (queueonly) and every queued recipient is resolved with sendmail -bv.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines and the result table; exits 1 on any failure.
# TB_KEEP=1 keeps the state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: relay-audit.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix postqueue m4 perl saslpasswd2
e2e_begin "$0" "$@"

CLIENT=127.0.0.9
TABLE=$TB_RUN/table
: >"$TABLE"
cat >"$MCONF" <<'CONF'
log_level = "info";
hostnames = [ "mx.testbed.test" ];
local_domains = [ "testbed.test" ];
trusted_networks = [ "127.0.0.20/32" ];
CONF

# The probes: family | MAIL FROM | RCPT TO (exactly as sent)
probes() {
	cat <<'EOF'
percent hack|<friend@remote.test>|<user%remote.test@testbed.test>
percent hack|<friend@remote.test>|<"user%remote.test"@testbed.test>
percent hack|<friend@remote.test>|<user%remote.test@[127.0.0.1]>
percent hack|<friend@remote.test>|<user%remote.test@mx.testbed.test>
bang path|<friend@remote.test>|<remote.test!user@testbed.test>
bang path|<friend@remote.test>|<remote.test!user>
bang path|<friend@remote.test>|<"remote.test!user"@testbed.test>
source route|<friend@remote.test>|<@testbed.test:user@remote.test>
source route|<friend@remote.test>|<@mx.testbed.test,@testbed.test:user@remote.test>
quoted local part|<friend@remote.test>|<"user@remote.test"@testbed.test>
quoted local part|<friend@remote.test>|<"user@remote.test">
double @|<friend@remote.test>|<user@remote.test@testbed.test>
address literal|<friend@remote.test>|<user@[IPv6:::1]>
address literal|<friend@remote.test>|<user@[2130706433]>
address literal|<friend@remote.test>|<user@[0x7f.1]>
address literal|<friend@remote.test>|<user@[127.1]>
address literal|<friend@remote.test>|<user@[IPv6:::ffff:127.0.0.1]>
address literal|<friend@remote.test>|<user@[192.0.2.1]>
address literal|<friend@remote.test>|<user@[IPv6:2001:db8::1]>
mapped literal|<friend@remote.test>|<user@[::ffff:127.0.0.1]>
mapped literal|<friend@remote.test>|<user@[0:0:0:0:0:ffff:127.0.0.1]>
mapped literal|<friend@remote.test>|<user@[::ffff:7f00:1]>
mapped literal|<friend@remote.test>|<user@[::FFFF:7F00:0001]>
mapped literal|<friend@remote.test>|<user@[IPv6:0:0:0:0:0:ffff:127.0.0.1]>
mapped literal|<friend@remote.test>|<user@[IPv6:::ffff:7f00:1]>
mapped literal|<friend@remote.test>|<user%remote.test@[::ffff:127.0.0.1]>
untagged IPv6 literal|<friend@remote.test>|<user@[::1]>
untagged IPv6 literal|<friend@remote.test>|<user@[0:0:0:0:0:0:0:1]>
untagged IPv6 literal|<friend@remote.test>|<user@[2001:db8::1]>
trailing dot / case|<friend@remote.test>|<user@REMOTE.TEST.>
trailing dot / case|<friend@remote.test>|<user@remote.test.>
unqualified|<friend@remote.test>|<user>
unqualified|<friend@remote.test>|user@remote.test
spoofed local sender|<postmaster@testbed.test>|<user@remote.test>
spoofed local sender|<user@TESTBED.TEST.>|<user@remote.test>
null sender|<>|<user@remote.test>
plain remote|<friend@remote.test>|<user@remote.test>
EOF
}
# The legitimate forms: name | MAIL FROM | RCPT TO; each must be accepted
legit() {
	cat <<'EOF'
plain|<friend@remote.test>|<user@testbed.test>
upper case|<friend@remote.test>|<USER@TESTBED.TEST>
trailing dot|<friend@remote.test>|<user@testbed.test.>
host name|<friend@remote.test>|<user@mx.testbed.test>
bare postmaster|<friend@remote.test>|<postmaster>
postmaster@domain|<friend@remote.test>|<postmaster@testbed.test>
own literal|<friend@remote.test>|<user@[127.0.0.1]>
sub-address|<friend@remote.test>|<user+tag@testbed.test>
null sender|<>|<user@testbed.test>
EOF
}

decisions() { grep -cE ' rule=.* verdict=' "$TB_MILTER_LOG" || true; }

# probe MTA PORT KIND NAME FROM RCPT TAG: one session; appends
# "KIND|NAME|RCPT|MTA|CODE|LAYER|TAG" to the table
probe() {
	local mta=$1 port=$2 kind=$3 name=$4 from=$5 rcpt=$6 tag=$7
	local before line code layer
	before=$(decisions)
	perl "$HERE/smtp-probe.pl" 127.0.0.1 "$port" "$CLIENT" client.example \
		"$from" "$rcpt" "$tag" >"$OUT" 2>&1 || true
	line=$(awk '$1 == "RCPT" { sub(/^RCPT /, ""); print; exit }' "$OUT")
	[ -n "$line" ] || line=$(awk '$1 == "MAIL" { sub(/^MAIL /, ""); print "(MAIL) " $0; exit }' "$OUT")
	[ -n "$line" ] || line="none: $(tr '\n' ' ' <"$OUT")"
	code=${line%% *}
	if [ "$(decisions)" -gt "$before" ] &&
		tail -n +$((before + 1)) <(grep -E ' rule=.* verdict=' "$TB_MILTER_LOG") |
		grep -qE 'verdict=(reject|tempfail)'; then
		layer="relaymilter $(grep -E ' rule=.* verdict=' "$TB_MILTER_LOG" | tail -1 |
			sed -E 's/.* rule=([a-z_]+).*/\1/')"
	else
		layer=$mta
	fi
	case $kind in
	probe)
		case $code in
		[45][0-9][0-9]) ok "$mta: $name $rcpt: refused ($line; $layer)" ;;
		*) not_ok "$mta: $name $rcpt: refused" "RELAY? got '$line'" ;;
		esac
		;;
	legit)
		case $code in
		2[0-9][0-9]) ok "$mta: legitimate $name $rcpt: accepted" ;;
		*) not_ok "$mta: legitimate $name $rcpt: accepted" "got '$line' ($layer)" ;;
		esac
		;;
	esac
	printf '%s|%s|%s|%s|%s|%s|%s\n' "$kind" "$name" "$rcpt" "$mta" "$line" "$layer" "$tag" >>"$TABLE"
}

# run_all MTA PORT: every probe and every legitimate form
run_all() {
	local mta=$1 port=$2 fam from rcpt n=0
	while IFS='|' read -r fam from rcpt; do
		n=$((n + 1))
		probe "$mta" "$port" probe "$fam" "$from" "$rcpt" "$mta-p$n"
	done < <(probes)
	n=0
	while IFS='|' read -r fam from rcpt; do
		n=$((n + 1))
		probe "$mta" "$port" legit "$fam" "$from" "$rcpt" "$mta-l$n"
	done < <(legit)
}

# tags KIND MTA: the tags of the sessions of that kind
tags() { awk -F'|' -v k="$1" -v m="$2" '$1 == k && $4 == m { print $7 }' "$TABLE"; }

# ==== Postfix =====================================================================
echo "# Postfix: contrib/postfix/main.cf.authority + master.cf.authority"
tb_pf_init
tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
tb_pf_conf 'mynetworks = 127.0.0.1/32'
mapfile -t OPTS < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
	"$SRC/contrib/postfix/master.cf.authority")
tb_pf_listen '127.0.0.1:2525 inet n - n - - smtpd' "${OPTS[@]}"
postconf -c "$TB_PFC" -P 'smtp/unix/syslog_name=postfix/outbound' \
	'relay/unix/syslog_name=postfix/outbound' 'local/unix/syslog_name=postfix/inbound'
tb_pf_cool
echo "# Postfix: $(postconf -c "$TB_PFC" allow_percent_hack swap_bangpath resolve_dequoted_address | tr '\n' ' ')"
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2525 || bail "Postfix starts"
run_all Postfix 2525
# the queue drains (everything is discarded), then the log tells where
# each message went
for _ in $(seq 200); do
	postqueue -c "$TB_PFC" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
	sleep 0.05
done
pf_qid() { grep -E "cleanup\[[0-9]+\]: [0-9A-F]+: message-id=<$1@audit>" "$TB_MAILLOG" | sed -E 's/.*: ([0-9A-F]+): message-id=.*/\1/' | head -1; }
for tag in $(tags probe Postfix); do
	qid=$(pf_qid "$tag")
	[ -z "$qid" ] || not_ok "Postfix: probe $tag queued nothing" "queued as $qid: $(grep "$qid" "$TB_MAILLOG" | tail -1)"
done
for tag in $(tags legit Postfix); do
	qid=$(pf_qid "$tag")
	if [ -n "$qid" ] && grep -qE "postfix/inbound/discard\[[0-9]+\]: $qid: to=" "$TB_MAILLOG"; then :; else
		not_ok "Postfix: legitimate $tag delivered locally" "qid '${qid:-none}'"
	fi
done
if grep -E 'postfix/outbound' "$TB_MAILLOG" | grep -q 'to=<'; then
	not_ok "Postfix: nothing handed to the smtp or relay transport" "$(grep -m3 'postfix/outbound.*to=<' "$TB_MAILLOG")"
else
	ok "Postfix: nothing handed to the smtp or relay transport; probes queued nothing; legitimate mail delivered locally"
fi
tb_pf_stop
tb_milter_stop TERM

# ==== Sendmail ====================================================================
if ! tb_sm_have; then
	not_ok "Sendmail" "no Sendmail unpacked under $TB_SM_ROOT: contrib/install-deps test"
else
	echo "# Sendmail: contrib/sendmail/{relaymilter,daemons,authority}.mc, testbed.test local"
	# our domains, and the literal of our address: what a production
	# Sendmail puts in class w by probing its interfaces (the testbed
	# switches probing off)
	printf 'LOCAL_DOMAIN(`%s'"'"')dnl\n' testbed.test mx.testbed.test \
		'[127.0.0.1]' >"$TB_STATE/local.mc"
	e2e_sm_authority "$TB_STATE/local.mc" || bail "sendmail.cf from contrib/sendmail/*.mc"
	echo 'user: root' >>"$TB_SM/etc/aliases"
	tb_sm -bi >/dev/null 2>&1 || true
	tb_milter_start "$BIN" "$MCONF" ||
		bail "relaymilter starts again" "$(tail -3 "$TB_MILTER_LOG")"
	tb_sm_start 2525 2587 || bail "Sendmail starts"
	run_all Sendmail 2525
	tb_sm_stop
	# the queue: which messages, which recipients, resolved by Sendmail
	for tag in $(tags probe Sendmail); do
		f=$(grep -l "$tag@audit" "$TB_SM"/mqueue/qf* 2>/dev/null || true)
		[ -z "$f" ] || not_ok "Sendmail: probe $tag queued nothing" "$(
			sed -n 's/^R[^:]*://p' "$f" | while read -r r; do
				printf '%s -> %s; ' "$r" "$(tb_sm -bv -- "$r" 2>&1 | tail -1)"
			done
		)"
	done
	nbad=0
	for tag in $(tags legit Sendmail); do
		f=$(grep -l "$tag@audit" "$TB_SM"/mqueue/qf* 2>/dev/null || true)
		if [ -z "$f" ]; then
			not_ok "Sendmail: legitimate $tag queued" "not in the queue"
			continue
		fi
		while read -r r; do
			res=$(tb_sm -bv -- "$r" 2>&1 | tail -1)
			case $res in
			*"mailer local"* | *"mailer *file*"* | *"mailer prog"*) ;;
			*)
				nbad=$((nbad + 1))
				not_ok "Sendmail: queued $tag recipient $r is local" "$res"
				;;
			esac
		done < <(sed -n 's/^R[^:]*://p' "$f")
	done
	[ "$nbad" -eq 0 ] && ok "Sendmail: probes queued nothing; every queued recipient resolves to the local mailer"
fi

# ==== the table ===================================================================
echo "# --- relay audit: probe | Postfix | Sendmail (reply; layer that answered)"
awk -F'|' '$1 == "probe" {
	k = $2 "|" $3
	if (!(k in seen)) { seen[k] = 1; order[++n] = k }
	r[k, $4] = $5 "; " $6
} END {
	for (i = 1; i <= n; i++) {
		split(order[i], a, "|")
		printf "# %s | %s | %s | %s\n", a[1], a[2], r[order[i], "Postfix"], r[order[i], "Sendmail"]
	}
}' "$TABLE"

finish
