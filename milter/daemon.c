/*
 * daemon.c - relaymilter's start-up and life as a daemon.
 *
 * Start-up order matters: read and check the config (and the LDAP bind
 * password), open the milter socket (as root if need be) and set its
 * group and mode, daemonize before any thread exists, write the pid file,
 * drop privileges, then start the reload thread and hand over to
 * smfi_main().  libmilter's own signal thread turns SIGTERM, SIGINT and
 * SIGHUP into a clean stop; SIGUSR1 is ours and means "reload the config".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <pthread.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "relaymilter/conf.h"
#include "relaymilter/daemon.h"
#include "relaymilter/follow.h"
#include "relaymilter/log.h"
#include "relaymilter/monitor.h"
#include "relaymilter/notify.h"
#include "relaymilter/rm.h"

/*
 * The default socket: inside Debian's Postfix chroot (/var/spool/postfix),
 * in a directory only relaymilter and the group postfix can enter, mode
 * 0660 and the group postfix when that group exists.  Only the MTA can
 * reach libmilter, which trusts what it reads (contrib/libmilter/README).
 */
#define RM_SOCKET_DEFAULT "unix:/var/spool/postfix/relaymilter/relaymilter.sock"
#define RM_SOCKET_MODE    0660
#define RM_SOCKET_GROUP   "postfix"

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
 * socket_dir_missing - say so when the unix socket's directory does not
 * exist (the package makes the default one when Postfix is installed).
 */
static int
socket_dir_missing(const char *spec, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct stat st;
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (slash == NULL || slash == path ||
	    (size_t)(slash - path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (stat(dir, &st) == 0 || errno != ENOENT)
		return 0;
	fprintf(stderr, "relaymilter: cannot listen on %s: no directory %s",
	        spec, dir);
	if (strcmp(spec, RM_SOCKET_DEFAULT) == 0)
		fprintf(stderr,
		        "; with Postfix: install -d -o relaymilter "
		        "-g " RM_SOCKET_GROUP
		        " -m 2750 %s; otherwise set socket",
		        dir);
	fprintf(stderr, " (relaymilter(8), SOCKET AND PRIVILEGES)\n");
	return 1;
}

/*
 * daemonize - detach from the terminal, before any thread exists.  The
 * starting process waits for the daemon's word on a pipe (*ready, the
 * daemon's end) and exits with its status, printing its message: a start
 * that fails after detaching (the pid file, the user) still fails where
 * it was started, with a non-zero status.  Returns 0 in the daemon.
 */
static int
daemonize(int *ready)
{
	char msg[512];
	ssize_t n;
	pid_t pid;
	int fd, p[2], status;

	if (pipe(p) != 0 || (pid = fork()) < 0)
		return -1;
	if (pid > 0) {
		close(p[1]);
		n = read(p[0], msg, sizeof(msg) - 1);
		msg[n > 0 ? n : 0] = '\0';
		if (n <= 0 || sscanf(msg, "%d", &status) != 1) {
			fprintf(stderr,
			        "relaymilter: the daemon ended before it "
			        "was ready (see the log)\n");
			_exit(RM_EX_OSERR);
		}
		if (strchr(msg, ' ') != NULL)
			fprintf(stderr, "%s\n", strchr(msg, ' ') + 1);
		_exit(status);
	}
	close(p[0]);
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
	(void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
	*ready = p[1];
	rm_log_forked();
	return 0;
}

/*
 * ready - tell the starting process how the start went (status 0: the
 * daemon serves), with the reason when it failed; once.
 */
static void
ready(int *fd, int status, const char *why)
{
	char msg[512];
	int n;

	if (*fd < 0)
		return;
	n = snprintf(msg, sizeof(msg), "%d%s%s", status, why ? " " : "",
	             why ? why : "");
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	(void)!write(*fd, msg, (size_t)n);
	close(*fd);
	*fd = -1;
}

/*
 * socket_perms - the group and mode of the unix socket we just bound.
 * gid (socket_group, named group) is (gid_t)-1 to keep ours.  Changing
 * the group needs root or membership of the group.
 */
static int
socket_perms(const char *path, gid_t gid, const char *group, int mode)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		rm_log(RM_LOG_ERR, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (gid != (gid_t)-1 && st.st_gid != gid &&
	    chown(path, (uid_t)-1, gid) != 0) {
		rm_log(RM_LOG_ERR,
		       "cannot give %s to group %s (%lu): %s; relaymilter "
		       "must start as root (with -u) or be a member of it",
		       path, group ? group : "?", (unsigned long)gid,
		       strerror(errno));
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
drop_privileges(const char *user, const char *sockpath, gid_t sockgid,
                const char *ctlpath, gid_t ctlgid)
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
	/* the control socket stays the run user's alone (0600), or its
	   group's too (control_socket_group, 0660) */
	if (ctlpath != NULL &&
	    chown(ctlpath, pw->pw_uid,
	          ctlgid != (gid_t)-1 ? ctlgid : pw->pw_gid) != 0)
		rm_log(RM_LOG_WARNING, "chown %s: %s", ctlpath,
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

/* The start-up settings of the file, with -p and -P applied. */
struct daemon_opts {
	char *spec;    /* the socket */
	char *pidfile; /* or NULL */
	gid_t sockgid; /* socket_group, or (gid_t)-1 */
	int sockmode;
	char *sockgroup; /* its name, for the messages, or NULL */
};

static void
daemon_opts_free(struct daemon_opts *o)
{
	free(o->spec);
	free(o->pidfile);
	free(o->sockgroup);
}

/*
 * daemon_opts_get - the settings, with the command line's overrides.
 * 0, or -1 when out of memory or the group has gone since the check.
 */
static int
daemon_opts_get(struct daemon_opts *o, const struct rm_settings *st,
                const char *sockopt, const char *pidopt)
{
	const char *spec = sockopt         ? sockopt
	                   : st->st_socket ? st->st_socket
	                                   : RM_SOCKET_DEFAULT;
	const char *pid = pidopt ? pidopt : st->st_pid_file;
	const char *group = NULL;

	memset(o, 0, sizeof(*o));
	o->sockgid = (gid_t)-1;
	o->sockmode =
	    st->st_socket_mode >= 0 ? st->st_socket_mode : RM_SOCKET_MODE;
	if (st->st_socket_group != NULL) {
		if (rm_conf_group(st->st_socket_group, &o->sockgid) != 0) {
			fprintf(stderr,
			        "relaymilter: socket_group %s: no such group\n",
			        st->st_socket_group);
			return -1;
		}
		group = st->st_socket_group;
	} else if (rm_conf_group(RM_SOCKET_GROUP, &o->sockgid) == 0) {
		/* unset: the MTA's group when Postfix is installed */
		group = RM_SOCKET_GROUP;
	}
	if ((o->spec = strdup(spec)) == NULL ||
	    (pid != NULL && (o->pidfile = strdup(pid)) == NULL) ||
	    (group != NULL && (o->sockgroup = strdup(group)) == NULL)) {
		fprintf(stderr, "relaymilter: out of memory\n");
		daemon_opts_free(o);
		return -1;
	}
	return 0;
}

/*
 * daemon_start_checks - the command line against the settings, the log
 * opened at its level, the daemon options made.  0, or the exit status.
 */
static int
daemon_start_checks(const struct rm_settings *st, const char *sockopt,
                    const char *pidopt, int foreground, uid_t uid, gid_t gid,
                    struct daemon_opts *o)
{
	char err[600];

	if (sockopt != NULL &&
	    rm_conf_socket_check(sockopt, err, sizeof(err)) != 0) {
		fprintf(stderr, "relaymilter: -p %s: %s\n", sockopt, err);
		return RM_EX_USAGE;
	}
	/* in the background: a log file, or syslog (said when unreachable) */
	if (!foreground && st->st_log_file != NULL) {
		if (rm_log_use_file(st->st_log_file, err, sizeof(err)) != 0) {
			fprintf(stderr, "relaymilter: %s\n", err);
			return RM_EX_CONFIG;
		}
		/* the user it runs as (-u) reopens it after a rotation */
		if (uid != (uid_t)-1 && chown(st->st_log_file, uid, gid) != 0)
			fprintf(stderr, "relaymilter: warning: chown %s: %s\n",
			        st->st_log_file, strerror(errno));
	}
	if (st->st_log_facility >= 0)
		rm_log_set_facility(st->st_log_facility);
	if (!foreground && st->st_log_file == NULL &&
	    !rm_log_syslog_reachable())
		fprintf(stderr,
		        "relaymilter: warning: no syslog daemon listens on "
		        "/dev/log: in the background nothing will be logged; "
		        "set log_file, or run in the foreground (-f)\n");
	rm_log_open("relaymilter", foreground,
	            (enum rm_log_level)(st->st_log_level >= 0 ? st->st_log_level
	                                                      : RM_LOG_INFO));
	if (pidopt != NULL && *pidopt != '/') {
		fprintf(stderr, "relaymilter: -P %s: must be absolute\n",
		        pidopt);
		return RM_EX_USAGE;
	}
	return daemon_opts_get(o, st, sockopt, pidopt) != 0 ? RM_EX_OSERR : 0;
}

/* What start-up made, for the shutdown to undo. */
struct daemon_state {
	struct rm_runtime ds_rt;
	struct daemon_opts ds_opts;
	char *ds_config;     /* the absolute path */
	const char *ds_path; /* the unix socket's path, or NULL */
	struct stat ds_sock_st, ds_pid_st;
	int ds_sock_ours, ds_pid_ours;
	int ds_ready; /* daemon mode: the pipe to the starting process */
	struct rm_monitor ds_mon;      /* metrics endpoint, control socket */
	struct rm_follower *ds_follow; /* grants.follow, or NULL */
};

/* block_signals - ours are waited for, never delivered, in every thread */
static void
block_signals(void)
{
	sigset_t set;

	/*
	 * SIGUSR1 is for the reload thread, and libmilter's signal thread
	 * sigwait()s for SIGHUP, SIGINT and SIGTERM, which must not kill us
	 * elsewhere.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, RM_SIG_LDAPSYNC);
	sigaddset(&set, SIGUSR2); /* only the thread that runs libmilter */
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * limit_store - the limits' store the settings name (read at start): the
 * memory store, or Redis with the memory store as its fallback.  NULL
 * when out of memory.
 */
static bool
store_is_redis(const struct rm_settings *st)
{
	struct rm_store_addr a;
	char err[160];

	return st->st_store != NULL &&
	       rm_store_parse(st->st_store, &a, err, sizeof(err)) == 0 &&
	       a.sa_redis;
}

static struct rm_limit_store *
limit_store(const struct rm_settings *st, struct rm_metrics *mx)
{
	struct rm_redis_conf rc;
	char err[160];

	memset(&rc, 0, sizeof(rc));
	if (!store_is_redis(st))
		return rm_limits_memory_new(RM_LIMIT_ENTRIES);
	(void)rm_store_parse(st->st_store, &rc.rc_addr, err, sizeof(err));
	rc.rc_timeout_ms = st->st_store_timeout_ms;
	rc.rc_down = st->st_store_down == RM_STORE_DOWN_TEMPFAIL
	                 ? RM_STORE_DOWN_TEMPFAIL
	                 : RM_STORE_DOWN_LOCAL;
	rc.rc_fallbacks = &mx->mx_limit_store_fallbacks;
	rm_log(RM_LOG_INFO,
	       "limits: counting in Redis at %s (timeout %u ms, "
	       "when it is down: %s)",
	       st->st_store, rc.rc_timeout_ms ? rc.rc_timeout_ms : 1000,
	       rc.rc_down == RM_STORE_DOWN_TEMPFAIL ? "tempfail" : "local");
	return rm_limits_redis_new(&rc);
}

/*
 * daemon_load - the config once, for the settings, and the first policy
 * from that read.  0, or the exit status (reported on stderr).
 */
static int
daemon_load(struct daemon_state *ds, const char *config, const char *sockopt,
            const char *pidopt, int foreground, const char *user)
{
	struct rm_runtime *rt = &ds->ds_rt;
	const struct rm_settings *st;
	struct passwd *pw;
	struct rm_ruleset *rs;
	char err[1024];
	int rc;

	rm_source_init(&rt->rt_source, config);
	/* files the daemon writes belong to the user it runs as */
	if (user != NULL && geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL) {
			fprintf(stderr, "relaymilter: -u %s: no such user\n",
			        user);
			return RM_EX_USAGE;
		}
		rt->rt_source.src_cache_uid = pw->pw_uid;
		rt->rt_source.src_cache_gid = pw->pw_gid;
	}
	if (rm_source_read(&rt->rt_source, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return RM_EX_CONFIG;
	}
	st = rm_source_settings(&rt->rt_source);
	/* reloads happen after the chdir("/") of daemon mode */
	if ((ds->ds_config = realpath(config, NULL)) == NULL) {
		fprintf(stderr, "relaymilter: %s: %s\n", config,
		        strerror(errno));
		return RM_EX_CONFIG;
	}
	rt->rt_config_path = rt->rt_source.src_path = ds->ds_config;
	if ((rc = daemon_start_checks(
	         st, sockopt, pidopt, foreground, rt->rt_source.src_cache_uid,
	         rt->rt_source.src_cache_gid, &ds->ds_opts)) != 0)
		return rc;
	if ((rt->rt_limits = limit_store(st, &rt->rt_metrics)) == NULL) {
		fprintf(stderr, "relaymilter: out of memory\n");
		return RM_EX_OSERR;
	}
	rt->rt_grants = store_is_redis(st)
	                    ? rm_grants_redis_new(rt->rt_limits)
	                    : rm_grants_memory_new(RM_GRANT_ENTRIES);
	if (rt->rt_grants == NULL) {
		fprintf(stderr, "relaymilter: out of memory\n");
		return RM_EX_OSERR;
	}
	rt->rt_grants_on = st->st_grants_on > 0;
	rt->rt_grant_ttl =
	    st->st_grant_ttl ? st->st_grant_ttl : RM_GRANT_TTL_DEFAULT;
	rt->rt_log_json = st->st_log_json;
	rt->rt_answer_data = st->st_answer_data >= 0
	                         ? st->st_answer_data == 1
	                         : strncmp(ds->ds_opts.spec, "inet", 4) == 0;
	/* with LDAP: fresh data, else the cache, else tempfail everything;
	   with content synchronisation, a cache with cookies first */
	rt->rt_source.src_sync = true;
	if (rm_source_load(&rt->rt_source, false, &rs, err, sizeof(err)) !=
	    RM_SRC_NEW) {
		fprintf(stderr, "%s\n", err);
		return RM_EX_CONFIG;
	}
	rm_reload_warnings(rs, NULL);
	rm_reload_milter_map(rs, rt);
	rm_owners_set(&rt->rt_owners, st->st_ldap);
	rm_snapshot_init(&rt->rt_snapshot, rs);
	rm_reload_record(rt, rs, 1);
	return 0;
}

/*
 * daemon_listen - the milter socket, with its group and mode; a unix
 * socket another process listens on is left alone.  0, or -1 (reported).
 */
static int
daemon_listen(struct daemon_state *ds)
{
	const char *spec = ds->ds_opts.spec;
	char err[600];
	mode_t mask;

	ds->ds_path = unix_path(spec);
	if (ds->ds_path != NULL && socket_dir_missing(spec, ds->ds_path))
		return -1;
	if (ds->ds_path != NULL && rm_unix_in_use(ds->ds_path)) {
		fprintf(stderr,
		        "relaymilter: %s: another process is listening on "
		        "this socket\n",
		        spec);
		return -1;
	}
	/* a unix socket is born 0600, until socket_perms() */
	mask = umask(0177);
	if (smfi_setconn(ds->ds_opts.spec) != MI_SUCCESS ||
	    rm_mlfi_register(&ds->ds_rt) != 0 ||
	    smfi_opensocket(1) != MI_SUCCESS) {
		umask(mask);
		fprintf(stderr, "relaymilter: cannot listen on %s: %s\n", spec,
		        errno ? strerror(errno) : "libmilter error");
		return -1;
	}
	umask(mask);
	/* libmilter leaves the unix socket behind when run as root */
	if (ds->ds_path != NULL && stat(ds->ds_path, &ds->ds_sock_st) == 0)
		ds->ds_sock_ours = 1;
	if (ds->ds_path != NULL &&
	    socket_perms(ds->ds_path, ds->ds_opts.sockgid,
	                 ds->ds_opts.sockgroup, ds->ds_opts.sockmode) != 0)
		return -1;
	/* the metrics endpoint and the control socket: a busy port fails
	   the start here, before detaching */
	if (rm_monitor_open(&ds->ds_mon,
	                    rm_source_settings(&ds->ds_rt.rt_source), err,
	                    sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

/*
 * daemon_detach - background, pid file, user.  0, or -1 (logged, and
 * told to the starting process).
 */
static int
daemon_detach(struct daemon_state *ds, int foreground, const char *user)
{
	char why[600];

	if (!foreground && daemonize(&ds->ds_ready) != 0) {
		fprintf(stderr, "relaymilter: cannot daemonize: %s\n",
		        strerror(errno));
		return -1;
	}
	if (ds->ds_opts.pidfile != NULL) {
		if (pid_write(ds->ds_opts.pidfile, &ds->ds_pid_st) != 0) {
			snprintf(why, sizeof(why),
			         "relaymilter: pid file %s: %s",
			         ds->ds_opts.pidfile, strerror(errno));
			ready(&ds->ds_ready, RM_EX_OSERR, why);
			return -1;
		}
		ds->ds_pid_ours = 1;
	}
	if (user != NULL &&
	    drop_privileges(user, ds->ds_path, ds->ds_opts.sockgid,
	                    ds->ds_mon.mo_ctl_path,
	                    ds->ds_mon.mo_ctl_gid) != 0) {
		snprintf(why, sizeof(why), "relaymilter: cannot become %s",
		         user);
		ready(&ds->ds_ready, RM_EX_OSERR, why);
		return -1;
	}
	return 0;
}

/* nudge - SIGUSR2's handler: nothing; the signal only interrupts */
static void
nudge(int sig)
{
	(void)sig;
}

/* The nudges, while smfi_stop() waits for the listener. */
struct nudger {
	pthread_t nu_milter;
	atomic_bool nu_done;
};

static void *
nudger_thread(void *arg)
{
	struct nudger *nu = arg;
	const struct timespec pause = {0, 10 * 1000000};
	int i;

	/* bounded: libmilter's own wait ends within 5 s anyway */
	for (i = 0; i < 600 && !atomic_load(&nu->nu_done); i++) {
		pthread_kill(nu->nu_milter, SIGUSR2);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/*
 * stop_milter - stop libmilter now.  smfi_stop() sets the stop flag and
 * then waits for the listener's lock, which the listener holds through a
 * select() of up to 5 s; SIGUSR2 interrupts that select(), the listener
 * lets go of the lock and, seeing the flag, ends.  The signal is repeated
 * until smfi_stop() returns, so that one landing before the flag is set
 * is not the only one.
 */
static void
stop_milter(pthread_t milter)
{
	struct nudger nu;
	pthread_t t;
	int nudging;

	nu.nu_milter = milter;
	atomic_init(&nu.nu_done, false);
	nudging = pthread_create(&t, NULL, nudger_thread, &nu) == 0;
	smfi_stop();
	atomic_store(&nu.nu_done, true);
	if (nudging)
		pthread_join(t, NULL);
}

/* What the thread that runs libmilter reports, and to whom. */
struct milter_run {
	pthread_t mr_main; /* told by a signal when smfi_main() returns */
	int mr_rc;
};

static void *
milter_thread(void *arg)
{
	struct milter_run *mr = arg;
	sigset_t usr2;

	/* this thread alone takes SIGUSR2: the nudge out of its select() */
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &usr2, NULL);
	mr->mr_rc = smfi_main();
	pthread_kill(mr->mr_main, SIGTERM);
	return NULL;
}

/*
 * daemon_serve - the reload thread and libmilter, until it stops.  The
 * main thread waits for the stop signals itself: a signal sent to the
 * process comes to the main thread first when it waits for it, and it
 * stops libmilter at once (stop_milter) instead of within 5 s.  Should
 * libmilter's own signal thread get the signal, it stops as it always did.
 */
static int
daemon_serve(struct daemon_state *ds)
{
	struct rm_runtime *rt = &ds->ds_rt;
	struct milter_run mr = {pthread_self(), MI_FAILURE};
	const struct rm_settings *st;
	pthread_t th, mt;
	struct sigaction sa;
	char status[600];
	sigset_t stop;
	int rc, sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = nudge; /* no SA_RESTART: select() returns EINTR */
	sigaction(SIGUSR2, &sa, NULL);
	if (rm_monitor_start(&ds->ds_mon, rt) != 0) {
		ready(&ds->ds_ready, RM_EX_OSERR,
		      "relaymilter: cannot start the metrics thread");
		return RM_EX_OSERR;
	}
	/* grants.follow: the logs of the POP/IMAP server (read at start) */
	st = rm_source_settings(&rt->rt_source);
	if (rt->rt_grants_on && st->st_nfollow > 0 &&
	    (ds->ds_follow =
	         rm_follow_start(rt, st->st_follow, st->st_nfollow)) == NULL) {
		ready(&ds->ds_ready, RM_EX_OSERR,
		      "relaymilter: cannot start following the logs of "
		      "grants.follow");
		rm_monitor_stop(&ds->ds_mon);
		return RM_EX_OSERR;
	}
	if ((rc = pthread_create(&th, NULL, rm_reload_thread, rt)) != 0) {
		rm_log(RM_LOG_ERR, "cannot start the reload thread: %s",
		       strerror(rc));
		ready(&ds->ds_ready, RM_EX_OSERR,
		      "relaymilter: cannot start the reload thread");
		rm_follow_stop(ds->ds_follow);
		ds->ds_follow = NULL;
		return RM_EX_OSERR;
	}
	if ((rc = pthread_create(&mt, NULL, milter_thread, &mr)) != 0) {
		rm_log(RM_LOG_ERR, "cannot start libmilter: %s", strerror(rc));
		ready(&ds->ds_ready, RM_EX_OSERR,
		      "relaymilter: cannot start libmilter");
		atomic_store(&rt->rt_stopping, true);
		pthread_kill(th, SIGUSR1);
		pthread_join(th, NULL);
		rm_follow_stop(ds->ds_follow);
		ds->ds_follow = NULL;
		return RM_EX_OSERR;
	}
	rm_log(RM_LOG_INFO, "relaymilter %s listening on %s, config %s",
	       RM_VERSION, ds->ds_opts.spec, ds->ds_config);
	ready(&ds->ds_ready, 0, NULL);
	snprintf(status, sizeof(status),
	         "READY=1\nSTATUS=listening on %s, policy generation %lu",
	         ds->ds_opts.spec, rm_snapshot_generation(&rt->rt_snapshot));
	rm_notify(status);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	while (sigwait(&stop, &sig) != 0)
		;
	rm_log(RM_LOG_DEBUG, "signal %d: stopping libmilter", sig);
	rm_notify("STOPPING=1");
	stop_milter(mt);
	pthread_join(mt, NULL);
	rm_log(mr.mr_rc == MI_SUCCESS ? RM_LOG_INFO : RM_LOG_ERR, "stopping%s",
	       mr.mr_rc == MI_SUCCESS ? "" : " after a libmilter error");
	atomic_store(&rt->rt_stopping, true);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	rm_follow_stop(ds->ds_follow);
	ds->ds_follow = NULL;
	rm_monitor_stop(&ds->ds_mon);
	return mr.mr_rc == MI_SUCCESS ? 0 : RM_EX_OSERR;
}

int
rm_daemon_run(const char *config, const char *sockopt, const char *pidopt,
              int foreground, const char *user)
{
	struct daemon_state ds;
	int rc;

	block_signals();
	memset(&ds, 0, sizeof(ds));
	ds.ds_ready = -1;
	rm_owners_init(&ds.ds_rt.rt_owners);
	rm_watch_init(&ds.ds_rt.rt_watch);
	rm_monitor_init(&ds.ds_mon);
	if (rm_metrics_init(&ds.ds_rt.rt_metrics) != 0) {
		fprintf(stderr, "relaymilter: out of memory\n");
		return RM_EX_OSERR;
	}
	if ((rc = daemon_load(&ds, config, sockopt, pidopt, foreground,
	                      user)) == 0) {
		rc = RM_EX_OSERR;
		if (daemon_listen(&ds) == 0 &&
		    daemon_detach(&ds, foreground, user) == 0)
			rc = daemon_serve(&ds);
		rm_snapshot_destroy(&ds.ds_rt.rt_snapshot);
	}
	rm_monitor_close(&ds.ds_mon);
	if (ds.ds_sock_ours)
		remove_ours(ds.ds_path, &ds.ds_sock_st);
	if (ds.ds_pid_ours)
		remove_ours(ds.ds_opts.pidfile, &ds.ds_pid_st);
	rm_source_free(&ds.ds_rt.rt_source);
	rm_owners_destroy(&ds.ds_rt.rt_owners);
	rm_watch_destroy(&ds.ds_rt.rt_watch);
	rm_metrics_destroy(&ds.ds_rt.rt_metrics);
	if (ds.ds_rt.rt_grants != NULL)
		ds.ds_rt.rt_grants->gs_free(ds.ds_rt.rt_grants);
	if (ds.ds_rt.rt_limits != NULL)
		ds.ds_rt.rt_limits->ls_free(ds.ds_rt.rt_limits);
	daemon_opts_free(&ds.ds_opts);
	free(ds.ds_config);
	/* a daemon that never got ready still tells its starter */
	ready(&ds.ds_ready, rc != 0 ? rc : RM_EX_OSERR,
	      "relaymilter: the start failed (see the log)");
	return rc;
}
