/*
 * log.c - the log sink: stderr in the foreground; otherwise a file
 * (log_file) or syslog (log_facility, mail by default).
 *
 * The sink is chosen once, before threads start; afterwards the state is
 * only read, so rm_log() needs no lock (a line is one write(2); syslog
 * locks itself).  A log file is reopened in place (dup2 onto the same
 * descriptor) for rotation, which a writer in another thread never sees
 * half done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "relaymilter/log.h"

/* The one piece of process-wide logging state. */
static struct rm_log_state {
	const char *ls_ident;
	bool ls_stderr;
	enum rm_log_level ls_max;
	char ls_prefix[64]; /* "ident[pid]: ", for stderr and the file */
	int ls_fd;          /* the log file, or -1: syslog */
	char ls_path[4096]; /* its path, to reopen */
	int ls_facility;
} rm_log_state = {"relaymilter", true, RM_LOG_INFO, "", -1, "", LOG_MAIL};

/* The syslog facilities log_facility names. */
static const struct {
	const char *name;
	int facility;
} facilities[] = {
    {"mail", LOG_MAIL},     {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

int
rm_log_facility_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].facility;
	return -1;
}

void
rm_log_set_facility(int facility)
{
	rm_log_state.ls_facility = facility;
}

/* open_file - the log file for appending; a descriptor or -1 */
static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	            0640);
}

int
rm_log_use_file(const char *path, char *err, size_t errlen)
{
	int fd;

	if ((fd = open_file(path)) < 0) {
		snprintf(err, errlen, "log_file %s: %s", path, strerror(errno));
		return -1;
	}
	rm_log_state.ls_fd = fd;
	snprintf(rm_log_state.ls_path, sizeof(rm_log_state.ls_path), "%s",
	         path);
	return 0;
}

int
rm_log_reopen(void)
{
	int fd;

	if (rm_log_state.ls_fd < 0)
		return 0;
	if ((fd = open_file(rm_log_state.ls_path)) < 0)
		return -1;
	/* the same descriptor number: writers never see it closed */
	if (dup2(fd, rm_log_state.ls_fd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

void
rm_log_forked(void)
{
	snprintf(rm_log_state.ls_prefix, sizeof(rm_log_state.ls_prefix),
	         "%s[%ld]: ", rm_log_state.ls_ident, (long)getpid());
}

bool
rm_log_syslog_reachable(void)
{
	struct sockaddr_un sun;
	bool ok = false;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", "/dev/log");
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0) {
		ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
	}
	return ok;
}

static const char *const level_name[] = {
    [RM_LOG_ERR] = "error",
    [RM_LOG_WARNING] = "warning",
    [RM_LOG_INFO] = "info",
    [RM_LOG_DEBUG] = "debug",
};

static const int level_prio[] = {
    [RM_LOG_ERR] = LOG_ERR,
    [RM_LOG_WARNING] = LOG_WARNING,
    [RM_LOG_INFO] = LOG_INFO,
    [RM_LOG_DEBUG] = LOG_DEBUG,
};

void
rm_log_open(const char *ident, bool to_stderr, enum rm_log_level max)
{
	rm_log_state.ls_ident = ident;
	rm_log_state.ls_stderr = to_stderr;
	rm_log_state.ls_max = max;
	/* a daemon calls rm_log_forked() once it has its final pid */
	rm_log_forked();
	if (!to_stderr && rm_log_state.ls_fd < 0)
		openlog(ident, LOG_PID | LOG_NDELAY, rm_log_state.ls_facility);
}

bool
rm_log_enabled(enum rm_log_level l)
{
	return l <= rm_log_state.ls_max;
}

/* write_all - one write per line, so threads do not interleave. */
static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to say so */
		}
		p += w;
		n -= (size_t)w;
	}
}

/* stamp - "2026-12-01T23:06:12Z " at the start of a log file's line */
static size_t
stamp(char *buf, size_t len)
{
	struct tm tm;
	time_t now = time(NULL);

	if (gmtime_r(&now, &tm) == NULL)
		return 0;
	return strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ ", &tm);
}

void
rm_log(enum rm_log_level l, const char *fmt, ...)
{
	char line[2048];
	size_t n = 0;
	va_list ap;
	int k;
	bool file = !rm_log_state.ls_stderr && rm_log_state.ls_fd >= 0;

	if (!rm_log_enabled(l))
		return;
	if (rm_log_state.ls_stderr || file) {
		if (file)
			n = stamp(line, sizeof(line));
		/* before rm_log_open (the check CLI): the bare ident */
		if (rm_log_state.ls_prefix[0] != '\0')
			k = snprintf(line + n, sizeof(line) - n,
			             "%s%s: ", rm_log_state.ls_prefix,
			             level_name[l]);
		else
			k = snprintf(line + n, sizeof(line) - n,
			             "%s: %s: ", rm_log_state.ls_ident,
			             level_name[l]);
		n += k > 0 ? (size_t)k : 0;
	}
	va_start(ap, fmt);
	/* room for the newline is kept: a long line is cut, never lost */
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (!rm_log_state.ls_stderr && !file) {
		syslog(level_prio[l], "%s", line);
		return;
	}
	if (k > 0)
		n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k
		                                      : sizeof(line) - n - 2;
	line[n++] = '\n';
	write_all(file ? rm_log_state.ls_fd : STDERR_FILENO, line, n);
}

static size_t
escaped_len(unsigned char c)
{
	return c < 0x21 || c > 0x7e || c == '\\' ? 4 : 1;
}

const char *
rm_log_sanitize(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, total = 0, room;
	const char *p;

	if (len == 0)
		return buf;
	if (s == NULL)
		s = "-";
	for (p = s; *p != '\0'; p++)
		total += escaped_len((unsigned char)*p);
	/* too long: keep room for "..." so the cut is visible */
	room = total < len || len <= 4 ? len - 1 : len - 4;
	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (o + escaped_len(c) > room)
			break;
		if (escaped_len(c) == 4) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			buf[o++] = (char)c;
	}
	if (total >= len && len > 4) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
