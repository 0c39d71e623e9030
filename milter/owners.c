/*
 * owners.c - the on-demand owner lookup: cache, then directory.
 */
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
}

void
rm_owners_destroy(struct rm_owners *ow)
{
	rm_ldap_conf_free(ow->ow_lc);
	rm_ownercache_destroy(&ow->ow_cache);
	pthread_mutex_destroy(&ow->ow_lock);
}

void
rm_owners_set(struct rm_owners *ow, struct rm_ldap_conf *lc)
{
	struct rm_ldap_conf *old;

	if (lc != NULL && lc->lc_senders == NULL)
		lc = NULL;
	if (lc != NULL)
		rm_ldap_conf_hold(lc);
	pthread_mutex_lock(&ow->ow_lock);
	old = ow->ow_lc;
	ow->ow_lc = lc;
	pthread_mutex_unlock(&ow->ow_lock);
	rm_ldap_conf_free(old);
}

/* current - the settings with a reference, or NULL */
static struct rm_ldap_conf *
current(struct rm_owners *ow)
{
	struct rm_ldap_conf *lc;

	pthread_mutex_lock(&ow->ow_lock);
	if ((lc = ow->ow_lc) != NULL)
		rm_ldap_conf_hold(lc);
	pthread_mutex_unlock(&ow->ow_lock);
	return lc;
}

bool
rm_owners_enabled(struct rm_owners *ow)
{
	bool on;

	pthread_mutex_lock(&ow->ow_lock);
	on = ow->ow_lc != NULL;
	pthread_mutex_unlock(&ow->ow_lock);
	return on;
}

void
rm_owners_lookup(struct rm_owners *ow, const char *login, time_t now,
                 struct rm_owned *out, char *err, size_t errlen)
{
	struct rm_ldap_conf *lc;
	const struct rm_ldap_senders *ls;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if ((lc = current(ow)) == NULL) {
		out->o_state = RM_NOTFOUND;
		return;
	}
	ls = lc->lc_senders;
	if (rm_ownercache_get(&ow->ow_cache, login, now, out))
		atomic_fetch_add_explicit(&ow->ow_hits, 1,
		                          memory_order_relaxed);
	else {
		atomic_fetch_add_explicit(&ow->ow_misses, 1,
		                          memory_order_relaxed);
		rm_ldap_senders(lc, login, out, err, errlen);
		if (out->o_state != RM_LOOKUP_ERROR)
			rm_ownercache_put(&ow->ow_cache, login, out,
			                  now + (out->o_state == RM_FOUND
			                             ? ls->ls_ttl
			                             : ls->ls_negative_ttl),
			                  ls->ls_cache_size);
	}
	rm_ldap_conf_free(lc);
}
