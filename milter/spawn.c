/*
 * spawn.c - fork twice and execve, no shell (spawn.h).
 *
 * Everything is built before the fork: after it, in a threaded process,
 * only async-signal-safe calls.  The grandchild reports a failed execve
 * through a close-on-exec pipe, so that the failure reaches the log; the
 * read ends when the command has started (the pipe closes) or failed.
 */
#define _GNU_SOURCE /* close_range() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relaymilter/spawn.h"

#define SPAWN_ARGS 33
#define SPAWN_ARG  1024

/* expand - one argument with %l, %k and %% replaced */
static char *
expand(const char *a, const char *limit, const char *key)
{
	char buf[SPAWN_ARG];
	size_t n = 0, l;
	const char *v;

	for (; *a != '\0' && n < sizeof(buf) - 1; a++) {
		v = NULL;
		if (a[0] == '%' &&
		    (a[1] == 'l' || a[1] == 'k' || a[1] == '%')) {
			v = a[1] == 'l' ? limit : a[1] == 'k' ? key : "%";
			a++;
		}
		if (v == NULL) {
			buf[n++] = *a;
			continue;
		}
		l = strlen(v);
		if (l > sizeof(buf) - 1 - n)
			l = sizeof(buf) - 1 - n;
		memcpy(buf + n, v, l);
		n += l;
	}
	buf[n] = '\0';
	return strdup(buf);
}

static void
free_all(char **v)
{
	size_t i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
}

/*
 * child - the first child: start the grandchild, exit at once.  The
 * command gets descriptors 0-2 only: every other one (the milter socket
 * and its sessions, LDAP, Redis, the log) is close-on-exec from here, so
 * that a command still running cannot hold the milter socket or a session
 * open after the daemon stops.
 */
static void
child(char *const av[], char *const env[], int wfd, long maxfd)
{
	int e;
	long fd;

	if (fork() == 0) {
#ifdef CLOSE_RANGE_CLOEXEC
		if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
			for (fd = 3; fd < maxfd; fd++)
				(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
		execve(av[0], av, env);
		e = errno;
		(void)!write(wfd, &e, sizeof(e));
		_exit(127);
	}
	_exit(0);
}

int
rm_spawn(char *const argv[], const char *limit, const char *key, char *err,
         size_t errlen)
{
	char *av[SPAWN_ARGS + 1] = {NULL}, *env[3] = {NULL};
	int fds[2], e = 0, rc = -1;
	size_t i, n = 0;
	long maxfd = sysconf(_SC_OPEN_MAX);
	pid_t pid;

	for (i = 0; argv[i] != NULL && i < SPAWN_ARGS; i++)
		if ((av[n++] = expand(argv[i], limit, key)) == NULL)
			goto oom;
	env[0] = malloc(strlen(limit) + 20);
	env[1] = malloc(strlen(key) + 20);
	if (env[0] == NULL || env[1] == NULL)
		goto oom;
	sprintf(env[0], "RELAYMILTER_LIMIT=%s", limit);
	sprintf(env[1], "RELAYMILTER_KEY=%s", key);
	if (maxfd < 0 || maxfd > 65536)
		maxfd = 65536;
	if (pipe(fds) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto out;
	}
	(void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	if (pid == 0)
		child(av, env, fds[1], maxfd);
	close(fds[1]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (read(fds[0], &e, sizeof(e)) == (ssize_t)sizeof(e))
		snprintf(err, errlen, "%s: %s", av[0], strerror(e));
	else
		rc = 0;
	close(fds[0]);
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	free_all(av);
	free(env[0]);
	free(env[1]);
	return rc;
}
