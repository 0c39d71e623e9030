/*
 * strset.h - sets of whole strings (SMTP AUTH logins), matched exactly
 * but for ASCII case.
 *
 * Built once (add, finish), then read-only and lock-free, like the other
 * sets of a ruleset.  A lookup is a binary search.
 *
 * A layer holds the changes to a finished set, its base, which it shares:
 * it reads as the set built from the base's entries, in their order,
 * less those removed, then the entries added to the layer.  A lookup
 * through a layer with changes costs one more search.
 */
#ifndef RM_STRSET_H
#define RM_STRSET_H

#include <stdbool.h>
#include <stddef.h>

struct rm_strset;

struct rm_strset *rm_strset_new(void);

/*
 * rm_strset_add - add a string (not empty, printable, at most 255 bytes)
 * with an opaque tag returned by lookups; a duplicate keeps the first
 * tag for lookups (rm_strset_holders has them all).  0, or -1 with the
 * reason in errbuf.
 */
int rm_strset_add(struct rm_strset *, const char *s, const void *tag,
                  char *errbuf, size_t errlen);
/* rm_strset_finish - sort for lookups, a set or a layer; 0, -1 no memory */
int rm_strset_finish(struct rm_strset *);

/*
 * rm_strset_layer - an empty layer over base (a finished set that is not
 * itself a layer); the base is shared: not copied, not freed by the
 * layer, and must outlive it.  rm_strset_add on a layer adds an entry,
 * exactly as on a set being built.  NULL: out of memory.
 */
struct rm_strset *rm_strset_layer(const struct rm_strset *base);
/*
 * rm_strset_remove - a layer only: the entry of s whose tag is tag goes
 * away (the first such, in the order of rm_strset_holders).  0, or -1
 * with the reason in errbuf (not a layer, a bad string, no such entry,
 * no memory).
 */
int rm_strset_remove(struct rm_strset *layer, const char *s, const void *tag,
                     char *errbuf, size_t errlen);
/*
 * rm_strset_holders - fn(arg, tag) for every entry whose string has the
 * same key (case aside) as s (the first is the one lookups return), in a
 * set or a layer; the number of them.  fn may be NULL.
 */
size_t rm_strset_holders(const struct rm_strset *, const char *s,
                         void (*fn)(void *arg, const void *tag), void *arg);
bool rm_strset_lookup(const struct rm_strset *, const char *s,
                      const void **tag);
/* rm_strset_count - the entries: a duplicate counts each time. */
size_t rm_strset_count(const struct rm_strset *);
/* rm_strset_free - a set or a layer, never a layer's base. */
void rm_strset_free(struct rm_strset *);

#endif
