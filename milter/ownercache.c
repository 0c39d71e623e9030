/*
 * ownercache.c - the on-demand sender lookup cache.
 *
 * RM_OC_SHARDS shards, chosen by the login's hash; each is a chained hash
 * table (doubling as it fills) threaded on a doubly linked LRU list, under
 * its own mutex.  A get moves the entry to the MRU end; a put into a full
 * cache (an atomic count of all shards) drops the LRU end of the shard it
 * lands in: a sharded approximation of LRU.  Expired entries are dropped
 * when met.
 */
#include <stdlib.h>
#include <string.h>

#include "relaymilter/ownercache.h"

struct oc_ent {
	struct oc_ent *next;          /* hash chain */
	struct oc_ent *older, *newer; /* LRU list */
	unsigned hash;
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
		for (e = oc->oc_shards[i].sh_lru; e != NULL; e = next) {
			next = e->newer;
			ent_free(e);
		}
		free(oc->oc_shards[i].sh_buckets);
		pthread_mutex_destroy(&oc->oc_shards[i].sh_lock);
	}
}

/* lru_unlink / lru_push - take e off the list / put it at the MRU end */
static void
lru_unlink(struct oc_shard *sh, struct oc_ent *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		sh->sh_lru = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		sh->sh_mru = e->older;
	e->older = e->newer = NULL;
}

static void
lru_push(struct oc_shard *sh, struct oc_ent *e)
{
	e->older = sh->sh_mru;
	e->newer = NULL;
	if (sh->sh_mru != NULL)
		sh->sh_mru->newer = e;
	else
		sh->sh_lru = e;
	sh->sh_mru = e;
}

/* find - the slot pointing at login's entry (*slot NULL: none) */
static struct oc_ent **
find(struct oc_shard *sh, const char *login, unsigned h)
{
	struct oc_ent **p;

	if (sh->sh_buckets == NULL)
		return NULL;
	for (p = &sh->sh_buckets[h & sh->sh_mask]; *p != NULL; p = &(*p)->next)
		if ((*p)->hash == h && key_eq((*p)->login, login))
			return p;
	return p;
}

/* drop - unlink the entry at *slot from chain and list, free it */
static void
drop(struct oc_shard *sh, struct oc_ent **slot)
{
	struct oc_ent *e = *slot;

	*slot = e->next;
	lru_unlink(sh, e);
	sh->sh_n--;
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
			lru_unlink(sh, *slot);
			lru_push(sh, *slot);
			hit = 1;
		}
	}
	pthread_mutex_unlock(&sh->sh_lock);
	return hit;
}

/* grow - double the buckets when the shard holds more entries than them */
static void
grow(struct oc_shard *sh)
{
	struct oc_ent **nb, *e, *next;
	size_t n = sh->sh_buckets ? (sh->sh_mask + 1) * 2 : 64, i;

	if (sh->sh_buckets != NULL && sh->sh_n <= sh->sh_mask + 1)
		return;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return; /* chains just get longer */
	for (i = 0; sh->sh_buckets != NULL && i <= sh->sh_mask; i++)
		for (e = sh->sh_buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	free(sh->sh_buckets);
	sh->sh_buckets = nb;
	sh->sh_mask = n - 1;
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
	e->hash = h;
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
	       sh->sh_lru != NULL) {
		drop(sh, find(sh, sh->sh_lru->login, sh->sh_lru->hash));
		atomic_fetch_sub_explicit(&oc->oc_count, 1,
		                          memory_order_relaxed);
	}
	grow(sh);
	if (sh->sh_buckets == NULL) {
		pthread_mutex_unlock(&sh->sh_lock);
		ent_free(e);
		return;
	}
	e->next = sh->sh_buckets[h & sh->sh_mask];
	sh->sh_buckets[h & sh->sh_mask] = e;
	lru_push(sh, e);
	sh->sh_n++;
	atomic_fetch_add_explicit(&oc->oc_count, 1, memory_order_relaxed);
	pthread_mutex_unlock(&sh->sh_lock);
}

size_t
rm_ownercache_count(struct rm_ownercache *oc)
{
	size_t i, n = 0;

	for (i = 0; i < RM_OC_SHARDS; i++) {
		pthread_mutex_lock(&oc->oc_shards[i].sh_lock);
		n += oc->oc_shards[i].sh_n;
		pthread_mutex_unlock(&oc->oc_shards[i].sh_lock);
	}
	return n;
}
