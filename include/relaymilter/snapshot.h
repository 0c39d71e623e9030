/*
 * snapshot.h - the current ruleset, swapped atomically on reload.
 *
 * Readers (sessions) take a reference with rm_snapshot_acquire(); the
 * reloader installs a fully built ruleset with rm_snapshot_swap().  The old
 * ruleset is retired: the snapshot keeps a reference until
 * rm_snapshot_reap(), on the reloader's thread, finds no session holding
 * it and frees it there, so no session pays for freeing a big policy.
 *
 * A reader takes no lock: it counts itself in (sn_readers, by epoch),
 * loads the pointer, takes its reference, counts itself out.  The reloader
 * runs at idle priority, and a lock it held while preempted would stall
 * every session behind it; so only the reloader locks (sn_lock), and
 * before it trusts a retired ruleset's reference count it waits for the
 * readers that might have loaded the pointer without counting yet (a
 * grace period: both epoch counters seen at zero after the swap).
 */
#ifndef RM_SNAPSHOT_H
#define RM_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>

#include "relaymilter/ruleset.h"

struct rm_snapshot {
	_Atomic(struct rm_ruleset *) sn_current;
	_Atomic unsigned long sn_generation; /* bumped by every swap */
	atomic_uint sn_epoch;
	_Atomic unsigned long sn_readers[2]; /* in rm_snapshot_acquire() */
	pthread_mutex_t sn_lock;             /* the reloader's: swap, reap */
	struct rm_ruleset **sn_retired;      /* swapped out, maybe still held */
	size_t sn_nretired;
	size_t sn_ungraced; /* swaps since the last grace period */
};

/* rm_snapshot_init - start with rs (its reference is taken over). */
void rm_snapshot_init(struct rm_snapshot *, struct rm_ruleset *rs);
/* rm_snapshot_acquire - the current ruleset with a new reference. */
struct rm_ruleset *rm_snapshot_acquire(struct rm_snapshot *);
/* rm_snapshot_acquire_gen - the same, and its generation in *gen. */
struct rm_ruleset *rm_snapshot_acquire_gen(struct rm_snapshot *,
                                           unsigned long *gen);
/* rm_snapshot_generation - the generation in force (1 = the first). */
unsigned long rm_snapshot_generation(struct rm_snapshot *);
/* rm_snapshot_swap - install rs (reference taken over), retire the old. */
void rm_snapshot_swap(struct rm_snapshot *, struct rm_ruleset *rs);
/*
 * rm_snapshot_reap - free the retired rulesets that no session holds;
 * return how many are still held.
 */
size_t rm_snapshot_reap(struct rm_snapshot *);
void rm_snapshot_destroy(struct rm_snapshot *);

#endif
