/*
 * conf.c - read the libconfig file into plain data (confdata.h).
 *
 * With confldap.c and conflimits.c, the only code that includes <libconfig.h>.
 * Every top-level key is declared in conf_keys[] (the lists in rm_list_defs[])
 * with its type and a handler; anything else is an error.  Errors are
 * "file:line: message" and abort the whole read: for a relay policy a
 * half-understood file is worse than none.  libconfig is not thread-safe
 * and owns its strings, so everything is copied and the config object is
 * destroyed before returning.  compile.c makes the ruleset.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <grp.h>

#include "relaymilter/conf.h"
#include "relaymilter/confread.h"
#include "relaymilter/follow.h"
#include "relaymilter/ip.h"
#include "relaymilter/limits.h"
#include "relaymilter/metrics.h"
#include "relaymilter/reply.h"

#define CONF_GROUP_OR_LIST 100 /* a ck_type: a group or a list */
#define CONF_GROUP_OR_BOOL 101 /* a ck_type: a group or true/false */

typedef int conf_handler(struct conf_ctx *, const config_setting_t *);

struct conf_key {
	const char *ck_name;
	int ck_type; /* CONFIG_TYPE_*, CONFIG_TYPE_ARRAY for any list, or
	                CONF_GROUP_OR_LIST */
	conf_handler *ck_fn;
	const char *ck_what; /* for type errors */
	int ck_in_listener;  /* allowed inside listeners.NAME too */
};

static conf_handler conf_socket, conf_socket_mode, conf_socket_group,
    conf_control_socket_group, conf_pid_file, conf_log_level, conf_replies,
    conf_mode_key, conf_require_auth, conf_auth_relay, conf_login_networks,
    conf_checks_key, conf_list, conf_sender_logins, conf_factlists,
    conf_listeners, conf_our_addresses, conf_our_ifaddrs, conf_log_file,
    conf_log_facility, conf_log_format, conf_milter_map, conf_answer_data,
    conf_metrics, conf_control_socket, conf_store, conf_store_timeout,
    conf_store_down, conf_grants, conf_login_implicit, conf_delimiter,
    conf_login_mode, conf_hdr_sessions;

#define LIST  "a list of strings"
#define GROUP "a group { ... }"
static const struct conf_key conf_keys[] = {
    {"socket", CONFIG_TYPE_STRING, conf_socket, "a string", 0},
    {"socket_mode", CONFIG_TYPE_STRING, conf_socket_mode,
     "an octal string such as \"0660\"", 0},
    {"socket_group", CONFIG_TYPE_STRING, conf_socket_group, "a string", 0},
    {"pid_file", CONFIG_TYPE_STRING, conf_pid_file, "a string", 0},
    {"log_level", CONFIG_TYPE_STRING, conf_log_level, "a string", 0},
    {"log_file", CONFIG_TYPE_STRING, conf_log_file, "a string", 0},
    {"log_facility", CONFIG_TYPE_STRING, conf_log_facility, "a string", 0},
    {"milter_map", CONFIG_TYPE_STRING, conf_milter_map, "a string", 0},
    {"metrics", CONFIG_TYPE_STRING, conf_metrics,
     "a string \"inet:PORT@ADDRESS\"", 0},
    {"control_socket", CONFIG_TYPE_STRING, conf_control_socket, "a string", 0},
    {"control_socket_group", CONFIG_TYPE_STRING, conf_control_socket_group,
     "a string", 0},
    {"log_format", CONFIG_TYPE_STRING, conf_log_format, "\"kv\" or \"json\"",
     0},
    {"answer_data", CONFIG_TYPE_STRING, conf_answer_data,
     "\"auto\", \"yes\" or \"no\"", 0},
    {"store", CONFIG_TYPE_STRING, conf_store,
     "a string \"memory\" or \"redis://HOST:PORT/DB\"", 0},
    {"store_timeout", CONFIG_TYPE_STRING, conf_store_timeout,
     "a string such as \"200ms\" or \"1s\"", 0},
    {"store_down", CONFIG_TYPE_STRING, conf_store_down,
     "\"local\" or \"tempfail\"", 0},
    {"sender_logins", CONF_GROUP_OR_LIST, conf_sender_logins,
     "a group { login = [ ... ]; } or a list ( { login = \"...\"; "
     "senders = [ ... ]; } )",
     1},
    {"exceptions", CONFIG_TYPE_GROUP, conf_factlists, GROUP, 1},
    {"deny", CONFIG_TYPE_GROUP, conf_factlists, GROUP, 1},
    {"replies", CONFIG_TYPE_GROUP, conf_replies, GROUP, 1},
    {"mode", CONFIG_TYPE_STRING, conf_mode_key, "\"enforce\" or \"monitor\"",
     1},
    {"require_auth", CONFIG_TYPE_BOOL, conf_require_auth, "true or false", 1},
    {"auth_relay", CONFIG_TYPE_BOOL, conf_auth_relay, "true or false", 1},
    {"header_from_sessions", CONFIG_TYPE_STRING, conf_hdr_sessions,
     "\"authenticated\" or \"all\"", 1},
    {"login_networks", CONFIG_TYPE_LIST, conf_login_networks,
     "a list ( { login = \"...\"; networks = [ ... ]; } )", 1},
    {"checks", CONFIG_TYPE_GROUP, conf_checks_key, GROUP, 1},
    {"limits", CONFIG_TYPE_LIST, conf_limits,
     "a list ( { name = \"...\"; key = \"...\"; ... } )", 1},
    {"max_recipients", CONFIG_TYPE_INT, conf_max_recipients,
     "a number of recipients", 1},
    {"grants", CONF_GROUP_OR_BOOL, conf_grants,
     "a group { ttl = \"30m\"; trusted = false; } (or, in a listener, "
     "true or false)",
     1},
    {"listeners", CONFIG_TYPE_GROUP, conf_listeners, GROUP, 0},
    {"ldap", CONFIG_TYPE_GROUP, conf_ldap, GROUP, 0},
    {"our_addresses", CONFIG_TYPE_ARRAY, conf_our_addresses, LIST, 0},
    {"our_interface_addresses", CONFIG_TYPE_BOOL, conf_our_ifaddrs,
     "true or false", 0},
    {"sender_login_implicit", CONFIG_TYPE_BOOL, conf_login_implicit,
     "true or false", 0},
    {"recipient_delimiter", CONFIG_TYPE_STRING, conf_delimiter,
     "a string of delimiter characters such as \"+\"", 0},
    {"sender_login_mode", CONFIG_TYPE_STRING, conf_login_mode,
     "\"all\" or \"known\"", 0},
};
#undef LIST
#undef GROUP

static int conf_op(struct conf_ctx *, const config_setting_t *, int,
                   const char *, const char *, unsigned, const char *);
static int conf_lifts(struct conf_ctx *, const config_setting_t *, const char *,
                      unsigned *);
static int conf_type_ok(const struct conf_key *, const config_setting_t *);

int
conf_error(struct conf_ctx *cx, const config_setting_t *s, const char *fmt, ...)
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

const config_setting_t *
conf_where(const config_setting_t *s)
{
	while (s != NULL && config_setting_source_line(s) == 0)
		s = config_setting_parent(s);
	return s;
}

/* conf_set_str - *dst becomes a copy of v (a later key wins). */
static int
conf_set_str(struct conf_ctx *cx, const config_setting_t *s, char **dst,
             const char *v)
{
	free(*dst);
	if ((*dst = strdup(v)) == NULL)
		return conf_error(cx, s, "out of memory");
	return 0;
}

static int
conf_socket(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	char err[160];

	if (rm_conf_socket_check(v, err, sizeof(err)) != 0)
		return conf_error(cx, s, "socket \"%s\": %s", v, err);
	return conf_set_str(cx, s, &cx->cx_conf->cf_settings.st_socket, v);
}

/* conf_socket_mode - "0660": the permissions of a unix socket. */
static int
conf_socket_mode(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	char *end;
	long m;

	errno = 0;
	m = strtol(v, &end, 8);
	if (*v < '0' || *v > '7' || *end != '\0' || errno != 0 || m < 0 ||
	    m > 0777)
		return conf_error(cx, s,
		                  "socket_mode \"%s\": expected octal "
		                  "permissions such as \"0660\"",
		                  v);
	if ((m & 0600) != 0600)
		return conf_error(cx, s,
		                  "socket_mode \"%s\": the owner needs read "
		                  "and write (0600)",
		                  v);
	cx->cx_conf->cf_settings.st_socket_mode = (int)m;
	return 0;
}

/* a_group - a group that exists: name or number, into *dst */
static int
a_group(struct conf_ctx *cx, const config_setting_t *s, char **dst)
{
	const char *v = config_setting_get_string(s);
	gid_t gid;

	if (rm_conf_group(v, &gid) != 0)
		return conf_error(cx, s, "%s \"%s\": no such group",
		                  config_setting_name(s), v);
	return conf_set_str(cx, s, dst, v);
}

/* conf_socket_group - the milter socket's group */
static int
conf_socket_group(struct conf_ctx *cx, const config_setting_t *s)
{
	return a_group(cx, s, &cx->cx_conf->cf_settings.st_socket_group);
}

/*
 * conf_control_socket_group - a group that may use the control socket
 * (relaymilter grant from a POP/IMAP server's post-login script)
 */
static int
conf_control_socket_group(struct conf_ctx *cx, const config_setting_t *s)
{
	return a_group(cx, s,
	               &cx->cx_conf->cf_settings.st_control_socket_group);
}

static int
conf_pid_file(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (*v != '/')
		return conf_error(cx, s, "pid_file \"%s\": must be absolute",
		                  v);
	return conf_set_str(cx, s, &cx->cx_conf->cf_settings.st_pid_file, v);
}

static int
conf_log_level(struct conf_ctx *cx, const config_setting_t *s)
{
	static const char *const names[] = {"err", "warning", "info", "debug"};
	const char *v = config_setting_get_string(s);
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(v, names[i]) == 0) {
			cx->cx_conf->cf_settings.st_log_level = (int)i;
			return 0;
		}
	}
	return conf_error(
	    cx, s, "log_level \"%s\": expected err, warning, info or debug", v);
}

static int
conf_log_file(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (*v != '/')
		return conf_error(cx, s, "log_file \"%s\": must be absolute",
		                  v);
	return conf_set_str(cx, s, &cx->cx_conf->cf_settings.st_log_file, v);
}

static int
conf_milter_map(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (*v != '/')
		return conf_error(cx, s, "milter_map \"%s\": must be absolute",
		                  v);
	return conf_set_str(cx, s, &cx->cx_conf->cf_settings.st_milter_map, v);
}

/* conf_metrics - where the Prometheus endpoint listens */
static int
conf_metrics(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	struct sockaddr_storage ss;
	socklen_t len;
	bool loop;
	char err[160];

	if (rm_metrics_addr(v, &ss, &len, &loop, err, sizeof(err)) != 0)
		return conf_error(cx, s, "metrics \"%s\": %s", v, err);
	return conf_set_str(cx, s, &cx->cx_conf->cf_settings.st_metrics, v);
}

/* conf_control_socket - the unix socket "relaymilter stats" asks */
static int
conf_control_socket(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (*v != '/' || strlen(v) > 107)
		return conf_error(cx, s,
		                  "control_socket \"%s\": expected an "
		                  "absolute path of at most 107 bytes",
		                  v);
	return conf_set_str(cx, s, &cx->cx_conf->cf_settings.st_control_socket,
	                    v);
}

/* conf_store - where the limits' counters live (limits.h) */
static int
conf_store(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	struct rm_store_addr a;
	char err[160];

	if (rm_store_parse(v, &a, err, sizeof(err)) != 0)
		return conf_error(cx, s, "store \"%s\": %s", v, err);
	return conf_set_str(cx, s, &cx->cx_conf->cf_settings.st_store, v);
}

/* conf_store_timeout - "250ms", "1s": 1 ms to 60 s */
static int
conf_store_timeout(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	unsigned long n = 0;
	char *end;

	errno = 0;
	if (v[0] >= '0' && v[0] <= '9')
		n = strtoul(v, &end, 10);
	if (n == 0 || errno != 0 ||
	    (strcmp(end, "ms") != 0 && strcmp(end, "s") != 0) ||
	    (*end == 's' ? n > 60 : n > 60000))
		return conf_error(cx, s,
		                  "store_timeout \"%s\": expected 1ms to 60s, "
		                  "such as \"200ms\" or \"1s\"",
		                  v);
	cx->cx_conf->cf_settings.st_store_timeout_ms =
	    (unsigned)(*end == 's' ? n * 1000 : n);
	return 0;
}

/* conf_store_down - what the Redis store does when Redis does not answer */
static int
conf_store_down(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (strcmp(v, "local") != 0 && strcmp(v, "tempfail") != 0)
		return conf_error(cx, s,
		                  "store_down \"%s\": expected \"local\" or "
		                  "\"tempfail\"",
		                  v);
	cx->cx_conf->cf_settings.st_store_down = strcmp(v, "tempfail") == 0
	                                             ? RM_STORE_DOWN_TEMPFAIL
	                                             : RM_STORE_DOWN_LOCAL;
	return 0;
}

static int
conf_log_facility(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	int f = rm_log_facility_lookup(v);

	if (f < 0)
		return conf_error(cx, s,
		                  "log_facility \"%s\": expected mail, daemon, "
		                  "user or local0 to local7",
		                  v);
	cx->cx_conf->cf_settings.st_log_facility = f;
	return 0;
}

static int
conf_log_format(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (strcmp(v, "kv") != 0 && strcmp(v, "json") != 0)
		return conf_error(cx, s,
		                  "log_format \"%s\": expected \"kv\" or "
		                  "\"json\"",
		                  v);
	cx->cx_conf->cf_settings.st_log_json = strcmp(v, "json") == 0;
	return 0;
}

/* conf_answer_data - "auto" (inet sockets), "yes" or "no" */
static int
conf_answer_data(struct conf_ctx *cx, const config_setting_t *s)
{
	static const char *const names[] = {"no", "yes", "auto"};
	const char *v = config_setting_get_string(s);

	for (int i = 0; i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			cx->cx_conf->cf_settings.st_answer_data =
			    i == 2 ? -1 : i;
			return 0;
		}
	return conf_error(cx, s,
	                  "answer_data \"%s\": expected \"auto\", \"yes\" "
	                  "or \"no\"",
	                  v);
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
		if (rm_reply_parse(v, &cx->cx_profile->cp_replies[id], err,
		                   sizeof(err)) != 0)
			return conf_error(cx, el, "replies.%s: %s", name, err);
		cx->cx_profile->cp_reply_set[id] = 1;
	}
	/* a refusal must stay permanent, a failure temporary */
	for (id = 0; id < RM_R__COUNT; id++)
		if (cx->cx_profile->cp_reply_set[id] &&
		    cx->cx_profile->cp_replies[id].r_action !=
		        rm_reply_defs[id].rd_action)
			return conf_error(
			    cx, s, "replies.%s must be a %s reply",
			    rm_reply_defs[id].rd_name,
			    rm_reply_defs[id].rd_action == RM_REJECT ? "5xx"
			                                             : "4xx");
	return 0;
}

/* conf_our_addresses - this server's other addresses: strings, file:line */
static int
conf_our_addresses(struct conf_ctx *cx, const config_setting_t *s)
{
	const config_setting_t *el, *w;
	struct rm_cidr cidr;
	const char *v;
	char err[200];
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		w = conf_where(el);
		if (config_setting_type(el) != CONFIG_TYPE_STRING)
			return conf_error(cx, w,
			                  "our_addresses: element %d is not a "
			                  "string",
			                  i + 1);
		v = config_setting_get_string(el);
		/* checked here too, so that -n names the line at once */
		if (rm_cidr_parse(v, &cidr, err, sizeof(err)) != 0)
			return conf_error(cx, w, "our_addresses: \"%s\": %s", v,
			                  err);
		if (conf_op(cx, w, RM_OP_OUR_ADDRESS, v, NULL, 0, NULL) != 0)
			return -1;
	}
	return 0;
}

static int
conf_our_ifaddrs(struct conf_ctx *cx, const config_setting_t *s)
{
	cx->cx_conf->cf_no_ifaddrs = !config_setting_get_bool(s);
	return 0;
}

/* conf_login_implicit - a login that is an address owns it (default) */
static int
conf_login_implicit(struct conf_ctx *cx, const config_setting_t *s)
{
	cx->cx_conf->cf_no_implicit = !config_setting_get_bool(s);
	return 0;
}

/*
 * conf_delimiter - recipient_delimiter: the characters that start an
 * address extension, as Postfix's.  Each must be a printable character
 * that can stand in a local part and is no address syntax.
 */
static int
conf_delimiter(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s), *p;

	if (v[0] == '\0' || strlen(v) > RM_DELIM_MAX)
		return conf_error(
		    cx, s,
		    "recipient_delimiter \"%s\": expected 1 to %d "
		    "characters such as \"+\"",
		    v, RM_DELIM_MAX);
	for (p = v; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) ||
		    strchr("@<>()[]\\,;:\"%!.", *p) != NULL)
			return conf_error(
			    cx, s,
			    "recipient_delimiter \"%s\": '%c' cannot "
			    "start an address extension",
			    v, isgraph((unsigned char)*p) ? *p : '?');
	snprintf(cx->cx_conf->cf_delim, sizeof(cx->cx_conf->cf_delim), "%s", v);
	return 0;
}

/* conf_login_mode - sender_login refuses every sender not owned, or only
   those another login owns */
static int
conf_login_mode(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (strcmp(v, "all") != 0 && strcmp(v, "known") != 0)
		return conf_error(
		    cx, s,
		    "sender_login_mode \"%s\": expected \"all\" or "
		    "\"known\"",
		    v);
	cx->cx_conf->cf_login_known = strcmp(v, "known") == 0;
	return 0;
}

/* ---- lists ---------------------------------------------------------- */

/*
 * conf_key_of - the table entry for a name, or NULL.  The plain lists of
 * rm_list_defs[] ("hostnames", "trusted_networks", ...) are keys too, each
 * a list of strings, also per listener: their entry is made in *tmp.
 */
static const struct conf_key *
conf_key_of(const char *name, struct conf_key *tmp)
{
	size_t j;
	int l;

	for (j = 0; j < sizeof(conf_keys) / sizeof(conf_keys[0]); j++)
		if (strcmp(name, conf_keys[j].ck_name) == 0)
			return &conf_keys[j];
	if ((l = rm_list_lookup(name)) < 0 ||
	    rm_list_defs[l].ld_role != RM_ROLE_LIST)
		return NULL;
	*tmp = (struct conf_key){rm_list_name(l), CONFIG_TYPE_ARRAY, conf_list,
	                         "a list of strings", 1};
	return tmp;
}

/*
 * conf_op - one entry, as written at the line of el, for the compiler
 * (which checks it against its list).  0, or -1 when out of memory.
 */
static int
conf_op(struct conf_ctx *cx, const config_setting_t *el, int list,
        const char *value, const char *owner, unsigned lifts, const char *reply)
{
	const config_setting_t *w = conf_where(el);
	const char *file = w ? config_setting_source_file(w) : NULL;
	struct rm_confop op;

	memset(&op, 0, sizeof(op));
	op.op_list = list;
	op.op_lifts = lifts;
	op.op_line = w ? config_setting_source_line(w) : 0;
	op.op_file = file ? file : cx->cx_path;
	op.op_value = value;
	op.op_owner = owner;
	op.op_listener = cx->cx_listener;
	op.op_reply = reply;
	if (rm_conf_add_op(cx->cx_conf, &op) != 0)
		return conf_error(cx, w, "out of memory");
	return 0;
}

/*
 * conf_elems - the elements of one list: strings, and for exceptions and
 * deny also { match = "..."; lifts = [...]; } / { match; reply; }.
 */
static int
conf_elems(struct conf_ctx *cx, const config_setting_t *s, int list,
           const char *owner)
{
	enum rm_list_role role = rm_list_defs[list].ld_role;
	int deny = role == RM_ROLE_DENY,
	    grouped = deny || role == RM_ROLE_EXCEPTION;
	const char *extra = deny ? "reply" : "lifts",
	           *name = rm_list_name(list);
	const config_setting_t *el, *m, *x;
	unsigned lifts;
	int i, n;

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return conf_error(cx, s, "%s: expected a list", name);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(el) == CONFIG_TYPE_STRING) {
			if (conf_op(cx, el, list, config_setting_get_string(el),
			            owner, 0, NULL) != 0)
				return -1;
			continue;
		}
		m = x = NULL;
		if (!grouped || config_setting_type(el) != CONFIG_TYPE_GROUP ||
		    (m = config_setting_get_member(el, "match")) == NULL ||
		    config_setting_type(m) != CONFIG_TYPE_STRING ||
		    config_setting_length(el) !=
		        ((x = config_setting_get_member(el, extra)) ? 2 : 1)) {
			if (!grouped)
				return conf_error(
				    cx, conf_where(el),
				    "%s: element %d is not a string", name,
				    i + 1);
			return conf_error(
			    cx, conf_where(el),
			    "%s: element %d: expected a string or "
			    "{ match = \"...\"; %s = ...; }",
			    name, i + 1, extra);
		}
		lifts = 0;
		if (x != NULL && !deny && conf_lifts(cx, x, name, &lifts) != 0)
			return -1;
		if (x != NULL && deny &&
		    config_setting_type(x) != CONFIG_TYPE_STRING)
			return conf_error(cx, x, "%s: reply: expected a string",
			                  name);
		if (conf_op(cx, el, list, config_setting_get_string(m), owner,
		            lifts,
		            x && deny ? config_setting_get_string(x) : NULL) !=
		    0)
			return -1;
	}
	return 0;
}

static int
conf_list(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_elems(cx, s, rm_list_lookup(config_setting_name(s)), NULL);
}

/* conf_owned - the sender patterns of one login. */
static int
conf_owned(struct conf_ctx *cx, const char *login, const config_setting_t *list)
{
	if (config_setting_type(list) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(list) != CONFIG_TYPE_LIST)
		return conf_error(cx, conf_where(list),
		                  "sender_logins: %s: expected a list of "
		                  "sender addresses",
		                  login);
	return conf_elems(cx, list, RM_L_SENDER_LOGINS, login);
}

/*
 * owned_pair - element i of a list ( { login = "..."; MEMBER = [ ... ]; } )
 * of the list named key: the login and its list, or -1 with the error.
 */
static int
owned_pair(struct conf_ctx *cx, const config_setting_t *el, int i,
           const char *key, const char *member, const char **login,
           const config_setting_t **list)
{
	const config_setting_t *l;

	l = config_setting_type(el) == CONFIG_TYPE_GROUP
	        ? config_setting_get_member(el, "login")
	        : NULL;
	*list = l ? config_setting_get_member(el, member) : NULL;
	if (l == NULL || *list == NULL ||
	    config_setting_type(l) != CONFIG_TYPE_STRING ||
	    config_setting_length(el) != 2)
		return conf_error(cx, conf_where(el),
		                  "%s: element %d: expected "
		                  "{ login = \"...\"; %s = [ ... ]; }",
		                  key, i + 1, member);
	*login = config_setting_get_string(l);
	return 0;
}

static int
conf_sender_logins(struct conf_ctx *cx, const config_setting_t *s)
{
	const config_setting_t *el, *senders;
	const char *login;
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(s) == CONFIG_TYPE_GROUP) {
			if (conf_owned(cx, config_setting_name(el), el) != 0)
				return -1;
			continue;
		}
		/* the list form, for logins that are not libconfig names */
		if (owned_pair(cx, el, i, "sender_logins", "senders", &login,
		               &senders) != 0 ||
		    conf_owned(cx, login, senders) != 0)
			return -1;
	}
	return 0;
}

/*
 * conf_login_networks - ( { login = "..."; networks = [ ... ]; } ): the
 * networks a login may relay from.
 */
static int
conf_login_networks(struct conf_ctx *cx, const config_setting_t *s)
{
	const config_setting_t *el, *nets;
	const char *login;
	int i, n = config_setting_length(s);

	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		if (owned_pair(cx, el, i, "login_networks", "networks", &login,
		               &nets) != 0)
			return -1;
		if (config_setting_type(nets) != CONFIG_TYPE_ARRAY &&
		    config_setting_type(nets) != CONFIG_TYPE_LIST)
			return conf_error(cx, conf_where(nets),
			                  "login_networks: %s: expected a list "
			                  "of networks",
			                  login);
		if (config_setting_length(nets) == 0)
			return conf_error(cx, conf_where(nets),
			                  "login_networks: %s: no network (the "
			                  "login could relay from nowhere)",
			                  login);
		if (conf_elems(cx, nets, RM_L_LOGIN_NETWORKS, login) != 0)
			return -1;
	}
	return 0;
}

/*
 * conf_factlists - exceptions = { ... } or deny = { ... }: each member is
 * the list named "TOP.MEMBER" in rm_list_defs[].
 */
static int
conf_factlists(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *top = config_setting_name(s);
	const config_setting_t *grp;
	char name[128], known[256];
	size_t n, tl = strlen(top);
	int g, l;

	for (g = 0; g < config_setting_length(s); g++) {
		grp = config_setting_get_elem(s, (unsigned)g);
		snprintf(name, sizeof(name), "%s.%s", top,
		         config_setting_name(grp));
		if ((l = rm_list_lookup(name)) < 0) {
			for (n = 0, l = 0; l < RM_L__COUNT; l++)
				if (strncmp(rm_list_name(l), top, tl) == 0 &&
				    rm_list_name(l)[tl] == '.')
					n += (size_t)snprintf(
					    known + n,
					    n < sizeof(known)
					        ? sizeof(known) - n
					        : 0,
					    "%s%s", n ? ", " : "",
					    rm_list_name(l) + tl + 1);
			return conf_error(cx, grp,
			                  "%s: unknown list \"%s\" (known: %s)",
			                  top, config_setting_name(grp), known);
		}
		if (conf_elems(cx, grp, l, NULL) != 0)
			return -1;
	}
	return 0;
}

/* ---- checks, modes and listener profiles ------------------------------ */

static void
profile_init(struct rm_confprofile *cp)
{
	int i;

	memset(cp, 0, sizeof(*cp));
	cp->cp_mode = cp->cp_require_auth = -1;
	cp->cp_max_rcpts = -1;
	cp->cp_auth_relay = -1;
	cp->cp_grants = -1;
	cp->cp_hdr_all = -1;
	for (i = 0; i < RM_CK__COUNT; i++)
		cp->cp_check[i] = -1;
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
            struct rm_confprofile *cp)
{
	static const char *const modes[] = {"reject", "monitor", "off"};
	const config_setting_t *el;
	const char *name, *v;
	char known[256];
	int i, n, ck, m;

	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(el);
		ck = rm_check_lookup(name);
		if (ck >= 0 && !rm_check_defs[ck].cd_in_checks)
			return conf_error(cx, el,
			                  "checks.%s: write %s = true; beside "
			                  "checks",
			                  name, name);
		if (ck < 0)
			return conf_error(
			    cx, el,
			    "checks: unknown check \"%s\" (known: "
			    "%s)",
			    name, rm_check_known(1, known, sizeof(known)));
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
		cp->cp_check[ck] = m;
	}
	return 0;
}

static int
conf_mode_key(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_mode(cx, s, &cx->cx_profile->cp_mode);
}

static int
conf_require_auth(struct conf_ctx *cx, const config_setting_t *s)
{
	cx->cx_profile->cp_require_auth = config_setting_get_bool(s);
	return 0;
}

static int conf_follow(struct conf_ctx *, const config_setting_t *);

/*
 * conf_grants - grants = { ttl = "30m"; trusted = false; } at the top
 * level (relay grants on), or grants = true/false (a listener: on or off
 * there)
 */
static int
conf_grants(struct conf_ctx *cx, const config_setting_t *s)
{
	struct rm_settings *st = &cx->cx_conf->cf_settings;
	const config_setting_t *m;
	const char *name, *v;
	int i;

	if (config_setting_type(s) == CONFIG_TYPE_BOOL) {
		cx->cx_profile->cp_grants = config_setting_get_bool(s);
		if (cx->cx_profile->cp_grants)
			st->st_grants_on = 1;
		return 0;
	}
	if (cx->cx_listener != NULL)
		return conf_error(cx, s,
		                  "listeners.%s.grants: expected true or false "
		                  "(ttl and trusted are set at the top level)",
		                  cx->cx_listener);
	cx->cx_profile->cp_grants = st->st_grants_on = 1;
	for (i = 0; (m = config_setting_get_elem(s, (unsigned)i)) != NULL;
	     i++) {
		name = config_setting_name(m);
		if (strcmp(name, "trusted") == 0 &&
		    config_setting_type(m) == CONFIG_TYPE_BOOL)
			st->st_grants_trusted = config_setting_get_bool(m);
		else if (strcmp(name, "ttl") == 0) {
			v = config_setting_get_string(m);
			if (v == NULL ||
			    rm_duration_parse(v, RM_GRANT_TTL_MAX,
			                      &st->st_grant_ttl) != 0)
				return conf_error(
				    cx, conf_where(m),
				    "grants.ttl: expected a duration from 1s "
				    "to 1d, such as \"30m\"");
		} else if (strcmp(name, "follow") == 0) {
			if (conf_follow(cx, m) != 0)
				return -1;
		} else if (strcmp(name, "trusted") == 0)
			return conf_error(cx, conf_where(m),
			                  "grants.trusted: expected true or "
			                  "false");
		else
			return conf_error(cx, conf_where(m),
			                  "grants.%s: unknown setting (known: "
			                  "ttl, trusted, follow)",
			                  name);
	}
	return 0;
}

/*
 * follow_entry - one { file = "/var/log/mail.log"; format = "dovecot";
 * program = "dovecot"; } or { file; format = "custom"; pattern; }
 */
static int
follow_entry(struct conf_ctx *cx, const config_setting_t *el,
             struct rm_follow_conf *fc)
{
	const config_setting_t *m;
	struct rm_follow_pattern *fp;
	const char *name, *v;
	char err[256];
	int i;

	if (config_setting_type(el) != CONFIG_TYPE_GROUP)
		return conf_error(cx, conf_where(el),
		                  "grants.follow: expected a group such as "
		                  "{ file = \"/var/log/mail.log\"; format = "
		                  "\"dovecot\"; }");
	fc->fc_format = -1;
	for (i = 0; (m = config_setting_get_elem(el, (unsigned)i)) != NULL;
	     i++) {
		name = config_setting_name(m);
		if ((v = config_setting_get_string(m)) == NULL)
			return conf_error(cx, conf_where(m),
			                  "grants.follow.%s: expected a string",
			                  name);
		if (strcmp(name, "file") == 0) {
			if (v[0] != '/')
				return conf_error(cx, conf_where(m),
				                  "grants.follow.file: must be "
				                  "absolute");
			if ((fc->fc_file = strdup(v)) == NULL)
				return conf_error(cx, m, "out of memory");
		} else if (strcmp(name, "format") == 0) {
			if (strcmp(v, "dovecot") == 0)
				fc->fc_format = RM_FOLLOW_DOVECOT;
			else if (strcmp(v, "custom") == 0)
				fc->fc_format = RM_FOLLOW_CUSTOM;
			else
				return conf_error(cx, conf_where(m),
				                  "grants.follow.format: "
				                  "\"dovecot\" or \"custom\"");
		} else if (strcmp(name, "pattern") == 0) {
			if ((fp = rm_follow_pattern_new(v, err, sizeof(err))) ==
			    NULL)
				return conf_error(cx, conf_where(m),
				                  "grants.follow.pattern: %s",
				                  err);
			rm_follow_pattern_free(fp);
			if ((fc->fc_pattern = strdup(v)) == NULL)
				return conf_error(cx, m, "out of memory");
		} else if (strcmp(name, "program") == 0) {
			if (v[0] == '\0' || strpbrk(v, " :[]") != NULL)
				return conf_error(cx, conf_where(m),
				                  "grants.follow.program: a "
				                  "syslog tag, such as "
				                  "\"dovecot\"");
			if ((fc->fc_program = strdup(v)) == NULL)
				return conf_error(cx, m, "out of memory");
		} else
			return conf_error(cx, conf_where(m),
			                  "grants.follow.%s: unknown setting "
			                  "(known: file, format, pattern, "
			                  "program)",
			                  name);
	}
	if (fc->fc_file == NULL || fc->fc_format < 0)
		return conf_error(cx, conf_where(el),
		                  "grants.follow: file and format are needed");
	if (fc->fc_format == RM_FOLLOW_CUSTOM && fc->fc_pattern == NULL)
		return conf_error(cx, conf_where(el),
		                  "grants.follow: format \"custom\" needs a "
		                  "pattern");
	if (fc->fc_format == RM_FOLLOW_DOVECOT && fc->fc_pattern != NULL)
		return conf_error(cx, conf_where(el),
		                  "grants.follow: a pattern is for format "
		                  "\"custom\" only");
	if (fc->fc_format == RM_FOLLOW_CUSTOM && fc->fc_program != NULL)
		return conf_error(cx, conf_where(el),
		                  "grants.follow: program is for format "
		                  "\"dovecot\" only (the pattern says it)");
	return 0;
}

/* conf_follow - grants.follow = ( { ... }, ... ) */
static int
conf_follow(struct conf_ctx *cx, const config_setting_t *s)
{
	struct rm_settings *st = &cx->cx_conf->cf_settings;
	const config_setting_t *el;
	unsigned n = (unsigned)config_setting_length(s), i;

	if (config_setting_type(s) != CONFIG_TYPE_LIST)
		return conf_error(cx, conf_where(s),
		                  "grants.follow: expected a list ( { file = "
		                  "...; format = ...; }, ... )");
	if (st->st_follow != NULL)
		return conf_error(cx, conf_where(s),
		                  "grants.follow: given twice");
	if (n == 0)
		return 0;
	if ((st->st_follow = calloc(n, sizeof(*st->st_follow))) == NULL)
		return conf_error(cx, s, "out of memory");
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, i);
		st->st_nfollow++;
		if (follow_entry(cx, el, &st->st_follow[i]) != 0)
			return -1;
	}
	return 0;
}

static int
conf_auth_relay(struct conf_ctx *cx, const config_setting_t *s)
{
	cx->cx_profile->cp_auth_relay = config_setting_get_bool(s);
	return 0;
}

/* header_from_sessions - "authenticated" (the default) or "all" */
static int
conf_hdr_sessions(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (v != NULL && strcmp(v, "authenticated") == 0)
		cx->cx_profile->cp_hdr_all = 0;
	else if (v != NULL && strcmp(v, "all") == 0)
		cx->cx_profile->cp_hdr_all = 1;
	else
		return conf_error(cx, s,
		                  "header_from_sessions: expected "
		                  "\"authenticated\" or \"all\"");
	return 0;
}

static int
conf_checks_key(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_checks(cx, s, cx->cx_profile);
}

/*
 * conf_settings - the settings of the top level or of one listener, each
 * checked against conf_keys[] for its name, its type and where it may be.
 */
static int
conf_settings(struct conf_ctx *cx, const config_setting_t *grp)
{
	const config_setting_t *s;
	const struct conf_key *k;
	struct conf_key tmp;
	const char *name;
	char where[200];
	int i, n = config_setting_length(grp);

	if (cx->cx_listener != NULL)
		snprintf(where, sizeof(where), "listeners.%s", cx->cx_listener);
	else
		where[0] = '\0';
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(grp, (unsigned)i);
		name = config_setting_name(s);
		k = conf_key_of(name, &tmp);
		if (k == NULL ||
		    (cx->cx_listener != NULL && !k->ck_in_listener))
			return conf_error(cx, s, "%s%sunknown setting \"%s\"%s",
			                  where, *where ? ": " : "", name,
			                  k != NULL ? " (top level only)" : "");
		if (!conf_type_ok(k, s))
			return conf_error(cx, s, "%s%s%s: expected %s", where,
			                  *where ? "." : "", name, k->ck_what);
		if (k->ck_fn(cx, s) != 0)
			return -1;
	}
	return 0;
}

/* conf_listeners - listeners = { NAME = { ...settings... }; ... } */
static int
conf_listeners(struct conf_ctx *cx, const config_setting_t *s)
{
	struct rm_conf *cf = cx->cx_conf;
	const config_setting_t *el, *w;
	struct rm_confprofile *cp;
	const char *name;
	char origin[600];
	size_t j;
	int i, n = config_setting_length(s), rc;

	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		w = conf_where(el);
		name = config_setting_name(el);
		if (config_setting_type(el) != CONFIG_TYPE_GROUP)
			return conf_error(
			    cx, el, "listeners.%s: expected a group { ... }",
			    name);
		for (j = 0; j < cf->cf_nprofiles; j++)
			if (strcasecmp(cf->cf_profiles[j].cp_name, name) == 0)
				return conf_error(cx, el,
				                  "listeners.%s: defined twice "
				                  "(names match without regard "
				                  "to case)",
				                  name);
		cp = realloc(cf->cf_profiles,
		             (cf->cf_nprofiles + 1) * sizeof(*cp));
		if (cp == NULL)
			return conf_error(cx, el, "out of memory");
		cf->cf_profiles = cp;
		cp = &cf->cf_profiles[cf->cf_nprofiles];
		profile_init(cp);
		snprintf(origin, sizeof(origin), "%s:%u", cx->cx_path,
		         w ? config_setting_source_line(w) : 0);
		if ((cp->cp_name = strdup(name)) == NULL ||
		    (cp->cp_origin = strdup(origin)) == NULL) {
			free(cp->cp_name);
			return conf_error(cx, el, "out of memory");
		}
		cf->cf_nprofiles++;
		cx->cx_listener = cp->cp_name;
		cx->cx_profile = cp;
		rc = conf_settings(cx, el);
		cx->cx_listener = NULL;
		cx->cx_profile = &cf->cf_top;
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* conf_lifts - lifts = [ "helo_spoof", ... ] or [ "all" ]. */
static int
conf_lifts(struct conf_ctx *cx, const config_setting_t *s, const char *list,
           unsigned *out)
{
	const config_setting_t *el;
	const char *v;
	char known[256];
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
			    "%s: lifts: unknown check \"%s\" "
			    "(known: all, %s)",
			    list, v, rm_check_known(0, known, sizeof(known)));
		*out |= RM_LIFT(ck);
	}
	if (*out == 0)
		return conf_error(cx, s, "%s: lifts: empty", list);
	return 0;
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
	if (k->ck_type == CONF_GROUP_OR_BOOL)
		return t == CONFIG_TYPE_GROUP || t == CONFIG_TYPE_BOOL;
	return t == k->ck_type;
}

int
rm_conf_group(const char *name, gid_t *gid)
{
	struct group *gr;
	char *end;
	unsigned long n;

	if ((gr = getgrnam(name)) != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	n = strtoul(name, &end, 10);
	if (*name < '0' || *name > '9' || *end != '\0' || errno != 0 ||
	    n != (unsigned long)(gid_t)n)
		return -1;
	*gid = (gid_t)n;
	return 0;
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

/* conf_read - text, or the file path when text is NULL */
static struct rm_conf *
conf_read(const char *path, const char *text, char *errbuf, size_t errlen)
{
	struct conf_ctx cx;
	config_t cfg;
	int rc;
	FILE *fp;

	if (text == NULL) {
		/* open it first: libconfig's I/O error says nothing */
		if ((fp = fopen(path, "r")) == NULL) {
			snprintf(errbuf, errlen, "%s: cannot open: %s", path,
			         strerror(errno));
			return NULL;
		}
		fclose(fp);
	}
	memset(&cx, 0, sizeof(cx));
	cx.cx_path = path;
	cx.cx_err = errbuf;
	cx.cx_errlen = errlen;
	if ((cx.cx_conf = rm_conf_new(path)) == NULL) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		return NULL;
	}
	cx.cx_profile = &cx.cx_conf->cf_top;
	config_init(&cfg);
	rc = text == NULL ? config_read_file(&cfg, path)
	                  : config_read_string(&cfg, text);
	if (rc != CONFIG_TRUE)
		snprintf(errbuf, errlen, "%s:%d: %s",
		         config_error_file(&cfg) ? config_error_file(&cfg)
		                                 : path,
		         config_error_line(&cfg), config_error_text(&cfg));
	if (rc != CONFIG_TRUE ||
	    conf_settings(&cx, config_root_setting(&cfg)) != 0) {
		config_destroy(&cfg);
		rm_conf_free(cx.cx_conf);
		return NULL;
	}
	config_destroy(&cfg);
	return cx.cx_conf;
}

struct rm_conf *
rm_conf_read(const char *path, char *errbuf, size_t errlen)
{
	return conf_read(path, NULL, errbuf, errlen);
}

struct rm_conf *
rm_conf_read_string(const char *text, const char *name, char *errbuf,
                    size_t errlen)
{
	return conf_read(name != NULL ? name : "-", text, errbuf, errlen);
}
