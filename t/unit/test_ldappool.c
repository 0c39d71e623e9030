/*
 * test_ldappool.c - the connection pool with pretend handles: reuse, the
 * cap, waiting until a deadline, a failed handle closed, fresh handles,
 * idle ones aged out, the last reference closing, and many threads never
 * holding one handle at once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "relaymilter/ldappool.h"

/* A pretend connection: who holds it now (0: nobody). */
struct conn {
	atomic_int holders;
};

static atomic_int opened, closed, fail_open;

static void *
open_conn(void *arg, char *err, size_t errlen)
{
	(void)arg;
	if (atomic_load(&fail_open)) {
		snprintf(err, errlen, "server down");
		return NULL;
	}
	atomic_fetch_add(&opened, 1);
	return calloc(1, sizeof(struct conn));
}

static void
close_conn(void *h)
{
	atomic_fetch_add(&closed, 1);
	free(h);
}

/* in_ms - the monotonic clock ms from now */
static struct timespec
in_ms(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static void
reset(void)
{
	atomic_store(&opened, 0);
	atomic_store(&closed, 0);
	atomic_store(&fail_open, 0);
}

static void
test_reuse_and_cap(void)
{
	struct rm_ldap_pool_stats st;
	struct rm_ldap_pool *p;
	struct timespec at;
	void *a, *b, *c;
	char err[200];
	bool reused;

	reset();
	memset(&st, 0, sizeof(st));
	p = rm_ldap_pool_new(2, 60, close_conn, &st);
	CHECK(p != NULL, "new");
	at = in_ms(1000);
	a = rm_ldap_pool_get(p, &at, false, open_conn, NULL, &reused, err,
	                     sizeof(err));
	CHECK(a != NULL && !reused, "the first get opens");
	rm_ldap_pool_put(p, a, true);
	b = rm_ldap_pool_get(p, &at, false, open_conn, NULL, &reused, err,
	                     sizeof(err));
	CHECK(b == a && reused, "the next one reuses it");
	c = rm_ldap_pool_get(p, &at, false, open_conn, NULL, &reused, err,
	                     sizeof(err));
	CHECK(c != NULL && c != b && !reused, "a second while one is busy");
	CHECK(rm_ldap_pool_open(p) == 2, "two open");
	at = in_ms(100);
	CHECK(rm_ldap_pool_get(p, &at, false, open_conn, NULL, &reused, err,
	                       sizeof(err)) == NULL,
	      "at the cap: waits, then gives up at the deadline");
	CHECK(strstr(err, "deadline passed") != NULL, "err: %s", err);
	rm_ldap_pool_put(p, c, false);
	CHECK(atomic_load(&closed) == 1 && rm_ldap_pool_open(p) == 1,
	      "a failed one is closed, its slot freed");
	at = in_ms(1000);
	c = rm_ldap_pool_get(p, &at, false, open_conn, NULL, &reused, err,
	                     sizeof(err));
	CHECK(c != NULL && !reused, "the freed slot opens a new one");
	rm_ldap_pool_put(p, c, true);
	rm_ldap_pool_put(p, b, true);
	CHECK(atomic_load(&st.ps_opened) == 3 &&
	          atomic_load(&st.ps_reused) == 1,
	      "stats %lu opened, %lu reused", atomic_load(&st.ps_opened),
	      atomic_load(&st.ps_reused));
	/* fresh at the cap: an idle one is closed to make room */
	c = rm_ldap_pool_get(p, &at, true, open_conn, NULL, &reused, err,
	                     sizeof(err));
	CHECK(c != NULL && !reused && atomic_load(&closed) == 2,
	      "fresh: a new handle");
	rm_ldap_pool_put(p, c, true);
	atomic_store(&fail_open, 1);
	c = rm_ldap_pool_get(p, &at, true, open_conn, NULL, &reused, err,
	                     sizeof(err));
	CHECK(c == NULL && strcmp(err, "server down") == 0,
	      "an open that fails says why");
	CHECK(rm_ldap_pool_open(p) == 1, "and frees its slot");
	rm_ldap_pool_free(p);
	CHECK(atomic_load(&closed) == atomic_load(&opened),
	      "the last reference closes the idle ones (%d of %d)",
	      atomic_load(&closed), atomic_load(&opened));
}

static void
test_aged(void)
{
	struct rm_ldap_pool *p;
	struct timespec at = in_ms(1000);
	char err[200];
	bool reused;
	void *a;

	reset();
	/* idle_max -1: every idle handle is too old */
	p = rm_ldap_pool_new(2, -1, close_conn, NULL);
	a = rm_ldap_pool_get(p, &at, false, open_conn, NULL, &reused, err,
	                     sizeof(err));
	rm_ldap_pool_put(p, a, true);
	a = rm_ldap_pool_get(p, &at, false, open_conn, NULL, &reused, err,
	                     sizeof(err));
	CHECK(a != NULL && !reused && atomic_load(&closed) == 1,
	      "an aged idle handle is closed, a new one opened");
	rm_ldap_pool_put(p, a, true);
	rm_ldap_pool_hold(p);
	rm_ldap_pool_free(p);
	CHECK(atomic_load(&closed) == 1, "a held pool stays");
	rm_ldap_pool_free(p);
	CHECK(atomic_load(&closed) == 2, "the last free closes");
}

#define THREADS 8
#define ROUNDS  2000

static void *
worker(void *arg)
{
	struct rm_ldap_pool *p = arg;
	struct timespec at;
	struct conn *c;
	char err[200];
	bool reused;
	int i, bad = 0;

	for (i = 0; i < ROUNDS; i++) {
		at = in_ms(10000);
		if ((c = rm_ldap_pool_get(p, &at, i % 97 == 0, open_conn, NULL,
		                          &reused, err, sizeof(err))) == NULL) {
			bad++;
			continue;
		}
		if (atomic_fetch_add(&c->holders, 1) != 0)
			bad++;
		atomic_fetch_sub(&c->holders, 1);
		rm_ldap_pool_put(p, c, i % 31 != 0);
	}
	return (void *)(long)bad;
}

static void
test_threads(void)
{
	struct rm_ldap_pool *p;
	pthread_t t[THREADS];
	void *bad;
	long total = 0;
	int i;

	reset();
	p = rm_ldap_pool_new(3, 60, close_conn, NULL);
	for (i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, p);
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], &bad);
		total += (long)bad;
	}
	CHECK(total == 0, "%ld gets failed or shared a handle", total);
	CHECK(rm_ldap_pool_open(p) <= 3, "never more than the cap");
	rm_ldap_pool_free(p);
	CHECK(atomic_load(&closed) == atomic_load(&opened),
	      "every handle closed (%d of %d)", atomic_load(&closed),
	      atomic_load(&opened));
	CHECK(rm_ldap_pool_new(0, 60, close_conn, NULL) == NULL &&
	          rm_ldap_pool_new(RM_LDAP_POOL_MAX + 1, 60, close_conn,
	                           NULL) == NULL,
	      "a size out of range");
}

int
main(void)
{
	test_reuse_and_cap();
	test_aged();
	test_threads();
	return check_done();
}
