/*
 * test_grants.c - relay grants: the memory store (add, replace, expire,
 * revoke, list, the bound), the API's checks (address, ttl, login), the
 * one-line form Redis keeps, and the engine's step through the grant
 * port (a grant continues a relay, deny beats it, the anti-spoofing
 * checks still apply unless grants.trusted, a listener with grants =
 * false, a lookup error tempfails).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/conf.h"
#include "relaymilter/grants.h"
#include "relaymilter/policy.h"

static void
count_row(void *arg, const struct rm_ip *ip, const struct rm_grant *g)
{
	(void)ip;
	(void)g;
	++*(int *)arg;
}

static void
test_addr(void)
{
	struct rm_ip a, b;

	CHECK(rm_grants_addr("203.0.113.9", &a) == 0, "IPv4");
	CHECK(rm_grants_addr("::ffff:203.0.113.9", &b) == 0, "mapped");
	CHECK(memcmp(&a, &b, sizeof(a)) == 0, "mapped is its IPv4 address");
	CHECK(rm_grants_addr("2001:db8::1", &a) == 0, "IPv6");
	CHECK(rm_grants_addr("[203.0.113.9]", &a) != 0, "brackets");
	CHECK(rm_grants_addr("IPv6:2001:db8::1", &a) != 0, "IPv6: prefix");
	CHECK(rm_grants_addr("203.0.113.0/24", &a) != 0, "a network");
	CHECK(rm_grants_addr("host.example", &a) != 0, "a name");
	CHECK(rm_grants_addr("203.0.113.9 x", &a) != 0, "trailing");
	CHECK(rm_grants_addr("", &a) != 0, "empty");
}

static void
test_store(void)
{
	struct rm_grant_store *st = rm_grants_memory_new(4);
	struct rm_ip a, b, c;
	struct rm_grant g;
	const char *why = NULL;
	uint64_t exp = 0;
	char ip[16];
	int i, n;

	rm_grants_addr("203.0.113.9", &a);
	rm_grants_addr("2001:db8::9", &b);
	rm_grants_addr("198.51.100.1", &c);
	st->gs_get(st, &a, 1000, &g);
	CHECK(g.g_state == RM_NOTFOUND, "none yet");
	CHECK(rm_grants_add(st, &a, "bob\tx y", "push", 60, 1000, &exp, &why) ==
	          0,
	      "add");
	CHECK(exp == 1060, "expires at now + ttl: %llu",
	      (unsigned long long)exp);
	st->gs_get(st, &a, 1059, &g);
	CHECK(g.g_state == RM_FOUND && g.g_expires == 1060, "found");
	CHECK_STR(g.g_login, "bob\\x09x\\x20y");
	CHECK_STR(g.g_source, "push");
	st->gs_get(st, &a, 1060, &g);
	CHECK(g.g_state == RM_NOTFOUND, "expired at its expiry");
	CHECK(rm_grants_add(st, &a, NULL, "push", 0, 2000, &exp, &why) == 0 &&
	          exp == 2000 + RM_GRANT_TTL_DEFAULT,
	      "ttl 0: the default");
	CHECK(rm_grants_add(st, &a, NULL, "push", RM_GRANT_TTL_MAX + 1, 2000,
	                    &exp, &why) != 0,
	      "ttl over a day refused");
	CHECK(rm_grants_add(st, &a, "carol", "push", 100, 2000, &exp, &why) ==
	          0,
	      "replace");
	st->gs_get(st, &a, 2001, &g);
	CHECK(g.g_expires == 2100 && strcmp(g.g_login, "carol") == 0,
	      "the newer grant");
	rm_grants_add(st, &b, "dave", "follow", 10, 2000, &exp, &why);
	n = 0;
	CHECK(st->gs_list(st, NULL, 2001, count_row, &n) == 2 && n == 2,
	      "two listed");
	n = 0;
	CHECK(st->gs_list(st, &b, 2001, count_row, &n) == 1 && n == 1,
	      "one of b");
	CHECK(st->gs_list(st, NULL, 2050, count_row, &n) == 1,
	      "an expired one is not listed");
	CHECK(st->gs_del(st, &a) == 1, "revoke");
	CHECK(st->gs_del(st, &a) == 0, "revoke again: none");
	st->gs_get(st, &a, 2001, &g);
	CHECK(g.g_state == RM_NOTFOUND, "revoked");
	/* bounded: 4 entries; the oldest goes first */
	for (i = 0; i < 6; i++) {
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		rm_grants_addr(ip, &c);
		rm_grants_add(st, &c, NULL, "push", 100, 3000, &exp, &why);
	}
	n = 0;
	st->gs_list(st, NULL, 3000, count_row, &n);
	CHECK(n == 4, "at most 4: %d", n);
	rm_grants_addr("10.0.0.5", &c);
	st->gs_get(st, &c, 3000, &g);
	CHECK(g.g_state == RM_FOUND, "the newest kept");
	rm_grants_addr("10.0.0.0", &c);
	st->gs_get(st, &c, 3000, &g);
	CHECK(g.g_state == RM_NOTFOUND, "the oldest dropped");
	st->gs_free(st);
}

static void
test_encode(void)
{
	struct rm_grant g = {RM_FOUND, "bob", "push", 1700000000}, h;
	char buf[128];

	CHECK(rm_grant_encode(&g, buf, sizeof(buf)) == 0, "encode");
	CHECK_STR(buf, "1700000000 push bob");
	CHECK(rm_grant_decode(buf, &h) == 0 && h.g_expires == g.g_expires &&
	          strcmp(h.g_login, "bob") == 0 &&
	          strcmp(h.g_source, "push") == 0,
	      "decode");
	CHECK(rm_grant_decode("1700000000 push ", &h) == 0 &&
	          h.g_login[0] == '\0',
	      "no login");
	CHECK(rm_grant_decode("x push bob", &h) != 0, "bad expiry");
	CHECK(rm_grant_decode("17 push", &h) != 0, "no login field");
	CHECK(rm_grant_until(0, buf, sizeof(buf)) == buf &&
	          strcmp(buf, "-") == 0,
	      "no expiry");
	CHECK_STR(rm_grant_until(1700000000, buf, sizeof(buf)),
	          "2023-11-14T22:13:20Z");
}

/* The engine through a port that answers from fixed state. */
struct fake {
	struct rm_grant f_g;
	int f_calls;
};

static const struct rm_grant *
fake_lookup(void *arg, const struct rm_ip *ip)
{
	struct fake *f = arg;

	(void)ip;
	f->f_calls++;
	return &f->f_g;
}

static const char *
decide(const struct rm_ruleset *rs, struct fake *fk, const char *client,
       const char *from, const char *listener, enum rm_action *act)
{
	static struct rm_verdict v;
	struct rm_grant_port gp = {fake_lookup, fk};
	struct rm_facts f;
	struct rm_ip ip;

	memset(&f, 0, sizeof(f));
	rm_ip_parse(client, &ip);
	f.f_client_ip = &ip;
	f.f_sender = from;
	f.f_rcpt = "<x@remote.test>";
	f.f_listener = listener;
	f.f_grants = &gp;
	rm_policy_rcpt(rs, &f, &v, NULL);
	*act = v.v_action;
	return v.v_rule;
}

static void
test_engine(void)
{
	static const char conf[] =
	    "local_domains = [ \"example.com\" ];\n"
	    "trusted_networks = [ \"192.0.2.0/24\" ];\n"
	    "grants = { ttl = \"30m\"; };\n"
	    "deny = { clients = [ \"198.51.100.66\" ]; };\n"
	    "listeners = { submission = { grants = false; }; };\n";
	static const char conf_trusted[] =
	    "local_domains = [ \"example.com\" ];\n"
	    "grants = { trusted = true; };\n";
	static const char conf_off[] = "local_domains = [ \"example.com\" ];\n";
	struct fake fk = {{RM_FOUND, "bob", "push", 5000}, 0};
	struct rm_ruleset *rs, *rst, *rso;
	enum rm_action act;
	char err[512];

	rs = rm_conf_load_string(conf, "t.conf", err, sizeof(err));
	rst = rm_conf_load_string(conf_trusted, "t.conf", err, sizeof(err));
	rso = rm_conf_load_string(conf_off, "t.conf", err, sizeof(err));
	CHECK(rs != NULL && rst != NULL && rso != NULL, "load: %s", err);
	if (rs == NULL || rst == NULL || rso == NULL)
		return;
	CHECK_STR(decide(rs, &fk, "203.0.113.9", "<>", NULL, &act),
	          "relay_grant");
	CHECK(act == RM_CONTINUE && fk.f_calls == 1, "continues, one lookup");
	fk.f_g.g_state = RM_NOTFOUND;
	CHECK_STR(decide(rs, &fk, "203.0.113.9", "<>", NULL, &act),
	          "relay_denied");
	fk.f_g.g_state = RM_LOOKUP_ERROR;
	CHECK_STR(decide(rs, &fk, "203.0.113.9", "<>", NULL, &act),
	          "relay_grant_unavailable");
	CHECK(act == RM_TEMPFAIL, "an error tempfails");
	fk.f_g.g_state = RM_FOUND;
	CHECK_STR(decide(rs, &fk, "198.51.100.66", "<>", NULL, &act),
	          "deny_client");
	CHECK(act == RM_REJECT, "deny beats a grant");
	CHECK_STR(
	    decide(rs, &fk, "203.0.113.9", "<bob@example.com>", NULL, &act),
	    "local_sender_spoof");
	CHECK_STR(
	    decide(rst, &fk, "203.0.113.9", "<bob@example.com>", NULL, &act),
	    "relay_grant");
	CHECK(act == RM_CONTINUE, "grants.trusted: anti-spoofing lifted");
	fk.f_calls = 0;
	CHECK_STR(decide(rs, &fk, "203.0.113.9", "<>", "submission", &act),
	          "relay_denied");
	CHECK(fk.f_calls == 0, "grants = false: not even asked");
	CHECK_STR(decide(rs, &fk, "192.0.2.7", "<>", NULL, &act),
	          "trusted_networks");
	CHECK(fk.f_calls == 0, "a trusted client: not asked");
	CHECK_STR(decide(rso, &fk, "203.0.113.9", "<>", NULL, &act),
	          "relay_denied");
	CHECK(fk.f_calls == 0, "no grants group: not asked");
	rm_ruleset_release(rs);
	rm_ruleset_release(rst);
	rm_ruleset_release(rso);
}

int
main(void)
{
	test_addr();
	test_store();
	test_encode();
	test_engine();
	return check_done();
}
