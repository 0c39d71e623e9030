#!/bin/bash
# run.sh RELAYMILTER_BIN - golden decisions through "relaymilter check".
#
# Each NAME.golden file beside this script holds commands ("$ ARGS", run as
# "relaymilter check -c NAME.conf ARGS", or relaymilter.conf when there is
# no NAME.conf), followed by the expected
# output and "exit N".  Comments (#) and blank lines are kept.  The run
# rebuilds the file from its commands and diffs it against the original;
# UPDATE=1 writes the new output back (review the diff before committing).
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: run.sh RELAYMILTER_BIN}
for golden in "$HERE"/*.golden; do
	CONF=${golden%.golden}.conf
	[ -f "$CONF" ] || CONF=$HERE/relaymilter.conf
	actual=$(mktemp)
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'$ '*)
			printf '%s\n' "$line"
			eval "args=(${line#\$ })"
			"$BIN" check -c "$CONF" "${args[@]}" 2>&1 |
				sed "s#$CONF#CONF#g"
			echo "exit ${PIPESTATUS[0]}"
			;;
		'#'* | '') printf '%s\n' "$line" ;;
		esac
	done <"$golden" >"$actual"
	if diff -u "$golden" "$actual"; then
		ok "$(basename "$golden")"
	else
		not_ok "$(basename "$golden")" "UPDATE=1 rewrites it"
		if [ "${UPDATE:-0}" = 1 ]; then cp "$actual" "$golden"; fi
	fi
	rm -f "$actual"
done
finish
