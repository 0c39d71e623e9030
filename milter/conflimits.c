/*
 * conflimits.c - limits = ( { ... } ) and max_recipients, read into plain
 * data (struct rm_limit in the config; compile.c copies them into the
 * ruleset).  Part of the config reader: with conf.c and confldap.c, the
 * only code that sees libconfig.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/confread.h"
#include "relaymilter/reply.h"

#define LIMIT_NAME_MAX 64
#define PER_MAX        (31u * 86400u)  /* a month */
#define LOCK_MAX       (366u * 86400u) /* a year */
#define ARGV_MAX       32

/* The members of one limit, and what each is (for errors). */
static const char *const members[] = {
    "name", "key",   "messages", "recipients",  "per",
    "lock", "reply", "counts",   "ipv6_prefix", "on_lock",
};

/* member_int - an integer member within [lo, hi] into *out */
static int
member_int(struct conf_ctx *cx, const config_setting_t *m, const char *what,
           long long lo, long long hi, long long *out)
{
	int t = config_setting_type(m);

	if (t == CONFIG_TYPE_INT64)
		*out = config_setting_get_int64(m);
	else if (t == CONFIG_TYPE_INT)
		*out = config_setting_get_int(m);
	else
		return conf_error(cx, conf_where(m),
		                  "%s: expected a number from %lld to %lld",
		                  what, lo, hi);
	if (*out < lo || *out > hi)
		return conf_error(
		    cx, conf_where(m),
		    "%s: %lld: expected a number from %lld to %lld", what, *out,
		    lo, hi);
	return 0;
}

/* member_str - a string member, or an error naming what */
static const char *
member_str(struct conf_ctx *cx, const config_setting_t *m, const char *what)
{
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		conf_error(cx, conf_where(m), "%s: expected a string", what);
		return NULL;
	}
	return config_setting_get_string(m);
}

/* name_ok - a limit's name: letters, digits, '-', '_', '.' */
static int
name_ok(const char *v)
{
	size_t i, n = strlen(v);

	if (n == 0 || n > LIMIT_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' &&
		    v[i] != '_' && v[i] != '.')
			return 0;
	return 1;
}

/* on_lock - on_lock = [ "/path", "arg", ... ] into lm->lm_on_lock */
static int
on_lock(struct conf_ctx *cx, const config_setting_t *m, const char *what,
        struct rm_limit *lm)
{
	const config_setting_t *el;
	int i, n = config_setting_length(m);

	if ((config_setting_type(m) != CONFIG_TYPE_ARRAY &&
	     config_setting_type(m) != CONFIG_TYPE_LIST) ||
	    n < 1 || n > ARGV_MAX)
		return conf_error(cx, conf_where(m),
		                  "%s: expected a list of 1 to %d strings "
		                  "(the command and its arguments)",
		                  what, ARGV_MAX);
	if ((lm->lm_on_lock = calloc((size_t)n + 1, sizeof(char *))) == NULL)
		return conf_error(cx, m, "out of memory");
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(m, (unsigned)i);
		if (config_setting_type(el) != CONFIG_TYPE_STRING)
			return conf_error(cx, conf_where(el),
			                  "%s: element %d is not a string",
			                  what, i + 1);
		if ((lm->lm_on_lock[i] =
		         strdup(config_setting_get_string(el))) == NULL)
			return conf_error(cx, el, "out of memory");
	}
	if (lm->lm_on_lock[0][0] != '/')
		return conf_error(cx, conf_where(m),
		                  "%s: on_lock: \"%s\": the command must be "
		                  "an absolute "
		                  "path (it runs without a shell)",
		                  what, lm->lm_on_lock[0]);
	return 0;
}

/* key_of - "login" ... into *key; -1 when unknown */
static int
key_of(const char *v, enum rm_limit_key *key)
{
	int k;

	for (k = 0; k < RM_LK__COUNT; k++)
		if (strcmp(v, rm_limit_key_names[k]) == 0) {
			*key = (enum rm_limit_key)k;
			return 0;
		}
	return -1;
}

/* member - one member of a limit's group into lm */
static int
member(struct conf_ctx *cx, const config_setting_t *m, const char *what,
       struct rm_limit *lm, int *v6set)
{
	const char *name = config_setting_name(m), *v = NULL;
	long long n;
	char err[200];

	if (strcmp(name, "messages") == 0 || strcmp(name, "recipients") == 0) {
		if (member_int(cx, m, what, 1, 1000000000, &n) != 0)
			return -1;
		*(name[0] == 'm' ? &lm->lm_messages : &lm->lm_recipients) =
		    (unsigned long)n;
		return 0;
	}
	if (strcmp(name, "ipv6_prefix") == 0) {
		if (member_int(cx, m, what, 16, 128, &n) != 0)
			return -1;
		lm->lm_v6prefix = (unsigned)n;
		*v6set = 1;
		return 0;
	}
	if (strcmp(name, "on_lock") == 0)
		return on_lock(cx, m, what, lm);
	if ((v = member_str(cx, m, what)) == NULL)
		return -1;
	if (strcmp(name, "name") == 0)
		return 0; /* read first, by limit() */
	if (strcmp(name, "key") == 0) {
		if (key_of(v, &lm->lm_key) != 0)
			return conf_error(cx, conf_where(m),
			                  "%s: key \"%s\": expected login, "
			                  "client, sender or sender_domain",
			                  what, v);
	} else if (strcmp(name, "per") == 0 || strcmp(name, "lock") == 0) {
		if (rm_duration_parse(v, name[0] == 'p' ? PER_MAX : LOCK_MAX,
		                      name[0] == 'p' ? &lm->lm_per
		                                     : &lm->lm_lock) != 0)
			return conf_error(
			    cx, conf_where(m),
			    "%s: %s \"%s\": expected a duration "
			    "such as \"90s\", \"10m\", \"1h\" or "
			    "\"1d\" (at most %ud)",
			    what, name, v,
			    (name[0] == 'p' ? PER_MAX : LOCK_MAX) / 86400);
	} else if (strcmp(name, "counts") == 0) {
		if (strcmp(v, "relay") != 0 && strcmp(v, "all") != 0)
			return conf_error(
			    cx, conf_where(m),
			    "%s: counts \"%s\": expected \"relay\" "
			    "or \"all\"",
			    what, v);
		lm->lm_all = strcmp(v, "all") == 0;
	} else if (strcmp(name, "reply") == 0) {
		if (rm_reply_parse(v, &lm->lm_reply, err, sizeof(err)) != 0)
			return conf_error(cx, conf_where(m), "%s: reply: %s",
			                  what, err);
		lm->lm_has_reply = 1;
	}
	return 0;
}

/* known - the members a limit may have, for an error */
static const char *
known(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		                      i ? ", " : "", members[i]);
	return buf;
}

/* limit_new - a new, empty limit at the end of the config's list */
static struct rm_limit *
limit_new(struct rm_conf *cf)
{
	struct rm_limit *v;

	if ((v = realloc(cf->cf_limits, (cf->cf_nlimits + 1) * sizeof(*v))) ==
	    NULL)
		return NULL;
	cf->cf_limits = v;
	memset(&v[cf->cf_nlimits], 0, sizeof(*v));
	return &v[cf->cf_nlimits++];
}

/* limit_name - the name of element i, checked and unique */
static const char *
limit_name(struct conf_ctx *cx, const config_setting_t *el, int i)
{
	const config_setting_t *m = config_setting_get_member(el, "name");
	const struct rm_conf *cf = cx->cx_conf;
	const char *v;
	size_t j;

	if (m == NULL || config_setting_type(m) != CONFIG_TYPE_STRING ||
	    !name_ok(v = config_setting_get_string(m))) {
		conf_error(cx, conf_where(m ? m : el),
		           "limits: element %d: expected name = \"...\" (1 to "
		           "%d letters, digits, '-', '_' or '.')",
		           i + 1, LIMIT_NAME_MAX);
		return NULL;
	}
	for (j = 0; j < cf->cf_nlimits; j++)
		if (strcmp(cf->cf_limits[j].lm_name, v) == 0) {
			conf_error(cx, conf_where(m),
			           "limits: \"%s\" defined twice (first at %s)",
			           v, cf->cf_limits[j].lm_origin);
			return NULL;
		}
	return v;
}

/* limit_check - what a limit needs besides its members' own checks */
static int
limit_check(struct conf_ctx *cx, const config_setting_t *el, const char *what,
            const struct rm_limit *lm, int has_key, int v6set)
{
	if (!has_key)
		return conf_error(cx, conf_where(el),
		                  "%s: no key (login, client, sender or "
		                  "sender_domain)",
		                  what);
	if (lm->lm_per == 0)
		return conf_error(cx, conf_where(el),
		                  "%s: no per (the window, e.g. \"1h\")", what);
	if (lm->lm_messages == 0 && lm->lm_recipients == 0)
		return conf_error(cx, conf_where(el),
		                  "%s: neither messages nor recipients: it "
		                  "would limit nothing",
		                  what);
	if (v6set && lm->lm_key != RM_LK_CLIENT)
		return conf_error(
		    cx, conf_where(el),
		    "%s: ipv6_prefix is only for key = \"client\"", what);
	if (lm->lm_on_lock != NULL && lm->lm_lock == 0)
		return conf_error(
		    cx, conf_where(el),
		    "%s: on_lock without lock: it would never run", what);
	return 0;
}

/* limit - one { name = ...; ... } of limits = ( ) */
static int
limit(struct conf_ctx *cx, const config_setting_t *el, int i)
{
	const config_setting_t *m, *w = conf_where(el);
	const char *name;
	struct rm_limit *lm;
	char what[128], origin[600], kn[160];
	int j, n, v6set = 0, has_key = 0;
	size_t k;

	if (config_setting_type(el) != CONFIG_TYPE_GROUP)
		return conf_error(cx, w,
		                  "limits: element %d: expected a group "
		                  "{ name = \"...\"; key = \"...\"; ... }",
		                  i + 1);
	if ((name = limit_name(cx, el, i)) == NULL)
		return -1;
	snprintf(what, sizeof(what), "limits: %s", name);
	if (cx->cx_conf->cf_nlimits >= RM_LIMITS_MAX)
		return conf_error(cx, w, "%s: more than %d limits", what,
		                  RM_LIMITS_MAX);
	if ((lm = limit_new(cx->cx_conf)) == NULL)
		return conf_error(cx, w, "out of memory");
	snprintf(origin, sizeof(origin), "%s:%u",
	         config_setting_source_file(w) ? config_setting_source_file(w)
	                                       : cx->cx_path,
	         w ? config_setting_source_line(w) : 0);
	lm->lm_name = strdup(name);
	lm->lm_origin = strdup(origin);
	if ((lm->lm_rule = malloc(strlen(name) + 8)) != NULL)
		snprintf(lm->lm_rule, strlen(name) + 8, "limit[%s]", name);
	if (lm->lm_name == NULL || lm->lm_origin == NULL || lm->lm_rule == NULL)
		return conf_error(cx, w, "out of memory");
	lm->lm_v6prefix = 64;
	n = config_setting_length(el);
	for (j = 0; j < n; j++) {
		m = config_setting_get_elem(el, (unsigned)j);

		for (k = 0; k < sizeof(members) / sizeof(members[0]); k++)
			if (strcmp(config_setting_name(m), members[k]) == 0)
				break;
		if (k == sizeof(members) / sizeof(members[0]))
			return conf_error(cx, conf_where(m),
			                  "%s: unknown setting \"%s\" (known: "
			                  "%s)",
			                  what, config_setting_name(m),
			                  known(kn, sizeof(kn)));
		has_key |= strcmp(config_setting_name(m), "key") == 0;
		if (member(cx, m, what, lm, &v6set) != 0)
			return -1;
	}
	if (limit_check(cx, el, what, lm, has_key, v6set) != 0)
		return -1;
	cx->cx_profile->cp_limits |= UINT32_C(1)
	                             << (cx->cx_conf->cf_nlimits - 1);
	return 0;
}

int
conf_limits(struct conf_ctx *cx, const config_setting_t *s)
{
	int i, n = config_setting_length(s);

	cx->cx_profile->cp_has_limits = 1;
	cx->cx_profile->cp_limits = 0;
	for (i = 0; i < n; i++)
		if (limit(cx, config_setting_get_elem(s, (unsigned)i), i) != 0)
			return -1;
	return 0;
}

int
conf_max_recipients(struct conf_ctx *cx, const config_setting_t *s)
{
	long long n;

	if (member_int(cx, s, "max_recipients", 1, 100000, &n) != 0)
		return -1;
	cx->cx_profile->cp_max_rcpts = (long)n;
	return 0;
}
