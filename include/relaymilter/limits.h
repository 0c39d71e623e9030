/*
 * limits.h - counting what the engine let through, per key, in sliding
 * windows; refusing what goes over; locking a key that trips.
 *
 * Three layers, each testable alone (t/unit/test_limits.c):
 *   - the window arithmetic (rm_window_*): pure, time passed in;
 *   - the store, a port (struct rm_limit_store): where the counters and
 *     locks live.  limitstore.c is the memory store (sharded hash + LRU,
 *     kept across reloads, lost at a restart); a shared store (Redis)
 *     plugs in here without touching the engine or the callers;
 *   - rm_limits_admit(): the adapter's one call after the engine's
 *     verdict.  It reads the limits that apply (verdict v_limits), makes
 *     their keys from the facts, asks the store and, when a limit
 *     refuses, turns the verdict into its refusal.
 * The engine (policy.c) stays pure: it never sees a store or a clock.
 *
 * The window: two fixed windows of length per, the current one and the
 * one before, with the previous count weighted by how much of it the
 * sliding window still covers:
 *     estimate = prev * (per - elapsed) / per + cur
 * where elapsed is the time since the current window began.  The true
 * count of the sliding window lies between cur and cur + prev; the
 * estimate is exact when the previous window's mail came evenly spread,
 * and is off by at most prev * max(w, 1 - w) (w = (per - elapsed) / per)
 * otherwise: a burst at the end of the previous window is under-counted
 * early in the current one, a burst at its start over-counted late.
 */
#ifndef RM_LIMITS_H
#define RM_LIMITS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relaymilter/policy.h"
#include "relaymilter/ruleset.h"

/* What is counted: messages and recipients. */
enum { RM_WC_MSGS = 0, RM_WC_RCPTS, RM_WC__COUNT };

struct rm_window {
	uint64_t w_start; /* the current window began here (a multiple of
	                     per); 0 with no count: empty */
	uint32_t w_prev[RM_WC__COUNT], w_cur[RM_WC__COUNT];
};

/*
 * rm_window_roll - move the window to now: the current window becomes the
 * previous one when now is in the next, both are emptied after a longer
 * idle.  A now before the window's start (a clock that went back) counts
 * in the current window.
 */
void rm_window_roll(struct rm_window *, unsigned per, uint64_t now);
/*
 * rm_window_estimate - the sliding count of what (RM_WC_*) at now, times
 * per (integer arithmetic: compare with max * per).  Rolls first.
 */
uint64_t rm_window_estimate(struct rm_window *, unsigned per, uint64_t now,
                            int what);
/*
 * rm_window_admits - adding add[] at now keeps every counter with a max
 * (0: none) at or below it.  Rolls first.
 */
bool rm_window_admits(struct rm_window *, unsigned per, uint64_t now,
                      const unsigned add[RM_WC__COUNT],
                      const unsigned long max[RM_WC__COUNT]);
/* rm_window_add - count add[] (negative: take back, never below 0) */
void rm_window_add(struct rm_window *, unsigned per, uint64_t now,
                   const int add[RM_WC__COUNT]);
/* rm_window_idle - both windows are over at now: nothing left to count */
bool rm_window_idle(const struct rm_window *, unsigned per, uint64_t now);
/*
 * rm_window_reper - the limit's per changed (a reload): keep the current
 * estimate as the new current count, in a window aligned to the new per.
 */
void rm_window_reper(struct rm_window *, unsigned old_per, unsigned per,
                     uint64_t now);

/* One question to the store: count one recipient against one limit. */
struct rm_limit_q {
	const char *q_limit; /* the limit's name */
	const char *q_key;   /* the key's value ("alice", "2001:db8::/64") */
	unsigned q_per, q_lock;
	unsigned long q_max[RM_WC__COUNT]; /* 0: not capped */
	unsigned q_add[RM_WC__COUNT];      /* what this recipient adds */
	bool q_monitor;                    /* count even when over */
};

enum rm_limit_res {
	RM_LIM_ADMIT = 0, /* counted */
	RM_LIM_OVER,      /* over the limit: not counted (monitored: counted) */
	RM_LIM_LOCKED,    /* the key is locked: not counted */
	RM_LIM_ERROR      /* the store could not tell: tempfail */
};

struct rm_limit_ans {
	enum rm_limit_res a_res;
	bool a_tripped;       /* the first refusal since the key was under */
	bool a_locked_now;    /* this refusal locked the key */
	uint64_t a_lock_left; /* seconds, when locked */
	unsigned long a_count[RM_WC__COUNT]; /* the estimate, rounded up */
};

/* One key's state, for "relaymilter limits". */
struct rm_limit_row {
	const char *lr_limit, *lr_key;
	unsigned lr_per;
	unsigned long lr_count[RM_WC__COUNT];
	uint64_t lr_lock_left; /* 0: not locked */
};
typedef void rm_limit_row_fn(void *arg, const struct rm_limit_row *);

/*
 * The store port.  Every call is thread-safe; now is the caller's clock
 * in seconds (the daemon: CLOCK_MONOTONIC).
 *   ls_hit    check the lock and the window, count when admitted (or
 *             monitored), lock the key when it trips and q_lock is set.
 *   ls_unhit  take back what an ls_hit counted (another limit refused
 *             the same recipient).
 *   ls_lift   unlock (limit, key) and empty its windows; limit NULL:
 *             every limit of the key.  The number of keys lifted.
 *   ls_list   every (limit, key) of key (NULL: all) to fn; how many.
 *   ls_free   the store and all it holds.
 *   ls_hits   optional: q[0..n) for one recipient at once (the Redis
 *             store: one round trip).  Each in order as ls_hit would;
 *             at the first refusal (an answer other than RM_LIM_ADMIT to
 *             a question not q_monitor) stop and take back what the
 *             ones before it counted.  The number of answers in a[].
 *             NULL: rm_limits_hits() does it with ls_hit and ls_unhit.
 */
struct rm_limit_store {
	int (*ls_hit)(struct rm_limit_store *, const struct rm_limit_q *,
	              uint64_t now, struct rm_limit_ans *);
	void (*ls_unhit)(struct rm_limit_store *, const struct rm_limit_q *,
	                 uint64_t now);
	size_t (*ls_lift)(struct rm_limit_store *, const char *limit,
	                  const char *key);
	size_t (*ls_list)(struct rm_limit_store *, const char *key,
	                  uint64_t now, rm_limit_row_fn *fn, void *arg);
	void (*ls_free)(struct rm_limit_store *);
	size_t (*ls_hits)(struct rm_limit_store *, const struct rm_limit_q *,
	                  size_t n, uint64_t now, struct rm_limit_ans *);
};

/* rm_limit_refuses - the answer a refuses its recipient */
static inline bool
rm_limit_refuses(const struct rm_limit_q *q, const struct rm_limit_ans *a)
{
	return a->a_res != RM_LIM_ADMIT && !q->q_monitor;
}

/*
 * rm_limits_hits - the store's ls_hits, or the same done with ls_hit and
 * ls_unhit (a store error is an RM_LIM_ERROR answer).  How many answers.
 */
size_t rm_limits_hits(struct rm_limit_store *, const struct rm_limit_q *,
                      size_t n, uint64_t now, struct rm_limit_ans *);

/*
 * rm_limits_memory_new - the memory store, holding at most max_entries
 * (limit, key) pairs: when full, idle entries go first, then the least
 * recently used unlocked ones.  NULL when out of memory.
 */
struct rm_limit_store *rm_limits_memory_new(size_t max_entries);
/* the daemon's budget: a million keys, well under 200 MB */
#define RM_LIMIT_ENTRIES 1000000

/*
 * Where the counters live: store = "memory" (the default) or Redis,
 * "redis://HOST[:PORT][/DB]" or "redis+unix:///PATH[?db=N]".
 */
#define RM_STORE_PATH_MAX 108
struct rm_store_addr {
	bool sa_redis;                   /* false: the memory store */
	char sa_host[256];               /* TCP: an address or a name */
	unsigned sa_port;                /* TCP: 6379 when not given */
	char sa_path[RM_STORE_PATH_MAX]; /* unix: the socket ("" for TCP) */
	unsigned sa_db;                  /* SELECT db (0: none) */
};
/* rm_store_parse - spec into *a; 0, or -1 with why in err */
int rm_store_parse(const char *spec, struct rm_store_addr *a, char *err,
                   size_t errlen);

/*
 * rm_limit_redis_key - the Redis key of (limit, key) into buf:
 * "rm:l:LIMIT:KEY" with every byte of KEY outside [A-Za-z0-9._@+/-] as
 * %XX, so no ':', glob character or control byte is left in it.  false
 * when it does not fit.  rm_limit_redis_unkey: back, the other way.
 */
#define RM_LIMIT_RKEY_MAX (16 + 64 + 3 * RM_LIMIT_KEY_MAX)
bool rm_limit_redis_key(const char *limit, const char *key, char *buf,
                        size_t len);
bool rm_limit_redis_unkey(const char *rkey, char *limit, size_t llen, char *key,
                          size_t klen);

/* What the Redis store does when Redis does not answer in time. */
enum rm_store_down { RM_STORE_DOWN_LOCAL = 0, RM_STORE_DOWN_TEMPFAIL };
struct rm_redis_conf {
	struct rm_store_addr rc_addr;
	unsigned rc_timeout_ms;     /* connect and command (default 1000) */
	enum rm_store_down rc_down; /* the fallback */
	atomic_llong *rc_fallbacks; /* decisions taken without Redis */
};
/*
 * rm_limits_redis_new - the Redis store (limitredis.c); connects lazily.
 * NULL when out of memory.
 */
struct rm_limit_store *rm_limits_redis_new(const struct rm_redis_conf *);

/* What one transaction (MAIL to end) has counted. */
struct rm_limit_txn {
	uint32_t lt_msg_counted; /* bit i: rs_limits[i] counted the message */
};

/* Something a log line or an alert must say. */
#define RM_LIMIT_KEY_MAX    256
#define RM_LIMIT_EVENTS_MAX 4 /* a refusal ends the round: few events */
struct rm_limit_event {
	const struct rm_limit *le_limit;
	char le_key[RM_LIMIT_KEY_MAX];
	enum rm_limit_res le_res;
	bool le_tripped, le_locked_now, le_monitor;
	uint64_t le_lock_left;
	unsigned long le_count[RM_WC__COUNT];
};

struct rm_limit_report {
	size_t lr_n; /* events: trips, locks, refusals */
	struct rm_limit_event lr_ev[RM_LIMIT_EVENTS_MAX];
	int lr_refused; /* the event that refused, or -1 */
};

/*
 * rm_limit_key - the key of limit lm for these facts into buf (login and
 * addresses lower-cased; an IPv6 client as its lm_v6prefix network).
 * false when the facts have none.
 */
bool rm_limit_key(const struct rm_limit *, const struct rm_facts *, char *buf,
                  size_t len);

/*
 * rm_limits_admit - count the recipient against the limits the verdict
 * names (v_limits), at now.  Admitted: the verdict is unchanged and every
 * limit counted it (a message once per transaction).  Refused: no limit
 * counts it and the verdict becomes the refusing limit's reply (rule
 * "limit[NAME]"); monitored, it stays a continue with monitor=limit[NAME].
 * rep says what to log (and what on_lock to run).
 */
void rm_limits_admit(struct rm_limit_store *, const struct rm_ruleset *,
                     const struct rm_facts *, struct rm_limit_txn *,
                     uint64_t now, struct rm_verdict *,
                     struct rm_limit_report *rep);

#endif
