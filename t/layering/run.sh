#!/bin/bash
# run.sh SRCDIR - the module boundaries, read from the #include lines:
#   adapter (mlfi.c) -> engine (policy.c) <- ruleset <- (file reader, LDAP)
# - only the adapter and the daemon's start-up include libmilter;
# - only the LDAP modules (ldapsrc.c, ldapsync.c, through ldapconn.h)
#   include libldap, only the Redis
#   store (limitredis.c) hiredis;
# - only the config reader (conf.c, confldap.c, conflimits.c) includes
#   libconfig;
# - the engine, the ruleset and the sets include none of those, no daemon
#   setting (confdata.h, source.h, runtime.h, daemon.h) and no LDAP module;
# - the adapter and the CLI include no LDAP header.
# shellcheck source-path=SCRIPTDIR source=../lib/tap.sh
. "$(dirname "$0")/../lib/tap.sh"
SRC=${1:?usage: run.sh SRCDIR}
cd "$SRC"

# includes FILE: the headers FILE includes, one per line
includes() { sed -n 's/^#include [<"]\([^>"]*\)[>"].*/\1/p' "$1"; }

# only PATTERN FILE...: nothing but FILE... includes a header matching PATTERN
only() {
	local pat=$1 bad f a ok_file
	shift
	bad=
	for f in milter/*.c include/relaymilter/*.h; do
		includes "$f" | grep -qE "$pat" || continue
		ok_file=0
		for a in "$@"; do [ "$f" = "$a" ] && ok_file=1; done
		[ $ok_file = 1 ] || bad="$bad $f"
	done
	if [ -z "$bad" ]; then
		ok "only $* include $pat"
	else
		not_ok "only $* include $pat: also$bad"
	fi
}

# none PATTERN FILE...: none of FILE... includes a header matching PATTERN
none() {
	local pat=$1 bad f
	shift
	bad=
	for f in "$@"; do
		includes "$f" | grep -qE "$pat" && bad="$bad $f"
	done
	if [ -z "$bad" ]; then
		ok "none of $* includes $pat"
	else
		not_ok "$pat included by$bad"
	fi
}

only '^libmilter/' milter/mlfi.c milter/daemon.c
only '^ldap\.h$' include/relaymilter/ldapconn.h
only 'relaymilter/ldapconn\.h$' milter/ldapsrc.c milter/ldapsync.c
only '^hiredis/' milter/limitredis.c
only '^libconfig\.h$' include/relaymilter/confread.h
only 'relaymilter/confread\.h$' milter/conf.c milter/confldap.c milter/conflimits.c
ENGINE="milter/policy.c milter/ruleset.c milter/addr.c milter/addrset.c
	milter/domset.c milter/ip.c milter/reply.c milter/strset.c
	include/relaymilter/strset.h include/relaymilter/policy.h
	include/relaymilter/ruleset.h include/relaymilter/addr.h
	include/relaymilter/addrset.h include/relaymilter/domset.h
	include/relaymilter/ip.h include/relaymilter/reply.h"
# shellcheck disable=SC2086 # word splitting of the file lists is meant
none '^libmilter/|^ldap\.h$|^libconfig\.h$|relaymilter/(conf|confdata|confread|source|runtime|daemon|ldapconf|ldapsrc|ldapdata|owners|ownercache)\.h$' $ENGINE
none '^ldap\.h$|relaymilter/(ldapconf|ldapsrc|ldapdata)\.h$' milter/mlfi.c milter/check.c

finish
