/*
 * reload.c - the reload thread: SIGUSR1, the periodic LDAP check, and the
 * freeing of retired rulesets, off the sessions' threads and at idle
 * priority.
 */
#ifdef __linux__
#define _GNU_SOURCE /* SCHED_IDLE */
#endif
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "relaymilter/daemon.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapsync.h"
#include "relaymilter/log.h"
#include "relaymilter/miltermap.h"
#include "relaymilter/notify.h"

/*
 * rm_reload_warnings - the load's warnings: to stderr for -n (rt NULL and
 * nothing logged yet) and to the log; a reload repeats only the new ones.
 */
void
rm_reload_warnings(const struct rm_ruleset *rs, struct rm_runtime *rt)
{
	const struct rm_ruleset *old = NULL;
	size_t i, j;

	if (rt != NULL)
		old = rm_snapshot_acquire(&rt->rt_snapshot);
	for (i = 0; i < rs->rs_nwarnings; i++) {
		for (j = 0; old != NULL && j < old->rs_nwarnings; j++)
			if (strcmp(old->rs_warnings[j], rs->rs_warnings[i]) ==
			    0)
				break;
		if (old == NULL || j == old->rs_nwarnings)
			rm_log(RM_LOG_WARNING, "%s", rs->rs_warnings[i]);
	}
	rm_ruleset_release((struct rm_ruleset *)old);
}

/*
 * install - swap in the new ruleset rs; why: for the log and the status.
 */
static void
install(struct rm_runtime *rt, struct rm_ruleset *rs, const char *why)
{
	char status[300];

	rm_reload_warnings(rs, rt);
	rm_reload_milter_map(rs, rt);
	rm_owners_set(&rt->rt_owners,
	              rm_source_settings(&rt->rt_source)->st_ldap);
	/* its listeners are labels before a session can pin it */
	rm_reload_record(rt, rs, rm_snapshot_generation(&rt->rt_snapshot) + 1);
	atomic_fetch_add(&rt->rt_metrics.mx_reloads[RM_MX_RELOAD_OK], 1);
	rm_snapshot_swap(&rt->rt_snapshot, rs);
	snprintf(status, sizeof(status),
	         "READY=1\nSTATUS=%s, policy generation %lu", why,
	         rm_snapshot_generation(&rt->rt_snapshot));
	rm_notify(status);
	rm_log(RM_LOG_INFO, "%s %s (generation %lu)", why, rt->rt_config_path,
	       rm_snapshot_generation(&rt->rt_snapshot));
}

/* failed - a load failed: the running policy stays */
static void
failed(struct rm_runtime *rt, const char *err)
{
	rm_reload_record(rt, NULL, 0);
	atomic_fetch_add(&rt->rt_metrics.mx_reloads[RM_MX_RELOAD_FAILED], 1);
	rm_notify("READY=1\nSTATUS=the last reload failed: the "
	          "running policy stays (see the log)");
	rm_log(RM_LOG_ERR,
	       "reload failed, keeping the running "
	       "policy: %s",
	       err);
}

/*
 * reload - build a new ruleset aside and swap it in, or keep the old.
 * refresh: the periodic LDAP check, quiet when nothing changed.
 */
static void
reload(struct rm_runtime *rt, bool refresh)
{
	struct rm_ruleset *rs;
	char err[1024];

	if (!refresh)
		rm_notify("RELOADING=1");
	/* a reload is also when a rotated log file is opened anew */
	if (!refresh && rm_log_reopen() != 0)
		rm_log(RM_LOG_ERR, "cannot reopen the log file");
	switch (
	    rm_source_load(&rt->rt_source, refresh, &rs, err, sizeof(err))) {
	case RM_SRC_UNCHANGED:
		rm_reload_record(rt, NULL, 0);
		return;
	case RM_SRC_ERROR:
		failed(rt, err);
		return;
	case RM_SRC_NEW:
		break;
	}
	install(rt, rs, refresh ? "LDAP changed, rebuilt" : "reloaded");
}

/* sync_wake - the sync thread has news: tell the reload thread */
static void
sync_wake(void *arg)
{
	struct rm_runtime *rt = arg;

	pthread_kill(rt->rt_reload_tid, RM_SIG_LDAPSYNC);
}

/*
 * sync_manage - content synchronisation as the settings now say: stopped
 * when LDAP is gone or its settings changed, started when they ask for it
 * (and the server did not refuse it under the same settings).
 */
static void
sync_manage(struct rm_runtime *rt)
{
	const struct rm_settings *st = rm_source_settings(&rt->rt_source);
	struct rm_ldap_conf *lc = st != NULL ? st->st_ldap : NULL;
	struct rm_source *src = &rt->rt_source;
	const struct rm_ldapdata *seed;
	struct rm_ldapsync_hooks h = {sync_wake, rt,
	                              &rt->rt_metrics.mx_ldap_sync_connected,
	                              &rt->rt_metrics.mx_ldap_sync_changes};

	if (rt->rt_ldapsync != NULL &&
	    !rm_ldap_conf_same_source(rm_ldapsync_conf(rt->rt_ldapsync), lc)) {
		src->src_sync_lc = NULL;
		rm_ldapsync_stop(rt->rt_ldapsync);
		rt->rt_ldapsync = NULL;
		rm_log(RM_LOG_INFO, "LDAP content synchronisation stopped: "
		                    "the LDAP settings changed");
	}
	if (rt->rt_ldapsync_refused != NULL &&
	    !rm_ldap_conf_same_source(rt->rt_ldapsync_refused, lc)) {
		rm_ldap_conf_free(rt->rt_ldapsync_refused);
		rt->rt_ldapsync_refused = NULL;
	}
	if (rt->rt_ldapsync != NULL || lc == NULL ||
	    lc->lc_sync == RM_LDAP_SYNC_POLL || rt->rt_ldapsync_refused != NULL)
		return;
	if ((seed = rm_source_data(src)) == NULL)
		return; /* out of memory: logged, and tried again */
	if ((rt->rt_ldapsync = rm_ldapsync_start(lc, seed, &h)) != NULL) {
		src->src_sync_lc = rm_ldapsync_conf(rt->rt_ldapsync);
		rm_log(RM_LOG_DEBUG, "LDAP content synchronisation started");
	}
}

/*
 * sync_again - "auto" polls a server that refused content
 * synchronisation; at a reload (asked), or once every
 * RM_LDAPSYNC_RETRY_CHECKS change checks, it is asked again: a server
 * may have been given the overlay since
 */
static void
sync_again(struct rm_runtime *rt, bool asked)
{
	if (rt->rt_ldapsync_refused == NULL ||
	    (!asked && ++rt->rt_ldapsync_checks < RM_LDAPSYNC_RETRY_CHECKS))
		return;
	rm_log(RM_LOG_INFO, "LDAP: asking the server for content "
	                    "synchronisation again");
	rm_ldap_conf_free(rt->rt_ldapsync_refused);
	rt->rt_ldapsync_refused = NULL;
	rt->rt_ldapsync_checks = 0;
	sync_manage(rt);
}

/* sync_news - what the sync thread has for us */
static void
sync_news(struct rm_runtime *rt)
{
	struct rm_ldapsync_out d;
	struct rm_ruleset *rs;
	char err[1024];
	unsigned long layers = rt->rt_source.src_layers;

	if (rt->rt_ldapsync == NULL)
		return;
	switch (rm_ldapsync_take(rt->rt_ldapsync, &d)) {
	case RM_LDAPSYNC_NOTHING:
		return;
	case RM_LDAPSYNC_UNSUPPORTED:
		/* "auto": poll under these settings, from now on */
		rt->rt_ldapsync_refused = rm_ldap_conf_hold(
		    (struct rm_ldap_conf *)rm_ldapsync_conf(rt->rt_ldapsync));
		rt->rt_source.src_sync_lc = NULL;
		rm_ldapsync_stop(rt->rt_ldapsync);
		rt->rt_ldapsync = NULL;
		reload(rt, true);
		return;
	case RM_LDAPSYNC_DATA:
		break;
	}
	switch (
	    rm_source_take_sync(&rt->rt_source, &d, &rs, err, sizeof(err))) {
	case RM_SRC_UNCHANGED:
		rm_reload_record(rt, NULL, 0);
		return; /* new cookies: saved when due */
	case RM_SRC_ERROR:
		failed(rt, err);
		return;
	case RM_SRC_NEW:
		break;
	}
	install(rt, rs,
	        rt->rt_source.src_layers != layers
	            ? "LDAP changed (synchronisation), rebuilt as a layer"
	            : "LDAP changed (synchronisation), rebuilt in full");
}

/* sync_end - the reload thread ends: so does the synchronisation */
static void
sync_end(struct rm_runtime *rt)
{
	rt->rt_source.src_sync_lc = NULL;
	rm_ldapsync_stop(rt->rt_ldapsync);
	rt->rt_ldapsync = NULL;
	rm_ldap_conf_free(rt->rt_ldapsync_refused);
	rt->rt_ldapsync_refused = NULL;
}

void
rm_reload_record(struct rm_runtime *rt, const struct rm_ruleset *rs,
                 unsigned long gen)
{
	const struct rm_source *src = &rt->rt_source;
	const struct rm_settings *st = rm_source_settings(src);
	struct rm_metrics *mx = &rt->rt_metrics;

	if (rs != NULL)
		rm_metrics_ruleset(mx, rs, gen, time(NULL));
	atomic_store(&mx->mx_ldap_configured, st != NULL && st->st_ldap);
	atomic_store(&mx->mx_ldap_up, src->src_ldap_down ? 0 : 1);
	atomic_store(&mx->mx_ldap_refresh_time,
	             (long long)src->src_ldap_fetched);
	atomic_store(&mx->mx_ldap_data_time, (long long)src->src_data_time);
	atomic_store(&mx->mx_ldap_errors, (long long)src->src_ldap_errors);
}

void
rm_reload_milter_map(const struct rm_ruleset *rs, struct rm_runtime *rt)
{
	const struct rm_settings *st = rm_source_settings(&rt->rt_source);
	char err[600];

	if (st == NULL || st->st_milter_map == NULL)
		return;
	if (rm_milter_map_write(rs, rm_source_owner_lookups(&rt->rt_source),
	                        st->st_milter_map, err, sizeof(err)) != 0)
		rm_log(RM_LOG_ERR, "milter_map: %s", err);
}

/*
 * refresh_interval - seconds between LDAP checks, or 0 without LDAP.  The
 * source is the reload thread's own: no lock.
 */
static int
refresh_interval(struct rm_runtime *rt)
{
	const struct rm_settings *st = rm_source_settings(&rt->rt_source);

	return st != NULL && st->st_ldap != NULL ? st->st_ldap->lc_refresh : 0;
}

long
rm_ms_until(const struct timespec *when)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(when->tv_sec - now.tv_sec) * 1000 +
	     (when->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/*
 * idle_priority - a rebuild is seconds of CPU for a big policy: it runs
 * only on CPU time the sessions leave (SCHED_IDLE; Linux threads have
 * their own policy and nice).  Where that is refused, the lowest nice.
 * On a machine saturated for good a reload then waits for a lull; the
 * policy in force keeps deciding meanwhile.
 */
static void
idle_priority(void)
{
#ifdef __linux__
	struct sched_param sp = {0};
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (sched_setscheduler(tid, SCHED_IDLE, &sp) == 0)
		return;
	rm_log(RM_LOG_DEBUG, "reload thread: SCHED_IDLE: %s", strerror(errno));
	if (setpriority(PRIO_PROCESS, (id_t)tid, 19) != 0)
		rm_log(RM_LOG_DEBUG, "reload thread: setpriority: %s",
		       strerror(errno));
#endif
}

/* how often to look for retired rulesets the sessions have let go */
#define REAP_MS 100

/*
 * rm_reload_thread - wait for SIGUSR1 (blocked in every thread) and reload;
 * with LDAP, also check for changes every ldap.refresh seconds; free
 * the retired rulesets once their sessions are done.
 */
void *
rm_reload_thread(void *arg)
{
	struct rm_runtime *rt = arg;
	struct timespec ts, next = {0, 0};
	sigset_t set;
	int sig, every;
	bool timed = false, saving;
	size_t held;
	long ms, due;

	idle_priority();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, RM_SIG_LDAPSYNC);
	rt->rt_reload_tid = pthread_self();
	sync_manage(rt);
	for (;;) {
		every = refresh_interval(rt);
		/* freeing an old policy is this thread's work, not a
		   session's */
		held = rm_snapshot_reap(&rt->rt_snapshot);
		/* the cache file, once changes pause (rm_source_save_due),
		   a step at a time: what comes in meanwhile goes first */
		saving = false;
		if ((due = rm_source_save_due(&rt->rt_source)) == 0) {
			saving = rm_source_save_step(&rt->rt_source);
			due = -1;
		}
		if (every > 0 && !timed) {
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += every;
		}
		timed = every > 0;
		if (saving || timed || held > 0 || due > 0) {
			ms = timed ? rm_ms_until(&next) : REAP_MS;
			if (held > 0 && ms > REAP_MS)
				ms = REAP_MS;
			if (due > 0 && (!timed && held == 0 ? true : ms > due))
				ms = due;
			if (saving)
				ms = 0; /* only a look for signals */
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = ms % 1000 * 1000000;
			sig = sigtimedwait(&set, NULL, &ts);
		} else if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&rt->rt_stopping))
			break;
		if (sig == RM_SIG_LDAPSYNC)
			sync_news(rt);
		else if (sig == SIGUSR1) {
			reload(rt, false);
			sync_manage(rt);
			sync_again(rt, true);
			timed = false; /* the LDAP check restarts its wait */
		} else if (sig < 0 && errno == EAGAIN && timed &&
		           rm_ms_until(&next) == 0) {
			reload(rt, true);
			sync_again(rt, false);
			timed = false;
		}
	}
	sync_end(rt);
	rm_source_save_cache(&rt->rt_source); /* a stop leaves it current */
	return NULL;
}
