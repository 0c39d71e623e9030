# shellcheck shell=bash
# contrib/bench/pflib.sh - what the Postfix benchmarks (postfix.sh, ldap.sh)
# share.  Sourced first; it sources contrib/testbed/lib.sh.
#
#   bl_prelude NAME OUTDIR TOOL...   SRC, OUTDIR (absolute, created), BUILD,
#                          BIN; exits unless root with the tools and BIN
#   bl_ns_setup            tb_ns_setup + 127.0.0.9 as a source address
#   bl_pf_init             the testbed instance, authority main.cf, relayhost =
#                          smtp-sink, real smtp delivery, inet_interfaces = all
#   bl_authority_opts      the -o lines of master.cf.authority's smtp service
#   bl_milter_sock         relaymilter_milters of the instance as a -p SOCKET
#   bl_sink_start          smtp-sink on 127.0.0.1:$BL_SINK_PORT
#   bl_sink_count          messages the sink has received so far
#   bl_queue_len           files in the instance's queue
#   bl_wait_idle           wait until the queue is empty
#   bl_proc_cpu PID        CPU ticks (user + system) of one process
#   bl_pf_cpu              CPU ticks of all of Postfix (master's session +
#                          the children it has reaped)
#   bl_busy                "busy total" CPU ticks of the machine (/proc/stat)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../testbed/lib.sh
. "$SRC/contrib/testbed/lib.sh"
BL_SINK_PORT=${BL_SINK_PORT:-2600}
BL_SINK_PID=
BL_HZ=$(getconf CLK_TCK)
# The untrusted client: connections to 127.0.0.9 come from 127.0.0.9
# (smtp-source cannot choose its source address).
BL_UNTRUSTED=127.0.0.9
BL_TRUSTED=127.0.0.1

bl_prelude() {
	local name=$1 tool
	shift
	OUTDIR=${1:?usage: $name OUTDIR}
	shift
	mkdir -p "$OUTDIR" || exit 1
	OUTDIR=$(cd "$OUTDIR" && pwd)
	BUILD=${BUILD:-build}
	case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
	export BUILD
	BIN=$BUILD/milter/relaymilter
	PATH=$PATH:/usr/sbin:/sbin
	if [ "$(id -u)" -ne 0 ]; then
		echo "$name: needs root (Postfix master, namespaces)" >&2
		exit 1
	fi
	for tool in python3 unshare ip ss postfix smtp-sink "$@"; do
		command -v "$tool" >/dev/null 2>&1 || {
			echo "$name: $tool missing (contrib/install-deps bench)" >&2
			exit 1
		}
	done
	[ -x "$BIN" ] || {
		echo "$name: no $BIN (build first, or set BUILD)" >&2
		exit 1
	}
}

bl_ns_setup() {
	tb_ns_setup || return 1
	ip route add local "$BL_UNTRUSTED/32" dev lo src "$BL_UNTRUSTED" \
		table local proto kernel scope host
}

# bl_pf_init LISTENER-LINES...: the instance with contrib/postfix's
# authority main.cf (every listener without -o options keeps Postfix's own
# relay gate), delivering relayed mail to the sink.
bl_pf_init() {
	tb_pf_init >"$TB_RUN/init.out" 2>&1 || {
		cat "$TB_RUN/init.out" >&2
		return 1
	}
	tb_pf_apply "$SRC/contrib/postfix/main.cf.authority"
	# the benchmarks measure relaymilter on inet here (postfix.sh adds a
	# unix socket of its own to compare); the snippet names the default
	# unix socket
	tb_pf_conf 'relaymilter_milters = inet:127.0.0.1:8894'
	tb_pf_conf 'inet_interfaces = all' "mynetworks = $BL_TRUSTED/32 [::1]/128" \
		"relayhost = [127.0.0.1]:$BL_SINK_PORT" \
		'smtp_connection_cache_on_demand = yes'
	tb_pf_listen "$@"
	# the testbed discards everything; here relay and smtp really deliver
	sed -i -E '/^(smtp|relay) +unix /s/discard$/smtp/' "$TB_PFC/master.cf"
	tb_pf_cool
	postfix -c "$TB_PFC" check
}

bl_authority_opts() {
	awk '/^smtp[ \t]/ { on = 1; next } /^[^ \t]/ { on = 0 } on && /^[ \t]+-o / { print }' \
		"$SRC/contrib/postfix/master.cf.authority"
}

# main.cf.authority's inet:HOST:PORT as relaymilter's inet:PORT@HOST
bl_milter_sock() {
	local h
	h=$(postconf -c "$TB_PFC" -h relaymilter_milters)
	case $h in inet:*:*) ;; *) return 1 ;; esac
	h=${h#inet:}
	echo "inet:${h##*:}@${h%:*}"
}

bl_sink_start() {
	smtp-sink -u postfix -c "127.0.0.1:$BL_SINK_PORT" 1024 >"$TB_RUN/sink.out" 2>&1 &
	BL_SINK_PID=$!
	tb_wait_port "$BL_SINK_PORT"
}

bl_sink_stop() {
	[ -n "$BL_SINK_PID" ] && kill "$BL_SINK_PID" 2>/dev/null
	BL_SINK_PID=
}

# smtp-sink -c rewrites one counter line with \r: the last "mesg=" value
bl_sink_count() {
	tr '\r' '\n' <"$TB_RUN/sink.out" | awk -F'mesg=' 'NF > 1 { m = $2 } END { print m + 0 }'
}

bl_queue_len() {
	find "$TB_PF"/spool/{incoming,active,deferred,maildrop,hold} -type f 2>/dev/null | wc -l
}

# bl_wait_idle [SECONDS]: the queue is empty (default: wait up to 60 s)
bl_wait_idle() {
	local _
	for _ in $(seq $((${1:-60} * 20))); do
		[ "$(bl_queue_len)" -eq 0 ] && return 0
		sleep 0.05
	done
	return 1
}

bl_proc_cpu() {
	if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ]; then
		# fields after the ")" of the command name: 12 = utime, 13 = stime
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}

bl_pf_cpu() {
	python3 - "$TB_PF/spool/pid/master.pid" <<'PY'
import os, sys
try:
    mp = open(sys.argv[1]).read().split()[0]
except (OSError, IndexError):
    print(0)
    sys.exit()
t = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        st = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    f = st[st.rindex(")") + 2 :].split()  # f[0] = state (field 3)
    if f[3] == mp:  # session
        t += int(f[11]) + int(f[12])  # utime + stime
        if pid == mp:  # + the daemons the master has reaped
            t += int(f[13]) + int(f[14])
print(t)
PY
}

bl_busy() { awk '/^cpu / { b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6 }' /proc/stat; }

bl_cleanup() {
	bl_sink_stop
	tb_cleanup
}
