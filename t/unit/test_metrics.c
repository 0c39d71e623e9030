/*
 * test_metrics.c - the counters and their exposition: label escaping, the
 * "metrics" address, unknown rules and surplus listeners counted under
 * "other", and the rendered text.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/metrics.h"
#include "relaymilter/runtime.h"

static void
test_escape(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"plain", "plain"},
	    {"a\"b", "a\\\"b"},
	    {"back\\slash", "back\\\\slash"},
	    {"new\nline", "new\\nline"},
	    {"", ""},
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(rm_metrics_escape(cases[i].in, buf, sizeof(buf)),
		          cases[i].want);
	/* truncated, never split inside an escape or past the buffer */
	rm_metrics_escape("\"\"\"\"\"\"", buf, 6);
	CHECK(strlen(buf) <= 5, "len %zu", strlen(buf));
}

static void
test_addr(void)
{
	static const struct {
		const char *spec;
		int ok, loopback;
	} cases[] = {
	    {"inet:9899", 1, 1},
	    {"inet:9899@127.0.0.1", 1, 1},
	    {"inet:9899@127.1.2.3", 1, 1},
	    {"inet:9899@192.0.2.1", 1, 0},
	    {"inet6:9899", 1, 1},
	    {"inet6:9899@::1", 1, 1},
	    {"inet6:9899@2001:db8::1", 1, 0},
	    {"inet:0", 0, 0},
	    {"inet:65536", 0, 0},
	    {"inet:-1", 0, 0},
	    {"inet:", 0, 0},
	    {"inet:99x", 0, 0},
	    {"inet:9899@localhost", 0, 0},
	    {"inet:9899@::1", 0, 0},
	    {"unix:/tmp/x", 0, 0},
	    {"9899", 0, 0},
	};
	struct sockaddr_storage ss;
	socklen_t len;
	bool loop;
	char err[160];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = rm_metrics_addr(cases[i].spec, &ss, &len, &loop, err,
		                         sizeof(err));

		CHECK((rc == 0) == cases[i].ok, "%s: rc %d", cases[i].spec, rc);
		if (rc == 0)
			CHECK(loop == (bool)cases[i].loopback, "%s: loopback",
			      cases[i].spec);
	}
}

/* has - the rendered text has this exact line */
static int
has(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void
test_render(void)
{
	struct rm_runtime *rt = calloc(1, sizeof(*rt));
	struct rm_ruleset *rs = rm_ruleset_new("test");
	struct rm_mxbuf mb;
	char name[32];
	unsigned sub, weird;
	int i;

	CHECK(rt != NULL && rs != NULL, "out of memory");
	if (rt == NULL || rs == NULL)
		return;
	rm_owners_init(&rt->rt_owners);
	CHECK(rm_metrics_init(&rt->rt_metrics) == 0, "init");
	rm_ruleset_add_profile(rs, "submission", "t:1");
	rm_ruleset_add_profile(rs, "we\"ird\\", "t:2");
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "l%d", i);
		rm_ruleset_add_profile(rs, name, "t:3");
	}
	rm_metrics_ruleset(&rt->rt_metrics, rs, 7, 1700000000);
	sub = rm_metrics_listener(&rt->rt_metrics, "SUBMISSION");
	weird = rm_metrics_listener(&rt->rt_metrics, "we\"ird\\");
	CHECK(sub > RM_MX_LST_OTHER, "submission has a slot: %u", sub);
	CHECK(rm_metrics_listener(&rt->rt_metrics, NULL) == RM_MX_LST_DEFAULT,
	      "top level: default");
	CHECK(rm_metrics_listener(&rt->rt_metrics, "l19") == RM_MX_LST_OTHER,
	      "beyond the slots: other");
	rm_metrics_decision(&rt->rt_metrics, "relay_denied", RM_REJECT, -1,
	                    sub);
	rm_metrics_decision(&rt->rt_metrics, "relay_denied", RM_REJECT, -1,
	                    sub);
	rm_metrics_decision(&rt->rt_metrics, "no_such_rule", RM_TEMPFAIL,
	                    RM_CK_HELO_SPOOF, weird);
	rm_metrics_latency(&rt->rt_metrics, 5000);
	rm_metrics_latency(&rt->rt_metrics, 1000000000);
	memset(&mb, 0, sizeof(mb));
	rm_metrics_render(rt, 1700000100, &mb);
	CHECK(!mb.mb_oom && mb.mb_buf != NULL, "rendered");
	if (mb.mb_buf != NULL) {
		CHECK(has(mb.mb_buf, "relaymilter_decisions_total{rule=\""
		                     "relay_denied\",verdict=\"reject\","
		                     "listener=\"submission\"} 2"),
		      "%s", mb.mb_buf);
		CHECK(has(mb.mb_buf, "relaymilter_decisions_total{rule=\""
		                     "other\",verdict=\"tempfail\","
		                     "listener=\"we\\\"ird\\\\\"} 1"),
		      "%s", mb.mb_buf);
		CHECK(has(mb.mb_buf, "relaymilter_monitored_total{check=\""
		                     "helo_spoof\",listener=\"we\\\"ird\\\\\"} "
		                     "1"),
		      "monitored");
		CHECK(
		    has(mb.mb_buf,
		        "relaymilter_decision_seconds_bucket{le=\"1e-05\"} 1"),
		    "first bucket");
		CHECK(has(mb.mb_buf,
		          "relaymilter_decision_seconds_bucket{le=\"0.1\"} 1"),
		      "last bucket");
		CHECK(has(mb.mb_buf,
		          "relaymilter_decision_seconds_bucket{le=\"+Inf\"} 2"),
		      "+Inf");
		CHECK(has(mb.mb_buf, "relaymilter_decision_seconds_count 2"),
		      "count");
		CHECK(has(mb.mb_buf, "relaymilter_ruleset_generation 7"),
		      "gen");
		CHECK(has(mb.mb_buf, "relaymilter_ruleset_load_timestamp_"
		                     "seconds 1700000000"),
		      "load time");
		CHECK(has(mb.mb_buf, "relaymilter_ldap_configured 0"), "ldap");
		CHECK(strstr(mb.mb_buf, "relaymilter_ldap_up") == NULL,
		      "no ldap figures without ldap");
	}
	rm_mxbuf_free(&mb);
	rm_ruleset_release(rs);
	rm_metrics_destroy(&rt->rt_metrics);
	rm_owners_destroy(&rt->rt_owners);
	free(rt);
}

int
main(void)
{
	test_escape();
	test_addr();
	test_render();
	return check_done();
}
