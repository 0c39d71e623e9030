/*
 * follow.c - relay grants from the POP/IMAP server's log: the line
 * parsers, the tail of a file, and the follower thread (follow.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "relaymilter/confdata.h"
#include "relaymilter/follow.h"
#include "relaymilter/grants.h"
#include "relaymilter/log.h"
#include "relaymilter/runtime.h"

/* ---- the Dovecot parser ---- */

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* digits - n digits at *p: advance past them; or false */
static bool
digits(const char **p, const char *end, int n)
{
	for (; n > 0; n--, (*p)++)
		if (*p >= end || !is_digit(**p))
			return false;
	return true;
}

/* lit - the literal s at *p: advance past it; or false */
static bool
lit(const char **p, const char *end, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0)
		return false;
	*p += n;
	return true;
}

/*
 * stamp - a time stamp and its space: "Dec  2 03:00:00 ", "Dec 02
 * 03:00:00 " (BSD syslog, Dovecot's log_timestamp) or RFC 3339's
 * "2026-12-02T03:00:00[.123456](Z|+00:00) ".
 */
static bool
stamp(const char **p, const char *end)
{
	const char *s = *p;

	if (end - s >= 16 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'a' &&
	    s[1] <= 'z' && s[2] >= 'a' && s[2] <= 'z' && s[3] == ' ' &&
	    (s[4] == ' ' || is_digit(s[4])) && is_digit(s[5]) && s[6] == ' ') {
		s += 7;
		if (digits(&s, end, 2) && lit(&s, end, ":") &&
		    digits(&s, end, 2) && lit(&s, end, ":") &&
		    digits(&s, end, 2) && lit(&s, end, " ")) {
			*p = s;
			return true;
		}
		return false;
	}
	if (!(digits(&s, end, 4) && lit(&s, end, "-") && digits(&s, end, 2) &&
	      lit(&s, end, "-") && digits(&s, end, 2) && lit(&s, end, "T") &&
	      digits(&s, end, 2) && lit(&s, end, ":") && digits(&s, end, 2) &&
	      lit(&s, end, ":") && digits(&s, end, 2)))
		return false;
	if (lit(&s, end, ".")) {
		if (!digits(&s, end, 1))
			return false;
		while (s < end && is_digit(*s))
			s++;
	}
	if (!lit(&s, end, "Z")) {
		if (s >= end || (*s != '+' && *s != '-'))
			return false;
		s++;
		if (!(digits(&s, end, 2) && lit(&s, end, ":") &&
		      digits(&s, end, 2)))
			return false;
	}
	if (!lit(&s, end, " "))
		return false;
	*p = s;
	return true;
}

/* service - "pop3-login: " or "imap-login: ": its name into out */
static bool
service(const char **p, const char *end, struct rm_follow_login *out)
{
	if (lit(p, end, "pop3-login: "))
		snprintf(out->fl_service, sizeof(out->fl_service), "pop3");
	else if (lit(p, end, "imap-login: "))
		snprintf(out->fl_service, sizeof(out->fl_service), "imap");
	else
		return false;
	return true;
}

/* syslog_tag - "HOST PROGRAM: " or "HOST PROGRAM[PID]: " */
static bool
syslog_tag(const char **p, const char *end, const char *program)
{
	const char *s = *p;

	while (s < end && *s != ' ')
		s++;
	if (s == *p || s >= end)
		return false;
	s++;
	if (!lit(&s, end, program))
		return false;
	if (lit(&s, end, "[")) {
		if (!digits(&s, end, 1))
			return false;
		while (s < end && is_digit(*s))
			s++;
		if (!lit(&s, end, "]"))
			return false;
	}
	if (!lit(&s, end, ": "))
		return false;
	*p = s;
	return true;
}

/* token - [A-Za-z0-9] and the bytes of extra, at least one: its end */
static const char *
token(const char *s, const char *end, const char *extra)
{
	const char *b = s;

	while (s < end &&
	       ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	        is_digit(*s) || (*s != '\0' && strchr(extra, *s) != NULL)))
		s++;
	return s > b ? s : NULL;
}

/* last - the last occurrence of s in [b, end), or NULL */
static const char *
last(const char *b, const char *end, const char *s)
{
	size_t n = strlen(s);
	const char *p;

	if ((size_t)(end - b) < n)
		return NULL;
	for (p = end - n;; p--) {
		if (memcmp(p, s, n) == 0)
			return p;
		if (p == b)
			return NULL;
	}
}

/*
 * tail_fields - what follows the user name, written by Dovecot alone:
 * "method=M, rip=A, lip=L, mpid=N" then ", ELEMENT"s ("secured", "TLS",
 * ...: letters, digits, spaces and "=_.:-") and, last, ", session=<ID>"
 * (base64).  None of it can hold a ">", so the user name ends at the
 * last ">, method=" of the line, whatever the client wrote.
 */
static bool
tail_fields(const char *s, const char *end, struct rm_follow_login *out)
{
	const char *e;

	if ((e = token(s, end, "-_")) == NULL || !lit(&e, end, ", rip="))
		return false;
	s = e;
	if ((e = token(s, end, ":.")) == NULL ||
	    (size_t)(e - s) >= sizeof(out->fl_addr))
		return false;
	memcpy(out->fl_addr, s, (size_t)(e - s));
	out->fl_addr[e - s] = '\0';
	s = e;
	if (!lit(&s, end, ", lip=") || (s = token(s, end, ":.")) == NULL ||
	    !lit(&s, end, ", mpid=") || s >= end || *s == '0' ||
	    !digits(&s, end, 1))
		return false;
	while (s < end && is_digit(*s))
		s++;
	while (s < end) {
		if (!lit(&s, end, ", "))
			return false;
		if (lit(&s, end, "session=<"))
			return (s = token(s, end, "+/=")) != NULL &&
			       lit(&s, end, ">") && s == end;
		if ((s = token(s, end, " =_.:-")) == NULL)
			return false;
	}
	return true;
}

int
rm_follow_dovecot(const char *line, size_t len, const char *program,
                  struct rm_follow_login *out)
{
	const char *p = line, *end = line + len, *u, *m;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (len > RM_FOLLOW_LINE_MAX || memchr(line, '\0', len) != NULL ||
	    memchr(line, '\n', len) != NULL || !stamp(&p, end))
		return 0;
	/* Dovecot's log_path, else syslog's "HOST dovecot: " */
	if (service(&p, end, out)) {
		if (!lit(&p, end, "Info: "))
			return 0;
	} else if (!syslog_tag(&p, end, program ? program : "dovecot") ||
	           !service(&p, end, out))
		return 0;
	if (!lit(&p, end, "Login: user=<"))
		return 0;
	u = p;
	if ((m = last(u, end, ">, method=")) == NULL ||
	    !tail_fields(m + 10, end, out)) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	n = (size_t)(m - u);
	if (n >= sizeof(out->fl_user))
		n = sizeof(out->fl_user) - 1;
	memcpy(out->fl_user, u, n);
	out->fl_user[n] = '\0';
	return 1;
}

/* ---- the custom pattern ---- */

#define PAT_GROUPS 32

struct rm_follow_pattern {
	regex_t fp_re;
	int fp_ip, fp_user; /* their groups; fp_user 0: none */
};

/*
 * pat_translate - the pattern as a POSIX ERE, anchored, %{ip} and
 * %{user} made groups; their group numbers counted on the way (a "("
 * outside a bracket expression and not escaped opens one).
 */
static int
pat_translate(const char *pat, char *re, size_t len, int *ip, int *user,
              char *err, size_t errlen)
{
	static const char ipre[] = "([0-9A-Fa-f:.]+)", userre[] = "(.*)";
	size_t o = 0;
	int groups = 0;
	const char *add;
	char one[3];

#define PUT(s)                                                                 \
	do {                                                                   \
		size_t n_ = strlen(s);                                         \
		if (o + n_ + 2 > len) {                                        \
			snprintf(err, errlen, "too long");                     \
			return -1;                                             \
		}                                                              \
		memcpy(re + o, s, n_);                                         \
		o += n_;                                                       \
	} while (0)
	*ip = *user = 0;
	PUT("^");
	while (*pat != '\0') {
		one[1] = one[2] = '\0';
		one[0] = *pat;
		add = one;
		if (strncmp(pat, "%{ip}", 5) == 0 ||
		    strncmp(pat, "%{user}", 7) == 0) {
			int *g = pat[2] == 'i' ? ip : user;
			if (*g != 0) {
				snprintf(err, errlen, "%%{%s} twice",
				         pat[2] == 'i' ? "ip" : "user");
				return -1;
			}
			*g = ++groups;
			add = pat[2] == 'i' ? ipre : userre;
			pat += pat[2] == 'i' ? 5 : 7;
		} else if (pat[0] == '%' && pat[1] == '%') {
			pat += 2;
		} else if (pat[0] == '%') {
			snprintf(err, errlen,
			         "%% starts %%{ip}, %%{user} or %%%%");
			return -1;
		} else if (pat[0] == '\\' && pat[1] != '\0') {
			one[1] = pat[1];
			pat += 2;
		} else if (pat[0] == '[') {
			/* a bracket expression, copied whole */
			const char *b = pat + 1;
			if (*b == '^')
				b++;
			if (*b == ']')
				b++;
			while (*b != '\0' && *b != ']') {
				if (b[0] == '[' &&
				    (b[1] == ':' || b[1] == '.' ||
				     b[1] == '=')) {
					const char *c = strchr(b + 2, b[1]);
					b = c != NULL && c[1] == ']' ? c + 2
					                             : b + 1;
				} else
					b++;
			}
			if (*b == '\0') {
				snprintf(err, errlen, "unclosed [");
				return -1;
			}
			if (o + (size_t)(b + 1 - pat) + 2 > len) {
				snprintf(err, errlen, "too long");
				return -1;
			}
			memcpy(re + o, pat, (size_t)(b + 1 - pat));
			o += (size_t)(b + 1 - pat);
			pat = b + 1;
			continue;
		} else {
			if (pat[0] == '(')
				groups++;
			pat++;
		}
		PUT(add);
	}
	PUT("$");
	re[o] = '\0';
#undef PUT
	if (*ip == 0) {
		snprintf(err, errlen, "no %%{ip}");
		return -1;
	}
	if (groups >= PAT_GROUPS) {
		snprintf(err, errlen, "more than %d groups", PAT_GROUPS - 1);
		return -1;
	}
	return 0;
}

struct rm_follow_pattern *
rm_follow_pattern_new(const char *pattern, char *err, size_t errlen)
{
	struct rm_follow_pattern *fp;
	char re[RM_FOLLOW_LINE_MAX * 2];
	int rc;

	if ((fp = calloc(1, sizeof(*fp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (pat_translate(pattern, re, sizeof(re), &fp->fp_ip, &fp->fp_user,
	                  err, errlen) != 0) {
		free(fp);
		return NULL;
	}
	if ((rc = regcomp(&fp->fp_re, re, REG_EXTENDED)) != 0) {
		regerror(rc, &fp->fp_re, err, errlen);
		free(fp);
		return NULL;
	}
	if (fp->fp_re.re_nsub >= PAT_GROUPS) {
		snprintf(err, errlen, "more than %d groups", PAT_GROUPS - 1);
		rm_follow_pattern_free(fp);
		return NULL;
	}
	return fp;
}

void
rm_follow_pattern_free(struct rm_follow_pattern *fp)
{
	if (fp == NULL)
		return;
	regfree(&fp->fp_re);
	free(fp);
}

/* group - match g of s into buf (cut to fit); false if it did not take
   part or does not fit where it must (must) */
static bool
group(const char *s, const regmatch_t *m, char *buf, size_t len, bool must)
{
	size_t n;

	if (m->rm_so < 0)
		return false;
	n = (size_t)(m->rm_eo - m->rm_so);
	if (n >= len) {
		if (must)
			return false;
		n = len - 1;
	}
	memcpy(buf, s + m->rm_so, n);
	buf[n] = '\0';
	return true;
}

int
rm_follow_custom(const struct rm_follow_pattern *fp, const char *line,
                 size_t len, struct rm_follow_login *out)
{
	regmatch_t m[PAT_GROUPS];
	char buf[RM_FOLLOW_LINE_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (len > RM_FOLLOW_LINE_MAX || memchr(line, '\0', len) != NULL ||
	    memchr(line, '\n', len) != NULL)
		return 0;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (regexec(&fp->fp_re, buf, fp->fp_re.re_nsub + 1, m, 0) != 0 ||
	    !group(buf, &m[fp->fp_ip], out->fl_addr, sizeof(out->fl_addr),
	           true) ||
	    (fp->fp_user != 0 && !group(buf, &m[fp->fp_user], out->fl_user,
	                                sizeof(out->fl_user), false))) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	return 1;
}

/* ---- the tail of a file ---- */

/* tail_reopen - open t_path; read it from its end (at_end) or start */
static bool
tail_reopen(struct rm_tail *t, bool at_end)
{
	struct stat st;
	int fd;

	if ((fd = open(t->t_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (!t->t_warned)
			rm_log(RM_LOG_WARNING,
			       "follow: %s: %s (looked for again every "
			       "%d ms)",
			       t->t_path, strerror(errno), RM_FOLLOW_POLL_MS);
		t->t_warned = true;
		return false;
	}
	if (fstat(fd, &st) != 0 ||
	    (at_end && lseek(fd, st.st_size, SEEK_SET) < 0)) {
		close(fd);
		return false;
	}
	if (t->t_warned)
		rm_log(RM_LOG_INFO, "follow: %s is there: reading it",
		       t->t_path);
	t->t_warned = false;
	t->t_fd = fd;
	t->t_dev = st.st_dev;
	t->t_ino = st.st_ino;
	t->t_off = at_end ? st.st_size : 0;
	t->t_len = 0;
	t->t_nlast = 0;
	t->t_skip = false;
	/* from the end: what is there now, to notice a truncation later */
	if (at_end && st.st_size > 0) {
		size_t n = st.st_size < (off_t)sizeof(t->t_last)
		               ? (size_t)st.st_size
		               : sizeof(t->t_last);

		if (pread(fd, t->t_last, n, st.st_size - (off_t)n) ==
		    (ssize_t)n)
			t->t_nlast = n;
	}
	return true;
}

int
rm_tail_open(struct rm_tail *t, const char *path, bool at_end)
{
	memset(t, 0, sizeof(*t));
	t->t_fd = -1;
	if ((t->t_path = strdup(path)) == NULL)
		return -1;
	(void)tail_reopen(t, at_end);
	return 0;
}

/* remember - keep the last bytes read, for still_there() */
static void
remember(struct rm_tail *t, const char *p, size_t n)
{
	size_t keep = sizeof(t->t_last);

	if (n >= keep) {
		memcpy(t->t_last, p + n - keep, keep);
		t->t_nlast = keep;
		return;
	}
	if (t->t_nlast + n > keep) {
		memmove(t->t_last, t->t_last + (t->t_nlast + n - keep),
		        keep - n);
		t->t_nlast = keep - n;
	}
	memcpy(t->t_last + t->t_nlast, p, n);
	t->t_nlast += n;
}

/*
 * still_there - the file still holds, just before t_off, the bytes read
 * last: nothing truncated it under us.  A truncated file that has grown
 * past t_off again would otherwise be read from the middle of a line.
 */
static bool
still_there(struct rm_tail *t)
{
	char now[sizeof(t->t_last)];

	if (t->t_nlast == 0 || t->t_off < (off_t)t->t_nlast)
		return true;
	return pread(t->t_fd, now, t->t_nlast, t->t_off - (off_t)t->t_nlast) ==
	           (ssize_t)t->t_nlast &&
	       memcmp(now, t->t_last, t->t_nlast) == 0;
}

/* drain - read t_fd to its end, every whole line to fn */
static size_t
drain(struct rm_tail *t, rm_tail_line_fn *fn, void *arg)
{
	char chunk[8192];
	size_t lines = 0;
	ssize_t r;
	char *p, *e, *nl;

	while ((r = read(t->t_fd, chunk, sizeof(chunk))) > 0) {
		t->t_off += r;
		remember(t, chunk, (size_t)r);
		for (p = chunk, e = chunk + r; p < e; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
				nl = e;
			if (!t->t_skip &&
			    t->t_len + (size_t)(nl - p) > RM_FOLLOW_LINE_MAX) {
				t->t_skip = true;
				t->t_len = 0;
			}
			if (!t->t_skip) {
				memcpy(t->t_buf + t->t_len, p,
				       (size_t)(nl - p));
				t->t_len += (size_t)(nl - p);
			}
			if (nl == e)
				break;
			if (!t->t_skip) {
				t->t_buf[t->t_len] = '\0';
				fn(arg, t->t_buf, t->t_len);
				lines++;
			}
			t->t_skip = false;
			t->t_len = 0;
		}
	}
	return lines;
}

size_t
rm_tail_poll(struct rm_tail *t, rm_tail_line_fn *fn, void *arg)
{
	struct stat st, now;
	size_t lines = 0;

	if (t->t_fd < 0 && !tail_reopen(t, false))
		return 0;
	if (still_there(t))
		lines += drain(t, fn, arg);
	/* copytruncate: shorter than what was read, or other bytes there */
	if ((fstat(t->t_fd, &st) == 0 && st.st_size < t->t_off) ||
	    !still_there(t)) {
		rm_log(RM_LOG_INFO,
		       "follow: %s was truncated: reading it "
		       "from its start",
		       t->t_path);
		if (lseek(t->t_fd, 0, SEEK_SET) == 0) {
			t->t_off = 0;
			t->t_len = 0;
			t->t_nlast = 0;
			t->t_skip = false;
			lines += drain(t, fn, arg);
		}
	}
	/* rename: another file at the path, read from its start (the old
	   one was read to its end above) */
	if (stat(t->t_path, &now) == 0 &&
	    (now.st_ino != t->t_ino || now.st_dev != t->t_dev)) {
		lines += drain(t, fn, arg);
		close(t->t_fd);
		t->t_fd = -1;
		rm_log(RM_LOG_INFO,
		       "follow: %s was rotated: reading the new "
		       "file",
		       t->t_path);
		if (tail_reopen(t, false))
			lines += drain(t, fn, arg);
	}
	return lines;
}

void
rm_tail_close(struct rm_tail *t)
{
	if (t->t_fd >= 0)
		close(t->t_fd);
	t->t_fd = -1;
	free(t->t_path);
	t->t_path = NULL;
}

/* ---- the follower thread ---- */

struct follow_ent {
	struct rm_tail fe_tail;
	int fe_format;
	char *fe_program; /* dovecot: the syslog tag, or NULL */
	struct rm_follow_pattern *fe_pat;
};

struct rm_follower {
	struct rm_runtime *fo_rt;
	pthread_t fo_thread;
	int fo_wake[2]; /* written by rm_follow_stop() */
	size_t fo_n;
	struct follow_ent *fo_ents;
};

struct line_ctx {
	struct rm_follower *fo;
	struct follow_ent *fe;
};

/* grant_line - one line read: a grant if it is a login */
static void
grant_line(void *arg, const char *line, size_t len)
{
	struct line_ctx *lc = arg;
	struct rm_runtime *rt = lc->fo->fo_rt;
	struct rm_follow_login l;
	struct rm_ip ip;
	const char *why = NULL;
	uint64_t exp = 0;
	char user[RM_GRANT_LOGIN_MAX * 4 + 4], until[32], ab[64];
	int hit;

	hit = lc->fe->fe_format == RM_FOLLOW_CUSTOM
	          ? rm_follow_custom(lc->fe->fe_pat, line, len, &l)
	          : rm_follow_dovecot(line, len, lc->fe->fe_program, &l);
	if (!hit)
		return;
	rm_log_sanitize(l.fl_user, user, sizeof(user));
	if (rm_grants_addr(l.fl_addr, &ip) != 0) {
		rm_log_sanitize(l.fl_addr, ab, sizeof(ab));
		rm_log(RM_LOG_WARNING,
		       "follow: %s: a login (user %s) from \"%s\", not an "
		       "address: no grant",
		       lc->fe->fe_tail.t_path, user, ab);
		return;
	}
	if (rm_grants_add(rt->rt_grants, &ip, l.fl_user, "follow",
	                  rt->rt_grant_ttl, (uint64_t)time(NULL), &exp,
	                  &why) != 0) {
		rm_log(RM_LOG_WARNING, "follow: %s: no grant: %s",
		       lc->fe->fe_tail.t_path, why ? why : "?");
		return;
	}
	atomic_fetch_add_explicit(&rt->rt_metrics.mx_grants_made, 1,
	                          memory_order_relaxed);
	rm_ip_format(&ip, ab, sizeof(ab));
	rm_grant_until(exp, until, sizeof(until));
	rm_log(RM_LOG_INFO,
	       "grants: %s may relay until %s (login %s, follow %s%s%s)", ab,
	       until, l.fl_user[0] ? user : "-", lc->fe->fe_tail.t_path,
	       l.fl_service[0] ? " " : "", l.fl_service);
}

static void *
follow_thread(void *arg)
{
	struct rm_follower *fo = arg;
	struct pollfd pfd;
	struct line_ctx lc;
	size_t i;
	int r;

	pfd.fd = fo->fo_wake[0];
	pfd.events = POLLIN;
	for (;;) {
		for (i = 0; i < fo->fo_n; i++) {
			lc.fo = fo;
			lc.fe = &fo->fo_ents[i];
			(void)rm_tail_poll(&lc.fe->fe_tail, grant_line, &lc);
		}
		if ((r = poll(&pfd, 1, RM_FOLLOW_POLL_MS)) > 0 ||
		    (r < 0 && errno != EINTR))
			break;
	}
	return NULL;
}

static void
follower_free(struct rm_follower *fo)
{
	size_t i;

	for (i = 0; i < fo->fo_n; i++) {
		rm_tail_close(&fo->fo_ents[i].fe_tail);
		rm_follow_pattern_free(fo->fo_ents[i].fe_pat);
		free(fo->fo_ents[i].fe_program);
	}
	if (fo->fo_wake[0] >= 0)
		close(fo->fo_wake[0]);
	if (fo->fo_wake[1] >= 0)
		close(fo->fo_wake[1]);
	free(fo->fo_ents);
	free(fo);
}

struct rm_follower *
rm_follow_start(struct rm_runtime *rt, const struct rm_follow_conf *fc,
                size_t n)
{
	struct rm_follower *fo;
	struct follow_ent *fe;
	char err[256];
	size_t i;
	int rc;

	if ((fo = calloc(1, sizeof(*fo))) == NULL)
		return NULL;
	fo->fo_rt = rt;
	fo->fo_wake[0] = fo->fo_wake[1] = -1;
	if ((fo->fo_ents = calloc(n, sizeof(*fo->fo_ents))) == NULL ||
	    pipe(fo->fo_wake) != 0) {
		follower_free(fo);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		fe = &fo->fo_ents[i];
		fe->fe_format = fc[i].fc_format;
		if (fc[i].fc_program != NULL &&
		    (fe->fe_program = strdup(fc[i].fc_program)) == NULL) {
			follower_free(fo);
			return NULL;
		}
		if (fc[i].fc_format == RM_FOLLOW_CUSTOM &&
		    (fe->fe_pat = rm_follow_pattern_new(fc[i].fc_pattern, err,
		                                        sizeof(err))) == NULL) {
			rm_log(RM_LOG_ERR, "follow: %s: pattern: %s",
			       fc[i].fc_file, err);
			follower_free(fo);
			return NULL;
		}
		if (rm_tail_open(&fe->fe_tail, fc[i].fc_file, true) != 0) {
			follower_free(fo);
			return NULL;
		}
		fo->fo_n++;
		rm_log(RM_LOG_INFO, "follow: granting the logins of %s (%s)",
		       fc[i].fc_file,
		       fc[i].fc_format == RM_FOLLOW_CUSTOM ? "custom"
		                                           : "dovecot");
	}
	if ((rc = pthread_create(&fo->fo_thread, NULL, follow_thread, fo)) !=
	    0) {
		rm_log(RM_LOG_ERR, "cannot start the follow thread: %s",
		       strerror(rc));
		follower_free(fo);
		return NULL;
	}
	return fo;
}

void
rm_follow_stop(struct rm_follower *fo)
{
	if (fo == NULL)
		return;
	(void)!write(fo->fo_wake[1], "", 1);
	pthread_join(fo->fo_thread, NULL);
	follower_free(fo);
}
