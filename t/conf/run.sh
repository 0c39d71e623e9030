#!/bin/bash
# run.sh RELAYMILTER_BIN SAMPLE_CONF - "relaymilter -n" on good and bad files.
#
# Every good/*.conf and the sample must validate (exit 0, "FILE: OK", no
# warning).
# Every bad/*.conf starts with "# expect: MESSAGE"; relaymilter -n must exit
# 78 and print MESSAGE on stderr, where a leading "@" stands for the file's path
# (so "# expect: @:7: unknown setting" means "FILE:7: unknown setting").
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
BIN=${1:?usage: run.sh RELAYMILTER_BIN SAMPLE_CONF}
SAMPLE=${2:?usage: run.sh RELAYMILTER_BIN SAMPLE_CONF}

for f in "$SAMPLE" "$HERE"/good/*.conf; do
	rc=0
	out=$("$BIN" -n -c "$f" 2>&1) || rc=$?
	if [ $rc -eq 0 ] && [ "$out" = "$f: OK" ]; then
		ok "valid: $(basename "$f")"
	else
		not_ok "valid: $(basename "$f") (exit $rc: $out)"
	fi
done

for f in "$HERE"/bad/*.conf; do
	want=$(sed -n '1s/^# expect: //p' "$f")
	want=${want/#@:/$f:}
	rc=0
	out=$("$BIN" -n -c "$f" 2>&1) || rc=$?
	if [ $rc -eq 78 ] && [[ $out == *"$want"* ]]; then
		ok "invalid: $(basename "$f")"
	else
		not_ok "invalid: $(basename "$f"): exit $rc, got \"$out\", want \"$want\""
	fi
done

# Every warn/*.conf is valid but dangerous: it starts with "# warn: MESSAGE"
# ("@" as above); relaymilter -n must exit 0, print MESSAGE as a warning on
# stderr and "FILE: OK" on stdout, and check --explain must show it.
for f in "$HERE"/warn/*.conf; do
	want=$(sed -n '1s/^# warn: //p' "$f")
	want=${want/#@:/$f:}
	err=$("$BIN" -n -c "$f" 2>&1 >/dev/null) || true
	rc=0
	out=$("$BIN" -n -c "$f" 2>/dev/null) || rc=$?
	nwarn=$(printf '%s\n' "$err" | grep -c 'warning: ') || true
	if [ $rc -eq 0 ] && [ "$out" = "$f: OK" ] && [[ $err == *"warning: $want"* ]] &&
		[ "$nwarn" -eq 1 ]; then
		ok "warns: $(basename "$f")"
	else
		not_ok "warns: $(basename "$f"): exit $rc, stderr \"$err\", want one \"$want\""
	fi
	out=$("$BIN" check -c "$f" --explain --client 203.0.113.9 --rcpt u@example.com 2>&1) || true
	if [[ $out == *"warning: $want"* ]]; then
		ok "check --explain warns: $(basename "$f")"
	else
		not_ok "check --explain warns: $(basename "$f"): $out"
	fi
done

# A missing file, and the check subcommand on a broken file.
rc=0
out=$("$BIN" -n -c "$HERE/does-not-exist.conf" 2>&1) || rc=$?
if [ $rc -eq 78 ] && [[ $out == *"does-not-exist.conf: cannot open"* ]]; then
	ok "missing file"
else
	not_ok "missing file: exit $rc: $out"
fi
rc=0
out=$("$BIN" check -c "$HERE/bad/unknown-key.conf" --client 192.0.2.1 \
	--rcpt u@example.com 2>&1) || rc=$?
if [ $rc -eq 78 ] && [[ $out == *"unknown-key.conf:"* ]]; then
	ok "check on a broken file"
else
	not_ok "check on a broken file: exit $rc: $out"
fi

# The evaluation order: relaymilter.conf(5) documents the order the code
# runs (check --steps prints the engine's table): the same numbered steps.
MAN=$SRC/milter/relaymilter.conf.5
doc=$(sed -n '/^\.SH EVALUATION ORDER/,/^\.TE/p' "$MAN" | awk -F'\t' '$1 ~ /^[0-9]+$/ { print $1, $2 }')
code=$("$BIN" check --steps | awk '{ print $1, $2 }')
if [ -n "$code" ] && [ "$doc" = "$code" ]; then
	ok "relaymilter.conf(5) lists the steps of check --steps, in order"
else
	not_ok "relaymilter.conf(5) lists the steps of check --steps: doc \"$doc\" code \"$code\""
fi

readme=$(sed -n '/^The policy$/,/^Running the daemon$/p' "$SRC/README" |
	awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[a-z_]+$/ { print $1, $2 }')
if [ -n "$code" ] && [ "$readme" = "$code" ]; then
	ok "README lists the steps of check --steps, in order"
else
	not_ok "README lists the steps of check --steps: README \"$readme\" code \"$code\""
fi

finish
