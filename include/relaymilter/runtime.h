/*
 * runtime.h - the daemon's one piece of process-wide mutable state.
 *
 * libmilter callbacks take no user pointer, so the adapter reaches the
 * runtime through a single pointer set once by rm_mlfi_register() before
 * smfi_main() starts any thread.  Everything that changes at run time is
 * inside: the snapshot (its own lock), the session counter and the
 * metrics (atomics).
 */
#ifndef RM_RUNTIME_H
#define RM_RUNTIME_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "relaymilter/grants.h"
#include "relaymilter/limits.h"
#include "relaymilter/metrics.h"
#include "relaymilter/owners.h"
#include "relaymilter/snapshot.h"
#include "relaymilter/source.h"
#include "relaymilter/watch.h"

struct rm_runtime {
	struct rm_snapshot rt_snapshot;
	const char *rt_config_path;
	struct rm_source rt_source; /* the reload thread's only */
	/* content synchronisation, the reload thread's: the thread, and
	   the settings for which the server refused it ("auto" polls; it
	   is asked again at a reload and every RM_LDAPSYNC_RETRY_CHECKS
	   change checks, rt_ldapsync_checks) */
	struct rm_ldapsync *rt_ldapsync;
	struct rm_ldap_conf *rt_ldapsync_refused;
	unsigned rt_ldapsync_checks;
	pthread_t rt_reload_tid;      /* for the sync thread's wake-up */
	struct rm_owners rt_owners;   /* on-demand sender lookups */
	struct rm_watch rt_watch;     /* which profiles sessions reach */
	atomic_ulong rt_sessions;     /* session ids */
	atomic_bool rt_stopping;      /* tells the reload thread to end */
	bool rt_log_json;             /* log_format = "json" (read at start) */
	bool rt_answer_data;          /* take the DATA step (read at start) */
	struct rm_metrics rt_metrics; /* counters: relaxed atomics */
	/* the limits' counters and locks: kept across reloads (the store
	   is keyed by limit name), lost at exit */
	struct rm_limit_store *rt_limits;
	/* the relay grants, beside the limits (the same store), and the
	   grants group's settings (read at start) */
	struct rm_grant_store *rt_grants;
	bool rt_grants_on;     /* a grants group: pushes are taken */
	unsigned rt_grant_ttl; /* grants.ttl */
};

/*
 * rm_mlfi_register - register the callbacks with libmilter.  Return 0, or
 * -1 when libmilter refuses (logged).
 */
int rm_mlfi_register(struct rm_runtime *);

#endif
