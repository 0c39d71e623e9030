# shellcheck shell=bash
# t/ldap/lib.sh - what the LDAP tests share (sourced by run.sh and sync.sh
# after tap.sh): the testbed and slapd, Postfix as an authority, a relay
# attempt.
#
#   ldap_begin ARGS...       root, the tools, the namespace; slapd stopped
#                            at exit
#   ldap_postfix [NAME:PORT...]  Postfix's authority config, mynetworks
#                            127.0.0.1, smtpd on 127.0.0.1:2525 as "mx"
#                            and on each 127.0.0.1:PORT as NAME
#   relay_code               the RCPT reply code of a relay attempt from
#                            127.0.0.9
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
# shellcheck source-path=SCRIPTDIR source=../../contrib/testbed/ldap.sh
. "$SRC/contrib/testbed/ldap.sh"

ldap_begin() {
	need_root "network namespace, slapd, Postfix"
	need_tools slapd slapadd ldapmodify ldapsearch postfix swaks
	e2e_begin "$@"
	trap 'ld_stop; tb_cleanup' EXIT
}

ldap_postfix() {
	local opts l lines=()
	tb_pf_init
	tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
	tb_pf_conf 'mynetworks = 127.0.0.1/32'
	mapfile -t opts < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
		"$SRC/contrib/postfix/master.cf.authority")
	for l in mx:2525 "$@"; do
		lines+=("127.0.0.1:${l#*:} inet n - n - - smtpd" "${opts[@]}"
			"  -o milter_macro_daemon_name=${l%%:*}")
	done
	tb_pf_listen "${lines[@]}"
}

relay_code() {
	tb_smtp "$OUT" --server 127.0.0.1 --port 2525 --local-interface 127.0.0.9 \
		--helo client.example --from billing@partner.example --to user@remote.test
	awk '$1 == "RCPT" { print $2; exit }' "$OUT"
}
