/*
 * ownercache.c - the on-demand sender lookup cache under load: the cost of
 * a hit with N cached logins, from 1 and from T threads at once.
 *
 *   ownercache [LOGINS [THREADS [SECONDS]]]   (default 100000 4 2)
 *
 * Prints one line per thread count: logins, threads, hits, misses, and
 * the wall and CPU time per lookup per thread (a lookup includes making
 * the login string and freeing the copied answer).  With more threads
 * than cores the wall time grows with the sharing of the cores; the CPU
 * time shows the lookup's own cost and any lock spinning.  Target:
 * <= 1000 ns per hit at 100 000 logins.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relaymilter/ownercache.h"

static struct rm_ownercache oc;
static int nlogins;
static double seconds;

struct worker {
	unsigned seed;
	unsigned long hits, misses;
	double ns, cpu_ns;
};

static double
clock_of(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
now(void)
{
	return clock_of(CLOCK_MONOTONIC);
}

static void *
run(void *arg)
{
	struct worker *w = arg;
	struct rm_owned o;
	char login[48];
	double t0 = now(), c0 = clock_of(CLOCK_THREAD_CPUTIME_ID), t1;
	unsigned long n = 0;
	int i;

	do {
		for (i = 0; i < 1000; i++) {
			w->seed = w->seed * 1103515245u + 12345u;
			snprintf(login, sizeof(login), "user%u@example.com",
			         (w->seed >> 8) % (unsigned)nlogins);
			if (rm_ownercache_get(&oc, login, 1, &o)) {
				w->hits++;
				rm_owned_clear(&o);
			} else
				w->misses++;
		}
		n += 1000;
		t1 = now();
	} while (t1 - t0 < seconds);
	w->ns = (t1 - t0) * 1e9 / (double)n;
	w->cpu_ns = (clock_of(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e9 / (double)n;
	return NULL;
}

static void
round_of(int threads)
{
	struct worker *w = calloc((size_t)threads, sizeof(*w));
	pthread_t *t = calloc((size_t)threads, sizeof(*t));
	unsigned long hits = 0, misses = 0;
	double ns = 0, cpu = 0;
	int i;

	for (i = 0; i < threads; i++) {
		w[i].seed = (unsigned)i * 7919u + 1;
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	for (i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		hits += w[i].hits;
		misses += w[i].misses;
		ns += w[i].ns;
		cpu += w[i].cpu_ns;
	}
	printf("ownercache logins=%d threads=%d hits=%lu misses=%lu "
	       "wall_ns_per_lookup=%.0f cpu_ns_per_lookup=%.0f\n",
	       nlogins, threads, hits, misses, ns / threads, cpu / threads);
	free(w);
	free(t);
}

int
main(int argc, char **argv)
{
	static char *addrs[] = {"user@example.com", "@sales.example.com"};
	const struct rm_owned found = {RM_FOUND, addrs, 2};
	char login[48];
	int i, threads;

	nlogins = argc > 1 ? atoi(argv[1]) : 100000;
	threads = argc > 2 ? atoi(argv[2]) : 4;
	seconds = argc > 3 ? atof(argv[3]) : 2;
	if (nlogins < 1 || threads < 1 || seconds <= 0) {
		fprintf(stderr,
		        "usage: ownercache [LOGINS [THREADS [SECONDS]]]\n");
		return 64;
	}
	rm_ownercache_init(&oc);
	for (i = 0; i < nlogins; i++) {
		snprintf(login, sizeof(login), "user%d@example.com", i);
		rm_ownercache_put(&oc, login, &found, 1000000, (size_t)nlogins);
	}
	round_of(1);
	if (threads > 1)
		round_of(threads);
	rm_ownercache_destroy(&oc);
	return 0;
}
