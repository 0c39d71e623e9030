/*
 * source.c - the config file and LDAP, merged into one ruleset.
 *
 * The file is read twice per build (once to learn the LDAP settings, once
 * with the LDAP entries added): it is small, and it keeps rm_conf_build()
 * the only way a ruleset is made.
 */
#include <stdio.h>
#include <string.h>

#include "relaymilter/conf.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapsrc.h"
#include "relaymilter/log.h"
#include "relaymilter/source.h"

static void
warn_log(void *arg, const char *msg)
{
	(void)arg;
	rm_log(RM_LOG_WARNING, "%s", msg);
}

/* add_ldap - rm_conf_extra: the LDAP entries, bad ones skipped. */
static int
add_ldap(void *arg, struct rm_ruleset *rs, char *err, size_t errlen)
{
	struct rm_source *src = arg;

	(void)err;
	(void)errlen;
	if (!src->src_have_data) {
		rs->rs_incomplete = 1;
		return 0;
	}
	rm_ldapdata_apply(&src->src_data, rs, warn_log, NULL);
	return 0;
}

/* take - the fetched data becomes the last good copy, saved to the cache. */
static void
take(struct rm_source *src, struct rm_ldapdata *d,
     const struct rm_ldap_conf *lc)
{
	char err[512];

	rm_ldapdata_clear(&src->src_data);
	src->src_data = *d;
	memset(d, 0, sizeof(*d));
	src->src_have_data = true;
	if (lc->lc_cache_file != NULL &&
	    rm_ldapdata_save(&src->src_data, lc->lc_cache_file, err,
	                     sizeof(err)) != 0)
		rm_log(RM_LOG_WARNING, "cannot write the LDAP cache: %s", err);
}

enum rm_source_result
rm_source_load(struct rm_source *src, bool refresh, struct rm_ruleset **out,
               char *err, size_t errlen)
{
	struct rm_ruleset *rs0;
	struct rm_ldap_conf *lc;
	struct rm_ldapdata d;
	char why[1024];

	*out = NULL;
	if ((rs0 = rm_conf_load(src->src_path, err, errlen)) == NULL)
		return RM_SRC_ERROR;
	if ((lc = rs0->rs_ldap) == NULL) {
		*out = rs0;
		return RM_SRC_NEW;
	}
	if (rm_ldap_fetch(lc, &d, warn_log, NULL, why, sizeof(why)) == 0) {
		if (src->src_ldap_down)
			rm_log(RM_LOG_INFO, "LDAP is back: %zu entries", d.d_n);
		src->src_ldap_down = false;
		if (refresh && src->src_have_data &&
		    rm_ldapdata_equal(&d, &src->src_data)) {
			rm_ldapdata_clear(&d);
			rm_ruleset_release(rs0);
			return RM_SRC_UNCHANGED;
		}
		take(src, &d, lc);
	} else {
		if (!src->src_ldap_down || !refresh)
			rm_log(RM_LOG_ERR, "LDAP unavailable: %s", why);
		src->src_ldap_down = true;
		if (refresh && src->src_have_data) {
			rm_ruleset_release(rs0);
			return RM_SRC_UNCHANGED;
		}
		if (!src->src_have_data && lc->lc_cache_file != NULL) {
			if (rm_ldapdata_load(&d, lc->lc_cache_file, why,
			                     sizeof(why)) == 0) {
				rm_log(RM_LOG_WARNING,
				       "using the last known good LDAP data "
				       "from %s (%zu entries)",
				       lc->lc_cache_file, d.d_n);
				rm_ldapdata_clear(&src->src_data);
				src->src_data = d;
				src->src_have_data = true;
			} else
				rm_log(RM_LOG_ERR, "no LDAP cache: %s", why);
		}
		if (!src->src_have_data)
			rm_log(RM_LOG_ERR,
			       "no LDAP data and no cache: every decision "
			       "tempfails until LDAP answers");
	}
	rm_ruleset_release(rs0);
	if ((*out = rm_conf_build(src->src_path, add_ldap, src, err, errlen)) ==
	    NULL)
		return RM_SRC_ERROR;
	return RM_SRC_NEW;
}

void
rm_source_free(struct rm_source *src)
{
	rm_ldapdata_clear(&src->src_data);
	src->src_have_data = false;
}
