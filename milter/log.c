/*
 * log.c - the log sink: stderr in the foreground, syslog (mail) otherwise.
 *
 * The sink is chosen once, before threads start; afterwards the state is
 * only read, so rm_log() needs no lock (stdio and syslog lock themselves).
 */
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
} rm_log_state = {"relaymilter", true, RM_LOG_INFO};

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
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

bool
rm_log_enabled(enum rm_log_level l)
{
	return l <= rm_log_state.ls_max;
}

void
rm_log(enum rm_log_level l, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (!rm_log_enabled(l))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rm_log_state.ls_stderr)
		/* one write per line, so threads do not interleave */
		fprintf(stderr, "%s[%ld]: %s: %s\n", rm_log_state.ls_ident,
		        (long)getpid(), level_name[l], line);
	else
		syslog(level_prio[l], "%s", line);
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
