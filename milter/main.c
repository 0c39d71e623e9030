/*
 * main.c - relaymilter(8): options, start-up, reload thread, shutdown.
 *
 * Start-up order matters: load and check the config (and read the LDAP
 * bind password), open the milter socket (as root if need be) and set its
 * group and mode, daemonize before any thread exists, write the pid file,
 * drop privileges, then start the reload thread and hand over to
 * smfi_main().
 * libmilter's own signal thread turns SIGTERM, SIGINT and SIGHUP into a
 * clean stop; SIGUSR1 is ours and means "reload the config".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "relaymilter/check.h"
#include "relaymilter/conf.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapsrc.h"
#include "relaymilter/log.h"
#include "relaymilter/rm.h"
#include "relaymilter/runtime.h"

#define RM_SOCKET_DEFAULT "inet:8894@127.0.0.1"
#define RM_SOCKET_MODE    0660
#define EX_USAGE_         64
#define EX_OSERR_         71

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: relaymilter [-c CONFIG] [-p SOCKET] [-P PIDFILE] [-f] "
	    "[-u USER] [-n] [-V]\n"
	    "       relaymilter check [-c CONFIG] --client ADDR --rcpt ADDR "
	    "... [--explain]\n"
	    "  -c CONFIG  config file (default %s)\n"
	    "  -p SOCKET  unix:/path or inet:PORT@HOST (overrides \"socket\")\n"
	    "  -P FILE    write the pid to FILE (overrides \"pid_file\")\n"
	    "  -f         stay in the foreground, log to stderr\n"
	    "  -u USER    run as USER after opening the socket\n"
	    "  -n         check the config and exit (0 valid, 78 not)\n"
	    "  -V         print the version\n",
	    RM_CONF_DEFAULT);
}

/* unix_path - the path of a unix-domain socket spec, or NULL. */
static const char *
unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/*
 * socket_in_use - is another process listening on this unix socket?
 * libmilter removes an existing socket file before binding, which would
 * silently steal a live instance's socket: refuse that instead.
 */
static int
socket_in_use(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return 0;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

/* daemonize - detach from the terminal; before any thread exists. */
static int
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		return -1;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

/*
 * socket_perms - the group and mode of the unix socket we just bound.
 * gid (socket_group) is (gid_t)-1 to keep ours.  Changing the group
 * needs root or membership of the group.
 */
static int
socket_perms(const char *path, gid_t gid, int mode)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		rm_log(RM_LOG_ERR, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (gid != (gid_t)-1 && st.st_gid != gid &&
	    chown(path, (uid_t)-1, gid) != 0) {
		rm_log(RM_LOG_ERR, "cannot give %s to group %lu: %s", path,
		       (unsigned long)gid, strerror(errno));
		return -1;
	}
	if (chmod(path, (mode_t)mode) != 0) {
		rm_log(RM_LOG_ERR, "chmod %04o %s: %s", mode, path,
		       strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * pid_write - write our pid to path, mode 0644, replacing a stale file
 * (the socket is ours, so no other instance runs).  O_EXCL and
 * O_NOFOLLOW: never write through a link planted in the directory.
 */
static int
pid_write(const char *path, struct stat *st)
{
	char buf[32];
	int fd, n;

	if (unlink(path) != 0 && errno != ENOENT) {
		rm_log(RM_LOG_ERR, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	          0644);
	if (fd < 0) {
		rm_log(RM_LOG_ERR, "pid file %s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (fchmod(fd, 0644) != 0 || write(fd, buf, (size_t)n) != n ||
	    fstat(fd, st) != 0) {
		rm_log(RM_LOG_ERR, "pid file %s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

/* remove_ours - unlink path if it is still the file we made. */
static void
remove_ours(const char *path, const struct stat *ours)
{
	struct stat st;

	if (stat(path, &st) == 0 && st.st_dev == ours->st_dev &&
	    st.st_ino == ours->st_ino && unlink(path) != 0)
		rm_log(RM_LOG_WARNING, "cannot remove %s: %s", path,
		       strerror(errno));
}

/*
 * drop_privileges - become user (and its groups) for good.  The socket
 * becomes the user's, in group sockgid ((gid_t)-1: the user's group).
 */
static int
drop_privileges(const char *user, const char *sockpath, gid_t sockgid)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL) {
		rm_log(RM_LOG_ERR, "-u %s: no such user", user);
		return -1;
	}
	if (sockgid == (gid_t)-1)
		sockgid = pw->pw_gid;
	/* the socket must stay removable by us at exit */
	if (sockpath != NULL && chown(sockpath, pw->pw_uid, sockgid) != 0)
		rm_log(RM_LOG_WARNING, "chown %s: %s", sockpath,
		       strerror(errno));
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		rm_log(RM_LOG_ERR, "cannot become %s: %s", user,
		       strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		rm_log(RM_LOG_ERR, "could regain root after -u");
		return -1;
	}
	return 0;
}

/*
 * warn_all - the load's warnings: to stderr for -n (rt NULL and nothing
 * logged yet) and to the log; a reload repeats only the new ones.
 */
static void
warn_all(const struct rm_ruleset *rs, struct rm_runtime *rt)
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
 * reload - build a new ruleset aside and swap it in, or keep the old.
 * refresh: the periodic LDAP check, quiet when nothing changed.
 */
static void
reload(struct rm_runtime *rt, bool refresh)
{
	struct rm_ruleset *rs;
	char err[1024];

	switch (
	    rm_source_load(&rt->rt_source, refresh, &rs, err, sizeof(err))) {
	case RM_SRC_UNCHANGED:
		return;
	case RM_SRC_ERROR:
		rm_log(RM_LOG_ERR,
		       "reload failed, keeping the running "
		       "policy: %s",
		       err);
		return;
	case RM_SRC_NEW:
		break;
	}
	warn_all(rs, rt);
	rm_owners_set(&rt->rt_owners, rs->rs_ldap);
	rm_snapshot_swap(&rt->rt_snapshot, rs);
	rm_log(RM_LOG_INFO, "%s %s (generation %lu)",
	       refresh ? "LDAP changed, rebuilt" : "reloaded",
	       rt->rt_config_path, rt->rt_snapshot.sn_generation);
}

/* refresh_interval - seconds between LDAP checks, or 0 without LDAP. */
static int
refresh_interval(struct rm_runtime *rt)
{
	struct rm_ruleset *rs = rm_snapshot_acquire(&rt->rt_snapshot);
	int n = rs->rs_ldap != NULL ? rs->rs_ldap->lc_refresh : 0;

	rm_ruleset_release(rs);
	return n;
}

/* ms_until - milliseconds from now to the monotonic deadline, >= 0 */
static long
ms_until(const struct timespec *when)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(when->tv_sec - now.tv_sec) * 1000 +
	     (when->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? ms : 0;
}

/* how often to look for retired rulesets the sessions have let go */
#define REAP_MS 100

/*
 * reload_thread - wait for SIGUSR1 (blocked in every thread) and reload;
 * with LDAP, also check for changes every ldap.refresh seconds; free
 * the retired rulesets once their sessions are done.
 */
static void *
reload_thread(void *arg)
{
	struct rm_runtime *rt = arg;
	struct timespec ts, next = {0, 0};
	sigset_t set;
	int sig, every;
	bool timed = false;
	size_t held;
	long ms;

#ifdef __linux__
	/*
	 * A rebuild is seconds of CPU for a big policy: on a busy machine
	 * the sessions come first (Linux threads have their own nice).
	 */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0)
		rm_log(RM_LOG_DEBUG, "reload thread: setpriority: %s",
		       strerror(errno));
#endif
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		every = refresh_interval(rt);
		/* freeing an old policy is this thread's work, not a
		   session's */
		held = rm_snapshot_reap(&rt->rt_snapshot);
		if (every > 0 && !timed) {
			clock_gettime(CLOCK_MONOTONIC, &next);
			next.tv_sec += every;
		}
		timed = every > 0;
		if (timed || held > 0) {
			ms = timed ? ms_until(&next) : REAP_MS;
			if (held > 0 && ms > REAP_MS)
				ms = REAP_MS;
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = ms % 1000 * 1000000;
			sig = sigtimedwait(&set, NULL, &ts);
		} else if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&rt->rt_stopping))
			break;
		if (sig == SIGUSR1) {
			reload(rt, false);
			timed = false; /* the LDAP check restarts its wait */
		} else if (sig < 0 && errno == EAGAIN && timed &&
		           ms_until(&next) == 0) {
			reload(rt, true);
			timed = false;
		}
	}
	return NULL;
}

/* The start-up settings of the file, with -p and -P applied. */
struct daemon_opts {
	char *spec;    /* the socket */
	char *pidfile; /* or NULL */
	gid_t sockgid; /* socket_group, or (gid_t)-1 */
	int sockmode;
};

static void
daemon_opts_free(struct daemon_opts *o)
{
	free(o->spec);
	free(o->pidfile);
}

/*
 * daemon_opts_get - copy the settings out of rs, which is about to go.
 * 0, or -1 when out of memory or the group has gone since the check.
 */
static int
daemon_opts_get(struct daemon_opts *o, const struct rm_ruleset *rs,
                const char *sockopt, const char *pidopt)
{
	const char *spec = sockopt         ? sockopt
	                   : rs->rs_socket ? rs->rs_socket
	                                   : RM_SOCKET_DEFAULT;
	const char *pid = pidopt ? pidopt : rs->rs_pid_file;

	memset(o, 0, sizeof(*o));
	o->sockgid = (gid_t)-1;
	o->sockmode =
	    rs->rs_socket_mode >= 0 ? rs->rs_socket_mode : RM_SOCKET_MODE;
	if (rs->rs_socket_group != NULL &&
	    rm_conf_group(rs->rs_socket_group, &o->sockgid) != 0) {
		fprintf(stderr, "relaymilter: socket_group %s: no such group\n",
		        rs->rs_socket_group);
		return -1;
	}
	if ((o->spec = strdup(spec)) == NULL ||
	    (pid != NULL && (o->pidfile = strdup(pid)) == NULL)) {
		fprintf(stderr, "relaymilter: out of memory\n");
		daemon_opts_free(o);
		return -1;
	}
	return 0;
}

static int
run_daemon(const char *config, const char *sockopt, const char *pidopt,
           int foreground, const char *user)
{
	struct rm_runtime rt;
	struct rm_ruleset *rs;
	struct daemon_opts o;
	const char *spec, *path;
	char err[1024], *abspath;
	pthread_t th;
	struct stat sock_st, pid_st;
	sigset_t set;
	mode_t mask;
	int rc, level, sock_ours = 0, pid_ours = 0;

	/*
	 * Block our signals before anything else, in every thread: SIGUSR1
	 * is for the reload thread, and libmilter's signal thread sigwait()s
	 * for SIGHUP, SIGINT and SIGTERM, which must not kill us elsewhere.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((rs = rm_conf_load(config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return RM_EX_CONFIG;
	}
	/* reloads happen after the chdir("/") of daemon mode */
	if ((abspath = realpath(config, NULL)) == NULL) {
		fprintf(stderr, "relaymilter: %s: %s\n", config,
		        strerror(errno));
		rm_ruleset_release(rs);
		return RM_EX_CONFIG;
	}
	config = abspath;
	if (sockopt != NULL &&
	    rm_conf_socket_check(sockopt, err, sizeof(err)) != 0) {
		fprintf(stderr, "relaymilter: -p %s: %s\n", sockopt, err);
		rm_ruleset_release(rs);
		return EX_USAGE_;
	}
	level = rs->rs_log_level >= 0 ? rs->rs_log_level : RM_LOG_INFO;
	rm_log_open("relaymilter", foreground, (enum rm_log_level)level);
	if (pidopt != NULL && *pidopt != '/') {
		fprintf(stderr, "relaymilter: -P %s: must be absolute\n",
		        pidopt);
		rm_ruleset_release(rs);
		free(abspath);
		return EX_USAGE_;
	}
	/* the settings live in the ruleset, which is about to go */
	rc = daemon_opts_get(&o, rs, sockopt, pidopt);
	rm_ruleset_release(rs);
	if (rc != 0) {
		free(abspath);
		return EX_OSERR_;
	}
	spec = o.spec;

	memset(&rt, 0, sizeof(rt));
	rt.rt_config_path = config;
	rt.rt_source.src_path = config;
	rm_owners_init(&rt.rt_owners);
	rm_watch_init(&rt.rt_watch);
	/* with LDAP: fresh data, else the cache, else tempfail everything */
	if (rm_source_load(&rt.rt_source, false, &rs, err, sizeof(err)) !=
	    RM_SRC_NEW) {
		fprintf(stderr, "%s\n", err);
		rm_source_free(&rt.rt_source);
		daemon_opts_free(&o);
		free(abspath);
		return RM_EX_CONFIG;
	}
	warn_all(rs, NULL);
	rm_owners_set(&rt.rt_owners, rs->rs_ldap);
	rm_snapshot_init(&rt.rt_snapshot, rs);
	rc = EX_OSERR_;
	path = unix_path(spec);
	if (path != NULL && socket_in_use(path)) {
		fprintf(stderr,
		        "relaymilter: %s: another process is "
		        "listening on this socket\n",
		        spec);
		goto out;
	}
	/* a unix socket is born 0600, until socket_perms() */
	mask = umask(0177);
	if (smfi_setconn(o.spec) != MI_SUCCESS || rm_mlfi_register(&rt) != 0 ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		umask(mask);
		fprintf(stderr, "relaymilter: cannot listen on %s: %s\n", spec,
		        errno ? strerror(errno) : "libmilter error");
		goto out;
	}
	umask(mask);
	/* libmilter leaves the unix socket behind when run as root */
	if (path != NULL && stat(path, &sock_st) == 0)
		sock_ours = 1;
	if (path != NULL && socket_perms(path, o.sockgid, o.sockmode) != 0)
		goto out;
	if (!foreground && daemonize() != 0) {
		rm_log(RM_LOG_ERR, "cannot daemonize: %s", strerror(errno));
		goto out;
	}
	if (o.pidfile != NULL) {
		if (pid_write(o.pidfile, &pid_st) != 0)
			goto out;
		pid_ours = 1;
	}
	if (user != NULL && drop_privileges(user, path, o.sockgid) != 0)
		goto out;
	if ((rc = pthread_create(&th, NULL, reload_thread, &rt)) != 0) {
		rm_log(RM_LOG_ERR, "cannot start the reload thread: %s",
		       strerror(rc));
		rc = EX_OSERR_;
		goto out;
	}
	rm_log(RM_LOG_INFO, "relaymilter %s listening on %s, config %s",
	       RM_VERSION, spec, config);
	rc = smfi_main();
	rm_log(rc == MI_SUCCESS ? RM_LOG_INFO : RM_LOG_ERR, "stopping%s",
	       rc == MI_SUCCESS ? "" : " after a libmilter error");
	rc = rc == MI_SUCCESS ? 0 : EX_OSERR_;
	atomic_store(&rt.rt_stopping, true);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
out:
	if (sock_ours)
		remove_ours(path, &sock_st);
	if (pid_ours)
		remove_ours(o.pidfile, &pid_st);
	rm_snapshot_destroy(&rt.rt_snapshot);
	rm_source_free(&rt.rt_source);
	rm_owners_destroy(&rt.rt_owners);
	rm_watch_destroy(&rt.rt_watch);
	daemon_opts_free(&o);
	free(abspath);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *config = RM_CONF_DEFAULT, *sockopt = NULL, *user = NULL;
	const char *pidopt = NULL;
	struct rm_ruleset *rs;
	char err[1024];
	int c, foreground = 0, check_only = 0;

	rm_ldap_init();
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return rm_check_main(argc - 1, argv + 1);
	while ((c = getopt(argc, argv, "c:p:P:fu:nVh")) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			sockopt = optarg;
			break;
		case 'P':
			pidopt = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'V':
			printf("relaymilter %s\n", RM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE_;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE_;
	}
	if (check_only) {
		if ((rs = rm_conf_load(config, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s\n", err);
			return RM_EX_CONFIG;
		}
		warn_all(rs, NULL);
		rm_ruleset_release(rs);
		printf("%s: OK\n", config);
		return 0;
	}
	return run_daemon(config, sockopt, pidopt, foreground, user);
}
