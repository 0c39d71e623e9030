#!/bin/bash
# t/e2e/senderid.sh BIN - sender identity for authenticated users (issue
# 17), as a user sees it through a real Postfix, then a real Sendmail, in
# the "authority" deployment (the submission listener with SMTP AUTH on
# 2587: Postfix's "submission", Sendmail's MSA daemon):
#   - bob@testbed.test, a login that is an address and lists nothing,
#     owns itself (sender_login_implicit) and bob+news@testbed.test
#     (recipient_delimiter = "+");
#   - alice@testbed.test, owned by the login alice@testbed.test, is
#     refused to bob (553 5.7.1; Sendmail may put "<rcpt>... " before the
#     text) in sender_login_mode "all" and "known";
#   - outsider@elsewhere.example, owned by nobody, is refused in "all"
#     and passes in "known" (after a reload; sent to our own domain, as
#     licensed_senders would stop its relay in a later step).
# The Sendmail half is skipped without the unpacked Sendmail
# (contrib/install-deps test).
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the state
# directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: senderid.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"
need_root "MTA daemons, network namespace"
need_tools postfix postqueue swaks saslpasswd2 m4
e2e_begin "$0" "$@"

# conf MODE: the shared config, bob not listed, in sender_login_mode MODE
conf() {
	e2e_write_conf "sender_login_implicit = true;
recipient_delimiter = \"+\";
sender_login_mode = \"$1\";"
	sed -i '/login = "bob@testbed.test"/d; s/\(login = "alice@testbed.test".*}\),$/\1/' "$MCONF"
}
conf all
"$BIN" -n -c "$MCONF" >/dev/null 2>&1 || bail "the config" "$("$BIN" -n -c "$MCONF" 2>&1)"

# send FROM [TO]: bob@testbed.test authenticates and sends as FROM to TO
# (default a relay)
send() {
	tb_smtp "$OUT" --server 127.0.0.1 --port 2587 --local-interface 127.0.0.9 \
		--helo client.example --from "$1" --to "${2:-friend@remote.test}" \
		-a PLAIN -au bob@testbed.test -ap secret
}
reply() { awk -v c="$1" '$1 == c { sub(/^[A-Z]+ /, ""); print; exit }' "$OUT"; }
# expect WHAT FROM REGEX [TO]
expect() {
	local got
	send "$2" "${4:-}"
	got=$(reply RCPT)
	if [[ $got =~ $3 ]]; then ok "$1: $got"; else
		not_ok "$1" "RCPT: ${got:-no reply} ($(tail -3 "$OUT" | tr '\n' ' '))"
	fi
}

# cases MTA: every sender through MTA's submission listener
# ($E2E_SUB_NAME), relaymilter started in mode "all"; ends in "known"
cases() {
	local mode
	for mode in all known; do
		if [ "$mode" = known ]; then
			conf known
			e2e_reload
		fi
		expect "$1, $mode: bob as himself (implicit)" bob@testbed.test '^250 '
		expect "$1, $mode: bob as bob+news (recipient_delimiter)" bob+news@testbed.test '^250 '
		expect "$1, $mode: bob as a colleague (alice's)" alice@testbed.test '^553 5\.7\.1 '
		expect "$1, $mode: bob as a colleague's tag" alice+x@testbed.test '^553 5\.7\.1 '
	done
	conf all
	e2e_reload
	# (to our own domain: licensed_senders would stop its relay later)
	expect "$1, all: an outside sender nobody owns is refused" outsider@elsewhere.example \
		'^553 5\.7\.1 .*not owned' user@testbed.test
	conf known
	e2e_reload
	expect "$1, known: an outside sender nobody owns passes" outsider@elsewhere.example \
		'^250 ' user@testbed.test
	if grep -q "auth=bob@testbed.test .*from=<alice@testbed.test> .*listener=$E2E_SUB_NAME rule=sender_login verdict=reject" \
		"$TB_MILTER_LOG"; then
		ok "$1: the log names the rule sender_login"
	else
		not_ok "$1: the log names the rule sender_login" "$(tail -3 "$TB_MILTER_LOG")"
	fi
}

# ---- Postfix ---------------------------------------------------------------------
e2e_pf_authority alice bob
tb_pf_cool
tb_milter_start "$BIN" "$MCONF" || bail "relaymilter starts" "$(tail -3 "$TB_MILTER_LOG")"
tb_pf_start 2587 || bail "Postfix starts"
ok "Postfix with a submission listener (2587), AUTH as bob@testbed.test"
cases Postfix
tb_pf_stop
tb_milter_stop TERM

# ---- Sendmail: its MSA daemon ----------------------------------------------------
E2E_SUB_NAME=MSA
conf all
e2e_sm_start "$BIN"
ok "Sendmail with an MSA daemon (2587), AUTH as bob@testbed.test"
cases Sendmail
finish
