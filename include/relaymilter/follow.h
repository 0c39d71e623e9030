/*
 * follow.h - relay grants from the POP/IMAP server's log (the classic
 * pop-before-smtp and DRAC approach): relaymilter follows a log file and
 * grants the client address of every successful login it reads.
 *
 *   - the line parsers, pure (no I/O): rm_follow_dovecot() for Dovecot's
 *     "Login:" lines, as syslog and as its own log_path write them, and a
 *     custom pattern (rm_follow_pattern_new(): a POSIX ERE with %{ip} and
 *     %{user} placeholders, anchored at both ends);
 *   - the tail (struct rm_tail): one file read from its end, surviving a
 *     rotation by rename (the old file is read to its end, then the new
 *     one from its start) and by copytruncate (a file shorter than what
 *     was read is read again from its start), lines cut at
 *     RM_FOLLOW_LINE_MAX (a longer one is skipped whole);
 *   - the follower thread (rm_follow_start(), rm_follow_stop()): every
 *     follow = ( ... ) entry polled every RM_FOLLOW_POLL_MS, each login
 *     made a grant through rm_grants_add() (source "follow").
 *
 * Against forgery: a user name is chosen by the client (even in a failed
 * login), so nothing in it may decide the address.  See rm_follow_dovecot().
 */
#ifndef RM_FOLLOW_H
#define RM_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "relaymilter/policy.h"

#define RM_FOLLOW_LINE_MAX 2048 /* a longer line is skipped */
#define RM_FOLLOW_POLL_MS  200
#define RM_FOLLOW_IP_MAX   64 /* an address as written */

enum rm_follow_format { RM_FOLLOW_DOVECOT, RM_FOLLOW_CUSTOM };

/* One successful login read from a line. */
struct rm_follow_login {
	char fl_addr[RM_FOLLOW_IP_MAX];   /* as written: check it with
	                                     rm_grants_addr() */
	char fl_user[RM_GRANT_LOGIN_MAX]; /* cut to fit */
	char fl_service[16];              /* "pop3", "imap"; "" (custom) */
};

/*
 * rm_follow_dovecot - line (len bytes, no newline) is a successful login
 * written by Dovecot 2.x's pop3-login or imap-login:
 *   syslog:   "Dec  2 03:00:00 host PROGRAM: pop3-login: Login: user=<U>,
 *              method=M, rip=A, lip=L, mpid=N[, ...]" (PROGRAM "dovecot",
 *              or "dovecot[PID]"; RFC 3339 time stamps too)
 *   log_path: "Dec 02 03:00:00 pop3-login: Info: Login: user=<U>, ..."
 * program is the syslog tag (NULL: "dovecot").  1 and *out, or 0.
 */
int rm_follow_dovecot(const char *line, size_t len, const char *program,
                      struct rm_follow_login *out);

/*
 * rm_follow_pattern_new - a custom pattern: a POSIX extended regular
 * expression with one %{ip} (the client address) and at most one %{user}
 * ("%%" is a "%"), matched against the whole line.  NULL with why in err.
 */
struct rm_follow_pattern;
struct rm_follow_pattern *rm_follow_pattern_new(const char *pattern, char *err,
                                                size_t errlen);
void rm_follow_pattern_free(struct rm_follow_pattern *);

/* rm_follow_custom - line matches the pattern: 1 and *out, or 0 */
int rm_follow_custom(const struct rm_follow_pattern *, const char *line,
                     size_t len, struct rm_follow_login *out);

/* The tail of one file. */
struct rm_tail {
	char *t_path;
	int t_fd;    /* -1: not open (missing) */
	dev_t t_dev; /* of what t_fd reads */
	ino_t t_ino;
	off_t t_off;   /* read so far */
	bool t_skip;   /* in a line too long: skip to its newline */
	bool t_warned; /* said it is missing */
	size_t t_len;  /* of the partial line in t_buf */
	char t_buf[RM_FOLLOW_LINE_MAX + 1];
	/* the last bytes read (ending at t_off): when the file no longer
	   holds them there, it was truncated (copytruncate), even if it has
	   grown past t_off again since */
	size_t t_nlast;
	char t_last[64];
};

typedef void rm_tail_line_fn(void *arg, const char *line, size_t len);

/*
 * rm_tail_open - follow path from its end (at_end) or start.  A missing
 * file is no error: it is looked for again at every poll, and read from
 * its start when it comes.  0, or -1 when out of memory.
 */
int rm_tail_open(struct rm_tail *, const char *path, bool at_end);

/* rm_tail_poll - every whole new line to fn; the number of lines */
size_t rm_tail_poll(struct rm_tail *, rm_tail_line_fn *fn, void *arg);
void rm_tail_close(struct rm_tail *);

/*
 * The follower: the follow = ( ... ) entries of the settings, polled by a
 * thread until rm_follow_stop() (which wakes it at once).  rt provides the
 * grant store, the ttl and the metrics.
 */
struct rm_runtime;
struct rm_follow_conf;
struct rm_follower;
struct rm_follower *rm_follow_start(struct rm_runtime *rt,
                                    const struct rm_follow_conf *fc, size_t n);
void rm_follow_stop(struct rm_follower *);

#endif
