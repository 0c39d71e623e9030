/*
 * test_gaps.c - decisions at the edges of the lists and the checks: IPv6
 * networks of exactly /64 (and their neighbours), a listener's own lists
 * beside the global ones, who the postmaster exemption covers, HELO
 * address literals and *.localhost, and a sender the MTA did not give.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rules.h"
#include "relaymilter/ip.h"
#include "relaymilter/policy.h"
#include "relaymilter/ruleset.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* add - an entry, scoped to listener (NULL: all) */
static void
add(struct rm_ruleset *rs, enum rm_list_id list, const char *listener,
    const char *value)
{
	rules_add(rs, list, NULL, listener, value, "test_gaps");
}

/* IPv6 prefixes around the 64-bit word boundary, and IPv4 ones. */
struct netcase {
	const char *net, *addr;
	int in;
};

static const struct netcase net_cases[] = {
    {"2001:db8:5:6::/64", "2001:db8:5:6::", 1},
    {"2001:db8:5:6::/64", "2001:db8:5:6::1", 1},
    {"2001:db8:5:6::/64", "2001:db8:5:6:ffff:ffff:ffff:ffff", 1},
    {"2001:db8:5:6::/64", "2001:db8:5:6:8000::1", 1},
    {"2001:db8:5:6::/64", "2001:db8:5:7::", 0},
    {"2001:db8:5:6::/64", "2001:db8:5:5:ffff:ffff:ffff:ffff", 0},
    {"2001:db8:5:6::/64", "2001:db8:5:4006::1", 0},
    {"2001:db8:5:6::/63", "2001:db8:5:7:1::1", 1},
    {"2001:db8:5:6::/63", "2001:db8:5:8::1", 0},
    {"2001:db8:5:6::/65", "2001:db8:5:6:7fff::1", 1},
    {"2001:db8:5:6::/65", "2001:db8:5:6:8000::1", 0},
    {"2001:db8:5:6:8000::/65", "2001:db8:5:6:8000::1", 1},
    {"2001:db8:5:6:8000::/65", "2001:db8:5:6:7fff::1", 0},
    {"2001:db8:5:6::1/128", "2001:db8:5:6::1", 1},
    {"2001:db8:5:6::1/128", "2001:db8:5:6::2", 0},
    {"2001:db8::/32", "2001:db8:ffff::1", 1},
    {"2001:db8::/32", "2001:db9::1", 0},
    {"::/0", "2001:db8::1", 1},
    {"::/0", "192.0.2.1", 1},
    {"0.0.0.0/0", "192.0.2.1", 1},
    {"0.0.0.0/0", "2001:db8::1", 0},
    {"192.0.2.0/25", "192.0.2.127", 1},
    {"192.0.2.0/25", "192.0.2.128", 0},
    {"192.0.2.0/24", "::ffff:192.0.2.200", 1},
};

static void
test_networks(void)
{
	struct rm_cidr c;
	struct rm_ip ip;
	size_t i;
	char err[128];

	for (i = 0; i < NELEM(net_cases); i++) {
		const struct netcase *nc = &net_cases[i];
		struct rm_ipset *set = rm_ipset_new();
		/* a neighbour on each side, so the lookup has to choose */
		struct rm_cidr lo, hi;
		static const char tag[] = "net";
		const void *got = NULL;
		bool r1, r2;

		CHECK(rm_cidr_parse(nc->net, &c, err, sizeof(err)) == 0,
		      "%s: %s", nc->net, err);
		CHECK(rm_ip_parse(nc->addr, &ip) == 0, "%s", nc->addr);
		r1 = rm_cidr_contains(&c, &ip);
		rm_cidr_parse("::1/128", &lo, NULL, 0);
		rm_cidr_parse("fe80::/10", &hi, NULL, 0);
		rm_ipset_add(set, &lo, "lo");
		rm_ipset_add(set, &c, tag);
		rm_ipset_add(set, &hi, "hi");
		rm_ipset_finish(set);
		r2 = rm_ipset_lookup(set, &ip, &got);
		CHECK(r1 == nc->in, "%s contains %s: got %d", nc->net, nc->addr,
		      r1);
		CHECK(r2 == nc->in && (!r2 || got == tag),
		      "set {%s} holds %s: got %d", nc->net, nc->addr, r2);
		rm_ipset_free(set);
	}
}

/*
 * Policy: a /64 in trusted_networks and in deny.clients; a listener "lan"
 * with a deny.helo and deny.senders of its own beside the global ones.
 */
static struct rm_ruleset *
ruleset(void)
{
	struct rm_ruleset *rs = rm_ruleset_new("test_gaps");

	add(rs, RM_L_HOSTNAMES, NULL, "mx.example.com");
	add(rs, RM_L_LOCAL_DOMAINS, NULL, "example.com");
	add(rs, RM_L_LOCAL_DOMAINS, NULL, ".example.com");
	add(rs, RM_L_RELAY_DOMAINS, NULL, "backup.example.net");
	add(rs, RM_L_TRUSTED_NETWORKS, NULL, "192.0.2.0/24");
	add(rs, RM_L_TRUSTED_NETWORKS, NULL, "2001:db8:1:2::/64");
	add(rs, RM_L_DENY_CLIENTS, NULL, "2001:db8:66:1::/64");
	add(rs, RM_L_DENY_CLIENTS, NULL, "203.0.113.66");
	add(rs, RM_L_DENY_HELO, NULL, "spammer.example");
	add(rs, RM_L_DENY_HELO, "lan", "lan-spammer.example");
	add(rs, RM_L_DENY_SENDERS, NULL, "@spam.example");
	add(rs, RM_L_DENY_SENDERS, "lan", "@lan-spam.example");
	add(rs, RM_L_DENY_RECIPIENTS, NULL, "nobody@example.com");
	add(rs, RM_L_DENY_RECIPIENTS, "lan", "lan-nobody@example.com");
	add(rs, RM_L_TRUSTED_NETWORKS, "lan", "198.51.100.0/24");
	add(rs, RM_L_EXC_CLIENTS, "lan", "198.51.100.99");
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	return rs;
}

struct pcase {
	const char *client;   /* NULL: unknown */
	const char *listener; /* NULL: none */
	const char *helo;
	const char *auth;
	const char *sender; /* NULL: the MTA gave none */
	const char *rcpt;
	const char *daemon; /* {daemon_addr}, or NULL */
	const char *action, *rule;
};

#define OUT "203.0.113.9" /* an outsider */

static const struct pcase cases[] = {
    /* an IPv6 /64: trusted */
    {"2001:db8:1:2::1", NULL, "h.test", NULL, "<a@remote.test>",
     "<u@remote.test>", NULL, "continue", "trusted_networks"},
    {"2001:db8:1:2:ffff:ffff:ffff:ffff", NULL, "h.test", NULL,
     "<a@remote.test>", "<u@remote.test>", NULL, "continue",
     "trusted_networks"},
    {"2001:db8:1:3::1", NULL, "h.test", NULL, "<a@remote.test>",
     "<u@remote.test>", NULL, "reject", "relay_denied"},
    {"2001:db8:1:1:ffff:ffff:ffff:ffff", NULL, "h.test", NULL,
     "<a@remote.test>", "<u@remote.test>", NULL, "reject", "relay_denied"},
    /* ... and denied */
    {"2001:db8:66:1::1", NULL, "h.test", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "deny_client"},
    {"2001:db8:66:1:8000::25", NULL, "h.test", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "deny_client"},
    {"2001:db8:66:2::1", NULL, "h.test", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "continue", "local_domains"},
    /* deny.helo: the global list applies on every listener, the
       listener's own list on that listener only */
    {OUT, NULL, "spammer.example", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "deny_helo"},
    {OUT, "lan", "spammer.example", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "deny_helo"},
    {OUT, "LAN", "SPAMMER.example.", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "deny_helo"},
    {OUT, "lan", "lan-spammer.example", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "deny_helo"},
    {OUT, NULL, "lan-spammer.example", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "continue", "local_domains"},
    {OUT, "mx", "lan-spammer.example", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "continue", "local_domains"},
    /* the same for deny.senders and deny.recipients */
    {OUT, "lan", "h.test", NULL, "<a@spam.example>", "<u@example.com>", NULL,
     "reject", "deny_sender"},
    {OUT, "lan", "h.test", NULL, "<a@lan-spam.example>", "<u@example.com>",
     NULL, "reject", "deny_sender"},
    {OUT, NULL, "h.test", NULL, "<a@lan-spam.example>", "<u@example.com>", NULL,
     "continue", "local_domains"},
    {OUT, "lan", "h.test", NULL, "<a@remote.test>", "<nobody@example.com>",
     NULL, "reject", "deny_recipient"},
    {OUT, "lan", "h.test", NULL, "<a@remote.test>", "<lan-nobody@example.com>",
     NULL, "reject", "deny_recipient"},
    {OUT, NULL, "h.test", NULL, "<a@remote.test>", "<lan-nobody@example.com>",
     NULL, "continue", "local_domains"},
    /* trusted_networks of the listener add to the global ones */
    {"198.51.100.5", "lan", "h.test", NULL, "<a@remote.test>",
     "<u@remote.test>", NULL, "continue", "trusted_networks"},
    {"192.0.2.5", "lan", "h.test", NULL, "<a@remote.test>", "<u@remote.test>",
     NULL, "continue", "trusted_networks"},
    {"198.51.100.5", NULL, "h.test", NULL, "<a@remote.test>", "<u@remote.test>",
     NULL, "reject", "relay_denied"},
    /* a listener's exception lifts its checks, never grants a relay */
    {"198.51.100.99", "lan", "spammer.example", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "continue", "local_domains"},
    {"198.51.100.99", NULL, "spammer.example", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "deny_helo"},

    /* postmaster: bare, or at a hostname or local domain, is exempt */
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>", "<postmaster>",
     NULL, "continue", "postmaster"},
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<Postmaster@example.com>", NULL, "continue", "postmaster"},
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<postmaster@mx.example.com>", NULL, "continue", "postmaster"},
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<postmaster@sub.example.com>", NULL, "continue", "postmaster"},
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<postmaster@[192.0.2.25]>", "192.0.2.25", "continue", "postmaster"},
    {OUT, NULL, "mx.example.com", NULL, "<a@example.com>",
     "<postmaster@example.com>", NULL, "continue", "postmaster"},
    /* ... not at a relay domain: it goes through every check */
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<postmaster@backup.example.net>", NULL, "reject", "deny_client"},
    {OUT, NULL, "mx.example.com", NULL, "<a@remote.test>",
     "<postmaster@backup.example.net>", NULL, "reject", "helo_spoof"},
    {OUT, NULL, "h.test", NULL, "<a@example.com>",
     "<postmaster@backup.example.net>", NULL, "reject", "local_sender_spoof"},
    {OUT, NULL, "h.test", NULL, "<a@remote.test>",
     "<postmaster@backup.example.net>", NULL, "continue", "relay_domains"},
    /* ... nor anywhere else */
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<postmaster@remote.test>", NULL, "reject", "deny_client"},
    {OUT, NULL, "h.test", NULL, "<a@remote.test>", "<postmaster@remote.test>",
     NULL, "reject", "relay_denied"},
    {OUT, NULL, "h.test", NULL, "<a@remote.test>", "<postmaster@[192.0.2.26]>",
     "192.0.2.25", "reject", "relay_denied"},
    {OUT, NULL, "h.test", NULL, "<a@remote.test>", "<postmasters@example.com>",
     NULL, "continue", "local_domains"},
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<postmasters@example.com>", NULL, "reject", "deny_client"},
    {"203.0.113.66", NULL, "h.test", NULL, "<a@remote.test>",
     "<postmaste@example.com>", NULL, "reject", "deny_client"},

    /* HELO address literals: ours, or trusted */
    {OUT, NULL, "[192.0.2.1]", NULL, "<a@remote.test>", "<u@example.com>", NULL,
     "reject", "helo_spoof"},
    {OUT, NULL, "[IPv6:192.0.2.1]", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "helo_spoof"},
    {OUT, NULL, "[ipv6:192.0.2.1]", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "helo_spoof"},
    {OUT, NULL, "[IPv6:::ffff:192.0.2.1]", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "helo_spoof"},
    {OUT, NULL, "[IPv6:2001:db8:1:2::7]", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "helo_spoof"},
    {OUT, NULL, "192.0.2.1", NULL, "<a@remote.test>", "<u@example.com>", NULL,
     "reject", "helo_spoof"},
    {OUT, NULL, "[IPv6:2001:db8:ff::25]", NULL, "<a@remote.test>",
     "<u@example.com>", "2001:db8:ff::25", "reject", "helo_spoof"},
    {OUT, NULL, "[198.51.100.25]", NULL, "<a@remote.test>", "<u@example.com>",
     "198.51.100.25", "reject", "helo_spoof"},
    {OUT, NULL, "[IPv6:198.51.100.25]", NULL, "<a@remote.test>",
     "<u@example.com>", "198.51.100.25", "reject", "helo_spoof"},
    {OUT, NULL, "[IPv6:192.0.3.1]", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "continue", "local_domains"},
    {OUT, NULL, "[IPv6:2001:db8:1:3::7]", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "continue", "local_domains"},
    {OUT, NULL, "[198.51.100.26]", NULL, "<a@remote.test>", "<u@example.com>",
     "198.51.100.25", "continue", "local_domains"},
    {OUT, NULL, "[192.0.2.1", NULL, "<a@remote.test>", "<u@example.com>", NULL,
     "continue", "local_domains"},
    {OUT, NULL, "[192.0.2.1]x", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "continue", "local_domains"},
    /* localhost, and every name below it */
    {OUT, NULL, "localhost", NULL, "<a@remote.test>", "<u@example.com>", NULL,
     "reject", "helo_spoof"},
    {OUT, NULL, "LocalHost.LocalDomain", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "helo_spoof"},
    {OUT, NULL, "foo.localhost", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "helo_spoof"},
    {OUT, NULL, "a.b.LOCALHOST", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "helo_spoof"},
    {OUT, NULL, "xlocalhost", NULL, "<a@remote.test>", "<u@example.com>", NULL,
     "continue", "local_domains"},
    {OUT, NULL, "localhost.example.net", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "continue", "local_domains"},
    {OUT, NULL, "localhostx", NULL, "<a@remote.test>", "<u@example.com>", NULL,
     "continue", "local_domains"},
    /* our names; a trusted client may use them */
    {OUT, NULL, "MX.example.com", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "reject", "helo_spoof"},
    {OUT, NULL, "pc.sub.example.com", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "reject", "helo_spoof"},
    {OUT, NULL, "backup.example.net", NULL, "<a@remote.test>",
     "<u@example.com>", NULL, "continue", "local_domains"},
    {"192.0.2.9", NULL, "localhost", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "continue", "local_domains"},
    {OUT, NULL, "foo.localhost", "alice", "<a@remote.test>", "<u@example.com>",
     NULL, "continue", "local_domains"},
    {NULL, NULL, "foo.localhost", NULL, "<a@remote.test>", "<u@example.com>",
     NULL, "tempfail", "helo_spoof"},

    /* no sender from the MTA: a check that needs one tempfails */
    {OUT, NULL, "h.test", NULL, NULL, "<u@example.com>", NULL, "tempfail",
     "local_sender_spoof"},
    {OUT, NULL, "h.test", NULL, NULL, "<postmaster@example.com>", NULL,
     "continue", "postmaster"},
    {"192.0.2.9", NULL, "h.test", NULL, NULL, "<u@remote.test>", NULL,
     "continue", "trusted_networks"},
    {"192.0.2.9", NULL, "h.test", NULL, NULL, "<u@example.com>", NULL,
     "continue", "local_domains"},
    {OUT, NULL, "h.test", "alice", NULL, "<u@remote.test>", NULL, "continue",
     "authenticated"},
};

static void
run(const struct rm_ruleset *rs, const struct pcase *c, struct rm_verdict *v)
{
	struct rm_ip ip, dip;
	struct rm_facts f;

	memset(&f, 0, sizeof(f));
	if (c->client != NULL) {
		CHECK(rm_ip_parse(c->client, &ip) == 0, "%s", c->client);
		f.f_client_ip = &ip;
	}
	if (c->daemon != NULL) {
		CHECK(rm_ip_parse(c->daemon, &dip) == 0, "%s", c->daemon);
		f.f_daemon_ip = &dip;
	}
	f.f_listener = c->listener;
	f.f_helo = c->helo;
	f.f_auth = c->auth;
	f.f_sender = c->sender;
	f.f_rcpt = c->rcpt;
	rm_policy_rcpt(rs, &f, v, NULL);
}

static void
test_policy(void)
{
	struct rm_ruleset *rs = ruleset();
	struct rm_verdict v;
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		const struct pcase *c = &cases[i];

		run(rs, c, &v);
		CHECK(strcmp(rm_action_name(v.v_action), c->action) == 0 &&
		          strcmp(v.v_rule, c->rule) == 0,
		      "client %s listener %s helo %s sender %s rcpt %s: got "
		      "%s/%s want %s/%s",
		      c->client ? c->client : "-",
		      c->listener ? c->listener : "-", c->helo,
		      c->sender ? c->sender : "-", c->rcpt,
		      rm_action_name(v.v_action), v.v_rule, c->action, c->rule);
	}
	rm_ruleset_release(rs);
}

/*
 * A missing sender where each check that needs it is the one that
 * decides: sender_login (authenticated, sender_logins set) and
 * unlicensed_sender (a trusted relay, licensed_senders set).
 */
static void
test_missing_sender(void)
{
	struct rm_ruleset *rs = rm_ruleset_new("test_gaps");
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;

	add(rs, RM_L_LOCAL_DOMAINS, NULL, "example.com");
	add(rs, RM_L_TRUSTED_NETWORKS, NULL, "192.0.2.0/24");
	add(rs, RM_L_LICENSED_SENDERS, NULL, "example.com");
	{
		struct rm_entry_spec sp;
		char err[128];

		memset(&sp, 0, sizeof(sp));
		sp.es_list = RM_L_SENDER_LOGINS;
		sp.es_value = "alice@example.com";
		sp.es_owner = "alice";
		sp.es_origin = "test_gaps";
		CHECK(rm_ruleset_add(rs, &sp, err, sizeof(err)) == 0, "%s",
		      err);
	}
	CHECK(rm_ruleset_finish(rs) == 0, "finish");

	memset(&f, 0, sizeof(f));
	rm_ip_parse("192.0.2.9", &ip);
	f.f_client_ip = &ip;
	f.f_helo = "h.test";
	f.f_rcpt = "<u@remote.test>";
	/* trusted relay: unlicensed_sender needs the sender */
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_TEMPFAIL &&
	          strcmp(v.v_rule, "unlicensed_sender") == 0 &&
	          v.v_reply != NULL && strcmp(v.v_reply->r_code, "451") == 0,
	      "trusted relay, no sender: got %s/%s", rm_action_name(v.v_action),
	      v.v_rule);
	f.f_sender = "<a@example.com>";
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE, "trusted relay, licensed: got %s/%s",
	      rm_action_name(v.v_action), v.v_rule);
	f.f_sender = "<>";
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE, "trusted relay, <>: got %s/%s",
	      rm_action_name(v.v_action), v.v_rule);
	/* authenticated: sender_login needs the sender */
	f.f_sender = NULL;
	f.f_auth = "alice";
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_TEMPFAIL &&
	          strcmp(v.v_rule, "sender_login") == 0,
	      "authenticated, no sender: got %s/%s", rm_action_name(v.v_action),
	      v.v_rule);
	f.f_sender = "<alice@example.com>";
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE, "authenticated, owned: got %s/%s",
	      rm_action_name(v.v_action), v.v_rule);
	/* MAIL FROM: nothing there needs the sender */
	f.f_sender = NULL;
	f.f_auth = NULL;
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE, "MAIL without a sender: got %s/%s",
	      rm_action_name(v.v_action), v.v_rule);
	rm_ruleset_release(rs);
}

/*
 * A routed sender is never lifted by a sender exception for its last
 * domain (an exception for one address cannot be written with routing in
 * it); unlicensed_sender judges authenticated relays too.
 */
static void
test_routed_exception(void)
{
	static const struct {
		const char *list, *value, *owner;
	} entries[] = {
	    {"local_domains", "example.com", NULL},
	    {"exceptions.senders", "@partner.example", NULL},
	    {"licensed_senders", "example.com", NULL},
	    {"sender_logins", "alice@example.com", "alice"},
	    {"sender_logins", "alice@remote.test", "alice"},
	};
	static const struct {
		const char *client, *auth, *sender, *rcpt, *action, *rule;
	} rcases[] = {
	    {OUT, NULL, "<ceo%example.com@partner.example>", "<u@example.com>",
	     "reject", "local_sender_spoof"},
	    {OUT, NULL, "<example.com!ceo@partner.example>", "<u@example.com>",
	     "reject", "local_sender_spoof"},
	    {OUT, NULL, "<ceo@partner.example>", "<u@example.com>", "continue",
	     "local_domains"},
	    /* x%remote@ours: the domain itself is ours */
	    {OUT, NULL, "<x%remote.test@example.com>", "<u@example.com>",
	     "reject", "local_sender_spoof"},
	    {OUT, "alice", "<alice@example.com>", "<u@remote.test>", "continue",
	     "authenticated"},
	    {OUT, "alice", "<alice@remote.test>", "<u@remote.test>", "reject",
	     "unlicensed_sender"},
	    {"192.0.2.9", NULL, "<alice@remote.test>", "<u@remote.test>",
	     "reject", "unlicensed_sender"},
	};
	struct rm_ruleset *rs = rm_ruleset_new("test_gaps");
	struct rm_entry_spec sp;
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;
	char err[128];
	size_t i;

	for (i = 0; i < NELEM(entries); i++) {
		memset(&sp, 0, sizeof(sp));
		sp.es_list = (enum rm_list_id)rm_list_lookup(entries[i].list);
		sp.es_value = entries[i].value;
		sp.es_owner = entries[i].owner;
		sp.es_origin = "test_gaps";
		CHECK(rm_ruleset_add(rs, &sp, err, sizeof(err)) == 0, "%s: %s",
		      entries[i].value, err);
	}
	add(rs, RM_L_TRUSTED_NETWORKS, NULL, "192.0.2.0/24");
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	for (i = 0; i < NELEM(rcases); i++) {
		memset(&f, 0, sizeof(f));
		rm_ip_parse(rcases[i].client, &ip);
		f.f_client_ip = &ip;
		f.f_helo = "h.test";
		f.f_auth = rcases[i].auth;
		f.f_sender = rcases[i].sender;
		f.f_rcpt = rcases[i].rcpt;
		rm_policy_rcpt(rs, &f, &v, NULL);
		CHECK(strcmp(rm_action_name(v.v_action), rcases[i].action) ==
		              0 &&
		          strcmp(v.v_rule, rcases[i].rule) == 0,
		      "%s from %s: got %s/%s want %s/%s", rcases[i].sender,
		      rcases[i].client, rm_action_name(v.v_action), v.v_rule,
		      rcases[i].action, rcases[i].rule);
	}
	rm_ruleset_release(rs);
}

/* Policy data that could not be loaded: every decision tempfails. */
static void
test_incomplete(void)
{
	struct rm_ruleset *rs = ruleset();
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;

	rs->rs_incomplete = 1;
	memset(&f, 0, sizeof(f));
	rm_ip_parse("192.0.2.9", &ip);
	f.f_client_ip = &ip;
	f.f_auth = "alice";
	f.f_sender = "<a@example.com>";
	f.f_rcpt = "<postmaster@example.com>";
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_TEMPFAIL &&
	          strcmp(v.v_rule, "policy_unavailable") == 0,
	      "incomplete, RCPT: got %s/%s", rm_action_name(v.v_action),
	      v.v_rule);
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_TEMPFAIL &&
	          strcmp(v.v_rule, "policy_unavailable") == 0,
	      "incomplete, MAIL: got %s/%s", rm_action_name(v.v_action),
	      v.v_rule);
	rm_ruleset_release(rs);
}

/*
 * require_auth at MAIL FROM: a listener's own, lifted by an exception of
 * that listener or a global one, monitored on another listener.
 */
static void
test_mail(void)
{
	struct rm_ruleset *rs = rm_ruleset_new("test_gaps");
	struct rm_profile *pf;
	struct rm_entry_spec sp;
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;
	char err[128];

	add(rs, RM_L_LOCAL_DOMAINS, NULL, "example.com");
	add(rs, RM_L_TRUSTED_NETWORKS, NULL, "192.0.2.0/24");
	memset(&sp, 0, sizeof(sp));
	sp.es_list = RM_L_EXC_CLIENTS;
	sp.es_value = "203.0.113.7";
	sp.es_listener = "submission";
	sp.es_lifts = RM_LIFT(RM_CK_REQUIRE_AUTH);
	sp.es_origin = "test_gaps";
	CHECK(rm_ruleset_add(rs, &sp, err, sizeof(err)) == 0, "%s", err);
	sp.es_value = "203.0.113.8";
	sp.es_listener = NULL;
	CHECK(rm_ruleset_add(rs, &sp, err, sizeof(err)) == 0, "%s", err);
	pf = rm_ruleset_add_profile(rs, "submission", "test_gaps");
	CHECK(pf != NULL, "profile");
	pf->pf_check[RM_CK_REQUIRE_AUTH] = RM_CM_REJECT;
	pf = rm_ruleset_add_profile(rs, "watch", "test_gaps");
	CHECK(pf != NULL, "profile");
	pf->pf_check[RM_CK_REQUIRE_AUTH] = RM_CM_MONITOR;
	CHECK(rm_ruleset_finish(rs) == 0, "finish");

	memset(&f, 0, sizeof(f));
	f.f_client_ip = &ip;
	f.f_sender = "<a@remote.test>";
	f.f_listener = "submission";
	rm_ip_parse("192.0.2.9", &ip);
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_REJECT && strcmp(v.v_rule, "require_auth") == 0,
	      "trusted, no AUTH: got %s/%s", rm_action_name(v.v_action),
	      v.v_rule);
	rm_ip_parse("203.0.113.7", &ip);
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE,
	      "lifted by the listener's exception: got %s/%s",
	      rm_action_name(v.v_action), v.v_rule);
	rm_ip_parse("203.0.113.8", &ip);
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE,
	      "lifted by a global exception: got %s/%s",
	      rm_action_name(v.v_action), v.v_rule);
	/* lifted, still no relay */
	f.f_rcpt = "<u@remote.test>";
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_REJECT && strcmp(v.v_rule, "relay_denied") == 0,
	      "lifted, relay: got %s/%s", rm_action_name(v.v_action), v.v_rule);
	f.f_rcpt = NULL;
	f.f_auth = "alice";
	rm_ip_parse("203.0.113.9", &ip);
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE, "AUTH: got %s/%s",
	      rm_action_name(v.v_action), v.v_rule);
	f.f_auth = NULL;
	f.f_listener = "watch";
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE && v.v_would_rule != NULL &&
	          strcmp(v.v_would_rule, "require_auth") == 0 &&
	          strcmp(v.v_would.r_code, "530") == 0,
	      "monitored: got %s/%s would %s", rm_action_name(v.v_action),
	      v.v_rule, v.v_would_rule ? v.v_would_rule : "-");
	f.f_listener = NULL;
	rm_policy_mail(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE && v.v_would_rule == NULL,
	      "no listener: got %s/%s", rm_action_name(v.v_action), v.v_rule);
	rm_ruleset_release(rs);
}

int
main(void)
{
	test_networks();
	test_policy();
	test_missing_sender();
	test_routed_exception();
	test_incomplete();
	test_mail();
	return check_done();
}
