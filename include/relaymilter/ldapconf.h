/*
 * ldapconf.h - the "ldap" settings of the config file, as plain data.
 *
 * conf.c fills this from libconfig; ldapsrc.c (the only user of libldap)
 * reads it.  Every string is owned by the struct.
 */
#ifndef RM_LDAPCONF_H
#define RM_LDAPCONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "relaymilter/ruleset.h"

/* How one list is read: a search and the attributes of each entry. */
struct rm_ldap_map {
	char *lm_base;          /* NULL: the ldap base */
	char *lm_filter;        /* NULL: this list is not read from LDAP */
	char *lm_attr;          /* the value (may be multi-valued) */
	char *lm_owner_attr;    /* sender_logins: the login */
	char *lm_listener_attr; /* optional: scope to a listener */
	char *lm_lifts_attr;    /* optional: exceptions' lifts */
	char *lm_reply_attr;    /* optional: a deny entry's reply */
};

/* On-demand lookups of the sender addresses a login owns. */
struct rm_ldap_senders {
	char *ls_base;   /* NULL: the ldap base */
	char *ls_filter; /* "%s" = the login, RFC 4515-escaped */
	char **ls_attrs; /* addresses on the user's entry; NULL-ended */
	size_t ls_nattrs;
	char *ls_group_filter; /* "%d" = the user's DN, escaped; or NULL */
	char *ls_group_attr;   /* the group's address */
	int ls_ttl, ls_negative_ttl; /* seconds */
	size_t ls_cache_size;
	size_t ls_connections; /* pooled connections of the lookups */
};

/* ldap.sync: how changes are noticed */
enum rm_ldap_sync {
	RM_LDAP_SYNC_AUTO,    /* persist when the server offers it, else poll */
	RM_LDAP_SYNC_PERSIST, /* RFC 4533 refreshAndPersist (ldapsync.c) */
	RM_LDAP_SYNC_POLL     /* a change check every ldap.refresh seconds */
};

struct rm_ldap_conf {
	_Atomic unsigned lc_refs; /* rm_ldap_conf_hold(); the last free frees */
	char **lc_uris;           /* tried in order */
	size_t lc_nuris;
	char *lc_base;
	char *lc_bind_dn;            /* NULL: anonymous */
	char *lc_bind_password_file; /* never world-readable */
	char *lc_bind_password;      /* read at load; never logged */
	int lc_starttls;
	char *lc_ca_file;
	int lc_timeout;      /* seconds, per network step and operation */
	int lc_refresh;      /* seconds between change checks */
	char *lc_cache_file; /* last known good copy, or NULL */
	char *lc_origin;     /* "file:line" of the ldap group */
	char *lc_sync_name;  /* ldap.sync as written, or NULL */
	enum rm_ldap_sync lc_sync;
	struct rm_ldap_map lc_maps[RM_L__COUNT];
	struct rm_ldap_senders *lc_senders; /* NULL: none */
};

/* rm_ldap_conf_new - empty settings with one reference; NULL: no memory */
struct rm_ldap_conf *rm_ldap_conf_new(void);
/* rm_ldap_conf_hold - one more reference; returns its argument */
struct rm_ldap_conf *rm_ldap_conf_hold(struct rm_ldap_conf *);
/*
 * rm_ldap_conf_same_source - a and b read the same data the same way (the
 * servers, the bind, TLS, the lists, ldap.sync and the cache file): a
 * content synchronisation under a goes on under b.  NULL equals NULL.
 */
bool rm_ldap_conf_same_source(const struct rm_ldap_conf *a,
                              const struct rm_ldap_conf *b);
/* rm_ldap_conf_free - drop a reference; the last one frees (NULL: ok) */
void rm_ldap_conf_free(struct rm_ldap_conf *);
/*
 * rm_ldap_conf_same_server - a and b (either may be NULL) open the same
 * connections: URIs, TLS, the bind and ldap.senders.connections alike.
 */
int rm_ldap_conf_same_server(const struct rm_ldap_conf *a,
                             const struct rm_ldap_conf *b);

#endif
