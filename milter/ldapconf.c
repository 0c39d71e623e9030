/*
 * ldapconf.c - the life of the LDAP settings (ldapconf.h): plain data,
 * shared by reference between the config that read them, the source that
 * fetches with them and the owner lookups.
 */
#include <stddef.h>
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
	free(lc->lc_sync_name);
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

/* same_str - both NULL, or equal */
static bool
same_str(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
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

/* the strings a synchronisation depends on, in the settings and a map */
static const size_t conf_strs[] = {
    offsetof(struct rm_ldap_conf, lc_base),
    offsetof(struct rm_ldap_conf, lc_bind_dn),
    offsetof(struct rm_ldap_conf, lc_bind_password),
    offsetof(struct rm_ldap_conf, lc_ca_file),
    offsetof(struct rm_ldap_conf, lc_cache_file),
};
static const size_t map_strs[] = {
    offsetof(struct rm_ldap_map, lm_base),
    offsetof(struct rm_ldap_map, lm_filter),
    offsetof(struct rm_ldap_map, lm_attr),
    offsetof(struct rm_ldap_map, lm_owner_attr),
    offsetof(struct rm_ldap_map, lm_listener_attr),
    offsetof(struct rm_ldap_map, lm_lifts_attr),
    offsetof(struct rm_ldap_map, lm_reply_attr),
};

#define STR_AT(p, off)                                                         \
	(*(char *const *)(const void *)((const char *)(p) + (off)))

bool
rm_ldap_conf_same_source(const struct rm_ldap_conf *a,
                         const struct rm_ldap_conf *b)
{
	size_t i;
	int l;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->lc_nuris != b->lc_nuris || a->lc_starttls != b->lc_starttls ||
	    a->lc_timeout != b->lc_timeout || a->lc_refresh != b->lc_refresh ||
	    a->lc_sync != b->lc_sync)
		return false;
	for (i = 0; i < a->lc_nuris; i++)
		if (strcmp(a->lc_uris[i], b->lc_uris[i]) != 0)
			return false;
	for (i = 0; i < sizeof(conf_strs) / sizeof(conf_strs[0]); i++)
		if (!same_str(STR_AT(a, conf_strs[i]), STR_AT(b, conf_strs[i])))
			return false;
	for (l = 0; l < RM_L__COUNT; l++)
		for (i = 0; i < sizeof(map_strs) / sizeof(map_strs[0]); i++)
			if (!same_str(STR_AT(&a->lc_maps[l], map_strs[i]),
			              STR_AT(&b->lc_maps[l], map_strs[i])))
				return false;
	return true;
}
