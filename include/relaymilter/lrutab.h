/*
 * lrutab.h - a chained hash table threaded on an LRU list: the shard core
 * of the owner cache (ownercache.c) and of the limits' memory store
 * (limitstore.c).
 *
 * An entry embeds struct rm_lru_node as its first member; the table only
 * links nodes (it allocates its buckets, never the entries).  Not locked:
 * the caller holds its shard's lock.  The buckets double when the table
 * holds more entries than buckets.
 */
#ifndef RM_LRUTAB_H
#define RM_LRUTAB_H

#include <stddef.h>

struct rm_lru_node {
	struct rm_lru_node *next;          /* hash chain */
	struct rm_lru_node *older, *newer; /* LRU list */
	unsigned hash;
};

struct rm_lru_tab {
	struct rm_lru_node **buckets; /* mask + 1 chains; NULL: none yet */
	size_t mask, n;
	struct rm_lru_node *lru, *mru; /* least and most recently used */
};

/* rm_lru_eq - does this node hold key? */
typedef int rm_lru_eq(const struct rm_lru_node *, const void *key);

/*
 * rm_lru_find - the slot that points at key's node (hash h), or at the end
 * of its chain (*slot NULL); NULL when the table has no buckets yet.
 */
struct rm_lru_node **rm_lru_find(struct rm_lru_tab *, unsigned h, rm_lru_eq *,
                                 const void *key);
/* rm_lru_touch - move a node to the most recently used end */
void rm_lru_touch(struct rm_lru_tab *, struct rm_lru_node *);
/*
 * rm_lru_insert - chain a node (its hash set) and make it the most
 * recently used; -1 when there are no buckets (out of memory).
 */
int rm_lru_insert(struct rm_lru_tab *, struct rm_lru_node *);
/* rm_lru_remove - unchain and unlink the node at *slot (not freed) */
void rm_lru_remove(struct rm_lru_tab *, struct rm_lru_node **slot);

#endif
