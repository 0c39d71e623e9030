/*
 * check.h - a minimal table-test harness: CHECK() records a failure with
 * file:line and goes on; check_done() prints "N passed, N failed" and gives
 * the exit status.
 */
#ifndef RM_T_CHECK_H
#define RM_T_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_pass, check_fail;

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (cond) {                                                    \
			check_pass++;                                          \
		} else {                                                       \
			check_fail++;                                          \
			fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__,         \
			        __LINE__, #cond);                              \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                                   \
	CHECK(strcmp((got), (want)) == 0, "got \"%s\" want \"%s\"", (got),     \
	      (want))

static inline int
check_done(void)
{
	printf("%d passed, %d failed\n", check_pass, check_fail);
	return check_fail == 0 && check_pass > 0 ? 0 : 1;
}

#endif
