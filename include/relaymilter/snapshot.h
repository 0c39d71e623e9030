/*
 * snapshot.h - the current ruleset, swapped atomically on reload.
 *
 * Readers (sessions) take a reference with rm_snapshot_acquire(); the
 * reloader installs a fully built ruleset with rm_snapshot_swap().  The old
 * ruleset is freed when its last session lets go.  The pointer is guarded by
 * a mutex held only for the pointer copy and the reference count change.
 */
#ifndef RM_SNAPSHOT_H
#define RM_SNAPSHOT_H

#include <pthread.h>

#include "relaymilter/ruleset.h"

struct rm_snapshot {
	pthread_mutex_t sn_lock;
	struct rm_ruleset *sn_current;
	unsigned long sn_generation; /* bumped by every swap */
};

/* rm_snapshot_init - start with rs (its reference is taken over). */
void rm_snapshot_init(struct rm_snapshot *, struct rm_ruleset *rs);
/* rm_snapshot_acquire - the current ruleset with a new reference. */
struct rm_ruleset *rm_snapshot_acquire(struct rm_snapshot *);
/* rm_snapshot_swap - install rs (reference taken over), drop the old one. */
void rm_snapshot_swap(struct rm_snapshot *, struct rm_ruleset *rs);
void rm_snapshot_destroy(struct rm_snapshot *);

#endif
