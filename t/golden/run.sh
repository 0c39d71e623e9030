#!/bin/bash
# run.sh RELAYMILTER_BIN - golden decisions through "relaymilter check".
#
# Each NAME.golden file beside this script holds commands ("$ ARGS", run as
# "relaymilter check -c NAME.conf ARGS", or relaymilter.conf when there is
# no NAME.conf), followed by the expected
# output and "exit N".  Comments (#) and blank lines are kept.  The run
# rebuilds the file from its commands and diffs it against the original;
# UPDATE=1 writes the new output back (review the diff before committing).
set -u
BIN=${1:?usage: run.sh RELAYMILTER_BIN}
HERE=$(cd "$(dirname "$0")" && pwd)
fails=0 passes=0
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
		echo "PASS: $(basename "$golden")"
		passes=$((passes + 1))
	else
		echo "FAIL: $(basename "$golden") (UPDATE=1 rewrites it)"
		fails=$((fails + 1))
		[ "${UPDATE:-0}" = 1 ] && cp "$actual" "$golden"
	fi
	rm -f "$actual"
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
