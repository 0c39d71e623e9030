# shellcheck shell=bash
# t/fault/lib.sh - what the fault tests (run.sh, limits.sh, load.sh,
# ldap.sh) share, on top of t/lib/tap.sh and t/lib/e2e.sh (the prologue,
# the policy of e2e_write_conf; sourced here): a Postfix in the authority deployment on 127.0.0.1:2525 with short milter
# timeouts, and SMTP clients (smtpc.py) whose answers are checked here.
# Clients come from 127.0.0.9: untrusted, so a remote recipient must never
# get 250 (only 550 from relaymilter, or 4xx when it cannot answer).

# shellcheck source-path=SCRIPTDIR source=../lib/e2e.sh
. "$T_LIB/e2e.sh"

FL_PORT=2525
FL_CLIENT=127.0.0.9
FL_PF_EXTRA=() # more main.cf lines for fl_start
FL_SUB_PORT=   # when set, fl_postfix adds the submission listener there

# fl_postfix [MAIN.CF-LINE...]: Postfix in the authority deployment, with
# milter timeouts short enough for a frozen milter to show within seconds
fl_postfix() {
	local -a opts sub=()
	tb_pf_init
	tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
	tb_pf_conf 'milter_connect_timeout = 3s' 'milter_command_timeout = 3s' \
		'milter_content_timeout = 5s'
	[ $# -eq 0 ] || tb_pf_conf "$@"
	mapfile -t opts < <(awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
		"$SRC/contrib/postfix/master.cf.authority")
	[ -z "$FL_SUB_PORT" ] || sub=("127.0.0.1:$FL_SUB_PORT inet n - n - - smtpd"
		"${opts[@]}" "  -o milter_macro_daemon_name=$E2E_SUB_NAME")
	tb_pf_listen "127.0.0.1:$FL_PORT inet n - n - - smtpd" "${opts[@]}" \
		'  -o milter_macro_daemon_name=mx' "${sub[@]}"
	tb_pf_start "$FL_PORT" ${FL_SUB_PORT:+"$FL_SUB_PORT"}
}

# fl_start: the policy (e2e_write_conf), relaymilter, Postfix, a first
# normal session
fl_start() {
	# shellcheck disable=SC2119 # no EXTRA
	e2e_write_conf
	{ tb_milter_start "$BIN" "$MCONF" && fl_postfix "${FL_PF_EXTRA[@]}"; } ||
		bail "relaymilter and Postfix start"
	fl_normal "before any fault: local 250, remote 550"
}

# fl_load OUT SESSIONS CONCURRENCY: sessions of smtpc.py load (EHLO, MAIL,
# RCPT local, RCPT remote, DATA when accepted); OUT gets a line per session
fl_load() {
	python3 "$HERE/smtpc.py" load "$FL_PORT" "$FL_CLIENT" "$2" "$3" >"$1" 2>"$1.err"
}

# fl_check NAME OUT SESSIONS strict|degraded: every session has an answer
# and no remote recipient got 250.  strict: each one local 250, remote
# 550, DATA 250.  degraded: each one is that, or got a 4xx at some step
# (the client keeps the mail and retries) and no 5xx but the remote 550.
fl_check() {
	local name=$1 out=$2 n=$3 mode=$4 res
	res=$(awk -v mode="$mode" '
	{ total++ }
	$5 == "250" { relayed++; next }
	$2 == "220" && $3 == "250" && $4 == "250" && $5 == "550" && $6 == "250" { good++; next }
	{
		t = 0; p = 0
		for (i = 2; i <= 6; i++) {
			if ($i ~ /^4/) t = 1
			if ($i ~ /^5/ && !(i == 5 && $i == "550")) p = 1
		}
		if (mode == "degraded" && t && !p) { temp++; next }
		bad++; if (example == "") example = $0
	}
	END { printf "%d %d %d %d %d %s\n", total, good, temp, relayed, bad, example }' "$out")
	read -r total good temp relayed bad example <<<"$res"
	FL_GOOD=$good FL_TEMP=$temp
	if [ "$total" -ne "$n" ]; then
		not_ok "$name" "$total of $n sessions answered: $(head -c 200 "$out.err")"
	elif [ "$relayed" -ne 0 ]; then
		not_ok "$name" "$relayed remote recipients accepted"
	elif [ "$bad" -ne 0 ]; then
		not_ok "$name" "$bad wrong answers, e.g. $example"
	else
		ok "$name: $n sessions, $good answered by the policy, $temp tempfailed, 0 relayed"
	fi
}

# fl_step STOP ACTION...: one smtpc.py step session; after the STOP step
# run ACTION, then let the session go on.  FL_OUT gets "STEP CODE TEXT".
fl_step() {
	local stop=$1 pid _
	shift
	FL_OUT=$TB_RUN/step.$stop
	rm -f "$TB_RUN/ready" "$TB_RUN/go"
	python3 "$HERE/smtpc.py" step "$FL_PORT" "$FL_CLIENT" "$stop" \
		"$TB_RUN/ready" "$TB_RUN/go" >"$FL_OUT" 2>&1 &
	pid=$!
	for _ in $(seq 600); do
		[ -e "$TB_RUN/ready" ] && break
		tb_alive "$pid" || break
		sleep 0.05
	done
	"$@"
	touch "$TB_RUN/go"
	wait "$pid" || true
}
# fl_reply STEP: the reply code of STEP in the last fl_step ("-": none)
fl_reply() { awk -v s="$1" '$1 == s { print $2; f = 1; exit } END { if (!f) print "-" }' "$FL_OUT"; }

# fl_normal NAME: one session from the client is answered by the policy
fl_normal() {
	fl_load "$TB_RUN/normal" 1 1
	fl_check "$1" "$TB_RUN/normal" 1 strict
}

# fl_recover NAME: within 30 s a session is answered by the policy (after
# a fault libmilter may back off for seconds before it accepts again)
fl_recover() {
	local _
	for _ in $(seq 30); do
		fl_load "$TB_RUN/normal" 1 1
		grep -q ' 550 250 |' "$TB_RUN/normal" && break
		sleep 1
	done
	fl_check "$1" "$TB_RUN/normal" 1 strict
}

# fl_no_relay: nothing for a remote recipient ever reached the queue
fl_no_relay() {
	if grep -q 'to=<user@remote.test>, relay=' "$TB_MAILLOG"; then
		not_ok "nothing was relayed to remote.test (maillog)" \
			"$(grep -m1 'to=<user@remote.test>, relay=' "$TB_MAILLOG")"
	else
		ok "nothing was relayed to remote.test (maillog: $(grep -c 'status=sent' "$TB_MAILLOG" || true) local deliveries)"
	fi
}

# fl_milter_alive NAME: relaymilter still runs
fl_milter_alive() {
	if [ -n "$TB_MILTER_PID" ] && tb_alive "$TB_MILTER_PID"; then ok "$1"; else
		not_ok "$1" "$(tail -3 "$TB_MILTER_LOG" | tr '\n' ' ')"
	fi
}
