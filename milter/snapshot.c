/*
 * snapshot.c - the current ruleset, replaced atomically on reload.
 *
 * The lock covers only the pointer read plus reference increment (acquire)
 * and the pointer exchange (swap), so a reload never blocks a session for
 * longer than that; the expensive build happens before rm_snapshot_swap().
 */
#include "relaymilter/snapshot.h"

void
rm_snapshot_init(struct rm_snapshot *sn, struct rm_ruleset *rs)
{
	pthread_mutex_init(&sn->sn_lock, NULL);
	sn->sn_current = rs;
	sn->sn_generation = 1;
}

struct rm_ruleset *
rm_snapshot_acquire(struct rm_snapshot *sn)
{
	struct rm_ruleset *rs;

	pthread_mutex_lock(&sn->sn_lock);
	rs = sn->sn_current ? rm_ruleset_hold(sn->sn_current) : NULL;
	pthread_mutex_unlock(&sn->sn_lock);
	return rs;
}

void
rm_snapshot_swap(struct rm_snapshot *sn, struct rm_ruleset *rs)
{
	struct rm_ruleset *old;

	pthread_mutex_lock(&sn->sn_lock);
	old = sn->sn_current;
	sn->sn_current = rs;
	sn->sn_generation++;
	pthread_mutex_unlock(&sn->sn_lock);
	/* sessions that pinned the old ruleset keep it until they close */
	rm_ruleset_release(old);
}

void
rm_snapshot_destroy(struct rm_snapshot *sn)
{
	rm_ruleset_release(sn->sn_current);
	sn->sn_current = NULL;
	pthread_mutex_destroy(&sn->sn_lock);
}
