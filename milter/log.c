/*
 * log.c - the log sink: stderr in the foreground, syslog (mail) otherwise.
 *
 * The sink is chosen once, before threads start; afterwards the state is
 * only read, so rm_log() needs no lock (a line is one write(2); syslog
 * locks itself).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "relaymilter/log.h"

/* The one piece of process-wide logging state. */
static struct rm_log_state {
	const char *ls_ident;
	bool ls_stderr;
	enum rm_log_level ls_max;
	char ls_prefix[64]; /* "ident[pid]: ", for stderr */
} rm_log_state = {"relaymilter", true, RM_LOG_INFO, ""};

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
	/* the foreground process never forks: its pid is known once */
	snprintf(rm_log_state.ls_prefix, sizeof(rm_log_state.ls_prefix),
	         "%s[%ld]: ", ident, (long)getpid());
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
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

void
rm_log(enum rm_log_level l, const char *fmt, ...)
{
	char line[2048];
	size_t n = 0;
	va_list ap;
	int k;

	if (!rm_log_enabled(l))
		return;
	if (rm_log_state.ls_stderr) {
		/* before rm_log_open (the check CLI): the bare ident */
		if (rm_log_state.ls_prefix[0] != '\0')
			k = snprintf(line, sizeof(line),
			             "%s%s: ", rm_log_state.ls_prefix,
			             level_name[l]);
		else
			k = snprintf(line, sizeof(line),
			             "%s: %s: ", rm_log_state.ls_ident,
			             level_name[l]);
		n = k > 0 ? (size_t)k : 0;
	}
	va_start(ap, fmt);
	/* room for the newline is kept: a long line is cut, never lost */
	k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (!rm_log_state.ls_stderr) {
		syslog(level_prio[l], "%s", line);
		return;
	}
	if (k > 0)
		n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k
		                                      : sizeof(line) - n - 2;
	line[n++] = '\n';
	write_all(STDERR_FILENO, line, n);
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
