/*
 * test_policy.c - the relay decision table, run against the golden
 * policy file, plus the invariant that no unproven client ever relays.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/addr.h"
#include "relaymilter/conf.h"
#include "relaymilter/policy.h"

static struct rm_ruleset *rs;

struct pcase {
	const char *client; /* NULL: unknown */
	const char *auth;
	const char *rcpt;
	const char *rcpt_addr;
	const char *daemon;
	const char *want_action;
	const char *want_rule;
};

static const struct pcase cases[] = {
    /* inbound to our domains: anyone */
    {"203.0.113.9", NULL, "<user@example.com>", NULL, NULL, "continue",
     "local_domains"},
    {"203.0.113.9", NULL, "user@EXAMPLE.COM.", NULL, NULL, "continue",
     "local_domains"},
    {"203.0.113.9", NULL, "<user@sub.example.com>", NULL, NULL, "continue",
     "local_domains"},
    {"203.0.113.9", NULL, "<user@mx.example.com>", NULL, NULL, "continue",
     "hostnames"},
    {"203.0.113.9", NULL, "<user@backup.example.net>", NULL, NULL, "continue",
     "relay_domains"},
    {"203.0.113.9", NULL, "<user@x.backup.example.net>", NULL, NULL, "reject",
     "relay_denied"},
    {"203.0.113.9", NULL, "<Postmaster@example.org>", NULL, NULL, "continue",
     "postmaster"},
    {"203.0.113.9", NULL, "<postmaster>", NULL, NULL, "continue", "postmaster"},
    {NULL, NULL, "<user@example.com>", NULL, NULL, "continue", "local_domains"},
    /* relaying: untrusted is refused */
    {"203.0.113.9", NULL, "<user@remote.example>", NULL, NULL, "reject",
     "relay_denied"},
    {"203.0.113.9", "", "<user@remote.example>", NULL, NULL, "reject",
     "relay_denied"},
    {"2001:db8:2::1", NULL, "<user@remote.example>", NULL, NULL, "reject",
     "relay_denied"},
    {"IPv6:::2", NULL, "<user@remote.example>", NULL, NULL, "reject",
     "relay_denied"},
    /* trusted networks, every family and notation */
    {"192.0.2.7", NULL, "<user@remote.example>", NULL, NULL, "continue",
     "trusted_networks"},
    {"::ffff:192.0.2.7", NULL, "<user@remote.example>", NULL, NULL, "continue",
     "trusted_networks"},
    {"IPv6:2001:db8:1:ffff::1", NULL, "<user@remote.example>", NULL, NULL,
     "continue", "trusted_networks"},
    {"::1", NULL, "<user@remote.example>", NULL, NULL, "continue",
     "trusted_networks"},
    {"198.51.100.200", NULL, "<user@remote.example>", NULL, NULL, "continue",
     "trusted_networks"},
    /* authenticated */
    {"203.0.113.9", "alice", "<user@remote.example>", NULL, NULL, "continue",
     "authenticated"},
    {NULL, "alice", "<user@remote.example>", NULL, NULL, "continue",
     "authenticated"},
    /* a missing fact: tempfail, never a relay */
    {NULL, NULL, "<user@remote.example>", NULL, NULL, "tempfail",
     "client_address_unknown"},
    {"203.0.113.9", NULL, NULL, NULL, NULL, "tempfail", "missing_recipient"},
    /* routing tricks are relays */
    {"203.0.113.9", NULL, "<user%remote.example@example.com>", NULL, NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<remote.example!user@example.com>", NULL, NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<\"user@remote.example\"@example.com>", NULL, NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<user@remote.example@example.com>", NULL, NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<@example.com:user@remote.example>", NULL, NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<@remote.example:user@example.com>", NULL, NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<postmaster%remote.example@example.com>", NULL, NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<user>", NULL, NULL, "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<user@[198.51.100.1]>", NULL, NULL, "reject",
     "relay_denied"},
    {"203.0.113.9", NULL, "<user@[127.1]>", NULL, NULL, "reject",
     "relay_denied"},
    {"203.0.113.9", NULL, "<>", NULL, NULL, "reject", "relay_denied"},
    {"203.0.113.9", NULL, "garbage<<", NULL, NULL, "reject", "relay_denied"},
    /* our own address literal */
    {"203.0.113.9", NULL, "<user@[192.0.2.25]>", NULL, "192.0.2.25", "continue",
     "own_address_literal"},
    {"203.0.113.9", NULL, "<postmaster@[IPv6:2001:db8::25]>", NULL,
     "2001:db8::25", "continue", "postmaster"},
    {"203.0.113.9", NULL, "<user@[192.0.2.26]>", NULL, "192.0.2.25", "reject",
     "relay_denied"},
    /* the MTAs route an IPv4-mapped IPv6 literal out: never ours */
    {"203.0.113.9", NULL, "<user@[IPv6:::ffff:192.0.2.25]>", NULL, "192.0.2.25",
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<postmaster@[IPv6:::ffff:192.0.2.25]>", NULL,
     "192.0.2.25", "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<user@[IPv6:::ffff:192.0.2.25]>", NULL,
     "::ffff:192.0.2.25", "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<user@[192.0.2.25]>", NULL, "::ffff:192.0.2.25",
     "continue", "own_address_literal"},
    /* the MTA's resolution must agree */
    {"203.0.113.9", NULL, "<user@example.com>", "user@remote.example", NULL,
     "reject", "relay_denied"},
    {"203.0.113.9", NULL, "<user@example.com>", "user@example.com", NULL,
     "continue", "local_domains"},
    {"203.0.113.9", NULL, "<user@example.com>", "user", NULL, "continue",
     "local_domains"},
};

static const char *
run(const struct pcase *c, struct rm_verdict *v)
{
	struct rm_ip ip, dip;
	struct rm_facts f;

	memset(&f, 0, sizeof(f));
	f.f_sender = "<someone@remote.example>";
	if (c->client != NULL) {
		if (rm_ip_parse(c->client, &ip) != 0)
			return "bad test address";
		f.f_client_ip = &ip;
	}
	if (c->daemon != NULL) {
		if (rm_ip_parse(c->daemon, &dip) != 0)
			return "bad test address";
		f.f_daemon_ip = &dip;
	}
	f.f_auth = c->auth;
	f.f_rcpt = c->rcpt;
	f.f_rcpt_addr = c->rcpt_addr;
	rm_policy_rcpt(rs, &f, v, NULL);
	return NULL;
}

static void
count_line(void *arg, const char *line)
{
	(*(int *)arg)++;
	(void)line;
}

static void
test_table(void)
{
	struct rm_verdict v;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		const char *e = run(c, &v);

		CHECK(e == NULL, "%s", e);
		CHECK(strcmp(rm_action_name(v.v_action), c->want_action) == 0 &&
		          strcmp(v.v_rule, c->want_rule) == 0,
		      "client %s auth %s rcpt %s: got %s/%s want %s/%s",
		      c->client ? c->client : "-", c->auth ? c->auth : "-",
		      c->rcpt ? c->rcpt : "-", rm_action_name(v.v_action),
		      v.v_rule, c->want_action, c->want_rule);
		CHECK((v.v_action == RM_CONTINUE) == (v.v_reply == NULL),
		      "reply set iff not continue (case %zu)", i);
	}
}

static void
test_reply_and_trace(void)
{
	struct rm_verdict v;
	struct rm_trace t;
	struct rm_facts f;
	struct rm_ip ip;
	int lines = 0;

	memset(&f, 0, sizeof(f));
	f.f_sender = "<someone@remote.example>";
	rm_ip_parse("203.0.113.9", &ip);
	f.f_client_ip = &ip;
	f.f_rcpt = "<user@remote.example>";
	t.t_line = count_line;
	t.t_arg = &lines;
	rm_policy_rcpt(rs, &f, &v, &t);
	CHECK(v.v_reply != NULL && strcmp(v.v_reply->r_code, "550") == 0,
	      "relay_denied reply");
	CHECK(v.v_reply != NULL &&
	          strstr(v.v_reply->r_text, "(100% sure)") != NULL,
	      "configured text");
	CHECK(lines >= 2, "trace lines %d", lines);
	f.f_client_ip = NULL;
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_reply != NULL && strcmp(v.v_reply->r_xcode, "4.3.0") == 0,
	      "tempfail reply");
}

/*
 * The invariant: for random recipients built from hostile pieces, an
 * untrusted unauthenticated client never gets "continue" unless the
 * recipient's plain domain is one of ours.
 */
static void
test_never_open(void)
{
	static const char *const locals[] = {"user", "postmaster", "u%x.org",
	                                     "a!b",  "\"a@b\"",    "\"a b\"",
	                                     "a@b",  "",           "\xff"};
	static const char *const doms[] = {"example.com",
	                                   "remote.example",
	                                   "example.com.evil",
	                                   "evil.example.com",
	                                   "[192.0.2.1]",
	                                   "[IPv6:::1]",
	                                   "EXAMPLE.ORG",
	                                   "example.org.",
	                                   "",
	                                   "a..b",
	                                   "example.com@remote.example"};
	static const char *const pre[] = {
	    "", "@example.com:", "@remote.example:", "<"};
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;
	struct rm_addr a;
	char rcpt[256], err[64];
	size_t i, j, k;
	int bad = 0, n = 0;

	memset(&f, 0, sizeof(f));
	f.f_sender = "<someone@remote.example>";
	rm_ip_parse("203.0.113.9", &ip);
	f.f_client_ip = &ip;
	for (i = 0; i < sizeof(locals) / sizeof(locals[0]); i++)
		for (j = 0; j < sizeof(doms) / sizeof(doms[0]); j++)
			for (k = 0; k < sizeof(pre) / sizeof(pre[0]); k++) {
				snprintf(rcpt, sizeof(rcpt), "%s%s@%s", pre[k],
				         locals[i], doms[j]);
				f.f_rcpt = rcpt;
				rm_policy_rcpt(rs, &f, &v, NULL);
				n++;
				if (v.v_action != RM_CONTINUE)
					continue;
				/* allowed only when plainly ours */
				if (rm_addr_parse(rcpt, &a, err, sizeof(err)) !=
				        0 ||
				    (a.a_flags &
				     (RM_ADDR_ROUTING | RM_ADDR_SOURCE_ROUTE |
				      RM_ADDR_LITERAL)) ||
				    !(rm_domset_lookup(
				          rs->rs_lists.l_local_domains,
				          a.a_domain, NULL) ||
				      rm_domset_lookup(rs->rs_lists.l_hostnames,
				                       a.a_domain, NULL) ||
				      rm_domset_lookup(
				          rs->rs_lists.l_relay_domains,
				          a.a_domain, NULL))) {
					bad++;
					fprintf(stderr, "open relay: %s\n",
					        rcpt);
				}
			}
	CHECK(bad == 0, "%d of %d recipients relayed", bad, n);
}

/* plainly_ours - the recipient's plain domain is one of ours. */
static int
plainly_ours(const struct rm_ruleset *r, const char *rcpt)
{
	struct rm_addr a;

	if (rm_addr_parse(rcpt, &a, NULL, 0) != 0)
		return 0;
	if (rm_addr_is_postmaster(&a) && (a.a_flags & RM_ADDR_UNQUALIFIED))
		return 1;
	return !(a.a_flags & (RM_ADDR_ROUTING | RM_ADDR_SOURCE_ROUTE |
	                      RM_ADDR_LITERAL | RM_ADDR_UNQUALIFIED)) &&
	       (rm_domset_lookup(r->rs_lists.l_local_domains, a.a_domain,
	                         NULL) ||
	        rm_domset_lookup(r->rs_lists.l_hostnames, a.a_domain, NULL) ||
	        rm_domset_lookup(r->rs_lists.l_relay_domains, a.a_domain,
	                         NULL));
}

/*
 * The same invariant under the full rule set: whatever exceptions, deny
 * lists, monitor modes, listener profiles, HELO names and senders say,
 * an untrusted unauthenticated client relays nowhere.
 */
static void
test_never_open_full(void)
{
	static const char *const clients[] = {"203.0.113.9",   "198.51.100.7",
	                                      "198.51.100.70", "203.0.113.66",
	                                      "203.0.113.200", NULL};
	static const char *const listeners[] = {NULL,  "mx",         "audit",
	                                        "lax", "submission", "other"};
	static const char *const helos[] = {NULL, "legacy.partner.example",
	                                    "mx.example.com", "[192.0.2.1]",
	                                    "spammer.example"};
	static const char *const senders[] = {"<>",
	                                      "<a@example.com>",
	                                      "<billing@partner.example>",
	                                      "<alerts@vendor.example>",
	                                      "<abuse@example.com>",
	                                      "garbage<<",
	                                      NULL};
	static const char *const rcpts[] = {"<user@remote.test>",
	                                    "<abuse@example.com%remote.test>",
	                                    "<user%remote.test@example.com>",
	                                    "<postmaster@remote.test>",
	                                    "<@example.com:abuse@remote.test>",
	                                    "<abuse@remote.test>",
	                                    "<user@example.com>",
	                                    "<nobody@example.com>",
	                                    "postmaster",
	                                    "<user@[192.0.2.1]>"};
	struct rm_ruleset *full;
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;
	char err[512];
	size_t c, l, h, se, r;
	int bad = 0, n = 0;

	full =
	    rm_conf_load(RM_TEST_DIR "/golden/policy.conf", err, sizeof(err));
	CHECK(full != NULL, "load: %s", err);
	if (full == NULL)
		return;
	for (c = 0; c < sizeof(clients) / sizeof(clients[0]); c++)
		for (l = 0; l < sizeof(listeners) / sizeof(listeners[0]); l++)
			for (h = 0; h < sizeof(helos) / sizeof(helos[0]); h++)
				for (se = 0;
				     se < sizeof(senders) / sizeof(senders[0]);
				     se++)
					for (r = 0; r < sizeof(rcpts) /
					                    sizeof(rcpts[0]);
					     r++) {
						memset(&f, 0, sizeof(f));
						if (clients[c] != NULL) {
							rm_ip_parse(clients[c],
							            &ip);
							f.f_client_ip = &ip;
						}
						f.f_listener = listeners[l];
						f.f_helo = helos[h];
						f.f_sender = senders[se];
						f.f_rcpt = rcpts[r];
						rm_policy_rcpt(full, &f, &v,
						               NULL);
						n++;
						if ((v.v_action ==
						     RM_CONTINUE) ==
						    (v.v_reply != NULL))
							bad++;
						if (v.v_action == RM_CONTINUE &&
						    !plainly_ours(full,
						                  rcpts[r])) {
							bad++;
							fprintf(
							    stderr,
							    "open relay: "
							    "client %s "
							    "listener %s "
							    "helo %s sender %s "
							    "rcpt %s\n",
							    clients[c]
							        ? clients[c]
							        : "-",
							    listeners[l]
							        ? listeners[l]
							        : "-",
							    helos[h] ? helos[h]
							             : "-",
							    senders[se]
							        ? senders[se]
							        : "-",
							    rcpts[r]);
						}
					}
	CHECK(bad == 0, "%d of %d decisions relayed or lacked a reply", bad, n);
	rm_ruleset_release(full);
}

/* reply_ok - a reply the MTA can send as it is. */
static int
reply_ok(const struct rm_reply *r)
{
	const char *p;

	if (r == NULL || (r->r_code[0] != '4' && r->r_code[0] != '5') ||
	    r->r_xcode[0] != r->r_code[0] || strlen(r->r_text) == 0 ||
	    strlen(r->r_text) > RM_REPLY_TEXT_MAX)
		return 0;
	for (p = r->r_text; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
	return 1;
}

/*
 * Hostile strings in every fact, under the full rule set: a verdict with a
 * well-formed reply, whatever comes in (ASan/UBSan and valgrind watch the
 * memory side).
 */
static void
test_hostile_facts(void)
{
	static char big[10240], bigaddr[10300];
	const char *hostile[] = {"",
	                         "<>",
	                         "<<<>>>",
	                         "@",
	                         "<@>",
	                         "*)(uid=*",
	                         "%s%n%x",
	                         "a\r\n550 5.7.1 forged\r\n",
	                         "\xff\xfe\x80@example.com",
	                         "\"unterminated@example.com",
	                         "<@a,@b,@c:u@example.com>",
	                         "u@[IPv6:::ffff:192.0.2.1]",
	                         "u@[999.1.1.1]",
	                         "[192.0.2.1",
	                         "postmaster@",
	                         big,
	                         bigaddr};
	struct rm_ruleset *full;
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;
	char err[512];
	size_t h, slot;
	int bad = 0, n = 0;

	memset(big, 'x', sizeof(big) - 1);
	snprintf(bigaddr, sizeof(bigaddr), "<%.*s@example.com>", 10200, big);
	full =
	    rm_conf_load(RM_TEST_DIR "/golden/policy.conf", err, sizeof(err));
	CHECK(full != NULL, "load: %s", err);
	if (full == NULL)
		return;
	rm_ip_parse("203.0.113.9", &ip);
	for (h = 0; h < sizeof(hostile) / sizeof(hostile[0]); h++)
		for (slot = 0; slot < 6; slot++) {
			memset(&f, 0, sizeof(f));
			f.f_client_ip = &ip;
			f.f_helo = "client.test";
			f.f_sender = "<a@remote.test>";
			f.f_rcpt = "<u@example.com>";
			switch (slot) {
			case 0:
				f.f_helo = hostile[h];
				break;
			case 1:
				f.f_sender = hostile[h];
				break;
			case 2:
				f.f_auth = hostile[h];
				break;
			case 3:
				f.f_rcpt = hostile[h];
				break;
			case 4:
				f.f_listener = hostile[h];
				break;
			case 5:
				f.f_rcpt_addr = hostile[h];
				break;
			}
			rm_policy_mail(full, &f, &v, NULL);
			n++;
			if (v.v_action != RM_CONTINUE && !reply_ok(v.v_reply))
				bad++;
			rm_policy_rcpt(full, &f, &v, NULL);
			n++;
			if (v.v_action != RM_CONTINUE && !reply_ok(v.v_reply))
				bad++;
			if (v.v_would_rule != NULL && !reply_ok(&v.v_would))
				bad++;
			if (v.v_action == RM_CONTINUE && f.f_auth == NULL &&
			    !plainly_ours(full, f.f_rcpt))
				bad++;
		}
	CHECK(bad == 0, "%d of %d hostile decisions unsafe", bad, n);
	rm_ruleset_release(full);
}

/* put - form with its '#' replaced by d */
static void
put(char *out, size_t len, const char *form, const char *d)
{
	const char *h = strchr(form, '#');

	snprintf(out, len, "%.*s%s%s", (int)(h - form), form, d, h + 1);
}

/*
 * test_sender_forms - every disguise of a sender the MTA could rewrite
 * into ours is refused to an outsider; the same disguises of a foreign
 * name are not (t/golden/rewrite.conf: example.com and .example.com are
 * ours, our_addresses 198.51.100.25 and 2001:db8::25).
 */
static void
test_sender_forms(void)
{
	static const char *const ours[] = {
	    "example.com",
	    "Sub.Example.COM",
	    "mx.example.com",
	    "localhost",
	    "LOCALHOST",
	    "x.localhost",
	    "localhost.localdomain",
	    "mx",
	    "[127.0.0.1]",
	    "[127.0.0.9]",
	    "[IPv6:::1]",
	    "[::ffff:127.0.0.1]",
	    "[198.51.100.25]",
	    "[IPv6:2001:db8::25]",
	    "[::ffff:198.51.100.25]",
	    "[0:0:0:0:0:ffff:c633:6419]",
	};
	static const char *const foreign[] = {
	    "other.test",    "example.com.other.test", "xexample.com",
	    "[203.0.113.5]", "[IPv6:2001:db8::26]",    "localhost.other.test",
	};
	/* #: the domain under test; the other domains are foreign */
	static const char *const forms[] = {
	    "<u@#>",
	    "<u@#.>",
	    "<\"u\"@#>",
	    "<u%#@r.test>",
	    "<u%#.@r.test>",
	    "<\"u@#\"@r.test>",
	    "<\"u%#\"@r.test>",
	    "<#!u@r.test>",
	    "<r.test!#!u@r.test>",
	    "<@#:u@r.test>",
	    "<@r.test,@#:u@r.test>",
	    "<u%r.test%#@r.test>",
	    "<u@r.test@#>",
	};
	struct rm_ruleset *rw;
	struct rm_facts f;
	struct rm_verdict v;
	struct rm_addr a;
	struct rm_ip ip;
	char from[600], err[512];
	size_t i, j;
	int bad = 0, n = 0;

	rw = rm_conf_load(RM_TEST_DIR "/golden/rewrite.conf", err, sizeof(err));
	CHECK(rw != NULL, "load rewrite.conf: %s", err);
	if (rw == NULL)
		return;
	memset(&f, 0, sizeof(f));
	rm_ip_parse("203.0.113.9", &ip);
	f.f_client_ip = &ip;
	f.f_rcpt = "<user@example.com>";
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		for (j = 0; j < sizeof(ours) / sizeof(ours[0]); j++) {
			put(from, sizeof(from), forms[i], ours[j]);
			f.f_sender = from;
			rm_policy_rcpt(rw, &f, &v, NULL);
			n++;
			if (v.v_action == RM_CONTINUE ||
			    strcmp(v.v_rule, "local_sender_spoof") != 0) {
				bad++;
				fprintf(stderr, "not refused: %s (%s)\n", from,
				        v.v_rule);
			}
		}
		for (j = 0; j < sizeof(foreign) / sizeof(foreign[0]); j++) {
			put(from, sizeof(from), forms[i], foreign[j]);
			if (rm_addr_parse(from, &a, NULL, 0) != 0)
				continue;
			f.f_sender = from;
			rm_policy_rcpt(rw, &f, &v, NULL);
			n++;
			if (v.v_action != RM_CONTINUE) {
				bad++;
				fprintf(stderr, "refused: %s (%s)\n", from,
				        v.v_rule);
			}
		}
	}
	CHECK(bad == 0, "%d of %d sender forms misjudged", bad, n);
	rm_ruleset_release(rw);
}

/* count_port - an owner port that counts its calls */
static int port_calls;
static const struct rm_owned *
count_port(void *arg, const char *login)
{
	(void)login;
	port_calls++;
	return arg;
}

/*
 * test_owner_port - the engine asks the owner port only when sender_login
 * needs the answer, at most once per decision, never at MAIL.
 */
static void
test_owner_port(void)
{
	static char *mine[] = {"carol@example.com", "@.carol.example"};
	struct rm_owned owned = {RM_FOUND, mine, 2},
	                err = {RM_LOOKUP_ERROR, NULL, 0};
	struct rm_owner_port port = {count_port, &owned, NULL};
	struct rm_ruleset *full;
	struct rm_facts f;
	struct rm_verdict v;
	struct rm_ip ip;
	char e[512];

	full = rm_conf_load(RM_TEST_DIR "/golden/policy.conf", e, sizeof(e));
	CHECK(full != NULL, "load: %s", e);
	if (full == NULL)
		return;
	memset(&f, 0, sizeof(f));
	rm_ip_parse("203.0.113.9", &ip);
	f.f_client_ip = &ip;
	f.f_owners = &port;
	f.f_rcpt = "<friend@remote.test>";
	/* no login: never asked */
	f.f_sender = "<carol@example.com>";
	port_calls = 0;
	rm_policy_rcpt(full, &f, &v, NULL);
	CHECK(port_calls == 0, "no login: %d calls", port_calls);
	/* alice owns it in sender_logins: never asked */
	f.f_auth = "alice";
	f.f_sender = "<alice@example.com>";
	rm_policy_rcpt(full, &f, &v, NULL);
	CHECK(port_calls == 0 && v.v_action == RM_CONTINUE,
	      "owned in the file: %d calls", port_calls);
	/* MAIL decides nothing about ownership */
	f.f_auth = "carol";
	f.f_sender = "<carol@example.com>";
	rm_policy_mail(full, &f, &v, NULL);
	CHECK(port_calls == 0, "MAIL: %d calls", port_calls);
	/* carol's address: asked once, owned */
	rm_policy_rcpt(full, &f, &v, NULL);
	CHECK(port_calls == 1 && v.v_action == RM_CONTINUE,
	      "directory owner: %d calls, %s", port_calls, v.v_rule);
	/* a subtree pattern, and what it must not cover */
	f.f_sender = "<x@a.carol.example>";
	rm_policy_rcpt(full, &f, &v, NULL);
	/* (licensed_senders has no carol.example: that refuses it later) */
	CHECK(strcmp(v.v_rule, "sender_login") != 0,
	      "@.carol.example owns a.carol.example: %s", v.v_rule);
	f.f_sender = "<x@xcarol.example>";
	rm_policy_rcpt(full, &f, &v, NULL);
	CHECK(strcmp(v.v_rule, "sender_login") == 0,
	      "@.carol.example: not xcarol.example");
	f.f_sender = "<x@carol.example>";
	rm_policy_rcpt(full, &f, &v, NULL);
	CHECK(strcmp(v.v_rule, "sender_login") == 0,
	      "@.carol.example: not carol.example");
	/* a routed address is owned only exactly */
	f.f_sender = "<x%example.com@a.carol.example>";
	rm_policy_rcpt(full, &f, &v, NULL);
	CHECK(strcmp(v.v_rule, "sender_login") == 0,
	      "routed: no domain pattern owns it");
	/* the directory failed: tempfail, never continue */
	port.op_arg = &err;
	f.f_sender = "<carol@example.com>";
	rm_policy_rcpt(full, &f, &v, NULL);
	CHECK(v.v_action == RM_TEMPFAIL, "lookup error: %s",
	      rm_action_name(v.v_action));
	/* sender_login off on a listener (lax has it on; audit monitors) */
	rm_ruleset_release(full);
}

/* golden_load - t/golden/NAME compiled, or NULL (a failed check) */
static struct rm_ruleset *
golden_load(const char *name)
{
	struct rm_ruleset *r;
	char path[512], e[512];

	snprintf(path, sizeof(path), "%s/golden/%s", RM_TEST_DIR, name);
	r = rm_conf_load(path, e, sizeof(e));
	CHECK(r != NULL, "load %s: %s", name, e);
	return r;
}

/* rev_port - a reverse question: erin's is owned, down's fails */
static enum rm_lookup
rev_port(void *arg, const char *addr)
{
	(void)arg;
	if (strcmp(addr, "erin@example.com") == 0)
		return RM_FOUND;
	return strcmp(addr, "down@example.com") == 0 ? RM_LOOKUP_ERROR
	                                             : RM_NOTFOUND;
}

/* bob_facts - bob@example.com, authenticated, relays from outside */
static void
bob_facts(struct rm_facts *f, struct rm_ip *ip)
{
	memset(f, 0, sizeof(*f));
	rm_ip_parse("203.0.113.9", ip);
	f->f_client_ip = ip;
	f->f_rcpt = "<friend@remote.test>";
	f->f_auth = "bob@example.com";
}

/* sid - the rule of one decision under f, with sender from */
static const char *
sid(const struct rm_ruleset *r, struct rm_facts *f, const char *from,
    enum rm_action *act)
{
	struct rm_verdict v;

	f->f_sender = from;
	rm_policy_rcpt(r, f, &v, NULL);
	*act = v.v_action;
	return v.v_rule;
}

/*
 * test_sender_identity - sender_login_implicit, recipient_delimiter and
 * sender_login_mode = "known" (t/golden/senderid-known.conf), with and
 * without a directory behind the owner port.
 */
static void
test_sender_identity(void)
{
	static char *mine[] = {"dave@example.com"};
	struct rm_owned owned = {RM_FOUND, mine, 1};
	struct rm_owner_port port = {count_port, &owned, NULL};
	struct rm_ruleset *r;
	struct rm_facts f;
	struct rm_ip ip;
	enum rm_action a;
	const char *rule;

	if ((r = golden_load("senderid-known.conf")) == NULL)
		return;
	CHECK(r->rs_login_implicit && r->rs_login_known &&
	          strcmp(r->rs_delim, "+-") == 0,
	      "settings: %d %d \"%s\"", r->rs_login_implicit, r->rs_login_known,
	      r->rs_delim);
	bob_facts(&f, &ip);
	rule = sid(r, &f, "<Bob+News@EXAMPLE.com>", &a);
	CHECK(a == RM_CONTINUE, "implicit + extension: %s", rule);
	rule = sid(r, &f, "<alice-x@example.com>", &a);
	CHECK(a == RM_REJECT && strcmp(rule, "sender_login") == 0,
	      "a colleague's extension: %s", rule);
	rule = sid(r, &f, "<outsider@elsewhere.example>", &a);
	CHECK(a == RM_CONTINUE, "known: an unowned sender is free: %s", rule);
	/* {mail_addr} is judged the same way */
	f.f_mail_addr = "alice@example.com";
	rule = sid(r, &f, "<bob@example.com>", &a);
	CHECK(a == RM_REJECT && strcmp(rule, "sender_login") == 0,
	      "{mail_addr} a colleague's: %s", rule);
	f.f_mail_addr = NULL;
	/* an extension never reaches a colleague through a domain entry */
	rule = sid(r, &f, "<x+bob@sales.example.com>", &a);
	CHECK(a == RM_REJECT, "@sales.example.com is alice's: %s", rule);
	/* a directory behind the port: what it lists, with extensions */
	f.f_owners = &port;
	f.f_auth = "dave";
	port_calls = 0;
	rule = sid(r, &f, "<dave+x@example.com>", &a);
	CHECK(a == RM_CONTINUE && port_calls == 1,
	      "directory + extension: %s, %d calls", rule, port_calls);
	/* known, but the directory cannot say who else owns a sender */
	rule = sid(r, &f, "<outsider@elsewhere.example>", &a);
	CHECK(a == RM_TEMPFAIL, "known + directory: %s %s", rm_action_name(a),
	      rule);
	/* the reverse question: asked for the sender, then its base */
	port.op_owned_by = rev_port;
	rule = sid(r, &f, "<outsider@elsewhere.example>", &a);
	CHECK(a == RM_CONTINUE, "known + reverse lookup, nobody's: %s", rule);
	rule = sid(r, &f, "<erin+x@example.com>", &a);
	CHECK(a == RM_REJECT, "known + reverse lookup, erin's base: %s", rule);
	rule = sid(r, &f, "<down@example.com>", &a);
	CHECK(a == RM_TEMPFAIL, "known + reverse lookup failed: %s",
	      rm_action_name(a));
	rule = sid(r, &f, "<alice@example.com>", &a);
	CHECK(a == RM_REJECT, "known + directory, a colleague's: %s",
	      rm_action_name(a));
	rm_ruleset_release(r);
	/* implicit off: a login that is an address owns only its list */
	if ((r = golden_load("senderid-noimplicit.conf")) == NULL)
		return;
	bob_facts(&f, &ip);
	rule = sid(r, &f, "<bob@example.com>", &a);
	CHECK(a == RM_REJECT, "implicit off: %s", rule);
	rule = sid(r, &f, "<team+x@example.com>", &a);
	CHECK(a == RM_REJECT, "no delimiter: %s", rule);
	rm_ruleset_release(r);
}

/* one recipient of a relay under t/golden/relayrules.conf */
static void
rr(const struct rm_ruleset *r, const char *client, const char *listener,
   const char *auth, const char *rcpt, const char *act, const char *rule)
{
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;

	memset(&f, 0, sizeof(f));
	f.f_sender = "<alice@example.com>";
	if (client != NULL && rm_ip_parse(client, &ip) == 0)
		f.f_client_ip = &ip;
	f.f_listener = listener;
	f.f_auth = auth;
	f.f_rcpt = rcpt;
	rm_policy_rcpt(r, &f, &v, NULL);
	CHECK(strcmp(rm_action_name(v.v_action), act) == 0 &&
	          strcmp(v.v_rule, rule) == 0,
	      "%s %s %s %s: got %s/%s want %s/%s", client ? client : "-",
	      listener ? listener : "-", auth ? auth : "-", rcpt,
	      rm_action_name(v.v_action), v.v_rule, act, rule);
	/* the login is in the log line, never in a refusal's reply */
	CHECK(v.v_reply == NULL || auth == NULL ||
	          strstr(v.v_reply->r_text, auth) == NULL,
	      "reply names the login: %s", v.v_reply->r_text);
}

/*
 * test_relay_rules - login_networks, auth_relay and a listener's own
 * trusted_networks and replies; what milter-map may claim of them.
 */
static void
test_relay_rules(void)
{
	struct rm_ruleset *r;
	struct rm_netowners *ns;
	struct rm_cidr c;
	struct rm_ip ip;
	const char *why;
	const void *tag = NULL;
	char err[512];

	if ((r = golden_load("relayrules.conf")) == NULL)
		return;
	rr(r, "198.51.100.9", NULL, "alice@example.com", "<x@remote.test>",
	   "continue", "authenticated");
	rr(r, "2001:db8:5::1", NULL, "Alice@Example.com", "<x@remote.test>",
	   "continue", "authenticated");
	rr(r, "203.0.113.9", NULL, "ALICE@example.com", "<x@remote.test>",
	   "reject", "login_network");
	rr(r, "203.0.113.9", NULL, "alice@example.com", "<bob@example.com>",
	   "continue", "local_domains");
	rr(r, NULL, NULL, "alice@example.com", "<x@remote.test>", "tempfail",
	   "login_network");
	rr(r, "203.0.113.9", NULL, "bob", "<x@remote.test>", "continue",
	   "authenticated");
	rr(r, "203.0.113.9", NULL, "carol", "<x@remote.test>", "continue",
	   "authenticated");
	rr(r, "10.9.0.1", "submission", "alice@example.com", "<x@remote.test>",
	   "continue", "authenticated");
	rr(r, "10.9.0.1", "audit", "alice@example.com", "<x@remote.test>",
	   "continue", "authenticated");
	rr(r, "10.9.0.1", "mx", "alice@example.com", "<x@remote.test>",
	   "reject", "relay_denied");
	rr(r, "198.51.100.9", "MX", "alice@example.com", "<x@remote.test>",
	   "reject", "relay_denied");
	rr(r, "198.51.100.9", "mx", "alice@example.com", "<bob@example.com>",
	   "continue", "local_domains");
	rr(r, "192.0.2.9", "mx", "alice@example.com", "<x@remote.test>",
	   "continue", "trusted_networks");
	rr(r, "203.0.113.9", "submission", NULL, "<x@remote.test>", "continue",
	   "trusted_networks");
	CHECK(strstr(rm_profile_reply(r, rm_ruleset_profile(r, "mx"),
	                              RM_R_RELAY_DENIED)
	                 ->r_text,
	             "submission port") != NULL &&
	          rm_profile_reply(r, rm_ruleset_profile(r, "mx"),
	                           RM_R_TEMPFAIL) ==
	              &rm_profile_reply(r, rm_ruleset_profile(r, "mx"),
	                                RM_R_TEMPFAIL)[0],
	      "the mx listener's own relay_denied");
	CHECK(strstr(rm_profile_reply(r, NULL, RM_R_RELAY_DENIED)->r_text,
	             "authenticate") != NULL,
	      "the top level keeps its relay_denied");
	/* a listener's licensed_senders may refuse a trusted client */
	CHECK(rm_cidr_parse("192.0.2.0/24", &c, err, sizeof(err)) == 0, "cidr");
	CHECK(!rm_policy_always_continues(r, &c, false, &why), "licensed");
	rm_ruleset_release(r);
	/* a trusted client is never judged by login_networks or auth_relay,
	   and a listener's trusted network is not the top level's:
	   milter-map may still skip the top level's networks */
	r = rm_conf_load_string(
	    "local_domains = [ \"example.com\" ];\n"
	    "trusted_networks = [ \"192.0.2.0/24\" ];\n"
	    "login_networks = ( { login = \"a\"; networks = [ \"10.0.0.0/8\" "
	    "]; } );\n"
	    "listeners = { mx = { auth_relay = false; trusted_networks = [ "
	    "\"203.0.113.0/24\" ]; }; };\n",
	    "relayrules", err, sizeof(err));
	CHECK(r != NULL, "load: %s", err);
	if (r == NULL)
		return;
	CHECK(rm_policy_always_continues(r, &c, false, &why), "%s",
	      why ? why : "-");
	rr(r, "192.0.2.9", "mx", "a", "<x@remote.test>", "continue",
	   "trusted_networks");
	rr(r, "192.0.2.9", NULL, "a", "<x@remote.test>", "continue",
	   "authenticated");
	rm_ruleset_release(r);

	ns = rm_netowners_new();
	CHECK(ns != NULL, "netowners");
	CHECK(rm_cidr_parse("10.0.0.0/8", &c, err, sizeof(err)) == 0, "cidr");
	CHECK(rm_netowners_add(ns, "Bob", &c, "b1", err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_netowners_add(ns, "a b", &c, "x", err, sizeof(err)) != 0,
	      "a login with a space is refused");
	CHECK(rm_netowners_add(ns, "", &c, "x", err, sizeof(err)) != 0,
	      "an empty login is refused");
	rm_netowners_finish(ns);
	CHECK(rm_ip_parse("10.1.2.3", &ip) == 0, "ip");
	CHECK(rm_netowners_lookup(ns, "bob", &ip, &tag) == 1 &&
	          strcmp(tag, "b1") == 0,
	      "bob from 10/8");
	CHECK(rm_ip_parse("11.1.2.3", &ip) == 0, "ip");
	CHECK(rm_netowners_lookup(ns, "BOB", &ip, &tag) == 0, "bob elsewhere");
	CHECK(rm_netowners_lookup(ns, "carol", &ip, &tag) == -1,
	      "carol is not listed");
	rm_netowners_free(ns);
}

int
main(void)
{
	char err[512];

	rs = rm_conf_load(RM_TEST_DIR "/golden/relaymilter.conf", err,
	                  sizeof(err));
	CHECK(rs != NULL, "load: %s", err);
	if (rs == NULL)
		return check_done();
	test_table();
	test_reply_and_trace();
	test_never_open();
	test_never_open_full();
	test_hostile_facts();
	test_sender_forms();
	test_owner_port();
	test_sender_identity();
	test_relay_rules();
	rm_ruleset_release(rs);
	return check_done();
}
