/*
 * strset.h - sets of whole strings (SMTP AUTH logins), matched exactly
 * but for ASCII case.
 *
 * Built once (add, finish), then read-only and lock-free, like the other
 * sets of a ruleset.  A lookup is a binary search.
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
 * tag.  0, or -1 with the reason in errbuf.
 */
int rm_strset_add(struct rm_strset *, const char *s, const void *tag,
                  char *errbuf, size_t errlen);
/* rm_strset_finish - sort for lookups; 0 (it cannot fail). */
int rm_strset_finish(struct rm_strset *);
bool rm_strset_lookup(const struct rm_strset *, const char *s,
                      const void **tag);
size_t rm_strset_count(const struct rm_strset *);
void rm_strset_free(struct rm_strset *);

#endif
