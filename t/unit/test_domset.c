/*
 * test_domset.c - domain sets: exact names, subtrees, case, trailing dots,
 * pattern validation, and a large set against a linear reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/domset.h"
#include "relaymilter/rm.h"

static const char *
look(const struct rm_domset *ds, const char *name)
{
	const void *tag = NULL;

	if (!rm_domset_lookup(ds, name, &tag))
		return "-";
	return tag;
}

static void
test_match(void)
{
	struct rm_domset *ds = rm_domset_new();
	char err[128];
	static const struct {
		const char *name, *want;
	} cases[] = {
	    {"example.com", "exact"},
	    {"EXAMPLE.Com", "exact"},
	    {"example.com.", "exact"},
	    {"a.example.com", "sub"},
	    {"b.a.example.com", "sub"},
	    {"x.deep.example.com", "deep"},
	    {"deep.example.com", "sub"},
	    {"deep.example.com.", "sub"},
	    {"only.example.net", "only"},
	    {"x.only.example.net", "-"},
	    {"example.net", "-"},
	    {"xexample.com", "-"},
	    {"com", "-"},
	    {"", "-"},
	    {".", "-"},
	    {"example.com..", "-"},
	    {"\xc3\xa9.example.com", "sub"},
	};
	size_t i;

	CHECK(rm_domset_add(ds, "example.com", "exact", err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_domset_add(ds, ".example.com", "sub", err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_domset_add(ds, ".DEEP.example.com", "deep", err,
	                    sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_domset_add(ds, "only.example.net.", "only", err,
	                    sizeof(err)) == 0,
	      "%s", err);
	/* a duplicate keeps the first tag and is not counted twice */
	CHECK(rm_domset_add(ds, "Example.COM", "dup", err, sizeof(err)) == 0,
	      "%s", err);
	CHECK(rm_domset_finish(ds) == 0, "finish");
	CHECK(rm_domset_count(ds) == 4, "count %zu", rm_domset_count(ds));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(look(ds, cases[i].name), cases[i].want);
	CHECK(!rm_domset_lookup(ds, NULL, NULL), "NULL name");
	rm_domset_free(ds);
	rm_domset_free(NULL);
}

static void
test_check(void)
{
	static const struct {
		const char *p;
		int ok;
	} cases[] = {
	    {"example.com", 1},
	    {".example.com", 1},
	    {"a-b.example", 1},
	    {"_dmarc.example", 1},
	    {"xn--bcher-kva.example", 1},
	    {"example.com.", 1},
	    {"localhost", 1},
	    {"", 0},
	    {".", 0},
	    {"..example.com", 0},
	    {"a..b", 0},
	    {"-a.example", 0},
	    {"a-.example", 0},
	    {"*.example.com", 0},
	    {"exa mple.com", 0},
	    {"user@example.com", 0},
	    {"b\xc3\xbc"
	     "cher.example",
	     0},
	    {"192.0.2.0/24", 0},
	};
	char err[128], big[400];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = rm_domain_check(cases[i].p, err, sizeof(err));

		CHECK((r == 0) == cases[i].ok, "\"%s\": %d (%s)", cases[i].p, r,
		      r ? err : "");
	}
	/* a 64-byte label and a 254-byte name are too long */
	memset(big, 'a', 64);
	strcpy(big + 64, ".example");
	CHECK(rm_domain_check(big, err, sizeof(err)) != 0, "64-byte label");
	big[1] = '.';
	for (i = 0; i < 254; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = 'a';
	big[254] = '\0';
	CHECK(rm_domain_check(big, err, sizeof(err)) != 0, "254-byte name");
	big[253] = '\0';
	CHECK(rm_domain_check(big, err, sizeof(err)) == 0, "253 bytes: %s",
	      err);
}

/* 50 000 names: every one found, every sibling not. */
static void
test_large(void)
{
	struct rm_domset *ds = rm_domset_new();
	char name[64], err[128];
	int i, bad = 0;

	for (i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "%sd%d.example", i % 3 ? "" : ".",
		         i);
		if (rm_domset_add(ds, name, NULL, err, sizeof(err)) != 0)
			bad++;
	}
	rm_domset_finish(ds);
	CHECK(bad == 0 && rm_domset_count(ds) == 50000, "count %zu",
	      rm_domset_count(ds));
	for (i = 0; i < 50000; i++) {
		int sub = i % 3 == 0;

		snprintf(name, sizeof(name), "D%d.EXAMPLE", i);
		if (rm_domset_lookup(ds, name, NULL) != !sub)
			bad++;
		snprintf(name, sizeof(name), "x.d%d.example", i);
		if (rm_domset_lookup(ds, name, NULL) != sub)
			bad++;
		snprintf(name, sizeof(name), "d%d.example.org", i);
		if (rm_domset_lookup(ds, name, NULL))
			bad++;
	}
	CHECK(bad == 0, "%d wrong lookups", bad);
	rm_domset_free(ds);
}

/* both kinds on one name, in either order, each keeping its own tag */
static void
test_both_kinds(void)
{
	struct rm_domset *ds = rm_domset_new();
	char name[64], err[128];
	static const char *const tags[] = {"e", "s"};
	const void *tag;
	int i, bad = 0;

	/* enough names that the index and the node array grow in between */
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "%sn%d.test", i % 2 ? "." : "", i);
		bad += rm_domset_add(ds, name, tags[i % 2], err, sizeof(err));
	}
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "%sn%d.test", i % 2 ? "" : ".", i);
		bad +=
		    rm_domset_add(ds, name, tags[!(i % 2)], err, sizeof(err));
		/* a third add of either kind changes nothing */
		bad += rm_domset_add(ds, name, "dup", err, sizeof(err));
	}
	rm_domset_finish(ds);
	CHECK(bad == 0, "%d adds failed", bad);
	CHECK(rm_domset_count(ds) == 6000, "count %zu", rm_domset_count(ds));
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "N%d.test.", i);
		tag = NULL;
		if (!rm_domset_lookup(ds, name, &tag) || strcmp(tag, "e") != 0)
			bad++;
		snprintf(name, sizeof(name), "a.b.n%d.test", i);
		tag = NULL;
		if (!rm_domset_lookup(ds, name, &tag) || strcmp(tag, "s") != 0)
			bad++;
	}
	CHECK(bad == 0, "%d wrong lookups", bad);
	rm_domset_free(ds);
}

/* one hashed name, looked up in several sets; odd names */
static void
test_key(void)
{
	struct rm_domset *a = rm_domset_new(), *b = rm_domset_new();
	struct rm_domkey k;
	char err[128], big[300];
	const void *tag = NULL;
	int i;

	rm_domset_add(a, "host.example.org", "a", err, sizeof(err));
	rm_domset_add(b, ".example.org", "b", err, sizeof(err));
	CHECK(rm_domkey_init(&k, "HOST.example.org."), "key");
	CHECK(rm_domset_lookup_key(a, &k, &tag) && strcmp(tag, "a") == 0,
	      "exact in a");
	CHECK(rm_domset_lookup_key(b, &k, &tag) && strcmp(tag, "b") == 0,
	      "subtree in b");
	CHECK(!rm_domkey_init(&k, ""), "empty");
	CHECK(!rm_domkey_init(&k, NULL), "NULL");
	CHECK(!rm_domkey_init(&k, "."), "root");
	/* an empty label hides the names that hold it, not its parents */
	CHECK_STR(look(b, "x..example.org"), "b");
	CHECK_STR(look(b, "..example.org"), "b");
	CHECK_STR(look(b, "x.example..org"), "-");
	CHECK_STR(look(a, ".host.example.org"), "-");
	CHECK_STR(look(a, "host.example.org.."), "-");
	/* the most labels a name can have, and a name of only dots */
	for (i = 0; i < 126; i++) {
		big[2 * i] = 'x';
		big[2 * i + 1] = '.';
	}
	strcpy(big + 252, "x");
	CHECK(rm_domkey_init(&k, big) && k.k_n == 127, "127 labels: %u", k.k_n);
	memset(big, '.', 253);
	big[253] = '\0';
	CHECK(!rm_domkey_init(&k, big) || k.k_n == 0, "dots");
	CHECK_STR(look(b, big), "-");
	rm_domset_free(a);
	rm_domset_free(b);
}

/* parents that are no pattern must not match, nor hide a wider subtree */
static void
test_parents(void)
{
	/* pattern and tag; a name that was only a parent becomes a pattern */
	static const char *const pats[][2] = {
	    {"a.b.c.example", "abc"},
	    {".c.example", "sub"},
	    {".z.example", "zsub"},
	    {"deep.y.z.example", "deep"},
	};
	/* name and what it finds */
	static const char *const names[][2] = {
	    {"a.b.c.example", "abc"}, {"b.c.example", "sub"},
	    {"c.example", "-"},       {"example", "-"},
	    {"x.b.c.example", "sub"}, {"x.a.b.c.example", "sub"},
	    {"y.z.example", "zsub"},  {"z.example", "-"},
	    {"b.z.example", "zsub"},  {"other", "-"},
	};
	struct rm_domset *ds = rm_domset_new();
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		CHECK(rm_domset_add(ds, pats[i][0], pats[i][1], err,
		                    sizeof(err)) == 0,
		      "%s: %s", pats[i][0], err);
	CHECK(rm_domset_count(ds) == 4, "count %zu", rm_domset_count(ds));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		CHECK(strcmp(look(ds, names[i][0]), names[i][1]) == 0,
		      "%s: got %s want %s", names[i][0], look(ds, names[i][0]),
		      names[i][1]);
	rm_domset_free(ds);
}

/*
 * rm_hash_mix - the table index is the low bits: inputs that differ only
 * in their high bits must still spread over them.
 */
static void
test_hash_mix(void)
{
	static unsigned char seen[65536];
	unsigned h, distinct = 0;

	for (h = 0; h < 65536; h++) {
		unsigned low = rm_hash_mix(h << 16) & 0xffff;

		distinct += !seen[low];
		seen[low] = 1;
	}
	/* a random function reaches about 63% of 65536 */
	CHECK(distinct > 38000, "%u distinct low halves", distinct);
	CHECK(rm_hash_mix(1) != rm_hash_mix(2), "mix is not constant");
}

int
main(void)
{
	test_match();
	test_check();
	test_large();
	test_both_kinds();
	test_key();
	test_parents();
	test_hash_mix();
	return check_done();
}
