/*
 * log.h - logging to stderr (foreground) or syslog (facility mail).
 *
 * Every value that came from the network goes through rm_log_sanitize()
 * before it is logged, so a hostile HELO cannot forge log lines.
 */
#ifndef RM_LOG_H
#define RM_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define RM_PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))

enum rm_log_level { RM_LOG_ERR, RM_LOG_WARNING, RM_LOG_INFO, RM_LOG_DEBUG };

/* rm_log_open - choose the sink; call before any thread starts. */
void rm_log_open(const char *ident, bool to_stderr, enum rm_log_level max);
void rm_log(enum rm_log_level, const char *fmt, ...) RM_PRINTFLIKE(2, 3);
bool rm_log_enabled(enum rm_log_level);

/*
 * rm_log_sanitize - copy s into buf with every byte outside 0x21-0x7e
 * (and '\\') written as \xHH, cut at len - 1 with "..." appended when
 * too long.  NULL becomes "-".  Returns buf.
 */
const char *rm_log_sanitize(const char *s, char *buf, size_t len);

#endif
