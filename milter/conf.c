/*
 * conf.c - load the libconfig file and compile it into a ruleset.
 *
 * The only module that includes <libconfig.h>.  Every top-level key is
 * declared in conf_keys[] with its type and a handler; anything else is an
 * error.  Errors are "file:line: message" and abort the whole load: for a
 * relay policy a half-understood file is worse than none.  libconfig is not
 * thread-safe and owns its strings, so everything is copied into the
 * ruleset and the config object is destroyed before returning.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "relaymilter/conf.h"
#include "relaymilter/domset.h"
#include "relaymilter/ip.h"
#include "relaymilter/log.h"
#include "relaymilter/reply.h"

/*
 * A profile as written: -1 where the file does not say, so a listener can
 * inherit from the top level whatever the order of the keys in the file.
 */
struct raw_profile {
	int rp_mode; /* 0 enforce, 1 monitor */
	int rp_require_auth;
	int rp_check[RM_CK__COUNT];
};

struct conf_ctx {
	const char *cx_path;
	struct rm_ruleset *cx_rs;
	char *cx_err;
	size_t cx_errlen;
	struct raw_profile cx_top;
	struct raw_profile *cx_raw; /* one per rs_profiles[] */
};

#define CONF_GROUP_OR_LIST 100 /* a ck_type: a group or a list */

typedef int conf_handler(struct conf_ctx *, const config_setting_t *);

struct conf_key {
	const char *ck_name;
	int ck_type; /* CONFIG_TYPE_*, or CONFIG_TYPE_ARRAY for any list */
	conf_handler *ck_fn;
	const char *ck_what; /* for type errors */
};

static conf_handler conf_socket, conf_log_level, conf_hostnames,
    conf_local_domains, conf_relay_domains, conf_trusted_networks, conf_replies,
    conf_top_mode, conf_top_require_auth, conf_top_checks, conf_licensed,
    conf_sender_logins, conf_exceptions, conf_deny, conf_listeners;

static const struct conf_key conf_keys[] = {
    {"socket", CONFIG_TYPE_STRING, conf_socket, "a string"},
    {"log_level", CONFIG_TYPE_STRING, conf_log_level, "a string"},
    {"hostnames", CONFIG_TYPE_ARRAY, conf_hostnames, "a list of strings"},
    {"local_domains", CONFIG_TYPE_ARRAY, conf_local_domains,
     "a list of strings"},
    {"relay_domains", CONFIG_TYPE_ARRAY, conf_relay_domains,
     "a list of strings"},
    {"trusted_networks", CONFIG_TYPE_ARRAY, conf_trusted_networks,
     "a list of strings"},
    {"replies", CONFIG_TYPE_GROUP, conf_replies, "a group { ... }"},
    {"mode", CONFIG_TYPE_STRING, conf_top_mode, "\"enforce\" or \"monitor\""},
    {"require_auth", CONFIG_TYPE_BOOL, conf_top_require_auth, "true or false"},
    {"checks", CONFIG_TYPE_GROUP, conf_top_checks, "a group { ... }"},
    {"licensed_senders", CONFIG_TYPE_ARRAY, conf_licensed, "a list of strings"},
    {"sender_logins", CONF_GROUP_OR_LIST, conf_sender_logins,
     "a group { login = [ ... ]; } or a list ( { login = \"...\"; "
     "senders = [ ... ]; } )"},
    {"exceptions", CONFIG_TYPE_GROUP, conf_exceptions, "a group { ... }"},
    {"deny", CONFIG_TYPE_GROUP, conf_deny, "a group { ... }"},
    {"listeners", CONFIG_TYPE_GROUP, conf_listeners, "a group { ... }"},
};

/* conf_error - format "file:line: message" into the caller's buffer. */
static int RM_PRINTFLIKE(3, 4)
    conf_error(struct conf_ctx *cx, const config_setting_t *s, const char *fmt,
               ...)
{
	const char *file = NULL;
	size_t n;
	va_list ap;

	if (s != NULL)
		file = config_setting_source_file(s);
	if (file == NULL)
		file = cx->cx_path;
	if (s != NULL && config_setting_source_line(s) > 0)
		n = (size_t)snprintf(cx->cx_err, cx->cx_errlen, "%s:%u: ", file,
		                     config_setting_source_line(s));
	else
		n = (size_t)snprintf(cx->cx_err, cx->cx_errlen, "%s: ", file);
	if (n < cx->cx_errlen) {
		va_start(ap, fmt);
		vsnprintf(cx->cx_err + n, cx->cx_errlen - n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* conf_line - the line of a setting, or of its parent when unknown. */
static const config_setting_t *
conf_where(const config_setting_t *s)
{
	while (s != NULL && config_setting_source_line(s) == 0)
		s = config_setting_parent(s);
	return s;
}

/* conf_entry - record an entry of a list with its file:line. */
static struct rm_entry *
conf_entry(struct conf_ctx *cx, const config_setting_t *s, const char *list,
           const char *text)
{
	const config_setting_t *w = conf_where(s);
	const char *file = w ? config_setting_source_file(w) : NULL;
	struct rm_entry *e;

	e = rm_ruleset_entry(cx->cx_rs, list, text, file ? file : cx->cx_path,
	                     w ? (int)config_setting_source_line(w) : 0);
	if (e == NULL)
		conf_error(cx, s, "out of memory");
	return e;
}

/*
 * conf_strings - call fn for each string of a list or array setting;
 * an element that is not a string is an error.
 */
static int
conf_strings(struct conf_ctx *cx, const config_setting_t *list,
             int (*fn)(struct conf_ctx *, const config_setting_t *,
                       const char *))
{
	const config_setting_t *el;
	const char *v;
	int i, n;

	n = config_setting_length(list);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(el) != CONFIG_TYPE_STRING)
			return conf_error(cx, conf_where(el),
			                  "%s: element %d is not a string",
			                  config_setting_name(list), i + 1);
		v = config_setting_get_string(el);
		if (fn(cx, el, v) != 0)
			return -1;
	}
	return 0;
}

static int
conf_socket(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	char err[160];

	if (rm_conf_socket_check(v, err, sizeof(err)) != 0)
		return conf_error(cx, s, "socket \"%s\": %s", v, err);
	free(cx->cx_rs->rs_socket);
	if ((cx->cx_rs->rs_socket = strdup(v)) == NULL)
		return conf_error(cx, s, "out of memory");
	return 0;
}

static int
conf_log_level(struct conf_ctx *cx, const config_setting_t *s)
{
	static const char *const names[] = {"err", "warning", "info", "debug"};
	const char *v = config_setting_get_string(s);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(v, names[i]) == 0) {
			cx->cx_rs->rs_log_level = (int)i;
			return 0;
		}
	}
	return conf_error(
	    cx, s, "log_level \"%s\": expected err, warning, info or debug", v);
}

/* conf_domain - add one domain pattern to the set for the list. */
static int
conf_domain(struct conf_ctx *cx, const config_setting_t *el, const char *v,
            const char *list, struct rm_domset *set)
{
	struct rm_entry *e;
	char err[160];

	if (rm_domain_check(v, err, sizeof(err)) != 0)
		return conf_error(cx, conf_where(el), "%s: \"%s\": %s", list, v,
		                  err);
	if ((e = conf_entry(cx, el, list, v)) == NULL)
		return -1;
	if (rm_domset_add(set, v, e, err, sizeof(err)) != 0)
		return conf_error(cx, conf_where(el), "%s: \"%s\": %s", list, v,
		                  err);
	return 0;
}

static int
conf_hostname(struct conf_ctx *cx, const config_setting_t *el, const char *v)
{
	if (v[0] == '.')
		return conf_error(
		    cx, conf_where(el),
		    "hostnames: \"%s\": a host name, not a subtree "
		    "(put subtrees in local_domains)",
		    v);
	return conf_domain(cx, el, v, "hostnames", cx->cx_rs->rs_hostnames);
}

static int
conf_local_domain(struct conf_ctx *cx, const config_setting_t *el,
                  const char *v)
{
	return conf_domain(cx, el, v, "local_domains",
	                   cx->cx_rs->rs_local_domains);
}

static int
conf_relay_domain(struct conf_ctx *cx, const config_setting_t *el,
                  const char *v)
{
	return conf_domain(cx, el, v, "relay_domains",
	                   cx->cx_rs->rs_relay_domains);
}

static int
conf_network(struct conf_ctx *cx, const config_setting_t *el, const char *v)
{
	struct rm_cidr c;
	struct rm_entry *e;
	char err[160];

	if (rm_cidr_parse(v, &c, err, sizeof(err)) != 0)
		return conf_error(cx, conf_where(el),
		                  "trusted_networks: \"%s\": %s", v, err);
	if ((e = conf_entry(cx, el, "trusted_networks", v)) == NULL)
		return -1;
	if (rm_ipset_add(cx->cx_rs->rs_trusted, &c, e) != 0)
		return conf_error(cx, el, "out of memory");
	return 0;
}

static int
conf_hostnames(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_strings(cx, s, conf_hostname);
}

static int
conf_local_domains(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_strings(cx, s, conf_local_domain);
}

static int
conf_relay_domains(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_strings(cx, s, conf_relay_domain);
}

static int
conf_trusted_networks(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_strings(cx, s, conf_network);
}

static int
conf_replies(struct conf_ctx *cx, const config_setting_t *s)
{
	const config_setting_t *el;
	const char *name, *v;
	char err[160];
	int i, n, id;

	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(el);
		for (id = 0; id < RM_R__COUNT; id++)
			if (strcmp(name, rm_reply_defs[id].rd_name) == 0)
				break;
		if (id == RM_R__COUNT)
			return conf_error(cx, el,
			                  "replies: unknown reply "
			                  "\"%s\"",
			                  name);
		if (config_setting_type(el) != CONFIG_TYPE_STRING)
			return conf_error(cx, el,
			                  "replies.%s: expected a string "
			                  "\"CODE X.Y.Z text\"",
			                  name);
		v = config_setting_get_string(el);
		if (rm_reply_parse(v, &cx->cx_rs->rs_replies[id], err,
		                   sizeof(err)) != 0)
			return conf_error(cx, el, "replies.%s: %s", name, err);
	}
	/* a refusal must stay permanent, a failure temporary */
	for (id = 0; id < RM_R__COUNT; id++)
		if (cx->cx_rs->rs_replies[id].r_action !=
		    rm_reply_defs[id].rd_action)
			return conf_error(
			    cx, s, "replies.%s must be a %s reply",
			    rm_reply_defs[id].rd_name,
			    rm_reply_defs[id].rd_action == RM_REJECT ? "5xx"
			                                             : "4xx");
	return 0;
}

/* ---- checks, modes and listener profiles ------------------------------ */

static void
raw_init(struct raw_profile *rp)
{
	int i;

	rp->rp_mode = rp->rp_require_auth = -1;
	for (i = 0; i < RM_CK__COUNT; i++)
		rp->rp_check[i] = -1;
}

static int
conf_mode(struct conf_ctx *cx, const config_setting_t *s, int *out)
{
	const char *v = config_setting_get_string(s);

	if (v != NULL && strcmp(v, "enforce") == 0)
		*out = 0;
	else if (v != NULL && strcmp(v, "monitor") == 0)
		*out = 1;
	else
		return conf_error(cx, s,
		                  "mode: expected \"enforce\" or \"monitor\"");
	return 0;
}

/* conf_checks - checks = { name = "reject" | "monitor" | "off"; ... } */
static int
conf_checks(struct conf_ctx *cx, const config_setting_t *s,
            struct raw_profile *rp)
{
	static const char *const modes[] = {"reject", "monitor", "off"};
	const config_setting_t *el;
	const char *name, *v;
	int i, n, ck, m;

	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(el);
		ck = rm_check_lookup(name);
		if (ck == RM_CK_REQUIRE_AUTH)
			return conf_error(cx, el,
			                  "checks.require_auth: write "
			                  "require_auth = true; beside checks");
		if (ck < 0)
			return conf_error(
			    cx, el,
			    "checks: unknown check \"%s\" (known: deny, "
			    "sender_login, local_sender_spoof, helo_spoof, "
			    "unlicensed_sender)",
			    name);
		v = config_setting_type(el) == CONFIG_TYPE_STRING
		        ? config_setting_get_string(el)
		        : NULL;
		for (m = 0; m < 3; m++)
			if (v != NULL && strcmp(v, modes[m]) == 0)
				break;
		if (m == 3)
			return conf_error(cx, el,
			                  "checks.%s: expected \"reject\", "
			                  "\"monitor\" or \"off\"",
			                  name);
		rp->rp_check[ck] = m;
	}
	return 0;
}

static int
conf_top_mode(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_mode(cx, s, &cx->cx_top.rp_mode);
}

static int
conf_top_require_auth(struct conf_ctx *cx, const config_setting_t *s)
{
	cx->cx_top.rp_require_auth = config_setting_get_bool(s);
	return 0;
}

static int
conf_top_checks(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_checks(cx, s, &cx->cx_top);
}

/* conf_listener - one listeners.NAME = { require_auth; mode; checks; } */
static int
conf_listener(struct conf_ctx *cx, const config_setting_t *s)
{
	struct rm_ruleset *rs = cx->cx_rs;
	const config_setting_t *el, *w = conf_where(s);
	struct rm_profile *pf;
	struct raw_profile *rp;
	const char *name = config_setting_name(s), *key;
	size_t n;
	int i, cnt;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return conf_error(
		    cx, s, "listeners.%s: expected a group { ... }", name);
	if ((pf = realloc(rs->rs_profiles,
	                  (rs->rs_nprofiles + 1) * sizeof(*pf))) == NULL)
		return conf_error(cx, s, "out of memory");
	rs->rs_profiles = pf;
	if ((rp = realloc(cx->cx_raw, (rs->rs_nprofiles + 1) * sizeof(*rp))) ==
	    NULL)
		return conf_error(cx, s, "out of memory");
	cx->cx_raw = rp;
	pf = &rs->rs_profiles[rs->rs_nprofiles];
	rp = &cx->cx_raw[rs->rs_nprofiles];
	memset(pf, 0, sizeof(*pf));
	raw_init(rp);
	n = strlen(cx->cx_path) + 16;
	pf->pf_name = strdup(name);
	pf->pf_origin = malloc(n);
	if (pf->pf_name == NULL || pf->pf_origin == NULL) {
		free(pf->pf_name);
		free(pf->pf_origin);
		return conf_error(cx, s, "out of memory");
	}
	snprintf(pf->pf_origin, n, "%s:%u", cx->cx_path,
	         w ? config_setting_source_line(w) : 0);
	rs->rs_nprofiles++;
	cnt = config_setting_length(s);
	for (i = 0; i < cnt; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		key = config_setting_name(el);
		if (strcmp(key, "require_auth") == 0 &&
		    config_setting_type(el) == CONFIG_TYPE_BOOL)
			rp->rp_require_auth = config_setting_get_bool(el);
		else if (strcmp(key, "mode") == 0 &&
		         config_setting_type(el) == CONFIG_TYPE_STRING) {
			if (conf_mode(cx, el, &rp->rp_mode) != 0)
				return -1;
		} else if (strcmp(key, "checks") == 0 &&
		           config_setting_type(el) == CONFIG_TYPE_GROUP) {
			if (conf_checks(cx, el, rp) != 0)
				return -1;
		} else if (strcmp(key, "require_auth") == 0 ||
		           strcmp(key, "mode") == 0 ||
		           strcmp(key, "checks") == 0)
			return conf_error(cx, el,
			                  "listeners.%s.%s: wrong type "
			                  "(require_auth = true|false; mode = "
			                  "\"...\"; checks = { ... })",
			                  name, key);
		else
			return conf_error(
			    cx, el,
			    "listeners.%s: unknown setting \"%s\" "
			    "(known: require_auth, mode, checks)",
			    name, key);
	}
	return 0;
}

static int
conf_listeners(struct conf_ctx *cx, const config_setting_t *s)
{
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++)
		if (conf_listener(cx,
		                  config_setting_get_elem(s, (unsigned)i)) != 0)
			return -1;
	return 0;
}

/*
 * resolve - fill a profile from what it says, else what the top level
 * says, else the defaults; then let monitor mode soften every reject.
 */
static void
resolve(struct rm_profile *pf, const struct raw_profile *rp,
        const struct raw_profile *top)
{
	int i, v, mode, auth;

	for (i = 0; i < RM_CK__COUNT; i++) {
		v = rp->rp_check[i] >= 0    ? rp->rp_check[i]
		    : top->rp_check[i] >= 0 ? top->rp_check[i]
		                            : RM_CM_REJECT;
		pf->pf_check[i] = (unsigned char)v;
	}
	auth = rp->rp_require_auth >= 0    ? rp->rp_require_auth
	       : top->rp_require_auth >= 0 ? top->rp_require_auth
	                                   : 0;
	pf->pf_check[RM_CK_REQUIRE_AUTH] = auth ? RM_CM_REJECT : RM_CM_OFF;
	mode = rp->rp_mode >= 0    ? rp->rp_mode
	       : top->rp_mode >= 0 ? top->rp_mode
	                           : 0;
	if (mode == 1)
		for (i = 0; i < RM_CK__COUNT; i++)
			if (pf->pf_check[i] == RM_CM_REJECT)
				pf->pf_check[i] = RM_CM_MONITOR;
}

/* ---- address lists -------------------------------------------------- */

static int
conf_addr_into(struct conf_ctx *cx, const config_setting_t *el,
               const char *list, const char *owner, const char *v,
               struct rm_addrset *set, struct rm_entry **out)
{
	struct rm_entry *e;
	char err[200];

	if ((e = conf_entry(cx, el, list, v)) == NULL)
		return -1;
	if (rm_addrset_add(set, owner, v, e, err, sizeof(err)) != 0)
		return conf_error(cx, conf_where(el), "%s: %s", list, err);
	if (out != NULL)
		*out = e;
	return 0;
}

static int
conf_licensed_one(struct conf_ctx *cx, const config_setting_t *el,
                  const char *v)
{
	return conf_addr_into(cx, el, "licensed_senders", NULL, v,
	                      cx->cx_rs->rs_licensed, NULL);
}

static int
conf_licensed(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_strings(cx, s, conf_licensed_one);
}

/* conf_owned - the sender patterns of one login. */
static int
conf_owned(struct conf_ctx *cx, const char *login, const config_setting_t *list)
{
	const config_setting_t *el;
	int i, n;

	if (config_setting_type(list) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(list) != CONFIG_TYPE_LIST)
		return conf_error(cx, conf_where(list),
		                  "sender_logins: %s: expected a list of "
		                  "sender addresses",
		                  login);
	n = config_setting_length(list);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(list, (unsigned)i);
		if (config_setting_type(el) != CONFIG_TYPE_STRING)
			return conf_error(
			    cx, conf_where(el),
			    "sender_logins: %s: element %d is not "
			    "a string",
			    login, i + 1);
		if (conf_addr_into(cx, el, "sender_logins", login,
		                   config_setting_get_string(el),
		                   cx->cx_rs->rs_sender_logins, NULL) != 0)
			return -1;
	}
	return 0;
}

static int
conf_sender_logins(struct conf_ctx *cx, const config_setting_t *s)
{
	const config_setting_t *el, *login, *senders;
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
			if (conf_owned(cx, config_setting_name(el), el) != 0)
				return -1;
			continue;
		}
		/* the list form, for logins that are not libconfig names */
		login = config_setting_type(el) == CONFIG_TYPE_GROUP
		            ? config_setting_get_member(el, "login")
		            : NULL;
		senders =
		    login ? config_setting_get_member(el, "senders") : NULL;
		if (login == NULL || senders == NULL ||
		    config_setting_type(login) != CONFIG_TYPE_STRING ||
		    config_setting_length(el) != 2)
			return conf_error(
			    cx, conf_where(el),
			    "sender_logins: element %d: expected "
			    "{ login = \"...\"; senders = [ ... ]; }",
			    i + 1);
		if (conf_owned(cx, config_setting_get_string(login), senders) !=
		    0)
			return -1;
	}
	return 0;
}

/* ---- exceptions and deny lists -------------------------------------- */

enum fact_list { FL_CLIENTS, FL_HELO, FL_SENDERS, FL_RECIPIENTS };

/* conf_fact_entry - one pattern into the set for its fact. */
static int
conf_fact_entry(struct conf_ctx *cx, const config_setting_t *el,
                struct rm_factsets *fs, enum fact_list fl, const char *list,
                const char *v, struct rm_entry **out)
{
	struct rm_cidr c;
	char err[200];

	switch (fl) {
	case FL_CLIENTS:
		if (rm_cidr_parse(v, &c, err, sizeof(err)) != 0)
			return conf_error(cx, conf_where(el), "%s: \"%s\": %s",
			                  list, v, err);
		if ((*out = conf_entry(cx, el, list, v)) == NULL)
			return -1;
		if (rm_ipset_add(fs->fs_clients, &c, *out) != 0)
			return conf_error(cx, el, "out of memory");
		return 0;
	case FL_HELO:
		if (rm_domain_check(v, err, sizeof(err)) != 0)
			return conf_error(cx, conf_where(el), "%s: \"%s\": %s",
			                  list, v, err);
		if ((*out = conf_entry(cx, el, list, v)) == NULL)
			return -1;
		if (rm_domset_add(fs->fs_helo, v, *out, err, sizeof(err)) != 0)
			return conf_error(cx, conf_where(el), "%s: \"%s\": %s",
			                  list, v, err);
		return 0;
	case FL_SENDERS:
		return conf_addr_into(cx, el, list, NULL, v, fs->fs_senders,
		                      out);
	case FL_RECIPIENTS:
		return conf_addr_into(cx, el, list, NULL, v, fs->fs_recipients,
		                      out);
	}
	return -1;
}

/* conf_lifts - lifts = [ "helo_spoof", ... ] or [ "all" ]. */
static int
conf_lifts(struct conf_ctx *cx, const config_setting_t *s, const char *list,
           unsigned *out)
{
	const config_setting_t *el;
	const char *v;
	int i, n, ck;

	*out = 0;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return conf_error(cx, s, "%s: lifts: expected a list", list);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		v = config_setting_type(el) == CONFIG_TYPE_STRING
		        ? config_setting_get_string(el)
		        : "";
		if (strcmp(v, "all") == 0) {
			*out |= RM_LIFT_ALL;
			continue;
		}
		if ((ck = rm_check_lookup(v)) < 0)
			return conf_error(
			    cx, conf_where(el),
			    "%s: lifts: unknown check \"%s\" (known: all, "
			    "require_auth, deny, sender_login, "
			    "local_sender_spoof, helo_spoof, "
			    "unlicensed_sender)",
			    list, v);
		*out |= RM_LIFT(ck);
	}
	if (*out == 0)
		return conf_error(cx, s, "%s: lifts: empty", list);
	return 0;
}

/*
 * conf_factlists - exceptions = { ... } or deny = { ... }: per fact a list
 * of patterns, each a string or a group { match = "..."; KEY = ...; }
 * where KEY is "lifts" (exceptions) or "reply" (deny).
 */
static int
conf_factlists(struct conf_ctx *cx, const config_setting_t *s, const char *top,
               struct rm_factsets *fs, int deny)
{
	static const char *const facts[] = {"clients", "helo", "senders",
	                                    "recipients"};
	static const char *const lists[2][4] = {
	    {"exceptions.clients", "exceptions.helo", "exceptions.senders",
	     "exceptions.recipients"},
	    {"deny.clients", "deny.helo", "deny.senders", "deny.recipients"}};
	const char *extra = deny ? "reply" : "lifts", *list, *v;
	const config_setting_t *grp, *el, *m, *x;
	struct rm_entry *e;
	char err[200];
	int g, i, n, fl;

	for (g = 0; g < config_setting_length(s); g++) {
		grp = config_setting_get_elem(s, (unsigned)g);
		for (fl = 0; fl < 4; fl++)
			if (strcmp(config_setting_name(grp), facts[fl]) == 0)
				break;
		if (fl == 4)
			return conf_error(cx, grp,
			                  "%s: unknown list \"%s\" (known: "
			                  "clients, helo, senders, recipients)",
			                  top, config_setting_name(grp));
		list = lists[deny][fl];
		if (config_setting_type(grp) != CONFIG_TYPE_ARRAY &&
		    config_setting_type(grp) != CONFIG_TYPE_LIST)
			return conf_error(cx, grp, "%s: expected a list", list);
		n = config_setting_length(grp);
		for (i = 0; i < n; i++) {
			el = config_setting_get_elem(grp, (unsigned)i);
			m = x = NULL;
			if (config_setting_type(el) == CONFIG_TYPE_STRING)
				v = config_setting_get_string(el);
			else if (config_setting_type(el) == CONFIG_TYPE_GROUP &&
			         (m = config_setting_get_member(el, "match")) !=
			             NULL &&
			         config_setting_type(m) == CONFIG_TYPE_STRING &&
			         config_setting_length(el) ==
			             ((x = config_setting_get_member(
			                   el, extra)) != NULL
			                  ? 2
			                  : 1))
				v = config_setting_get_string(m);
			else
				return conf_error(
				    cx, conf_where(el),
				    "%s: element %d: expected a "
				    "string or { match = \"...\"; "
				    "%s = ...; }",
				    list, i + 1, extra);
			if (conf_fact_entry(cx, el, fs, (enum fact_list)fl,
			                    list, v, &e) != 0)
				return -1;
			if (!deny) {
				e->e_lifts = RM_LIFT_ALL;
				if (x != NULL &&
				    conf_lifts(cx, x, list, &e->e_lifts) != 0)
					return -1;
			} else if (x != NULL) {
				if (config_setting_type(x) !=
				    CONFIG_TYPE_STRING)
					return conf_error(
					    cx, x,
					    "%s: reply: expected a "
					    "string",
					    list);
				if ((e->e_reply =
				         malloc(sizeof(*e->e_reply))) == NULL)
					return conf_error(cx, x,
					                  "out of memory");
				if (rm_reply_parse(config_setting_get_string(x),
				                   e->e_reply, err,
				                   sizeof(err)) != 0)
					return conf_error(
					    cx, x, "%s: reply: %s", list, err);
				if (e->e_reply->r_action != RM_REJECT)
					return conf_error(cx, x,
					                  "%s: reply: a deny "
					                  "reply must be 5xx",
					                  list);
			}
		}
	}
	return 0;
}

static int
conf_exceptions(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_factlists(cx, s, "exceptions", &cx->cx_rs->rs_exceptions,
	                      0);
}

static int
conf_deny(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_factlists(cx, s, "deny", &cx->cx_rs->rs_deny, 1);
}

/* conf_type_ok - the setting has the type the key wants. */
static int
conf_type_ok(const struct conf_key *k, const config_setting_t *s)
{
	int t = config_setting_type(s);

	if (k->ck_type == CONFIG_TYPE_ARRAY)
		return t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST;
	if (k->ck_type == CONF_GROUP_OR_LIST)
		return t == CONFIG_TYPE_GROUP || t == CONFIG_TYPE_LIST;
	return t == k->ck_type;
}

int
rm_conf_socket_check(const char *v, char *err, size_t errlen)
{
	const char *p, *at;
	char *end;
	long port;

	if (strncmp(v, "unix:", 5) == 0 || strncmp(v, "local:", 6) == 0) {
		p = strchr(v, ':') + 1;
		if (*p != '/') {
			snprintf(err, errlen,
			         "the socket path must be "
			         "absolute");
			return -1;
		}
		if (strlen(p) > 107) {
			snprintf(err, errlen,
			         "socket path longer than 107 "
			         "bytes");
			return -1;
		}
		return 0;
	}
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		p = strchr(v, ':') + 1;
		errno = 0;
		port = strtol(p, &end, 10);
		at = end;
		if (end == p || errno != 0 || port < 1 || port > 65535 ||
		    (*at != '\0' && *at != '@') ||
		    (*at == '@' && at[1] == '\0')) {
			snprintf(err, errlen,
			         "expected inet:PORT@HOST with "
			         "PORT 1-65535");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen,
	         "expected unix:/path, inet:PORT@HOST or inet6:PORT@HOST");
	return -1;
}

struct rm_ruleset *
rm_conf_load(const char *path, char *errbuf, size_t errlen)
{
	struct conf_ctx cx = {path, NULL, errbuf, errlen, {0, 0, {0}}, NULL};
	const config_setting_t *root, *s;
	const struct conf_key *k;
	config_t cfg;
	const char *name;
	size_t j;
	int i, n, ok = 0;
	FILE *fp;

	/* read it ourselves first: libconfig's I/O error says nothing */
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(errbuf, errlen, "%s: cannot open: %s", path,
		         strerror(errno));
		return NULL;
	}
	fclose(fp);
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		snprintf(errbuf, errlen, "%s:%d: %s",
		         config_error_file(&cfg) ? config_error_file(&cfg)
		                                 : path,
		         config_error_line(&cfg), config_error_text(&cfg));
		config_destroy(&cfg);
		return NULL;
	}
	if ((cx.cx_rs = rm_ruleset_new(path)) == NULL) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		config_destroy(&cfg);
		return NULL;
	}
	raw_init(&cx.cx_top);
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		name = config_setting_name(s);
		k = NULL;
		for (j = 0; j < sizeof(conf_keys) / sizeof(conf_keys[0]); j++)
			if (strcmp(name, conf_keys[j].ck_name) == 0)
				k = &conf_keys[j];
		if (k == NULL) {
			conf_error(&cx, s, "unknown setting \"%s\"", name);
			goto out;
		}
		if (!conf_type_ok(k, s)) {
			conf_error(&cx, s, "%s: expected %s", name, k->ck_what);
			goto out;
		}
		if (k->ck_fn(&cx, s) != 0)
			goto out;
	}
	if (rm_domset_count(cx.cx_rs->rs_hostnames) +
	        rm_domset_count(cx.cx_rs->rs_local_domains) +
	        rm_domset_count(cx.cx_rs->rs_relay_domains) ==
	    0) {
		conf_error(
		    &cx, NULL,
		    "empty policy: name the domains we accept mail for in "
		    "hostnames, local_domains or relay_domains");
		goto out;
	}
	resolve(&cx.cx_rs->rs_top, &cx.cx_top, &cx.cx_top);
	for (j = 0; j < cx.cx_rs->rs_nprofiles; j++)
		resolve(&cx.cx_rs->rs_profiles[j], &cx.cx_raw[j], &cx.cx_top);
	if (rm_domset_finish(cx.cx_rs->rs_hostnames) != 0 ||
	    rm_domset_finish(cx.cx_rs->rs_local_domains) != 0 ||
	    rm_domset_finish(cx.cx_rs->rs_relay_domains) != 0 ||
	    rm_ipset_finish(cx.cx_rs->rs_trusted) != 0 ||
	    rm_ipset_finish(cx.cx_rs->rs_exceptions.fs_clients) != 0 ||
	    rm_domset_finish(cx.cx_rs->rs_exceptions.fs_helo) != 0 ||
	    rm_ipset_finish(cx.cx_rs->rs_deny.fs_clients) != 0 ||
	    rm_domset_finish(cx.cx_rs->rs_deny.fs_helo) != 0) {
		conf_error(&cx, NULL, "out of memory");
		goto out;
	}
	ok = 1;
out:
	config_destroy(&cfg);
	free(cx.cx_raw);
	if (!ok) {
		rm_ruleset_release(cx.cx_rs);
		return NULL;
	}
	return cx.cx_rs;
}
