/*
 * limits.c - the limits' memory store at scale: the memory of KEYS
 * distinct keys and the cost of counting a recipient.
 *
 *   limits [KEYS [ROUNDS]]   (default 1000000 3)
 *
 * Makes the daemon's store (rm_limits_memory_new(RM_LIMIT_ENTRIES)),
 * counts one recipient for each of KEYS distinct logins (a new entry
 * each), then ROUNDS more passes over the same keys in another order
 * (an entry found and counted), all from one thread, and prints one line:
 * keys, entries kept, the process's RSS before and after (VmRSS and its
 * peak VmHWM from /proc/self/status, kB), the bytes per key, and the
 * wall time per hit for new and for known keys (a hit includes making
 * the key string).  Target: <= 200 MB at 1 000 000 keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proc_kb.h"
#include "relaymilter/limits.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* pass: one hit for each key i * step % keys; the errors, ns per hit */
static double
pass(struct rm_limit_store *st, unsigned long keys, unsigned long step,
     uint64_t t, unsigned long *errors)
{
	struct rm_limit_q q = {
	    .q_limit = "login-hourly",
	    .q_per = 3600,
	    .q_max = {0, 1000000000ul},
	    .q_add = {1, 1},
	};
	struct rm_limit_ans a;
	char key[48];
	unsigned long i;
	double t0 = now_s();

	q.q_key = key;
	for (i = 0; i < keys; i++) {
		snprintf(key, sizeof(key), "user%lu@example.com",
		         (unsigned long)((unsigned long long)i * step % keys));
		if (st->ls_hit(st, &q, t, &a) != 0 || a.a_res != RM_LIM_ADMIT)
			(*errors)++;
	}
	return (now_s() - t0) * 1e9 / (double)keys;
}

int
main(int argc, char **argv)
{
	unsigned long keys = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, r;
	/* a step prime to keys visits every key in another order */
	unsigned long step = 7919, errors = 0;
	long rss0 = proc_kb("VmRSS"), rss, hwm;
	struct rm_limit_store *st;
	double ns_new, ns_known = 0;
	size_t kept;

	if (keys == 0 || rounds < 1) {
		fprintf(stderr, "usage: limits [KEYS [ROUNDS]]\n");
		return 2;
	}
	while (keys % step == 0)
		step += 2;
	if ((st = rm_limits_memory_new(RM_LIMIT_ENTRIES)) == NULL) {
		fprintf(stderr, "limits: out of memory\n");
		return 1;
	}
	ns_new = pass(st, keys, 1, 1000000, &errors);
	for (r = 0; r < rounds; r++)
		ns_known +=
		    pass(st, keys, step, 1000000 + (uint64_t)r, &errors);
	ns_known /= rounds;
	rss = proc_kb("VmRSS");
	hwm = proc_kb("VmHWM");
	kept = st->ls_list(st, NULL, 1000000 + (uint64_t)rounds, NULL, NULL);
	printf("keys=%lu kept=%zu errors=%lu rss0_kb=%ld rss_kb=%ld hwm_kb=%ld "
	       "bytes_per_key=%.0f ns_per_new_hit=%.0f ns_per_known_hit=%.0f\n",
	       keys, kept, errors, rss0, rss, hwm,
	       (double)(rss - rss0) * 1024.0 / (double)keys, ns_new, ns_known);
	st->ls_free(st);
	return errors == 0 ? 0 : 1;
}
