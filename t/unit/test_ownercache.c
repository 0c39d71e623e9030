/*
 * test_ownercache.c - the on-demand sender lookup cache: hits, misses,
 * expiry, negative answers, errors never cached, LRU eviction, case, and
 * many threads at once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/ownercache.h"

static char *addrs1[] = {"alice@example.com", "@sales.example.com"};
static const struct rm_owned found = {RM_FOUND, addrs1, 2};
static const struct rm_owned notfound = {RM_NOTFOUND, NULL, 0};
static const struct rm_owned error = {RM_LOOKUP_ERROR, NULL, 0};

static void
test_basic(void)
{
	struct rm_ownercache oc;
	struct rm_owned o;

	rm_ownercache_init(&oc);
	CHECK(!rm_ownercache_get(&oc, "alice", 100, &o), "empty: miss");
	rm_ownercache_put(&oc, "alice", &found, 200, 10);
	CHECK(rm_ownercache_get(&oc, "alice", 100, &o), "hit");
	CHECK(o.o_state == RM_FOUND && o.o_n == 2 &&
	          strcmp(o.o_addrs[1], "@sales.example.com") == 0,
	      "a deep copy of the answer");
	rm_owned_clear(&o);
	CHECK(rm_ownercache_get(&oc, "ALICE", 100, &o), "case ignored");
	rm_owned_clear(&o);
	CHECK(!rm_ownercache_get(&oc, "alice", 200, &o), "expired at expiry");
	CHECK(rm_ownercache_count(&oc) == 0, "expired entry dropped");
	rm_ownercache_put(&oc, "nobody", &notfound, 150, 10);
	CHECK(rm_ownercache_get(&oc, "nobody", 100, &o) &&
	          o.o_state == RM_NOTFOUND,
	      "negative answers are cached");
	rm_owned_clear(&o);
	rm_ownercache_put(&oc, "broken", &error, 150, 10);
	CHECK(!rm_ownercache_get(&oc, "broken", 100, &o),
	      "errors are never cached");
	rm_ownercache_put(&oc, "nobody", &found, 300, 10);
	CHECK(rm_ownercache_get(&oc, "Nobody", 250, &o) &&
	          o.o_state == RM_FOUND,
	      "a new answer replaces the old");
	rm_owned_clear(&o);
	CHECK(rm_ownercache_count(&oc) == 1, "replaced, not added");
	rm_ownercache_put(&oc, "x", &found, 300, 0);
	CHECK(!rm_ownercache_get(&oc, "x", 100, &o), "size 0: no cache");
	rm_ownercache_destroy(&oc);
}

/* test_lru - a full cache drops the least recently used login */
static void
test_lru(void)
{
	struct rm_ownercache oc;
	struct rm_owned o;
	char login[32];
	int i, kept = 0;

	rm_ownercache_init(&oc);
	/* 1000 logins into a cache of 160 */
	for (i = 0; i < 1000; i++) {
		snprintf(login, sizeof(login), "user%d", i);
		rm_ownercache_put(&oc, login, &found, 1000, 160);
		/* user0 is used all the time: it must stay */
		if (rm_ownercache_get(&oc, "user0", 1, &o))
			rm_owned_clear(&o);
	}
	CHECK(rm_ownercache_count(&oc) <= 160, "bounded: %zu",
	      rm_ownercache_count(&oc));
	CHECK(rm_ownercache_get(&oc, "user0", 1, &o), "the hot login stays");
	rm_owned_clear(&o);
	CHECK(rm_ownercache_get(&oc, "user999", 1, &o), "the newest stays");
	rm_owned_clear(&o);
	for (i = 0; i < 500; i++) {
		snprintf(login, sizeof(login), "user%d", i + 1);
		if (rm_ownercache_get(&oc, login, 1, &o)) {
			kept++;
			rm_owned_clear(&o);
		}
	}
	CHECK(kept == 0, "the old, unused logins went: %d kept", kept);
	rm_ownercache_destroy(&oc);
}

#define THREADS 8
#define ROUNDS  20000

struct worker {
	struct rm_ownercache *oc;
	int id, bad;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	struct rm_owned o;
	char login[32];
	int i;

	for (i = 0; i < ROUNDS; i++) {
		snprintf(login, sizeof(login), "u%d", (i * 7 + w->id) % 3000);
		if (rm_ownercache_get(w->oc, login, 1, &o)) {
			if (o.o_state != RM_FOUND || o.o_n != 2)
				w->bad++;
			rm_owned_clear(&o);
		} else
			rm_ownercache_put(w->oc, login, &found, 100, 1000);
	}
	return NULL;
}

/* test_threads - many sessions at once: no lost or torn answers */
static void
test_threads(void)
{
	struct rm_ownercache oc;
	struct worker w[THREADS];
	pthread_t t[THREADS];
	int i, bad = 0;

	rm_ownercache_init(&oc);
	for (i = 0; i < THREADS; i++) {
		w[i].oc = &oc;
		w[i].id = i;
		w[i].bad = 0;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		bad += w[i].bad;
	}
	CHECK(bad == 0, "%d torn answers", bad);
	CHECK(rm_ownercache_count(&oc) <= 1000 + RM_OC_SHARDS,
	      "bounded under load: %zu", rm_ownercache_count(&oc));
	rm_ownercache_destroy(&oc);
}

int
main(void)
{
	test_basic();
	test_lru();
	test_threads();
	return check_done();
}
