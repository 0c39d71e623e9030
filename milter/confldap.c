/*
 * confldap.c - the ldap = { ... } group of the config file: where the
 * directory is, how to bind, how each list and the on-demand sender lookup
 * are read.  Table-driven like the top level (conf.c); the result is plain
 * data (ldapconf.h) in the daemon's settings, never in the ruleset.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "relaymilter/confread.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/ldappool.h"

/* The schema of etc/relaymilter.schema: every list from one object class. */
#define RM_SCHEMA_FILTER                                                       \
	"(&(objectClass=relayMilterRule)(relayMilterList=%s)"                  \
	"(!(relayMilterEnabled=FALSE)))"

/* ldap_str - copy a string setting; "" counts as not set. */
static int
ldap_str(struct conf_ctx *cx, const config_setting_t *el, char **out)
{
	const char *v;

	if (config_setting_type(el) != CONFIG_TYPE_STRING)
		return conf_error(cx, el, "ldap.%s: expected a string",
		                  config_setting_name(el));
	v = config_setting_get_string(el);
	free(*out);
	*out = NULL;
	if (*v != '\0' && (*out = strdup(v)) == NULL)
		return conf_error(cx, el, "out of memory");
	return 0;
}

static int
ldap_int(struct conf_ctx *cx, const config_setting_t *el, int lo, int hi,
         int *out)
{
	if (config_setting_type(el) != CONFIG_TYPE_INT ||
	    config_setting_get_int(el) < lo || config_setting_get_int(el) > hi)
		return conf_error(cx, el, "ldap.%s: expected a number %d-%d",
		                  config_setting_name(el), lo, hi);
	*out = config_setting_get_int(el);
	return 0;
}

/* ldap_strs - a string or a list of strings into a new NULL-ended vector. */
static int
ldap_strs(struct conf_ctx *cx, const config_setting_t *el, char ***out,
          size_t *n)
{
	const config_setting_t *x;
	int i, cnt;

	if (config_setting_type(el) == CONFIG_TYPE_STRING)
		cnt = 1;
	else if (config_setting_type(el) == CONFIG_TYPE_ARRAY ||
	         config_setting_type(el) == CONFIG_TYPE_LIST)
		cnt = config_setting_length(el);
	else
		return conf_error(cx, el,
		                  "ldap.%s: expected a string or a list of "
		                  "strings",
		                  config_setting_name(el));
	if (cnt == 0 || (*out = calloc((size_t)cnt + 1, sizeof(**out))) == NULL)
		return conf_error(cx, el, "ldap.%s: %s",
		                  config_setting_name(el),
		                  cnt ? "out of memory" : "empty");
	for (i = 0; i < cnt; i++) {
		x = config_setting_type(el) == CONFIG_TYPE_STRING
		        ? el
		        : config_setting_get_elem(el, (unsigned)i);
		if (config_setting_type(x) != CONFIG_TYPE_STRING)
			return conf_error(cx, conf_where(x),
			                  "ldap.%s: element %d is not a string",
			                  config_setting_name(el), i + 1);
		if (((*out)[i] = strdup(config_setting_get_string(x))) == NULL)
			return conf_error(cx, el, "out of memory");
		(*n)++;
	}
	return 0;
}

/* filter_ok - looks like an LDAP filter: "( ... )", balanced. */
static int
filter_ok(const char *f)
{
	int depth = 0;

	if (f == NULL || f[0] != '(')
		return 0;
	for (; *f != '\0'; f++) {
		if (*f == '(')
			depth++;
		else if (*f == ')' && --depth < 0)
			return 0;
		else if (*f == '\\' && f[1] != '\0')
			f++;
	}
	return depth == 0;
}

/* ldap_map - lists.NAME = { base; filter; attr; ... } */
static int
ldap_map(struct conf_ctx *cx, const config_setting_t *g, struct rm_ldap_map *m)
{
	static const char *const keys[] = {
	    "base",          "filter",     "attr",      "owner_attr",
	    "listener_attr", "lifts_attr", "reply_attr"};
	char **fields[] = {&m->lm_base,          &m->lm_filter,
	                   &m->lm_attr,          &m->lm_owner_attr,
	                   &m->lm_listener_attr, &m->lm_lifts_attr,
	                   &m->lm_reply_attr};
	const config_setting_t *el;
	int i, k, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(g, (unsigned)i);
		for (k = 0; k < 7; k++)
			if (strcmp(config_setting_name(el), keys[k]) == 0)
				break;
		if (k == 7)
			return conf_error(
			    cx, el, "ldap.lists.%s: unknown setting \"%s\"",
			    config_setting_name(g), config_setting_name(el));
		if (ldap_str(cx, el, fields[k]) != 0)
			return -1;
	}
	if (!filter_ok(m->lm_filter))
		return conf_error(cx, conf_where(g),
		                  "ldap.lists.%s: needs a filter \"(...)\"",
		                  config_setting_name(g));
	return 0;
}

/* map_default - the relaymilter schema for one list. */
static int
map_default(struct rm_ldap_map *m, int list)
{
	char f[256];

	snprintf(f, sizeof(f), RM_SCHEMA_FILTER, rm_list_name(list));
	if (m->lm_filter == NULL && (m->lm_filter = strdup(f)) == NULL)
		return -1;
#define DEF(field, v)                                                          \
	if (m->field == NULL && (m->field = strdup(v)) == NULL)                \
		return -1;
	DEF(lm_attr, "relayMilterValue");
	DEF(lm_owner_attr, "relayMilterLogin");
	DEF(lm_listener_attr, "relayMilterListener");
	DEF(lm_lifts_attr, "relayMilterLifts");
	DEF(lm_reply_attr, "relayMilterReply");
#undef DEF
	return 0;
}

/* How a setting of a group is read: the kinds of value, with their place. */
enum lk_kind { LK_STR, LK_STRS, LK_BOOL, LK_INT, LK_SIZE };
struct ldap_key {
	const char *lk_name;
	enum lk_kind lk_kind;
	size_t lk_off;       /* in the struct the group fills */
	size_t lk_count_off; /* LK_STRS: where the count goes */
	int lk_lo, lk_hi;    /* LK_INT, LK_SIZE */
};

#define LC(f) offsetof(struct rm_ldap_conf, f)
static const struct ldap_key ldap_keys[] = {
    {"uri", LK_STRS, LC(lc_uris), LC(lc_nuris), 0, 0},
    {"base", LK_STR, LC(lc_base), 0, 0, 0},
    {"bind_dn", LK_STR, LC(lc_bind_dn), 0, 0, 0},
    {"bind_password_file", LK_STR, LC(lc_bind_password_file), 0, 0, 0},
    {"ca_file", LK_STR, LC(lc_ca_file), 0, 0, 0},
    {"cache_file", LK_STR, LC(lc_cache_file), 0, 0, 0},
    {"starttls", LK_BOOL, LC(lc_starttls), 0, 0, 0},
    {"timeout", LK_INT, LC(lc_timeout), 0, 1, 60},
    {"refresh", LK_INT, LC(lc_refresh), 0, 1, 86400},
    {"sync", LK_STR, LC(lc_sync_name), 0, 0, 0},
    {NULL, LK_STR, 0, 0, 0, 0},
};
#undef LC

#define LS(f) offsetof(struct rm_ldap_senders, f)
static const struct ldap_key sender_keys[] = {
    {"base", LK_STR, LS(ls_base), 0, 0, 0},
    {"filter", LK_STR, LS(ls_filter), 0, 0, 0},
    {"attrs", LK_STRS, LS(ls_attrs), LS(ls_nattrs), 0, 0},
    {"group_filter", LK_STR, LS(ls_group_filter), 0, 0, 0},
    {"group_attr", LK_STR, LS(ls_group_attr), 0, 0, 0},
    {"ttl", LK_INT, LS(ls_ttl), 0, 0, 86400},
    {"negative_ttl", LK_INT, LS(ls_negative_ttl), 0, 0, 86400},
    {"cache_size", LK_SIZE, LS(ls_cache_size), 0, 0, 10000000},
    {"connections", LK_SIZE, LS(ls_connections), 0, 1, RM_LDAP_POOL_MAX},
    {NULL, LK_STR, 0, 0, 0, 0},
};
#undef LS

/*
 * ldap_key_read - el by its row of keys into the struct at base; 1 when
 * no row names it, 0 when read, -1 on an error (reported).
 */
static int
ldap_key_read(struct conf_ctx *cx, const struct ldap_key *keys, void *base,
              const config_setting_t *el)
{
	const struct ldap_key *k;
	char *p = base;
	int v;

	for (k = keys; k->lk_name != NULL; k++)
		if (strcmp(k->lk_name, config_setting_name(el)) == 0)
			break;
	if (k->lk_name == NULL)
		return 1;
	switch (k->lk_kind) {
	case LK_STR:
		return ldap_str(cx, el, (char **)(void *)(p + k->lk_off));
	case LK_STRS:
		return ldap_strs(cx, el, (char ***)(void *)(p + k->lk_off),
		                 (size_t *)(void *)(p + k->lk_count_off));
	case LK_BOOL:
		if (config_setting_type(el) != CONFIG_TYPE_BOOL)
			return conf_error(cx, el,
			                  "ldap.%s: expected true or false",
			                  k->lk_name);
		*(int *)(void *)(p + k->lk_off) = config_setting_get_bool(el);
		return 0;
	case LK_INT:
		return ldap_int(cx, el, k->lk_lo, k->lk_hi,
		                (int *)(void *)(p + k->lk_off));
	case LK_SIZE:
		if (ldap_int(cx, el, k->lk_lo, k->lk_hi, &v) != 0)
			return -1;
		*(size_t *)(void *)(p + k->lk_off) = (size_t)v;
		return 0;
	}
	return 1;
}

static int
ldap_senders(struct conf_ctx *cx, const config_setting_t *g,
             struct rm_ldap_senders *ls)
{
	const config_setting_t *el;
	int i, n = config_setting_length(g), rc;

	ls->ls_ttl = 300;
	ls->ls_negative_ttl = 60;
	ls->ls_cache_size = 10000;
	ls->ls_connections = 4;
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(g, (unsigned)i);
		if ((rc = ldap_key_read(cx, sender_keys, ls, el)) < 0)
			return -1;
		if (rc > 0)
			return conf_error(
			    cx, el, "ldap.senders: unknown setting \"%s\"",
			    config_setting_name(el));
	}
	if (!filter_ok(ls->ls_filter) || strstr(ls->ls_filter, "%s") == NULL)
		return conf_error(cx, conf_where(g),
		                  "ldap.senders: needs a filter \"(...)\" with "
		                  "%%s for the login");
	if (ls->ls_group_filter != NULL &&
	    (!filter_ok(ls->ls_group_filter) ||
	     strstr(ls->ls_group_filter, "%d") == NULL ||
	     ls->ls_group_attr == NULL))
		return conf_error(cx, conf_where(g),
		                  "ldap.senders: group_filter needs \"(...)\" "
		                  "with %%d for the user's DN, and group_attr");
	if (ls->ls_nattrs == 0 && ls->ls_group_filter == NULL)
		return conf_error(cx, conf_where(g),
		                  "ldap.senders: name the address attributes "
		                  "(attrs) or a group_filter");
	return 0;
}

/* read_secret - the bind password: a file only its owner can read. */
static int
read_secret(struct conf_ctx *cx, const config_setting_t *g,
            struct rm_ldap_conf *lc)
{
	char buf[512];
	struct stat st;
	size_t n;
	FILE *fp;

	if ((fp = fopen(lc->lc_bind_password_file, "r")) == NULL)
		return conf_error(cx, g, "ldap.bind_password_file %s: %s",
		                  lc->lc_bind_password_file, strerror(errno));
	if (fstat(fileno(fp), &st) != 0 || (st.st_mode & S_IROTH)) {
		fclose(fp);
		return conf_error(cx, g,
		                  "ldap.bind_password_file %s: readable by "
		                  "everyone; chmod o-rwx it",
		                  lc->lc_bind_password_file);
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0'; /* one line */
	lc->lc_bind_password = strdup(buf);
	memset(buf, 0, sizeof(buf));
	if (lc->lc_bind_password == NULL)
		return conf_error(cx, g, "out of memory");
	return 0;
}

/* ldap_lists - lists = { NAME = { filter; attr; ... }; ... } */
static int
ldap_lists(struct conf_ctx *cx, const config_setting_t *el,
           struct rm_ldap_conf *lc)
{
	const config_setting_t *m;
	int l, id;

	for (l = 0; l < config_setting_length(el); l++) {
		m = config_setting_get_elem(el, (unsigned)l);
		id = rm_list_lookup(config_setting_name(m));
		if (id < 0 || config_setting_type(m) != CONFIG_TYPE_GROUP)
			return conf_error(
			    cx, m,
			    "ldap.lists: \"%s\": expected a list "
			    "name = { filter = ...; attr = ...; }",
			    config_setting_name(m));
		if (ldap_map(cx, m, &lc->lc_maps[id]) != 0)
			return -1;
	}
	return 0;
}

/* ldap.sync's values */
static const struct {
	const char *name;
	enum rm_ldap_sync mode;
} sync_modes[] = {
    {"auto", RM_LDAP_SYNC_AUTO},
    {"persist", RM_LDAP_SYNC_PERSIST},
    {"poll", RM_LDAP_SYNC_POLL},
};

/* ldap_check - what the settings need together */
static int
ldap_check(struct conf_ctx *cx, const config_setting_t *g,
           struct rm_ldap_conf *lc, int have_lists)
{
	size_t u;
	int l;

	if (lc->lc_nuris == 0 || lc->lc_base == NULL)
		return conf_error(cx, g, "ldap: needs uri and base");
	for (u = 0; u < lc->lc_nuris; u++)
		if (strncmp(lc->lc_uris[u], "ldap://", 7) != 0 &&
		    strncmp(lc->lc_uris[u], "ldaps://", 8) != 0 &&
		    strncmp(lc->lc_uris[u], "ldapi://", 8) != 0)
			return conf_error(cx, g,
			                  "ldap.uri \"%s\": expected ldap://, "
			                  "ldaps:// or ldapi://",
			                  lc->lc_uris[u]);
	for (u = 0; lc->lc_sync_name != NULL &&
	            u < sizeof(sync_modes) / sizeof(sync_modes[0]);
	     u++)
		if (strcmp(lc->lc_sync_name, sync_modes[u].name) == 0)
			break;
	if (lc->lc_sync_name != NULL &&
	    u == sizeof(sync_modes) / sizeof(sync_modes[0]))
		return conf_error(cx, g,
		                  "ldap.sync \"%s\": expected \"auto\", "
		                  "\"persist\" or \"poll\"",
		                  lc->lc_sync_name);
	lc->lc_sync = lc->lc_sync_name ? sync_modes[u].mode : RM_LDAP_SYNC_AUTO;
	if ((lc->lc_bind_dn == NULL) != (lc->lc_bind_password_file == NULL))
		return conf_error(cx, g,
		                  "ldap: bind_dn and bind_password_file go "
		                  "together");
	if (lc->lc_bind_password_file != NULL && read_secret(cx, g, lc) != 0)
		return -1;
	/* without "lists", every list comes from the relaymilter schema */
	for (l = 0; l < RM_L__COUNT; l++)
		if ((!have_lists || lc->lc_maps[l].lm_filter != NULL) &&
		    map_default(&lc->lc_maps[l], l) != 0)
			return conf_error(cx, g, "out of memory");
	return 0;
}

int
conf_ldap(struct conf_ctx *cx, const config_setting_t *g)
{
	struct rm_settings *st = &cx->cx_conf->cf_settings;
	const config_setting_t *el, *w = conf_where(g);
	struct rm_ldap_conf *lc;
	const char *k;
	char origin[600];
	int i, n = config_setting_length(g), have_lists = 0, rc;

	if ((lc = rm_ldap_conf_new()) == NULL)
		return conf_error(cx, g, "out of memory");
	rm_ldap_conf_free(st->st_ldap);
	st->st_ldap = lc;
	lc->lc_timeout = 3;
	lc->lc_refresh = 60;
	snprintf(origin, sizeof(origin), "%s:%u", cx->cx_path,
	         w ? config_setting_source_line(w) : 0);
	if ((lc->lc_origin = strdup(origin)) == NULL)
		return conf_error(cx, g, "out of memory");
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(g, (unsigned)i);
		k = config_setting_name(el);
		if ((rc = ldap_key_read(cx, ldap_keys, lc, el)) < 0)
			return -1;
		if (rc == 0)
			continue;
		if (strcmp(k, "lists") == 0 &&
		    config_setting_type(el) == CONFIG_TYPE_GROUP) {
			have_lists = 1;
			if (ldap_lists(cx, el, lc) != 0)
				return -1;
		} else if (strcmp(k, "senders") == 0 &&
		           config_setting_type(el) == CONFIG_TYPE_GROUP) {
			if ((lc->lc_senders =
			         calloc(1, sizeof(*lc->lc_senders))) == NULL)
				return conf_error(cx, el, "out of memory");
			if (ldap_senders(cx, el, lc->lc_senders) != 0)
				return -1;
		} else
			return conf_error(
			    cx, el,
			    "ldap: unknown setting \"%s\" or wrong "
			    "type",
			    k);
	}
	return ldap_check(cx, g, lc, have_lists);
}
