/*
 * limitctl.h - the limits over the control socket: the daemon's answers
 * and "relaymilter limits".
 *
 * Requests, one line each:
 *   limits [KEY]        every (limit, key) with counts or a lock, of KEY
 *                       or of all keys: "LIMIT KEY messages=N
 *                       recipients=N per=1h [locked=SECONDSs]"
 *   lift LIMIT KEY      unlock the key and empty its windows; LIMIT "*":
 *                       every limit of the key.  "lifted N"
 * An error is one line "error: ...".
 */
#ifndef RM_LIMITCTL_H
#define RM_LIMITCTL_H

#include "relaymilter/metrics.h"
#include "relaymilter/runtime.h"

/* rm_limitctl_answer - the answer to one request line into out. */
void rm_limitctl_answer(struct rm_runtime *, const char *req,
                        struct rm_mxbuf *out);

/* rm_limits_main - "relaymilter limits ..."; an exit status. */
int rm_limits_main(int argc, char **argv);

#endif
