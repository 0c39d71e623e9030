/*
 * addrset.h - sets of envelope-address patterns, optionally per owner.
 *
 * Patterns: "user@domain" (that address), "domain" or "@domain" (every
 * address of the domain), ".domain" or "@.domain" (every address of every
 * subdomain, not of the domain itself).  Matching is ASCII
 * case-insensitive, local part included, as in Postfix access maps.
 *
 * An owner (a login, for sender_logins) scopes patterns: a lookup with an
 * owner only sees the patterns added with that owner.  Plain lists use the
 * NULL owner.  Built once (add, then finish), then read-only and
 * lock-free; a lookup costs one hash probe per label of the domain.
 */
#ifndef RM_ADDRSET_H
#define RM_ADDRSET_H

#include <stdbool.h>
#include <stddef.h>

#include "relaymilter/addr.h"

struct rm_addrset;

struct rm_addrset *rm_addrset_new(void);

/*
 * rm_addrset_add - add a pattern under owner (NULL: none) with an opaque
 * tag.  A duplicate keeps the first tag.  Return 0, or -1 with the reason
 * (a bad pattern, out of memory) in errbuf.
 */
int rm_addrset_add(struct rm_addrset *, const char *owner, const char *pattern,
                   const void *tag, char *errbuf, size_t errlen);

/*
 * rm_addrset_lookup - the most specific pattern of owner that covers the
 * parsed address: the exact address, then its domain, then the closest
 * parent subtree.  An unqualified address matches only exact "user@"-less
 * patterns, that is nothing.
 */
bool rm_addrset_lookup(const struct rm_addrset *, const char *owner,
                       const struct rm_addr *, const void **tag);

/* rm_addrset_has_owner - at least one pattern was added for owner. */
bool rm_addrset_has_owner(const struct rm_addrset *, const char *owner);

size_t rm_addrset_count(const struct rm_addrset *);
void rm_addrset_free(struct rm_addrset *);

#endif
