/*
 * limitredis.c - the Redis store of the limits' counters and locks
 * (struct rm_limit_store in limits.h): every relaymilter pointed at one
 * Redis shares one budget per key.
 *
 * One Lua script (hit_lua) judges all the limits of one recipient in one
 * round trip (EVALSHA; EVAL when Redis lost its script cache), atomically:
 * lock, window, count, trip and lock, and the take-back when a later limit
 * refuses, as the memory store and rm_limits_hits() do.  Its window
 * arithmetic is rm_window_roll() and rm_window_estimate() of limits.c
 * written again in Lua (win_lua: the same formula, the same integers);
 * t/unit/test_limits.c holds the C side, t/limits/redis.sh both.  The
 * clock is Redis's (TIME), so every daemon counts in the same windows; the
 * caller's now is not used.
 *
 * A key is a hash, "rm:l:LIMIT:KEY" (rm_limit_redis_key: KEY %-escaped),
 * with the fields s (the current window's start), p (its per), pm pr
 * (the previous window's messages and recipients), cm cr (the current
 * one's), lk (locked until, Redis time) and tr (tripped); it expires
 * 2 * per after its last count, or when its lock ends if later.
 *
 * Connections: hiredis contexts are not thread-safe; a session takes one
 * from a small pool (a mutex-protected stack), or connects, and puts it
 * back after its one command.  Connect and command share one deadline,
 * the store timeout.  A failure drops the pool and opens the breaker: for
 * RS_RETRY_MS no session tries Redis, each goes straight to the fallback
 * (the memory store rs_local, or a tempfail), so an outage costs one
 * session the timeout, not every session.  The first failure is logged as
 * a warning, then once a minute while it lasts; the return once.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "relaymilter/grants.h"
#include "relaymilter/limits.h"
#include "relaymilter/log.h"

#define RS_POOL_MAX     64    /* idle connections kept */
#define RS_RETRY_MS     1000  /* the breaker: no attempt for this long */
#define RS_LOG_EVERY_MS 60000 /* "still down" at most this often */
#define RS_QARGS        6     /* ARGV per limit: per lock mm mr am ar */
#define RS_TIMEOUT_MS   1000

/*
 * The window in Lua: the state of a key (load), rm_window_roll (roll),
 * rm_window_estimate (est, times per) and the count rounded up (count).
 */
#define WIN_LUA                                                                \
	"local now = tonumber(redis.call('TIME')[1])\n"                        \
	"local function load(k)\n"                                             \
	"  local h = redis.call('HMGET', k, 's', 'p', 'pm', 'pr', 'cm', "      \
	"'cr', 'lk', 'tr')\n"                                                  \
	"  return { s = tonumber(h[1]) or 0, p = tonumber(h[2]),\n"            \
	"    pv = { tonumber(h[3]) or 0, tonumber(h[4]) or 0 },\n"             \
	"    cu = { tonumber(h[5]) or 0, tonumber(h[6]) or 0 },\n"             \
	"    lk = tonumber(h[7]) or 0, tr = h[8] == '1' }\n"                   \
	"end\n"                                                                \
	"local function roll(w, per)\n"                                        \
	"  local start = now - now % per\n"                                    \
	"  if start <= w.s then return end\n"                                  \
	"  for j = 1, 2 do\n"                                                  \
	"    if start - w.s == per then w.pv[j] = w.cu[j] else w.pv[j] = 0 "   \
	"end\n"                                                                \
	"    w.cu[j] = 0\n"                                                    \
	"  end\n"                                                              \
	"  w.s = start\n"                                                      \
	"end\n"                                                                \
	"local function est(w, per, j)\n"                                      \
	"  roll(w, per)\n"                                                     \
	"  local e = 0\n"                                                      \
	"  if now > w.s then e = now - w.s end\n"                              \
	"  if e >= per then e = per - 1 end\n"                                 \
	"  return w.pv[j] * (per - e) + w.cu[j] * per\n"                       \
	"end\n"                                                                \
	"local function count(w, per, j)\n"                                    \
	"  return math.floor((est(w, per, j) + per - 1) / per)\n"              \
	"end\n"                                                                \
	"local function save(k, w, per)\n"                                     \
	"  redis.call('HSET', k, 's', w.s, 'p', per, 'pm', w.pv[1], 'pr', "    \
	"w.pv[2], 'cm', w.cu[1], 'cr', w.cu[2], 'lk', w.lk, 'tr', w.tr and 1 " \
	"or 0)\n"                                                              \
	"  local ttl = 2 * per\n"                                              \
	"  if w.lk - now > ttl then ttl = w.lk - now end\n"                    \
	"  redis.call('EXPIRE', k, ttl)\n"                                     \
	"end\n"

/*
 * hit_lua - KEYS: one per limit; ARGV: RS_QARGS per limit, then the
 * monitor flag.  Per limit {res, tripped, locked_now, lock_left,
 * messages, recipients} (res: enum rm_limit_res), up to the first refusal.
 * A per changed by a reload keeps the estimate (rm_window_reper).
 */
static const char hit_lua[] = WIN_LUA
    "local n = #KEYS\n"
    "local mon = ARGV[n * 6 + 1] == '1'\n"
    "local out, done = {}, {}\n"
    "for i = 1, n do\n"
    "  local b = (i - 1) * 6\n"
    "  local per, lock = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])\n"
    "  local w = load(KEYS[i])\n"
    "  if w.p ~= nil and w.p ~= per then\n"
    "    local c = { count(w, w.p, 1), count(w, w.p, 2) }\n"
    "    w.s, w.pv, w.cu = now - now % per, { 0, 0 }, c\n"
    "  end\n"
    "  local res, trip, lnow, left, ok = 0, 0, 0, 0, true\n"
    "  for j = 1, 2 do\n"
    "    local mx, add = tonumber(ARGV[b + 2 + j]), tonumber(ARGV[b + 4 + "
    "j])\n"
    "    if mx ~= 0 and est(w, per, j) + add * per > mx * per then ok = "
    "false end\n"
    "  end\n"
    "  if w.lk > now then\n"
    "    res, left, ok = 2, w.lk - now, false\n"
    "  elseif not ok then\n"
    "    res = 1\n"
    "    if not w.tr then trip = 1 end\n"
    "    w.tr = true\n"
    "    if not mon and lock > 0 then\n"
    "      w.lk, lnow, left = now + lock, 1, lock\n"
    "    end\n"
    "  else\n"
    "    w.tr = false\n"
    "  end\n"
    "  if ok or (mon and res == 1) then\n"
    "    roll(w, per)\n"
    "    for j = 1, 2 do w.cu[j] = w.cu[j] + tonumber(ARGV[b + 4 + j]) end\n"
    "    done[#done + 1] = i\n"
    "  end\n"
    "  save(KEYS[i], w, per)\n"
    "  out[i] = { res, trip, lnow, left, count(w, per, 1), count(w, per, 2) "
    "}\n"
    "  if res ~= 0 and not mon then\n"
    "    for _, d in ipairs(done) do\n"
    "      local bd = (d - 1) * 6\n"
    "      local v = load(KEYS[d])\n"
    "      for j = 1, 2 do\n"
    "        v.cu[j] = math.max(0, v.cu[j] - tonumber(ARGV[bd + 4 + j]))\n"
    "      end\n"
    "      save(KEYS[d], v, v.p)\n"
    "    end\n"
    "    break\n"
    "  end\n"
    "end\n"
    "return out\n";

/* unhit_lua - KEYS[1]; ARGV: per, messages, recipients to take back */
static const char unhit_lua[] =
    WIN_LUA "local w = load(KEYS[1])\n"
            "if w.p == nil then return 0 end\n"
            "roll(w, w.p)\n"
            "for j = 1, 2 do w.cu[j] = math.max(0, w.cu[j] - "
            "tonumber(ARGV[j + 1])) end\n"
            "save(KEYS[1], w, w.p)\n"
            "return 1\n";

/* list_lua - ARGV[1]: a SCAN pattern; {key, per, messages, recipients,
   lock_left} per key */
static const char list_lua[] =
    WIN_LUA "local out, cur = {}, '0'\n"
            "repeat\n"
            "  local r = redis.call('SCAN', cur, 'MATCH', ARGV[1], 'COUNT', "
            "1000)\n"
            "  cur = r[1]\n"
            "  for _, k in ipairs(r[2]) do\n"
            "    local w = load(k)\n"
            "    if w.p ~= nil then\n"
            "      out[#out + 1] = { k, w.p, count(w, w.p, 1), count(w, "
            "w.p, 2), math.max(0, w.lk - now) }\n"
            "    end\n"
            "  end\n"
            "until cur == '0'\n"
            "return out\n";

/* lift_lua - ARGV[1]: a SCAN pattern; every key it matches goes */
static const char lift_lua[] =
    "local n, cur = 0, '0'\n"
    "repeat\n"
    "  local r = redis.call('SCAN', cur, 'MATCH', ARGV[1], 'COUNT', 1000)\n"
    "  cur = r[1]\n"
    "  for _, k in ipairs(r[2]) do n = n + redis.call('DEL', k) end\n"
    "until cur == '0'\n"
    "return n\n";

struct rs_store {
	struct rm_limit_store rs_port; /* first: the port is the store */
	struct rm_redis_conf rs_conf;
	struct rm_limit_store *rs_local; /* the fallback: counting locally */
	char rs_where[RM_STORE_PATH_MAX + 16];
	pthread_mutex_t rs_lock; /* the pool, rs_sha, the outage's log */
	redisContext *rs_pool[RS_POOL_MAX];
	size_t rs_npool;
	char rs_sha[41];          /* hit_lua's, "" until loaded */
	atomic_ullong rs_retry;   /* the breaker: no attempt before (ms) */
	atomic_bool rs_down;      /* the last attempt failed */
	uint64_t rs_logged;       /* the last "down" line (ms) */
	unsigned long rs_without; /* decisions without Redis since then */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval
tv_ms(uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000};

	return tv;
}

/* pool_drain - close every idle connection (Redis went away) */
static void
pool_drain(struct rs_store *rs)
{
	pthread_mutex_lock(&rs->rs_lock);
	while (rs->rs_npool > 0)
		redisFree(rs->rs_pool[--rs->rs_npool]);
	pthread_mutex_unlock(&rs->rs_lock);
}

static void
conn_put(struct rs_store *rs, redisContext *c)
{
	pthread_mutex_lock(&rs->rs_lock);
	if (rs->rs_npool < RS_POOL_MAX) {
		rs->rs_pool[rs->rs_npool++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&rs->rs_lock);
	if (c != NULL)
		redisFree(c);
}

/* setup - a new connection's SELECT and, once, hit_lua's SCRIPT LOAD */
static int
setup(struct rs_store *rs, redisContext *c, char *why, size_t len)
{
	redisReply *r;
	char sha[41];

	if (rs->rs_conf.rc_addr.sa_db != 0) {
		r = redisCommand(c, "SELECT %u", rs->rs_conf.rc_addr.sa_db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, len, "SELECT %u: %s",
			         rs->rs_conf.rc_addr.sa_db,
			         r != NULL ? r->str : c->errstr);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	pthread_mutex_lock(&rs->rs_lock);
	memcpy(sha, rs->rs_sha, sizeof(sha));
	pthread_mutex_unlock(&rs->rs_lock);
	if (sha[0] != '\0')
		return 0;
	r = redisCommand(c, "SCRIPT LOAD %s", hit_lua);
	if (r == NULL || r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(why, len, "SCRIPT LOAD: %s",
		         r != NULL && r->type == REDIS_REPLY_ERROR ? r->str
		                                                   : c->errstr);
		freeReplyObject(r);
		return -1;
	}
	pthread_mutex_lock(&rs->rs_lock);
	memcpy(rs->rs_sha, r->str, 40);
	rs->rs_sha[40] = '\0';
	pthread_mutex_unlock(&rs->rs_lock);
	freeReplyObject(r);
	return 0;
}

/* conn_get - a pooled connection (*reused) or a new one by deadline */
static redisContext *
conn_get(struct rs_store *rs, uint64_t deadline, bool *reused, char *why,
         size_t len)
{
	const struct rm_store_addr *a = &rs->rs_conf.rc_addr;
	redisContext *c = NULL;
	uint64_t t = now_ms();

	pthread_mutex_lock(&rs->rs_lock);
	if (rs->rs_npool > 0)
		c = rs->rs_pool[--rs->rs_npool];
	pthread_mutex_unlock(&rs->rs_lock);
	*reused = c != NULL;
	if (c == NULL) {
		c = a->sa_path[0] != '\0'
		        ? redisConnectUnixWithTimeout(a->sa_path,
		                                      tv_ms(deadline - t))
		        : redisConnectWithTimeout(a->sa_host, (int)a->sa_port,
		                                  tv_ms(deadline - t));
		if (c == NULL || c->err != 0) {
			snprintf(why, len, "connect: %s",
			         c != NULL ? c->errstr : "out of memory");
			redisFree(c);
			return NULL;
		}
	}
	t = now_ms();
	if (t >= deadline || redisSetTimeout(c, tv_ms(deadline - t)) != 0 ||
	    (!*reused && setup(rs, c, why, len) != 0)) {
		if (t >= deadline)
			snprintf(why, len, "connect: timed out");
		redisFree(c);
		return NULL;
	}
	return c;
}

/* failed - Redis did not answer: open the breaker, say so (not often) */
static void
failed(struct rs_store *rs, const char *why)
{
	uint64_t t = now_ms();
	bool first;

	atomic_store(&rs->rs_retry, t + RS_RETRY_MS);
	pool_drain(rs);
	pthread_mutex_lock(&rs->rs_lock);
	first = !atomic_exchange(&rs->rs_down, true);
	if (first)
		rm_log(RM_LOG_WARNING,
		       "limits: Redis at %s does not answer (%s): %s until it "
		       "does",
		       rs->rs_where, why,
		       rs->rs_conf.rc_down == RM_STORE_DOWN_TEMPFAIL
		           ? "recipients under a limit get a tempfail"
		           : "counting in this daemon's memory");
	else if (t - rs->rs_logged >= RS_LOG_EVERY_MS)
		rm_log(RM_LOG_WARNING,
		       "limits: Redis at %s still down (%s): %lu decisions "
		       "without it so far",
		       rs->rs_where, why, rs->rs_without);
	if (first || t - rs->rs_logged >= RS_LOG_EVERY_MS)
		rs->rs_logged = t;
	pthread_mutex_unlock(&rs->rs_lock);
}

/* answered - Redis answered: say once that it is back */
static void
answered(struct rs_store *rs)
{
	if (!atomic_load_explicit(&rs->rs_down, memory_order_relaxed))
		return;
	pthread_mutex_lock(&rs->rs_lock);
	if (atomic_exchange(&rs->rs_down, false))
		rm_log(RM_LOG_WARNING,
		       "limits: Redis at %s answers again: counting there "
		       "(%lu decisions were taken without it)",
		       rs->rs_where, rs->rs_without);
	rs->rs_without = 0;
	pthread_mutex_unlock(&rs->rs_lock);
}

/* broken - the connection is gone (not merely slow): worth a new one */
static bool
broken(const redisContext *c, int err)
{
	return c->err == REDIS_ERR_EOF ||
	       (c->err == REDIS_ERR_IO && err != EAGAIN && err != EWOULDBLOCK &&
	        err != EINTR);
}

/*
 * command - argv to Redis within the timeout; the reply, or NULL (the
 * breaker open, or Redis failed: logged).  A pooled connection Redis
 * closed (a restart) gets one fresh try.  An EVALSHA Redis has no script
 * for (NOSCRIPT: a restart, SCRIPT FLUSH) becomes an EVAL of script.
 */
static redisReply *
command(struct rs_store *rs, int argc, const char **argv, size_t *lens,
        const char *script)
{
	uint64_t deadline = now_ms() + rs->rs_conf.rc_timeout_ms;
	redisContext *c;
	redisReply *r = NULL;
	char why[256] = "";
	bool reused;
	int tries, err;

	if (now_ms() < atomic_load(&rs->rs_retry))
		return NULL;
	for (tries = 0; tries < 2; tries++) {
		if ((c = conn_get(rs, deadline, &reused, why, sizeof(why))) ==
		    NULL)
			break;
		r = redisCommandArgv(c, argc, argv, lens);
		if (r != NULL && r->type == REDIS_REPLY_ERROR &&
		    script != NULL && strncmp(r->str, "NOSCRIPT", 8) == 0) {
			freeReplyObject(r);
			argv[0] = "EVAL";
			argv[1] = script;
			lens[0] = 4;
			lens[1] = strlen(script);
			r = redisCommandArgv(c, argc, argv, lens);
		}
		if (r != NULL && r->type != REDIS_REPLY_ERROR) {
			conn_put(rs, c);
			answered(rs);
			return r;
		}
		err = errno;
		if (r != NULL) { /* an error reply: the connection is fine */
			snprintf(why, sizeof(why), "%s", r->str);
			freeReplyObject(r);
			conn_put(rs, c);
			break;
		}
		snprintf(why, sizeof(why), "%s", c->errstr);
		if (!(reused && broken(c, err))) {
			redisFree(c);
			break;
		}
		redisFree(c);
	}
	failed(rs, why);
	return NULL;
}

/* without - a decision Redis could not take: the fallback's */
static size_t
without(struct rs_store *rs, const struct rm_limit_q *q, size_t n, uint64_t now,
        struct rm_limit_ans *a)
{
	if (rs->rs_conf.rc_fallbacks != NULL)
		atomic_fetch_add_explicit(rs->rs_conf.rc_fallbacks, 1,
		                          memory_order_relaxed);
	pthread_mutex_lock(&rs->rs_lock);
	rs->rs_without++;
	pthread_mutex_unlock(&rs->rs_lock);
	if (rs->rs_conf.rc_down == RM_STORE_DOWN_LOCAL)
		return rm_limits_hits(rs->rs_local, q, n, now, a);
	memset(a, 0, sizeof(*a));
	a->a_res = RM_LIM_ERROR;
	return 1;
}

/* answer - one element of hit_lua's reply into *a */
static bool
answer(const redisReply *e, struct rm_limit_ans *a)
{
	long long v[6];
	size_t i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 6)
		return false;
	for (i = 0; i < 6; i++) {
		if (e->element[i]->type != REDIS_REPLY_INTEGER ||
		    e->element[i]->integer < 0)
			return false;
		v[i] = e->element[i]->integer;
	}
	if (v[0] > RM_LIM_LOCKED)
		return false;
	memset(a, 0, sizeof(*a));
	a->a_res = (enum rm_limit_res)v[0];
	a->a_tripped = v[1] != 0;
	a->a_locked_now = v[2] != 0;
	a->a_lock_left = (uint64_t)v[3];
	a->a_count[RM_WC_MSGS] = (unsigned long)v[4];
	a->a_count[RM_WC_RCPTS] = (unsigned long)v[5];
	return true;
}

/* The arguments of one hit_lua call: at most RM_LIMITS_MAX limits. */
#define RS_ARGC_MAX (3 + RM_LIMITS_MAX * (1 + RS_QARGS) + 1)
struct rs_args {
	const char *argv[RS_ARGC_MAX];
	size_t lens[RS_ARGC_MAX];
	char keys[RM_LIMITS_MAX][RM_LIMIT_RKEY_MAX];
	char nums[RM_LIMITS_MAX * RS_QARGS + 1][24];
	char nkeys[16];
	int argc;
};

static void
arg(struct rs_args *ra, const char *s)
{
	ra->argv[ra->argc] = s;
	ra->lens[ra->argc++] = strlen(s);
}

static size_t
rs_hits(struct rm_limit_store *st, const struct rm_limit_q *q, size_t n,
        uint64_t now, struct rm_limit_ans *a)
{
	struct rs_store *rs = (struct rs_store *)st;
	struct rs_args *ra;
	redisReply *r = NULL;
	char sha[41];
	size_t i, k = 0, got = 0;

	if (n > RM_LIMITS_MAX || (ra = calloc(1, sizeof(*ra))) == NULL)
		return without(rs, q, n, now, a);
	pthread_mutex_lock(&rs->rs_lock);
	memcpy(sha, rs->rs_sha, sizeof(sha));
	pthread_mutex_unlock(&rs->rs_lock);
	arg(ra, sha[0] != '\0' ? "EVALSHA" : "EVAL");
	arg(ra, sha[0] != '\0' ? sha : hit_lua);
	snprintf(ra->nkeys, sizeof(ra->nkeys), "%zu", n);
	arg(ra, ra->nkeys);
	for (i = 0; i < n; i++) {
		if (!rm_limit_redis_key(q[i].q_limit, q[i].q_key, ra->keys[i],
		                        sizeof(ra->keys[i])))
			goto out;
		arg(ra, ra->keys[i]);
	}
	for (i = 0; i < n; i++) {
		unsigned long v[RS_QARGS] = {q[i].q_per,
		                             q[i].q_lock,
		                             q[i].q_max[RM_WC_MSGS],
		                             q[i].q_max[RM_WC_RCPTS],
		                             q[i].q_add[RM_WC_MSGS],
		                             q[i].q_add[RM_WC_RCPTS]};

		for (int j = 0; j < RS_QARGS; j++, k++) {
			snprintf(ra->nums[k], sizeof(ra->nums[k]), "%lu", v[j]);
			arg(ra, ra->nums[k]);
		}
	}
	arg(ra, n > 0 && q[0].q_monitor ? "1" : "0");
	r = command(rs, ra->argc, ra->argv, ra->lens, hit_lua);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->elements > n)
		goto out;
	for (got = 0; got < r->elements; got++)
		if (!answer(r->element[got], &a[got]))
			break;
	if (got < r->elements)
		got = 0;
out:
	if (r != NULL && got == 0)
		rm_log(RM_LOG_ERR, "limits: Redis at %s: unexpected answer",
		       rs->rs_where);
	freeReplyObject(r);
	free(ra);
	return got > 0 ? got : without(rs, q, n, now, a);
}

static int
rs_hit(struct rm_limit_store *st, const struct rm_limit_q *q, uint64_t now,
       struct rm_limit_ans *a)
{
	rs_hits(st, q, 1, now, a);
	return a->a_res == RM_LIM_ERROR ? -1 : 0;
}

static void
rs_unhit(struct rm_limit_store *st, const struct rm_limit_q *q, uint64_t now)
{
	struct rs_store *rs = (struct rs_store *)st;
	char key[RM_LIMIT_RKEY_MAX], nm[2][24];
	const char *argv[6] = {"EVAL", unhit_lua, "1", key, "0", nm[0]};
	size_t lens[7];
	const char *all[7];
	redisReply *r;
	int i;

	if (!rm_limit_redis_key(q->q_limit, q->q_key, key, sizeof(key)))
		return;
	snprintf(nm[0], sizeof(nm[0]), "%u", q->q_add[RM_WC_MSGS]);
	snprintf(nm[1], sizeof(nm[1]), "%u", q->q_add[RM_WC_RCPTS]);
	for (i = 0; i < 6; i++)
		all[i] = argv[i];
	all[6] = nm[1];
	for (i = 0; i < 7; i++)
		lens[i] = strlen(all[i]);
	if ((r = command(rs, 7, all, lens, NULL)) != NULL)
		freeReplyObject(r);
	else
		rs->rs_local->ls_unhit(rs->rs_local, q, now);
}

/* pattern - the SCAN pattern of (limit, key); either may be NULL: all */
static bool
pattern(const char *limit, const char *key, char *buf, size_t len)
{
	if (key == NULL)
		return (size_t)snprintf(buf, len, "rm:l:%s:*",
		                        limit ? limit : "*") < len;
	return rm_limit_redis_key(limit ? limit : "*", key, buf, len);
}

/* script - EVAL script 0 arg: the reply, or NULL */
static redisReply *
script(struct rs_store *rs, const char *lua, const char *arg1)
{
	const char *argv[4] = {"EVAL", lua, "0", arg1};
	size_t lens[4];
	int i;

	for (i = 0; i < 4; i++)
		lens[i] = strlen(argv[i]);
	return command(rs, 4, argv, lens, NULL);
}

static size_t
rs_lift(struct rm_limit_store *st, const char *limit, const char *key)
{
	struct rs_store *rs = (struct rs_store *)st;
	char pat[RM_LIMIT_RKEY_MAX];
	size_t n = rs->rs_local->ls_lift(rs->rs_local, limit, key);
	redisReply *r;

	if (!pattern(limit, key, pat, sizeof(pat)) ||
	    (r = script(rs, lift_lua, pat)) == NULL)
		return n;
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		n += (size_t)r->integer;
	freeReplyObject(r);
	return n;
}

/* row - one element of list_lua's reply to fn; false when malformed */
static bool
row(const redisReply *e, rm_limit_row_fn *fn, void *arg)
{
	char limit[128], key[RM_LIMIT_KEY_MAX];
	struct rm_limit_row lr;
	size_t i;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 5 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    !rm_limit_redis_unkey(e->element[0]->str, limit, sizeof(limit), key,
	                          sizeof(key)))
		return false;
	for (i = 1; i < 5; i++)
		if (e->element[i]->type != REDIS_REPLY_INTEGER ||
		    e->element[i]->integer < 0)
			return false;
	memset(&lr, 0, sizeof(lr));
	lr.lr_limit = limit;
	lr.lr_key = key;
	lr.lr_per = (unsigned)e->element[1]->integer;
	lr.lr_count[RM_WC_MSGS] = (unsigned long)e->element[2]->integer;
	lr.lr_count[RM_WC_RCPTS] = (unsigned long)e->element[3]->integer;
	lr.lr_lock_left = (uint64_t)e->element[4]->integer;
	if (fn != NULL)
		fn(arg, &lr);
	return true;
}

/* ls_list: Redis's keys; while Redis is down, what was counted here */
static size_t
rs_list(struct rm_limit_store *st, const char *key, uint64_t now,
        rm_limit_row_fn *fn, void *arg)
{
	struct rs_store *rs = (struct rs_store *)st;
	char pat[RM_LIMIT_RKEY_MAX];
	redisReply *r;
	size_t i, n = 0;

	if (!pattern(NULL, key, pat, sizeof(pat)))
		return 0;
	if ((r = script(rs, list_lua, pat)) == NULL)
		return rs->rs_local->ls_list(rs->rs_local, key, now, fn, arg);
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		n += row(r->element[i], fn, arg);
	freeReplyObject(r);
	return n;
}

static void
rs_free(struct rm_limit_store *st)
{
	struct rs_store *rs = (struct rs_store *)st;

	if (rs == NULL)
		return;
	pool_drain(rs);
	rs->rs_local->ls_free(rs->rs_local);
	pthread_mutex_destroy(&rs->rs_lock);
	free(rs);
}

struct rm_limit_store *
rm_limits_redis_new(const struct rm_redis_conf *rc)
{
	struct rs_store *rs;
	const struct rm_store_addr *a = &rc->rc_addr;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	if ((rs->rs_local = rm_limits_memory_new(RM_LIMIT_ENTRIES)) == NULL) {
		free(rs);
		return NULL;
	}
	rs->rs_port.ls_hit = rs_hit;
	rs->rs_port.ls_unhit = rs_unhit;
	rs->rs_port.ls_lift = rs_lift;
	rs->rs_port.ls_list = rs_list;
	rs->rs_port.ls_free = rs_free;
	rs->rs_port.ls_hits = rs_hits;
	rs->rs_conf = *rc;
	if (rs->rs_conf.rc_timeout_ms == 0)
		rs->rs_conf.rc_timeout_ms = RS_TIMEOUT_MS;
	if (a->sa_path[0] != '\0')
		snprintf(rs->rs_where, sizeof(rs->rs_where), "%s", a->sa_path);
	else
		snprintf(rs->rs_where, sizeof(rs->rs_where),
		         strchr(a->sa_host, ':') ? "[%.200s]:%u" : "%.200s:%u",
		         a->sa_host, a->sa_port);
	pthread_mutex_init(&rs->rs_lock, NULL);
	atomic_init(&rs->rs_retry, 0);
	atomic_init(&rs->rs_down, false);
	/* a write to a connection Redis closed must fail, not kill us */
	signal(SIGPIPE, SIG_IGN);
	return &rs->rs_port;
}

/* ---- the relay grants in Redis (grants.h) ------------------------------
 *
 * A grant is a string "rm:g:ADDRESS" = "EXPIRES SOURCE LOGIN"
 * (rm_grant_encode), set with the grant's TTL by put_lua on Redis's clock,
 * so that it is gone everywhere when it expires.  The grants share the
 * limits' connections and breaker: while Redis does not answer, a grant
 * is made in this daemon's memory (rg_local) and a lookup reads it there
 * (store_down = "tempfail": a lookup is an error, the relay tempfails).  A
 * lookup Redis answers "none" also reads rg_local, which holds what was
 * granted during an outage.
 */

/* put_lua - KEYS[1] the key, ARGV[1] the ttl, ARGV[2] "SOURCE LOGIN" */
static const char put_lua[] =
    "local now = tonumber(redis.call('TIME')[1])\n"
    "local exp = now + tonumber(ARGV[1])\n"
    "redis.call('SET', KEYS[1], exp .. ' ' .. ARGV[2], 'EX', ARGV[1])\n"
    "return exp\n";

/* grants_lua - every grant: {key, value} pairs */
static const char grants_lua[] =
    "local out, cur = {}, '0'\n"
    "repeat\n"
    "  local r = redis.call('SCAN', cur, 'MATCH', 'rm:g:*', 'COUNT', 1000)\n"
    "  cur = r[1]\n"
    "  for _, k in ipairs(r[2]) do\n"
    "    local v = redis.call('GET', k)\n"
    "    if v then out[#out + 1] = { k, v } end\n"
    "  end\n"
    "until cur == '0'\n"
    "return out\n";

struct rg_store {
	struct rm_grant_store rg_port; /* first: the port is the store */
	struct rs_store *rg_rs;        /* the limits' store: connections */
	struct rm_grant_store *rg_local;
};

/* grant_key - "rm:g:ADDRESS" */
static void
grant_key(const struct rm_ip *a, char *buf, size_t len)
{
	char ip[64];

	snprintf(buf, len, "rm:g:%s", rm_ip_format(a, ip, sizeof(ip)));
}

/* grant_cmd - argv to Redis: the reply, or NULL (down: logged) */
static redisReply *
grant_cmd(struct rg_store *rg, int argc, const char **argv)
{
	size_t lens[6];
	int i;

	for (i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return command(rg->rg_rs, argc, argv, lens, NULL);
}

static int
rg_put(struct rm_grant_store *st, const struct rm_ip *a,
       const struct rm_grant *g, unsigned ttl, uint64_t now, uint64_t *exp)
{
	struct rg_store *rg = (struct rg_store *)st;
	char key[80], sttl[16], val[RM_GRANT_LOGIN_MAX + RM_GRANT_SOURCE_MAX];
	const char *argv[6] = {"EVAL", put_lua, "1", key, sttl, val};
	redisReply *r;

	grant_key(a, key, sizeof(key));
	snprintf(sttl, sizeof(sttl), "%u", ttl);
	snprintf(val, sizeof(val), "%s %s", g->g_source, g->g_login);
	if ((r = grant_cmd(rg, 6, argv)) == NULL) {
		rm_log(RM_LOG_WARNING,
		       "grants: Redis does not answer: the grant of %s is "
		       "kept in this daemon's memory only",
		       key + 5);
		return rg->rg_local->gs_put(rg->rg_local, a, g, ttl, now, exp);
	}
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		*exp = (uint64_t)r->integer;
	freeReplyObject(r);
	/* the newer grant wins over one made during an outage */
	rg->rg_local->gs_del(rg->rg_local, a);
	return 0;
}

static void
rg_get(struct rm_grant_store *st, const struct rm_ip *a, uint64_t now,
       struct rm_grant *out)
{
	struct rg_store *rg = (struct rg_store *)st;
	char key[80];
	const char *argv[2] = {"GET", key};
	redisReply *r;

	grant_key(a, key, sizeof(key));
	if ((r = grant_cmd(rg, 2, argv)) == NULL &&
	    rg->rg_rs->rs_conf.rc_down == RM_STORE_DOWN_TEMPFAIL) {
		memset(out, 0, sizeof(*out));
		out->g_state = RM_LOOKUP_ERROR;
		return;
	}
	if (r != NULL && r->type == REDIS_REPLY_STRING &&
	    rm_grant_decode(r->str, out) == 0) {
		freeReplyObject(r);
		return;
	}
	if (r != NULL)
		freeReplyObject(r);
	rg->rg_local->gs_get(rg->rg_local, a, now, out);
}

static int
rg_del(struct rm_grant_store *st, const struct rm_ip *a)
{
	struct rg_store *rg = (struct rg_store *)st;
	char key[80];
	const char *argv[2] = {"DEL", key};
	redisReply *r;
	int n = rg->rg_local->gs_del(rg->rg_local, a);

	grant_key(a, key, sizeof(key));
	if ((r = grant_cmd(rg, 2, argv)) == NULL)
		return n > 0 ? n : -1;
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		n = 1;
	freeReplyObject(r);
	return n;
}

static size_t
rg_list(struct rm_grant_store *st, const struct rm_ip *only, uint64_t now,
        rm_grant_row_fn *fn, void *arg)
{
	struct rg_store *rg = (struct rg_store *)st;
	const char *argv[3] = {"EVAL", grants_lua, "0"};
	const redisReply *e;
	struct rm_grant g;
	struct rm_ip ip;
	redisReply *r;
	size_t i, n = rg->rg_local->gs_list(rg->rg_local, only, now, fn, arg);

	if ((r = grant_cmd(rg, 3, argv)) == NULL)
		return n;
	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
		e = r->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    e->element[1]->type != REDIS_REPLY_STRING ||
		    strncmp(e->element[0]->str, "rm:g:", 5) != 0 ||
		    rm_ip_parse(e->element[0]->str + 5, &ip) != 0 ||
		    rm_grant_decode(e->element[1]->str, &g) != 0 ||
		    (only != NULL && memcmp(only, &ip, sizeof(ip)) != 0))
			continue;
		fn(arg, &ip, &g);
		n++;
	}
	freeReplyObject(r);
	return n;
}

static void
rg_free(struct rm_grant_store *st)
{
	struct rg_store *rg = (struct rg_store *)st;

	rg->rg_local->gs_free(rg->rg_local);
	free(rg);
}

struct rm_grant_store *
rm_grants_redis_new(struct rm_limit_store *limits)
{
	static const struct rm_grant_store ops = {rg_put, rg_get, rg_del,
	                                          rg_list, rg_free};
	struct rg_store *rg;

	if ((rg = calloc(1, sizeof(*rg))) == NULL)
		return NULL;
	if ((rg->rg_local = rm_grants_memory_new(RM_GRANT_ENTRIES)) == NULL) {
		free(rg);
		return NULL;
	}
	rg->rg_rs = (struct rs_store *)limits;
	rg->rg_port = ops;
	return &rg->rg_port;
}
