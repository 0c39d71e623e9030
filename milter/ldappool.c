/*
 * ldappool.c - the connection pool of the on-demand lookups (ldappool.h).
 *
 * One mutex guards the counts and the idle handles: a stack, the most
 * recently given back on top (so that a quiet period lets the others age
 * out), the oldest at the bottom.  Handles are opened and closed outside
 * the lock: both talk to the network.  A waiter sleeps on a condition
 * variable of the monotonic clock, signalled whenever a handle is given
 * back or a slot freed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/ldappool.h"

struct idle {
	void *handle;
	struct timespec since; /* given back (CLOCK_MONOTONIC) */
};

struct rm_ldap_pool {
	_Atomic unsigned lp_refs;
	pthread_mutex_t lp_lock;
	pthread_cond_t lp_freed; /* a handle was given back or closed */
	size_t lp_max;
	int lp_idle_max;      /* seconds */
	size_t lp_open;       /* handles that exist (or are being opened) */
	size_t lp_nidle;      /* lp_idle[0..lp_nidle) */
	struct idle *lp_idle; /* lp_max of them */
	void (*lp_close)(void *);
	struct rm_ldap_pool_stats *lp_stats;
};

struct rm_ldap_pool *
rm_ldap_pool_new(size_t max, int idle_max, void (*close)(void *),
                 struct rm_ldap_pool_stats *stats)
{
	struct rm_ldap_pool *p;
	pthread_condattr_t ca;

	if (max == 0 || max > RM_LDAP_POOL_MAX ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->lp_idle = calloc(max, sizeof(*p->lp_idle))) == NULL) {
		free(p);
		return NULL;
	}
	atomic_init(&p->lp_refs, 1);
	pthread_mutex_init(&p->lp_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->lp_freed, &ca);
	pthread_condattr_destroy(&ca);
	p->lp_max = max;
	p->lp_idle_max = idle_max;
	p->lp_close = close;
	p->lp_stats = stats;
	return p;
}

struct rm_ldap_pool *
rm_ldap_pool_hold(struct rm_ldap_pool *p)
{
	atomic_fetch_add_explicit(&p->lp_refs, 1, memory_order_relaxed);
	return p;
}

void
rm_ldap_pool_free(struct rm_ldap_pool *p)
{
	size_t i;

	if (p == NULL || atomic_fetch_sub_explicit(&p->lp_refs, 1,
	                                           memory_order_acq_rel) != 1)
		return;
	/* nobody holds it: every handle is idle */
	for (i = 0; i < p->lp_nidle; i++)
		p->lp_close(p->lp_idle[i].handle);
	pthread_cond_destroy(&p->lp_freed);
	pthread_mutex_destroy(&p->lp_lock);
	free(p->lp_idle);
	free(p);
}

/* stale - given back more than idle_max seconds before now */
static bool
stale(const struct rm_ldap_pool *p, const struct idle *e,
      const struct timespec *now)
{
	return now->tv_sec - e->since.tv_sec > p->lp_idle_max;
}

/*
 * take_idle - under the lock: the handles to close into out (returns how
 * many; the idle ones too old, and with fresh one more to make room when
 * at max), and a usable idle handle into *h, or NULL.
 */
static size_t
take_idle(struct rm_ldap_pool *p, bool fresh, void **h, void **out)
{
	struct timespec now;
	size_t n = 0, k;

	clock_gettime(CLOCK_MONOTONIC, &now);
	*h = NULL;
	/* the oldest are at the bottom */
	for (k = 0; k < p->lp_nidle && stale(p, &p->lp_idle[k], &now); k++)
		out[n++] = p->lp_idle[k].handle;
	if (fresh && k < p->lp_nidle && p->lp_open - n >= p->lp_max)
		out[n++] = p->lp_idle[k++].handle;
	if (k > 0) {
		memmove(p->lp_idle, p->lp_idle + k,
		        (p->lp_nidle - k) * sizeof(*p->lp_idle));
		p->lp_nidle -= k;
		p->lp_open -= k;
	}
	if (!fresh && p->lp_nidle > 0)
		*h = p->lp_idle[--p->lp_nidle].handle;
	return n;
}

void *
rm_ldap_pool_get(struct rm_ldap_pool *p, const struct timespec *at, bool fresh,
                 void *(*open)(void *, char *, size_t), void *arg, bool *reused,
                 char *err, size_t errlen)
{
	void *h = NULL, *gone[RM_LDAP_POOL_MAX];
	size_t n, i;
	int rc = 0;

	*reused = false;
	pthread_mutex_lock(&p->lp_lock);
	for (;;) {
		n = take_idle(p, fresh, &h, gone);
		if (n > 0) {
			/* closing talks to the network: not under the lock */
			pthread_mutex_unlock(&p->lp_lock);
			for (i = 0; i < n; i++)
				p->lp_close(gone[i]);
			pthread_mutex_lock(&p->lp_lock);
			pthread_cond_broadcast(&p->lp_freed);
		}
		if (h != NULL || p->lp_open < p->lp_max)
			break;
		if (rc == ETIMEDOUT) {
			snprintf(err, errlen,
			         "deadline passed waiting for one of %zu "
			         "connections",
			         p->lp_max);
			pthread_mutex_unlock(&p->lp_lock);
			return NULL;
		}
		rc = pthread_cond_timedwait(&p->lp_freed, &p->lp_lock, at);
	}
	if (h == NULL)
		p->lp_open++; /* this slot is ours while we open */
	pthread_mutex_unlock(&p->lp_lock);
	if (h != NULL) {
		*reused = true;
		if (p->lp_stats != NULL)
			atomic_fetch_add_explicit(&p->lp_stats->ps_reused, 1,
			                          memory_order_relaxed);
		return h;
	}
	if ((h = open(arg, err, errlen)) == NULL) {
		pthread_mutex_lock(&p->lp_lock);
		p->lp_open--;
		pthread_cond_signal(&p->lp_freed);
		pthread_mutex_unlock(&p->lp_lock);
		return NULL;
	}
	if (p->lp_stats != NULL)
		atomic_fetch_add_explicit(&p->lp_stats->ps_opened, 1,
		                          memory_order_relaxed);
	return h;
}

void
rm_ldap_pool_put(struct rm_ldap_pool *p, void *h, bool ok)
{
	if (!ok)
		p->lp_close(h);
	pthread_mutex_lock(&p->lp_lock);
	if (ok) {
		p->lp_idle[p->lp_nidle].handle = h;
		clock_gettime(CLOCK_MONOTONIC, &p->lp_idle[p->lp_nidle].since);
		p->lp_nidle++;
	} else
		p->lp_open--;
	pthread_cond_signal(&p->lp_freed);
	pthread_mutex_unlock(&p->lp_lock);
}

size_t
rm_ldap_pool_open(struct rm_ldap_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->lp_lock);
	n = p->lp_open;
	pthread_mutex_unlock(&p->lp_lock);
	return n;
}
