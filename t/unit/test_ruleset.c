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

static void
test_entries(void)
{
	struct rm_ruleset *rs = rm_ruleset_new("test");
	struct rm_entry_spec sp;
	char name[64], origin[64], err[200], *longo;
	const void *tag;
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
	for (i = 0; i < rs->rs_nentries; i++) {
		const struct rm_entry *e = rs->rs_entries[i];

		snprintf(name, sizeof(name), "d%zu.example", i);
		snprintf(origin, sizeof(origin), "file.conf:%zu", i + 1);
		if (strcmp(e->e_text, name) != 0 ||
		    strcmp(e->e_origin, i == NENT / 2 ? longo : origin) != 0 ||
		    (i % 1000 == 7) != (e->e_listener != NULL) ||
		    (e->e_listener && strcmp(e->e_listener, "submission")) ||
		    e->e_reply != NULL || e->e_lifts != RM_LIFT_ALL)
			bad++;
	}
	CHECK(bad == 0, "%zu entries differ from what was added", bad);
	tag = NULL;
	CHECK(rm_domset_lookup(rs->rs_lists.l_local_domains, "D5.Example",
	                       &tag) &&
	          tag == rs->rs_entries[5],
	      "lookup finds the entry");
	free(longo);
	rm_ruleset_release(rs);
}

int
main(void)
{
	test_entries();
	return check_done();
}
