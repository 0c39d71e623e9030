/*
 * test_follow.c - grants from the POP/IMAP server's log: Dovecot's login
 * lines as syslog and its own log_path write them (taken from a real
 * Dovecot 2.3), hostile user names that must not decide the address,
 * lines that are not a successful login, the custom pattern, and the
 * tail of a real file through appends, a rename and a copytruncate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "relaymilter/follow.h"

static int
dv(const char *line, struct rm_follow_login *l)
{
	return rm_follow_dovecot(line, strlen(line), NULL, l);
}

/* a login of user from addr */
#define LOGIN(line, addr, user, svc)                                           \
	do {                                                                   \
		struct rm_follow_login l_;                                     \
		CHECK(dv(line, &l_) == 1, "a login: %s", line);                \
		CHECK_STR(l_.fl_addr, addr);                                   \
		CHECK_STR(l_.fl_user, user);                                   \
		CHECK_STR(l_.fl_service, svc);                                 \
	} while (0)

/* nothing */
#define NOTHING(line)                                                          \
	do {                                                                   \
		struct rm_follow_login l_;                                     \
		CHECK(dv(line, &l_) == 0, "not a login: %s", line);            \
		CHECK_STR(l_.fl_addr, "");                                     \
	} while (0)

static void
test_dovecot(void)
{
	/* Dovecot 2.3.19's log_path */
	LOGIN("Dec 02 03:32:27 pop3-login: Info: Login: user=<alice>, "
	      "method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, mpid=11878, "
	      "secured, session=<+M7JSp5h1J9/AAAB>",
	      "127.0.0.9", "alice", "pop3");
	LOGIN("Dec 02 03:32:49 imap-login: Info: Login: user=<alice>, "
	      "method=PLAIN, rip=2001:db8::9, lip=::1, mpid=13587, TLS, "
	      "session=<Pa+YS55hCI1/AAAB>",
	      "2001:db8::9", "alice", "imap");
	/* syslog: BSD and RFC 3339 time stamps, with and without a pid */
	LOGIN("Dec  2 03:00:00 mail dovecot: pop3-login: Login: user=<bob>, "
	      "method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, mpid=4242, "
	      "session=<abc>",
	      "192.0.2.7", "bob", "pop3");
	LOGIN("2026-12-02T03:00:00.123456+00:00 mail dovecot[123]: "
	      "imap-login: Login: user=<bob@example.com>, method=LOGIN, "
	      "rip=192.0.2.7, lip=192.0.2.1, mpid=1, TLS, session=<x/y+z>",
	      "192.0.2.7", "bob@example.com", "imap");
	LOGIN("2026-12-02T03:00:00Z mail dovecot: imap-login: Login: "
	      "user=<bob>, method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, "
	      "mpid=1",
	      "192.0.2.7", "bob", "imap");
	{
		struct rm_follow_login l;
		const char *s = "Dec  2 03:00:00 mail dv2: pop3-login: Login: "
		                "user=<bob>, method=PLAIN, rip=192.0.2.7, "
		                "lip=192.0.2.1, mpid=4242";
		CHECK(rm_follow_dovecot(s, strlen(s), "dv2", &l) == 1,
		      "program dv2");
		CHECK(rm_follow_dovecot(s, strlen(s), NULL, &l) == 0,
		      "not dovecot");
	}

	/* hostile user names in successful logins: the address is
	   Dovecot's, after the last ">, method=" */
	LOGIN("Dec 02 03:00:00 pop3-login: Info: Login: user=<x>, "
	      "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9>, method=PLAIN, "
	      "rip=127.0.0.9, lip=127.0.0.1, mpid=77, secured, session=<a>",
	      "127.0.0.9", "x>, method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9",
	      "pop3");
	LOGIN("Dec 02 03:00:00 pop3-login: Info: Login: user=<x, "
	      "rip=6.6.6.6>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, "
	      "mpid=77",
	      "127.0.0.9", "x, rip=6.6.6.6", "pop3");
	LOGIN("Dec 02 03:00:00 pop3-login: Info: Login: user=<a?b\\x09\t"
	      "c\"'<>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, mpid=7",
	      "127.0.0.9", "a?b\\x09\tc\"'<", "pop3");

	/* failed logins, with hostile user names (real Dovecot lines) */
	NOTHING("Dec 02 03:32:29 pop3-login: Info: Disconnected: Connection "
	        "closed (auth failed, 1 attempts in 2 secs): user=<x>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9>, "
	        "method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, secured, "
	        "session=<MPzJSp5h2p9/AAAB>");
	NOTHING("Dec 02 03:32:35 pop3-login: Info: Disconnected: Connection "
	        "closed (auth failed, 1 attempts in 6 secs): user=<x, "
	        "rip=6.6.6.6>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, "
	        "secured, session=<jv/gSp5h3p9/AAAB>");
	NOTHING("Dec 02 03:32:41 pop3-login: Info: Aborted login (auth "
	        "failed, 1 attempts in 2 secs): user=<a?b?c?[31m>, "
	        "method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, "
	        "session=<9Ot5S55hH95/AAAJ>");
	NOTHING("Dec  2 03:00:00 mail dovecot: auth: passwd-file(x,1.2.3.4): "
	        "unknown user");
	/* a failed login whose user name holds a whole forged login line
	   (as if a newline had come through): the fields after the last
	   ">, method=" are Dovecot's, without the mpid of a success */
	NOTHING("Dec 02 03:00:00 pop3-login: Info: Login: user=<y>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.1.1.1, mpid=5, "
	        "session=<a>>, method=PLAIN, rip=127.0.0.9, lip=127.0.0.1, "
	        "session=<b>");
	/* another program's line, with Dovecot's words inside */
	NOTHING("Dec  2 03:00:00 mail evil: dovecot: pop3-login: Login: "
	        "user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9");
	NOTHING("Dec  2 03:00:00 mail postfix/smtpd[1]: dovecot: pop3-login: "
	        "Login: user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, "
	        "mpid=9");
	NOTHING("Dec  2 03:00:00 mail dovecotx: pop3-login: Login: "
	        "user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9");
	NOTHING("Dec  2 03:00:00 mail dovecot: pop3: Login: user=<x>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9");
	NOTHING("Dec 02 03:00:00 pop3(x): Info: Login: user=<x>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9");
	NOTHING("Dec  2 03:00:00 mail dovecot: pop3-login: Info: Login: "
	        "user=<x>, method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9");
	NOTHING("x Dec 02 03:00:00 pop3-login: Info: Login: user=<x>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9");
	/* fields out of order, missing, trailing, mpid 0 */
	NOTHING("Dec 02 03:00:00 pop3-login: Info: Login: user=<x>, "
	        "method=PLAIN, lip=1.2.3.4, rip=6.6.6.6, mpid=9");
	NOTHING("Dec 02 03:00:00 pop3-login: Info: Login: user=<x>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4");
	NOTHING("Dec 02 03:00:00 pop3-login: Info: Login: user=<x>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=0");
	NOTHING("Dec 02 03:00:00 pop3-login: Info: Login: user=<x>, "
	        "method=PLAIN, rip=6.6.6.6, lip=1.2.3.4, mpid=9, "
	        "session=<a> x");
	NOTHING("Dec 02 03:00:00 pop3-login: Info: Login: user=<x>, "
	        "method=PLAIN, rip=6.6.6.6 1.2.3.4, lip=1.2.3.4, mpid=9");
	NOTHING("");
	NOTHING("Dec 02 03:00:00 ");
	{
		/* a newline or a NUL inside, a line over the limit */
		struct rm_follow_login l;
		const char ok[] = "Dec 02 03:00:00 pop3-login: Info: Login: "
		                  "user=<x>, method=PLAIN, rip=192.0.2.1, "
		                  "lip=1.2.3.4, mpid=9";
		const char *tl = ">, method=PLAIN, rip=192.0.2.1, "
		                 "lip=1.2.3.4, mpid=9";
		char buf[sizeof(ok)], *big;
		size_t n = RM_FOLLOW_LINE_MAX + 100;

		memcpy(buf, ok, sizeof(ok));
		buf[45] = '\n';
		CHECK(rm_follow_dovecot(buf, sizeof(ok) - 1, NULL, &l) == 0,
		      "a newline");
		buf[45] = '\0';
		CHECK(rm_follow_dovecot(buf, sizeof(ok) - 1, NULL, &l) == 0,
		      "a NUL");
		big = malloc(n + 1);
		memcpy(big, "Dec 02 03:00:00 pop3-login: Info: Login: user=<",
		       47);
		memset(big + 47, 'a', n - 47);
		memcpy(big + n - strlen(tl), tl, strlen(tl));
		big[n] = '\0';
		CHECK(rm_follow_dovecot(big, n, NULL, &l) == 0, "too long");
		/* a long user name: cut, the address right */
		n = 1500;
		memset(big + 47, 'a', n - 47);
		memcpy(big + n - strlen(tl), tl, strlen(tl));
		big[n] = '\0';
		CHECK(rm_follow_dovecot(big, n, NULL, &l) == 1, "long user");
		CHECK_STR(l.fl_addr, "192.0.2.1");
		CHECK(strlen(l.fl_user) == RM_GRANT_LOGIN_MAX - 1, "cut");
		free(big);
	}
}

static void
test_custom(void)
{
	struct rm_follow_pattern *fp;
	struct rm_follow_login l;
	char err[256];
	const char *s;

	fp = rm_follow_pattern_new(
	    "[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} [^ ]+ "
	    "(popa3d|qpopper)\\[[0-9]+\\]: (Authenticated|Login) user "
	    "%{user} from %{ip}",
	    err, sizeof(err));
	CHECK(fp != NULL, "compiles: %s", err);
	if (fp == NULL)
		return;
	s = "Dec  2 03:00:00 mail qpopper[12]: Login user bob from "
	    "192.0.2.7";
	CHECK(rm_follow_custom(fp, s, strlen(s), &l) == 1, "match");
	CHECK_STR(l.fl_addr, "192.0.2.7");
	CHECK_STR(l.fl_user, "bob");
	/* the user before the address: the address is the last that fits */
	s = "Dec  2 03:00:00 mail qpopper[12]: Login user x from 6.6.6.6 "
	    "from 192.0.2.7";
	CHECK(rm_follow_custom(fp, s, strlen(s), &l) == 1, "hostile match");
	CHECK_STR(l.fl_addr, "192.0.2.7");
	CHECK_STR(l.fl_user, "x from 6.6.6.6");
	/* anchored at both ends */
	s = "x Dec  2 03:00:00 mail qpopper[12]: Login user b from 192.0.2.7";
	CHECK(rm_follow_custom(fp, s, strlen(s), &l) == 0, "anchored start");
	s = "Dec  2 03:00:00 mail qpopper[12]: Login user b from 192.0.2.7 x";
	CHECK(rm_follow_custom(fp, s, strlen(s), &l) == 0, "anchored end");
	rm_follow_pattern_free(fp);

	fp = rm_follow_pattern_new("login %{ip} [(]%{user}[)] 100%%", err,
	                           sizeof(err));
	CHECK(fp != NULL, "brackets and %%%%: %s", err);
	s = "login 2001:db8::1 (a b) 100%";
	CHECK(fp != NULL && rm_follow_custom(fp, s, strlen(s), &l) == 1,
	      "match 2");
	CHECK_STR(l.fl_addr, "2001:db8::1");
	CHECK_STR(l.fl_user, "a b");
	rm_follow_pattern_free(fp);

	CHECK(rm_follow_pattern_new("user %{user}", err, sizeof(err)) == NULL,
	      "no %%{ip}");
	CHECK_STR(err, "no %{ip}");
	CHECK(rm_follow_pattern_new("%{ip} %{ip}", err, sizeof(err)) == NULL,
	      "twice");
	CHECK(rm_follow_pattern_new("%{ip} %d", err, sizeof(err)) == NULL,
	      "a bare %%");
	CHECK(rm_follow_pattern_new("%{ip} (", err, sizeof(err)) == NULL,
	      "bad ERE");
	CHECK(rm_follow_pattern_new("%{ip} [a", err, sizeof(err)) == NULL,
	      "unclosed [");
}

/* ---- the tail ---- */

static char got[64][128];
static int ngot;

static void
take(void *arg, const char *line, size_t len)
{
	(void)arg;
	if (ngot < 64)
		snprintf(got[ngot++], sizeof(got[0]), "%.*s", (int)len, line);
}

static void
append(const char *path, const char *s)
{
	FILE *f = fopen(path, "a");

	if (f != NULL) {
		fputs(s, f);
		fclose(f);
	}
}

static void
test_tail(void)
{
	char dir[] = "/tmp/rmfollowXXXXXX", path[128], old[140], cmd[600];
	struct rm_tail t;
	char *big;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/mail.log", dir);
	snprintf(old, sizeof(old), "%s.1", path);

	/* missing at start: read from its start once it comes */
	CHECK(rm_tail_open(&t, path, true) == 0, "open");
	CHECK(rm_tail_poll(&t, take, NULL) == 0, "missing");
	append(path, "one\n");
	CHECK(rm_tail_poll(&t, take, NULL) == 1 && strcmp(got[0], "one") == 0,
	      "it came");
	rm_tail_close(&t);

	/* from the end: the old lines are not read */
	ngot = 0;
	CHECK(rm_tail_open(&t, path, true) == 0, "open at end");
	CHECK(rm_tail_poll(&t, take, NULL) == 0, "nothing new");
	append(path, "two\nthr");
	CHECK(rm_tail_poll(&t, take, NULL) == 1 && strcmp(got[0], "two") == 0,
	      "appended");
	append(path, "ee\n");
	CHECK(rm_tail_poll(&t, take, NULL) == 1 && strcmp(got[1], "three") == 0,
	      "a partial line waits for its newline");

	/* rename: the old file's last lines, then the new file's */
	append(path, "four\n");
	CHECK(rename(path, old) == 0, "rename");
	append(old, "five\n");
	append(path, "six\n");
	CHECK(rm_tail_poll(&t, take, NULL) == 3, "rotated (%d)", ngot);
	CHECK(ngot == 5 && strcmp(got[2], "four") == 0 &&
	          strcmp(got[3], "five") == 0 && strcmp(got[4], "six") == 0,
	      "in order");

	/* copytruncate: copied, emptied, written again */
	snprintf(cmd, sizeof(cmd), "cp %s %s.2 && : > %s", path, path, path);
	CHECK(system(cmd) == 0, "copytruncate");
	CHECK(rm_tail_poll(&t, take, NULL) == 0, "nothing after it");
	append(path, "seven\n");
	CHECK(rm_tail_poll(&t, take, NULL) == 1 && strcmp(got[5], "seven") == 0,
	      "read again from the start");

	/* a line over the limit is skipped whole */
	big = malloc(RM_FOLLOW_LINE_MAX + 10);
	memset(big, 'x', RM_FOLLOW_LINE_MAX + 8);
	big[RM_FOLLOW_LINE_MAX + 8] = '\n';
	big[RM_FOLLOW_LINE_MAX + 9] = '\0';
	append(path, big);
	append(path, "eight\n");
	CHECK(rm_tail_poll(&t, take, NULL) == 1 && strcmp(got[6], "eight") == 0,
	      "a long line skipped");
	free(big);

	/* copytruncate, then more written than was read before the next
	   poll: the file is longer than the offset, but other bytes are
	   there: read from its start, never from the middle of a line */
	snprintf(cmd, sizeof(cmd), "cp %s %s.3 && : > %s", path, path, path);
	CHECK(system(cmd) == 0, "copytruncate again");
	big = malloc(RM_FOLLOW_LINE_MAX + 10);
	memset(big, 'y', RM_FOLLOW_LINE_MAX + 8);
	memcpy(big, "nine", 4);
	big[RM_FOLLOW_LINE_MAX / 2] = '\n';
	big[RM_FOLLOW_LINE_MAX / 2 + 1] = '\0';
	append(path, big);
	append(path, big);
	CHECK(rm_tail_poll(&t, take, NULL) == 2 && ngot == 9 &&
	          strncmp(got[7], "nineyyy", 7) == 0 &&
	          strncmp(got[8], "nineyyy", 7) == 0,
	      "grown past the offset: from its start (%d lines)", ngot);
	free(big);
	rm_tail_close(&t);

	/* opened at the end, then copytruncated and grown past it */
	append(path, "ten\n");
	CHECK(rm_tail_open(&t, path, true) == 0, "open at end again");
	snprintf(cmd, sizeof(cmd), "cp %s %s.4 && : > %s", path, path, path);
	CHECK(system(cmd) == 0, "copytruncate after an open at the end");
	big = malloc(800);
	memset(big, 'x', 798);
	memcpy(big, "eleven", 6);
	big[798] = '\n';
	big[799] = '\0';
	append(path, big);
	free(big);
	ngot = 0;
	CHECK(rm_tail_poll(&t, take, NULL) == 1 &&
	          strncmp(got[0], "elevenxxx", 9) == 0,
	      "opened at the end, grown past it: from its start (%d)", ngot);
	rm_tail_close(&t);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

int
main(void)
{
	test_dovecot();
	test_custom();
	test_tail();
	return check_done();
}
