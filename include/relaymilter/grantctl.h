/*
 * grantctl.h - the relay grants over the control socket: the daemon's
 * answers and "relaymilter grant", "relaymilter grants".
 *
 * Requests, one line each:
 *   grant ADDR [LOGIN|-] [TTL]  grant ADDR (an IPv4 or IPv6 literal) for
 *                               TTL ("90s", "30m", at most "1d"; default
 *                               grants.ttl): "granted ADDR until TIME"
 *   grants [ADDR]               the live grants (of ADDR): "ADDR login=L
 *                               source=S until=TIME left=SECONDSs"
 *   revoke ADDR                 "revoked N" (N: 0 or 1)
 * An error is one line "error: ...".
 */
#ifndef RM_GRANTCTL_H
#define RM_GRANTCTL_H

#include <stdbool.h>

#include "relaymilter/metrics.h"
#include "relaymilter/runtime.h"

/*
 * rm_grantctl_answer - the answer to one request line into out; false
 * when the request is not a grants one.
 */
bool rm_grantctl_answer(struct rm_runtime *, const char *req,
                        struct rm_mxbuf *out);

/* rm_grant_main, rm_grants_main - the subcommands; an exit status. */
int rm_grant_main(int argc, char **argv);
int rm_grants_main(int argc, char **argv);

#endif
