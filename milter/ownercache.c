/*
 * ownercache.c - the on-demand sender lookup cache.
 *
 * A plain array searched linearly under one mutex: lookups happen once
 * per message with SMTP AUTH, and the table holds at most cache_size
 * logins, so a hash table would buy nothing measurable here.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relaymilter/ownercache.h"

struct oc_ent {
	char *login;
	time_t expiry;
	struct rm_owned owned;
};

void
rm_owned_clear(struct rm_owned *o)
{
	size_t i;

	for (i = 0; i < o->o_n; i++)
		free(o->o_addrs[i]);
	free(o->o_addrs);
	memset(o, 0, sizeof(*o));
}

int
rm_owned_copy(struct rm_owned *dst, const struct rm_owned *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->o_state = src->o_state;
	if (src->o_n == 0)
		return 0;
	if ((dst->o_addrs = calloc(src->o_n, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < src->o_n; i++) {
		if ((dst->o_addrs[i] = strdup(src->o_addrs[i])) == NULL) {
			dst->o_n = i;
			rm_owned_clear(dst);
			return -1;
		}
	}
	dst->o_n = src->o_n;
	return 0;
}

void
rm_ownercache_init(struct rm_ownercache *oc)
{
	memset(oc, 0, sizeof(*oc));
	pthread_mutex_init(&oc->oc_lock, NULL);
}

static void
ent_free(struct oc_ent *e)
{
	free(e->login);
	rm_owned_clear(&e->owned);
}

void
rm_ownercache_destroy(struct rm_ownercache *oc)
{
	size_t i;

	for (i = 0; i < oc->oc_n; i++)
		ent_free(&oc->oc_ents[i]);
	free(oc->oc_ents);
	pthread_mutex_destroy(&oc->oc_lock);
}

int
rm_ownercache_get(struct rm_ownercache *oc, const char *login, time_t now,
                  struct rm_owned *out)
{
	size_t i;
	int hit = 0;

	pthread_mutex_lock(&oc->oc_lock);
	for (i = 0; i < oc->oc_n; i++) {
		struct oc_ent *e = &oc->oc_ents[i];

		if (strcasecmp(e->login, login) != 0)
			continue;
		if (e->expiry > now && rm_owned_copy(out, &e->owned) == 0)
			hit = 1;
		break;
	}
	pthread_mutex_unlock(&oc->oc_lock);
	return hit;
}

void
rm_ownercache_put(struct rm_ownercache *oc, const char *login,
                  const struct rm_owned *o, time_t expiry, size_t max)
{
	struct oc_ent *e = NULL, *v;
	size_t i, victim = 0;

	if (o->o_state == RM_LOOKUP_ERROR || max == 0)
		return;
	pthread_mutex_lock(&oc->oc_lock);
	for (i = 0; i < oc->oc_n; i++)
		if (strcasecmp(oc->oc_ents[i].login, login) == 0) {
			e = &oc->oc_ents[i];
			ent_free(e);
			break;
		}
	if (e == NULL && oc->oc_n >= max) {
		/* full: drop the entry that expires first */
		for (i = 1; i < oc->oc_n; i++)
			if (oc->oc_ents[i].expiry < oc->oc_ents[victim].expiry)
				victim = i;
		e = &oc->oc_ents[victim];
		ent_free(e);
	}
	if (e == NULL) {
		if (oc->oc_n == oc->oc_cap) {
			size_t cap = oc->oc_cap ? oc->oc_cap * 2 : 64;

			if ((v = realloc(oc->oc_ents, cap * sizeof(*v))) ==
			    NULL)
				goto out;
			oc->oc_ents = v;
			oc->oc_cap = cap;
		}
		e = &oc->oc_ents[oc->oc_n++];
	}
	memset(e, 0, sizeof(*e));
	e->expiry = expiry;
	if ((e->login = strdup(login)) == NULL ||
	    rm_owned_copy(&e->owned, o) != 0) {
		/* drop the half-made entry: swap the last one in */
		free(e->login);
		*e = oc->oc_ents[--oc->oc_n];
	}
out:
	pthread_mutex_unlock(&oc->oc_lock);
}
