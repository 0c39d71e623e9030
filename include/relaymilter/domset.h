/*
 * domset.h - sets of domain names: exact names and whole subtrees.
 *
 * A pattern "example.com" matches that name only; ".example.com" matches
 * every name below it (a.example.com, b.a.example.com) but not example.com
 * itself, as in Postfix's parent_domain_matches_subdomains=no form.
 * Matching is ASCII case-insensitive; one trailing dot on a looked-up name
 * is ignored.  Built once (add, finish), then read-only and lock-free.
 * A lookup costs one hash probe per label of the name.
 *
 * A layer holds the changes to a finished set, its base, which it shares:
 * it reads as the set built from the base's entries, in their order,
 * less those removed, then the entries added to the layer.  A lookup
 * through a layer with changes costs one more probe per label.
 */
#ifndef RM_DOMSET_H
#define RM_DOMSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rm_domset;

struct rm_domset *rm_domset_new(void);

/*
 * rm_domain_check - a pattern is a valid domain name (or ".domain"):
 * labels of letters, digits, '-' and '_' (1-63 bytes, no leading or trailing
 * '-'), at most 253 bytes, no empty label.  Return 0, or -1 with the reason
 * in errbuf.
 */
int rm_domain_check(const char *pattern, char *errbuf, size_t errlen);

/*
 * rm_domset_add - add a pattern (checked with rm_domain_check) with an
 * opaque tag returned by lookups.  A duplicate pattern keeps the first tag
 * for lookups (rm_domset_holders has them all).
 * Return 0, -1 with the reason in errbuf.
 */
int rm_domset_add(struct rm_domset *, const char *pattern, const void *tag,
                  char *errbuf, size_t errlen);
/* rm_domset_finish - ready for lookups, a set or a layer; 0, -1 no memory. */
int rm_domset_finish(struct rm_domset *);

/*
 * rm_domset_layer - an empty layer over base (a finished set that is not
 * itself a layer); the base is shared: not copied, not freed by the
 * layer, and must outlive it.  rm_domset_add on a layer adds an entry,
 * exactly as on a set being built.  NULL: out of memory.
 */
struct rm_domset *rm_domset_layer(const struct rm_domset *base);
/*
 * rm_domset_remove - a layer only: the entry of pattern whose tag is tag
 * goes away (the first such, in the order of rm_domset_holders).  0, or
 * -1 with the reason in errbuf (not a layer, a bad pattern, no such
 * entry, no memory).
 */
int rm_domset_remove(struct rm_domset *layer, const char *pattern,
                     const void *tag, char *errbuf, size_t errlen);
/*
 * rm_domset_holders - fn(arg, tag) for every entry whose pattern has the
 * same key as pattern (the first is the one lookups return), in a set or
 * a layer; the number of them.  fn may be NULL.
 */
size_t rm_domset_holders(const struct rm_domset *, const char *pattern,
                         void (*fn)(void *arg, const void *tag), void *arg);
/*
 * rm_domset_lookup - does the set hold the name?  An exact pattern wins
 * over a subtree pattern, and a closer subtree over a wider one.
 */
bool rm_domset_lookup(const struct rm_domset *, const char *name,
                      const void **tag);

/*
 * A name hashed once for lookups in several sets: the hash of the whole
 * name and of each parent (a name has at most 127 labels).
 */
struct rm_domkey {
	const char *k_name; /* not copied: must outlive the key */
	unsigned k_len, k_n;
	unsigned k_whole;        /* the last suffix is the whole name */
	unsigned char k_at[127]; /* where each suffix starts */
	uint64_t k_hash[127];
};
/* rm_domkey_init - false when the name cannot be in any set. */
bool rm_domkey_init(struct rm_domkey *, const char *name);
/* rm_domset_lookup_key - rm_domset_lookup() of a hashed name. */
bool rm_domset_lookup_key(const struct rm_domset *, const struct rm_domkey *,
                          const void **tag);

/* rm_domset_count - the patterns: a duplicate counts once. */
size_t rm_domset_count(const struct rm_domset *);
/* rm_domset_free - a set or a layer, never a layer's base. */
void rm_domset_free(struct rm_domset *);

#endif
