/*
 * snapshot.c - the current ruleset, replaced atomically on reload
 * (snapshot.h: sessions take no lock; the reloader waits for them).
 */
#include <stdlib.h>
#include <time.h>

#include "relaymilter/snapshot.h"

void
rm_snapshot_init(struct rm_snapshot *sn, struct rm_ruleset *rs)
{
	pthread_mutex_init(&sn->sn_lock, NULL);
	if (rs != NULL)
		rs->rs_generation = 1;
	atomic_init(&sn->sn_current, rs);
	atomic_init(&sn->sn_generation, 1);
	atomic_init(&sn->sn_epoch, 0);
	atomic_init(&sn->sn_readers[0], 0);
	atomic_init(&sn->sn_readers[1], 0);
	sn->sn_retired = NULL;
	sn->sn_nretired = 0;
	sn->sn_ungraced = 0;
}

struct rm_ruleset *
rm_snapshot_acquire(struct rm_snapshot *sn)
{
	return rm_snapshot_acquire_gen(sn, NULL);
}

struct rm_ruleset *
rm_snapshot_acquire_gen(struct rm_snapshot *sn, unsigned long *gen)
{
	unsigned e = atomic_load(&sn->sn_epoch) & 1;
	struct rm_ruleset *rs;

	/* counted in before the load: the reaper waits for this count */
	atomic_fetch_add(&sn->sn_readers[e], 1);
	rs = atomic_load(&sn->sn_current);
	if (rs != NULL)
		rm_ruleset_hold(rs);
	atomic_fetch_sub(&sn->sn_readers[e], 1);
	if (gen != NULL)
		*gen = rs != NULL ? rs->rs_generation : 0;
	return rs;
}

unsigned long
rm_snapshot_generation(struct rm_snapshot *sn)
{
	return atomic_load(&sn->sn_generation);
}

void
rm_snapshot_swap(struct rm_snapshot *sn, struct rm_ruleset *rs)
{
	struct rm_ruleset *old, **v;

	pthread_mutex_lock(&sn->sn_lock);
	/* not yet seen by any session: the generation goes with it */
	rs->rs_generation = atomic_load(&sn->sn_generation) + 1;
	old = atomic_exchange(&sn->sn_current, rs);
	atomic_store(&sn->sn_generation, rs->rs_generation);
	/* sessions that pinned the old ruleset keep it until they close;
	   our reference lets the reaper free it, not the last of them */
	v = old != NULL
	        ? realloc(sn->sn_retired, (sn->sn_nretired + 1) * sizeof(*v))
	        : NULL;
	if (old != NULL)
		sn->sn_ungraced++;
	if (v != NULL) {
		sn->sn_retired = v;
		v[sn->sn_nretired++] = old;
	}
	pthread_mutex_unlock(&sn->sn_lock);
	if (v == NULL && old != NULL) {
		/* no room to retire it: wait out its readers here */
		rm_snapshot_reap(sn); /* the grace period */
		rm_ruleset_release(old);
	}
}

/* drain - wait until no reader counted in epoch counter e */
static void
drain(struct rm_snapshot *sn, unsigned e)
{
	struct timespec ts = {0, 20000};

	while (atomic_load(&sn->sn_readers[e]) != 0)
		nanosleep(&ts, NULL);
}

/*
 * grace - every reader that could have loaded a retired pointer before
 * the swap has taken its reference (or let go): new readers go to the
 * other counter, the old one drains, then the same the other way.
 */
static void
grace(struct rm_snapshot *sn)
{
	unsigned e;

	e = atomic_fetch_add(&sn->sn_epoch, 1) & 1;
	drain(sn, e);
	e = atomic_fetch_add(&sn->sn_epoch, 1) & 1;
	drain(sn, e);
}

size_t
rm_snapshot_reap(struct rm_snapshot *sn)
{
	struct rm_ruleset *rs;
	size_t i, left;

	/* only the reloader locks: freeing here stalls no session */
	pthread_mutex_lock(&sn->sn_lock);
	if (sn->sn_ungraced > 0) {
		grace(sn);
		sn->sn_ungraced = 0;
	}
	/* retired and graced: nobody can take a new reference, so once
	   ours is the only one it stays so */
	for (i = 0; i < sn->sn_nretired;) {
		rs = sn->sn_retired[i];
		if (atomic_load(&rs->rs_refs) != 1) {
			i++;
			continue;
		}
		sn->sn_retired[i] = sn->sn_retired[--sn->sn_nretired];
		rm_ruleset_release(rs);
	}
	left = sn->sn_nretired;
	pthread_mutex_unlock(&sn->sn_lock);
	return left;
}

void
rm_snapshot_destroy(struct rm_snapshot *sn)
{
	size_t i;

	rm_ruleset_release(atomic_exchange(&sn->sn_current, NULL));
	for (i = 0; i < sn->sn_nretired; i++)
		rm_ruleset_release(sn->sn_retired[i]);
	free(sn->sn_retired);
	sn->sn_retired = NULL;
	sn->sn_nretired = 0;
	pthread_mutex_destroy(&sn->sn_lock);
}
