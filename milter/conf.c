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

struct conf_ctx {
	const char *cx_path;
	struct rm_ruleset *cx_rs;
	char *cx_err;
	size_t cx_errlen;
};

typedef int conf_handler(struct conf_ctx *, const config_setting_t *);

struct conf_key {
	const char *ck_name;
	int ck_type; /* CONFIG_TYPE_*, or CONFIG_TYPE_ARRAY for any list */
	conf_handler *ck_fn;
	const char *ck_what; /* for type errors */
};

static conf_handler conf_socket, conf_log_level, conf_hostnames,
    conf_local_domains, conf_relay_domains, conf_trusted_networks, conf_replies;

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
	/* a relay refusal must be permanent, a failure temporary */
	if (cx->cx_rs->rs_replies[RM_R_RELAY_DENIED].r_action != RM_REJECT)
		return conf_error(cx, s,
		                  "replies.relay_denied must be a 5xx "
		                  "reply");
	if (cx->cx_rs->rs_replies[RM_R_TEMPFAIL].r_action != RM_TEMPFAIL)
		return conf_error(cx, s,
		                  "replies.tempfail must be a 4xx reply");
	return 0;
}

/* conf_type_ok - the setting has the type the key wants. */
static int
conf_type_ok(const struct conf_key *k, const config_setting_t *s)
{
	int t = config_setting_type(s);

	if (k->ck_type == CONFIG_TYPE_ARRAY)
		return t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST;
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
	struct conf_ctx cx = {path, NULL, errbuf, errlen};
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
	if (rm_domset_finish(cx.cx_rs->rs_hostnames) != 0 ||
	    rm_domset_finish(cx.cx_rs->rs_local_domains) != 0 ||
	    rm_domset_finish(cx.cx_rs->rs_relay_domains) != 0 ||
	    rm_ipset_finish(cx.cx_rs->rs_trusted) != 0) {
		conf_error(&cx, NULL, "out of memory");
		goto out;
	}
	ok = 1;
out:
	config_destroy(&cfg);
	if (!ok) {
		rm_ruleset_release(cx.cx_rs);
		return NULL;
	}
	return cx.cx_rs;
}
