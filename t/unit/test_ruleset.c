/*
 * test_ruleset.c - entries built with rm_ruleset_add(): every string kept
 * as given, however many entries and however long their strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/ruleset.h"

#define NENT 20000

/* same_origin - the entry prints back its origin as given */
static int
same_origin(const struct rm_entry *e, const char *origin)
{
	char lb[RM_LINE_BUF];
	size_t n = strlen(e->e_where);

	return strncmp(origin, e->e_where, n) == 0 &&
	       strcmp(origin + n, rm_entry_line(e, lb)) == 0;
}

/* origins that are not "file:line" are kept whole */
static void
test_origins(void)
{
	static const char *const cases[] = {
	    "file.conf:1",
	    "file.conf:0",
	    "file.conf:007",
	    "ldap:cn=a,dc=b",
	    "ldap:cn=x:12",
	    "f:",
	    "-",
	    "a:1234567890",
	    "a:123456789",
	    "a:12b",
	    ":5",
	};
	struct rm_ruleset *rs = rm_ruleset_new("test");
	struct rm_entry_spec sp;
	const void *tag;
	char name[64], err[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&sp, 0, sizeof(sp));
		snprintf(name, sizeof(name), "o%zu.example", i);
		sp.es_list = RM_L_RELAY_DOMAINS;
		sp.es_value = name;
		sp.es_origin = cases[i];
		CHECK(rm_ruleset_add(rs, &sp, err, sizeof(err)) == 0, "%s",
		      err);
		tag = NULL;
		CHECK(rm_domset_lookup(rs->rs_lists.l_relay_domains, name,
		                       &tag) &&
		          same_origin(tag, cases[i]),
		      "origin %s", cases[i]);
	}
	rm_ruleset_release(rs);
}

static void
test_entries(void)
{
	struct rm_ruleset *rs = rm_ruleset_new("test");
	struct rm_entry_spec sp;
	char name[64], origin[64], err[200], *longo;
	const void *tag, *other;
	size_t i, bad = 0;

	CHECK(rs != NULL, "new");
	/* an origin bigger than any arena block, in the middle */
	longo = malloc(300000);
	memset(longo, 'x', 299999);
	longo[299999] = '\0';
	for (i = 0; i < NENT; i++) {
		memset(&sp, 0, sizeof(sp));
		snprintf(name, sizeof(name), "d%zu.example", i);
		snprintf(origin, sizeof(origin), "file.conf:%zu", i + 1);
		sp.es_list = RM_L_LOCAL_DOMAINS;
		sp.es_value = name;
		sp.es_origin = i == NENT / 2 ? longo : origin;
		sp.es_listener = i % 1000 == 7 ? "submission" : NULL;
		if (rm_ruleset_add(rs, &sp, err, sizeof(err)) != 0)
			bad++;
	}
	CHECK(bad == 0, "%zu adds failed: %s", bad, err);
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	CHECK(rs->rs_nentries == NENT, "%zu entries", rs->rs_nentries);
	for (i = 0; i < NENT; i++) {
		const struct rm_entry *e = NULL;
		const struct rm_lists *l = &rs->rs_lists;
		const void *t = NULL;

		snprintf(name, sizeof(name), "d%zu.example", i);
		snprintf(origin, sizeof(origin), "file.conf:%zu", i + 1);
		if (i % 1000 == 7)
			l = rm_ruleset_profile(rs, "submission")->pf_lists;
		if (l == NULL ||
		    !rm_domset_lookup(l->l_local_domains, name, &t)) {
			bad++;
			continue;
		}
		e = t;
		if (strcmp(e->e_text, name) != 0 ||
		    !same_origin(e, i == NENT / 2 ? longo : origin) ||
		    (i % 1000 == 7) != (e->e_listener != NULL) ||
		    (e->e_listener && strcmp(e->e_listener, "submission")) ||
		    e->e_reply != NULL || e->e_lifts != RM_LIFT_ALL)
			bad++;
	}
	CHECK(bad == 0, "%zu entries differ from what was added", bad);
	tag = NULL;
	CHECK(rm_domset_lookup(rs->rs_lists.l_local_domains, "D5.Example",
	                       &tag) &&
	          strcmp(((const struct rm_entry *)tag)->e_text,
	                 "d5.example") == 0,
	      "lookup finds the entry");
	/* the entries of one file share its name */
	rm_domset_lookup(rs->rs_lists.l_local_domains, "d6.example", &tag);
	CHECK(rm_domset_lookup(rs->rs_lists.l_local_domains, "d5.example",
	                       &other) &&
	          ((const struct rm_entry *)tag)->e_where ==
	              ((const struct rm_entry *)other)->e_where,
	      "one file name for the entries of a file");
	free(longo);
	rm_ruleset_release(rs);
}

int
main(void)
{
	test_entries();
	test_origins();
	return check_done();
}
