/*
 * grants.h - relay grants (POP/IMAP-before-SMTP): a client address that
 * has just logged in to the site's POP3/IMAP server may relay for a while
 * without SMTP AUTH.
 *
 *   - the store, a port (struct rm_grant_store): where the grants live,
 *     beside the limits' counters: in memory (grants.c: one hash + LRU
 *     table, bounded, lost at a restart), or in Redis (limitredis.c:
 *     "rm:g:ADDRESS", expiring with the grant, seen by every daemon that
 *     shares the Redis, with the memory store as its fallback);
 *   - rm_grants_add(): what a grant's source calls (the control socket's
 *     "grant" request, grantctl.c; the log follower, follow.c);
 *   - the engine asks through the grant port of the facts (policy.h,
 *     struct rm_grant_port), which the adapter answers from the store.
 * The clock is Unix time (seconds): a grant expires at a wall-clock time
 * that every daemon of a cluster reads alike (Redis: its TIME).
 */
#ifndef RM_GRANTS_H
#define RM_GRANTS_H

#include <stddef.h>
#include <stdint.h>

#include "relaymilter/ip.h"
#include "relaymilter/policy.h"

#define RM_GRANT_ENTRIES 65536 /* the memory store's bound */

/* rm_grant_row_fn - one grant of a listing */
typedef void rm_grant_row_fn(void *arg, const struct rm_ip *,
                             const struct rm_grant *);

/*
 * The store port.  now is Unix time (Redis uses its own clock).
 *   gs_put   grant addr for ttl seconds (a grant already there is
 *            replaced); *expires gets the expiry.  0, or -1 (store error).
 *   gs_get   the grant of addr now into *out (g_state RM_FOUND,
 *            RM_NOTFOUND or RM_LOOKUP_ERROR).
 *   gs_del   revoke: 1 revoked, 0 none, -1 store error.
 *   gs_list  the live grants (of addr only, unless NULL) to fn; how many,
 *            or (size_t)-1 on a store error.
 */
struct rm_grant_store {
	int (*gs_put)(struct rm_grant_store *, const struct rm_ip *,
	              const struct rm_grant *, unsigned ttl, uint64_t now,
	              uint64_t *expires);
	void (*gs_get)(struct rm_grant_store *, const struct rm_ip *,
	               uint64_t now, struct rm_grant *out);
	int (*gs_del)(struct rm_grant_store *, const struct rm_ip *);
	size_t (*gs_list)(struct rm_grant_store *, const struct rm_ip *only,
	                  uint64_t now, rm_grant_row_fn *fn, void *arg);
	void (*gs_free)(struct rm_grant_store *);
};

/* rm_grants_memory_new - the memory store, at most max grants; or NULL */
struct rm_grant_store *rm_grants_memory_new(size_t max);

/*
 * rm_grants_redis_new - the grants in the Redis store of the limits
 * (rm_limits_redis_new(), limitredis.c): its connections, breaker and
 * store_down; the memory store as fallback.  It must outlive the grant
 * store.  NULL when out of memory.
 */
struct rm_limit_store;
struct rm_grant_store *rm_grants_redis_new(struct rm_limit_store *redis);

/*
 * rm_grants_add - grant addr for ttl seconds (0: RM_GRANT_TTL_DEFAULT;
 * more than RM_GRANT_TTL_MAX: refused) on behalf of login (may be NULL;
 * control bytes and anything past RM_GRANT_LOGIN_MAX are cut) from source
 * ("push", "follow").  0 and *expires, or -1 with why.
 */
int rm_grants_add(struct rm_grant_store *, const struct rm_ip *addr,
                  const char *login, const char *source, unsigned ttl,
                  uint64_t now, uint64_t *expires, const char **why);

/*
 * rm_grants_addr - a grant's address: an IPv4 or IPv6 literal only (an
 * IPv4-mapped IPv6 one is its IPv4 address).  0, or -1.
 */
int rm_grants_addr(const char *s, struct rm_ip *out);

/*
 * rm_grant_encode, rm_grant_decode - a grant as one line "EXPIRES SOURCE
 * LOGIN" (Redis's value; LOGIN may be empty).  decode: 0, or -1.
 */
int rm_grant_encode(const struct rm_grant *, char *buf, size_t len);
int rm_grant_decode(const char *s, struct rm_grant *out);

#endif
