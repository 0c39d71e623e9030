/*
 * ownercache.h - a bounded cache of on-demand sender lookups (login ->
 * owned addresses), shared by the milter threads.
 *
 * Answers live ttl seconds, "not found" negative_ttl seconds; errors are
 * never cached.  When full, a least recently used login is dropped.
 * Logins compare without ASCII case.  A hit or a miss costs one hash
 * probe under the lock of one of RM_OC_SHARDS shards, so sessions that
 * look up different logins rarely wait for each other.
 */
#ifndef RM_OWNERCACHE_H
#define RM_OWNERCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "relaymilter/lrutab.h"
#include "relaymilter/policy.h"

#define RM_OC_SHARDS 16

struct oc_shard {
	pthread_mutex_t sh_lock;
	struct rm_lru_tab sh_tab; /* the logins, by hash and by last use */
};

struct rm_ownercache {
	struct oc_shard oc_shards[RM_OC_SHARDS];
	atomic_size_t oc_count; /* entries in all shards */
};

void rm_ownercache_init(struct rm_ownercache *);
void rm_ownercache_destroy(struct rm_ownercache *);

/* rm_ownercache_get - a copy of a live answer into out; 1 hit, 0 miss. */
int rm_ownercache_get(struct rm_ownercache *, const char *login, time_t now,
                      struct rm_owned *out);
/*
 * rm_ownercache_put - remember an answer (not an error) until expiry; the
 * cache holds at most max logins (a few more while threads race, never
 * more than max + RM_OC_SHARDS), the least recently used of the shard a
 * new one lands in making room.
 */
void rm_ownercache_put(struct rm_ownercache *, const char *login,
                       const struct rm_owned *, time_t expiry, size_t max);

/* rm_ownercache_count - how many logins are cached (for tests). */
size_t rm_ownercache_count(struct rm_ownercache *);

/* rm_owned_copy - a deep copy; 0, or -1 when out of memory. */
int rm_owned_copy(struct rm_owned *dst, const struct rm_owned *src);
void rm_owned_clear(struct rm_owned *);

#endif
