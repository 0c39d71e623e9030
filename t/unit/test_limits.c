/*
 * test_limits.c - limits: the sliding-window arithmetic (time injected),
 * the memory store (counting, locks, lifting, eviction, threads), and the
 * admission of recipients through the engine's verdict (keys, messages
 * once per transaction, nothing counted for a refused recipient, monitor).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/conf.h"
#include "relaymilter/limits.h"
#include "relaymilter/policy.h"

static const unsigned one_rcpt[RM_WC__COUNT] = {0, 1};

/* est - the sliding count of recipients, rounded down */
static unsigned long
est(struct rm_window *w, unsigned per, uint64_t now)
{
	return (unsigned long)(rm_window_estimate(w, per, now, RM_WC_RCPTS) /
	                       per);
}

static void
test_window(void)
{
	const unsigned long max[RM_WC__COUNT] = {0, 10};
	const int ten[RM_WC__COUNT] = {0, 10};
	struct rm_window w;

	memset(&w, 0, sizeof(w));
	/* per 100 s; the current window is [1000, 1100) */
	rm_window_add(&w, 100, 1000, ten);
	CHECK(w.w_start == 1000 && w.w_cur[1] == 10, "counted at 1000");
	CHECK(est(&w, 100, 1099) == 10, "the last second of the window");
	CHECK(!rm_window_admits(&w, 100, 1050, one_rcpt, max), "full");
	/* the next window: the previous count weighs what still overlaps */
	CHECK(est(&w, 100, 1100) == 10, "edge: all of the previous window");
	CHECK(est(&w, 100, 1125) == 7, "a quarter on: 3/4 of 10 = 7.5");
	CHECK(est(&w, 100, 1150) == 5, "half way: 5");
	CHECK(rm_window_admits(&w, 100, 1150, one_rcpt, max),
	      "half way: room for 5");
	CHECK(est(&w, 100, 1199) == 0, "last second: 1/100 of 10");
	CHECK(rm_window_estimate(&w, 100, 1199, RM_WC_RCPTS) == 10,
	      "scaled: exactly 0.1 * per");
	CHECK(est(&w, 100, 1200) == 0, "two windows on: nothing");
	/* a long idle: both windows emptied */
	memset(&w, 0, sizeof(w));
	rm_window_add(&w, 100, 1000, ten);
	rm_window_roll(&w, 100, 5000);
	CHECK(w.w_start == 5000 && w.w_prev[1] == 0 && w.w_cur[1] == 0,
	      "rolled over a long idle");
	CHECK(rm_window_idle(&w, 100, 5000), "idle");
	/* a clock that goes back counts in the current window */
	rm_window_add(&w, 100, 5010, ten);
	rm_window_add(&w, 100, 4000, ten);
	CHECK(w.w_start == 5000 && w.w_cur[1] == 20,
	      "back in time: the current window");
	CHECK(est(&w, 100, 4000) == 20, "no underflow");
	/* taking back never goes below 0 */
	{
		const int back[RM_WC__COUNT] = {-5, -50};

		rm_window_add(&w, 100, 5020, back);
		CHECK(w.w_cur[0] == 0 && w.w_cur[1] == 0, "saturates at 0");
	}
	/* the limit's window changes (a reload): the estimate is kept */
	memset(&w, 0, sizeof(w));
	rm_window_add(&w, 100, 1000, ten);
	rm_window_reper(&w, 100, 3600, 1150);
	CHECK(w.w_start == 0 && w.w_cur[1] == 5 && w.w_prev[1] == 0,
	      "re-per: 5 in an hour window (start %llu cur %u)",
	      (unsigned long long)w.w_start, w.w_cur[1]);
	/* per 1 s: every second a window */
	memset(&w, 0, sizeof(w));
	rm_window_add(&w, 1, 7, ten);
	CHECK(est(&w, 1, 8) == 10 && est(&w, 1, 9) == 0, "per 1s");
}

/* q_of - a question of limit "l" for key k: max recipients, lock */
static struct rm_limit_q
q_of(const char *k, unsigned long max, unsigned lock)
{
	struct rm_limit_q q;

	memset(&q, 0, sizeof(q));
	q.q_limit = "l";
	q.q_key = k;
	q.q_per = 3600;
	q.q_lock = lock;
	q.q_max[RM_WC_RCPTS] = max;
	q.q_add[RM_WC_RCPTS] = 1;
	return q;
}

static void
row_count(void *arg, const struct rm_limit_row *r)
{
	(void)r;
	(*(int *)arg)++;
}

static void
test_store(void)
{
	struct rm_limit_store *st = rm_limits_memory_new(100);
	struct rm_limit_q q = q_of("alice", 3, 600), b = q_of("bob", 3, 0);
	struct rm_limit_ans a;
	int i, rows = 0;

	for (i = 0; i < 3; i++) {
		memset(&a, 0, sizeof(a));
		CHECK(st->ls_hit(st, &q, 1000, &a) == 0 &&
		          a.a_res == RM_LIM_ADMIT,
		      "alice %d admitted", i + 1);
	}
	CHECK(a.a_count[RM_WC_RCPTS] == 3, "count 3");
	memset(&a, 0, sizeof(a));
	st->ls_hit(st, &q, 1001, &a);
	CHECK(a.a_res == RM_LIM_OVER && a.a_tripped && a.a_locked_now &&
	          a.a_lock_left == 600,
	      "the 4th trips and locks");
	memset(&a, 0, sizeof(a));
	st->ls_hit(st, &b, 1001, &a);
	CHECK(a.a_res == RM_LIM_ADMIT, "another key is unaffected");
	memset(&a, 0, sizeof(a));
	st->ls_hit(st, &q, 1500, &a);
	CHECK(a.a_res == RM_LIM_LOCKED && a.a_lock_left == 101, "locked");
	/* the lock expires; the window still holds the 3 (sliding) */
	memset(&a, 0, sizeof(a));
	st->ls_hit(st, &q, 1601, &a);
	CHECK(a.a_res == RM_LIM_OVER && !a.a_tripped,
	      "lock expired, still over: refused again, no new trip");
	CHECK(st->ls_list(st, "alice", 1601, row_count, &rows) == 1 &&
	          rows == 1,
	      "list: one row for alice");
	CHECK(st->ls_lift(st, "l", "alice") == 1, "lifted");
	memset(&a, 0, sizeof(a));
	st->ls_hit(st, &q, 1602, &a);
	CHECK(a.a_res == RM_LIM_ADMIT && a.a_count[RM_WC_RCPTS] == 1,
	      "after the lift: admitted, counting from 0");
	st->ls_unhit(st, &q, 1602);
	rows = 0;
	st->ls_list(st, NULL, 1602, row_count, &rows);
	CHECK(rows == 2, "alice and bob listed (%d)", rows);
	/* idle entries go */
	CHECK(st->ls_list(st, NULL, 1000 + 3 * 3600, NULL, NULL) > 0 &&
	          st->ls_list(st, NULL, 1000 + 3 * 3600, NULL, NULL) == 0,
	      "idle entries dropped when met");
	/* monitored: counted when over, never locked */
	q.q_monitor = true;
	for (i = 0; i < 5; i++) {
		memset(&a, 0, sizeof(a));
		st->ls_hit(st, &q, 20000, &a);
	}
	CHECK(a.a_res == RM_LIM_OVER && !a.a_locked_now &&
	          a.a_count[RM_WC_RCPTS] == 5,
	      "monitored: over, counted, not locked");
	st->ls_free(st);
}

static void
test_budget(void)
{
	struct rm_limit_store *st = rm_limits_memory_new(64);
	struct rm_limit_q q;
	struct rm_limit_ans a;
	char k[32];
	size_t n;
	int i, err = 0;

	for (i = 0; i < 5000; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		q = q_of(k, 100, 0);
		if (st->ls_hit(st, &q, 100, &a) != 0)
			err++;
	}
	n = st->ls_list(st, NULL, 100, NULL, NULL);
	CHECK(err == 0 && n <= 64 + 64 / 8 + 64, "bounded: %zu entries", n);
	/* locked entries are kept when the store is full */
	st->ls_free(st);
	st = rm_limits_memory_new(4);
	for (i = 0; i < 4; i++) {
		snprintf(k, sizeof(k), "locked%d", i);
		q = q_of(k, 1, 3600);
		st->ls_hit(st, &q, 100, &a);
		st->ls_hit(st, &q, 100, &a); /* trips, locks */
	}
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "new%d", i);
		q = q_of(k, 1, 0);
		st->ls_hit(st, &q, 101, &a);
	}
	q = q_of("locked2", 1, 3600);
	memset(&a, 0, sizeof(a));
	CHECK(st->ls_hit(st, &q, 102, &a) == 0 && a.a_res == RM_LIM_LOCKED,
	      "a lock survives a full store");
	st->ls_free(st);
}

static struct rm_limit_store *thr_st;

static void *
thr_main(void *arg)
{
	struct rm_limit_q q = q_of("shared", 1000000, 0);
	struct rm_limit_ans a;
	char k[32];
	int i;

	for (i = 0; i < 20000; i++) {
		thr_st->ls_hit(thr_st, &q, 500, &a);
		snprintf(k, sizeof(k), "t%d-%d", *(int *)arg, i % 300);
		{
			struct rm_limit_q p = q_of(k, 5, 60);

			thr_st->ls_hit(thr_st, &p, 500 + (unsigned)i / 1000,
			               &a);
		}
		if (i % 5000 == 0)
			thr_st->ls_list(thr_st, NULL, 500, NULL, NULL);
	}
	return NULL;
}

static void
test_threads(void)
{
	static int ids[4] = {0, 1, 2, 3};
	pthread_t t[4];
	struct rm_limit_q q = q_of("shared", 1000000, 0);
	struct rm_limit_ans a;
	int i;

	thr_st = rm_limits_memory_new(100000);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thr_main, &ids[i]);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	memset(&a, 0, sizeof(a));
	thr_st->ls_hit(thr_st, &q, 500, &a);
	CHECK(a.a_count[RM_WC_RCPTS] == 80001, "no count lost: %lu",
	      a.a_count[RM_WC_RCPTS]);
	thr_st->ls_free(thr_st);
}

static const char conf[] =
    "local_domains = [ \"example.com\" ];\n"
    "trusted_networks = [ \"192.0.2.0/24\" ];\n"
    "limits = (\n"
    "  { name = \"lm\"; key = \"login\"; messages = 2; recipients = 3;\n"
    "    per = \"1h\"; },\n"
    "  { name = \"cl\"; key = \"client\"; recipients = 5; per = \"1h\";\n"
    "    ipv6_prefix = 48; }\n"
    ");\n"
    "listeners = { audit = { checks = { limits = \"monitor\"; }; }; };\n";

/* rcpt - one recipient through the engine and the limits */
/*
 * rcpt - one recipient through the engine and the limits into *v (filled
 * in place: v_reply may point into the verdict itself, so a verdict is
 * never copied)
 */
static struct rm_verdict *
rcpt(struct rm_verdict *v, struct rm_limit_store *st,
     const struct rm_ruleset *rs, struct rm_facts *f, struct rm_limit_txn *tx,
     const char *to, struct rm_limit_report *rep)
{
	f->f_rcpt = to;
	rm_policy_rcpt(rs, f, v, NULL);
	rm_limits_admit(st, rs, f, tx, 1000, v, rep);
	return v;
}

static void
test_admit(void)
{
	struct rm_limit_store *st = rm_limits_memory_new(100);
	struct rm_limit_report rep;
	struct rm_limit_txn tx = {0};
	struct rm_ruleset *rs;
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;
	char err[512], key[RM_LIMIT_KEY_MAX];

	rs = rm_conf_load_string(conf, "t.conf", err, sizeof(err));
	CHECK(rs != NULL, "%s", err);
	if (rs == NULL)
		return;
	memset(&f, 0, sizeof(f));
	rm_ip_parse("2001:db8:1:2::7", &ip);
	f.f_client_ip = &ip;
	f.f_auth = "Alice";
	f.f_sender = "<alice@example.com>";
	/* keys */
	CHECK(rm_limit_key(&rs->rs_limits[0], &f, key, sizeof(key)) &&
	          strcmp(key, "alice") == 0,
	      "login key lower-cased: %s", key);
	CHECK(rm_limit_key(&rs->rs_limits[1], &f, key, sizeof(key)) &&
	          strcmp(key, "2001:db8:1::/48") == 0,
	      "IPv6 client by its /48: %s", key);
	/* one message: 3 relayed recipients, the 4th refused */
	rcpt(&v, st, rs, &f, &tx, "<a@remote.test>", &rep);
	CHECK(v.v_action == RM_CONTINUE && rep.lr_n == 0, "1st");
	rcpt(&v, st, rs, &f, &tx, "<u@example.com>", &rep);
	CHECK(v.v_action == RM_CONTINUE && v.v_limits == 0,
	      "a local recipient: no relay limit counts it");
	rcpt(&v, st, rs, &f, &tx, "<b@remote.test>", &rep);
	rcpt(&v, st, rs, &f, &tx, "<c@remote.test>", &rep);
	CHECK(v.v_action == RM_CONTINUE, "3rd");
	rcpt(&v, st, rs, &f, &tx, "<d@remote.test>", &rep);
	CHECK(v.v_action == RM_TEMPFAIL && strcmp(v.v_rule, "limit[lm]") == 0 &&
	          strcmp(v.v_reply->r_code, "451") == 0 &&
	          strcmp(v.v_reply->r_xcode, "4.7.1") == 0,
	      "the 4th: 451 4.7.1 by limit[lm] (%s)", v.v_rule);
	CHECK(rep.lr_refused == 0 && rep.lr_ev[0].le_tripped &&
	          strcmp(rep.lr_ev[0].le_key, "alice") == 0,
	      "reported: tripped, key alice");
	/* the client limit did not count the refused one: 3 of 5 */
	f.f_auth = "bob";
	memset(&tx, 0, sizeof(tx));
	rcpt(&v, st, rs, &f, &tx, "<e@remote.test>", &rep);
	rcpt(&v, st, rs, &f, &tx, "<f@remote.test>", &rep);
	CHECK(v.v_action == RM_CONTINUE, "bob: the client has room for 2");
	rcpt(&v, st, rs, &f, &tx, "<g@remote.test>", &rep);
	CHECK(v.v_action == RM_TEMPFAIL && strcmp(v.v_rule, "limit[cl]") == 0,
	      "then the client limit refuses");
	/* messages: bob's limit counted 1 message for 2 recipients, and
	   nothing of the refused one: 2 messages fit */
	rm_ip_parse("192.0.2.1", &ip);
	memset(&tx, 0, sizeof(tx));
	rcpt(&v, st, rs, &f, &tx, "<h@remote.test>", &rep);
	CHECK(v.v_action == RM_CONTINUE, "bob, message 2");
	memset(&tx, 0, sizeof(tx));
	rcpt(&v, st, rs, &f, &tx, "<i@remote.test>", &rep);
	CHECK(v.v_action == RM_TEMPFAIL && strcmp(v.v_rule, "limit[lm]") == 0,
	      "bob, message 3: over 2 messages (%s)", v.v_rule);
	/* monitored: continue, would= */
	f.f_listener = "audit";
	memset(&tx, 0, sizeof(tx));
	rcpt(&v, st, rs, &f, &tx, "<j@remote.test>", &rep);
	CHECK(v.v_action == RM_CONTINUE && v.v_would_rule != NULL &&
	          strcmp(v.v_would_rule, "limit[lm]") == 0 &&
	          v.v_would_check == RM_CK_LIMITS,
	      "monitored: continue, would limit[lm]");
	rm_ruleset_release(rs);
	st->ls_free(st);
}

/* the Redis store's names: its address and its keys, pure */
static void
test_redis_names(void)
{
	static const char *const bad[] = {"redis://",
	                                  "redis://:6379",
	                                  "redis://h:0",
	                                  "redis://h:65536",
	                                  "redis://h:x/0",
	                                  "redis://h/db",
	                                  "redis://[::1",
	                                  "redis+unix://rel",
	                                  "redis+unix:///s?x=1",
	                                  "redis+unix:///s?db=",
	                                  "mysql://h",
	                                  "Memory"};
	struct rm_store_addr a;
	char err[160], buf[RM_LIMIT_RKEY_MAX], lim[80], key[RM_LIMIT_KEY_MAX];
	char all[RM_LIMIT_KEY_MAX];
	size_t i;

	CHECK(rm_store_parse("memory", &a, err, sizeof(err)) == 0 &&
	          !a.sa_redis,
	      "memory");
	CHECK(rm_store_parse("redis://127.0.0.1:6380/2", &a, err,
	                     sizeof(err)) == 0 &&
	          a.sa_redis && strcmp(a.sa_host, "127.0.0.1") == 0 &&
	          a.sa_port == 6380 && a.sa_db == 2 && a.sa_path[0] == '\0',
	      "redis://HOST:PORT/DB");
	CHECK(rm_store_parse("redis://db.example", &a, err, sizeof(err)) == 0 &&
	          a.sa_port == 6379 && a.sa_db == 0,
	      "redis://HOST: port 6379, db 0");
	CHECK(rm_store_parse("redis://[::1]:7000/", &a, err, sizeof(err)) ==
	              0 &&
	          strcmp(a.sa_host, "::1") == 0 && a.sa_port == 7000,
	      "redis://[IPv6]:PORT/");
	CHECK(rm_store_parse("redis+unix:///run/redis/redis.sock?db=3", &a, err,
	                     sizeof(err)) == 0 &&
	          strcmp(a.sa_path, "/run/redis/redis.sock") == 0 &&
	          a.sa_db == 3,
	      "redis+unix:///PATH?db=N");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(rm_store_parse(bad[i], &a, err, sizeof(err)) == -1 &&
		          err[0] != '\0',
		      "bad: %s", bad[i]);

	CHECK(rm_limit_redis_key("hourly", "alice@example.com", buf,
	                         sizeof(buf)) &&
	          strcmp(buf, "rm:l:hourly:alice@example.com") == 0,
	      "a plain key stays");
	CHECK(rm_limit_redis_key("v6", "2001:db8::/64", buf, sizeof(buf)) &&
	          strcmp(buf, "rm:l:v6:2001%3Adb8%3A%3A/64") == 0,
	      "':' escaped");
	CHECK(
	    rm_limit_redis_key("l", "a*b?[c]\\ %\x01\xff", buf, sizeof(buf)) &&
	        strcmp(buf, "rm:l:l:a%2Ab%3F%5Bc%5D%5C%20%25%01%FF") == 0,
	    "glob, space, %%, control and 8-bit bytes escaped");
	/* every byte there and back */
	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	CHECK(
	    rm_limit_redis_key("x", all, buf, sizeof(buf)) &&
	        rm_limit_redis_unkey(buf, lim, sizeof(lim), key, sizeof(key)) &&
	        strcmp(lim, "x") == 0 && strcmp(key, all) == 0,
	    "every byte: escaped and back");
	CHECK(!rm_limit_redis_unkey("rm:l:x:a%00", lim, sizeof(lim), key,
	                            sizeof(key)) &&
	          !rm_limit_redis_unkey("other:x:a", lim, sizeof(lim), key,
	                                sizeof(key)) &&
	          !rm_limit_redis_unkey("rm:l:x:%G1", lim, sizeof(lim), key,
	                                sizeof(key)),
	      "a key not ours is refused");
	CHECK(!rm_limit_redis_key("x", all, buf, 64), "too long: false");
}

int
main(void)
{
	test_window();
	test_store();
	test_budget();
	test_threads();
	test_admit();
	test_redis_names();
	return check_done();
}
