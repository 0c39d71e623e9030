/*
 * limitstore.c - the memory store of the limits' counters and locks
 * (struct rm_limit_store in limits.h).
 *
 * LS_SHARDS shards, chosen by the hash of (limit, key); each is a chained
 * hash table (doubling as it fills) threaded on an LRU list (lrutab.c, as
 * the owner cache's), under its own mutex.  An entry is (limit name, key): its
 * two windows, the per they were counted in, its lock.  It goes when it
 * is met idle (windows over, no lock); a full store (max_entries, an
 * atomic count of all shards) first drops idle entries from the LRU end
 * of the shard it writes to, then the least recently used unlocked one.
 * The runtime owns the store: a reload keeps it, a restart loses it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/limits.h"
#include "relaymilter/lrutab.h"
#include "relaymilter/rm.h"

#define LS_SHARDS 64
#define LS_SCAN   8 /* LRU entries a full store looks at for one to drop */

struct ls_ent {
	struct rm_lru_node node; /* first: the table links it */
	unsigned per;            /* what the windows were counted in */
	uint64_t lock_until;     /* 0: not locked */
	bool tripped;            /* refused since it was last under */
	struct rm_window w;
	unsigned short klen; /* the limit's name is name[0..klen) */
	char name[];         /* "limit\0key" */
};

struct ls_shard {
	pthread_mutex_t sh_lock;
	struct rm_lru_tab sh_tab;
};

struct ls_store {
	struct rm_limit_store st_port; /* first: the port is the store */
	size_t st_max;
	atomic_size_t st_count;
	struct ls_shard st_shards[LS_SHARDS];
};

static unsigned
ls_hash(const char *limit, const char *key)
{
	unsigned h = 2166136261u;
	const char *s;

	for (s = limit; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (s = key; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return rm_hash_mix(h);
}

static struct ls_shard *
shard_of(struct ls_store *ls, unsigned h)
{
	return &ls->st_shards[h >> 26 & (LS_SHARDS - 1)];
}

static const char *
ent_key(const struct ls_ent *e)
{
	return e->name + e->klen + 1;
}

/* the (limit, key) a lookup is for */
struct ls_want {
	const char *limit, *key;
};

static int
ent_is(const struct rm_lru_node *n, const void *want)
{
	const struct ls_ent *e = (const struct ls_ent *)n;
	const struct ls_want *w = want;

	return strcmp(e->name, w->limit) == 0 &&
	       strcmp(ent_key(e), w->key) == 0;
}

/* find - the slot that points at (limit, key), or at the chain's end */
static struct ls_ent **
find(struct ls_shard *sh, const char *limit, const char *key, unsigned h)
{
	struct ls_want w = {limit, key};

	return (struct ls_ent **)rm_lru_find(&sh->sh_tab, h, ent_is, &w);
}

static void
drop(struct ls_store *ls, struct ls_shard *sh, struct ls_ent *e)
{
	rm_lru_remove(&sh->sh_tab, (struct rm_lru_node **)find(
	                               sh, e->name, ent_key(e), e->node.hash));
	atomic_fetch_sub_explicit(&ls->st_count, 1, memory_order_relaxed);
	free(e);
}

/* idle - nothing left to count and no lock in force */
static bool
idle(const struct ls_ent *e, uint64_t now)
{
	return e->lock_until <= now && rm_window_idle(&e->w, e->per, now);
}

/*
 * make_room - a full store: drop idle entries from the LRU end, else the
 * least recently used unlocked one (a lock is what the store is for).
 * false when nothing could go.
 */
static bool
make_room(struct ls_store *ls, struct ls_shard *sh, uint64_t now)
{
	struct ls_ent *e, *next, *victim = NULL;
	int n;

	while (atomic_load_explicit(&ls->st_count, memory_order_relaxed) >=
	       ls->st_max) {
		victim = NULL;
		for (e = (struct ls_ent *)sh->sh_tab.lru, n = 0;
		     e != NULL && n < LS_SCAN; e = next, n++) {
			next = (struct ls_ent *)e->node.newer;
			if (idle(e, now)) {
				victim = e;
				break;
			}
			if (victim == NULL && e->lock_until <= now)
				victim = e;
		}
		/* nothing here may go: a little over, then no more */
		if (victim == NULL)
			return atomic_load_explicit(&ls->st_count,
			                            memory_order_relaxed) <
			       ls->st_max + ls->st_max / 8 + LS_SHARDS;
		drop(ls, sh, victim);
	}
	return true;
}

/* get - the entry of (limit, key), made when missing; NULL: no room */
static struct ls_ent *
get(struct ls_store *ls, struct ls_shard *sh, const struct rm_limit_q *q,
    unsigned h, uint64_t now)
{
	struct ls_ent **slot = find(sh, q->q_limit, q->q_key, h), *e;
	size_t ln = strlen(q->q_limit), kn = strlen(q->q_key);

	if (slot != NULL && (e = *slot) != NULL) {
		rm_lru_touch(&sh->sh_tab, &e->node);
		if (e->per != q->q_per) {
			/* a reload changed the limit's window */
			rm_window_reper(&e->w, e->per, q->q_per, now);
			e->per = q->q_per;
		}
		return e;
	}
	if (ln > 0xffff || !make_room(ls, sh, now) ||
	    (e = calloc(1, sizeof(*e) + ln + kn + 2)) == NULL)
		return NULL;
	memcpy(e->name, q->q_limit, ln + 1);
	memcpy(e->name + ln + 1, q->q_key, kn + 1);
	e->klen = (unsigned short)ln;
	e->node.hash = h;
	e->per = q->q_per;
	if (rm_lru_insert(&sh->sh_tab, &e->node) != 0) {
		free(e);
		return NULL;
	}
	atomic_fetch_add_explicit(&ls->st_count, 1, memory_order_relaxed);
	return e;
}

/* counts - the estimates, rounded up, for reports */
static void
counts(struct ls_ent *e, uint64_t now, unsigned long out[RM_WC__COUNT])
{
	int i;

	for (i = 0; i < RM_WC__COUNT; i++)
		out[i] =
		    (unsigned long)((rm_window_estimate(&e->w, e->per, now, i) +
		                     e->per - 1) /
		                    e->per);
}

/* judge - the answer for one recipient, counting it when admitted */
static void
judge(struct ls_ent *e, const struct rm_limit_q *q, uint64_t now,
      struct rm_limit_ans *a)
{
	int add[RM_WC__COUNT];
	int i;

	for (i = 0; i < RM_WC__COUNT; i++)
		add[i] = (int)q->q_add[i];
	if (e->lock_until > now) {
		a->a_res = RM_LIM_LOCKED;
		a->a_lock_left = e->lock_until - now;
	} else if (rm_window_admits(&e->w, e->per, now, q->q_add, q->q_max)) {
		a->a_res = RM_LIM_ADMIT;
		e->tripped = false;
		rm_window_add(&e->w, e->per, now, add);
	} else {
		a->a_res = RM_LIM_OVER;
		a->a_tripped = !e->tripped;
		e->tripped = true;
		if (q->q_monitor)
			rm_window_add(&e->w, e->per, now, add);
		else if (q->q_lock > 0) {
			e->lock_until = now + q->q_lock;
			a->a_locked_now = true;
			a->a_lock_left = q->q_lock;
		}
	}
	counts(e, now, a->a_count);
}

static int
ls_hit(struct rm_limit_store *st, const struct rm_limit_q *q, uint64_t now,
       struct rm_limit_ans *a)
{
	struct ls_store *ls = (struct ls_store *)st;
	unsigned h = ls_hash(q->q_limit, q->q_key);
	struct ls_shard *sh = shard_of(ls, h);
	struct ls_ent *e;

	pthread_mutex_lock(&sh->sh_lock);
	if ((e = get(ls, sh, q, h, now)) != NULL)
		judge(e, q, now, a);
	pthread_mutex_unlock(&sh->sh_lock);
	return e != NULL ? 0 : -1;
}

static void
ls_unhit(struct rm_limit_store *st, const struct rm_limit_q *q, uint64_t now)
{
	struct ls_store *ls = (struct ls_store *)st;
	unsigned h = ls_hash(q->q_limit, q->q_key);
	struct ls_shard *sh = shard_of(ls, h);
	struct ls_ent **slot;
	int sub[RM_WC__COUNT], i;

	for (i = 0; i < RM_WC__COUNT; i++)
		sub[i] = -(int)q->q_add[i];
	pthread_mutex_lock(&sh->sh_lock);
	if ((slot = find(sh, q->q_limit, q->q_key, h)) != NULL && *slot != NULL)
		rm_window_add(&(*slot)->w, (*slot)->per, now, sub);
	pthread_mutex_unlock(&sh->sh_lock);
}

/*
 * each - fn on every entry of key (NULL: all) and limit (NULL: all),
 * dropping idle ones on the way; how many matched.
 */
static size_t
each(struct ls_store *ls, const char *limit, const char *key, uint64_t now,
     void (*fn)(struct ls_ent *, uint64_t, void *), void *arg)
{
	struct ls_ent *e, *next;
	struct ls_shard *sh;
	size_t i, n = 0;

	for (i = 0; i < LS_SHARDS; i++) {
		sh = &ls->st_shards[i];
		pthread_mutex_lock(&sh->sh_lock);
		for (e = (struct ls_ent *)sh->sh_tab.lru; e != NULL; e = next) {
			next = (struct ls_ent *)e->node.newer;
			if ((key != NULL && strcmp(ent_key(e), key) != 0) ||
			    (limit != NULL && strcmp(e->name, limit) != 0))
				continue;
			if (fn != NULL)
				fn(e, now, arg);
			n++;
			if (idle(e, now))
				drop(ls, sh, e);
		}
		pthread_mutex_unlock(&sh->sh_lock);
	}
	return n;
}

static void
lift_one(struct ls_ent *e, uint64_t now, void *arg)
{
	(void)now;
	(void)arg;
	e->lock_until = 0;
	e->tripped = false;
	memset(&e->w, 0, sizeof(e->w));
}

static size_t
ls_lift(struct rm_limit_store *st, const char *limit, const char *key)
{
	return each((struct ls_store *)st, limit, key, 0, lift_one, NULL);
}

struct list_arg {
	rm_limit_row_fn *la_fn;
	void *la_arg;
};

static void
list_one(struct ls_ent *e, uint64_t now, void *arg)
{
	const struct list_arg *la = arg;
	struct rm_limit_row r;

	memset(&r, 0, sizeof(r));
	r.lr_limit = e->name;
	r.lr_key = ent_key(e);
	r.lr_per = e->per;
	counts(e, now, r.lr_count);
	r.lr_lock_left = e->lock_until > now ? e->lock_until - now : 0;
	la->la_fn(la->la_arg, &r);
}

static size_t
ls_list(struct rm_limit_store *st, const char *key, uint64_t now,
        rm_limit_row_fn *fn, void *arg)
{
	struct list_arg la = {fn, arg};

	return each((struct ls_store *)st, NULL, key, now,
	            fn != NULL ? list_one : NULL, &la);
}

static void
ls_free(struct rm_limit_store *st)
{
	struct ls_store *ls = (struct ls_store *)st;
	struct ls_ent *e, *next;
	size_t i;

	if (ls == NULL)
		return;
	for (i = 0; i < LS_SHARDS; i++) {
		for (e = (struct ls_ent *)ls->st_shards[i].sh_tab.lru;
		     e != NULL; e = next) {
			next = (struct ls_ent *)e->node.newer;
			free(e);
		}
		free(ls->st_shards[i].sh_tab.buckets);
		pthread_mutex_destroy(&ls->st_shards[i].sh_lock);
	}
	free(ls);
}

struct rm_limit_store *
rm_limits_memory_new(size_t max_entries)
{
	struct ls_store *ls;
	size_t i;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	ls->st_port.ls_hit = ls_hit;
	ls->st_port.ls_unhit = ls_unhit;
	ls->st_port.ls_lift = ls_lift;
	ls->st_port.ls_list = ls_list;
	ls->st_port.ls_free = ls_free;
	ls->st_max = max_entries > 0 ? max_entries : 1;
	atomic_init(&ls->st_count, 0);
	for (i = 0; i < LS_SHARDS; i++)
		pthread_mutex_init(&ls->st_shards[i].sh_lock, NULL);
	return &ls->st_port;
}
