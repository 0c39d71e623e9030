/*
 * ldappool.h - a bounded pool of open connections, shared by threads, for
 * the on-demand sender lookups (ldapsrc.c opens and closes the LDAP
 * handles; this module only keeps them, as opaque pointers).
 *
 * A handle is used by one thread at a time: rm_ldap_pool_get hands it out,
 * rm_ldap_pool_put takes it back (kept idle, or closed when it failed).  At
 * most max handles exist, idle or in use; a get when all are in use waits
 * for one until its deadline.  An idle handle older than idle_max seconds
 * is closed instead of being handed out.
 *
 * Life: the owner lookups (owners.c) hold one reference for the settings
 * in force and each lookup one while it runs; a reload with other
 * connection settings drops the first, and the last reference closes the
 * idle handles and frees the pool (no handle is in use by then).
 */
#ifndef RM_LDAPPOOL_H
#define RM_LDAPPOOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Counters of every pool of a runtime, kept across reloads (metrics). */
struct rm_ldap_pool_stats {
	atomic_ulong ps_opened; /* connections opened */
	atomic_ulong ps_reused; /* lookups given an idle connection */
};

struct rm_ldap_pool;

/* the most handles a pool may have (ldap.senders.connections) */
#define RM_LDAP_POOL_MAX 64

/*
 * rm_ldap_pool_new - an empty pool of at most max (1..RM_LDAP_POOL_MAX)
 * handles, closed with close(); stats (may be NULL) outlives it.  One
 * reference; NULL: no memory, or max out of range.
 */
struct rm_ldap_pool *rm_ldap_pool_new(size_t max, int idle_max,
                                      void (*close)(void *handle),
                                      struct rm_ldap_pool_stats *stats);
/* rm_ldap_pool_hold - one more reference; returns its argument */
struct rm_ldap_pool *rm_ldap_pool_hold(struct rm_ldap_pool *);
/* rm_ldap_pool_free - drop a reference; the last one closes (NULL: ok) */
void rm_ldap_pool_free(struct rm_ldap_pool *);

/*
 * rm_ldap_pool_get - a handle for the caller alone: an idle one (*reused
 * set), unless fresh; else a new one from open(arg, err, errlen) when
 * under max (an idle one is closed to make room if need be); else waits,
 * until the CLOCK_MONOTONIC deadline at.  NULL with the reason in err.
 */
void *rm_ldap_pool_get(struct rm_ldap_pool *, const struct timespec *at,
                       bool fresh, void *(*open)(void *, char *, size_t),
                       void *arg, bool *reused, char *err, size_t errlen);

/* rm_ldap_pool_put - give the handle back: kept idle if ok, else closed */
void rm_ldap_pool_put(struct rm_ldap_pool *, void *handle, bool ok);

/* rm_ldap_pool_open - the handles open now, idle or in use (for tests) */
size_t rm_ldap_pool_open(struct rm_ldap_pool *);

#endif
