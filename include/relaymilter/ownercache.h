/*
 * ownercache.h - a bounded cache of on-demand sender lookups (login ->
 * owned addresses), shared by the milter threads.
 *
 * Answers live ttl seconds, "not found" negative_ttl seconds; errors are
 * never cached.  When full, the entry closest to expiry is dropped.
 */
#ifndef RM_OWNERCACHE_H
#define RM_OWNERCACHE_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "relaymilter/policy.h"

struct rm_ownercache {
	pthread_mutex_t oc_lock;
	struct oc_ent *oc_ents; /* linear table: small, bounded */
	size_t oc_n, oc_cap;
};

void rm_ownercache_init(struct rm_ownercache *);
void rm_ownercache_destroy(struct rm_ownercache *);

/* rm_ownercache_get - a copy of a live answer into out; 1 hit, 0 miss. */
int rm_ownercache_get(struct rm_ownercache *, const char *login, time_t now,
                      struct rm_owned *out);
/* rm_ownercache_put - remember an answer (not an error) until expiry. */
void rm_ownercache_put(struct rm_ownercache *, const char *login,
                       const struct rm_owned *, time_t expiry, size_t max);

/* rm_owned_copy - a deep copy; 0, or -1 when out of memory. */
int rm_owned_copy(struct rm_owned *dst, const struct rm_owned *src);
void rm_owned_clear(struct rm_owned *);

#endif
