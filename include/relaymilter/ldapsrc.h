/*
 * ldapsrc.h - reading policy data from LDAP (with ldapsync.c, the only user
 * of libldap).
 *
 * Every step has a time limit (ldap.timeout, for the network and for each
 * operation), and an on-demand lookup as a whole too: the MTA is waiting; TLS,
 * when asked for, fails closed; URIs are tried in order until one works.
 * A fetch keeps no connection; on-demand lookups keep theirs in a pool
 * (ldappool.h) when given one.
 */
#ifndef RM_LDAPSRC_H
#define RM_LDAPSRC_H

#include <stddef.h>

#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapdata.h"
#include "relaymilter/ldappool.h"
#include "relaymilter/policy.h"
#include "relaymilter/rm.h"

/* rm_ldap_init - before any thread and any libldap call: no ldaprc. */
void rm_ldap_init(void);

/*
 * rm_ldap_fetch - read every mapped list into out (sorted).  Values that
 * cannot be used (a NUL byte inside) are skipped and reported through warn
 * with their DN.  Return 0, or -1 with the reason (never the password) in
 * err and out empty.
 */
int rm_ldap_fetch(const struct rm_ldap_conf *, struct rm_ldapdata *out,
                  void (*warn)(void *arg, const char *msg), void *arg,
                  char *err, size_t errlen);

/*
 * rm_ldap_senders - look up what login owns (ldap.senders): the address
 * attributes of the user's entry, and of the groups it is a member of.
 * Every value put into a filter is RFC 4515-escaped; an empty login is
 * "not found" without a query.  The connection comes from pool (NULL: one
 * of its own, closed after): a connection that fails is closed, and when
 * it was a reused one the lookup is tried once more on a fresh connection
 * if the deadline (ldap.timeout for the whole lookup) allows.
 */
void rm_ldap_senders(const struct rm_ldap_conf *, struct rm_ldap_pool *pool,
                     const char *login, struct rm_owned *out, char *err,
                     size_t errlen);

/*
 * rm_ldap_owners_of - does any entry of ldap.senders own the address (the
 * reverse of rm_ldap_senders, for sender_login_mode = "known"): a user
 * entry (the filter, its %s as "*") or a group (the group filter, %d as
 * "*") holding the address, its "@domain" or an "@.parent" in an address
 * attribute.  A question that cannot be asked is an error, never "no".
 * Connections as rm_ldap_senders'.
 */
void rm_ldap_owners_of(const struct rm_ldap_conf *, struct rm_ldap_pool *pool,
                       const char *addr, struct rm_owned *out, char *err,
                       size_t errlen);

/*
 * rm_ldap_senders_pool - a pool of ldap.senders.connections connections
 * for the lookups with these settings (or settings rm_ldap_conf_same_server
 * says are the same); NULL: no memory.
 */
struct rm_ldap_pool *rm_ldap_senders_pool(const struct rm_ldap_conf *,
                                          struct rm_ldap_pool_stats *stats);

/* rm_ldap_escape - RFC 4515 filter value escaping into buf; NULL if long. */
char *rm_ldap_escape(const char *v, size_t vlen, char *buf, size_t len);

#endif
