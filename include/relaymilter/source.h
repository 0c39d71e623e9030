/*
 * source.h - where a policy comes from: the config file, plus the LDAP
 * data when the file has an "ldap" group.
 *
 * LDAP data is fetched fresh when possible; when LDAP is down the last
 * good copy is used (the one in memory, else the cache file), and with
 * neither the ruleset is marked incomplete so that every decision
 * tempfails.  The state remembers the last good data, to tell a refresh
 * that changed nothing from one that did.
 */
#ifndef RM_SOURCE_H
#define RM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "relaymilter/ldapdata.h"
#include "relaymilter/ruleset.h"

struct rm_source {
	const char *src_path;        /* the config file */
	struct rm_ldapdata src_data; /* last good LDAP data */
	bool src_have_data;
	bool src_ldap_down; /* the last fetch failed (logged once) */
};

enum rm_source_result {
	RM_SRC_NEW,       /* *out is a new ruleset */
	RM_SRC_UNCHANGED, /* a refresh found nothing new: keep the current */
	RM_SRC_ERROR      /* the file is broken: err says why */
};

/*
 * rm_source_load - build the policy.  refresh: a periodic check (an LDAP
 * failure or identical data then means "unchanged"); otherwise a start or
 * a reload, which always builds.
 */
enum rm_source_result rm_source_load(struct rm_source *, bool refresh,
                                     struct rm_ruleset **out, char *err,
                                     size_t errlen);
void rm_source_free(struct rm_source *);

#endif
