/*
 * daemon.h - the daemon's start-up and life (daemon.c) and its reload
 * thread (reload.c).
 */
#ifndef RM_DAEMON_H
#define RM_DAEMON_H

#include <signal.h>
#include <time.h>

#include "relaymilter/ruleset.h"
#include "relaymilter/runtime.h"

/*
 * rm_daemon_run - read the config, open the milter socket, daemonize
 * (unless foreground), write the pid file, drop to user, reload on
 * SIGUSR1 and serve until libmilter stops.  Every failure that can happen
 * before serving is reported on stderr with a non-zero status.  Returns
 * the process's exit status.
 */
int rm_daemon_run(const char *config, const char *sockopt, const char *pidopt,
                  int foreground, const char *user);

/*
 * rm_reload_warnings - log a load's warnings (rs_warnings); with rt, only
 * those the running policy did not already have.
 */
void rm_reload_warnings(const struct rm_ruleset *rs, struct rm_runtime *rt);

/*
 * rm_reload_record - what a load leaves for the metrics: the LDAP state
 * and, with rs (to be installed as generation gen), its figures.
 */
void rm_reload_record(struct rm_runtime *rt, const struct rm_ruleset *rs,
                      unsigned long gen);

/*
 * rm_reload_milter_map - write the smtpd_milter_maps table of rs where the
 * settings say (milter_map); logs a failure.
 */
void rm_reload_milter_map(const struct rm_ruleset *rs, struct rm_runtime *rt);

/* rm_ms_until - milliseconds from now to a CLOCK_MONOTONIC time, >= 0 */
long rm_ms_until(const struct timespec *when);

/*
 * RM_SIG_LDAPSYNC - the LDAP sync thread tells the reload thread that
 * data waits (blocked in every thread, like SIGUSR1).
 */
#define RM_SIG_LDAPSYNC (SIGRTMIN + 3)

/*
 * rm_reload_thread - the thread that reloads on SIGUSR1 (blocked in every
 * thread), checks LDAP every ldap.refresh seconds or follows it through
 * content synchronisation (ldapsync.h: started, restarted and stopped
 * here with the LDAP settings), and frees the retired rulesets once no
 * session holds them.  arg: the runtime.
 */
void *rm_reload_thread(void *arg);

#endif
