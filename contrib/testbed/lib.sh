# shellcheck shell=bash
# contrib/testbed/lib.sh - a throwaway Postfix or Sendmail (plus relaymilter)
# on loopback, for the end-to-end tests (t/lib/e2e.sh) and the benchmarks
# (contrib/bench).  Sourced by bash scripts; see contrib/testbed/README.
#
#   tb_enter_ns "$0" "$@"     re-run the calling script in fresh network, UTS,
#                             PID and mount namespaces (root only); returns
#                             at once when already inside
#   tb_ns_setup               inside: lo up, hostname, extra test addresses
#   tb_state_init             short state directory under /tmp ($TB_STATE)
#   tb_cleanup                stop everything we started, remove $TB_STATE
#   tb_pf_init                main.cf/master.cf/SASL/queue of the instance
#   tb_pf_conf 'k = v' ...    postconf -e into the instance
#   tb_pf_apply FILE          every "key = value" line of a main.cf snippet
#   tb_pf_listen LINE ...     master.cf = internal services + these lines
#   tb_pf_start / tb_pf_stop
#   tb_sm_have                the unpacked Sendmail is there
#   tb_sm_init SNIPPET ...    test.cf from sendmail/test.mc.in + these .mc
#   tb_sm_sasl                Cyrus SASL for Sendmail (sasldb; needs the
#                             private mount namespace)
#   tb_sm ARGS / tb_sm_cmd    run the unpacked sendmail with test.cf / its
#                             command line
#   tb_sm_start PORT ... / tb_sm_stop   the daemon (-bd)
#   tb_milter_start BIN CONF  relaymilter -f on $TB_MILTER_SOCK (default:
#                             the default socket's place in the instance's
#                             queue directory, where the shipped main.cf
#                             snippets look), log to $TB_MILTER_LOG;
#                             tb_milter_stop [TERM|KILL]
#   tb_smtp OUT SWAKS-ARGS    one SMTP session with swaks; OUT gets the
#                             replies as "MAIL|RCPT|DATA|AUTH|CONN CODE TEXT"
#   tb_node NAME              several MTAs in one namespace: NAME becomes the
#                             current node, with its own Postfix instance
#                             ($TB_STATE/pf-NAME), milter socket and log
#                             (run/milter-NAME.log); "" is the first one,
#                             the only one of single-node tests.  The tb_pf_*
#                             and tb_milter_* functions act on the current
#                             node; tb_cleanup stops every node
#
# Processes started here never outlive the namespace: the script is PID 1
# of its own PID namespace, and when it exits the kernel kills whatever is
# left in there.  The explicit cleanup still runs first (trap).

TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_NS_HOSTNAME=${TB_NS_HOSTNAME:-host.testbed.test}
# addresses added to lo inside the namespace (127.0.0.0/8 needs none)
TB_NS_ADDRS=${TB_NS_ADDRS:-fd00::9}
TB_MILTER_SOCK=${TB_MILTER_SOCK:-} # empty: set by tb_state_init
TB_MILTER_PID=
# shellcheck disable=SC2034 # read by the sourcing script
TB_MILTER_RC=
TB_PF_STARTED=0
# Sendmail is unpacked, not installed (it conflicts with postfix):
# contrib/install-deps test puts it here.
TB_SM_ROOT=${RM_TEST_CACHE:-/var/cache/relaymilter-test}/sendmail/root
TB_SM_STARTED=0
# the variables that make a node (tb_node), and each node's values
TB_NODE_VARS="TB_PF TB_PFC TB_MAILLOG TB_MILTER_SOCK TB_MILTER_LOG TB_MILTER_PID TB_PF_STARTED"
declare -A TB_NODE_SAVED=()
TB_NODES=()
TB_NODE=

tb_log() { printf '# %s\n' "$*" >&2; }

tb_enter_ns() {
	local script=$1
	shift
	[ "${TB_IN_NS:-0}" = 1 ] && return 0
	export TB_IN_NS=1
	# PID namespace: nothing can be left behind.  --kill-child: if we are
	# killed (ctest timeout), the kernel tears the namespace down too.
	if unshare -n -u -p -m -f --kill-child --mount-proc true 2>/dev/null; then
		export TB_NS_MOUNT=1 # a private mount namespace (tb_sm_sasl)
		exec unshare -n -u -p -m -f --kill-child --mount-proc -- \
			bash "$script" "$@" </dev/null
	fi
	if ! unshare -n -u true; then
		echo "not ok - cannot create a network namespace (needs root with CAP_SYS_ADMIN)"
		exit 1
	fi
	tb_log "no PID namespace available: network namespace only"
	exec unshare -n -u -- bash "$script" "$@" </dev/null
}

tb_ns_setup() {
	local a
	ip link set lo up || return 1
	hostname "$TB_NS_HOSTNAME" || return 1
	for a in $TB_NS_ADDRS; do
		case $a in
		*:*) ip -6 addr add "$a/128" dev lo nodad ;;
		*) ip addr add "$a/32" dev lo ;;
		esac || {
			tb_log "cannot add $a to lo (IPv6 disabled?)"
			return 1
		}
	done
}

tb_state_init() {
	# short: unix socket paths are limited to 107 bytes.  Every parent
	# must be searchable by user postfix (it opens files there by path).
	TB_STATE=$(mktemp -d /tmp/rm-tb.XXXXXX)
	chmod 755 "$TB_STATE"
	TB_RUN=$TB_STATE/run
	TB_SM=$TB_STATE/sm
	local sock=$TB_MILTER_SOCK # the caller's, if set
	tb_node_paths ""
	TB_MILTER_SOCK=${sock:-$TB_MILTER_SOCK}
	TB_NODES=("")
	mkdir -p "$TB_RUN"
	export TB_STATE
}

# tb_node_paths NAME: the places of node NAME ("" the first)
tb_node_paths() {
	TB_PF=$TB_STATE/pf${1:+-$1}
	TB_PFC=$TB_PF/etc
	TB_MAILLOG=$TB_PF/log/maillog
	TB_MILTER_LOG=$TB_RUN/milter${1:+-$1}.log
	# unix:relaymilter/relaymilter.sock, relative to the queue directory
	TB_MILTER_SOCK=unix:$TB_PF/spool/relaymilter/relaymilter.sock
}

tb_node() {
	local v
	for v in $TB_NODE_VARS; do TB_NODE_SAVED[$TB_NODE/$v]=${!v}; done
	TB_NODE=$1
	if [ -z "${TB_NODE_SAVED[$TB_NODE/TB_PF]+set}" ]; then
		tb_node_paths "$1"
		TB_MILTER_PID=
		TB_PF_STARTED=0
		TB_NODES+=("$1")
		return 0
	fi
	for v in $TB_NODE_VARS; do printf -v "$v" '%s' "${TB_NODE_SAVED[$TB_NODE/$v]}"; done
}

tb_cleanup() {
	local n
	for n in "${TB_NODES[@]}"; do
		[ "${#TB_NODES[@]}" -eq 1 ] || tb_node "$n"
		tb_pf_stop
		if [ -n "$TB_MILTER_PID" ]; then tb_milter_stop KILL; fi
	done
	tb_sm_stop
	if [ -n "${TB_STATE:-}" ] && [ -d "$TB_STATE" ]; then
		if [ "${TB_KEEP:-0}" = 1 ]; then
			tb_log "state kept in $TB_STATE"
		else
			rm -rf "$TB_STATE"
		fi
	fi
}

# alive PID: exists and is not a zombie (kill -0 succeeds on zombies)
tb_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}

# wait for a TCP listener (the listen table: a test connection would be a
# real SMTP or milter session and pollute the logs)
tb_wait_port() {
	local _
	for _ in $(seq 100); do
		[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	tb_log "nothing listens on port $1"
	return 1
}

# Every Postfix program pauses while main.cf is younger than ~2 s ("main.cf
# cool down"): backdate our edits.
tb_pf_cool() { touch -d "@$(($(date +%s) - 5))" "$TB_PFC/main.cf" "$TB_PFC/master.cf"; }

tb_pf_init() {
	mkdir -p "$TB_PFC/sasl" "$TB_PF/spool" "$TB_PF/data" "$TB_PF/log"
	# @STATE@/pf is the first node's instance: this node's
	sed -e "s#@STATE@/pf/#$TB_PF/#g" -e "s#@STATE@#$TB_STATE#g" \
		"$TB_DIR/postfix/main.cf.in" >"$TB_PFC/main.cf"
	cp "$TB_DIR/postfix/master.cf.in" "$TB_PFC/master.cf"
	sed -e "s#@STATE@/pf/#$TB_PF/#g" -e "s#@STATE@#$TB_STATE#g" \
		"$TB_DIR/postfix/sasl-smtpd.conf.in" >"$TB_PFC/sasl/smtpd.conf"
	printf secret | saslpasswd2 -p -f "$TB_PFC/sasl/sasldb2" -c \
		-u testbed.test alice
	chown root:postfix "$TB_PFC/sasl/sasldb2"
	chmod 640 "$TB_PFC/sasl/sasldb2"
	chown postfix "$TB_PF/data"
	tb_pf_cool
	# creates the queue tree with the right owners
	postfix -c "$TB_PFC" check
}

tb_pf_conf() {
	postconf -c "$TB_PFC" -e "$@"
	tb_pf_cool
}

# tb_pf_apply FILE: the "key = value" lines of a main.cf snippet, in order
tb_pf_apply() {
	local line
	while IFS= read -r line; do
		case $line in
		[a-z]*=*) tb_pf_conf "$line" ;;
		esac
	done <"$1"
}

tb_pf_listen() {
	{
		cat "$TB_DIR/postfix/master.cf.in"
		printf '%s\n' "$@"
	} >"$TB_PFC/master.cf"
	tb_pf_cool
}

tb_pf_running() { postfix -c "$TB_PFC" status >/dev/null 2>&1; }

tb_pf_start() {
	local p
	postfix -c "$TB_PFC" start >/dev/null 2>&1 || {
		tb_log "postfix start failed; maillog:"
		tail -20 "$TB_MAILLOG" >&2 2>/dev/null
		return 1
	}
	TB_PF_STARTED=1
	for p in "$@"; do tb_wait_port "$p" || return 1; done
}

tb_pf_stop() {
	local _
	[ "$TB_PF_STARTED" = 1 ] || return 0
	if tb_pf_running; then
		postfix -c "$TB_PFC" stop >/dev/null 2>&1 || true
		for _ in $(seq 100); do
			tb_pf_running || break
			sleep 0.05
		done
		tb_pf_running && postfix -c "$TB_PFC" abort >/dev/null 2>&1
	fi
	TB_PF_STARTED=0
	return 0
}

tb_sm_have() { [ -x "$TB_SM_ROOT/usr/libexec/sendmail/sendmail" ]; }

# tb_sm_init SNIPPET...: $TB_SM/etc/test.cf from the template, with the
# snippet files (.mc lines) in place of its @SITE@ line.  Queue, pid file
# and aliases live in $TB_SM.
# tb_sm_milter_spec: $TB_MILTER_SOCK as Sendmail's S= wants it
tb_sm_milter_spec() {
	case $TB_MILTER_SOCK in
	unix:*) echo "local:${TB_MILTER_SOCK#unix:}" ;;
	*) echo "$TB_MILTER_SOCK" ;;
	esac
}

tb_sm_init() {
	local f
	mkdir -p "$TB_SM/etc" "$TB_SM/run" "$TB_SM/mqueue"
	chmod 700 "$TB_SM/mqueue"
	cp "$TB_DIR/sendmail/aliases" "$TB_DIR/sendmail/service.switch" "$TB_SM/etc/"
	# the shipped relaymilter.mc names relaymilter's socket in /run: the
	# instance's milter listens on $TB_MILTER_SOCK instead
	for f in "$@"; do cat "$f"; done |
		sed "s#S=local:/run/relaymilter/relaymilter.sock,#S=$(tb_sm_milter_spec),#" \
			>"$TB_SM/etc/site.mc"
	sed -e "s#@STATE@#$TB_STATE#g" -e "s#@ROOT@#$TB_SM_ROOT#g" \
		-e "/^@SITE@\$/{r $TB_SM/etc/site.mc" -e 'd;}' \
		"$TB_DIR/sendmail/test.mc.in" >"$TB_SM/etc/test.mc"
	m4 -D_CF_DIR_="$TB_SM_ROOT/usr/share/sendmail/cf/" \
		"$TB_SM_ROOT/usr/share/sendmail/cf/m4/cf.m4" "$TB_SM/etc/test.mc" \
		>"$TB_SM/etc/test.cf" 2>"$TB_SM/etc/m4.err" || {
		tb_log "m4 failed:"
		cat "$TB_SM/etc/m4.err" >&2
		return 1
	}
}

# tb_sm_cmd: the command line that runs the unpacked sendmail with test.cf
# (for swaks --pipe).  libwrap.so.0 comes from the unpacked libwrap0
# (LD_LIBRARY_PATH works because install-deps cleared the setgid bit).
tb_sm_cmd() {
	local lib
	lib=$(dirname "$(echo "$TB_SM_ROOT"/usr/lib/*/libwrap.so.0)")
	echo "env LD_LIBRARY_PATH=$lib $TB_SM_ROOT/usr/libexec/sendmail/sendmail -C $TB_SM/etc/test.cf"
}

# tb_sm ARGS...: run it
# shellcheck disable=SC2046 # the paths hold no blanks
tb_sm() { $(tb_sm_cmd) "$@"; }

# tb_sm_sasl: Cyrus SASL for Sendmail, sasldb with alice@testbed.test and
# bob@testbed.test (password "secret").  Sendmail reads Sendmail.conf from
# the SASL library's own directories only, so a copy of the plugin
# directory with Sendmail.conf in it is mounted over the real one: only
# inside the private mount namespace (tb_enter_ns), never on the host.
tb_sm_sasl() {
	local d=$TB_SM/sasl2 plugins u
	[ "${TB_NS_MOUNT:-0}" = 1 ] || return 1
	plugins=$(dirname "$(echo /usr/lib/*/sasl2/libsasldb.so)")
	[ -d "$plugins" ] || return 1
	mkdir -p "$d"
	cp -a "$plugins/." "$d/"
	printf '%s\n' 'pwcheck_method: auxprop' 'auxprop_plugin: sasldb' \
		"sasldb_path: $d/sasldb2" 'mech_list: PLAIN LOGIN' >"$d/Sendmail.conf"
	for u in alice bob; do
		printf secret | saslpasswd2 -p -f "$d/sasldb2" -c -u testbed.test "$u" || return 1
	done
	mount --bind "$d" "$plugins"
}

# tb_sm_start PORT...: the daemon; waits for its listeners
tb_sm_start() {
	local p
	tb_sm -bd -odq || return 1
	TB_SM_STARTED=1
	for p in "$@"; do tb_wait_port "$p" || return 1; done
}

tb_sm_stop() {
	local pid _
	[ "$TB_SM_STARTED" = 1 ] || return 0
	TB_SM_STARTED=0
	pid=$(head -1 "$TB_SM/run/sendmail.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		tb_alive "$pid" || return 0
		sleep 0.05
	done
	kill -s KILL "$pid" 2>/dev/null || true
}

# tb_milter_start BIN CONFIG: relaymilter in the foreground, stderr to the
# log; waits until it listens.
tb_milter_start() {
	local bin=$1 conf=$2 _ port dir
	case $TB_MILTER_SOCK in
	unix:*/*)
		# as the package makes it: relaymilter's default socket_group
		# postfix reaches smtpd, and nobody else gets in
		dir=${TB_MILTER_SOCK#unix:}
		dir=${dir%/*}
		if [ ! -d "$dir" ]; then
			install -d -g postfix -m 2750 "$dir" 2>/dev/null || mkdir -p "$dir"
		fi
		# a socket left behind (an instance run with -u cannot unlink
		# it in this root-owned directory) would look like the new one
		rm -f "${TB_MILTER_SOCK#unix:}"
		;;
	esac
	(
		umask 0 # a unix socket must be writable by smtpd (user postfix)
		exec "$bin" -f -c "$conf" -p "$TB_MILTER_SOCK"
	) >>"$TB_MILTER_LOG" 2>&1 &
	TB_MILTER_PID=$!
	case $TB_MILTER_SOCK in
	inet:* | inet6:*)
		port=${TB_MILTER_SOCK#*:}
		port=${port%@*}
		tb_wait_port "$port" && return 0
		;;
	*)
		for _ in $(seq 100); do
			[ -S "${TB_MILTER_SOCK#*:}" ] && return 0
			sleep 0.05
		done
		;;
	esac
	tb_log "relaymilter did not start; its log:"
	tail -5 "$TB_MILTER_LOG" >&2
	return 1
}

# tb_milter_stop [TERM|KILL]: TERM waits for the daemon to exit (it stops
# within milliseconds); sets TB_MILTER_RC to the exit status.
tb_milter_stop() {
	[ -n "$TB_MILTER_PID" ] || return 0
	# stderr: keep bash's "Killed" job report out of the test output
	tb_milter_stop_ "${1:-TERM}" 3>&2 2>/dev/null
}
tb_milter_stop_() {
	local _
	kill -s "$1" "$TB_MILTER_PID" || true
	for _ in $(seq 160); do
		tb_alive "$TB_MILTER_PID" || break
		sleep 0.05
	done
	if tb_alive "$TB_MILTER_PID"; then
		echo "# relaymilter ignored SIG$1 for 8 s: SIGKILL" >&3
		kill -s KILL "$TB_MILTER_PID" || true
	fi
	TB_MILTER_RC=0
	# shellcheck disable=SC2034 # read by the sourcing script
	wait "$TB_MILTER_PID" || TB_MILTER_RC=$?
	TB_MILTER_PID=
}

# tb_smtp OUT SWAKS-ARGS...: one session; OUT gets one line per reply that
# answers a command we care about: "CONN|EHLO|AUTH|MAIL|RCPT|DATA|QUIT
# CODE TEXT" (the last line of a multi-line reply).  The raw transcript is
# kept in OUT.raw.
tb_smtp() {
	local out=$1
	shift
	swaks --hide-informational --suppress-data "$@" >"$out.raw" 2>&1 </dev/null || true
	awk '
	/^ *-> / {
		c = $2; sub(/:.*/, "", c); c = toupper(c)
		if (c == "EHLO" || c == "HELO") cmd = "EHLO"
		else if (c == "AUTH" || c == "MAIL" || c == "RCPT" || c == "QUIT") cmd = c
		else if (c ~ /^[0-9]+$/ && $3 == "lines") cmd = "DATA" # "-> 11 lines sent"
		else if (c == "DATA") cmd = "DATA0"
		else cmd = "OTHER"
		next
	}
	/^<(-|\*\*) +[0-9][0-9][0-9] / {
		line = $0; sub(/^<(-|\*\*) +/, "", line)
		if (cmd == "") cmd = "CONN"
		if (cmd != "OTHER" && cmd != "DATA0") print cmd, line
		cmd = "OTHER"
	}' "$out.raw" >"$out"
}
