/*
 * holders.h - the holders of keys, for the sets of a ruleset (domset,
 * addrset, strset): a map from a key (a set's lower-cased form of a
 * pattern) to the tags of the entries that hold it, in the order they
 * were added.
 *
 * A set keeps there the holders of a key beyond the first, so most sets
 * (no duplicate) leave it empty.  A layer keeps there every holder of
 * each key it changed, seeded from its base the first time, and the
 * number its base had.  Read-only after the set's finish.
 */
#ifndef RM_HOLDERS_H
#define RM_HOLDERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rm_hentry {
	char *he_key; /* NULL: an empty slot */
	const void **he_tag;
	size_t he_n, he_cap;
	size_t he_was; /* in a layer: how many holders the base had */
	uint32_t he_hash;
};

struct rm_holders {
	struct rm_hentry *h_v;
	size_t h_mask, h_used;
};

typedef void rm_holder_fn(void *arg, const void *tag);
/* the holders of key in a set (not a layer); how many */
typedef size_t rm_key_holders_fn(const void *set, const char *key,
                                 rm_holder_fn *fn, void *arg);

/* rm_holders_get - the entry of key, or NULL. */
const struct rm_hentry *rm_holders_get(const struct rm_holders *,
                                       const char *key);
/* rm_holders_push - tag becomes the last holder of key; 0, -1 no memory. */
int rm_holders_push(struct rm_holders *, const char *key, const void *tag);
/* rm_holders_each - fn(arg, tag) (fn may be NULL) for each tag of e
   (NULL: none); how many. */
size_t rm_holders_each(const struct rm_hentry *e, rm_holder_fn *fn, void *arg);
/* rm_holders_next - the entry at or after *i, *i past it; NULL at the end */
const struct rm_hentry *rm_holders_next(const struct rm_holders *, size_t *i);

/*
 * rm_holders_change - in a layer's map over base: add tag as the last
 * holder of key, or remove the first holder of key whose tag is tag.
 * base_holders seeds a key the first time the layer changes it.  0, or
 * -1 with the reason (not a layer: base is NULL, no such entry, no
 * memory: the layer is then only good to free) in errbuf.
 */
int rm_holders_change(struct rm_holders *, const char *key, const void *tag,
                      bool add, const void *base,
                      rm_key_holders_fn *base_holders, char *errbuf,
                      size_t errlen);

/*
 * rm_holders_of - the holders of key in set, a layer over base with map
 * m (base NULL: set is no layer, holders gives them); how many.
 */
size_t rm_holders_of(const struct rm_holders *m, const void *set,
                     const void *base, const char *key,
                     rm_key_holders_fn *holders, rm_holder_fn *fn, void *arg);

void rm_holders_free(struct rm_holders *);

#endif
