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
 *
 * A layer holds the changes to a set, its base, which it shares: it
 * reads as the set built from the base's entries, in their order, less
 * those removed, then the entries added to the layer.  A lookup through
 * a layer with changes costs one more probe per label.
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
 * tag.  A duplicate keeps the first tag for lookups (rm_addrset_holders
 * has them all).  Return 0, or -1 with the reason (a bad pattern, out of
 * memory) in errbuf.
 */
int rm_addrset_add(struct rm_addrset *, const char *owner, const char *pattern,
                   const void *tag, char *errbuf, size_t errlen);
/*
 * rm_addrset_finish - ready for lookups: a set needs nothing, a layer
 * needs it.  0, -1 out of memory.
 */
int rm_addrset_finish(struct rm_addrset *);

/*
 * rm_addrset_layer - an empty layer over base (a set that is not itself a
 * layer); the base is shared: not copied, not freed by the layer, and
 * must outlive it.  rm_addrset_add on a layer adds an entry, exactly as
 * on a set being built.  NULL: out of memory.
 */
struct rm_addrset *rm_addrset_layer(const struct rm_addrset *base);
/*
 * rm_addrset_remove - a layer only: the entry of pattern under owner whose
 * tag is tag goes away (the first such, in the order of
 * rm_addrset_holders).  0, or -1 with the reason in errbuf (not a layer,
 * a bad pattern, no such entry, no memory).
 */
int rm_addrset_remove(struct rm_addrset *layer, const char *owner,
                      const char *pattern, const void *tag, char *errbuf,
                      size_t errlen);
/*
 * rm_addrset_holders - fn(arg, tag) for every entry of owner whose pattern
 * has the same key as pattern (the first is the one lookups return), in
 * a set or a layer; the number of them.  fn may be NULL.
 */
size_t rm_addrset_holders(const struct rm_addrset *, const char *owner,
                          const char *pattern,
                          void (*fn)(void *arg, const void *tag), void *arg);

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

/* rm_addrset_count - the patterns: a duplicate counts once. */
size_t rm_addrset_count(const struct rm_addrset *);
/* rm_addrset_free - a set or a layer, never a layer's base. */
void rm_addrset_free(struct rm_addrset *);

#endif
