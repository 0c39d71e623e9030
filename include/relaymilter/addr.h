/*
 * addr.h - SMTP envelope address parsing for relay decisions.
 *
 * rm_addr_parse() takes an address as the MTA hands it to the milter
 * ("<user@example.com>", with or without angle brackets) and splits it into
 * a local part and a domain, flagging every form that can route mail
 * somewhere other than where the domain says: source routes, '@', '%' or
 * '!' in the local part (quoted or not), and address literals.  The domain
 * is lower-cased (ASCII only; 8-bit bytes are kept as they are) and one
 * trailing dot is removed.  The parser never allocates and never reads past
 * the terminating NUL.
 */
#ifndef RM_ADDR_H
#define RM_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "relaymilter/ip.h"

/* RFC 5321 4.5.3.1 limits, with room for MTAs that are lenient. */
#define RM_LOCAL_MAX  256
#define RM_DOMAIN_MAX 255

enum rm_addr_flag {
	RM_ADDR_NULL = 1 << 0,         /* "<>": the null (bounce) sender */
	RM_ADDR_SOURCE_ROUTE = 1 << 1, /* "<@a,@b:user@d>" */
	RM_ADDR_ROUTING = 1 << 2,      /* '@', '%' or '!' in the local part */
	RM_ADDR_QUOTED = 1 << 3,       /* the local part was a quoted string */
	RM_ADDR_LITERAL = 1 << 4,     /* the domain is "[...]"; see a_literal */
	RM_ADDR_UNQUALIFIED = 1 << 5, /* no '@domain' at all */
	RM_ADDR_TRAILING_DOT = 1 << 6, /* "user@example.com." (dot removed) */
	/*
	 * The local part is longer than RM_LOCAL_MAX: a_local holds its
	 * first RM_LOCAL_MAX bytes, the flags and the domain cover it all.
	 * It can equal no configured address.
	 */
	RM_ADDR_LONG_LOCAL = 1 << 7,
	/*
	 * The literal is not in the form MTAs deliver locally: an IPv4
	 * address written as IPv6 ("[::ffff:192.0.2.1]", tagged or not), or
	 * an IPv6 address without the "IPv6:" tag (RFC 5321 4.1.3).
	 */
	RM_ADDR_LITERAL_ODD = 1 << 8,
};

/* Routing in the address: a source route, or '@', '%', '!' in the local
   part. */
#define RM_ADDR_ROUTED (RM_ADDR_SOURCE_ROUTE | RM_ADDR_ROUTING)

struct rm_addr {
	/*
	 * Local part with quoting and quoted-pair escapes removed, case kept
	 * (local parts are case-sensitive in principle).
	 */
	char a_local[RM_LOCAL_MAX + 1];
	/* Domain, lower-cased, without a trailing dot; for a literal, the
	 * bracketed text as given, lower-cased ("[ipv6:2001:db8::1]"). */
	char a_domain[RM_DOMAIN_MAX + 1];
	unsigned a_flags;       /* enum rm_addr_flag bits */
	struct rm_ip a_literal; /* valid when RM_ADDR_LITERAL is set */
};

/*
 * rm_addr_parse - parse one envelope address.
 *
 * Return value: 0 on success; -1 when the address is malformed, too long,
 * holds a NUL-free but unparseable form (unbalanced quotes or brackets,
 * empty labels, a bad or non-strict address literal, control characters),
 * in which case *out is zeroed and errbuf (if not NULL) says why.
 */
int rm_addr_parse(const char *in, struct rm_addr *out, char *errbuf,
                  size_t errlen);

/*
 * rm_addr_each_domain - call fn with every domain the address could be
 * routed or rewritten to, as a NUL-terminated string, lower-cased, without
 * a trailing dot (a literal keeps its brackets): the hops of a source
 * route, the hosts of a bang path ("host!user"), the domains after '%' or
 * '@' in the local part (the percent hack: "user%host"), and the domain.
 * raw is the string a was parsed from (the source route is read from it);
 * empty names are skipped.  Stops at the first non-zero return of fn and
 * returns it; 0 when every call returned 0.
 */
int rm_addr_each_domain(const char *raw, const struct rm_addr *a,
                        int (*fn)(void *arg, const char *domain), void *arg);

/*
 * rm_addr_unbracket - a without one enclosing "<...>", copied into buf;
 * a itself when it has none or buf is too small.  For display only.
 */
const char *rm_addr_unbracket(const char *a, char *buf, size_t len);

/* rm_addr_is_postmaster - the local part is "postmaster" in any case. */
bool rm_addr_is_postmaster(const struct rm_addr *);

#endif
