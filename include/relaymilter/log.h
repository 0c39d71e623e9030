/*
 * log.h - logging to stderr (foreground), a file (log_file) or syslog
 * (log_facility, mail by default).
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

/*
 * rm_log_open - choose the sink; call before any thread starts.  Not
 * to_stderr: the file of rm_log_use_file() if it was called, else syslog
 * with the facility of rm_log_set_facility() (mail).
 */
void rm_log_open(const char *ident, bool to_stderr, enum rm_log_level max);
/* rm_log_use_file - log to path (appended, 0640); 0, or -1 with err. */
int rm_log_use_file(const char *path, char *err, size_t errlen);
/* rm_log_reopen - reopen the log file (after rotation); 0 or -1. */
int rm_log_reopen(void);
/* rm_log_facility_lookup - "mail", "daemon", "local0"...: or -1. */
int rm_log_facility_lookup(const char *name);
void rm_log_set_facility(int facility);
/* rm_log_forked - the process has a new pid (daemon mode). */
void rm_log_forked(void);
/* rm_log_syslog_reachable - a syslog daemon listens on /dev/log. */
bool rm_log_syslog_reachable(void);
void rm_log(enum rm_log_level, const char *fmt, ...) RM_PRINTFLIKE(2, 3);
bool rm_log_enabled(enum rm_log_level);

/*
 * rm_log_sanitize - copy s into buf with every byte outside 0x21-0x7e
 * (and '\\') written as \xHH, cut at len - 1 with "..." appended when
 * too long.  NULL becomes "-".  Returns buf.
 */
const char *rm_log_sanitize(const char *s, char *buf, size_t len);

#endif
