/*
 * owners.c - the on-demand owner lookup: cache, then directory.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapsrc.h"
#include "relaymilter/owners.h"

void
rm_owners_init(struct rm_owners *ow)
{
	memset(ow, 0, sizeof(*ow));
	rm_ownercache_init(&ow->ow_cache);
	pthread_mutex_init(&ow->ow_lock, NULL);
	atomic_init(&ow->ow_on, false);
}

void
rm_owners_destroy(struct rm_owners *ow)
{
	rm_ldap_conf_free(ow->ow_lc);
	rm_ldap_pool_free(ow->ow_pool);
	rm_ownercache_destroy(&ow->ow_cache);
	pthread_mutex_destroy(&ow->ow_lock);
}

void
rm_owners_set(struct rm_owners *ow, struct rm_ldap_conf *lc)
{
	struct rm_ldap_pool *pool = NULL, *oldpool = NULL;
	struct rm_ldap_conf *old;
	bool same;

	if (lc != NULL && lc->lc_senders == NULL)
		lc = NULL;
	/* the same settings (every rebuild of the data alone): no lock a
	   session could wait for behind this thread's idle priority; only
	   this thread changes ow_lc */
	if (lc == ow->ow_lc)
		return;
	if (lc != NULL)
		rm_ldap_conf_hold(lc);
	pthread_mutex_lock(&ow->ow_lock);
	same = ow->ow_pool != NULL && rm_ldap_conf_same_server(ow->ow_lc, lc);
	/* a new pool is only memory: no connection until a lookup */
	if (lc != NULL && !same)
		pool = rm_ldap_senders_pool(lc, &ow->ow_conns);
	old = ow->ow_lc;
	ow->ow_lc = lc;
	atomic_store(&ow->ow_on, lc != NULL);
	if (!same) {
		oldpool = ow->ow_pool;
		ow->ow_pool = pool;
	}
	pthread_mutex_unlock(&ow->ow_lock);
	rm_ldap_conf_free(old);
	rm_ldap_pool_free(oldpool);
}

/* current - the settings and their pool with a reference, or NULL */
static struct rm_ldap_conf *
current(struct rm_owners *ow, struct rm_ldap_pool **pool)
{
	struct rm_ldap_conf *lc;

	pthread_mutex_lock(&ow->ow_lock);
	if ((lc = ow->ow_lc) != NULL)
		rm_ldap_conf_hold(lc);
	*pool = ow->ow_pool != NULL ? rm_ldap_pool_hold(ow->ow_pool) : NULL;
	pthread_mutex_unlock(&ow->ow_lock);
	return lc;
}

bool
rm_owners_enabled(struct rm_owners *ow)
{
	return atomic_load(&ow->ow_on);
}

/*
 * through_cache - the answer to one question (key) from the cache, else
 * ask()ed of the directory about q and cached (errors never are).
 */
static void
through_cache(struct rm_owners *ow, const struct rm_ldap_conf *lc,
              struct rm_ldap_pool *pool, const char *key, const char *q,
              time_t now, struct rm_owned *out, char *err, size_t errlen,
              void (*ask)(const struct rm_ldap_conf *, struct rm_ldap_pool *,
                          const char *, struct rm_owned *, char *, size_t))
{
	const struct rm_ldap_senders *ls = lc->lc_senders;

	if (rm_ownercache_get(&ow->ow_cache, key, now, out)) {
		atomic_fetch_add_explicit(&ow->ow_hits, 1,
		                          memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&ow->ow_misses, 1, memory_order_relaxed);
	ask(lc, pool, q, out, err, errlen);
	if (out->o_state != RM_LOOKUP_ERROR)
		rm_ownercache_put(&ow->ow_cache, key, out,
		                  now + (out->o_state == RM_FOUND
		                             ? ls->ls_ttl
		                             : ls->ls_negative_ttl),
		                  ls->ls_cache_size);
}

/*
 * begin - out emptied, and the settings and their pool held, or NULL:
 * not enabled
 */
static struct rm_ldap_conf *
begin(struct rm_owners *ow, struct rm_ldap_pool **pool, struct rm_owned *out,
      char *err, size_t errlen)
{
	struct rm_ldap_conf *lc;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if ((lc = current(ow, pool)) == NULL)
		out->o_state = RM_NOTFOUND;
	return lc;
}

/* end - the references begin took */
static void
end(struct rm_ldap_conf *lc, struct rm_ldap_pool *pool)
{
	rm_ldap_pool_free(pool);
	rm_ldap_conf_free(lc);
}

void
rm_owners_lookup(struct rm_owners *ow, const char *login, time_t now,
                 struct rm_owned *out, char *err, size_t errlen)
{
	struct rm_ldap_conf *lc;
	struct rm_ldap_pool *pool;

	if ((lc = begin(ow, &pool, out, err, errlen)) == NULL) {
		rm_ldap_pool_free(pool);
		return;
	}
	/* a login that could pass for a reverse question's key owns
	   nothing (none can have a control character in the directory) */
	if (login[0] == '\1')
		out->o_state = RM_NOTFOUND;
	else
		through_cache(ow, lc, pool, login, login, now, out, err, errlen,
		              rm_ldap_senders);
	end(lc, pool);
}

/* the cache key of a reverse question: no login starts with \1 */
#define REV_PREFIX "\1rev:"

enum rm_lookup
rm_owners_owned_by(struct rm_owners *ow, const char *addr, time_t now,
                   char *err, size_t errlen)
{
	struct rm_ldap_conf *lc;
	struct rm_ldap_pool *pool;
	struct rm_owned out;
	enum rm_lookup r;
	char key[600];
	size_t i;

	if ((lc = begin(ow, &pool, &out, err, errlen)) == NULL) {
		rm_ldap_pool_free(pool);
		return RM_NOTFOUND;
	}
	if ((size_t)snprintf(key, sizeof(key), REV_PREFIX "%s", addr) >=
	    sizeof(key)) {
		snprintf(err, errlen, "owner lookup: the address is too long");
		out.o_state = RM_LOOKUP_ERROR;
	} else {
		for (i = 0; key[i] != '\0'; i++)
			key[i] = (char)tolower((unsigned char)key[i]);
		through_cache(ow, lc, pool, key, addr, now, &out, err, errlen,
		              rm_ldap_owners_of);
	}
	end(lc, pool);
	r = out.o_state;
	rm_owned_clear(&out);
	return r;
}
