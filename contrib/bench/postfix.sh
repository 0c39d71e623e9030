#!/bin/bash
# contrib/bench/postfix.sh OUTDIR - Postfix end to end: Postfix alone vs
# Postfix + relaymilter enforcing the same relay policy.
#
# smtp-source -> Postfix -> smtp-sink on loopback, in private namespaces
# (contrib/testbed/lib.sh).  One Postfix instance, one smtpd listener per
# configuration, all sharing the queue, qmgr and smtp delivery:
#   pf              2525  Postfix alone: mynetworks, mydestination,
#                         relay_domains and its default relay gate
#                         (permit_mynetworks, permit_sasl_authenticated,
#                         reject_unauth_destination)
#   authority-inet  2527  contrib/postfix main.cf.authority +
#                         master.cf.authority as shipped: the gate opened,
#                         relaymilter decides; milter over inet
#                         (relaymilter_milters, as for a remote MTA)
#   authority-unix  2528  the same, milter over a unix socket
#   narrowing-inet  2529  contrib/postfix main.cf.narrowing: Postfix's gate
#                         and relaymilter on top (the milter sees connect,
#                         HELO and MAIL of refused sessions, not the RCPT)
#   floor-unix      2530  authority-unix with contrib/bench/emptymilter in
#                   2531  relaymilter's place: the same negotiation and no
#                         work (2531: -r, every RCPT refused), the floor
#                         any milter pays in Postfix
#   floor-inet      2535  floor-unix over inet (emptymilter answers DATA
#                   2536  there, as relaymilter does): what TCP costs any
#                         milter
#   inet-nodata     2532  authority-inet with answer_data = "no": the
#                         DATA step negotiated away over TCP, as before
#                         answer_data existed (the delayed-ACK stall)
#   authority-map   2533  authority-inet with smtpd_milter_maps = the
#                         table of "relaymilter milter-map": no milter
#                         for the trusted client
#   nodata-nodelay  2534  inet-nodata with TCP_NODELAY on Postfix's milter
#                         socket (NODELAY=1 only: contrib/bench/nodelay.so
#                         preloaded into the Postfix daemons)
#   limits-mem      2537  authority-inet with limits in the memory store
#                         (relaymilter on 8900): a client-keyed limit
#                         counting all mail and a sender-keyed one, with
#                         budgets never reached, so every RCPT is counted
#                         twice and refused by none
#   limits-redis    2538  limits-mem with the limits in a Redis store
#                         (relaymilter on 8901): its own redis-server on
#                         127.0.0.1:6390, no persistence; left out, with a
#                         note, when redis-server is not installed
#   hf-unix         2539  authority-unix with checks.header_from on in a
#                         listener profile (submission; sender_logins set):
#                         the headers and the end of headers negotiated for
#                         every session, the end of headers answered (the
#                         workloads' sessions are not authenticated: not
#                         judged, the protocol's cost only)
#   floor-hf-unix   2540  floor-unix with emptymilter -h: hf-unix's
#                   2541  negotiation and no work (2541: -r)
# Workloads:
#   deliver  trusted client (127.0.0.1) -> remote domain, relayed to
#            smtp-sink: msg/s until the sink has all N
#   refuse   untrusted client (127.0.0.9) -> remote domain, refused at
#            RCPT (554 5.7.1 from Postfix, 550 5.7.1 from relaymilter):
#            sessions/s of smtp-source
# Runs alternate: for each rep, each workload, every configuration in turn.
# A run is valid only if its outcome is complete: all N at the sink and the
# queue empty, or N refusals with the expected code in the maillog and
# nothing delivered.
#
# Env: BUILD (build dir, default build), N (messages/sessions per run,
# 2000), S (parallel sessions; a list runs each in turn: "10 20 40"),
# L (body bytes, 1024), REPS (3), CONFIGS (default all), WORKLOADS
# ("deliver refuse"), TARGET (0.90), QUICKACK (1: the namespace's
# loopback routes get "quickack 1": no delayed ACKs, the milter host's
# side of the inet stall removed for every configuration), PCAP (1: the
# inet milter connections of authority-inet and inet-nodata captured
# with tcpdump into OUTDIR/milter-PORT.pcap, 20 000 packets at most, and
# ackdelay.py's summary of each in OUTDIR/ackdelay.txt), NODELAY (1: add
# nodata-nodelay).
# Writes OUTDIR/postfix.tsv (one row per run) and OUTDIR/postfix.md.
# Needs root; contrib/install-deps bench.
set -u
exec </dev/null
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=pflib.sh
. "$HERE/pflib.sh"
bl_prelude postfix.sh "${1:-}" smtp-source
N=${N:-2000} S=${S:-10 20 40} L=${L:-1024} REPS=${REPS:-3} TARGET=${TARGET:-0.90}
CONFIGS=${CONFIGS:-pf authority-inet authority-unix narrowing-inet floor-unix floor-inet inet-nodata authority-map limits-mem limits-redis hf-unix floor-hf-unix}
WORKLOADS=${WORKLOADS:-deliver refuse}
export N S L REPS TARGET CONFIGS WORKLOADS
tb_enter_ns "$0" "$@"

# ---- inside the namespaces ------------------------------------------------------
bl_ns_setup || exit 1
tb_state_init
RM_INET_PID= RM_UNIX_PID= RM_NODATA_PID= RM_NODELAY_PID= FLOORI_PID= FLOORI_REJ_PID=
RM_LIMITS_PID='' RM_REDIS_PID='' RM_HF_PID='' FLOORH_PID='' FLOORH_REJ_PID=''
trap 'kill $RM_INET_PID $RM_UNIX_PID $RM_NODATA_PID $RM_NODELAY_PID $RM_LIMITS_PID $RM_REDIS_PID $RM_HF_PID $REDIS_PID $FLOOR_PID $FLOOR_REJ_PID $FLOORI_PID $FLOORI_REJ_PID $FLOORH_PID $FLOORH_REJ_PID 2>/dev/null; bl_cleanup' EXIT
trap 'exit 130' INT TERM HUP
log() { printf 'postfix.sh: %s\n' "$*" >&2; }

if [ "${QUICKACK:-0}" = 1 ]; then
	for r in 127.0.0.0/8 127.0.0.1; do
		ip route replace local "$r" dev lo table local proto kernel scope host \
			src 127.0.0.1 quickack 1 || exit 1
	done
	log "loopback routes with quickack 1"
fi
# the same policy for relaymilter as Postfix's own in bl_pf_init
MCONF=$TB_STATE/relaymilter.conf
cat >"$MCONF" <<EOF
log_level = "info";
hostnames = [ "mx.testbed.test" ];
local_domains = [ "testbed.test" ];
relay_domains = [ "backup.test" ];
trusted_networks = [ "$BL_TRUSTED/32", "::1/128" ];
# the unix socket: for smtpd (user postfix), as in the README
socket_group = "postfix";
EOF
UNIX_SOCK=$TB_RUN/rm.sock
NODELAY_SO=$BUILD/contrib/bench/nodelay.so
if [ "${NODELAY:-0}" = 1 ]; then
	[ -f "$NODELAY_SO" ] || {
		log "no $NODELAY_SO (cmake -DRM_BENCH=ON)"
		exit 1
	}
	case " $CONFIGS " in *" nodata-nodelay "*) ;; *) CONFIGS="$CONFIGS nodata-nodelay" ;; esac
fi
NODATA_SOCK=inet:8896@127.0.0.1 NODATA_CONF=$TB_STATE/relaymilter-nodata.conf
{
	cat "$MCONF"
	echo 'answer_data = "no";'
} >"$NODATA_CONF"
# limits-mem: limits that apply to every RCPT of the deliver workload
# (client 127.0.0.1, sender a@x.test) and are never reached
LIMITS_SOCK=inet:8900@127.0.0.1 LIMITS_CONF=$TB_STATE/relaymilter-limits.conf
LIMITS_LINES='limits = (
	{ name = "bench-client"; key = "client"; counts = "all";
	  messages = 1000000000; recipients = 1000000000; per = "1h"; },
	{ name = "bench-sender"; key = "sender"; recipients = 1000000000;
	  per = "1d"; }
);'
{
	cat "$MCONF"
	echo "$LIMITS_LINES"
	echo "control_socket = \"$TB_RUN/limits.control\";"
} >"$LIMITS_CONF"
# limits-redis: the same limits in a Redis store of its own on loopback
REDIS_SOCK=inet:8901@127.0.0.1 REDIS_CONF=$TB_STATE/relaymilter-redis.conf
REDIS_PORT=6390 REDIS_PID=
case " $CONFIGS " in *" limits-redis "*)
	if ! command -v redis-server >/dev/null; then
		log "limits-redis left out: no redis-server (contrib/install-deps bench)"
		CONFIGS=${CONFIGS/limits-redis/}
	else
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
			--appendonly no --daemonize no --dir "$TB_RUN" \
			>"$TB_RUN/redis.log" 2>&1 &
		REDIS_PID=$!
		tb_wait_port "$REDIS_PORT" || {
			log "redis-server did not start: $(tail -3 "$TB_RUN/redis.log")"
			exit 1
		}
		{
			cat "$MCONF"
			echo "$LIMITS_LINES"
			echo "store = \"redis://127.0.0.1:$REDIS_PORT/0\";"
			echo "control_socket = \"$TB_RUN/redis.control\";"
		} >"$REDIS_CONF"
	fi
	;;
esac
# hf-unix: header_from on in one listener profile, over the unix socket
HF_SOCK=$TB_RUN/rm-hf.sock HF_CONF=$TB_STATE/relaymilter-hf.conf
{
	cat "$MCONF"
	echo 'sender_logins = { bench = [ "a@x.test" ]; };'
	echo 'listeners = { submission = { checks = { header_from = "reject"; }; }; };'
} >"$HF_CONF"
# the table "relaymilter milter-map" writes for this policy
MILTER_MAP=$TB_STATE/milter-map.cidr
"$BIN" milter-map -c "$MCONF" >"$MILTER_MAP" 2>"$TB_RUN/milter-map.err" || {
	log "relaymilter milter-map failed: $(head -3 "$TB_RUN/milter-map.err")"
	exit 1
}
grep -q "^$BL_TRUSTED/32 *DISABLE" "$MILTER_MAP" || {
	log "milter-map left the trusted client out: $(cat "$MILTER_MAP")"
	exit 1
}
EMPTY=$BUILD/contrib/bench/emptymilter
FLOOR_SOCK=$TB_RUN/floor.sock FLOOR_REJ_SOCK=$TB_RUN/floor-rej.sock
FLOORH_SOCK=$TB_RUN/floorh.sock FLOORH_REJ_SOCK=$TB_RUN/floorh-rej.sock
FLOOR_PID= FLOOR_REJ_PID=

# the -o options of master.cf.authority's smtp service
mapfile -t AUTH_OPTS < <(bl_authority_opts)
[ "${#AUTH_OPTS[@]}" -ge 3 ] || {
	log "no -o options in contrib/postfix/master.cf.authority"
	exit 1
}
UNIX_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=unix:$UNIX_SOCK}")
FLOOR_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=unix:$FLOOR_SOCK}")
FLOOR_REJ_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=unix:$FLOOR_REJ_SOCK}")
FLOORI_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=inet:127.0.0.1:8898}")
FLOORI_REJ_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=inet:127.0.0.1:8899}")
NODATA_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=inet:127.0.0.1:8896}")
MAP_OPTS=("${AUTH_OPTS[@]}" "  -o smtpd_milter_maps=cidr:$MILTER_MAP")
NODELAY_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=inet:127.0.0.1:8897}")
LIMITS_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=inet:127.0.0.1:8900}")
REDIS_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=inet:127.0.0.1:8901}")
HF_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=unix:$HF_SOCK}")
FLOORH_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=unix:$FLOORH_SOCK}")
FLOORH_REJ_OPTS=("${AUTH_OPTS[@]/smtpd_milters=*/smtpd_milters=unix:$FLOORH_REJ_SOCK}")
# narrowing: Postfix's gate stays, the milter lines of main.cf.narrowing
# (its milter the inet one of relaymilter_milters: the shipped snippets name
# the unix socket, this benchmark measures inet there)
mapfile -t NARROW_OPTS < <(awk -F' *= *' '/^(smtpd_milters|milter_default_action) *=/ {
	print "  -o " $1 "=" ($1 == "smtpd_milters" ? "$relaymilter_milters" : $2) }' \
	"$SRC/contrib/postfix/main.cf.narrowing")
bl_pf_init '2525 inet n - n - - smtpd' \
	'2527 inet n - n - - smtpd' "${AUTH_OPTS[@]}" \
	'2528 inet n - n - - smtpd' "${UNIX_OPTS[@]}" \
	'2529 inet n - n - - smtpd' "${NARROW_OPTS[@]}" \
	'2530 inet n - n - - smtpd' "${FLOOR_OPTS[@]}" \
	'2531 inet n - n - - smtpd' "${FLOOR_REJ_OPTS[@]}" \
	'2532 inet n - n - - smtpd' "${NODATA_OPTS[@]}" \
	'2533 inet n - n - - smtpd' "${MAP_OPTS[@]}" \
	'2534 inet n - n - - smtpd' "${NODELAY_OPTS[@]}" \
	'2535 inet n - n - - smtpd' "${FLOORI_OPTS[@]}" \
	'2536 inet n - n - - smtpd' "${FLOORI_REJ_OPTS[@]}" \
	'2537 inet n - n - - smtpd' "${LIMITS_OPTS[@]}" \
	'2538 inet n - n - - smtpd' "${REDIS_OPTS[@]}" \
	'2539 inet n - n - - smtpd' "${HF_OPTS[@]}" \
	'2540 inet n - n - - smtpd' "${FLOORH_OPTS[@]}" \
	'2541 inet n - n - - smtpd' "${FLOORH_REJ_OPTS[@]}" >"$TB_RUN/check.out" 2>&1 || {
	log "Postfix set-up failed: $(head -3 "$TB_RUN/check.out")"
	exit 1
}
# the inet socket of the authority options (main.cf.authority's
# relaymilter_milters); the narrowing snippet names the same
TB_MILTER_SOCK=$(bl_milter_sock) || {
	log "relaymilter_milters is not inet:HOST:PORT"
	exit 1
}
TB_MILTER_SOCK_INET_PORT=${TB_MILTER_SOCK#inet:}
TB_MILTER_SOCK_INET_PORT=${TB_MILTER_SOCK_INET_PORT%@*}
TB_MILTER_LOG=$TB_RUN/rm-inet.log
tb_milter_start "$BIN" "$MCONF" || exit 1
RM_INET_PID=$TB_MILTER_PID TB_MILTER_PID=
TB_MILTER_SOCK=unix:$UNIX_SOCK TB_MILTER_LOG=$TB_RUN/rm-unix.log
tb_milter_start "$BIN" "$MCONF" || exit 1
RM_UNIX_PID=$TB_MILTER_PID TB_MILTER_PID=
TB_MILTER_SOCK=$NODATA_SOCK TB_MILTER_LOG=$TB_RUN/rm-nodata.log
tb_milter_start "$BIN" "$NODATA_CONF" || exit 1
RM_NODATA_PID=$TB_MILTER_PID TB_MILTER_PID=
case " $CONFIGS " in *" limits-mem "*)
	TB_MILTER_SOCK=$LIMITS_SOCK TB_MILTER_LOG=$TB_RUN/rm-limits.log
	tb_milter_start "$BIN" "$LIMITS_CONF" || exit 1
	RM_LIMITS_PID=$TB_MILTER_PID TB_MILTER_PID=
	;;
esac
case " $CONFIGS " in *" limits-redis "*)
	TB_MILTER_SOCK=$REDIS_SOCK TB_MILTER_LOG=$TB_RUN/rm-redis.log
	tb_milter_start "$BIN" "$REDIS_CONF" || exit 1
	RM_REDIS_PID=$TB_MILTER_PID TB_MILTER_PID=
	;;
esac
case " $CONFIGS " in *" hf-unix "*)
	TB_MILTER_SOCK=unix:$HF_SOCK TB_MILTER_LOG=$TB_RUN/rm-hf.log
	tb_milter_start "$BIN" "$HF_CONF" || exit 1
	RM_HF_PID=$TB_MILTER_PID TB_MILTER_PID=
	;;
esac
RM_NODELAY_PID=
if [ "${NODELAY:-0}" = 1 ]; then
	# the preload reaches smtpd and cleanup through import_environment
	postconf -c "$TB_PFC" -e "import_environment = $(postconf -c "$TB_PFC" -h import_environment) LD_PRELOAD=$(realpath "$NODELAY_SO") RM_NODELAY_PORT=8897"
	TB_MILTER_SOCK=inet:8897@127.0.0.1 TB_MILTER_LOG=$TB_RUN/rm-nodelay.log
	tb_milter_start "$BIN" "$NODATA_CONF" || exit 1
	RM_NODELAY_PID=$TB_MILTER_PID TB_MILTER_PID=
fi
# floor_start SPEC [-r]: the empty filter on unix:PATH (open to smtpd) or
# inet:PORT@HOST
floor_start() {
	local spec=$1 _
	shift
	"$EMPTY" "$@" -p "$spec" >>"$TB_RUN/floor.log" 2>&1 &
	case $spec in
	inet:*)
		_=${spec#inet:}
		tb_wait_port "${_%@*}" && return 0
		;;
	*)
		for _ in $(seq 100); do
			[ -S "${spec#unix:}" ] && chmod 666 "${spec#unix:}" && return 0
			sleep 0.05
		done
		;;
	esac
	log "emptymilter did not start on $spec"
	return 1
}
[ -x "$EMPTY" ] || {
	log "no $EMPTY (cmake -DRM_BENCH=ON): floor-unix, floor-inet and floor-hf-unix left out"
	CONFIGS=${CONFIGS/floor-hf-unix/}
	CONFIGS=${CONFIGS/floor-unix/}
	CONFIGS=${CONFIGS/floor-inet/}
}
case " $CONFIGS " in *" floor-unix "*)
	floor_start "unix:$FLOOR_SOCK" || exit 1
	FLOOR_PID=$!
	floor_start "unix:$FLOOR_REJ_SOCK" -r || exit 1
	FLOOR_REJ_PID=$!
	;;
esac
case " $CONFIGS " in *" floor-inet "*)
	floor_start inet:8898@127.0.0.1 || exit 1
	FLOORI_PID=$!
	floor_start inet:8899@127.0.0.1 -r || exit 1
	FLOORI_REJ_PID=$!
	;;
esac
case " $CONFIGS " in *" floor-hf-unix "*)
	floor_start "unix:$FLOORH_SOCK" -h || exit 1
	FLOORH_PID=$!
	floor_start "unix:$FLOORH_REJ_SOCK" -h -r || exit 1
	FLOORH_REJ_PID=$!
	;;
esac
bl_sink_start || exit 1
tb_pf_start 2525 2527 2528 2529 2530 2531 2532 2533 2534 2535 2536 2537 2538 2539 2540 2541 || exit 1

# port_of CONFIG [WORKLOAD], milter_pid_of CONFIG WORKLOAD
port_of() {
	case $1 in
	pf) echo 2525 ;; authority-inet) echo 2527 ;; authority-unix) echo 2528 ;;
	narrowing-inet) echo 2529 ;; inet-nodata) echo 2532 ;; authority-map) echo 2533 ;;
	nodata-nodelay) echo 2534 ;; limits-mem) echo 2537 ;; limits-redis) echo 2538 ;;
	hf-unix) echo 2539 ;;
	floor-hf-unix) if [ "${2:-}" = refuse ]; then echo 2541; else echo 2540; fi ;;
	floor-unix) if [ "${2:-}" = refuse ]; then echo 2531; else echo 2530; fi ;;
	floor-inet) if [ "${2:-}" = refuse ]; then echo 2536; else echo 2535; fi ;;
	*) return 1 ;;
	esac
}
milter_pid_of() {
	case $1 in
	authority-unix) echo "$RM_UNIX_PID" ;; pf) echo "" ;;
	inet-nodata) echo "$RM_NODATA_PID" ;; nodata-nodelay) echo "$RM_NODELAY_PID" ;;
	limits-mem) echo "$RM_LIMITS_PID" ;; limits-redis) echo "$RM_REDIS_PID" ;;
	hf-unix) echo "$RM_HF_PID" ;;
	floor-hf-unix) if [ "$2" = refuse ]; then echo "$FLOORH_REJ_PID"; else echo "$FLOORH_PID"; fi ;;
	floor-unix) if [ "$2" = refuse ]; then echo "$FLOOR_REJ_PID"; else echo "$FLOOR_PID"; fi ;;
	floor-inet) if [ "$2" = refuse ]; then echo "$FLOORI_REJ_PID"; else echo "$FLOORI_PID"; fi ;;
	*) echo "$RM_INET_PID" ;;
	esac
}
# the maillog line of a refusal with the code this configuration must give
refusal_re() {
	case $1 in
	authority-* | floor-* | inet-* | nodata-* | limits-* | hf-*) echo 'milter-reject: RCPT from [^ ]*\[127\.0\.0\.9\]: 550 5\.7\.1 ' ;;
	*) echo 'reject: RCPT from [^ ]*\[127\.0\.0\.9\]: 554 5\.7\.1 <b@y\.test>: Relay access denied' ;;
	esac
}
maillog_lines() { wc -l <"$TB_MAILLOG" 2>/dev/null || echo 0; }
# count_since LINE ERE: maillog lines after LINE that match
count_since() { tail -n +$(($1 + 1)) "$TB_MAILLOG" | grep -c -- "$2"; }

for c in $CONFIGS; do port_of "$c" >/dev/null || {
	log "unknown configuration $c"
	exit 1
}; done

TSV=$OUTDIR/postfix.tsv
printf 'config\tworkload\trep\tN\tS\tL\tseconds\trate\tpostfix_cpu_s\trelaymilter_cpu_s\tsink_cpu_s\tsource_cpu_s\tcpu_busy_pct\toutcome\tvalid\n' >"$TSV"

# run CONFIG WORKLOAD REP [N]: one measured run at $S sessions; REP 0 =
# warm-up, not recorded
run() {
	local cfg=$1 wl=$2 rep=$3 n=${4:-$N} port dst aopt=() mpid ml0 sk0 b0 t0 p0 m0 k0 s0 s1 \
		b1 t1 p1 m1 k1 got ok outcome valid=1 rc=0 _
	port=$(port_of "$cfg" "$wl")
	mpid=$(milter_pid_of "$cfg" "$wl")
	dst=$BL_TRUSTED
	if [ "$wl" = refuse ]; then
		dst=$BL_UNTRUSTED
		aopt=(-A)
	fi
	bl_wait_idle 120 || log "queue not empty before $cfg/$wl"
	ml0=$(maillog_lines)
	sk0=$(bl_sink_count)
	read -r b0 t0 < <(bl_busy)
	p0=$(bl_pf_cpu)
	m0=$(bl_proc_cpu "$mpid")
	k0=$(bl_proc_cpu "$BL_SINK_PID")
	s0=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$TB_RUN/source.time" \
		smtp-source "${aopt[@]}" -m "$n" -s "$S" -l "$L" -M client.test \
		-f a@x.test -t b@y.test "$dst:$port" >"$TB_RUN/source.out" 2>&1 || rc=$?
	if [ "$wl" = deliver ] && [ "$rc" -eq 0 ]; then
		for _ in $(seq 6000); do
			[ "$(bl_sink_count)" -ge $((sk0 + n)) ] && break
			sleep 0.02
		done
	fi
	s1=$(date +%s.%N)
	read -r b1 t1 < <(bl_busy)
	p1=$(bl_pf_cpu)
	m1=$(bl_proc_cpu "$mpid")
	k1=$(bl_proc_cpu "$BL_SINK_PID")
	[ "$rc" -eq 0 ] || {
		valid=0
		outcome="smtp-source exit $rc: $(head -c 120 "$TB_RUN/source.out" | tr '\t\n' '  ')"
	}
	if [ "$wl" = deliver ]; then
		bl_wait_idle 30
		got=$(($(bl_sink_count) - sk0))
		[ "$got" -eq "$n" ] && [ "$(bl_queue_len)" -eq 0 ] || valid=0
		outcome=${outcome:-"delivered $got/$n, queue $(bl_queue_len)"}
	else
		# the maillog is written by postlogd: give it a moment
		for _ in $(seq 100); do
			[ "$(count_since "$ml0" ' RCPT from ')" -ge "$n" ] && break
			sleep 0.05
		done
		ok=$(count_since "$ml0" "$(refusal_re "$cfg")")
		got=$(($(bl_sink_count) - sk0))
		[ "$ok" -eq "$n" ] && [ "$got" -eq 0 ] && [ "$(bl_queue_len)" -eq 0 ] || valid=0
		outcome=${outcome:-"refused $ok/$n, delivered $got"}
	fi
	[ "$rep" = 0 ] && return 0
	read -r su ss <"$TB_RUN/source.time"
	awk -v OFS='\t' -v c="$cfg" -v w="$wl" -v r="$rep" -v n="$n" -v s="$S" -v l="$L" \
		-v s0="$s0" -v s1="$s1" -v hz="$BL_HZ" -v p="$((p1 - p0))" -v m="$((m1 - m0))" \
		-v k="$((k1 - k0))" -v su="$su" -v ss="$ss" -v b="$((b1 - b0))" -v t="$((t1 - t0))" \
		-v o="$outcome" -v v="$valid" 'BEGIN {
		d = s1 - s0; if (t < 1) t = 1
		print c, w, r, n, s, l, sprintf("%.3f", d), sprintf("%.1f", n / d),
			sprintf("%.2f", p / hz), sprintf("%.2f", m / hz), sprintf("%.2f", k / hz),
			sprintf("%.2f", su + ss), sprintf("%.0f", 100 * b / t), o, v }' >>"$TSV"
	log "$(tail -1 "$TSV")"
}

PCAP_PIDS=()
if [ "${PCAP:-0}" = 1 ]; then
	for p in "${TB_MILTER_SOCK_INET_PORT:-}" 8896; do
		[ -n "$p" ] || continue
		tcpdump -i lo -n -s 96 -c 20000 -w "$OUTDIR/milter-$p.pcap" "tcp port $p" \
			>"$TB_RUN/tcpdump-$p.log" 2>&1 &
		PCAP_PIDS+=($!)
	done
	sleep 1 # tcpdump is listening before the first run
fi

SLIST=$S
for S in $SLIST; do
	# warm-up: every listener and milter connection once
	for c in $CONFIGS; do
		for w in $WORKLOADS; do run "$c" "$w" 0 $((S * 5)); done
	done
	for rep in $(seq "$REPS"); do
		for w in $WORKLOADS; do
			for c in $CONFIGS; do run "$c" "$w" "$rep"; done
		done
	done
done

if [ "${#PCAP_PIDS[@]}" -gt 0 ]; then
	kill -INT "${PCAP_PIDS[@]}" 2>/dev/null
	wait "${PCAP_PIDS[@]}" 2>/dev/null
	for p in "${TB_MILTER_SOCK_INET_PORT:-}" 8896; do
		[ -s "$OUTDIR/milter-$p.pcap" ] || continue
		echo "milter port $p:"
		tcpdump -n -tt -r "$OUTDIR/milter-$p.pcap" 2>/dev/null | python3 "$HERE/ackdelay.py" "$p"
	done >"$OUTDIR/ackdelay.txt"
fi
# what limits-mem counted (relaymilter limits): proof that it counted
case " $CONFIGS " in *" limits-mem "*)
	"$BIN" limits -c "$LIMITS_CONF" >"$OUTDIR/limits-mem.txt" 2>&1
	log "limits-mem counted: $(tr '\n' ';' <"$OUTDIR/limits-mem.txt")"
	;;
esac
case " $CONFIGS " in *" limits-redis "*)
	"$BIN" limits -c "$REDIS_CONF" >"$OUTDIR/limits-redis.txt" 2>&1
	log "limits-redis counted: $(tr '\n' ';' <"$OUTDIR/limits-redis.txt")"
	;;
esac
python3 "$HERE/postfix-report.py" "$TSV" >"$OUTDIR/postfix.md"
