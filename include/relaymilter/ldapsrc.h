/*
 * ldapsrc.h - reading policy data from LDAP (with ldapsync.c, the only user
 * of libldap).
 *
 * Every step has a time limit (ldap.timeout, for the network and for each
 * operation), and an on-demand lookup as a whole too: the MTA is waiting; TLS,
 * when asked for, fails closed; URIs are tried in order until one works.
 * Nothing here keeps a connection between calls.
 */
#ifndef RM_LDAPSRC_H
#define RM_LDAPSRC_H

#include <stddef.h>

#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapdata.h"
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
 * "not found" without a query.
 */
void rm_ldap_senders(const struct rm_ldap_conf *, const char *login,
                     struct rm_owned *out, char *err, size_t errlen);

/*
 * rm_ldap_owners_of - does any entry of ldap.senders own the address (the
 * reverse of rm_ldap_senders, for sender_login_mode = "known"): a user
 * entry (the filter, its %s as "*") or a group (the group filter, %d as
 * "*") holding the address, its "@domain" or an "@.parent" in an address
 * attribute.  A question that cannot be asked is an error, never "no".
 */
void rm_ldap_owners_of(const struct rm_ldap_conf *, const char *addr,
                       struct rm_owned *out, char *err, size_t errlen);

/* rm_ldap_escape - RFC 4515 filter value escaping into buf; NULL if long. */
char *rm_ldap_escape(const char *v, size_t vlen, char *buf, size_t len);

#endif
