#!/bin/bash
# t/fault/load.sh BIN - 1000 concurrent SMTP sessions through a real
# Postfix in the authority deployment (see run.sh), with enough smtpd
# processes for all of them: every session answered, none relayed, and
# relaymilter still runs.
#
# Root only (exit 77 = skipped); runs in private namespaces (contrib/testbed).
# Prints ok/not ok lines, exits 1 on any failure; TB_KEEP=1 keeps the
# state directory.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=$(t_abs "${1:?usage: load.sh RELAYMILTER-BINARY}")
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
need_root "Postfix, network namespace"
need_tools postfix python3
e2e_begin "$0" "$@"
FL_PF_EXTRA=('default_process_limit = 1100' 'milter_connect_timeout = 30s'
	'milter_command_timeout = 30s')
fl_start

N=${FAULT_SESSIONS:-1000}
# all started at once; how many are open together is up to Postfix
fl_load "$TB_RUN/load" "$N" "$N"
fl_check "$N concurrent sessions" "$TB_RUN/load" "$N" degraded
fl_milter_alive "$N concurrent sessions: relaymilter survives"
fl_normal "after the load: normal answers"
fl_no_relay
finish
