/*
 * watch.h - which listener profiles the sessions actually reach.
 *
 * A profile is chosen by the MTA's {daemon_name}; a listener whose MTA
 * does not send the name the profile expects (Postfix without
 * milter_macro_daemon_name on that service, Sendmail without Name= in
 * DAEMON_OPTIONS) silently gets the top-level checks.  The watch counts
 * the sessions of each ruleset and, after 5, 50, 500 and 5000 of them,
 * warns about every profile that none has matched, naming the
 * {daemon_name}s that did arrive -- but only when some of those sessions
 * came without a listener name of their own: with a host name (a dot in
 * it), which is what Postfix sends when a service does not set
 * milter_macro_daemon_name ($myhostname).  A listener that names itself
 * (Sendmail's "MTA", Postfix's "mx") is a choice, not a mistake: an MX
 * that takes many sessions before the first submission is no alarm.
 */
#ifndef RM_WATCH_H
#define RM_WATCH_H

#include <pthread.h>
#include <stdint.h>

#include "relaymilter/ruleset.h"

#define RM_WATCH_NAMES 4

struct rm_watch {
	pthread_mutex_t w_lock;
	unsigned long w_gen; /* the snapshot generation counted */
	int w_started;
	unsigned long w_sessions;
	uint64_t w_matched; /* bit i: rs_profiles[i] matched (first 64) */
	char w_names[RM_WATCH_NAMES][64]; /* other names seen, sanitized */
	unsigned w_nnames;
	unsigned long w_unnamed; /* sessions with no name or a host name */
};

/* rm_watch_init / rm_watch_destroy - the lock. */
void rm_watch_init(struct rm_watch *);
void rm_watch_destroy(struct rm_watch *);

/*
 * rm_watch_session - one session of ruleset rs (snapshot generation gen,
 * which the session pins) arrived with listener ({daemon_name}, NULL when
 * none).  Counts restart with a new generation.  warn, when not NULL,
 * receives each warning line.
 */
void rm_watch_session(struct rm_watch *, const struct rm_ruleset *rs,
                      unsigned long gen, const char *listener,
                      void (*warn)(void *arg, const char *line), void *arg);

#endif
