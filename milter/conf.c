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
#include <grp.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <libconfig.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "relaymilter/conf.h"
#include "relaymilter/domset.h"
#include "relaymilter/ip.h"
#include "relaymilter/ldapconf.h"
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
	const char *cx_listener;    /* inside listeners.NAME, or NULL */
	int cx_no_ifaddrs;          /* our_interface_addresses = false */
};

#define CONF_GROUP_OR_LIST 100 /* a ck_type: a group or a list */

typedef int conf_handler(struct conf_ctx *, const config_setting_t *);

struct conf_key {
	const char *ck_name;
	int ck_type; /* CONFIG_TYPE_*, CONFIG_TYPE_ARRAY for any list, or
	                CONF_GROUP_OR_LIST */
	conf_handler *ck_fn;
	const char *ck_what; /* for type errors */
	int ck_list;         /* conf_list: the enum rm_list_id */
	int ck_in_listener;  /* allowed inside listeners.NAME too */
};

static conf_handler conf_ldap;
static conf_handler conf_socket, conf_socket_mode, conf_socket_group,
    conf_pid_file, conf_log_level, conf_replies, conf_mode_key,
    conf_require_auth, conf_checks_key, conf_list, conf_sender_logins,
    conf_factlists, conf_listeners, conf_our_addresses, conf_our_ifaddrs;

#define LIST  "a list of strings"
#define GROUP "a group { ... }"
static const struct conf_key conf_keys[] = {
    {"socket", CONFIG_TYPE_STRING, conf_socket, "a string", -1, 0},
    {"socket_mode", CONFIG_TYPE_STRING, conf_socket_mode,
     "an octal string such as \"0660\"", -1, 0},
    {"socket_group", CONFIG_TYPE_STRING, conf_socket_group, "a string", -1, 0},
    {"pid_file", CONFIG_TYPE_STRING, conf_pid_file, "a string", -1, 0},
    {"log_level", CONFIG_TYPE_STRING, conf_log_level, "a string", -1, 0},
    {"sender_logins", CONF_GROUP_OR_LIST, conf_sender_logins,
     "a group { login = [ ... ]; } or a list ( { login = \"...\"; "
     "senders = [ ... ]; } )",
     RM_L_SENDER_LOGINS, 1},
    {"exceptions", CONFIG_TYPE_GROUP, conf_factlists, GROUP, -1, 1},
    {"deny", CONFIG_TYPE_GROUP, conf_factlists, GROUP, -1, 1},
    {"replies", CONFIG_TYPE_GROUP, conf_replies, GROUP, -1, 0},
    {"mode", CONFIG_TYPE_STRING, conf_mode_key, "\"enforce\" or \"monitor\"",
     -1, 1},
    {"require_auth", CONFIG_TYPE_BOOL, conf_require_auth, "true or false", -1,
     1},
    {"checks", CONFIG_TYPE_GROUP, conf_checks_key, GROUP, -1, 1},
    {"listeners", CONFIG_TYPE_GROUP, conf_listeners, GROUP, -1, 0},
    {"ldap", CONFIG_TYPE_GROUP, conf_ldap, GROUP, -1, 0},
    {"our_addresses", CONFIG_TYPE_ARRAY, conf_our_addresses, LIST, -1, 0},
    {"our_interface_addresses", CONFIG_TYPE_BOOL, conf_our_ifaddrs,
     "true or false", -1, 0},
};
#undef LIST
#undef GROUP

static int conf_lifts(struct conf_ctx *, const config_setting_t *, const char *,
                      unsigned *);
static int conf_type_ok(const struct conf_key *, const config_setting_t *);

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
	return conf_set_str(cx, s, &cx->cx_rs->rs_socket, v);
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
	cx->cx_rs->rs_socket_mode = (int)m;
	return 0;
}

/* conf_socket_group - a group that exists: name or number. */
static int
conf_socket_group(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);
	gid_t gid;

	if (rm_conf_group(v, &gid) != 0)
		return conf_error(cx, s, "socket_group \"%s\": no such group",
		                  v);
	return conf_set_str(cx, s, &cx->cx_rs->rs_socket_group, v);
}

static int
conf_pid_file(struct conf_ctx *cx, const config_setting_t *s)
{
	const char *v = config_setting_get_string(s);

	if (*v != '/')
		return conf_error(cx, s, "pid_file \"%s\": must be absolute",
		                  v);
	return conf_set_str(cx, s, &cx->cx_rs->rs_pid_file, v);
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

/* our_addresses - this server's other addresses: strings, file:line */
static int
conf_our_addresses(struct conf_ctx *cx, const config_setting_t *s)
{
	const config_setting_t *el, *w;
	const char *v;
	char origin[600], err[200];
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
		snprintf(origin, sizeof(origin), "%s:%u",
		         w && config_setting_source_file(w)
		             ? config_setting_source_file(w)
		             : cx->cx_path,
		         w ? config_setting_source_line(w) : 0);
		if (rm_ruleset_add_our_address(cx->cx_rs, v, origin, false, err,
		                               sizeof(err)) != 0)
			return conf_error(cx, w, "our_addresses: \"%s\": %s", v,
			                  err);
	}
	return 0;
}

static int
conf_our_ifaddrs(struct conf_ctx *cx, const config_setting_t *s)
{
	cx->cx_no_ifaddrs = !config_setting_get_bool(s);
	return 0;
}

/*
 * conf_interfaces - the addresses of this machine's interfaces, as Sendmail
 * puts them in class w and Postfix in inet_interfaces = all: literals of
 * them are ours.  A machine whose interfaces cannot be read has only
 * our_addresses (logged by the caller's warnings).
 */
static void
conf_interfaces(struct rm_ruleset *rs)
{
	struct ifaddrs *ifa, *i;
	struct rm_ip ip;
	char text[64], origin[64], err[128];

	if (getifaddrs(&ifa) != 0) {
		rm_ruleset_warn(rs, "our_interface_addresses: cannot read the "
		                    "interface addresses; list them in "
		                    "our_addresses");
		return;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			memset(&ip, 0, sizeof(ip));
			ip.ip_b[10] = ip.ip_b[11] = 0xff;
			memcpy(&ip.ip_b[12],
			       &((const struct sockaddr_in *)(const void *)
			             i->ifa_addr)
			            ->sin_addr,
			       4);
		} else if (i->ifa_addr->sa_family == AF_INET6)
			memcpy(ip.ip_b,
			       &((const struct sockaddr_in6 *)(const void *)
			             i->ifa_addr)
			            ->sin6_addr,
			       16);
		else
			continue;
		snprintf(origin, sizeof(origin), "interface:%s", i->ifa_name);
		rm_ruleset_add_our_address(
		    rs, rm_ip_format(&ip, text, sizeof(text)), origin, true,
		    err, sizeof(err));
	}
	freeifaddrs(ifa);
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
	*tmp = (struct conf_key){rm_list_name(l),
	                         CONFIG_TYPE_ARRAY,
	                         conf_list,
	                         "a list of strings",
	                         l,
	                         1};
	return tmp;
}

/* conf_add - one entry through the ruleset builder; file:line errors. */
static int
conf_add(struct conf_ctx *cx, const config_setting_t *el, int list,
         const char *value, const char *owner, unsigned lifts,
         const char *reply)
{
	const config_setting_t *w = conf_where(el);
	const char *file = w ? config_setting_source_file(w) : NULL;
	struct rm_entry_spec sp;
	char origin[600], err[200];

	snprintf(origin, sizeof(origin), "%s:%u", file ? file : cx->cx_path,
	         w ? config_setting_source_line(w) : 0);
	memset(&sp, 0, sizeof(sp));
	sp.es_list = (enum rm_list_id)list;
	sp.es_value = value;
	sp.es_owner = owner;
	sp.es_listener = cx->cx_listener;
	sp.es_lifts = lifts;
	sp.es_reply = reply;
	sp.es_origin = origin;
	if (rm_ruleset_add(cx->cx_rs, &sp, err, sizeof(err)) == 0)
		return 0;
	if (cx->cx_listener != NULL)
		return conf_error(cx, w, "listeners.%s.%s: \"%s\": %s",
		                  cx->cx_listener, rm_list_name(list), value,
		                  err);
	return conf_error(cx, w, "%s: \"%s\": %s", rm_list_name(list), value,
	                  err);
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
			if (conf_add(cx, el, list,
			             config_setting_get_string(el), owner, 0,
			             NULL) != 0)
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
		if (conf_add(cx, el, list, config_setting_get_string(m), owner,
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

/* ---- ldap = { ... } ---------------------------------------------------- */

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

static int
ldap_senders(struct conf_ctx *cx, const config_setting_t *g,
             struct rm_ldap_senders *ls)
{
	const config_setting_t *el;
	const char *k;
	int i, n = config_setting_length(g), v;

	ls->ls_ttl = 300;
	ls->ls_negative_ttl = 60;
	ls->ls_cache_size = 10000;
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(g, (unsigned)i);
		k = config_setting_name(el);
		if (strcmp(k, "base") == 0) {
			if (ldap_str(cx, el, &ls->ls_base) != 0)
				return -1;
		} else if (strcmp(k, "filter") == 0) {
			if (ldap_str(cx, el, &ls->ls_filter) != 0)
				return -1;
		} else if (strcmp(k, "attrs") == 0) {
			if (ldap_strs(cx, el, &ls->ls_attrs, &ls->ls_nattrs) !=
			    0)
				return -1;
		} else if (strcmp(k, "group_filter") == 0) {
			if (ldap_str(cx, el, &ls->ls_group_filter) != 0)
				return -1;
		} else if (strcmp(k, "group_attr") == 0) {
			if (ldap_str(cx, el, &ls->ls_group_attr) != 0)
				return -1;
		} else if (strcmp(k, "ttl") == 0) {
			if (ldap_int(cx, el, 0, 86400, &ls->ls_ttl) != 0)
				return -1;
		} else if (strcmp(k, "negative_ttl") == 0) {
			if (ldap_int(cx, el, 0, 86400, &ls->ls_negative_ttl) !=
			    0)
				return -1;
		} else if (strcmp(k, "cache_size") == 0) {
			if (ldap_int(cx, el, 0, 10000000, &v) != 0)
				return -1;
			ls->ls_cache_size = (size_t)v;
		} else
			return conf_error(
			    cx, el, "ldap.senders: unknown setting \"%s\"", k);
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

static int
conf_ldap(struct conf_ctx *cx, const config_setting_t *g)
{
	struct rm_ldap_conf *lc;
	const config_setting_t *el, *w = conf_where(g);
	const char *k;
	char origin[600];
	int i, n = config_setting_length(g), l, have_lists = 0;
	size_t u;

	if ((lc = rm_ldap_conf_new()) == NULL)
		return conf_error(cx, g, "out of memory");
	rm_ldap_conf_free(cx->cx_rs->rs_ldap);
	cx->cx_rs->rs_ldap = lc;
	lc->lc_timeout = 3;
	lc->lc_refresh = 60;
	snprintf(origin, sizeof(origin), "%s:%u", cx->cx_path,
	         w ? config_setting_source_line(w) : 0);
	if ((lc->lc_origin = strdup(origin)) == NULL)
		return conf_error(cx, g, "out of memory");
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(g, (unsigned)i);
		k = config_setting_name(el);
		if (strcmp(k, "uri") == 0) {
			if (ldap_strs(cx, el, &lc->lc_uris, &lc->lc_nuris) != 0)
				return -1;
		} else if (strcmp(k, "base") == 0) {
			if (ldap_str(cx, el, &lc->lc_base) != 0)
				return -1;
		} else if (strcmp(k, "bind_dn") == 0) {
			if (ldap_str(cx, el, &lc->lc_bind_dn) != 0)
				return -1;
		} else if (strcmp(k, "bind_password_file") == 0) {
			if (ldap_str(cx, el, &lc->lc_bind_password_file) != 0)
				return -1;
		} else if (strcmp(k, "ca_file") == 0) {
			if (ldap_str(cx, el, &lc->lc_ca_file) != 0)
				return -1;
		} else if (strcmp(k, "cache_file") == 0) {
			if (ldap_str(cx, el, &lc->lc_cache_file) != 0)
				return -1;
		} else if (strcmp(k, "starttls") == 0) {
			if (config_setting_type(el) != CONFIG_TYPE_BOOL)
				return conf_error(
				    cx, el,
				    "ldap.starttls: expected true "
				    "or false");
			lc->lc_starttls = config_setting_get_bool(el);
		} else if (strcmp(k, "timeout") == 0) {
			if (ldap_int(cx, el, 1, 60, &lc->lc_timeout) != 0)
				return -1;
		} else if (strcmp(k, "refresh") == 0) {
			if (ldap_int(cx, el, 1, 86400, &lc->lc_refresh) != 0)
				return -1;
		} else if (strcmp(k, "lists") == 0 &&
		           config_setting_type(el) == CONFIG_TYPE_GROUP) {
			have_lists = 1;
			for (l = 0; l < config_setting_length(el); l++) {
				const config_setting_t *m =
				    config_setting_get_elem(el, (unsigned)l);
				int id = rm_list_lookup(config_setting_name(m));

				if (id < 0 ||
				    config_setting_type(m) != CONFIG_TYPE_GROUP)
					return conf_error(
					    cx, m,
					    "ldap.lists: \"%s\": expected a "
					    "list name = { filter = ...; attr "
					    "= ...; }",
					    config_setting_name(m));
				if (ldap_map(cx, m, &lc->lc_maps[id]) != 0)
					return -1;
			}
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
		rp->rp_check[ck] = m;
	}
	return 0;
}

/* raw_of - the raw profile being read: a listener's, or the top level. */
static struct raw_profile *
raw_of(struct conf_ctx *cx)
{
	return cx->cx_listener ? &cx->cx_raw[cx->cx_rs->rs_nprofiles - 1]
	                       : &cx->cx_top;
}

static int
conf_mode_key(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_mode(cx, s, &raw_of(cx)->rp_mode);
}

static int
conf_require_auth(struct conf_ctx *cx, const config_setting_t *s)
{
	raw_of(cx)->rp_require_auth = config_setting_get_bool(s);
	return 0;
}

static int
conf_checks_key(struct conf_ctx *cx, const config_setting_t *s)
{
	return conf_checks(cx, s, raw_of(cx));
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
	const config_setting_t *el, *w;
	struct raw_profile *rp;
	char origin[600];
	size_t before;
	int i, n = config_setting_length(s), rc;

	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		w = conf_where(el);
		if (config_setting_type(el) != CONFIG_TYPE_GROUP)
			return conf_error(
			    cx, el, "listeners.%s: expected a group { ... }",
			    config_setting_name(el));
		snprintf(origin, sizeof(origin), "%s:%u", cx->cx_path,
		         w ? config_setting_source_line(w) : 0);
		before = cx->cx_rs->rs_nprofiles;
		if (rm_ruleset_add_profile(cx->cx_rs, config_setting_name(el),
		                           origin) == NULL)
			return conf_error(cx, el, "out of memory");
		if (cx->cx_rs->rs_nprofiles == before)
			return conf_error(cx, el,
			                  "listeners.%s: defined twice (names "
			                  "match without regard to case)",
			                  config_setting_name(el));
		rp = realloc(cx->cx_raw,
		             cx->cx_rs->rs_nprofiles * sizeof(*cx->cx_raw));
		if (rp == NULL)
			return conf_error(cx, el, "out of memory");
		cx->cx_raw = rp;
		raw_init(&cx->cx_raw[cx->cx_rs->rs_nprofiles - 1]);
		cx->cx_listener = cx->cx_rs->rs_profiles[before]->pf_name;
		rc = conf_settings(cx, el);
		cx->cx_listener = NULL;
		if (rc != 0)
			return -1;
	}
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

/* policy_empty - no destination we accept mail for, anywhere. */
static int
policy_empty(const struct rm_ruleset *rs)
{
	const struct rm_lists *l = &rs->rs_lists;
	size_t i, n;

	n = rm_domset_count(l->l_hostnames) +
	    rm_domset_count(l->l_local_domains) +
	    rm_domset_count(l->l_relay_domains);
	for (i = 0; i < rs->rs_nprofiles; i++)
		if ((l = rs->rs_profiles[i]->pf_lists) != NULL)
			n += rm_domset_count(l->l_hostnames) +
			     rm_domset_count(l->l_local_domains) +
			     rm_domset_count(l->l_relay_domains);
	return n == 0;
}

/*
 * conf_build - compile text, or the file path when text is NULL.  path
 * names the text in errors and origins.
 */
static struct rm_ruleset *
conf_build(const char *path, const char *text, rm_conf_extra *extra, void *arg,
           char *errbuf, size_t errlen)
{
	struct conf_ctx cx;
	config_t cfg;
	size_t j;
	int ok = 0, rc;
	FILE *fp;

	memset(&cx, 0, sizeof(cx));
	cx.cx_path = path;
	cx.cx_err = errbuf;
	cx.cx_errlen = errlen;
	if (text == NULL) {
		/* open it first: libconfig's I/O error says nothing */
		if ((fp = fopen(path, "r")) == NULL) {
			snprintf(errbuf, errlen, "%s: cannot open: %s", path,
			         strerror(errno));
			return NULL;
		}
		fclose(fp);
	}
	config_init(&cfg);
	rc = text == NULL ? config_read_file(&cfg, path)
	                  : config_read_string(&cfg, text);
	if (rc != CONFIG_TRUE) {
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
	if (conf_settings(&cx, config_root_setting(&cfg)) != 0)
		goto out;
	resolve(&cx.cx_rs->rs_top, &cx.cx_top, &cx.cx_top);
	for (j = 0; j < cx.cx_rs->rs_nprofiles; j++)
		resolve(cx.cx_rs->rs_profiles[j], &cx.cx_raw[j], &cx.cx_top);
	if (!cx.cx_no_ifaddrs)
		conf_interfaces(cx.cx_rs);
	if (extra != NULL && extra(arg, cx.cx_rs, errbuf, errlen) != 0)
		goto out;
	/* with LDAP, the domains may all come from the directory */
	if (cx.cx_rs->rs_ldap == NULL && policy_empty(cx.cx_rs)) {
		conf_error(
		    &cx, NULL,
		    "empty policy: name the domains we accept mail for in "
		    "hostnames, local_domains or relay_domains");
		goto out;
	}
	if (rm_ruleset_finish(cx.cx_rs) != 0) {
		conf_error(&cx, NULL, "out of memory");
		goto out;
	}
	ok = 1;
out:
	config_destroy(&cfg);
	free(cx.cx_raw);
#ifdef __GLIBC__
	/*
	 * libconfig's tree of a big file lies below the new ruleset in the
	 * heap, so freeing it shrinks nothing: hand those pages back.
	 */
	malloc_trim(0);
#endif
	if (!ok) {
		rm_ruleset_release(cx.cx_rs);
		return NULL;
	}
	return cx.cx_rs;
}

struct rm_ruleset *
rm_conf_build(const char *path, rm_conf_extra *extra, void *arg, char *errbuf,
              size_t errlen)
{
	return conf_build(path, NULL, extra, arg, errbuf, errlen);
}

struct rm_ruleset *
rm_conf_load(const char *path, char *errbuf, size_t errlen)
{
	return conf_build(path, NULL, NULL, NULL, errbuf, errlen);
}

struct rm_ruleset *
rm_conf_load_string(const char *text, const char *name, char *errbuf,
                    size_t errlen)
{
	return conf_build(name != NULL ? name : "-", text, NULL, NULL, errbuf,
	                  errlen);
}
