/*
 * snapshot.c - the current ruleset, replaced atomically on reload.
 *
 * The lock covers only the pointer read plus reference increment (acquire)
 * and the pointer exchange (swap), so a reload never blocks a session for
 * longer than that; the expensive build happens before rm_snapshot_swap().
 */
#include <stdlib.h>

#include "relaymilter/snapshot.h"

void
rm_snapshot_init(struct rm_snapshot *sn, struct rm_ruleset *rs)
{
	pthread_mutex_init(&sn->sn_lock, NULL);
	sn->sn_current = rs;
	sn->sn_generation = 1;
	sn->sn_retired = NULL;
	sn->sn_nretired = 0;
}

struct rm_ruleset *
rm_snapshot_acquire(struct rm_snapshot *sn)
{
	return rm_snapshot_acquire_gen(sn, NULL);
}

struct rm_ruleset *
rm_snapshot_acquire_gen(struct rm_snapshot *sn, unsigned long *gen)
{
	struct rm_ruleset *rs;

	pthread_mutex_lock(&sn->sn_lock);
	rs = sn->sn_current ? rm_ruleset_hold(sn->sn_current) : NULL;
	if (gen != NULL)
		*gen = sn->sn_generation;
	pthread_mutex_unlock(&sn->sn_lock);
	return rs;
}

unsigned long
rm_snapshot_generation(struct rm_snapshot *sn)
{
	unsigned long gen;

	pthread_mutex_lock(&sn->sn_lock);
	gen = sn->sn_generation;
	pthread_mutex_unlock(&sn->sn_lock);
	return gen;
}

void
rm_snapshot_swap(struct rm_snapshot *sn, struct rm_ruleset *rs)
{
	struct rm_ruleset *old, **v;

	pthread_mutex_lock(&sn->sn_lock);
	old = sn->sn_current;
	sn->sn_current = rs;
	sn->sn_generation++;
	/* sessions that pinned the old ruleset keep it until they close;
	   our reference lets the reaper free it, not the last of them */
	v = old != NULL
	        ? realloc(sn->sn_retired, (sn->sn_nretired + 1) * sizeof(*v))
	        : NULL;
	if (v != NULL) {
		sn->sn_retired = v;
		v[sn->sn_nretired++] = old;
	}
	pthread_mutex_unlock(&sn->sn_lock);
	if (v == NULL)
		rm_ruleset_release(old);
}

size_t
rm_snapshot_reap(struct rm_snapshot *sn)
{
	struct rm_ruleset *rs;
	size_t i, left;

	for (;;) {
		rs = NULL;
		pthread_mutex_lock(&sn->sn_lock);
		/* retired: nobody can take a new reference, so once ours is
		   the only one it stays so */
		for (i = 0; i < sn->sn_nretired; i++)
			if (atomic_load(&sn->sn_retired[i]->rs_refs) == 1) {
				rs = sn->sn_retired[i];
				sn->sn_retired[i] =
				    sn->sn_retired[--sn->sn_nretired];
				break;
			}
		left = sn->sn_nretired;
		pthread_mutex_unlock(&sn->sn_lock);
		if (rs == NULL)
			return left;
		rm_ruleset_release(rs);
	}
}

void
rm_snapshot_destroy(struct rm_snapshot *sn)
{
	size_t i;

	rm_ruleset_release(sn->sn_current);
	sn->sn_current = NULL;
	for (i = 0; i < sn->sn_nretired; i++)
		rm_ruleset_release(sn->sn_retired[i]);
	free(sn->sn_retired);
	sn->sn_retired = NULL;
	sn->sn_nretired = 0;
	pthread_mutex_destroy(&sn->sn_lock);
}
