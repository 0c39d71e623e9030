# shellcheck shell=bash
# t/lib/e2e.sh - the end-to-end tests' side of contrib/testbed (a throwaway
# Postfix or Sendmail, relaymilter, slapd in private namespaces).  Sourced
# after tap.sh; sources contrib/testbed/lib.sh.
#
#   e2e_begin "$0" "$@"   after need_root and need_tools: the script again
#                         in private namespaces (tb_enter_ns) with lo set
#                         up and a state directory removed at exit.  Sets
#                         MCONF (relaymilter's config) and OUT (tb_smtp's)
#   e2e_write_conf [EXTRA]  the policy of the relay scenarios into MCONF;
#                         E2E_SUB_NAME is the submission listener's
#                         {daemon_name} (require_auth there, and the
#                         settings in E2E_SUB_PROFILE)
#   e2e_pf_authority [LOGIN...]  a Postfix (tb_pf_init) in the authority
#                         deployment, contrib/postfix as shipped: an MX
#                         listener on 127.0.0.1:2525 ({daemon_name} mx)
#                         and a submission one on 2587 (E2E_SUB_NAME;
#                         other ports: E2E_MX_PORT, E2E_SUB_PORT), the
#                         SASL logins alice and LOGIN... (@testbed.test,
#                         password "secret"); not started
#   e2e_sm_authority [MC...]  a Sendmail (tb_sm_init) in the authority
#                         deployment, contrib/sendmail/*.mc as shipped but
#                         for the ports: an MTA daemon on 127.0.0.1:2525
#                         (Name=MTA) and an MSA one on 2587 (Name=MSA),
#                         then the .mc snippet files MC...; not started,
#                         no SMTP AUTH yet (tb_sm_sasl)
#   e2e_sm_start BIN      a test's Sendmail half: e2e_sm_authority with
#                         SMTP AUTH (tb_sm_sasl: alice and bob), relaymilter
#                         BIN on MCONF (written for E2E_SUB_NAME=MSA) and
#                         Sendmail started; bails when any of it fails.
#                         Without the unpacked Sendmail: a skipped
#                         "Sendmail" line, then finish
#   e2e_reload            SIGUSR1, then wait until relaymilter says it
#                         reloaded
# 127.0.0.20 is the home/ISP network (trusted), 127.0.0.9 a client away
# from home.

# shellcheck source-path=SCRIPTDIR source=../../contrib/testbed/lib.sh
. "$SRC/contrib/testbed/lib.sh"
E2E_SUB_NAME=submission

e2e_begin() {
	need_tools unshare ip ss
	tb_enter_ns "$@"
	tb_ns_setup || bail "namespace setup (lo, hostname, $TB_NS_ADDRS)"
	tb_state_init
	trap 'tb_cleanup' EXIT
	trap 'exit 130' INT TERM HUP
	MCONF=$TB_STATE/relaymilter.conf
	# shellcheck disable=SC2034 # for the sourcing script
	OUT=$TB_RUN/smtp
}

# shellcheck disable=SC2120 # EXTRA is optional
e2e_write_conf() {
	cat >"$MCONF" <<CONF
log_level = "info";
hostnames = [ "mx.testbed.test" ];
local_domains = [ "testbed.test" ];
trusted_networks = [ "127.0.0.20/32" ];
licensed_senders = [ "testbed.test", "billing@partner.test" ];
sender_logins = (
	{ login = "alice@testbed.test"; senders = [ "alice@testbed.test" ]; },
	{ login = "bob@testbed.test"; senders = [ "bob@testbed.test" ]; }
);
listeners = { $E2E_SUB_NAME = { require_auth = true; ${E2E_SUB_PROFILE:-} }; };
${1:-}
CONF
}

e2e_pf_authority() {
	local u
	local -a opts
	tb_pf_init
	for u in "$@"; do
		printf secret | saslpasswd2 -p -f "$TB_PFC/sasl/sasldb2" -u testbed.test "$u"
	done
	tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
	tb_pf_conf 'mynetworks = 127.0.0.1/32'
	mapfile -t opts < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
		"$SRC/contrib/postfix/master.cf.authority")
	tb_pf_listen \
		"127.0.0.1:${E2E_MX_PORT:-2525} inet n - n - - smtpd" "${opts[@]}" \
		'  -o milter_macro_daemon_name=mx' \
		"127.0.0.1:${E2E_SUB_PORT:-2587} inet n - n - - smtpd" "${opts[@]}" \
		"  -o milter_macro_daemon_name=$E2E_SUB_NAME"
}

# shellcheck disable=SC2120 # MC... is optional
e2e_sm_authority() {
	sed -e 's/Port=smtp,/Port=2525, Addr=127.0.0.1,/' \
		-e 's/Port=submission,/Port=2587, Addr=127.0.0.1,/' \
		"$SRC/contrib/sendmail/daemons.mc" >"$TB_STATE/daemons.mc"
	# (tb_sm_init points relaymilter.mc's S= at this instance's milter socket)
	tb_sm_init "$SRC/contrib/sendmail/relaymilter.mc" "$TB_STATE/daemons.mc" \
		"$SRC/contrib/sendmail/authority.mc" "$@"
}

e2e_sm_start() {
	if ! tb_sm_have; then
		skip Sendmail "no Sendmail unpacked under $TB_SM_ROOT (contrib/install-deps test)"
		finish
	fi
	e2e_sm_authority || bail "sendmail.cf from contrib/sendmail/*.mc"
	tb_sm_sasl || bail "Sendmail's SMTP AUTH (private mount namespace)"
	tb_milter_start "$1" "$MCONF" || bail "relaymilter starts for Sendmail" "$(tail -3 "$TB_MILTER_LOG")"
	tb_sm_start 2525 2587 || bail "Sendmail starts"
}

e2e_reload() {
	local before _
	before=$(grep -c "reloaded" "$TB_MILTER_LOG" || true)
	kill -USR1 "$TB_MILTER_PID"
	for _ in $(seq 100); do
		[ "$(grep -c "reloaded" "$TB_MILTER_LOG" || true)" -gt "$before" ] && break
		sleep 0.05
	done
}

