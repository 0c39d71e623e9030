#!/bin/bash
# t/e2e/spoof.sh BIN - local sender spoofing through the MTA's own rewrites
# (issue 12): a client that is neither trusted nor authenticated, and a
# login that owns only some senders, send MAIL FROM forms that look foreign
# to a naive check but that Sendmail or Postfix turn into one of our own
# addresses (ceo%testbed.test@localhost. -> ceo@testbed.test), through a
# real Sendmail and a real Postfix in the "authority" deployment
# (contrib/sendmail/*.mc, contrib/postfix/*.authority as shipped; only the
# ports, and Postfix's chroot column, changed).
#
# For every form the test reads what the MTA did with the sender:
#   Sendmail  class w as in production (interfaces probed: localhost, $j,
#             [127.0.0.1], the LAN literals) plus our domains; local mail
#             goes on to a mail hub (MAIL_HUB), remote mail to SMART_HOST,
#             both relay:[127.0.0.1]: after a queue run smtp-sink on
#             127.0.0.1:25 has the MAIL FROM Sendmail actually transmitted
#             (its final ruleset turns u%ours@ours into u@ours)
#   Postfix   the from=<...> of qmgr in the maillog: what was queued
# and checks that
#   - no message leaves with a sender the policy refuses: for the outsider
#     one of our domains, localhost, an address literal or a bare name
#     anywhere in it; for the login, anything it does not own;
#   - relaymilter refused the form itself: 553 5.7.1 at RCPT
#     (rule=local_sender_spoof, or sender_login for the login); a refusal
#     by the MTA itself at MAIL FROM counts too, and says so.
# Positive controls: an outsider with a remote sender to a local recipient
# is accepted and delivered, the login with its own senders relays.  The
# login uses the MSA (Sendmail) or port 25 with AUTH (Postfix: the shipped
# submission service demands STARTTLS, see below).
#
# Postfix runs twice: with the testbed's compatibility level, then with
# compatibility_level = 0 (append_dot_mydomain = yes, mydomain and myorigin
# our domain), where ceo@mx is queued as ceo@mx.testbed.test.  Both
# services of contrib/postfix/master.cf.authority run as shipped (the
# submission block uncommented, only the addresses and the chroot column
# changed); the submission service must apply listeners.submission: 530
# 5.7.0 at MAIL FROM without AUTH (after STARTTLS, which it demands),
# listener=submission in relaymilter's log, and no warning that the
# profile matched no session.
#
# The server's other addresses: 192.0.2.25 and 2001:db8::25 on lo in the
# namespace and in our_addresses, 192.0.2.26 on lo only (relaymilter's
# our_interface_addresses), 198.51.100.25 the address a NAT shows the
# world, in our_addresses only (Sendmail: in class w by LOCAL_DOMAIN,
# Postfix: proxy_interfaces).  Postfix runs with inet_interfaces = all,
# so it calls the literals of the interface addresses local as well.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines and a table (form | reply | what left); exits 1
# on any failure.  TB_KEEP=1 keeps the state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: spoof.sh RELAYMILTER-BINARY}")
# the server's other addresses: LAN4 and LAN6 on an interface and in
# our_addresses, IFONLY on an interface only, NAT (the address the world
# sees) in our_addresses only
LAN4=192.0.2.25
LAN6=2001:db8::25
IFONLY=192.0.2.26
NAT=198.51.100.25
TB_NS_ADDRS="fd00::9 $LAN4 $LAN6 $IFONLY"
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix postqueue smtp-sink m4 perl python3 openssl saslpasswd2
e2e_begin "$0" "$@"

CLIENT=127.0.0.9
LOGIN=alice@testbed.test
TABLE=$TB_RUN/table
: >"$TABLE"

# Forms: kind | name | MAIL FROM (byte for byte) | RCPT TO
#   spoof  outsider (127.0.0.9, no AUTH) to a local recipient: must be
#          refused 553 5.7.1 (local_sender_spoof), nothing may leave
#   login  AUTH as alice (owns alice@testbed.test and @sales.testbed.test)
#          to a remote recipient: must be refused 553 5.7.1 (sender_login)
#   inbound / relay  the positive controls: accepted and delivered
forms() {
	cat <<EOF
spoof|plain local sender|<ceo@testbed.test>|<user@testbed.test>
spoof|% at localhost.|<ceo%testbed.test@localhost.>|<user@testbed.test>
spoof|% at localhost|<ceo%testbed.test@localhost>|<user@testbed.test>
spoof|% at LOCALHOST|<ceo%testbed.test@LOCALHOST>|<user@testbed.test>
spoof|% at x.localhost|<ceo%testbed.test@x.localhost>|<user@testbed.test>
spoof|% at localhost.localdomain|<ceo%testbed.test@localhost.localdomain>|<user@testbed.test>
spoof|% at single label|<ceo%testbed.test@mx>|<user@testbed.test>
spoof|% at [127.0.0.1]|<ceo%testbed.test@[127.0.0.1]>|<user@testbed.test>
spoof|% at LAN literal|<ceo%testbed.test@[$LAN4]>|<user@testbed.test>
spoof|% at [IPv6:::1]|<ceo%testbed.test@[IPv6:::1]>|<user@testbed.test>
spoof|% at IPv6 LAN literal|<ceo%testbed.test@[IPv6:$LAN6]>|<user@testbed.test>
spoof|% at interface-only literal|<ceo%testbed.test@[$IFONLY]>|<user@testbed.test>
spoof|% at NAT literal|<ceo%testbed.test@[$NAT]>|<user@testbed.test>
spoof|% at [IPv6:::ffff:127.0.0.1]|<ceo%testbed.test@[IPv6:::ffff:127.0.0.1]>|<user@testbed.test>
spoof|% at [::ffff:127.0.0.1]|<ceo%testbed.test@[::ffff:127.0.0.1]>|<user@testbed.test>
spoof|localhost|<ceo@localhost>|<user@testbed.test>
spoof|localhost.|<ceo@localhost.>|<user@testbed.test>
spoof|LOCALHOST|<ceo@LOCALHOST>|<user@testbed.test>
spoof|x.localhost|<ceo@x.localhost>|<user@testbed.test>
spoof|localhost.localdomain|<ceo@localhost.localdomain>|<user@testbed.test>
spoof|single label|<ceo@mx>|<user@testbed.test>
spoof|[127.0.0.1]|<ceo@[127.0.0.1]>|<user@testbed.test>
spoof|LAN literal|<ceo@[$LAN4]>|<user@testbed.test>
spoof|[IPv6:::1]|<ceo@[IPv6:::1]>|<user@testbed.test>
spoof|IPv6 LAN literal|<ceo@[IPv6:$LAN6]>|<user@testbed.test>
spoof|IPv4-mapped LAN literal|<ceo@[IPv6:::ffff:$LAN4]>|<user@testbed.test>
spoof|interface-only literal|<ceo@[$IFONLY]>|<user@testbed.test>
spoof|NAT literal|<ceo@[$NAT]>|<user@testbed.test>
spoof|[::ffff:127.0.0.1]|<ceo@[::ffff:127.0.0.1]>|<user@testbed.test>
spoof|quoted @ at localhost|<"ceo@testbed.test"@localhost>|<user@testbed.test>
spoof|quoted % at localhost|<"ceo%testbed.test"@localhost>|<user@testbed.test>
spoof|bang path at localhost|<testbed.test!ceo@localhost>|<user@testbed.test>
spoof|bare bang path|<testbed.test!ceo>|<user@testbed.test>
spoof|source route via localhost|<@localhost:ceo@testbed.test>|<user@testbed.test>
spoof|source route via foreign host|<@remote.test:ceo@testbed.test>|<user@testbed.test>
spoof|double @|<ceo@testbed.test@localhost>|<user@testbed.test>
spoof|unqualified|<ceo>|<user@testbed.test>
login|% at owned domain|<ceo%testbed.test@sales.testbed.test>|<user@remote.test>
login|quoted @ at owned domain|<"ceo@testbed.test"@sales.testbed.test>|<user@remote.test>
login|bang path at owned domain|<testbed.test!ceo@sales.testbed.test>|<user@remote.test>
login|source route via owned domain|<@sales.testbed.test:ceo@testbed.test>|<user@remote.test>
login|% at localhost|<ceo%testbed.test@localhost>|<user@remote.test>
login|% at LAN literal|<ceo%testbed.test@[$LAN4]>|<user@remote.test>
inbound|outsider, remote sender, local recipient|<friend@remote.test>|<user@testbed.test>
relay|login, its own address|<alice@testbed.test>|<user@remote.test>
relay|login, an address of its domain|<anyone@sales.testbed.test>|<user@remote.test>
EOF
}

# spoof_conf LISTENER: the policy
spoof_conf() {
	cat >"$MCONF" <<CONF
log_level = "${SPOOF_LOG_LEVEL:-info}";
hostnames = [ "mx.testbed.test", "smx.testbed.test" ];
local_domains = [ "testbed.test", ".testbed.test" ];
trusted_networks = [ "127.0.0.20/32" ];
sender_logins = (
	{ login = "$LOGIN"; senders = [ "alice@testbed.test", "@sales.testbed.test" ]; }
);
listeners = { $1 = { require_auth = true; }; };
our_addresses = [ "$LAN4", "$LAN6", "$NAT" ];
CONF
}

# ours ADDR: the sender names one of our domains, localhost, an address
# literal or a bare name anywhere (final domain, source-route hops, % and !
# hosts, quoted local parts)
ours() {
	local a
	a=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | tr -d '<>"')
	[ -n "$a" ] || return 1 # the null sender
	case $a in *@*) ;; *) return 0 ;; esac
	case $a in *[[]*) return 0 ;; esac # an address literal
	case ${a##*@} in *.*) ;; *) return 0 ;; esac # single label
	printf '%s\n' "$a" | tr '@%!:,' '\n' | sed 's/\.$//' | grep -qE \
		'^((.*\.)?testbed\.test|(.*\.)?localhost|localhost\.localdomain)$'
}
# owned ADDR: an address the login owns, with no routing in it
owned() {
	local a
	a=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]' | tr -d '<>')
	printf '%s\n' "$a" | grep -qE '^(alice@testbed\.test|[a-z0-9._+-]+@sales\.testbed\.test)$'
}

decisions() { grep -cE ' rule=.* verdict=' "$TB_MILTER_LOG" || true; }

# send_all MTA TAGPREFIX MXPORT SUBPORT: every form, one session each;
# appends "MTA|KIND|NAME|FROM|REPLY|LAYER|TAG" to the table
send_all() {
	local mta=$1 pfx=$2 mx=$3 sub=$4 kind name from rcpt n=0 port tag before line layer
	local -a auth
	while IFS='|' read -r kind name from rcpt; do
		n=$((n + 1))
		tag=$pfx-$n
		port=$mx auth=()
		case $kind in login | relay) port=$sub auth=("$LOGIN" secret) ;; esac
		before=$(decisions)
		perl "$HERE/smtp-probe.pl" 127.0.0.1 "$port" "$CLIENT" client.example \
			"$from" "$rcpt" "$tag" "${auth[@]}" >"$OUT" 2>&1 || true
		line=$(awk '$1 == "AUTH" && $2 !~ /^2/ { print "(AUTH) " substr($0, 6); exit }
			$1 == "MAIL" && $2 !~ /^2/ { print "(MAIL) " substr($0, 6); exit }
			$1 == "RCPT" { print substr($0, 6); exit }' "$OUT")
		[ -n "$line" ] || line="none: $(tr '\n' ' ' <"$OUT")"
		layer=$mta
		if [ "$(decisions)" -gt "$before" ]; then
			layer="relaymilter $(grep -E ' rule=.* verdict=' "$TB_MILTER_LOG" | tail -1 |
				sed -E 's/.* rule=([a-z_]+).*/\1/')"
		fi
		printf '%s|%s|%s|%s|%s|%s|%s\n' "$mta" "$kind" "$name" "$from" "$line" "$layer" "$tag" >>"$TABLE"
	done < <(forms)
}

# judge MTA LEFT-FILE: LEFT-FILE has "TAG SENDER" for every message that
# left (or was queued to leave); one ok/not ok per form and check
judge() {
	local mta=$1 left=$2 m kind name from line layer tag out rule
	while IFS='|' read -r m kind name from line layer tag; do
		[ "$m" = "$mta" ] || continue
		out=$(awk -v t="$tag" '$1 == t { print $2; exit }' "$left")
		case $kind in
		spoof | login)
			if [ -z "$out" ]; then
				ok "$mta: $name $from: nothing left"
			elif [ "$kind" = spoof ] && ours "$out"; then
				not_ok "$mta: $name $from: nothing left as a local sender" "SPOOFED: left as $out"
			elif [ "$kind" = login ] && ! owned "$out"; then
				not_ok "$mta: $name $from: nothing left as a sender the login does not own" "SPOOFED: left as $out"
			else
				ok "$mta: $name $from: left as $out, not a sender of ours"
			fi
			rule=local_sender_spoof
			[ "$kind" = login ] && rule=sender_login
			case $line in
			"553 5.7.1 "*)
				if [ "$layer" = "relaymilter $rule" ]; then
					ok "$mta: $name $from: 553 5.7.1 ($rule)"
				else
					not_ok "$mta: $name $from: 553 5.7.1 ($rule)" "$line; $layer"
				fi
				;;
			"(MAIL) 5"*) ok "$mta: $name $from: refused by $mta itself ($line)" ;;
			*) not_ok "$mta: $name $from: 553 5.7.1 ($rule)" "got '$line'; $layer" ;;
			esac
			;;
		inbound | relay)
			case $line in
			2*)
				if [ -n "$out" ]; then
					ok "$mta: control: $name: accepted, left as $out"
				else
					not_ok "$mta: control: $name: delivered" "accepted, but nothing left"
				fi
				;;
			*) not_ok "$mta: control: $name: accepted" "got '$line'; $layer" ;;
			esac
			;;
		esac
		printf '%s|%s|%s|%s|%s\n' "$mta" "$from" "$line" "$layer" "${out:--}" >>"$TB_RUN/summary"
	done <"$TABLE"
}

# ==== Sendmail ====================================================================
sendmail_run() {
	local sink=$TB_RUN/sink f tag
	echo "# Sendmail: contrib/sendmail/{relaymilter,daemons,authority}.mc, interfaces probed"
	# as in production: class w = $j, localhost and the names and literals
	# of every interface address (the testbed switches probing off), our
	# domains and the NAT address.  Local mail goes on to a mail hub
	# (MAIL_HUB), remote mail to SMART_HOST: both relay:[127.0.0.1], where
	# smtp-sink listens during the queue run.
	printf '%s\n' "define(\`confDONT_PROBE_INTERFACES', \`False')dnl" \
		"define(\`MAIL_HUB', \`relay:[127.0.0.1]')dnl" \
		"LOCAL_DOMAIN(\`testbed.test')dnl" "LOCAL_DOMAIN(\`mx.testbed.test')dnl" \
		"LOCAL_DOMAIN(\`sales.testbed.test')dnl" "LOCAL_DOMAIN(\`[$NAT]')dnl" \
		>"$TB_STATE/site.mc"
	if ! e2e_sm_authority "$TB_STATE/site.mc"; then
		not_ok "Sendmail" "sendmail.cf from contrib/sendmail/*.mc"
		return
	fi
	if ! tb_sm_sasl; then
		not_ok "Sendmail" "no SMTP AUTH (no private mount namespace)"
		return
	fi
	echo "# Sendmail class w: $(printf '$=w\n' | tb_sm -bt 2>&1 | sed -n 's/^> //; /^[a-z0-9[]/p' | tr '\n' ' ')"
	spoof_conf MSA
	if ! tb_milter_start "$BIN" "$MCONF"; then
		not_ok "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
		return
	fi
	if ! tb_sm_start 2525 2587; then
		not_ok "Sendmail starts" "see above"
		return
	fi
	send_all Sendmail sm 2525 2587
	tb_sm_stop
	tb_milter_stop TERM
	# the queue, to smtp-sink: what Sendmail transmits
	mkdir -p "$sink"
	chown postfix "$sink"
	smtp-sink -u postfix -D "$sink/dump" 127.0.0.1:25 64 &
	SINK_PID=$!
	tb_wait_port 25 || true
	tb_sm -q -v >"$TB_RUN/qrun.out" 2>&1 || true
	kill "$SINK_PID" 2>/dev/null || true
	wait "$SINK_PID" 2>/dev/null || true
	# the dump: "X-Mail-Args: <sender>" per transaction, then the message
	awk '/^X-Mail-Args: / { s = $2; sub(/^[Ff][Rr][Oo][Mm]:/, "", s) }
		/^Message-ID: </ { t = $2; gsub(/[<>]/, "", t); sub(/@audit$/, "", t); print t, s }' \
		"$sink/dump" 2>/dev/null >"$TB_RUN/left.sendmail" || true
	# what is still in the queue (not transmitted) counts as leaving too
	for f in "$TB_SM"/mqueue/qf*; do
		[ -e "$f" ] || continue
		tag=$(sed -n 's/^H.*Message-ID: <\(.*\)@audit>$/\1/p' "$f")
		grep -q "^$tag " "$TB_RUN/left.sendmail" ||
			echo "$tag $(sed -n 's/^S//p' "$f") (still queued)" >>"$TB_RUN/left.sendmail"
	done
	judge Sendmail "$TB_RUN/left.sendmail"
}

# ==== Postfix =====================================================================
# postfix_run NAME TAGPREFIX MAIN.CF-LINES...: one run of every form
postfix_run() {
	local name=$1 pfx=$2 qid tag from
	shift 2
	echo "# Postfix ($name): contrib/postfix/main.cf.authority + master.cf.authority (smtp and submission)"
	rm -rf "$TB_PF"
	tb_pf_init >"$TB_RUN/init.out" 2>&1 || {
		not_ok "Postfix ($name) set up" "$(tail -3 "$TB_RUN/init.out")"
		return
	}
	tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
	# shellcheck disable=SC2016 # Postfix expands $myhostname
	tb_pf_conf 'mynetworks = 127.0.0.1/32' 'inet_interfaces = all' "proxy_interfaces = $NAT" \
		'mydestination = $myhostname, testbed.test, sales.testbed.test, localhost, localhost.localdomain' \
		"smtpd_tls_cert_file = $TB_STATE/tls.pem" "smtpd_tls_key_file = $TB_STATE/tls.pem" "$@"
	# the services of master.cf.authority as shipped, the submission block
	# uncommented; only the addresses and the chroot column changed
	sed -E -e 's/^#(submission|  -o)/\1/' \
		-e 's/^smtp( +inet +n +- +)y/127.0.0.1:2525\1n/' \
		-e 's/^submission( +inet +n +- +)y/127.0.0.1:2587\1n/' \
		"$SRC/contrib/postfix/master.cf.authority" | grep -v '^#' >"$TB_STATE/master.add"
	mapfile -t LINES <"$TB_STATE/master.add"
	tb_pf_listen "${LINES[@]}" 'tlsmgr unix - - n 1000? 1 tlsmgr'
	echo "# Postfix ($name): $(postconf -c "$TB_PFC" compatibility_level append_dot_mydomain mydomain myorigin allow_percent_hack swap_bangpath | tr '\n' ' ')"
	spoof_conf submission
	if ! tb_milter_start "$BIN" "$MCONF"; then
		not_ok "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
		return
	fi
	if ! tb_pf_start 2525 2587; then
		not_ok "Postfix ($name) starts" "see above"
		tb_milter_stop KILL
		return
	fi
	submission_check "$name"
	send_all "Postfix ($name)" "$pfx" 2525 2525
	# more than 50 sessions, one of them on submission: no warning that a
	# profile matched nothing
	if grep -q 'listener profile "submission" .*has matched none' "$TB_MILTER_LOG"; then
		not_ok "Postfix ($name): listeners.submission reached" \
			"$(grep -m1 'listener profile "submission" .*has matched none' "$TB_MILTER_LOG")"
	else
		ok "Postfix ($name): listeners.submission reached (no \"has matched none\" warning)"
	fi
	for _ in $(seq 200); do
		postqueue -c "$TB_PFC" -p 2>/dev/null | grep -q 'Mail queue is empty' && break
		sleep 0.05
	done
	tb_pf_stop
	tb_milter_stop TERM
	# the queued sender: cleanup's message-id line gives the queue id,
	# qmgr's from= the sender (a message queued without one counts as
	# a spoof: ours() calls a sender without '@' ours)
	: >"$TB_RUN/left.postfix"
	while read -r qid tag; do
		from=$(sed -nE "s/.*qmgr\[[0-9]+\]: $qid: from=(<[^>]*>).*/\1/p" "$TB_MAILLOG" | head -1)
		echo "$tag ${from:-queued-but-qmgr-never-saw-it}" >>"$TB_RUN/left.postfix"
	done < <(sed -nE 's/.*cleanup\[[0-9]+\]: ([0-9A-F]+): message-id=<([^@]*)@audit>.*/\1 \2/p' "$TB_MAILLOG")
	judge "Postfix ($name)" "$TB_RUN/left.postfix"
}

# submission_check NAME: the shipped submission service (STARTTLS
# required) applies listeners.submission: MAIL without AUTH 530 5.7.0 from
# relaymilter, logged as listener=submission; with AUTH the login relays
submission_check() {
	local r
	r=$(python3 - "$LOGIN" <<'PY' 2>&1
import smtplib, ssl, sys
def run(login):
    s = smtplib.SMTP("127.0.0.1", 2587, local_hostname="client.example",
                     source_address=("127.0.0.9", 0), timeout=20)
    s.ehlo()
    s.starttls(context=ssl._create_unverified_context())
    s.ehlo()
    if login:
        s.login(login, "secret")
    code, text = s.docmd("MAIL FROM:<alice@testbed.test>")
    out = [str(code)]
    if code == 250:
        code, text = s.docmd("RCPT TO:<user@remote.test>")
        out.append(str(code))
    s.quit()
    return " ".join(out) + " " + text.decode(errors="replace").replace("\n", " ")
print("noauth", run(None))
print("auth", run(sys.argv[1]))
PY
	) || true
	if printf '%s\n' "$r" | grep -qE '^noauth 530 5\.7\.0 ' &&
		grep -q ' listener=submission rule=require_auth verdict=reject' "$TB_MILTER_LOG"; then
		ok "Postfix ($1): shipped submission service: MAIL without AUTH 530 5.7.0, listener=submission"
	else
		not_ok "Postfix ($1): shipped submission service: MAIL without AUTH 530 5.7.0, listener=submission" \
			"$(printf '%s' "$r" | tr '\n' ' '); $(grep -E 'listener=' "$TB_MILTER_LOG" | tail -1)"
	fi
	if printf '%s\n' "$r" | grep -qE '^auth 250 250 '; then
		ok "Postfix ($1): shipped submission service: the login relays"
	else
		not_ok "Postfix ($1): shipped submission service: the login relays" "$(printf '%s' "$r" | tr '\n' ' ')"
	fi
}

# oldsnippet_run: the submission service without milter_macro_daemon_name
# (the snippet before it named itself): its sessions arrive as
# $myhostname, listeners.submission matches none of them, and relaymilter
# says so in its log, naming the setting
oldsnippet_run() {
	local i r
	rm -rf "$TB_PF"
	tb_pf_init >"$TB_RUN/init.out" 2>&1 || {
		not_ok "Postfix (old snippet) set up" "$(tail -3 "$TB_RUN/init.out")"
		return
	}
	tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
	tb_pf_conf 'mynetworks = 127.0.0.1/32' 'mydestination = $myhostname, testbed.test' \
		"smtpd_tls_cert_file = $TB_STATE/tls.pem" "smtpd_tls_key_file = $TB_STATE/tls.pem"
	sed -E -e 's/^#(submission|  -o)/\1/' \
		-e 's/^smtp( +inet +n +- +)y/127.0.0.1:2525\1n/' \
		-e 's/^submission( +inet +n +- +)y/127.0.0.1:2587\1n/' \
		"$SRC/contrib/postfix/master.cf.authority" |
		grep -v -e '^#' -e 'milter_macro_daemon_name=submission' >"$TB_STATE/master.add"
	mapfile -t LINES <"$TB_STATE/master.add"
	tb_pf_listen "${LINES[@]}" 'tlsmgr unix - - n 1000? 1 tlsmgr'
	spoof_conf submission
	: >"$TB_MILTER_LOG"
	if ! tb_milter_start "$BIN" "$MCONF" || ! tb_pf_start 2525 2587; then
		not_ok "Postfix (old snippet) starts" "$(tail -3 "$TB_MILTER_LOG")"
		return
	fi
	for i in 1 2 3 4 5; do
		r=$(python3 - <<'PY' 2>&1
import smtplib, ssl
s = smtplib.SMTP("127.0.0.1", 2587, local_hostname="client.example",
                 source_address=("127.0.0.9", 0), timeout=20)
s.ehlo()
s.starttls(context=ssl._create_unverified_context())
s.ehlo()
code, text = s.docmd("MAIL FROM:<friend@remote.test>")
print(code)
s.quit()
PY
		) || true
	done
	if grep -q 'warning: listener profile "submission" .*has matched none of the 5 sessions.*milter_macro_daemon_name=submission' "$TB_MILTER_LOG"; then
		ok "Postfix (old snippet): relaymilter warns that listeners.submission matched no session (last MAIL: $r)"
	else
		not_ok "Postfix (old snippet): relaymilter warns that listeners.submission matched no session" \
			"$(grep -c 'listener=' "$TB_MILTER_LOG") decisions; $(grep 'listener profile' "$TB_MILTER_LOG" | head -1)"
	fi
	tb_pf_stop
	tb_milter_stop TERM
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=mx.testbed.test -keyout "$TB_STATE/tls.pem" -out "$TB_STATE/tls.crt" \
	>/dev/null 2>&1 && cat "$TB_STATE/tls.crt" >>"$TB_STATE/tls.pem"

if tb_sm_have; then
	sendmail_run
else
	not_ok "Sendmail" "no Sendmail unpacked under $TB_SM_ROOT: contrib/install-deps test"
fi
postfix_run "testbed" pf
# shellcheck disable=SC2016 # Postfix expands $mydomain
postfix_run "compatibility_level 0" pf0 'compatibility_level = 0' \
	'append_dot_mydomain = yes' 'mydomain = testbed.test' 'myorigin = $mydomain'
oldsnippet_run

# ==== the table ===================================================================
echo "# --- MTA | MAIL FROM | reply | layer | sender that left"
sed 's/^/# /' "$TB_RUN/summary" 2>/dev/null || true
finish "$SECONDS s"
