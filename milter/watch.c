/*
 * watch.c - warn about listener profiles that no session reaches.
 *
 * One mutex, held for a few comparisons per session (at connect, never
 * per recipient).  The snapshot generation tells which policy the counts
 * are for; the ruleset is read only while the calling session pins it.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "relaymilter/log.h"
#include "relaymilter/watch.h"

void
rm_watch_init(struct rm_watch *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->w_lock, NULL);
}

void
rm_watch_destroy(struct rm_watch *w)
{
	pthread_mutex_destroy(&w->w_lock);
}

/* checkpoint - the session counts after which unmatched profiles warn */
static int
checkpoint(unsigned long n)
{
	return n == 5 || n == 50 || n == 500 || n == 5000;
}

/* note_name - remember one more {daemon_name} that matched no profile */
static void
note_name(struct rm_watch *w, const char *listener)
{
	char name[64];
	unsigned i;

	rm_log_sanitize(listener ? listener : "(none)", name, sizeof(name));
	for (i = 0; i < w->w_nnames; i++)
		if (strcmp(w->w_names[i], name) == 0)
			return;
	if (w->w_nnames < RM_WATCH_NAMES)
		memcpy(w->w_names[w->w_nnames++], name, sizeof(name));
}

/* report - a warning per profile no session has matched */
static void
report(struct rm_watch *w, const struct rm_ruleset *rs,
       void (*warn)(void *, const char *), void *arg)
{
	char names[RM_WATCH_NAMES * 68], line[1024], pname[64];
	size_t i, n = 0;

	names[0] = '\0';
	for (i = 0; i < w->w_nnames; i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
		                      i ? ", " : "", w->w_names[i]);
	for (i = 0; i < rs->rs_nprofiles && i < 64; i++) {
		if (w->w_matched & ((uint64_t)1 << i))
			continue;
		rm_log_sanitize(rs->rs_profiles[i]->pf_name, pname,
		                sizeof(pname));
		snprintf(line, sizeof(line),
		         "listener profile \"%s\" (%s) has matched none of "
		         "the %lu sessions since the policy was loaded; they "
		         "came with {daemon_name} %s, %lu of them a host name "
		         "rather than a listener's (Postfix sends $myhostname "
		         "by default): set -o milter_macro_daemon_name=%s on "
		         "the Postfix service, or Name=%s in Sendmail's "
		         "DAEMON_OPTIONS",
		         pname, rs->rs_profiles[i]->pf_origin, w->w_sessions,
		         names, w->w_unnamed, pname, pname);
		warn(arg, line);
	}
}

void
rm_watch_session(struct rm_watch *w, const struct rm_ruleset *rs,
                 unsigned long gen, const char *listener,
                 void (*warn)(void *arg, const char *line), void *arg)
{
	size_t i;

	if (rs->rs_nprofiles == 0)
		return;
	pthread_mutex_lock(&w->w_lock);
	if (!w->w_started || w->w_gen != gen) {
		w->w_started = 1;
		w->w_gen = gen;
		w->w_sessions = 0;
		w->w_matched = 0;
		w->w_nnames = 0;
		w->w_unnamed = 0;
	}
	w->w_sessions++;
	for (i = 0; listener != NULL && i < rs->rs_nprofiles; i++)
		if (strcasecmp(rs->rs_profiles[i]->pf_name, listener) == 0)
			break;
	if (listener != NULL && i < rs->rs_nprofiles) {
		if (i < 64)
			w->w_matched |= (uint64_t)1 << i;
	} else
		note_name(w, listener);
	/* Postfix's default {daemon_name} is $myhostname: a host name */
	if (listener != NULL && strchr(listener, '.') != NULL)
		w->w_unnamed++;
	if (warn != NULL && w->w_unnamed > 0 && checkpoint(w->w_sessions))
		report(w, rs, warn, arg);
	pthread_mutex_unlock(&w->w_lock);
}
