/*
 * rules.h - building a ruleset entry by entry in the unit tests.
 */
#ifndef RM_T_RULES_H
#define RM_T_RULES_H

#include <string.h>

#include "check.h"
#include "relaymilter/ruleset.h"

/*
 * rules_add - one entry of list (owner: sender_logins' login; listener:
 * scoped to it), which must be accepted.
 */
static inline void
rules_add(struct rm_ruleset *rs, enum rm_list_id list, const char *owner,
          const char *listener, const char *value, const char *origin)
{
	struct rm_entry_spec sp;
	char err[256];

	memset(&sp, 0, sizeof(sp));
	sp.es_list = list;
	sp.es_value = value;
	sp.es_owner = owner;
	sp.es_listener = listener;
	sp.es_origin = origin;
	CHECK(rm_ruleset_add(rs, &sp, err, sizeof(err)) == 0, "add %s: %s",
	      value, err);
}

#endif
