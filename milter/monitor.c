/*
 * monitor.c - the metrics endpoint, the control socket, "relaymilter
 * stats" (monitor.h).
 *
 * The HTTP side is the least HTTP/1.x that Prometheus needs: one request
 * per connection ("Connection: close"), GET or HEAD of /metrics, anything
 * else 400 (malformed or too big), 404 (another path) or 405 (another
 * method), then close.  The control socket reads one request line ("stats",
 * or nothing before the client shuts its side: the metrics text; "limits
 * ..." and "lift ...": limitctl.c), answers and closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "relaymilter/conf.h"
#include "relaymilter/daemon.h"
#include "relaymilter/grantctl.h"
#include "relaymilter/limitctl.h"
#include "relaymilter/log.h"
#include "relaymilter/metrics.h"
#include "relaymilter/monitor.h"
#include "relaymilter/rm.h"

void
rm_monitor_init(struct rm_monitor *mo)
{
	memset(mo, 0, sizeof(*mo));
	mo->mo_http = mo->mo_ctl = mo->mo_wake[0] = mo->mo_wake[1] = -1;
	mo->mo_ctl_gid = (gid_t)-1;
}

const char *
rm_control_path(const struct rm_settings *st)
{
	return st != NULL && st->st_control_socket != NULL
	           ? st->st_control_socket
	           : RM_CONTROL_DEFAULT;
}

/* unix_addr - path as a unix socket address; false when too long */
static bool
unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return false;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return true;
}

bool
rm_unix_in_use(const char *path)
{
	struct sockaddr_un sun;
	int fd, rc;

	if (!unix_addr(path, &sun) ||
	    (fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return false;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

/* listen_on - a non-blocking listening socket on sa; -1 with errno */
static int
listen_on(const struct sockaddr *sa, socklen_t len)
{
	int fd, one = 1, e;

	if ((fd = socket(sa->sa_family,
	                 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (sa->sa_family != AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		                 sizeof(one));
	if (bind(fd, sa, len) != 0 || listen(fd, 16) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* open_http - the metrics endpoint; 0, or -1 with err */
static int
open_http(struct rm_monitor *mo, const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback;
	char why[160];

	if (rm_metrics_addr(spec, &ss, &len, &loopback, why, sizeof(why)) !=
	    0) {
		snprintf(err, errlen, "relaymilter: metrics \"%s\": %s", spec,
		         why);
		return -1;
	}
	if ((mo->mo_http = listen_on((struct sockaddr *)&ss, len)) < 0) {
		snprintf(err, errlen,
		         "relaymilter: metrics: cannot listen on %s: %s", spec,
		         strerror(errno));
		return -1;
	}
	if (!loopback)
		rm_log(RM_LOG_WARNING,
		       "metrics: %s is not a loopback address: anyone who "
		       "reaches it can read the figures",
		       spec);
	return 0;
}

/*
 * open_control - the control socket, mode 0600.  The default path is
 * skipped (not an error) when its directory is missing or another
 * instance listens there.
 */
static int
open_control(struct rm_monitor *mo, const char *path, bool explicit, char *err,
             size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t mask;

	if (!unix_addr(path, &sun)) {
		snprintf(err, errlen,
		         "relaymilter: control_socket %s: too long", path);
		return -1;
	}
	if (rm_unix_in_use(path)) {
		if (!explicit)
			return 0;
		snprintf(err, errlen,
		         "relaymilter: control_socket %s: another process is "
		         "listening on this socket",
		         path);
		return -1;
	}
	/* a stale socket of ours; never anything else */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	mask = umask(0177);
	mo->mo_ctl = listen_on((struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (mo->mo_ctl < 0) {
		if (!explicit && errno == ENOENT)
			return 0; /* no run directory: no control socket */
		snprintf(err, errlen, "relaymilter: control_socket %s: %s",
		         path, strerror(errno));
		return -1;
	}
	if (stat(path, &mo->mo_ctl_st) != 0 ||
	    (mo->mo_ctl_path = strdup(path)) == NULL) {
		snprintf(err, errlen, "relaymilter: control_socket %s: %s",
		         path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * control_group - control_socket_group: the socket becomes 0660 in that
 * group, so that its members (a POP/IMAP server's post-login script) may
 * use it
 */
static int
control_group(struct rm_monitor *mo, const char *group, char *err,
              size_t errlen)
{
	if (rm_conf_group(group, &mo->mo_ctl_gid) != 0) {
		snprintf(err, errlen,
		         "relaymilter: control_socket_group %s: no such group",
		         group);
		return -1;
	}
	if (chown(mo->mo_ctl_path, (uid_t)-1, mo->mo_ctl_gid) != 0 ||
	    chmod(mo->mo_ctl_path, 0660) != 0 ||
	    stat(mo->mo_ctl_path, &mo->mo_ctl_st) != 0) {
		snprintf(err, errlen, "relaymilter: control_socket %s: %s",
		         mo->mo_ctl_path, strerror(errno));
		return -1;
	}
	return 0;
}

int
rm_monitor_open(struct rm_monitor *mo, const struct rm_settings *st, char *err,
                size_t errlen)
{
	if (st->st_metrics != NULL &&
	    open_http(mo, st->st_metrics, err, errlen) != 0)
		return -1;
	mo->mo_ctl_gid = (gid_t)-1;
	if (open_control(mo, rm_control_path(st), st->st_control_socket != NULL,
	                 err, errlen) != 0)
		return -1;
	return mo->mo_ctl_path == NULL || st->st_control_socket_group == NULL
	           ? 0
	           : control_group(mo, st->st_control_socket_group, err,
	                           errlen);
}

/* ---- serving ---------------------------------------------------------- */

static void
deadline_in(struct timespec *d, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	d->tv_sec += ms / 1000;
	d->tv_nsec += (long)(ms % 1000) * 1000000;
	if (d->tv_nsec >= 1000000000) {
		d->tv_sec++;
		d->tv_nsec -= 1000000000;
	}
}

/*
 * wait_fd - fd ready for ev before the deadline: 1; 0 on timeout; -1 when
 * the thread is told to stop.
 */
static int
wait_fd(struct rm_monitor *mo, int fd, short ev, const struct timespec *dl)
{
	struct pollfd p[2] = {{fd, ev, 0}, {mo->mo_wake[0], POLLIN, 0}};
	int n;

	for (;;) {
		n = poll(p, 2, (int)rm_ms_until(dl));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[1].revents != 0)
			return -1;
		return n > 0 ? 1 : 0;
	}
}

/* send_all - the whole of buf before the deadline; 0, or -1 */
static int
send_all(struct rm_monitor *mo, int fd, const char *buf, size_t len,
         const struct timespec *dl)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		else if (n < 0 && errno == EAGAIN &&
		         wait_fd(mo, fd, POLLOUT, dl) != 1)
			return -1;
	}
	return 0;
}

/* render - the exposition into mb; false when out of memory */
static bool
render(struct rm_monitor *mo, struct rm_mxbuf *mb)
{
	memset(mb, 0, sizeof(*mb));
	rm_metrics_render(mo->mo_rt, time(NULL), mb);
	if (mb->mb_oom)
		rm_log(RM_LOG_ERR, "metrics: out of memory");
	return !mb->mb_oom;
}

/*
 * read_request - the request head (up to the empty line) into buf, NUL
 * terminated.  0; 400 when it is too big; -1 when the client went away,
 * was too slow, or the thread is stopping.
 */
static int
read_request(struct rm_monitor *mo, int fd, char *buf, size_t size,
             const struct timespec *dl)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (len == size - 1)
			return 400;
		if (wait_fd(mo, fd, POLLIN, dl) != 1)
			return -1;
		n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (memchr(buf, '\0', len) != NULL)
			return 400;
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			return 0;
	}
}

/* token_ok - an HTTP method: 1-16 upper-case letters */
static bool
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 16)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

/*
 * http_status - the answer to a request head: 200, 400, 404 or 405;
 * *head: a HEAD request (no body).
 */
static int
http_status(const char *req, bool *head)
{
	const char *sp1 = strchr(req, ' '), *sp2, *t, *v;
	size_t tlen;

	*head = false;
	if (sp1 == NULL || !token_ok(req, (size_t)(sp1 - req)))
		return 400;
	t = sp1 + 1;
	if ((sp2 = strchr(t, ' ')) == NULL || *t != '/')
		return 400;
	tlen = (size_t)(sp2 - t);
	for (v = t; v < sp2; v++)
		if ((unsigned char)*v <= ' ' || *v == 0x7f)
			return 400;
	v = sp2 + 1;
	if (strncmp(v, "HTTP/1.", 7) != 0 || (v[7] != '0' && v[7] != '1') ||
	    (strncmp(v + 8, "\r\n", 2) != 0 && v[8] != '\n'))
		return 400;
	*head = sp1 - req == 4 && strncmp(req, "HEAD", 4) == 0;
	if (!*head && !(sp1 - req == 3 && strncmp(req, "GET", 3) == 0))
		return 405;
	if ((tlen == 8 || (tlen > 8 && t[8] == '?')) &&
	    strncmp(t, "/metrics", 8) == 0)
		return 200;
	return 404;
}

/* The answers other than 200: status line, extra header, body. */
static const struct {
	int code;
	const char *reason, *extra, *body;
} http_errors[] = {
    {400, "Bad Request", "", "bad request\n"},
    {404, "Not Found", "", "only /metrics is here\n"},
    {405, "Method Not Allowed", "Allow: GET, HEAD\r\n", "GET or HEAD only\n"},
    {500, "Internal Server Error", "", "out of memory\n"},
};

/* respond - the status line, headers and body (omitted for HEAD) */
static void
respond(struct rm_monitor *mo, int fd, int code, bool head,
        const struct timespec *dl)
{
	struct rm_mxbuf mb;
	const char *reason = "OK", *extra = "", *body;
	char hdr[512];
	size_t i, blen;
	int n;

	memset(&mb, 0, sizeof(mb));
	if (code == 200 && !render(mo, &mb))
		code = 500;
	body = mb.mb_buf;
	blen = mb.mb_len;
	for (i = 0;
	     code != 200 && i < sizeof(http_errors) / sizeof(http_errors[0]);
	     i++)
		if (http_errors[i].code == code) {
			reason = http_errors[i].reason;
			extra = http_errors[i].extra;
			body = http_errors[i].body;
			blen = strlen(body);
		}
	n = snprintf(hdr, sizeof(hdr),
	             "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	             "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
	             code, reason,
	             code == 200 ? "text/plain; version=0.0.4; charset=utf-8"
	                         : "text/plain; charset=utf-8",
	             blen, extra);
	if (send_all(mo, fd, hdr, (size_t)n, dl) == 0 && !head && blen > 0)
		(void)send_all(mo, fd, body, blen, dl);
	rm_mxbuf_free(&mb);
}

/*
 * linger_close - close after the answer, first reading what the client
 * may still send (briefly), so that the kernel does not reset the
 * connection over unread input before the client has read the answer.
 */
static void
linger_close(struct rm_monitor *mo, int fd)
{
	struct timespec dl;
	char junk[4096];
	int i;

	(void)shutdown(fd, SHUT_WR);
	deadline_in(&dl, 200);
	for (i = 0; i < 64 && wait_fd(mo, fd, POLLIN, &dl) == 1; i++)
		if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
			break;
	close(fd);
}

/* accept_one - a connection, close-on-exec, or -1 */
static int
accept_one(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd >= 0)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static void
serve_http(struct rm_monitor *mo)
{
	char req[RM_HTTP_MAX_REQUEST];
	struct timespec dl;
	bool head = false;
	int fd, code;

	if ((fd = accept_one(mo->mo_http)) < 0)
		return;
	deadline_in(&dl, RM_MONITOR_TIMEOUT_MS);
	code = read_request(mo, fd, req, sizeof(req), &dl);
	if (code == 0)
		code = http_status(req, &head);
	if (code > 0) {
		deadline_in(&dl, RM_MONITOR_TIMEOUT_MS);
		respond(mo, fd, code, head, &dl);
	}
	linger_close(mo, fd);
}

/*
 * read_line - the request line into buf (without its newline): 0, also
 * for none (the client shut its side); -1 when it is too long, too slow,
 * or the thread is stopping.
 */
static int
read_line(struct rm_monitor *mo, int fd, char *buf, size_t size,
          const struct timespec *dl)
{
	size_t len = 0;
	ssize_t n;
	char *nl;

	buf[0] = '\0';
	for (;;) {
		if (len == size - 1 || wait_fd(mo, fd, POLLIN, dl) != 1)
			return -1;
		n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -1;
		buf[len + (size_t)n] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL || n == 0) {
			if (nl != NULL)
				*nl = '\0';
			return 0;
		}
		len += (size_t)n;
	}
}

static void
serve_control(struct rm_monitor *mo)
{
	char req[RM_CONTROL_MAX_REQUEST];
	struct rm_mxbuf mb;
	struct timespec dl;
	int fd;

	if ((fd = accept_one(mo->mo_ctl)) < 0)
		return;
	deadline_in(&dl, RM_MONITOR_TIMEOUT_MS);
	memset(&mb, 0, sizeof(mb));
	if (read_line(mo, fd, req, sizeof(req), &dl) != 0)
		rm_mxbuf_printf(&mb, "error: bad request\n");
	else if (req[0] == '\0' || strcmp(req, "stats") == 0) {
		if (!render(mo, &mb))
			rm_mxbuf_free(&mb);
	} else if (!rm_grantctl_answer(mo->mo_rt, req, &mb))
		rm_limitctl_answer(mo->mo_rt, req, &mb);
	deadline_in(&dl, RM_MONITOR_TIMEOUT_MS);
	if (mb.mb_buf != NULL && !mb.mb_oom)
		(void)send_all(mo, fd, mb.mb_buf, mb.mb_len, &dl);
	rm_mxbuf_free(&mb);
	close(fd);
}

static void *
monitor_thread(void *arg)
{
	struct rm_monitor *mo = arg;
	struct pollfd p[3] = {{mo->mo_wake[0], POLLIN, 0},
	                      {mo->mo_http, POLLIN, 0},
	                      {mo->mo_ctl, POLLIN, 0}};

	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			rm_log(RM_LOG_ERR, "metrics: poll: %s",
			       strerror(errno));
			break;
		}
		if (p[0].revents != 0)
			break;
		if (p[1].revents != 0)
			serve_http(mo);
		if (p[2].revents != 0)
			serve_control(mo);
	}
	return NULL;
}

int
rm_monitor_start(struct rm_monitor *mo, struct rm_runtime *rt)
{
	int rc;

	mo->mo_rt = rt;
	if (mo->mo_http < 0 && mo->mo_ctl < 0)
		return 0;
	if (pipe(mo->mo_wake) != 0) {
		rm_log(RM_LOG_ERR, "metrics: pipe: %s", strerror(errno));
		return -1;
	}
	if ((rc = pthread_create(&mo->mo_thread, NULL, monitor_thread, mo)) !=
	    0) {
		rm_log(RM_LOG_ERR, "cannot start the metrics thread: %s",
		       strerror(rc));
		return -1;
	}
	mo->mo_running = true;
	return 0;
}

void
rm_monitor_stop(struct rm_monitor *mo)
{
	if (!mo->mo_running)
		return;
	(void)!write(mo->mo_wake[1], "x", 1);
	pthread_join(mo->mo_thread, NULL);
	mo->mo_running = false;
}

void
rm_monitor_close(struct rm_monitor *mo)
{
	struct stat st;
	int i;

	rm_monitor_stop(mo);
	if (mo->mo_http >= 0)
		close(mo->mo_http);
	if (mo->mo_ctl >= 0)
		close(mo->mo_ctl);
	for (i = 0; i < 2; i++)
		if (mo->mo_wake[i] >= 0)
			close(mo->mo_wake[i]);
	/* only if it is still the socket we made */
	if (mo->mo_ctl_path != NULL && stat(mo->mo_ctl_path, &st) == 0 &&
	    st.st_dev == mo->mo_ctl_st.st_dev &&
	    st.st_ino == mo->mo_ctl_st.st_ino)
		(void)unlink(mo->mo_ctl_path);
	free(mo->mo_ctl_path);
	rm_monitor_init(mo);
}

/* ---- relaymilter stats ------------------------------------------------ */

int
rm_control_ask(const char *path, const char *req, struct rm_mxbuf *mb)
{
	struct sockaddr_un sun;
	struct pollfd p;
	char buf[8192];
	ssize_t n;
	int fd;

	if (!unix_addr(path, &sun)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    (req != NULL && send(fd, req, strlen(req), MSG_NOSIGNAL) !=
	                        (ssize_t)strlen(req)) ||
	    shutdown(fd, SHUT_WR) != 0)
		goto fail;
	p.fd = fd;
	p.events = POLLIN;
	for (;;) {
		if (poll(&p, 1, 5000) != 1) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if ((n = read(fd, buf, sizeof(buf))) < 0)
			goto fail;
		if (n == 0)
			break;
		rm_mxbuf_printf(mb, "%.*s", (int)n, buf);
	}
	close(fd);
	return 0;
fail:
	n = errno;
	close(fd);
	errno = (int)n;
	return -1;
}

/*
 * print_stats - the exposition for people: each metric's help as a
 * heading, then its samples as aligned "name{labels} value" lines.
 */
static void
print_stats(char *text)
{
	size_t w = 0, n;
	char *line, *sp, *save = NULL;
	char *copy = strdup(text);

	/* the width of the widest sample name */
	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		if (line[0] != '#' && (sp = strrchr(line, ' ')) != NULL &&
		    (n = (size_t)(sp - line)) > w)
			w = n;
	free(copy);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0 &&
		    (sp = strchr(line + 7, ' ')) != NULL)
			printf("\n# %s\n", sp + 1);
		else if (line[0] != '#' && (sp = strrchr(line, ' ')) != NULL)
			printf("%-*.*s %s\n", (int)w, (int)(sp - line), line,
			       sp + 1);
	}
}

int
rm_control_print(const char *who, const char *config, const char *req,
                 const char *fail)
{
	struct rm_mxbuf mb;
	int rc;

	if ((rc = rm_control_call(who, config, req, true, &mb)) == 0 &&
	    mb.mb_len > 0) {
		fputs(mb.mb_buf, stdout);
		if (strncmp(mb.mb_buf, "error:", 6) == 0 ||
		    (fail != NULL && strcmp(mb.mb_buf, fail) == 0))
			rc = 1;
	}
	rm_mxbuf_free(&mb);
	return rc;
}

int
rm_control_opts(int argc, char **argv, const char *const *names, size_t n,
                const char **vals, const char **config, void (*usage)(FILE *))
{
	struct option opts[RM_CONTROL_OPTS + 2];
	size_t i;
	int c;

	memset(opts, 0, sizeof(opts));
	for (i = 0; i < n && i < RM_CONTROL_OPTS; i++) {
		opts[i].name = names[i];
		opts[i].has_arg = required_argument;
		opts[i].val = 256 + (int)i;
	}
	opts[i].name = "help";
	opts[i].val = 'h';
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c >= 256 && c < 256 + (int)i)
			vals[c - 256] = optarg;
		else if (c == 'c')
			*config = optarg;
		else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : RM_EX_USAGE;
		}
	}
	return -1;
}

int
rm_control_call(const char *who, const char *config, const char *req,
                bool empty_ok, struct rm_mxbuf *mb)
{
	struct rm_conf *cf;
	const char *path;
	char err[1024];
	int rc = 0;

	memset(mb, 0, sizeof(*mb));
	if ((cf = rm_conf_read(config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return RM_EX_CONFIG;
	}
	path = rm_control_path(rm_conf_settings(cf));
	errno = 0;
	if (rm_control_ask(path, req, mb) != 0 || mb->mb_oom ||
	    (mb->mb_len == 0 && !empty_ok)) {
		fprintf(stderr,
		        "relaymilter %s: no answer on %s: %s (is relaymilter "
		        "running with this config?)\n",
		        who, path ? path : "(no control socket)",
		        mb->mb_oom ? "out of memory"
		        : errno    ? strerror(errno)
		                   : "empty reply");
		rc = RM_EX_UNAVAILABLE;
	}
	rm_conf_free(cf);
	return rc;
}

int
rm_stats_main(int argc, char **argv)
{
	const char *config = RM_CONF_DEFAULT;
	struct rm_mxbuf mb;
	int c, rc;

	while ((c = getopt(argc, argv, "c:h")) != -1) {
		if (c != 'c') {
			fprintf(c == 'h' ? stdout : stderr,
			        "usage: relaymilter stats [-c CONFIG]\n");
			return c == 'h' ? 0 : RM_EX_USAGE;
		}
		config = optarg;
	}
	if (optind != argc) {
		fprintf(stderr, "usage: relaymilter stats [-c CONFIG]\n");
		return RM_EX_USAGE;
	}
	if ((rc = rm_control_call("stats", config, "stats\n", false, &mb)) == 0)
		print_stats(mb.mb_buf);
	rm_mxbuf_free(&mb);
	return rc;
}
