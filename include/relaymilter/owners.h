/*
 * owners.h - what an SMTP AUTH login owns beyond sender_logins: the
 * on-demand lookup behind the engine's owner port (policy.h), a cache in
 * front of the directory (ldap.senders).  The daemon and "relaymilter
 * check" use it alike; neither talks to LDAP itself.
 *
 * The directory settings are swapped in by every (re)load; a lookup in
 * flight keeps the settings it started with.  The connections of the
 * lookups are pooled (ldappool.h): one pool for the settings in force,
 * kept by a reload that leaves the server, TLS, bind and pool size as
 * they were, else replaced; the old pool is closed when its last lookup
 * gives it back.
 */
#ifndef RM_OWNERS_H
#define RM_OWNERS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "relaymilter/ldappool.h"
#include "relaymilter/ownercache.h"
#include "relaymilter/policy.h"

struct rm_ldap_conf;

struct rm_owners {
	struct rm_ownercache ow_cache;
	pthread_mutex_t ow_lock;         /* guards ow_lc, the pointer only */
	struct rm_ldap_conf *ow_lc;      /* held; NULL: no on-demand lookups */
	struct rm_ldap_pool *ow_pool;    /* held; ow_lc's connections */
	atomic_bool ow_on;               /* ow_lc != NULL, for sessions */
	atomic_ulong ow_hits, ow_misses; /* lookups the cache answered, or
	                                    not (relaxed: for the metrics) */
	struct rm_ldap_pool_stats ow_conns; /* of every pool so far */
};

void rm_owners_init(struct rm_owners *);
void rm_owners_destroy(struct rm_owners *);

/*
 * rm_owners_set - the directory settings to use from now on (a reference
 * is taken; NULL, or settings without ldap.senders: no lookups).  The
 * cache is kept: its answers expire by their own TTL.  The connection
 * pool is kept when rm_ldap_conf_same_server says so.
 */
void rm_owners_set(struct rm_owners *, struct rm_ldap_conf *);

/* rm_owners_enabled - on-demand lookups are configured. */
bool rm_owners_enabled(struct rm_owners *);

/*
 * rm_owners_lookup - what login owns: from the cache, else from the
 * directory (within its deadline), then cached (errors never are).  out
 * is the caller's to clear.  An error leaves out->o_state RM_LOOKUP_ERROR
 * and the reason in err.  Not enabled: out->o_state RM_NOTFOUND.
 */
void rm_owners_lookup(struct rm_owners *, const char *login, time_t now,
                      struct rm_owned *out, char *err, size_t errlen);

/*
 * rm_owners_owned_by - the reverse question (sender_login_mode =
 * "known"): does any login of the directory own addr ("user@domain")?
 * RM_FOUND, RM_NOTFOUND, or RM_LOOKUP_ERROR with the reason in err;
 * cached as rm_owners_lookup's answers are, under a key no login can
 * have.  Not enabled: RM_NOTFOUND.
 */
enum rm_lookup rm_owners_owned_by(struct rm_owners *, const char *addr,
                                  time_t now, char *err, size_t errlen);

#endif
