/*
 * ruleset.c - lifetime of a compiled ruleset and its entries.
 *
 * A ruleset owns its sets and every entry they tag.  The reference count
 * is atomic so that sessions can drop their pin without taking the
 * snapshot lock; the last release frees everything.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relaymilter/ruleset.h"

const struct rm_check_def rm_check_defs[RM_CK__COUNT] = {
    [RM_CK_REQUIRE_AUTH] = {"require_auth", RM_R_REQUIRE_AUTH, 0},
    [RM_CK_DENY] = {"deny", RM_R_DENY_CLIENT, 1},
    [RM_CK_SENDER_LOGIN] = {"sender_login", RM_R_SENDER_LOGIN, 1},
    [RM_CK_LOCAL_SENDER_SPOOF] = {"local_sender_spoof", RM_R_LOCAL_SENDER_SPOOF,
                                  1},
    [RM_CK_HELO_SPOOF] = {"helo_spoof", RM_R_HELO_SPOOF, 1},
    [RM_CK_UNLICENSED_SENDER] = {"unlicensed_sender", RM_R_UNLICENSED_SENDER,
                                 1},
    [RM_CK_MAX_RECIPIENTS] = {"max_recipients", RM_R_MAX_RECIPIENTS, 1},
    [RM_CK_LIMITS] = {"limits", RM_R_LIMIT, 1},
    [RM_CK_LOGIN_NETWORK] = {"login_network", RM_R_LOGIN_NETWORK, 1},
    [RM_CK_HEADER_FROM] = {"header_from", RM_R_HEADER_FROM, 1},
};

const char *
rm_check_known(int in_checks, char *buf, size_t len)
{
	size_t n = 0;
	int ck;

	buf[0] = '\0';
	for (ck = 0; ck < RM_CK__COUNT; ck++)
		if (!in_checks || rm_check_defs[ck].cd_in_checks)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0,
			                      "%s%s", n ? ", " : "",
			                      rm_check_defs[ck].cd_name);
	return buf;
}

/*
 * rm_duration_parse - "90s", "10m", "1h", "1d" (or bare seconds) into
 * *out; 0, or -1 when it is none of those, zero or over max.
 */
int
rm_duration_parse(const char *v, unsigned max, unsigned *out)
{
	unsigned long n, mul = 1;
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (n == 0 || n > max / mul)
		return -1;
	*out = (unsigned)(n * mul);
	return 0;
}

/*
 * The replies and their defaults; the config's "replies" overrides them
 * but must keep the class (a refusal stays 5xx, a failure 4xx).  The texts
 * say what happened and what to do; {name} expands at run time.
 */
const struct rm_reply_def rm_reply_defs[RM_R__COUNT] = {
    [RM_R_RELAY_DENIED] =
        {"relay_denied",
         "550 5.7.1 Relaying denied: this server accepts mail only for "
         "its own domains; to send elsewhere, authenticate (submission "
         "port 587)",
         RM_REJECT},
    [RM_R_TEMPFAIL] =
        {"tempfail",
         "451 4.3.0 Temporary policy failure, please try again later",
         RM_TEMPFAIL},
    [RM_R_REQUIRE_AUTH] = {"require_auth",
                           "530 5.7.0 Authentication required: log in "
                           "(SMTP AUTH) before sending on this port",
                           RM_REJECT},
    [RM_R_UNLICENSED_SENDER] = {"unlicensed_sender",
                                "553 5.7.1 <{sender}>: not authorised to "
                                "use this service when sending from this "
                                "address",
                                RM_REJECT},
    [RM_R_SENDER_LOGIN] = {"sender_login",
                           "553 5.7.1 <{sender}>: Sender address rejected: "
                           "not owned by user {login}",
                           RM_REJECT},
    [RM_R_LOCAL_SENDER_SPOOF] = {"local_sender_spoof",
                                 "553 5.7.1 <{sender}>: Sender address "
                                 "rejected: our domain may only be used "
                                 "after authentication (submission port "
                                 "587)",
                                 RM_REJECT},
    [RM_R_HELO_SPOOF] = {"helo_spoof",
                         "550 5.7.1 <{helo}>: Helo command rejected: that "
                         "is our name; greet with your own host name",
                         RM_REJECT},
    [RM_R_BAD_SENDER] = {"bad_sender",
                         "553 5.1.7 Sender address rejected: malformed "
                         "address",
                         RM_REJECT},
    [RM_R_DENY_CLIENT] = {"deny_client",
                          "554 5.7.1 Client host rejected: access denied",
                          RM_REJECT},
    [RM_R_DENY_HELO] = {"deny_helo",
                        "550 5.7.1 <{helo}>: Helo command rejected: access "
                        "denied",
                        RM_REJECT},
    [RM_R_DENY_SENDER] = {"deny_sender",
                          "553 5.7.1 <{sender}>: Sender address rejected: "
                          "access denied",
                          RM_REJECT},
    [RM_R_DENY_RECIPIENT] = {"deny_recipient",
                             "550 5.7.1 <{rcpt}>: Recipient address "
                             "rejected: access denied",
                             RM_REJECT},
    /* the login is in the log line, never in the reply */
    [RM_R_DENY_LOGIN] = {"deny_login",
                         "550 5.7.1 This account may not send mail; "
                         "contact the administrator",
                         RM_REJECT},
    /* RFC 5321 4.5.3.1.10: the client sends the rest in a new message */
    [RM_R_MAX_RECIPIENTS] = {"max_recipients",
                             "452 4.5.3 Too many recipients for one "
                             "message; send the rest in another message",
                             RM_TEMPFAIL},
    [RM_R_LIMIT] = {"limit", "451 4.7.1 Sending limit reached; try again later",
                    RM_TEMPFAIL},
    /* the login is in the log line, never in the reply */
    [RM_R_LOGIN_NETWORK] = {"login_network",
                            "550 5.7.1 Relaying denied: this account may "
                            "not send from this network; contact the "
                            "administrator",
                            RM_REJECT},
    [RM_R_HEADER_FROM] = {"header_from",
                          "550 5.7.1 Message rejected: the From: header "
                          "is not an address of user {login}; write your "
                          "own address in From:",
                          RM_REJECT},
    /* header_from_sessions = "all": an outsider names a domain of ours */
    [RM_R_HEADER_FROM_SPOOF] = {"header_from_spoof",
                                "550 5.7.1 Message rejected: the From: "
                                "header names a domain of ours; our users "
                                "send after authentication (submission "
                                "port 587)",
                                RM_REJECT},
};

const char *const rm_limit_key_names[RM_LK__COUNT] = {
    [RM_LK_LOGIN] = "login",
    [RM_LK_CLIENT] = "client",
    [RM_LK_SENDER] = "sender",
    [RM_LK_SENDER_DOMAIN] = "sender_domain",
};

const char *
rm_duration_format(unsigned secs, char *buf, size_t len)
{
	static const struct {
		unsigned u_secs;
		char u_c;
	} units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (secs >= units[i].u_secs && secs % units[i].u_secs == 0) {
			snprintf(buf, len, "%u%c", secs / units[i].u_secs,
			         units[i].u_c);
			return buf;
		}
	snprintf(buf, len, "%us", secs);
	return buf;
}

const char *
rm_limit_describe(const struct rm_limit *lm, char *buf, size_t len)
{
	char per[32];
	size_t n = 0;

	buf[0] = '\0';
	if (lm->lm_messages)
		n +=
		    (size_t)snprintf(buf, len, "%lu messages", lm->lm_messages);
	if (lm->lm_recipients && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%s%lu recipients",
		                      n ? ", " : "", lm->lm_recipients);
	if (n < len)
		snprintf(buf + n, len - n, "/%s",
		         rm_duration_format(lm->lm_per, per, sizeof(per)));
	return buf;
}

const char *
rm_limit_applies(const struct rm_limit *lm, bool monitored, char *buf,
                 size_t len)
{
	char what[96], lock[32];

	snprintf(buf, len, "%s applies: %s by %s%s%s%s", lm->lm_name,
	         rm_limit_describe(lm, what, sizeof(what)),
	         rm_limit_key_names[lm->lm_key], lm->lm_lock ? ", lock " : "",
	         lm->lm_lock
	             ? rm_duration_format(lm->lm_lock, lock, sizeof(lock))
	             : "",
	         monitored ? " (monitored)" : "");
	return buf;
}

void
rm_limit_clear(struct rm_limit *lm)
{
	size_t i;

	free(lm->lm_name);
	free(lm->lm_rule);
	free(lm->lm_origin);
	for (i = 0; lm->lm_on_lock != NULL && lm->lm_on_lock[i] != NULL; i++)
		free(lm->lm_on_lock[i]);
	free(lm->lm_on_lock);
	memset(lm, 0, sizeof(*lm));
}

/* dup_or_null - strdup() that keeps NULL; *bad set when out of memory */
static char *
dup_or_null(const char *s, int *bad)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*bad = 1;
	return d;
}

int
rm_limit_copy(struct rm_limit *dst, const struct rm_limit *src)
{
	size_t i, n = 0;
	int bad = 0;

	*dst = *src;
	dst->lm_name = dup_or_null(src->lm_name, &bad);
	dst->lm_rule = dup_or_null(src->lm_rule, &bad);
	dst->lm_origin = dup_or_null(src->lm_origin, &bad);
	dst->lm_on_lock = NULL;
	if (src->lm_on_lock != NULL) {
		while (src->lm_on_lock[n] != NULL)
			n++;
		if ((dst->lm_on_lock = calloc(n + 1, sizeof(char *))) == NULL)
			bad = 1;
		for (i = 0; dst->lm_on_lock != NULL && i < n; i++)
			dst->lm_on_lock[i] =
			    dup_or_null(src->lm_on_lock[i], &bad);
	}
	if (bad) {
		rm_limit_clear(dst);
		return -1;
	}
	return 0;
}

#define SET(m) offsetof(struct rm_lists, m)
const struct rm_list_def rm_list_defs[RM_L__COUNT] = {
    [RM_L_HOSTNAMES] = {"hostnames", RM_KEY_HOST, RM_ROLE_LIST, RM_FACT_NONE, 0,
                        SET(l_hostnames)},
    [RM_L_LOCAL_DOMAINS] = {"local_domains", RM_KEY_DOMAIN, RM_ROLE_LIST,
                            RM_FACT_NONE, 0, SET(l_local_domains)},
    [RM_L_RELAY_DOMAINS] = {"relay_domains", RM_KEY_DOMAIN, RM_ROLE_LIST,
                            RM_FACT_NONE, 0, SET(l_relay_domains)},
    [RM_L_TRUSTED_NETWORKS] = {"trusted_networks", RM_KEY_NET, RM_ROLE_LIST,
                               RM_FACT_NONE, 0, SET(l_trusted)},
    [RM_L_LICENSED_SENDERS] = {"licensed_senders", RM_KEY_ADDR, RM_ROLE_LIST,
                               RM_FACT_NONE, 1, SET(l_licensed)},
    [RM_L_SENDER_LOGINS] = {"sender_logins", RM_KEY_ADDR, RM_ROLE_OWNED,
                            RM_FACT_NONE, 1, SET(l_sender_logins)},
    [RM_L_EXC_CLIENTS] = {"exceptions.clients", RM_KEY_NET, RM_ROLE_EXCEPTION,
                          RM_FACT_CLIENT, 0, SET(l_exceptions.fs_clients)},
    [RM_L_EXC_HELO] = {"exceptions.helo", RM_KEY_DOMAIN, RM_ROLE_EXCEPTION,
                       RM_FACT_HELO, 0, SET(l_exceptions.fs_helo)},
    [RM_L_EXC_SENDERS] = {"exceptions.senders", RM_KEY_ADDR, RM_ROLE_EXCEPTION,
                          RM_FACT_SENDER, 1, SET(l_exceptions.fs_senders)},
    [RM_L_EXC_RECIPIENTS] = {"exceptions.recipients", RM_KEY_ADDR,
                             RM_ROLE_EXCEPTION, RM_FACT_RECIPIENT, 0,
                             SET(l_exceptions.fs_recipients)},
    [RM_L_DENY_CLIENTS] = {"deny.clients", RM_KEY_NET, RM_ROLE_DENY,
                           RM_FACT_CLIENT, 0, SET(l_deny.fs_clients)},
    [RM_L_DENY_HELO] = {"deny.helo", RM_KEY_DOMAIN, RM_ROLE_DENY, RM_FACT_HELO,
                        0, SET(l_deny.fs_helo)},
    [RM_L_DENY_SENDERS] = {"deny.senders", RM_KEY_ADDR, RM_ROLE_DENY,
                           RM_FACT_SENDER, 0, SET(l_deny.fs_senders)},
    [RM_L_DENY_RECIPIENTS] = {"deny.recipients", RM_KEY_ADDR, RM_ROLE_DENY,
                              RM_FACT_RECIPIENT, 0, SET(l_deny.fs_recipients)},
    [RM_L_EXC_LOGINS] = {"exceptions.logins", RM_KEY_LOGIN, RM_ROLE_EXCEPTION,
                         RM_FACT_LOGIN, 0, SET(l_exceptions.fs_logins)},
    [RM_L_DENY_LOGINS] = {"deny.logins", RM_KEY_LOGIN, RM_ROLE_DENY,
                          RM_FACT_LOGIN, 0, SET(l_deny.fs_logins)},
    [RM_L_LOGIN_NETWORKS] = {"login_networks", RM_KEY_LOGIN_NET, RM_ROLE_OWNED,
                             RM_FACT_NONE, 0, SET(l_login_nets)},
};
#undef SET

int
rm_list_lookup(const char *name)
{
	int i;

	for (i = 0; i < RM_L__COUNT; i++)
		if (strcmp(name, rm_list_defs[i].ld_name) == 0)
			return i;
	return -1;
}

/* list_set - where list id's set lives in l */
static void **
list_set(const struct rm_lists *l, int id)
{
	return (void **)((char *)(uintptr_t)l + rm_list_defs[id].ld_set);
}

static void
lists_free(struct rm_lists *l)
{
	int i;

	for (i = 0; i < RM_L__COUNT; i++) {
		void *set = *list_set(l, i);

		switch (rm_list_defs[i].ld_key) {
		case RM_KEY_HOST:
		case RM_KEY_DOMAIN:
			rm_domset_free(set);
			break;
		case RM_KEY_NET:
			rm_ipset_free(set);
			break;
		case RM_KEY_ADDR:
			rm_addrset_free(set);
			break;
		case RM_KEY_LOGIN:
			rm_strset_free(set);
			break;
		case RM_KEY_LOGIN_NET:
			rm_netowners_free(set);
			break;
		}
	}
	rm_addrset_free(l->l_sender_known);
	rm_addrset_free(l->l_login_addrs);
}

/*
 * lists_make - l's sets: new and empty, or (base not NULL) layers over
 * base's; -1 out of memory
 */
static int
lists_make(struct rm_lists *l, const struct rm_lists *base)
{
	void **set;
	void *b;
	int i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < RM_L__COUNT; i++) {
		set = list_set(l, i);
		b = base != NULL ? *list_set(base, i) : NULL;
		switch (rm_list_defs[i].ld_key) {
		case RM_KEY_HOST:
		case RM_KEY_DOMAIN:
			*set = b ? rm_domset_layer(b) : rm_domset_new();
			break;
		case RM_KEY_NET:
			*set = b ? rm_ipset_layer(b) : rm_ipset_new();
			break;
		case RM_KEY_ADDR:
			*set = b ? rm_addrset_layer(b) : rm_addrset_new();
			break;
		case RM_KEY_LOGIN:
			*set = b ? rm_strset_layer(b) : rm_strset_new();
			break;
		case RM_KEY_LOGIN_NET:
			*set = b ? rm_netowners_layer(b) : rm_netowners_new();
			break;
		}
		if (*set == NULL) {
			lists_free(l);
			return -1;
		}
	}
	l->l_sender_known =
	    base ? rm_addrset_layer(base->l_sender_known) : rm_addrset_new();
	l->l_login_addrs =
	    base ? rm_addrset_layer(base->l_login_addrs) : rm_addrset_new();
	if (l->l_sender_known == NULL || l->l_login_addrs == NULL) {
		lists_free(l);
		return -1;
	}
	return 0;
}

/* lists_finish - index the sets (and end their layers) */
static int
lists_finish(struct rm_lists *l)
{
	int i, rc = 0;

	for (i = 0; i < RM_L__COUNT && rc == 0; i++)
		switch (rm_list_defs[i].ld_key) {
		case RM_KEY_HOST:
		case RM_KEY_DOMAIN:
			rc = rm_domset_finish(*list_set(l, i));
			break;
		case RM_KEY_NET:
			rc = rm_ipset_finish(*list_set(l, i));
			break;
		case RM_KEY_LOGIN:
			rc = rm_strset_finish(*list_set(l, i));
			break;
		case RM_KEY_LOGIN_NET:
			rc = rm_netowners_finish(*list_set(l, i));
			break;
		case RM_KEY_ADDR:
			rc = rm_addrset_finish(*list_set(l, i));
			break;
		}
	if (rc == 0)
		rc = rm_addrset_finish(l->l_sender_known) |
		     rm_addrset_finish(l->l_login_addrs);
	return rc != 0 ? -1 : 0;
}

int
rm_check_lookup(const char *name)
{
	int i;

	for (i = 0; i < RM_CK__COUNT; i++)
		if (strcmp(name, rm_check_defs[i].cd_name) == 0)
			return i;
	return -1;
}

const struct rm_profile *
rm_ruleset_profile(const struct rm_ruleset *rs, const char *listener)
{
	size_t i;

	if (listener != NULL)
		for (i = 0; i < rs->rs_nprofiles; i++)
			if (strcasecmp(rs->rs_profiles[i]->pf_name, listener) ==
			    0)
				return rs->rs_profiles[i];
	return &rs->rs_top;
}

const struct rm_reply *
rm_profile_reply(const struct rm_ruleset *rs, const struct rm_profile *pf,
                 int id)
{
	return pf != NULL && pf->pf_replies != NULL ? &pf->pf_replies[id]
	                                            : &rs->rs_replies[id];
}

/* profile_free - a listener's profile and what it owns (NULL: nothing) */
static void
profile_free(struct rm_profile *pf)
{
	if (pf == NULL)
		return;
	if (pf->pf_lists != NULL) {
		lists_free(pf->pf_lists);
		free(pf->pf_lists);
	}
	free(pf->pf_name);
	free(pf->pf_origin);
	free(pf->pf_replies);
	free(pf);
}

struct rm_profile *
rm_ruleset_add_profile(struct rm_ruleset *rs, const char *name,
                       const char *origin)
{
	struct rm_profile *pf, **v;
	size_t i;

	for (i = 0; i < rs->rs_nprofiles; i++)
		if (strcasecmp(rs->rs_profiles[i]->pf_name, name) == 0)
			return rs->rs_profiles[i];
	if ((v = realloc(rs->rs_profiles,
	                 (rs->rs_nprofiles + 1) * sizeof(*v))) == NULL)
		return NULL;
	rs->rs_profiles = v;
	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		return NULL;
	memcpy(pf->pf_check, rs->rs_top.pf_check, sizeof(pf->pf_check));
	pf->pf_limits = rs->rs_top.pf_limits;
	pf->pf_max_rcpts = rs->rs_top.pf_max_rcpts;
	pf->pf_auth_relay = rs->rs_top.pf_auth_relay;
	pf->pf_grants = rs->rs_top.pf_grants;
	pf->pf_hdr_all = rs->rs_top.pf_hdr_all;
	pf->pf_name = strdup(name);
	pf->pf_origin = strdup(origin ? origin : "-");
	if (pf->pf_name == NULL || pf->pf_origin == NULL) {
		free(pf->pf_name);
		free(pf->pf_origin);
		free(pf);
		return NULL;
	}
	v[rs->rs_nprofiles++] = pf;
	return pf;
}

/*
 * The arena: blocks of ARENA_BLOCK bytes (or one of its own for anything
 * bigger), carved in order.  A million entries cost a few hundred
 * allocations instead of three million, and no per-allocation overhead.
 */
#define ARENA_BLOCK (256 * 1024)

struct rm_arena {
	struct rm_arena *ar_next;
	size_t ar_used, ar_size;
	max_align_t ar_data[];
};

static void *
arena_alloc(struct rm_arena **ap, size_t n, size_t al)
{
	struct rm_arena *a = *ap, *b;
	size_t size, at = a != NULL ? (a->ar_used + al - 1) / al * al : 0;

	if (a == NULL || a->ar_size < at || a->ar_size - at < n) {
		size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->ar_used = 0;
		b->ar_size = size;
		if (a != NULL && n > ARENA_BLOCK / 4) {
			/* a big one: keep carving the current block */
			b->ar_next = a->ar_next;
			a->ar_next = b;
			b->ar_used = n;
			return b->ar_data;
		}
		b->ar_next = a;
		*ap = a = b;
		at = 0;
	}
	a->ar_used = at + n;
	return (char *)a->ar_data + at;
}

/* strings need no alignment: packed, they take half the room */
static char *
arena_strndup(struct rm_arena **ap, const char *s, size_t n)
{
	char *p = arena_alloc(ap, n + 1, 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void
arena_free(struct rm_arena *a)
{
	struct rm_arena *next;

	for (; a != NULL; a = next) {
		next = a->ar_next;
		free(a);
	}
}

/*
 * origin_line - the line of "file:LINE", or 0 when the origin does not
 * end in one (an LDAP DN).  Only digits that print back the same count,
 * so that where + ":" + line is always the origin as given.
 */
static unsigned
origin_line(const char *o, size_t *wlen)
{
	const char *c = strrchr(o, ':');
	size_t n;
	unsigned line = 0;

	if (c == NULL || c[1] < '1' || c[1] > '9')
		return 0;
	for (n = 1; c[n] != '\0'; n++) {
		if (c[n] < '0' || c[n] > '9' || n > 9)
			return 0;
		line = line * 10 + (unsigned)(c[n] - '0');
	}
	*wlen = (size_t)(c - o);
	return line;
}

const char *
rm_entry_line(const struct rm_entry *e, char buf[RM_LINE_BUF])
{
	if (e->e_line == 0)
		return "";
	snprintf(buf, RM_LINE_BUF, ":%u", e->e_line);
	return buf;
}

/* set_origin - split "file:line"; entries of one file share its name. */
static int
set_origin(struct rm_ruleset *rs, struct rm_entry *e, const char *o)
{
	size_t wlen = strlen(o);
	const char *last = rs->rs_last_where;

	e->e_line = origin_line(o, &wlen);
	if (last != NULL && strncmp(last, o, wlen) == 0 && last[wlen] == '\0')
		e->e_where = last;
	else if ((e->e_where = arena_strndup(&rs->rs_arena, o, wlen)) == NULL)
		return -1;
	rs->rs_last_where = e->e_where;
	return 0;
}

/* new_entry - record an entry (strings copied); NULL when out of memory. */
static struct rm_entry *
new_entry(struct rm_ruleset *rs, const struct rm_entry_spec *sp,
          const char *list)
{
	struct rm_entry *e;

	/* a failure wastes what it carved; the arena goes with the rs */
	if ((e = arena_alloc(&rs->rs_arena, sizeof(*e),
	                     _Alignof(struct rm_entry))) == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->e_list = list;
	e->e_text =
	    arena_strndup(&rs->rs_arena, sp->es_value, strlen(sp->es_value));
	e->e_listener = sp->es_listener
	                    ? arena_strndup(&rs->rs_arena, sp->es_listener,
	                                    strlen(sp->es_listener))
	                    : NULL;
	if (e->e_text == NULL ||
	    set_origin(rs, e, sp->es_origin ? sp->es_origin : "-") != 0 ||
	    (sp->es_listener != NULL && e->e_listener == NULL))
		return NULL;
	rs->rs_nentries++;
	if (sp->es_list < RM_L__COUNT)
		rs->rs_list_entries[sp->es_list]++;
	return e;
}

/* validate - check the pattern for its list, before anything is added. */
static int
validate(const struct rm_entry_spec *sp, struct rm_cidr *cidr,
         struct rm_reply *reply, char *err, size_t errlen)
{
	const struct rm_list_def *ld = &rm_list_defs[sp->es_list];
	const char *v = sp->es_value;

	if (v == NULL) {
		snprintf(err, errlen, "no value");
		return -1;
	}
	switch (ld->ld_key) {
	case RM_KEY_HOST:
		if (v[0] == '.') {
			snprintf(err, errlen,
			         "a host name, not a subtree (put subtrees in "
			         "local_domains)");
			return -1;
		}
		/* FALLTHROUGH */
	case RM_KEY_DOMAIN:
		if (rm_domain_check(v, err, errlen) != 0)
			return -1;
		break;
	case RM_KEY_NET:
	case RM_KEY_LOGIN_NET:
		if (rm_cidr_parse(v, cidr, err, errlen) != 0)
			return -1;
		break;
	case RM_KEY_ADDR:
	case RM_KEY_LOGIN:
		break; /* the set checks it */
	}
	if (ld->ld_role == RM_ROLE_OWNED && sp->es_owner == NULL) {
		snprintf(err, errlen, "no login");
		return -1;
	}
	if (sp->es_reply != NULL) {
		if (ld->ld_role != RM_ROLE_DENY) {
			snprintf(err, errlen, "only deny entries have a reply");
			return -1;
		}
		if (rm_reply_parse(sp->es_reply, reply, err, errlen) != 0)
			return -1;
		if (reply->r_action != RM_REJECT) {
			snprintf(err, errlen, "a deny reply must be 5xx");
			return -1;
		}
	}
	return 0;
}

void
rm_ruleset_warn(struct rm_ruleset *rs, const char *fmt, ...)
{
	char buf[1024], **v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((v = realloc(rs->rs_warnings,
	                 (rs->rs_nwarnings + 1) * sizeof(*v))) == NULL)
		return;
	rs->rs_warnings = v;
	if ((v[rs->rs_nwarnings] = strdup(buf)) != NULL)
		rs->rs_nwarnings++;
}

/*
 * lint_entry - warnings for legal entries that open more than an admin
 * usually means.  A sender exception of a whole domain is judged at
 * finish, when our domains are known.
 */
static void
lint_entry(struct rm_ruleset *rs, const struct rm_entry_spec *sp,
           const struct rm_cidr *cidr, struct rm_entry *e)
{
	const struct rm_list_def *ld = &rm_list_defs[sp->es_list];
	const char *o = sp->es_origin ? sp->es_origin : "-", *l = ld->ld_name;
	struct rm_entry **v;
	unsigned len;

	/* a plain list of networks grants relaying */
	if (ld->ld_key == RM_KEY_NET && ld->ld_role == RM_ROLE_LIST) {
		bool v4 = rm_ip_is_v4(&cidr->c_addr);

		len = v4 ? cidr->c_len - 96 : cidr->c_len;
		if (len == 0)
			rm_ruleset_warn(rs,
			                "%s: %s: \"%s\" lets every %s client "
			                "relay: an open relay",
			                o, l, sp->es_value,
			                v4 ? "IPv4" : "IPv6");
		else if (len < (v4 ? 8u : 32u))
			rm_ruleset_warn(rs,
			                "%s: %s: \"%s\" is wider than /%u: "
			                "every client in it may relay",
			                o, l, sp->es_value, v4 ? 8u : 32u);
	}
	if (ld->ld_grants_sender && sp->es_value[0] == '@' &&
	    strncmp(o, "ldap:", 5) == 0)
		rm_ruleset_warn(
		    rs, "%s: %s: \"%s\" covers every address of %s%s", o, l,
		    sp->es_value,
		    sp->es_value[1] == '.' ? "every subdomain of " : "",
		    sp->es_value + 1 + (sp->es_value[1] == '.'));
	if (ld->ld_role == RM_ROLE_EXCEPTION && ld->ld_fact == RM_FACT_SENDER &&
	    sp->es_value[0] != '\0' && strchr(sp->es_value + 1, '@') == NULL &&
	    (e->e_lifts & RM_LIFT(RM_CK_LOCAL_SENDER_SPOOF)) &&
	    (v = realloc(rs->rs_lint, (rs->rs_nlint + 1) * sizeof(*v))) !=
	        NULL) {
		rs->rs_lint = v;
		v[rs->rs_nlint++] = e;
	}
}

/* ours_in - the name is in l's hostnames or local_domains. */
static bool
ours_in(const struct rm_lists *l, const char *name)
{
	const void *tag;

	return l != NULL && (rm_domset_lookup(l->l_hostnames, name, &tag) ||
	                     rm_domset_lookup(l->l_local_domains, name, &tag));
}

/*
 * lint_finish - a sender exception of a whole domain of ours that lifts
 * local_sender_spoof lets anyone use our domain from anywhere.
 */
static void
lint_finish(struct rm_ruleset *rs)
{
	const struct rm_profile *pf;
	const struct rm_entry *e;
	char child[RM_DOMAIN_MAX + 8], lb[RM_LINE_BUF];
	const char *d;
	size_t i;

	for (i = 0; i < rs->rs_nlint; i++) {
		e = rs->rs_lint[i];
		d = e->e_text + (e->e_text[0] == '@');
		/* ".example.com": example.com's children, probed by one */
		snprintf(child, sizeof(child), "0%s", d);
		pf = e->e_listener ? rm_ruleset_profile(rs, e->e_listener)
		                   : NULL;
		if (d[0] == '.' ? !ours_in(&rs->rs_lists, child) &&
		                      !ours_in(pf ? pf->pf_lists : NULL, child)
		                : !ours_in(&rs->rs_lists, d) &&
		                      !ours_in(pf ? pf->pf_lists : NULL, d))
			continue;
		rm_ruleset_warn(rs,
		                "%s%s: %s: \"%s\" lifts local_sender_spoof for "
		                "a domain of ours: anyone, from anywhere, may "
		                "send as it",
		                e->e_where, rm_entry_line(e, lb), e->e_list,
		                e->e_text);
	}
	free(rs->rs_lint);
	rs->rs_lint = NULL;
	rs->rs_nlint = 0;
}

int
rm_ruleset_add_our_address(struct rm_ruleset *rs, const char *value,
                           const char *origin, bool iface, char *err,
                           size_t errlen)
{
	struct rm_entry_spec sp;
	struct rm_cidr cidr;
	struct rm_entry *e;

	if (rm_cidr_parse(value, &cidr, err, errlen) != 0)
		return -1;
	memset(&sp, 0, sizeof(sp));
	sp.es_value = value;
	sp.es_origin = origin;
	if ((e = new_entry(rs, &sp,
	                   iface ? "interface_addresses" : "our_addresses")) ==
	        NULL ||
	    rm_ipset_add(iface ? rs->rs_if_addrs : rs->rs_our_addrs, &cidr,
	                 e) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->e_lifts = 0;
	return 0;
}

/*
 * reverse_add - a sender_logins entry into the reverse index: its pattern
 * (owned by some login), and its login when that is a plain address
 * (owned by itself under sender_login_implicit).  A login that is no
 * address is not an error: most are not.
 */
static int
reverse_add(struct rm_lists *l, const struct rm_entry_spec *sp,
            const struct rm_entry *e, char *err, size_t errlen)
{
	struct rm_addr a;
	const char *at;

	if (rm_addrset_add(l->l_sender_known, NULL, sp->es_value, e, err,
	                   errlen) != 0)
		return -1;
	if (sp->es_owner == NULL || (at = strrchr(sp->es_owner, '@')) == NULL ||
	    at == sp->es_owner ||
	    rm_addr_parse(sp->es_owner, &a, NULL, 0) != 0 ||
	    (a.a_flags & (RM_ADDR_NULL | RM_ADDR_ROUTED | RM_ADDR_LITERAL |
	                  RM_ADDR_UNQUALIFIED | RM_ADDR_LONG_LOCAL)))
		return 0;
	return rm_addrset_add(l->l_login_addrs, NULL, sp->es_owner, e, err,
	                      errlen);
}

/* A search among the holders of a key: the entry wanted, or the one like it. */
struct holder_find {
	const void *hf_want;               /* this tag, or NULL */
	const struct rm_entry_spec *hf_sp; /* else an entry like this */
	const char *hf_list;
	const struct rm_entry *hf_found;
};

/* same_origin - e was added from origin ("file:line", "ldap:DN") */
static bool
same_origin(const struct rm_entry *e, const char *origin)
{
	size_t n = strlen(e->e_where);
	char lb[RM_LINE_BUF];

	return strncmp(origin, e->e_where, n) == 0 &&
	       strcmp(origin + n, rm_entry_line(e, lb)) == 0;
}

static void
holder_cb(void *arg, const void *tag)
{
	struct holder_find *f = arg;
	const struct rm_entry *e = tag;
	const struct rm_entry_spec *sp = f->hf_sp;

	if (f->hf_found != NULL)
		return;
	if (f->hf_want != NULL) {
		if (tag == f->hf_want)
			f->hf_found = e;
		return;
	}
	if (e->e_list == f->hf_list && strcmp(e->e_text, sp->es_value) == 0 &&
	    (e->e_listener == NULL) == (sp->es_listener == NULL) &&
	    (e->e_listener == NULL ||
	     strcasecmp(e->e_listener, sp->es_listener) == 0) &&
	    same_origin(e, sp->es_origin ? sp->es_origin : "-"))
		f->hf_found = e;
}

/* reverse_remove - undo reverse_add() of entry e */
static int
reverse_remove(struct rm_lists *l, const struct rm_entry_spec *sp,
               const struct rm_entry *e, char *err, size_t errlen)
{
	struct holder_find f = {e, NULL, NULL, NULL};

	if (rm_addrset_remove(l->l_sender_known, NULL, sp->es_value, e, err,
	                      errlen) != 0)
		return -1;
	/* only a login that is an address was taken (reverse_add()) */
	if (sp->es_owner != NULL)
		rm_addrset_holders(l->l_login_addrs, NULL, sp->es_owner,
		                   holder_cb, &f);
	if (f.hf_found == NULL)
		return 0;
	return rm_addrset_remove(l->l_login_addrs, NULL, sp->es_owner, e, err,
	                         errlen);
}

int
rm_ruleset_add(struct rm_ruleset *rs, const struct rm_entry_spec *sp, char *err,
               size_t errlen)
{
	struct rm_lists *l = &rs->rs_lists;
	struct rm_profile *pf;
	struct rm_reply reply;
	struct rm_cidr cidr;
	struct rm_entry *e;
	void *set;

	if (validate(sp, &cidr, &reply, err, errlen) != 0)
		return -1;
	if (sp->es_listener != NULL) {
		pf = rm_ruleset_add_profile(rs, sp->es_listener, sp->es_origin);
		if (pf == NULL)
			goto oom;
		if (pf->pf_lists == NULL) {
			if ((pf->pf_lists = malloc(sizeof(*pf->pf_lists))) ==
			    NULL)
				goto oom;
			if (lists_make(pf->pf_lists, NULL) != 0) {
				free(pf->pf_lists);
				pf->pf_lists = NULL;
				goto oom;
			}
		}
		l = pf->pf_lists;
	}
	if ((e = new_entry(rs, sp, rm_list_name(sp->es_list))) == NULL)
		goto oom;
	if (sp->es_reply != NULL) {
		if ((e->e_reply = arena_alloc(&rs->rs_arena, sizeof(reply),
		                              _Alignof(struct rm_reply))) ==
		    NULL)
			goto oom;
		*e->e_reply = reply;
	}
	e->e_lifts = sp->es_lifts ? sp->es_lifts : RM_LIFT_ALL;
	lint_entry(rs, sp, &cidr, e);
	set = *list_set(l, sp->es_list);
	switch (rm_list_defs[sp->es_list].ld_key) {
	case RM_KEY_HOST:
	case RM_KEY_DOMAIN:
		return rm_domset_add(set, sp->es_value, e, err, errlen);
	case RM_KEY_NET:
		if (rm_ipset_add(set, &cidr, e) != 0)
			goto oom;
		return 0;
	case RM_KEY_ADDR:
		if (sp->es_list == RM_L_SENDER_LOGINS &&
		    reverse_add(l, sp, e, err, errlen) != 0)
			return -1;
		return rm_addrset_add(set,
		                      rm_list_defs[sp->es_list].ld_role ==
		                              RM_ROLE_OWNED
		                          ? sp->es_owner
		                          : NULL,
		                      sp->es_value, e, err, errlen);
	case RM_KEY_LOGIN:
		return rm_strset_add(set, sp->es_value, e, err, errlen);
	case RM_KEY_LOGIN_NET:
		return rm_netowners_add(set, sp->es_owner, &cidr, e, err,
		                        errlen);
	}
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
rm_ruleset_finish(struct rm_ruleset *rs)
{
	size_t i;

	if (lists_finish(&rs->rs_lists) != 0 ||
	    rm_ipset_finish(rs->rs_our_addrs) != 0 ||
	    rm_ipset_finish(rs->rs_if_addrs) != 0)
		return -1;
	for (i = 0; i < rs->rs_nprofiles; i++)
		if (rs->rs_profiles[i]->pf_lists != NULL &&
		    lists_finish(rs->rs_profiles[i]->pf_lists) != 0)
			return -1;
	lint_finish(rs);
	return 0;
}

struct rm_ruleset *
rm_ruleset_new(const char *source)
{
	struct rm_ruleset *rs;
	char err[128];
	int i;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	atomic_init(&rs->rs_refs, 1);
	rs->rs_source = strdup(source ? source : "-");
	if (rs->rs_source == NULL || lists_make(&rs->rs_lists, NULL) != 0) {
		free(rs->rs_source);
		free(rs);
		return NULL;
	}
	rs->rs_our_addrs = rm_ipset_new();
	rs->rs_if_addrs = rm_ipset_new();
	if (rs->rs_our_addrs == NULL || rs->rs_if_addrs == NULL) {
		rm_ipset_free(rs->rs_our_addrs);
		rm_ipset_free(rs->rs_if_addrs);
		lists_free(&rs->rs_lists);
		free(rs->rs_source);
		free(rs);
		return NULL;
	}
	for (i = 0; i < RM_CK__COUNT; i++)
		rs->rs_top.pf_check[i] = RM_CM_REJECT;
	rs->rs_top.pf_check[RM_CK_REQUIRE_AUTH] = RM_CM_OFF;
	rs->rs_top.pf_check[RM_CK_HEADER_FROM] = RM_CM_OFF;
	rs->rs_top.pf_auth_relay = true;
	for (i = 0; i < RM_R__COUNT; i++) {
		/* the defaults are constants: a failure here is a bug */
		if (rm_reply_parse(rm_reply_defs[i].rd_default,
		                   &rs->rs_replies[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "default reply %s: %s\n",
			        rm_reply_defs[i].rd_name, err);
			abort();
		}
	}
	return rs;
}

struct rm_ruleset *
rm_ruleset_hold(struct rm_ruleset *rs)
{
	atomic_fetch_add_explicit(&rs->rs_refs, 1, memory_order_relaxed);
	return rs;
}

void
rm_ruleset_release(struct rm_ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	if (atomic_fetch_sub_explicit(&rs->rs_refs, 1, memory_order_acq_rel) !=
	    1)
		return;
	lists_free(&rs->rs_lists);
	rm_ipset_free(rs->rs_our_addrs);
	rm_ipset_free(rs->rs_if_addrs);
	for (i = 0; i < rs->rs_nwarnings; i++)
		free(rs->rs_warnings[i]);
	free(rs->rs_warnings);
	free(rs->rs_lint);
	for (i = 0; i < rs->rs_nprofiles; i++)
		profile_free(rs->rs_profiles[i]);
	free(rs->rs_profiles);
	for (i = 0; i < rs->rs_nlimits; i++)
		rm_limit_clear(&rs->rs_limits[i]);
	free(rs->rs_limits);
	free(rs->rs_top.pf_origin);
	arena_free(rs->rs_arena);
	free(rs->rs_source);
	/* its layers are gone: the sets they lay over may go too */
	rm_ruleset_release(rs->rs_base);
	free(rs);
}

/* ---- layers: the changes since a full build ----------------------------- */

/* profile_layer - a copy of base's profile, its lists layered; NULL: OOM */
static struct rm_profile *
profile_layer(const struct rm_profile *b)
{
	struct rm_profile *pf;

	if ((pf = calloc(1, sizeof(*pf))) == NULL)
		return NULL;
	*pf = *b;
	pf->pf_lists = NULL;
	pf->pf_replies = NULL;
	pf->pf_name = strdup(b->pf_name);
	pf->pf_origin = strdup(b->pf_origin);
	if (pf->pf_name == NULL || pf->pf_origin == NULL)
		goto fail;
	if (b->pf_replies != NULL) {
		if ((pf->pf_replies =
		         malloc(RM_R__COUNT * sizeof(*pf->pf_replies))) == NULL)
			goto fail;
		memcpy(pf->pf_replies, b->pf_replies,
		       RM_R__COUNT * sizeof(*pf->pf_replies));
	}
	if (b->pf_lists != NULL) {
		if ((pf->pf_lists = malloc(sizeof(*pf->pf_lists))) == NULL)
			goto fail;
		if (lists_make(pf->pf_lists, b->pf_lists) != 0) {
			free(pf->pf_lists);
			pf->pf_lists = NULL;
			goto fail;
		}
	}
	return pf;
fail:
	profile_free(pf);
	return NULL;
}

struct rm_ruleset *
rm_ruleset_layer(struct rm_ruleset *base)
{
	struct rm_ruleset *rs;
	size_t i;

	if (base->rs_base != NULL || (rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	atomic_init(&rs->rs_refs, 1);
	rs->rs_base = rm_ruleset_hold(base);
	rs->rs_incomplete = base->rs_incomplete;
	rs->rs_top = base->rs_top;
	rs->rs_top.pf_origin = NULL;
	memcpy(rs->rs_replies, base->rs_replies, sizeof(rs->rs_replies));
	rs->rs_grants_trusted = base->rs_grants_trusted;
	rs->rs_login_implicit = base->rs_login_implicit;
	rs->rs_login_known = base->rs_login_known;
	memcpy(rs->rs_delim, base->rs_delim, sizeof(rs->rs_delim));
	rs->rs_nentries = base->rs_nentries;
	memcpy(rs->rs_list_entries, base->rs_list_entries,
	       sizeof(rs->rs_list_entries));
	if ((rs->rs_source = strdup(base->rs_source)) == NULL ||
	    (base->rs_top.pf_origin != NULL &&
	     (rs->rs_top.pf_origin = strdup(base->rs_top.pf_origin)) == NULL) ||
	    lists_make(&rs->rs_lists, &base->rs_lists) != 0 ||
	    (rs->rs_our_addrs = rm_ipset_layer(base->rs_our_addrs)) == NULL ||
	    (rs->rs_if_addrs = rm_ipset_layer(base->rs_if_addrs)) == NULL)
		goto fail;
	if (base->rs_nlimits > 0) {
		if ((rs->rs_limits = calloc(base->rs_nlimits,
		                            sizeof(*rs->rs_limits))) == NULL)
			goto fail;
		for (i = 0; i < base->rs_nlimits; i++) {
			if (rm_limit_copy(&rs->rs_limits[i],
			                  &base->rs_limits[i]) != 0)
				goto fail;
			rs->rs_nlimits++;
		}
	}
	if (base->rs_nprofiles > 0 &&
	    (rs->rs_profiles =
	         calloc(base->rs_nprofiles, sizeof(*rs->rs_profiles))) == NULL)
		goto fail;
	for (i = 0; i < base->rs_nprofiles; i++) {
		if ((rs->rs_profiles[i] =
		         profile_layer(base->rs_profiles[i])) == NULL)
			goto fail;
		rs->rs_nprofiles++;
	}
	for (i = 0; i < base->rs_nwarnings; i++)
		rm_ruleset_warn(rs, "%s", base->rs_warnings[i]);
	return rs;
fail:
	rm_ruleset_release(rs);
	return NULL;
}

int
rm_ruleset_remove(struct rm_ruleset *rs, const struct rm_entry_spec *sp,
                  char *err, size_t errlen)
{
	struct holder_find f = {NULL, sp, rm_list_name(sp->es_list), NULL};
	const struct rm_profile *pf;
	struct rm_lists *l = &rs->rs_lists;
	struct rm_reply reply;
	struct rm_cidr cidr;
	const char *owner;
	void *set;
	int rc = 0;

	if (rs->rs_base == NULL) {
		snprintf(err, errlen, "not a layer");
		return -1;
	}
	if (validate(sp, &cidr, &reply, err, errlen) != 0)
		return -1;
	if (sp->es_listener != NULL) {
		pf = rm_ruleset_profile(rs, sp->es_listener);
		if (pf == &rs->rs_top || pf->pf_lists == NULL)
			goto none;
		l = pf->pf_lists;
	}
	set = *list_set(l, sp->es_list);
	owner = rm_list_defs[sp->es_list].ld_role == RM_ROLE_OWNED
	            ? sp->es_owner
	            : NULL;
	switch (rm_list_defs[sp->es_list].ld_key) {
	case RM_KEY_HOST:
	case RM_KEY_DOMAIN:
		rm_domset_holders(set, sp->es_value, holder_cb, &f);
		if (f.hf_found != NULL)
			rc = rm_domset_remove(set, sp->es_value, f.hf_found,
			                      err, errlen);
		break;
	case RM_KEY_NET:
		rm_ipset_holders(set, &cidr, holder_cb, &f);
		if (f.hf_found != NULL &&
		    (rc = rm_ipset_remove(set, &cidr, f.hf_found)) != 0)
			snprintf(err, errlen, "out of memory");
		break;
	case RM_KEY_ADDR:
		rm_addrset_holders(set, owner, sp->es_value, holder_cb, &f);
		if (f.hf_found == NULL)
			break;
		if (sp->es_list == RM_L_SENDER_LOGINS &&
		    reverse_remove(l, sp, f.hf_found, err, errlen) != 0)
			return -1;
		rc = rm_addrset_remove(set, owner, sp->es_value, f.hf_found,
		                       err, errlen);
		break;
	case RM_KEY_LOGIN:
		rm_strset_holders(set, sp->es_value, holder_cb, &f);
		if (f.hf_found != NULL)
			rc = rm_strset_remove(set, sp->es_value, f.hf_found,
			                      err, errlen);
		break;
	case RM_KEY_LOGIN_NET:
		rm_netowners_holders(set, sp->es_owner, &cidr, holder_cb, &f);
		if (f.hf_found != NULL &&
		    (rc = rm_netowners_remove(set, sp->es_owner, &cidr,
		                              f.hf_found)) != 0)
			snprintf(err, errlen, "out of memory");
		break;
	}
	if (f.hf_found == NULL)
		goto none;
	if (rc == 0) {
		rs->rs_nentries--;
		rs->rs_list_entries[sp->es_list]--;
	}
	return rc;
none:
	snprintf(err, errlen, "no such entry");
	return -1;
}
