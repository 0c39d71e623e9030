/*
 * ownercache.c - the on-demand sender lookup cache.
 *
 * RM_OC_SHARDS shards, chosen by the login's hash; each is a chained hash
 * table (doubling as it fills) threaded on a doubly linked LRU list
 * (lrutab.c), under its own mutex.  A get moves the entry to the MRU end; a put
 * into a full cache (an atomic count of all shards) drops the LRU end of the
 * shard it lands in: a sharded approximation of LRU.  Expired entries are
 * dropped when met.
 */
#include <stdlib.h>
#include <string.h>

#include "relaymilter/ownercache.h"

struct oc_ent {
	struct rm_lru_node node; /* first: the table links it */
	time_t expiry;
	struct rm_owned owned;
	char login[]; /* lower-cased */
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

/* key_hash - FNV-1a of the ASCII-lower-cased login, mixed */
static unsigned
key_hash(const char *s)
{
	unsigned h = 2166136261u;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 16777619u;
	}
	return rm_hash_mix(h);
}

/* key_eq - login equals the lower-cased key, ASCII case ignored */
static int
key_eq(const char *key, const char *login)
{
	unsigned char c;

	for (; *login != '\0'; login++, key++) {
		c = (unsigned char)*login;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if ((unsigned char)*key != c)
			return 0;
	}
	return *key == '\0';
}

static struct oc_shard *
shard_of(struct rm_ownercache *oc, unsigned h)
{
	/* the top bits pick the shard, the low bits the bucket */
	return &oc->oc_shards[h >> 28 & (RM_OC_SHARDS - 1)];
}

void
rm_ownercache_init(struct rm_ownercache *oc)
{
	size_t i;

	memset(oc, 0, sizeof(*oc));
	atomic_init(&oc->oc_count, 0);
	for (i = 0; i < RM_OC_SHARDS; i++)
		pthread_mutex_init(&oc->oc_shards[i].sh_lock, NULL);
}

static void
ent_free(struct oc_ent *e)
{
	rm_owned_clear(&e->owned);
	free(e);
}

void
rm_ownercache_destroy(struct rm_ownercache *oc)
{
	struct oc_ent *e, *next;
	size_t i;

	for (i = 0; i < RM_OC_SHARDS; i++) {
		for (e = (struct oc_ent *)oc->oc_shards[i].sh_tab.lru;
		     e != NULL; e = next) {
			next = (struct oc_ent *)e->node.newer;
			ent_free(e);
		}
		free(oc->oc_shards[i].sh_tab.buckets);
		pthread_mutex_destroy(&oc->oc_shards[i].sh_lock);
	}
}

/* ent_is - the entry holds this login (ASCII case ignored) */
static int
ent_is(const struct rm_lru_node *n, const void *login)
{
	return key_eq(((const struct oc_ent *)n)->login, login);
}

static struct oc_ent **
find(struct oc_shard *sh, const char *login, unsigned h)
{
	return (struct oc_ent **)rm_lru_find(&sh->sh_tab, h, ent_is, login);
}

/* drop - unlink the entry at *slot from chain and list, free it */
static void
drop(struct oc_shard *sh, struct oc_ent **slot)
{
	struct oc_ent *e = *slot;

	rm_lru_remove(&sh->sh_tab, (struct rm_lru_node **)slot);
	ent_free(e);
}

int
rm_ownercache_get(struct rm_ownercache *oc, const char *login, time_t now,
                  struct rm_owned *out)
{
	unsigned h = key_hash(login);
	struct oc_shard *sh = shard_of(oc, h);
	struct oc_ent **slot;
	int hit = 0;

	pthread_mutex_lock(&sh->sh_lock);
	if ((slot = find(sh, login, h)) != NULL && *slot != NULL) {
		if ((*slot)->expiry <= now) {
			drop(sh, slot);
			atomic_fetch_sub_explicit(&oc->oc_count, 1,
			                          memory_order_relaxed);
		} else if (rm_owned_copy(out, &(*slot)->owned) == 0) {
			rm_lru_touch(&sh->sh_tab, &(*slot)->node);
			hit = 1;
		}
	}
	pthread_mutex_unlock(&sh->sh_lock);
	return hit;
}

void
rm_ownercache_put(struct rm_ownercache *oc, const char *login,
                  const struct rm_owned *o, time_t expiry, size_t max)
{
	unsigned h = key_hash(login);
	struct oc_shard *sh = shard_of(oc, h);
	size_t len, i;
	struct oc_ent **slot, *e;

	if (o->o_state == RM_LOOKUP_ERROR || max == 0)
		return;
	len = strlen(login);
	if ((e = malloc(sizeof(*e) + len + 1)) == NULL)
		return;
	memset(e, 0, sizeof(*e));
	for (i = 0; i <= len; i++)
		e->login[i] = login[i] >= 'A' && login[i] <= 'Z'
		                  ? (char)(login[i] - 'A' + 'a')
		                  : login[i];
	e->node.hash = h;
	e->expiry = expiry;
	if (rm_owned_copy(&e->owned, o) != 0) {
		free(e);
		return;
	}
	pthread_mutex_lock(&sh->sh_lock);
	if ((slot = find(sh, login, h)) != NULL && *slot != NULL) {
		drop(sh, slot);
		atomic_fetch_sub_explicit(&oc->oc_count, 1,
		                          memory_order_relaxed);
	}
	/* full: this shard's least recently used logins make room */
	while (atomic_load_explicit(&oc->oc_count, memory_order_relaxed) >=
	           max &&
	       sh->sh_tab.lru != NULL) {
		const struct oc_ent *old = (struct oc_ent *)sh->sh_tab.lru;

		drop(sh, find(sh, old->login, old->node.hash));
		atomic_fetch_sub_explicit(&oc->oc_count, 1,
		                          memory_order_relaxed);
	}
	if (rm_lru_insert(&sh->sh_tab, &e->node) != 0) {
		pthread_mutex_unlock(&sh->sh_lock);
		ent_free(e);
		return;
	}
	atomic_fetch_add_explicit(&oc->oc_count, 1, memory_order_relaxed);
	pthread_mutex_unlock(&sh->sh_lock);
}

size_t
rm_ownercache_count(struct rm_ownercache *oc)
{
	size_t i, n = 0;

	for (i = 0; i < RM_OC_SHARDS; i++) {
		pthread_mutex_lock(&oc->oc_shards[i].sh_lock);
		n += oc->oc_shards[i].sh_tab.n;
		pthread_mutex_unlock(&oc->oc_shards[i].sh_lock);
	}
	return n;
}
