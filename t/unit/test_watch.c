/*
 * test_watch.c - the warning about listener profiles no session reaches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/conf.h"
#include "relaymilter/watch.h"

static char last[1024];
static int nwarn;

static void
collect(void *arg, const char *line)
{
	(void)arg;
	snprintf(last, sizeof(last), "%s", line);
	nwarn++;
}

static struct rm_ruleset *
load(const char *text)
{
	char path[] = "/tmp/test_watch.XXXXXX", err[512];
	struct rm_ruleset *rs;
	FILE *fp;
	int fd = mkstemp(path);

	fp = fdopen(fd, "w");
	fputs(text, fp);
	fclose(fp);
	rs = rm_conf_load(path, err, sizeof(err));
	CHECK(rs != NULL, "load: %s", err);
	remove(path);
	return rs;
}

int
main(void)
{
	struct rm_ruleset *rs, *rs2;
	struct rm_watch w;
	unsigned long gen = 1;
	int i;

	rs = load("local_domains = [ \"example.com\" ];\n"
	          "our_interface_addresses = false;\n"
	          "listeners = { submission = { require_auth = true; };\n"
	          "              mx = { }; };\n");
	rm_watch_init(&w);
	/* listeners that name themselves: a choice, never an alarm */
	for (i = 0; i < 60; i++)
		rm_watch_session(&w, rs, gen, "MTA", collect, NULL);
	CHECK(nwarn == 0, "named listeners only: no warning (%d)", nwarn);
	gen++;
	/* sessions without a name of their own: both profiles warn after 5 */
	for (i = 0; i < 4; i++)
		rm_watch_session(&w, rs, gen, i % 2 ? "mx.example.com" : NULL,
		                 collect, NULL);
	CHECK(nwarn == 0, "no warning before 5 sessions (%d)", nwarn);
	rm_watch_session(&w, rs, gen, "Mx", collect, NULL);
	CHECK(nwarn == 1, "one profile unmatched after 5 sessions: %d", nwarn);
	CHECK(strstr(last, "\"submission\"") != NULL, "names it: %s", last);
	CHECK(strstr(last, "none of the 5 sessions") != NULL, "counts: %s",
	      last);
	CHECK(strstr(last, "(none), mx.example.com") != NULL &&
	          strstr(last, "2 of them a host name") != NULL,
	      "names what arrived: %s", last);
	CHECK(strstr(last, "milter_macro_daemon_name") != NULL,
	      "says what to do: %s", last);
	/* a match ends it; nothing more until the next checkpoint */
	nwarn = 0;
	rm_watch_session(&w, rs, gen, "SUBMISSION", collect, NULL);
	for (i = 6; i < 60; i++)
		rm_watch_session(&w, rs, gen, "other", collect, NULL);
	CHECK(nwarn == 0, "every profile matched: no warning (%d)", nwarn);
	/* a new ruleset starts counting again */
	gen++;
	rs2 = load("local_domains = [ \"example.com\" ];\n"
	           "our_interface_addresses = false;\n"
	           "listeners = { submission = { require_auth = true; }; };\n");
	for (i = 0; i < 5; i++)
		rm_watch_session(&w, rs2, gen, "host.example.com", collect,
		                 NULL);
	CHECK(nwarn == 1, "new ruleset: counted anew (%d)", nwarn);
	CHECK(strstr(last, "none of the 5 sessions") != NULL, "%s", last);
	/* no profiles, no counting */
	gen++;
	rm_ruleset_release(rs);
	rs = load("local_domains = [ \"example.com\" ];\n");
	nwarn = 0;
	for (i = 0; i < 10; i++)
		rm_watch_session(&w, rs, gen, "x", collect, NULL);
	CHECK(nwarn == 0, "no profiles: no warning");
	rm_watch_destroy(&w);
	rm_ruleset_release(rs);
	rm_ruleset_release(rs2);
	return check_done();
}
