/*
 * test_owned.c - who owns which sender: sender_logins (an rm_addrset per
 * login) and the patterns an on-demand directory lookup returns (struct
 * rm_owned), through the sender_login check of rm_policy_rcpt().
 *
 * An address is owned only as a whole: administrator@ and admin@ are two
 * addresses, neither a prefix of the other; "@domain" is that domain only
 * and "@.domain" its subdomains only, never a name that merely ends in the
 * same letters (xsales.example.com is not below sales.example.com).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rules.h"
#include "relaymilter/addrset.h"
#include "relaymilter/policy.h"
#include "relaymilter/ruleset.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* add - an entry, owned by owner (sender_logins) */
static void
add(struct rm_ruleset *rs, enum rm_list_id list, const char *owner,
    const char *value)
{
	rules_add(rs, list, owner, NULL, value, "test_owned");
}

/*
 * The ruleset: alice owns administrator@example.com, bob owns
 * admin@example.com, carol a domain and dave a subtree; the sender_login
 * check is the only one that can refuse an authenticated client.
 */
static struct rm_ruleset *
ruleset(void)
{
	struct rm_ruleset *rs = rm_ruleset_new("test_owned");

	add(rs, RM_L_LOCAL_DOMAINS, NULL, "example.com");
	add(rs, RM_L_LOCAL_DOMAINS, NULL, ".example.com");
	add(rs, RM_L_SENDER_LOGINS, "alice", "administrator@example.com");
	add(rs, RM_L_SENDER_LOGINS, "bob", "admin@example.com");
	add(rs, RM_L_SENDER_LOGINS, "carol", "@sales.example.com");
	add(rs, RM_L_SENDER_LOGINS, "dave", "@.sales.example.com");
	add(rs, RM_L_SENDER_LOGINS, "erin", "sales.example.com");
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	return rs;
}

/* the owner port hands the engine what the test set here */
static const struct rm_owned *port_answer;

static const struct rm_owned *
port_lookup(void *arg, const char *login)
{
	(void)arg;
	(void)login;
	return port_answer;
}

/* decide - the verdict for an authenticated relay from sender */
static const char *
decide(const struct rm_ruleset *rs, const char *login, const char *sender,
       const struct rm_owned *o, const char **rule)
{
	static struct rm_ip ip;
	static struct rm_verdict v;
	static const struct rm_owner_port port = {port_lookup, NULL, NULL};
	struct rm_facts f;

	rm_ip_parse("203.0.113.9", &ip);
	memset(&f, 0, sizeof(f));
	f.f_client_ip = &ip;
	f.f_helo = "client.remote.test";
	f.f_auth = login;
	f.f_sender = sender;
	f.f_rcpt = "<someone@remote.test>";
	port_answer = o;
	f.f_owners = o != NULL ? &port : NULL;
	rm_policy_rcpt(rs, &f, &v, NULL);
	*rule = v.v_rule != NULL ? v.v_rule : "-";
	return rm_action_name(v.v_action);
}

struct owncase {
	const char *login, *sender;
	int owned; /* 1: continue (authenticated), 0: sender_login refuses */
};

/* sender_logins from the config: whole addresses, whole domains */
static const struct owncase file_cases[] = {
    {"alice", "<administrator@example.com>", 1},
    {"alice", "<Administrator@EXAMPLE.com>", 1},
    {"ALICE", "<administrator@example.com>", 1},
    {"alice", "<admin@example.com>", 0},
    {"alice", "<administrator@example.co>", 0},
    {"alice", "<administrator@example.com.evil>", 0},
    {"alice", "<administrator@sub.example.com>", 0},
    {"alice", "<administrators@example.com>", 0},
    {"alice", "<xadministrator@example.com>", 0},
    {"bob", "<admin@example.com>", 1},
    {"bob", "<administrator@example.com>", 0},
    {"bob", "<adm@example.com>", 0},
    {"bob", "<admin@example.comx>", 0},
    {"bob", "<admin@xexample.com>", 0},
    /* one login's addresses are not another's */
    {"mallory", "<admin@example.com>", 0},
    {"mallory", "<administrator@example.com>", 0},
    {"alic", "<administrator@example.com>", 0},
    {"alicex", "<administrator@example.com>", 0},
    /* the login and the address do not run together */
    {"bobad", "<min@example.com>", 0},
    {"caro", "<l@sales.example.com>", 0},
    /* "@domain": that domain only */
    {"carol", "<anyone@sales.example.com>", 1},
    {"carol", "<anyone@SALES.example.com.>", 1},
    {"carol", "<anyone@xsales.example.com>", 0},
    {"carol", "<anyone@sub.sales.example.com>", 0},
    {"carol", "<anyone@sales.example.co>", 0},
    {"carol", "<anyone@example.com>", 0},
    /* "@.domain": every subdomain, not the domain, not a look-alike */
    {"dave", "<anyone@sub.sales.example.com>", 1},
    {"dave", "<anyone@a.b.sales.example.com>", 1},
    {"dave", "<anyone@sales.example.com>", 0},
    {"dave", "<anyone@xsales.example.com>", 0},
    {"dave", "<anyone@sub.xsales.example.com>", 0},
    /* a bare domain is "@domain" */
    {"erin", "<anyone@sales.example.com>", 1},
    {"erin", "<anyone@sub.sales.example.com>", 0},
    /* the null sender passes: there is no address to own */
    {"mallory", "<>", 1},
};

static void
test_file(void)
{
	struct rm_ruleset *rs = ruleset();
	const char *act, *rule;
	size_t i;

	for (i = 0; i < NELEM(file_cases); i++) {
		const struct owncase *c = &file_cases[i];

		act = decide(rs, c->login, c->sender, NULL, &rule);
		if (c->owned)
			CHECK(strcmp(act, "continue") == 0 &&
			          strcmp(rule, "authenticated") == 0,
			      "%s owns %s: got %s/%s", c->login, c->sender, act,
			      rule);
		else
			CHECK(strcmp(act, "reject") == 0 &&
			          strcmp(rule, "sender_login") == 0,
			      "%s does not own %s: got %s/%s", c->login,
			      c->sender, act, rule);
	}
	rm_ruleset_release(rs);
}

/* The sets themselves: an owner sees its own patterns only. */
static void
test_addrset_owners(void)
{
	static const char tag_a[] = "a", tag_b[] = "b";
	struct rm_addrset *as = rm_addrset_new();
	struct rm_addr a;
	const void *tag;
	char err[128];

	CHECK(rm_addrset_add(as, "alice", "administrator@example.com", tag_a,
	                     err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_addrset_add(as, "bob", "admin@example.com", tag_b, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	rm_addr_parse("<admin@example.com>", &a, NULL, 0);
	tag = NULL;
	CHECK(rm_addrset_lookup(as, "bob", &a, &tag) && tag == tag_b,
	      "bob owns admin@");
	CHECK(!rm_addrset_lookup(as, "alice", &a, NULL),
	      "alice does not own admin@");
	CHECK(!rm_addrset_lookup(as, NULL, &a, NULL),
	      "no owner: no login's patterns");
	rm_addr_parse("<administrator@example.com>", &a, NULL, 0);
	tag = NULL;
	CHECK(rm_addrset_lookup(as, "Alice", &a, &tag) && tag == tag_a,
	      "alice owns administrator@");
	CHECK(!rm_addrset_lookup(as, "bob", &a, NULL),
	      "bob does not own administrator@");
	CHECK(rm_addrset_has_owner(as, "ALICE") &&
	          !rm_addrset_has_owner(as, "carol"),
	      "has_owner");
	rm_addrset_free(as);
}

/* owned - an rm_owned over a list of patterns */
static void
owned(struct rm_owned *o, enum rm_lookup state, const char *const *pats,
      size_t n)
{
	o->o_state = state;
	o->o_addrs = (char **)pats;
	o->o_n = n;
}

struct ldapcase {
	const char *pattern, *sender;
	int owned;
};

/* patterns from the directory (mail, mailAlternateAddress, groups) */
static const struct ldapcase ldap_cases[] = {
    {"administrator@example.com", "<administrator@example.com>", 1},
    {"administrator@example.com", "<ADMINISTRATOR@Example.Com>", 1},
    {"Administrator@Example.COM", "<administrator@example.com.>", 1},
    {"administrator@example.com", "<admin@example.com>", 0},
    {"administrator@example.com", "<administrators@example.com>", 0},
    {"administrator@example.com", "<xadministrator@example.com>", 0},
    {"administrator@example.com", "<administrator@example.co>", 0},
    {"administrator@example.com", "<administrator@example.com.au>", 0},
    {"administrator@example.com", "<administrator@sub.example.com>", 0},
    {"admin@example.com", "<administrator@example.com>", 0},
    {"admin@example.com", "<adm@example.com>", 0},
    {"admin@example.com", "<admin@example.com>", 1},
    {"admin@example.com", "<admin@xexample.com>", 0},
    /* "@domain" */
    {"@sales.example.com", "<anyone@sales.example.com>", 1},
    {"@sales.example.com", "<anyone@Sales.Example.Com>", 1},
    {"@Sales.Example.COM", "<anyone@sales.example.com>", 1},
    {"@sales.example.com", "<anyone@xsales.example.com>", 0},
    {"@sales.example.com", "<anyone@sub.sales.example.com>", 0},
    {"@sales.example.com", "<anyone@sales.example.co>", 0},
    {"@sales.example.com", "<anyone@sales.example.com.evil>", 0},
    {"@sales.example.com", "<anyone@example.com>", 0},
    /* "@.domain" */
    {"@.sales.example.com", "<anyone@sub.sales.example.com>", 1},
    {"@.sales.example.com", "<anyone@A.B.SALES.example.com>", 1},
    {"@.Sales.Example.COM", "<anyone@a.sales.example.com>", 1},
    {"@.sales.example.com", "<anyone@sales.example.com>", 0},
    {"@.sales.example.com", "<anyone@xsales.example.com>", 0},
    {"@.sales.example.com", "<anyone@sub.xsales.example.com>", 0},
    {"@.sales.example.com", "<anyone@sales.example.com.evil>", 0},
    {"@.sales.example.com", "<anyone@example.com>", 0},
    /* a value that is no pattern grants nothing */
    {"sales.example.com", "<anyone@sales.example.com>", 0},
    {"", "<anyone@sales.example.com>", 0},
    {"@", "<anyone@sales.example.com>", 0},
};

static void
test_ldap(void)
{
	struct rm_ruleset *rs = ruleset();
	struct rm_owned o;
	const char *act, *rule;
	size_t i;

	for (i = 0; i < NELEM(ldap_cases); i++) {
		const struct ldapcase *c = &ldap_cases[i];
		const char *pats[3] = {"nobody@remote.test", c->pattern,
		                       "@other.test"};

		/* frank has no sender_logins entry: the directory decides */
		owned(&o, RM_FOUND, pats, 3);
		act = decide(rs, "frank", c->sender, &o, &rule);
		if (c->owned)
			CHECK(strcmp(act, "continue") == 0 &&
			          strcmp(rule, "authenticated") == 0,
			      "pattern \"%s\" owns %s: got %s/%s", c->pattern,
			      c->sender, act, rule);
		else
			CHECK(strcmp(act, "reject") == 0 &&
			          strcmp(rule, "sender_login") == 0,
			      "pattern \"%s\" does not own %s: got %s/%s",
			      c->pattern, c->sender, act, rule);
		/* the pattern alone, first and last in the list */
		owned(&o, RM_FOUND, pats + 1, 1);
		act = decide(rs, "frank", c->sender, &o, &rule);
		CHECK(strcmp(act, c->owned ? "continue" : "reject") == 0,
		      "pattern \"%s\" alone, %s: got %s/%s", c->pattern,
		      c->sender, act, rule);
	}
	rm_ruleset_release(rs);
}

/* The state of the lookup, and the directory beside sender_logins. */
static void
test_ldap_state(void)
{
	static const char *const pats[] = {"frank@example.com"};
	struct rm_ruleset *rs = ruleset();
	struct rm_owned o;
	const char *act, *rule;

	/* found: owns what it lists */
	owned(&o, RM_FOUND, pats, 1);
	act = decide(rs, "frank", "<frank@example.com>", &o, &rule);
	CHECK(strcmp(act, "continue") == 0, "found: got %s/%s", act, rule);
	/* not found: the login owns nothing, whatever the list says */
	owned(&o, RM_NOTFOUND, pats, 1);
	act = decide(rs, "frank", "<frank@example.com>", &o, &rule);
	CHECK(strcmp(act, "reject") == 0 && strcmp(rule, "sender_login") == 0,
	      "not found: got %s/%s", act, rule);
	owned(&o, RM_FOUND, pats, 0);
	act = decide(rs, "frank", "<frank@example.com>", &o, &rule);
	CHECK(strcmp(act, "reject") == 0 && strcmp(rule, "sender_login") == 0,
	      "found, empty: got %s/%s", act, rule);
	/* an error: tempfail, never a guess */
	owned(&o, RM_LOOKUP_ERROR, pats, 1);
	act = decide(rs, "frank", "<someone@example.com>", &o, &rule);
	CHECK(strcmp(act, "tempfail") == 0 && strcmp(rule, "sender_login") == 0,
	      "lookup error: got %s/%s", act, rule);
	/* ... unless the file already says the login owns the sender */
	owned(&o, RM_LOOKUP_ERROR, pats, 0);
	act = decide(rs, "bob", "<admin@example.com>", &o, &rule);
	CHECK(strcmp(act, "continue") == 0,
	      "lookup error, owned in the file: got %s/%s", act, rule);
	/* the file and the directory add up */
	owned(&o, RM_FOUND, pats, 1);
	act = decide(rs, "bob", "<frank@example.com>", &o, &rule);
	CHECK(strcmp(act, "continue") == 0,
	      "owned in the directory only: got %s/%s", act, rule);
	act = decide(rs, "bob", "<admin@example.com>", &o, &rule);
	CHECK(strcmp(act, "continue") == 0, "owned in the file only: got %s/%s",
	      act, rule);
	act = decide(rs, "bob", "<administrator@example.com>", &o, &rule);
	CHECK(strcmp(act, "reject") == 0, "owned by neither: got %s/%s", act,
	      rule);
	/* a sender that does not parse: 553 5.1.7, not a match */
	act = decide(rs, "frank", "<frank@exa mple.com>", &o, &rule);
	CHECK(strcmp(act, "reject") == 0 && strcmp(rule, "sender_login") == 0,
	      "bad sender: got %s/%s", act, rule);
	/* no sender at all: tempfail */
	act = decide(rs, "frank", NULL, &o, &rule);
	CHECK(strcmp(act, "tempfail") == 0 && strcmp(rule, "sender_login") == 0,
	      "missing sender: got %s/%s", act, rule);
	rm_ruleset_release(rs);
}

/*
 * A routed sender ("ceo%example.com@sales.example.com", a source route,
 * a bang path) goes where its last domain does not say: a directory
 * pattern for a whole domain never owns it, only the exact address.
 */
static void
test_ldap_routed(void)
{
	static const char *const dom[] = {"@sales.example.com"};
	static const char *const sub[] = {"@.example.com"};
	static const char *const exact[] = {
	    "ceo%example.com@sales.example.com"};
	static const char *const routed[] = {
	    "<ceo%example.com@sales.example.com>",
	    "<example.com!ceo@sales.example.com>",
	    "<\"ceo@example.com\"@sales.example.com>",
	    "<@sales.example.com:ceo@sales.example.com>"};
	struct rm_ruleset *rs = rm_ruleset_new("test_owned");
	struct rm_owned o;
	const char *act, *rule;
	size_t i;

	add(rs, RM_L_LOCAL_DOMAINS, NULL, "example.com");
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	for (i = 0; i < NELEM(routed); i++) {
		owned(&o, RM_FOUND, dom, 1);
		act = decide(rs, "frank", routed[i], &o, &rule);
		CHECK(strcmp(act, "reject") == 0 &&
		          strcmp(rule, "sender_login") == 0,
		      "@domain, routed %s: got %s/%s", routed[i], act, rule);
		owned(&o, RM_FOUND, sub, 1);
		act = decide(rs, "frank", routed[i], &o, &rule);
		CHECK(strcmp(act, "reject") == 0 &&
		          strcmp(rule, "sender_login") == 0,
		      "@.domain, routed %s: got %s/%s", routed[i], act, rule);
	}
	owned(&o, RM_FOUND, exact, 1);
	act = decide(rs, "frank", routed[0], &o, &rule);
	CHECK(strcmp(act, "continue") == 0, "exact, routed: got %s/%s", act,
	      rule);
	owned(&o, RM_FOUND, dom, 1);
	act = decide(rs, "frank", "<ceo@sales.example.com>", &o, &rule);
	CHECK(strcmp(act, "continue") == 0, "@domain, plain: got %s/%s", act,
	      rule);
	rm_ruleset_release(rs);
}

static int port_calls;

static const struct rm_owned *
count_lookup(void *arg, const char *login)
{
	(void)login;
	port_calls++;
	return arg;
}

/*
 * The owner port is asked once per decision, however many addresses
 * (the sender, {mail_addr}) need the answer.
 */
static void
test_port_once(void)
{
	static char *mine[] = {"frank@example.com", "@sales.example.com"};
	struct rm_owned o = {RM_FOUND, mine, 2};
	struct rm_owner_port port = {count_lookup, &o, NULL};
	struct rm_ruleset *rs = ruleset();
	struct rm_verdict v;
	struct rm_facts f;
	struct rm_ip ip;

	memset(&f, 0, sizeof(f));
	rm_ip_parse("203.0.113.9", &ip);
	f.f_client_ip = &ip;
	f.f_auth = "frank";
	f.f_sender = "<frank@example.com>";
	f.f_mail_addr = "<frank@sales.example.com>";
	f.f_rcpt = "<someone@remote.test>";
	f.f_owners = &port;
	port_calls = 0;
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_CONTINUE && port_calls == 1,
	      "sender and {mail_addr} owned: %s/%s, %d calls",
	      rm_action_name(v.v_action), v.v_rule, port_calls);
	f.f_mail_addr = "<frank@other.test>";
	port_calls = 0;
	rm_policy_rcpt(rs, &f, &v, NULL);
	CHECK(v.v_action == RM_REJECT &&
	          strcmp(v.v_rule, "sender_login") == 0 && port_calls == 1,
	      "{mail_addr} not owned: %s/%s, %d calls",
	      rm_action_name(v.v_action), v.v_rule, port_calls);
	rm_ruleset_release(rs);
}

/*
 * With no sender_logins at all, a directory lookup alone turns the check
 * on; without either the check has nothing to go by and stays quiet.
 */
static void
test_ldap_only(void)
{
	static const char *const pats[] = {"@sales.example.com"};
	struct rm_ruleset *rs = rm_ruleset_new("test_owned");
	struct rm_owned o;
	const char *act, *rule;

	add(rs, RM_L_LOCAL_DOMAINS, NULL, "example.com");
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	owned(&o, RM_FOUND, pats, 1);
	act = decide(rs, "frank", "<a@sales.example.com>", &o, &rule);
	CHECK(strcmp(act, "continue") == 0, "owned: got %s/%s", act, rule);
	act = decide(rs, "frank", "<a@xsales.example.com>", &o, &rule);
	CHECK(strcmp(act, "reject") == 0 && strcmp(rule, "sender_login") == 0,
	      "not owned: got %s/%s", act, rule);
	act = decide(rs, "frank", "<a@xsales.example.com>", NULL, &rule);
	CHECK(strcmp(act, "continue") == 0, "no lookup: got %s/%s", act, rule);
	rm_ruleset_release(rs);
}

int
main(void)
{
	test_addrset_owners();
	test_file();
	test_ldap();
	test_ldap_state();
	test_ldap_routed();
	test_port_once();
	test_ldap_only();
	return check_done();
}
