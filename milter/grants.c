/*
 * grants.c - relay grants (grants.h): the API a grant's source calls, the
 * grant's one-line form, and the memory store.
 *
 * The memory store is one hash table threaded on an LRU list (lrutab.c,
 * as the limits' and the owner cache's), under one mutex: a grant is
 * pushed at a login and read at a relay, a few per second at most.  A
 * grant met expired goes; a full store (max) drops the expired ones from
 * the LRU end, then the grant pushed longest ago.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relaymilter/grants.h"
#include "relaymilter/log.h"
#include "relaymilter/lrutab.h"
#include "relaymilter/rm.h"

#define GM_SCAN 8 /* LRU entries a full store looks at for an expired one */

struct gm_ent {
	struct rm_lru_node node; /* first: the table links it */
	struct rm_ip addr;
	struct rm_grant g;
};

struct gm_store {
	struct rm_grant_store st_port; /* first: the port is the store */
	pthread_mutex_t st_lock;
	struct rm_lru_tab st_tab;
	size_t st_max;
};

int
rm_grants_addr(const char *s, struct rm_ip *out)
{
	/* a literal, not a bracketed or "IPv6:" form of one */
	if (s == NULL || s[0] == '[' || strncasecmp(s, "IPv6:", 5) == 0 ||
	    strlen(s) > 45)
		return -1;
	return rm_ip_parse(s, out);
}

int
rm_grants_add(struct rm_grant_store *st, const struct rm_ip *addr,
              const char *login, const char *source, unsigned ttl, uint64_t now,
              uint64_t *expires, const char **why)
{
	struct rm_grant g;
	char buf[RM_GRANT_LOGIN_MAX * 4 + 8];
	size_t i;

	if (ttl == 0)
		ttl = RM_GRANT_TTL_DEFAULT;
	if (ttl > RM_GRANT_TTL_MAX) {
		*why = "ttl over a day";
		return -1;
	}
	memset(&g, 0, sizeof(g));
	g.g_state = RM_FOUND;
	/* the log's sanitizing, then no space: the value is one line of
	   space-separated fields */
	rm_log_sanitize(login != NULL ? login : "", buf, sizeof(buf));
	for (i = 0; buf[i] != '\0' && i + 1 < sizeof(g.g_login); i++)
		g.g_login[i] = buf[i] == ' ' ? '_' : buf[i];
	snprintf(g.g_source, sizeof(g.g_source), "%s", source);
	for (i = 0; g.g_source[i] != '\0'; i++)
		if (g.g_source[i] <= ' ' || g.g_source[i] > '~')
			g.g_source[i] = '_';
	if (st->gs_put(st, addr, &g, ttl, now, expires) != 0) {
		*why = "the grant store failed";
		return -1;
	}
	return 0;
}

int
rm_grant_encode(const struct rm_grant *g, char *buf, size_t len)
{
	int n =
	    snprintf(buf, len, "%llu %s %s", (unsigned long long)g->g_expires,
	             g->g_source, g->g_login);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int
rm_grant_decode(const char *s, struct rm_grant *g)
{
	unsigned long long exp;
	const char *src, *login;
	char *end;
	size_t n;

	memset(g, 0, sizeof(*g));
	exp = strtoull(s, &end, 10);
	if (end == s || *end != ' ')
		return -1;
	src = end + 1;
	if ((login = strchr(src, ' ')) == NULL ||
	    (n = (size_t)(login - src)) == 0 || n >= sizeof(g->g_source) ||
	    strlen(login + 1) >= sizeof(g->g_login))
		return -1;
	memcpy(g->g_source, src, n);
	strcpy(g->g_login, login + 1);
	g->g_expires = exp;
	g->g_state = RM_FOUND;
	return 0;
}

/* ---- the memory store ------------------------------------------------- */

static unsigned
gm_hash(const struct rm_ip *a)
{
	unsigned h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(a->ip_b); i++)
		h = (h ^ a->ip_b[i]) * 16777619u;
	return rm_hash_mix(h);
}

static int
gm_eq(const struct rm_lru_node *n, const void *key)
{
	return memcmp(&((const struct gm_ent *)(const void *)n)->addr, key,
	              sizeof(struct rm_ip)) == 0;
}

/* gm_slot - the slot of addr's grant (*slot NULL: none), expired ones
   dropped; NULL: no table yet */
static struct rm_lru_node **
gm_slot(struct gm_store *gs, const struct rm_ip *a, uint64_t now)
{
	struct rm_lru_node **slot =
	    rm_lru_find(&gs->st_tab, gm_hash(a), gm_eq, a);
	struct rm_lru_node *n;

	if (slot != NULL && (n = *slot) != NULL &&
	    ((struct gm_ent *)(void *)n)->g.g_expires <= now) {
		rm_lru_remove(&gs->st_tab, slot);
		free(n);
		slot = rm_lru_find(&gs->st_tab, gm_hash(a), gm_eq, a);
	}
	return slot;
}

/* gm_make_room - one entry less: an expired one near the LRU end, else
   the oldest */
static void
gm_make_room(struct gm_store *gs, uint64_t now)
{
	struct rm_lru_node *n = gs->st_tab.lru, *victim = n;
	struct gm_ent *e;
	int i;

	for (i = 0; n != NULL && i < GM_SCAN; i++, n = n->newer) {
		e = (struct gm_ent *)(void *)n;
		if (e->g.g_expires <= now) {
			victim = n;
			break;
		}
	}
	if (victim == NULL)
		return;
	e = (struct gm_ent *)(void *)victim;
	rm_lru_remove(&gs->st_tab,
	              rm_lru_find(&gs->st_tab, victim->hash, gm_eq, &e->addr));
	free(victim);
}

static int
gm_put(struct rm_grant_store *st, const struct rm_ip *a,
       const struct rm_grant *g, unsigned ttl, uint64_t now, uint64_t *exp)
{
	struct gm_store *gs = (struct gm_store *)st;
	struct rm_lru_node **slot;
	struct gm_ent *e = NULL;
	int rc = 0;

	pthread_mutex_lock(&gs->st_lock);
	if ((slot = gm_slot(gs, a, now)) != NULL && *slot != NULL) {
		e = (struct gm_ent *)(void *)*slot;
		rm_lru_touch(&gs->st_tab, &e->node);
	} else {
		if (gs->st_tab.n >= gs->st_max)
			gm_make_room(gs, now);
		if ((e = calloc(1, sizeof(*e))) != NULL) {
			e->addr = *a;
			e->node.hash = gm_hash(a);
			if (rm_lru_insert(&gs->st_tab, &e->node) != 0) {
				free(e);
				e = NULL;
			}
		}
	}
	if (e != NULL) {
		e->g = *g;
		e->g.g_state = RM_FOUND;
		e->g.g_expires = *exp = now + ttl;
	} else
		rc = -1;
	pthread_mutex_unlock(&gs->st_lock);
	return rc;
}

static void
gm_get(struct rm_grant_store *st, const struct rm_ip *a, uint64_t now,
       struct rm_grant *out)
{
	struct gm_store *gs = (struct gm_store *)st;
	struct rm_lru_node **slot;

	pthread_mutex_lock(&gs->st_lock);
	if ((slot = gm_slot(gs, a, now)) != NULL && *slot != NULL)
		*out = ((struct gm_ent *)(void *)*slot)->g;
	else {
		memset(out, 0, sizeof(*out));
		out->g_state = RM_NOTFOUND;
	}
	pthread_mutex_unlock(&gs->st_lock);
}

static int
gm_del(struct rm_grant_store *st, const struct rm_ip *a)
{
	struct gm_store *gs = (struct gm_store *)st;
	struct rm_lru_node **slot, *n;
	int found = 0;

	pthread_mutex_lock(&gs->st_lock);
	if ((slot = rm_lru_find(&gs->st_tab, gm_hash(a), gm_eq, a)) != NULL &&
	    (n = *slot) != NULL) {
		rm_lru_remove(&gs->st_tab, slot);
		free(n);
		found = 1;
	}
	pthread_mutex_unlock(&gs->st_lock);
	return found;
}

static size_t
gm_list(struct rm_grant_store *st, const struct rm_ip *only, uint64_t now,
        rm_grant_row_fn *fn, void *arg)
{
	struct gm_store *gs = (struct gm_store *)st;
	struct rm_lru_node *n;
	struct gm_ent *e;
	size_t k = 0;

	pthread_mutex_lock(&gs->st_lock);
	for (n = gs->st_tab.mru; n != NULL; n = n->older) {
		e = (struct gm_ent *)(void *)n;
		if (e->g.g_expires <= now ||
		    (only != NULL &&
		     memcmp(&e->addr, only, sizeof(*only)) != 0))
			continue;
		fn(arg, &e->addr, &e->g);
		k++;
	}
	pthread_mutex_unlock(&gs->st_lock);
	return k;
}

static void
gm_free(struct rm_grant_store *st)
{
	struct gm_store *gs = (struct gm_store *)st;
	struct rm_lru_node *n, *next;

	for (n = gs->st_tab.lru; n != NULL; n = next) {
		next = n->newer;
		free(n);
	}
	free(gs->st_tab.buckets);
	pthread_mutex_destroy(&gs->st_lock);
	free(gs);
}

struct rm_grant_store *
rm_grants_memory_new(size_t max)
{
	static const struct rm_grant_store ops = {gm_put, gm_get, gm_del,
	                                          gm_list, gm_free};
	struct gm_store *gs = calloc(1, sizeof(*gs));

	if (gs == NULL)
		return NULL;
	gs->st_port = ops;
	gs->st_max = max > 0 ? max : 1;
	pthread_mutex_init(&gs->st_lock, NULL);
	return &gs->st_port;
}
