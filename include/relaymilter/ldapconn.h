/*
 * ldapconn.h - ldapsrc.c's connection and entry mapping, for the other
 * module that talks to LDAP (ldapsync.c).  Includes <ldap.h>: only those
 * two include this.
 */
#ifndef RM_LDAPCONN_H
#define RM_LDAPCONN_H

#include <stddef.h>

#include <ldap.h>

#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapdata.h"

/*
 * rm_ldap_connect - a bound handle to the first URI that works, as every
 * fetch gets one: protocol 3, ldap.timeout for the network and each
 * operation, no referrals, TLS that fails closed.  NULL with the last
 * failure in err.
 */
LDAP *rm_ldap_connect(const struct rm_ldap_conf *, char *err, size_t errlen);

/*
 * rm_ldap_map_attrs - the attributes a list's search asks for (its value,
 * owner, listener, lifts and reply attributes, and entryUUID), into attrs
 * (room for 7), NULL-ended.
 */
void rm_ldap_map_attrs(const struct rm_ldap_map *, char **attrs);

/*
 * rm_ldap_entry_records - the records of one entry of list (one per usable
 * value of the value attribute) appended to out, tagged with uuid (the
 * entryUUID, or NULL).  A value with a NUL byte is skipped and reported
 * through warn with the DN.  0, or -1 when out of memory.
 */
int rm_ldap_entry_records(LDAP *, LDAPMessage *, const struct rm_ldap_conf *,
                          int list, const char *uuid, struct rm_ldapdata *out,
                          void (*warn)(void *, const char *), void *arg);

#endif
