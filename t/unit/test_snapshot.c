/*
 * test_snapshot.c - a swapped-out ruleset stays alive while a session
 * holds it, and is freed by rm_snapshot_reap() once none does; sessions
 * on four threads acquiring without a lock while the reloader swaps and
 * reaps 20 000 times (or for 2 s) never see a freed ruleset or a
 * generation that is not their ruleset's (under AddressSanitizer,
 * ThreadSanitizer and valgrind too).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "relaymilter/snapshot.h"

static unsigned
refs(struct rm_ruleset *rs)
{
	return atomic_load(&rs->rs_refs);
}

static void
test_reap(void)
{
	struct rm_snapshot sn;
	struct rm_ruleset *a = rm_ruleset_new("a"), *b = rm_ruleset_new("b"),
	                  *c = rm_ruleset_new("c"), *s1, *s2;

	CHECK(a && b && c, "new");
	rm_snapshot_init(&sn, a);
	CHECK(rm_snapshot_generation(&sn) == 1, "first generation");
	CHECK(rm_snapshot_reap(&sn) == 0, "nothing retired");
	s1 = rm_snapshot_acquire(&sn);
	CHECK(s1 == a && refs(a) == 2, "session holds a: %u", refs(a));
	rm_snapshot_swap(&sn, b);
	CHECK(rm_snapshot_generation(&sn) == 2, "a swap: next generation");
	/* the session's reference and the snapshot's */
	CHECK(refs(a) == 2, "a retired, still held: %u", refs(a));
	CHECK(rm_snapshot_reap(&sn) == 1, "a still held");
	s2 = rm_snapshot_acquire(&sn);
	CHECK(s2 == b, "new sessions get b");
	rm_ruleset_release(s1);
	/* the session let go: it did not free a, the reaper does */
	CHECK(refs(a) == 1, "only the snapshot holds a: %u", refs(a));
	CHECK(rm_snapshot_reap(&sn) == 0, "a freed");
	rm_snapshot_swap(&sn, c);
	rm_ruleset_release(s2);
	CHECK(sn.sn_nretired == 1, "b retired");
	/* destroy frees what is still retired */
	rm_snapshot_destroy(&sn);
}

#define SWAPS   20000
#define READERS 4

static atomic_bool race_done;
static atomic_ulong race_bad, race_reads;

static void *
reader(void *arg)
{
	struct rm_snapshot *sn = arg;
	struct rm_ruleset *rs;
	unsigned long gen, last = 0;

	while (!atomic_load(&race_done)) {
		rs = rm_snapshot_acquire_gen(sn, &gen);
		/* touch it: a freed one is a report under the sanitizers */
		if (rs == NULL || strcmp(rs->rs_source, "r") != 0 ||
		    gen != rs->rs_generation || gen < last)
			atomic_fetch_add(&race_bad, 1);
		last = gen;
		rm_ruleset_release(rs);
		atomic_fetch_add_explicit(&race_reads, 1, memory_order_relaxed);
	}
	return NULL;
}

static void
test_race(void)
{
	struct rm_snapshot sn;
	struct timespec t0, now;
	pthread_t t[READERS];
	int i, swaps;

	rm_snapshot_init(&sn, rm_ruleset_new("r"));
	atomic_store(&race_done, false);
	for (i = 0; i < READERS; i++)
		pthread_create(&t[i], NULL, reader, &sn);
	/* at most 2 s: under valgrind the threads take turns slowly */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < SWAPS; i++) {
		rm_snapshot_swap(&sn, rm_ruleset_new("r"));
		if (i % 3 == 0)
			rm_snapshot_reap(&sn);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (i >= 10 && now.tv_sec - t0.tv_sec >= 2)
			break;
	}
	swaps = i < SWAPS ? i + 1 : SWAPS;
	atomic_store(&race_done, true);
	for (i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	CHECK(rm_snapshot_generation(&sn) == (unsigned long)swaps + 1,
	      "%d swaps: generation %lu", swaps, rm_snapshot_generation(&sn));
	CHECK(atomic_load(&race_bad) == 0,
	      "%lu lock-free reads during the swaps, none of a freed or "
	      "mismatched ruleset (%lu bad)",
	      atomic_load(&race_reads), atomic_load(&race_bad));
	CHECK(rm_snapshot_reap(&sn) == 0, "all retired ones freed at the end");
	rm_snapshot_destroy(&sn);
}

int
main(void)
{
	test_reap();
	test_race();
	return check_done();
}
