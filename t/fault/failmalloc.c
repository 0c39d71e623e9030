/*
 * failmalloc.c - an LD_PRELOAD shim that makes malloc, calloc, realloc and
 * strdup fail on demand, for the fault tests (t/fault/run.sh).
 *
 * FAILMALLOC_FILE names a control file.  While it does not exist every
 * call succeeds, so a daemon can start normally and the failures be
 * switched on later.  When it exists it holds "PERCENT [AFTER]": after
 * AFTER more calls (default 0), each call fails with probability
 * PERCENT/100 (100: every call).  The file is looked at again at most
 * every 10 ms; a failure sets errno to ENOMEM.  FAILMALLOC_COUNT, if set,
 * names a file that gets the number of failures so far, rewritten at most
 * every 10 ms while failures happen.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);

static atomic_long fm_checked_ms = -1000; /* when the file was read */
static atomic_int fm_percent;             /* 0: off */
static atomic_long fm_after;              /* calls left before failing */
static atomic_ulong fm_seed = 0x9e3779b97f4a7c15UL;
static atomic_long fm_failures;
static atomic_long fm_reported_ms;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* read_control - (re)read the control file; no allocation here. */
static void
read_control(void)
{
	const char *path = getenv("FAILMALLOC_FILE");
	char buf[64];
	long percent = 0, after = 0;
	ssize_t n;
	int fd;

	if (path != NULL && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		if (sscanf(buf, "%ld %ld", &percent, &after) < 1)
			percent = 100;
		if (percent < 0 || percent > 100)
			percent = 100;
	}
	if (percent > 0 && atomic_load(&fm_percent) == 0)
		atomic_store(&fm_after, after);
	atomic_store(&fm_percent, (int)percent);
}

/* report - write the failure count to FAILMALLOC_COUNT, now and then. */
static void
report(long now)
{
	const char *path = getenv("FAILMALLOC_COUNT");
	char buf[32];
	int fd, n;

	if (path == NULL || now - atomic_load(&fm_reported_ms) < 10)
		return;
	atomic_store(&fm_reported_ms, now);
	n = snprintf(buf, sizeof(buf), "%ld\n", atomic_load(&fm_failures));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >=
	    0) {
		if (write(fd, buf, (size_t)n) != n)
			(void)0;
		close(fd);
	}
}

/* should_fail - this call fails; with errno ENOMEM. */
static int
should_fail(void)
{
	long now = now_ms(), last = atomic_load(&fm_checked_ms);
	unsigned long x, r;
	int percent;

	if (now - last >= 10 &&
	    atomic_compare_exchange_strong(&fm_checked_ms, &last, now))
		read_control();
	if ((percent = atomic_load(&fm_percent)) == 0)
		return 0;
	if (atomic_fetch_sub(&fm_after, 1) > 0)
		return 0;
	/* xorshift64; races only make it more random */
	x = atomic_load(&fm_seed);
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	atomic_store(&fm_seed, x);
	r = x % 100;
	if (r >= (unsigned long)percent)
		return 0;
	atomic_fetch_add(&fm_failures, 1);
	report(now);
	errno = ENOMEM;
	return 1;
}

void *
malloc(size_t n)
{
	return should_fail() ? NULL : __libc_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	return should_fail() ? NULL : __libc_calloc(n, m);
}

void *
realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __libc_realloc(p, n);
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);

	return d != NULL ? memcpy(d, s, n) : NULL;
}
