/*
 * ldapconf.c - the life of the LDAP settings (ldapconf.h): plain data,
 * shared by reference between the config that read them, the source that
 * fetches with them and the owner lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "relaymilter/ldapconf.h"

struct rm_ldap_conf *
rm_ldap_conf_new(void)
{
	struct rm_ldap_conf *lc = calloc(1, sizeof(*lc));

	if (lc != NULL)
		atomic_init(&lc->lc_refs, 1);
	return lc;
}

struct rm_ldap_conf *
rm_ldap_conf_hold(struct rm_ldap_conf *lc)
{
	atomic_fetch_add_explicit(&lc->lc_refs, 1, memory_order_relaxed);
	return lc;
}

void
rm_ldap_conf_free(struct rm_ldap_conf *lc)
{
	size_t i;
	int l;

	if (lc == NULL || atomic_fetch_sub_explicit(&lc->lc_refs, 1,
	                                            memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < lc->lc_nuris; i++)
		free(lc->lc_uris[i]);
	free(lc->lc_uris);
	free(lc->lc_base);
	free(lc->lc_bind_dn);
	free(lc->lc_bind_password_file);
	if (lc->lc_bind_password != NULL) {
		/* do not leave the secret in freed memory */
		volatile char *p = lc->lc_bind_password;

		while (*p != '\0')
			*p++ = '\0';
		free(lc->lc_bind_password);
	}
	free(lc->lc_ca_file);
	free(lc->lc_cache_file);
	free(lc->lc_origin);
	for (l = 0; l < RM_L__COUNT; l++) {
		struct rm_ldap_map *m = &lc->lc_maps[l];

		free(m->lm_base);
		free(m->lm_filter);
		free(m->lm_attr);
		free(m->lm_owner_attr);
		free(m->lm_listener_attr);
		free(m->lm_lifts_attr);
		free(m->lm_reply_attr);
	}
	if (lc->lc_senders != NULL) {
		for (i = 0; i < lc->lc_senders->ls_nattrs; i++)
			free(lc->lc_senders->ls_attrs[i]);
		free(lc->lc_senders->ls_attrs);
		free(lc->lc_senders->ls_base);
		free(lc->lc_senders->ls_filter);
		free(lc->lc_senders->ls_group_filter);
		free(lc->lc_senders->ls_group_attr);
		free(lc->lc_senders);
	}
	free(lc);
}

/* same_str - equal strings, or both NULL */
static int
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
rm_ldap_conf_same_server(const struct rm_ldap_conf *a,
                         const struct rm_ldap_conf *b)
{
	size_t i;

	if (a == b)
		return 1;
	if (a == NULL || b == NULL || a->lc_nuris != b->lc_nuris ||
	    a->lc_starttls != b->lc_starttls ||
	    (a->lc_senders == NULL) != (b->lc_senders == NULL) ||
	    (a->lc_senders != NULL &&
	     a->lc_senders->ls_connections != b->lc_senders->ls_connections) ||
	    !same_str(a->lc_ca_file, b->lc_ca_file) ||
	    !same_str(a->lc_bind_dn, b->lc_bind_dn) ||
	    !same_str(a->lc_bind_password, b->lc_bind_password))
		return 0;
	for (i = 0; i < a->lc_nuris; i++)
		if (!same_str(a->lc_uris[i], b->lc_uris[i]))
			return 0;
	return 1;
}
