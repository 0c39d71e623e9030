/*
 * test_snapshot.c - a swapped-out ruleset stays alive while a session
 * holds it, and is freed by rm_snapshot_reap() once none does.
 */
#include <stdio.h>

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

int
main(void)
{
	test_reap();
	return check_done();
}
