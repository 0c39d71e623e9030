/*
 * rm.h - definitions shared by every relaymilter module.
 *
 * The verdict actions the policy engine returns and the tri-state result
 * that every lookup uses: a lookup that fails is an error, never a "no".
 */
#ifndef RM_RM_H
#define RM_RM_H

#include <time.h>

#define RM_VERSION "0.1.0"

/*
 * Exit codes (sysexits.h): usage, service unavailable (no daemon answers),
 * system error, configuration error.
 */
#define RM_EX_USAGE       64
#define RM_EX_UNAVAILABLE 69
#define RM_EX_OSERR       71
#define RM_EX_CONFIG      78

/* What the engine tells the MTA for one recipient. */
enum rm_action {
	RM_CONTINUE = 0, /* allowed: the MTA goes on (never "accept") */
	RM_REJECT,       /* 5xx */
	RM_TEMPFAIL      /* 4xx: a needed fact or data was unavailable */
};

/* Tri-state lookup result. */
enum rm_lookup { RM_NOTFOUND = 0, RM_FOUND = 1, RM_LOOKUP_ERROR = -1 };

const char *rm_action_name(enum rm_action);

/*
 * rm_hash_mix - spread every input bit over the whole word (the
 * MurmurHash3 finalizer), so that the low bits can index a hash table.
 */
static inline unsigned
rm_hash_mix(unsigned h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* rm_ms_since - milliseconds from t (CLOCK_MONOTONIC) to now */
static inline long
rm_ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000 +
	       (now.tv_nsec - t->tv_nsec) / 1000000;
}

#endif
