/*
 * test_addrset.c - address-pattern sets: forms, case, subtrees, owners,
 * bad patterns and hostile lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/addrset.h"

static struct rm_addrset *set;
static const char tag_exact[] = "exact", tag_dom[] = "dom", tag_sub[] = "sub",
                  tag_alice[] = "alice", tag_alice_dom[] = "alice-dom";

static const char *
lookup(const char *owner, const char *addr)
{
	struct rm_addr a;
	const void *tag = NULL;

	if (rm_addr_parse(addr, &a, NULL, 0) != 0)
		return "unparsed";
	if (!rm_addrset_lookup(set, owner, &a, &tag))
		return "-";
	return tag;
}

static void
test_build(void)
{
	static const char *const bad[] = {"",
	                                  "@",
	                                  "a@",
	                                  "a%b@example.com",
	                                  "@a..b",
	                                  "..x",
	                                  "a@[1.2.3.4]",
	                                  "<@r:a@example.com>",
	                                  "a b@c",
	                                  "*.example.com",
	                                  "x@exa mple.com"};
	char err[200];
	size_t i;

	set = rm_addrset_new();
	CHECK(rm_addrset_add(set, NULL, "Billing@Partner.example", tag_exact,
	                     err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_addrset_add(set, NULL, "example.com", tag_dom, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_addrset_add(set, NULL, "@.Example.com.", tag_sub, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_addrset_add(set, NULL, "@partner.example", tag_dom, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_addrset_add(set, NULL, "\"quoted user\"@q.example", tag_exact,
	                     err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_addrset_add(set, "Alice", "alice@example.org", tag_alice, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_addrset_add(set, "alice", ".sales.example.org", tag_alice_dom,
	                     err, sizeof(err)) == 0,
	      "%s", err);
	/* a duplicate keeps the first tag */
	CHECK(rm_addrset_add(set, NULL, "EXAMPLE.COM", tag_exact, err,
	                     sizeof(err)) == 0,
	      "%s", err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(rm_addrset_add(set, NULL, bad[i], tag_exact, err,
		                     sizeof(err)) != 0,
		      "bad pattern \"%s\" accepted", bad[i]);
	CHECK(rm_addrset_add(set, "", "a@example.com", tag_exact, err,
	                     sizeof(err)) != 0,
	      "empty owner accepted");
	CHECK(rm_addrset_add(set, "a\nb", "a@example.com", tag_exact, err,
	                     sizeof(err)) != 0,
	      "owner with a newline accepted");
	CHECK(rm_addrset_count(set) == 7, "count %zu", rm_addrset_count(set));
}

static void
test_lookup(void)
{
	static const struct {
		const char *owner, *addr, *want;
	} cases[] = {
	    {NULL, "billing@partner.example", "exact"},
	    {NULL, "<BILLING@PARTNER.EXAMPLE.>", "exact"},
	    {NULL, "other@partner.example", "dom"},
	    {NULL, "other@sub.partner.example", "-"},
	    {NULL, "a@example.com", "dom"},
	    {NULL, "a@Example.COM", "dom"},
	    {NULL, "a@x.example.com", "sub"},
	    {NULL, "a@y.x.example.com", "sub"},
	    {NULL, "a@notexample.com", "-"},
	    {NULL, "a@com", "-"},
	    {NULL, "<\"quoted user\"@q.example>", "exact"},
	    {NULL, "<>", "-"},
	    {NULL, "a", "-"},
	    {NULL, "a@[192.0.2.1]", "-"},
	    {NULL, "<@x.example.com:a@remote.test>", "-"},
	    /* owners see only their own patterns, case-insensitively */
	    {"alice", "alice@example.org", "alice"},
	    {"ALICE", "Alice@example.org", "alice"},
	    {"alice", "x@eu.sales.example.org", "alice-dom"},
	    {"alice", "x@sales.example.org", "-"},
	    {"alice", "a@example.com", "-"},
	    {NULL, "alice@example.org", "-"},
	    {"bob", "alice@example.org", "-"},
	    {"alice\n", "alice@example.org", "-"},
	    {"", "alice@example.org", "-"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = lookup(cases[i].owner, cases[i].addr);

		CHECK(strcmp(got, cases[i].want) == 0,
		      "owner %s addr %s: got %s want %s",
		      cases[i].owner ? cases[i].owner : "-", cases[i].addr, got,
		      cases[i].want);
	}
	CHECK(rm_addrset_has_owner(set, "alice"), "alice has patterns");
	CHECK(rm_addrset_has_owner(set, "Alice"), "Alice has patterns");
	CHECK(!rm_addrset_has_owner(set, "mallory"), "mallory has none");
}

static void
test_hostile(void)
{
	char owner[2000];
	struct rm_addr a;

	memset(owner, 'o', sizeof(owner) - 1);
	owner[sizeof(owner) - 1] = '\0';
	CHECK(rm_addr_parse("alice@example.org", &a, NULL, 0) == 0, "parse");
	CHECK(!rm_addrset_lookup(set, owner, &a, NULL), "huge owner");
	CHECK(!rm_addrset_has_owner(set, owner), "huge owner has none");
	CHECK(!rm_addrset_lookup(set, "*)(uid=*", &a, NULL), "filter chars");
	CHECK(!rm_addrset_lookup(set, "\xff\xfe", &a, NULL), "8-bit owner");
}

int
main(void)
{
	struct rm_addrset *empty = rm_addrset_new();
	struct rm_addr a;

	rm_addr_parse("a@example.com", &a, NULL, 0);
	CHECK(!rm_addrset_lookup(empty, NULL, &a, NULL), "empty set");
	rm_addrset_free(empty);
	rm_addrset_free(NULL);
	test_build();
	test_lookup();
	test_hostile();
	rm_addrset_free(set);
	return check_done();
}
