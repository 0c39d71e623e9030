/*
 * main.c - relaymilter(8): options, start-up, reload thread, shutdown.
 *
 * Start-up order matters: load and check the config, open the milter
 * socket (as root if need be), daemonize before any thread exists, drop
 * privileges, then start the reload thread and hand over to smfi_main().
 * libmilter's own signal thread turns SIGTERM, SIGINT and SIGHUP into a
 * clean stop; SIGUSR1 is ours and means "reload the config".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
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
#define EX_USAGE_         64
#define EX_OSERR_         71

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: relaymilter [-c CONFIG] [-p SOCKET] [-f] [-u USER] [-n] "
	    "[-V]\n"
	    "       relaymilter check [-c CONFIG] --client ADDR --rcpt ADDR "
	    "... [--explain]\n"
	    "  -c CONFIG  config file (default %s)\n"
	    "  -p SOCKET  unix:/path or inet:PORT@HOST (overrides \"socket\")\n"
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

/* drop_privileges - become user (and its groups) for good. */
static int
drop_privileges(const char *user, const char *sockpath)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL) {
		fprintf(stderr, "relaymilter: -u %s: no such user\n", user);
		return -1;
	}
	/* the socket must stay removable by us at exit */
	if (sockpath != NULL && chown(sockpath, pw->pw_uid, pw->pw_gid) != 0)
		fprintf(stderr, "relaymilter: chown %s: %s\n", sockpath,
		        strerror(errno));
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "relaymilter: cannot become %s: %s\n", user,
		        strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "relaymilter: could regain root after -u\n");
		return -1;
	}
	return 0;
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

/*
 * reload_thread - wait for SIGUSR1 (blocked in every thread) and reload;
 * with LDAP, also check for changes every ldap.refresh seconds.
 */
static void *
reload_thread(void *arg)
{
	struct rm_runtime *rt = arg;
	struct timespec ts;
	sigset_t set;
	int sig, every;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		every = refresh_interval(rt);
		if (every > 0) {
			ts.tv_sec = every;
			ts.tv_nsec = 0;
			sig = sigtimedwait(&set, NULL, &ts);
		} else if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&rt->rt_stopping))
			break;
		if (sig == SIGUSR1)
			reload(rt, false);
		else if (sig < 0 && errno == EAGAIN)
			reload(rt, true);
	}
	return NULL;
}

static int
run_daemon(const char *config, const char *sockopt, int foreground,
           const char *user)
{
	struct rm_runtime rt;
	struct rm_ruleset *rs;
	const char *spec, *path;
	char err[1024], *abspath, *sockspec = NULL;
	pthread_t th;
	struct stat sock_st, st;
	sigset_t set;
	int rc, level, sock_ours = 0;

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
	spec = sockopt         ? sockopt
	       : rs->rs_socket ? rs->rs_socket
	                       : RM_SOCKET_DEFAULT;
	if (sockopt != NULL &&
	    rm_conf_socket_check(sockopt, err, sizeof(err)) != 0) {
		fprintf(stderr, "relaymilter: -p %s: %s\n", sockopt, err);
		rm_ruleset_release(rs);
		return EX_USAGE_;
	}
	level = rs->rs_log_level >= 0 ? rs->rs_log_level : RM_LOG_INFO;
	rm_log_open("relaymilter", foreground, (enum rm_log_level)level);
	/* the spec lives in the ruleset, which is about to go */
	spec = sockspec = strdup(spec);
	rm_ruleset_release(rs);
	if (spec == NULL) {
		fprintf(stderr, "relaymilter: out of memory\n");
		free(abspath);
		return EX_OSERR_;
	}

	memset(&rt, 0, sizeof(rt));
	rt.rt_config_path = config;
	rt.rt_source.src_path = config;
	rm_ownercache_init(&rt.rt_owners);
	/* with LDAP: fresh data, else the cache, else tempfail everything */
	if (rm_source_load(&rt.rt_source, false, &rs, err, sizeof(err)) !=
	    RM_SRC_NEW) {
		fprintf(stderr, "%s\n", err);
		rm_source_free(&rt.rt_source);
		free(sockspec);
		free(abspath);
		return RM_EX_CONFIG;
	}
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
	if (smfi_setconn(sockspec) != MI_SUCCESS ||
	    rm_mlfi_register(&rt) != 0 || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "relaymilter: cannot listen on %s: %s\n", spec,
		        errno ? strerror(errno) : "libmilter error");
		goto out;
	}
	/* libmilter leaves the unix socket behind when run as root */
	if (path != NULL && stat(path, &sock_st) == 0)
		sock_ours = 1;
	if (!foreground && daemonize() != 0) {
		fprintf(stderr, "relaymilter: cannot daemonize: %s\n",
		        strerror(errno));
		goto out;
	}
	if (user != NULL && drop_privileges(user, path) != 0)
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
	if (sock_ours && stat(path, &st) == 0 && st.st_dev == sock_st.st_dev &&
	    st.st_ino == sock_st.st_ino)
		(void)unlink(path);
out:
	rm_snapshot_destroy(&rt.rt_snapshot);
	rm_source_free(&rt.rt_source);
	rm_ownercache_destroy(&rt.rt_owners);
	free(sockspec);
	free(abspath);
	return rc;
}

int
main(int argc, char **argv)
{
	const char *config = RM_CONF_DEFAULT, *sockopt = NULL, *user = NULL;
	struct rm_ruleset *rs;
	char err[1024];
	int c, foreground = 0, check_only = 0;

	rm_ldap_init();
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return rm_check_main(argc - 1, argv + 1);
	while ((c = getopt(argc, argv, "c:p:fu:nVh")) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			sockopt = optarg;
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
		rm_ruleset_release(rs);
		printf("%s: OK\n", config);
		return 0;
	}
	return run_daemon(config, sockopt, foreground, user);
}
