/*
 * ldapsrc.c - the LDAP side: connect, bind, search, map entries to records.
 *
 * With ldapsync.c, the only modules that include <ldap.h> (through
 * ldapconn.h).  A fetch opens its own connection; an on-demand lookup
 * takes one from a pool (ldappool.c) that hands each handle to one
 * thread at a time, or opens its own without one.
 */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "relaymilter/ldapconn.h"
#include "relaymilter/ldapdata.h"
#include "relaymilter/ldappool.h"
#include "relaymilter/ldapsrc.h"
#include "relaymilter/ownercache.h"

void
rm_ldap_init(void)
{
	/* a stray ~/.ldaprc or ldap.conf must not change TLS or servers */
	setenv("LDAPNOINIT", "1", 1);
}

char *
rm_ldap_escape(const char *v, size_t vlen, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if (o + 4 >= len)
			return NULL;
		if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 ||
		    c >= 0x80) {
			buf[o++] = '\\';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * A deadline for a whole operation (on-demand lookups: the MTA is
 * waiting), or none (a background fetch: each step gets ldap.timeout).
 */
struct deadline {
	int dl_set;
	struct timespec dl_at; /* CLOCK_MONOTONIC */
};

/* step_tv - the time one step may take: ldap.timeout, or what is left. */
static int
step_tv(const struct rm_ldap_conf *lc, const struct deadline *dl,
        struct timeval *tv)
{
	struct timespec now;
	long long ms;

	tv->tv_sec = lc->lc_timeout;
	tv->tv_usec = 0;
	if (dl == NULL || !dl->dl_set)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(dl->dl_at.tv_sec - now.tv_sec) * 1000 +
	     (dl->dl_at.tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return -1;
	if (ms < (long long)lc->lc_timeout * 1000) {
		tv->tv_sec = (time_t)(ms / 1000);
		tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
	}
	return 0;
}

#define KEEPALIVE_IDLE     60
#define KEEPALIVE_PROBES   3
#define KEEPALIVE_INTERVAL 10

/* connect_one - an initialised, (TLS-)secured, bound handle, or NULL. */
static LDAP *
connect_one(const struct rm_ldap_conf *lc, const char *uri,
            const struct deadline *dl, char *err, size_t errlen)
{
	struct timeval tv;
	struct berval cred;
	int v3 = LDAP_VERSION3, rc, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
	int keepalive[3] = {KEEPALIVE_IDLE, KEEPALIVE_PROBES,
	                    KEEPALIVE_INTERVAL};
	LDAP *ld;

	if (step_tv(lc, dl, &tv) != 0) {
		snprintf(err, errlen, "%s: deadline passed", uri);
		return NULL;
	}
	if ((rc = ldap_initialize(&ld, uri)) != LDAP_SUCCESS) {
		snprintf(err, errlen, "%s: %s", uri, ldap_err2string(rc));
		return NULL;
	}
	/* both default to "wait forever" */
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
	/*
	 * TCP keepalive: a synchronisation waits for the server's next
	 * change for hours, and a server gone without a word (a crash
	 * behind NAT, a cable) must not look like a quiet one: dead after
	 * KEEPALIVE_IDLE s of silence and KEEPALIVE_PROBES unanswered
	 * probes KEEPALIVE_INTERVAL s apart, then reconnected.
	 */
	ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_IDLE, &keepalive[0]);
	ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_PROBES, &keepalive[1]);
	ldap_set_option(ld, LDAP_OPT_X_KEEPALIVE_INTERVAL, &keepalive[2]);
	if (lc->lc_starttls || strncmp(uri, "ldaps://", 8) == 0) {
		ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
		if (lc->lc_ca_file != NULL)
			ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE,
			                lc->lc_ca_file);
		/* apply the options above to this handle's TLS context */
		ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	}
	if (lc->lc_starttls && strncmp(uri, "ldaps://", 8) != 0 &&
	    (rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
		/* fail closed: never fall back to plain text */
		snprintf(err, errlen, "%s: StartTLS failed: %s", uri,
		         ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	if (step_tv(lc, dl, &tv) != 0) {
		snprintf(err, errlen, "%s: deadline passed", uri);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
	cred.bv_val = lc->lc_bind_password ? lc->lc_bind_password : "";
	cred.bv_len = strlen(cred.bv_val);
	rc = ldap_sasl_bind_s(ld, lc->lc_bind_dn ? lc->lc_bind_dn : "",
	                      LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "%s: bind as %s: %s", uri,
		         lc->lc_bind_dn ? lc->lc_bind_dn : "(anonymous)",
		         ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		return NULL;
	}
	return ld;
}

/* connect_any - the first URI that works; err keeps the last failure. */
static LDAP *
connect_any(const struct rm_ldap_conf *lc, const struct deadline *dl, char *err,
            size_t errlen)
{
	size_t i;
	LDAP *ld;

	for (i = 0; i < lc->lc_nuris; i++)
		if ((ld = connect_one(lc, lc->lc_uris[i], dl, err, errlen)) !=
		    NULL)
			return ld;
	return NULL;
}

/* deadline_in - secs from now */
static void
deadline_in(struct deadline *dl, time_t secs)
{
	dl->dl_set = 1;
	clock_gettime(CLOCK_MONOTONIC, &dl->dl_at);
	dl->dl_at.tv_sec += secs;
}

/* lookup_deadline - the MTA is waiting: a lookup gets ldap.timeout */
static void
lookup_deadline(const struct rm_ldap_conf *lc, struct deadline *dl)
{
	deadline_in(dl, lc->lc_timeout);
}

/* pooled connections idle longer than this are closed, not reused */
#define POOL_IDLE_MAX 60

static void
unbind(void *ld)
{
	ldap_unbind_ext_s(ld, NULL, NULL);
}

struct rm_ldap_pool *
rm_ldap_senders_pool(const struct rm_ldap_conf *lc,
                     struct rm_ldap_pool_stats *stats)
{
	size_t n = lc->lc_senders != NULL ? lc->lc_senders->ls_connections : 1;

	return rm_ldap_pool_new(n ? n : 1, POOL_IDLE_MAX, unbind, stats);
}

/* How the pool opens a connection for a lookup: its settings, deadline. */
struct opening {
	const struct rm_ldap_conf *lc;
	const struct deadline *dl;
};

static void *
open_conn(void *arg, char *err, size_t errlen)
{
	const struct opening *o = arg;

	return connect_any(o->lc, o->dl, err, errlen);
}

/*
 * alive - an idle connection the server has not closed: it has nothing
 * to read (an idle connection gets only an end of file or a notice of
 * disconnection from a server that restarted or timed it out).
 */
static bool
alive(LDAP *ld)
{
	struct pollfd pf;
	int fd = -1;

	if (ldap_get_option(ld, LDAP_OPT_DESC, &fd) != LDAP_OPT_SUCCESS ||
	    fd < 0)
		return false;
	pf.fd = fd;
	pf.events = POLLIN;
	pf.revents = 0;
	return poll(&pf, 1, 0) == 0;
}

/* One lookup's work on a connection: 0, or -1 with the reason in err. */
typedef int lookup_op(LDAP *, const struct rm_ldap_conf *,
                      const struct deadline *, void *arg, char *err,
                      size_t errlen);

/*
 * on_conn - op on a connection of the pool (without one, on a connection
 * of its own).  A connection op failed on is closed; when it was a reused
 * one (the server may have dropped it), op runs once more on a fresh
 * connection if the deadline allows.  Idle connections the server closed
 * are replaced before use, which costs no attempt.
 */
static int
on_conn(const struct rm_ldap_conf *lc, struct rm_ldap_pool *pool,
        const struct deadline *dl, lookup_op *op, void *arg, char *err,
        size_t errlen)
{
	struct opening o = {lc, dl};
	bool reused, fresh = false;
	struct timeval tv;
	LDAP *ld;
	int rc;

	if (pool == NULL) {
		if ((ld = connect_any(lc, dl, err, errlen)) == NULL)
			return -1;
		rc = op(ld, lc, dl, arg, err, errlen);
		ldap_unbind_ext_s(ld, NULL, NULL);
		return rc;
	}
	for (;;) {
		while (
		    (ld = rm_ldap_pool_get(pool, &dl->dl_at, fresh, open_conn,
		                           &o, &reused, err, errlen)) != NULL &&
		    reused && !alive(ld))
			rm_ldap_pool_put(pool, ld, false);
		if (ld == NULL)
			return -1;
		rc = op(ld, lc, dl, arg, err, errlen);
		rm_ldap_pool_put(pool, ld, rc == 0);
		if (rc == 0 || !reused || step_tv(lc, dl, &tv) != 0)
			return rc;
		fresh = true;
	}
}

LDAP *
rm_ldap_connect(const struct rm_ldap_conf *lc, char *err, size_t errlen)
{
	return connect_any(lc, NULL, err, errlen);
}

/* first_value - the first value of attr as a string, or NULL. */
static char *
first_value(LDAP *ld, LDAPMessage *m, const char *attr)
{
	struct berval **v;
	char *s = NULL;

	if (attr == NULL || (v = ldap_get_values_len(ld, m, attr)) == NULL)
		return NULL;
	if (v[0] != NULL && memchr(v[0]->bv_val, 0, v[0]->bv_len) == NULL &&
	    (s = malloc(v[0]->bv_len + 1)) != NULL) {
		memcpy(s, v[0]->bv_val, v[0]->bv_len);
		s[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
	return s;
}

/* all_values - every value of attr joined by spaces, or NULL. */
static char *
all_values(LDAP *ld, LDAPMessage *m, const char *attr)
{
	struct berval **v;
	size_t n = 0, i;
	char *s;

	if (attr == NULL || (v = ldap_get_values_len(ld, m, attr)) == NULL)
		return NULL;
	for (i = 0; v[i] != NULL; i++)
		n += v[i]->bv_len + 1;
	if ((s = malloc(n + 1)) != NULL) {
		n = 0;
		for (i = 0; v[i] != NULL; i++) {
			if (memchr(v[i]->bv_val, 0, v[i]->bv_len) != NULL)
				continue;
			memcpy(s + n, v[i]->bv_val, v[i]->bv_len);
			n += v[i]->bv_len;
			s[n++] = ' ';
		}
		s[n ? n - 1 : 0] = '\0';
	}
	ldap_value_free_len(v);
	return s;
}

void
rm_ldap_map_attrs(const struct rm_ldap_map *m, char **attrs)
{
	size_t na = 0;

	attrs[na++] = m->lm_attr;
	if (m->lm_owner_attr)
		attrs[na++] = m->lm_owner_attr;
	if (m->lm_listener_attr)
		attrs[na++] = m->lm_listener_attr;
	if (m->lm_lifts_attr)
		attrs[na++] = m->lm_lifts_attr;
	if (m->lm_reply_attr)
		attrs[na++] = m->lm_reply_attr;
	attrs[na++] = "entryUUID";
	attrs[na] = NULL;
}

int
rm_ldap_entry_records(LDAP *ld, LDAPMessage *e, const struct rm_ldap_conf *lc,
                      int list, const char *uuid, struct rm_ldapdata *out,
                      void (*warn)(void *, const char *), void *arg)
{
	const struct rm_ldap_map *m = &lc->lc_maps[list];
	enum rm_list_role role = rm_list_defs[list].ld_role;
	char *dn = ldap_get_dn(ld, e), msg[1200];
	struct berval **vals;
	struct rm_ldaprec r;
	size_t i;
	int ret = 0;

	memset(&r, 0, sizeof(r));
	r.r_list = list;
	r.r_dn = dn;
	r.r_uuid = (char *)uuid;
	r.r_owner =
	    role == RM_ROLE_OWNED ? first_value(ld, e, m->lm_owner_attr) : NULL;
	r.r_listener = first_value(ld, e, m->lm_listener_attr);
	r.r_lifts = role == RM_ROLE_EXCEPTION
	                ? all_values(ld, e, m->lm_lifts_attr)
	                : NULL;
	r.r_reply =
	    role == RM_ROLE_DENY ? first_value(ld, e, m->lm_reply_attr) : NULL;
	vals = ldap_get_values_len(ld, e, m->lm_attr);
	for (i = 0; vals != NULL && vals[i] != NULL; i++) {
		char *v;

		if (memchr(vals[i]->bv_val, 0, vals[i]->bv_len) != NULL) {
			snprintf(msg, sizeof(msg),
			         "ldap:%s: %s: a value with a NUL "
			         "byte; skipped",
			         dn ? dn : "-", m->lm_attr);
			if (warn)
				warn(arg, rm_ldap_one_line(msg));
			continue;
		}
		if ((v = malloc(vals[i]->bv_len + 1)) == NULL) {
			ret = -1;
			break;
		}
		memcpy(v, vals[i]->bv_val, vals[i]->bv_len);
		v[vals[i]->bv_len] = '\0';
		r.r_value = v;
		if (rm_ldapdata_add(out, &r) != 0)
			ret = -1;
		free(v);
		if (ret != 0)
			break;
	}
	ldap_value_free_len(vals);
	free(r.r_owner);
	free(r.r_listener);
	free(r.r_lifts);
	free(r.r_reply);
	ldap_memfree(dn);
	return ret;
}

/*
 * A list's read is a stream: a million entries take slapd longer than
 * ldap.timeout to send, so the timeout bounds the wait for each message
 * (a server that stops answering), and FETCH_TIMEOUTS timeouts bound the
 * whole read (one that trickles).  Each entry is taken and freed as it
 * comes, not held until the result.
 */
#define FETCH_TIMEOUTS 60

/* fetch_list - one search; each value of the value attribute a record. */
static int
fetch_list(LDAP *ld, const struct rm_ldap_conf *lc, int list,
           struct rm_ldapdata *out, void (*warn)(void *, const char *),
           void *arg, char *err, size_t errlen)
{
	const struct rm_ldap_map *m = &lc->lc_maps[list];
	struct deadline whole;
	struct timeval tv;
	char *attrs[7], *uuid, *text = NULL;
	LDAPMessage *msg;
	int rc, msgid, code, ret = 1;

	rm_ldap_map_attrs(m, attrs);
	deadline_in(&whole, (time_t)lc->lc_timeout * FETCH_TIMEOUTS);
	rc = ldap_search_ext(ld, m->lm_base ? m->lm_base : lc->lc_base,
	                     LDAP_SCOPE_SUBTREE, m->lm_filter, attrs, 0, NULL,
	                     NULL, NULL, LDAP_NO_LIMIT, &msgid);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "search %s: %s", rm_list_name(list),
		         ldap_err2string(rc));
		return -1;
	}
	while (ret > 0) {
		msg = NULL;
		if (step_tv(lc, &whole, &tv) != 0 ||
		    (rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg)) ==
		        0) {
			/* the wait ends at the whole read's deadline, too */
			if (step_tv(lc, &whole, &tv) != 0)
				snprintf(err, errlen,
				         "search %s: not done in %d times "
				         "ldap.timeout",
				         rm_list_name(list), FETCH_TIMEOUTS);
			else
				snprintf(err, errlen,
				         "search %s: no answer within "
				         "ldap.timeout",
				         rm_list_name(list));
			ldap_abandon_ext(ld, msgid, NULL, NULL);
			ret = -1;
		} else if (rc < 0) {
			code = LDAP_SERVER_DOWN;
			ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
			snprintf(err, errlen, "search %s: %s",
			         rm_list_name(list), ldap_err2string(code));
			ret = -1;
		} else if (rc == LDAP_RES_SEARCH_ENTRY) {
			uuid = first_value(ld, msg, "entryUUID");
			if (rm_ldap_entry_records(ld, msg, lc, list, uuid, out,
			                          warn, arg) != 0) {
				snprintf(err, errlen, "out of memory");
				ret = -1;
			}
			free(uuid);
		} else if (rc == LDAP_RES_SEARCH_RESULT) {
			code = LDAP_OTHER;
			ldap_parse_result(ld, msg, &code, NULL, &text, NULL,
			                  NULL, 0);
			if (code == LDAP_SUCCESS || code == LDAP_NO_SUCH_OBJECT)
				ret = 0;
			else {
				snprintf(err, errlen, "search %s: %s%s%s",
				         rm_list_name(list),
				         ldap_err2string(code),
				         text && *text ? ": " : "",
				         text ? text : "");
				ret = -1;
			}
			ldap_memfree(text);
			text = NULL;
		}
		/* (a search reference: ignored, as before) */
		ldap_msgfree(msg);
	}
	return ret;
}

int
rm_ldap_fetch(const struct rm_ldap_conf *lc, struct rm_ldapdata *out,
              void (*warn)(void *, const char *), void *arg, char *err,
              size_t errlen)
{
	LDAP *ld;
	int l;

	memset(out, 0, sizeof(*out));
	if ((ld = connect_any(lc, NULL, err, errlen)) == NULL)
		return -1;
	for (l = 0; l < RM_L__COUNT; l++) {
		if (lc->lc_maps[l].lm_filter == NULL)
			continue;
		if (fetch_list(ld, lc, l, out, warn, arg, err, errlen) != 0) {
			ldap_unbind_ext_s(ld, NULL, NULL);
			rm_ldapdata_clear(out);
			return -1;
		}
	}
	ldap_unbind_ext_s(ld, NULL, NULL);
	rm_ldapdata_sort(out);
	return 0;
}

static int
owned_add(struct rm_owned *o, const struct berval *bv)
{
	char **v, *s;

	if (memchr(bv->bv_val, 0, bv->bv_len) != NULL || bv->bv_len == 0)
		return 0;
	if ((v = realloc(o->o_addrs, (o->o_n + 1) * sizeof(*v))) == NULL)
		return -1;
	o->o_addrs = v;
	if ((s = malloc(bv->bv_len + 1)) == NULL)
		return -1;
	memcpy(s, bv->bv_val, bv->bv_len);
	s[bv->bv_len] = '\0';
	o->o_addrs[o->o_n++] = s;
	return 0;
}

/* expand_filter - the template with "%c" replaced by the escaped value. */
static int
expand_filter(const char *tmpl, char c, const char *v, char *out, size_t len)
{
	char esc[2048];
	size_t o = 0, n;
	const char *p;

	if (rm_ldap_escape(v, strlen(v), esc, sizeof(esc)) == NULL)
		return -1;
	for (p = tmpl; *p != '\0'; p++) {
		if (p[0] == '%' && p[1] == c) {
			n = strlen(esc);
			if (o + n >= len)
				return -1;
			memcpy(out + o, esc, n);
			o += n;
			p++;
			continue;
		}
		if (o + 1 >= len)
			return -1;
		out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

/* collect - search and add every value of the attributes to out. */
static int
collect(LDAP *ld, const struct rm_ldap_conf *lc, const struct deadline *dl,
        const char *filter, char **attrs, struct rm_owned *out, char ***dns,
        size_t *ndn, char *err, size_t errlen)
{
	const struct rm_ldap_senders *ls = lc->lc_senders;
	struct timeval tv;
	LDAPMessage *res = NULL, *e;
	struct berval **v;
	size_t a, i;
	int rc;

	if (step_tv(lc, dl, &tv) != 0) {
		snprintf(err, errlen, "sender lookup: deadline passed");
		return -1;
	}
	rc = ldap_search_ext_s(ld, ls->ls_base ? ls->ls_base : lc->lc_base,
	                       LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
	                       &tv, 1000, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT &&
	    rc != LDAP_SIZELIMIT_EXCEEDED) {
		snprintf(err, errlen, "sender lookup: %s", ldap_err2string(rc));
		ldap_msgfree(res);
		return -1;
	}
	for (e = ldap_first_entry(ld, res); e != NULL;
	     e = ldap_next_entry(ld, e)) {
		if (dns != NULL) {
			char *dn = ldap_get_dn(ld, e), **nv;

			if (dn != NULL &&
			    (nv = realloc(*dns, (*ndn + 1) * sizeof(*nv))) !=
			        NULL) {
				*dns = nv;
				(*dns)[(*ndn)++] = strdup(dn);
			}
			ldap_memfree(dn);
		}
		for (a = 0; attrs[a] != NULL; a++) {
			if ((v = ldap_get_values_len(ld, e, attrs[a])) == NULL)
				continue;
			for (i = 0; v[i] != NULL; i++)
				if (owned_add(out, v[i]) != 0) {
					ldap_value_free_len(v);
					ldap_msgfree(res);
					snprintf(err, errlen, "out of memory");
					return -1;
				}
			ldap_value_free_len(v);
		}
	}
	ldap_msgfree(res);
	return 0;
}

/* put - append the text to out (at *o); -1 when it does not fit */
static int
put(char *out, size_t len, size_t *o, const char *text)
{
	size_t n = strlen(text);

	if (*o + n >= len)
		return -1;
	memcpy(out + *o, text, n + 1);
	*o += n;
	return 0;
}

/*
 * any_of - "(|(attr=ADDR)(attr=@DOMAIN)(attr=@.PARENT)...)" into out at
 * *o: every value an entry owning the address could hold, escaped.
 */
static int
any_of(const char *attr, const char *addr, char *out, size_t len, size_t *o)
{
	const char *at = strrchr(addr, '@'), *d;
	char esc[1024], v[600];

	if (at == NULL || put(out, len, o, "(|") != 0)
		return -1;
	/* "@domain", then "@.parent" for each parent */
	for (d = at + 1;
	     d != NULL && d[0] != '\0' && (d == at + 1 || d[1] != '\0');
	     d = strchr(d + 1, '.')) {
		snprintf(v, sizeof(v), "@%s", d);
		if (rm_ldap_escape(v, strlen(v), esc, sizeof(esc)) == NULL ||
		    put(out, len, o, "(") != 0 || put(out, len, o, attr) != 0 ||
		    put(out, len, o, "=") != 0 || put(out, len, o, esc) != 0 ||
		    put(out, len, o, ")") != 0)
			return -1;
	}
	if (rm_ldap_escape(addr, strlen(addr), esc, sizeof(esc)) == NULL ||
	    put(out, len, o, "(") != 0 || put(out, len, o, attr) != 0 ||
	    put(out, len, o, "=") != 0 || put(out, len, o, esc) != 0 ||
	    put(out, len, o, "))") != 0)
		return -1;
	return 0;
}

/* any_entry - "(&TEMPLATE(|...))", TEMPLATE's %c as "*", into out at *o */
static int
any_entry(const char *tmpl, char c, char **attrs, size_t nattrs,
          const char *addr, char *out, size_t len, size_t *o)
{
	char t[2048];
	const char *p;
	size_t n = 0, i;

	for (p = tmpl; *p != '\0' && n + 2 < sizeof(t); p++) {
		if (p[0] == '%' && p[1] == c) {
			t[n++] = '*';
			p++;
		} else
			t[n++] = *p;
	}
	if (*p != '\0')
		return -1;
	t[n] = '\0';
	if (put(out, len, o, "(&") != 0 || put(out, len, o, t) != 0 ||
	    put(out, len, o, "(|") != 0)
		return -1;
	for (i = 0; i < nattrs; i++)
		if (any_of(attrs[i], addr, out, len, o) != 0)
			return -1;
	return put(out, len, o, "))");
}

/* The reverse question's search, and its answer. */
struct owners_q {
	const char *filter;
	enum rm_lookup found;
};

static int
owners_on(LDAP *ld, const struct rm_ldap_conf *lc, const struct deadline *dl,
          void *arg, char *err, size_t errlen)
{
	const struct rm_ldap_senders *ls = lc->lc_senders;
	struct owners_q *q = arg;
	char *attrs[] = {"1.1", NULL};
	LDAPMessage *res = NULL;
	struct timeval tv;
	int rc, ret = -1;

	if (step_tv(lc, dl, &tv) != 0)
		snprintf(err, errlen, "owner lookup: deadline passed");
	else if ((rc = ldap_search_ext_s(
	              ld, ls->ls_base ? ls->ls_base : lc->lc_base,
	              LDAP_SCOPE_SUBTREE, q->filter, attrs, 0, NULL, NULL, &tv,
	              1, &res)) != LDAP_SUCCESS &&
	         rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_SIZELIMIT_EXCEEDED)
		snprintf(err, errlen, "owner lookup: %s", ldap_err2string(rc));
	else {
		q->found = rc == LDAP_SIZELIMIT_EXCEEDED ||
		                   ldap_count_entries(ld, res) > 0
		               ? RM_FOUND
		               : RM_NOTFOUND;
		ret = 0;
	}
	ldap_msgfree(res);
	return ret;
}

void
rm_ldap_owners_of(const struct rm_ldap_conf *lc, struct rm_ldap_pool *pool,
                  const char *addr, struct rm_owned *out, char *err,
                  size_t errlen)
{
	const struct rm_ldap_senders *ls = lc->lc_senders;
	char filter[8192], *ga[1];
	struct owners_q q = {filter, RM_LOOKUP_ERROR};
	struct deadline dl;
	size_t o = 0;

	memset(out, 0, sizeof(*out));
	out->o_state = RM_LOOKUP_ERROR;
	if (ls == NULL) {
		out->o_state = RM_NOTFOUND;
		return;
	}
	ga[0] = ls->ls_group_attr;
	if (put(filter, sizeof(filter), &o, "(|") != 0 ||
	    (ls->ls_nattrs > 0 &&
	     any_entry(ls->ls_filter, 's', ls->ls_attrs, ls->ls_nattrs, addr,
	               filter, sizeof(filter), &o) != 0) ||
	    (ls->ls_group_filter != NULL && ls->ls_group_attr != NULL &&
	     any_entry(ls->ls_group_filter, 'd', ga, 1, addr, filter,
	               sizeof(filter), &o) != 0) ||
	    put(filter, sizeof(filter), &o, ")") != 0) {
		/* cannot be asked: never "nobody owns it" */
		snprintf(err, errlen, "owner lookup: the filter is too long");
		return;
	}
	if (strcmp(filter, "(|)") == 0) {
		out->o_state = RM_NOTFOUND;
		return;
	}
	lookup_deadline(lc, &dl);
	if (on_conn(lc, pool, &dl, owners_on, &q, err, errlen) == 0)
		out->o_state = q.found;
}

/* A sender lookup's user filter, its answer, and how many entries. */
struct senders_q {
	const char *filter;
	struct rm_owned *out;
	size_t ndn;
};

static int
senders_on(LDAP *ld, const struct rm_ldap_conf *lc, const struct deadline *dl,
           void *arg, char *err, size_t errlen)
{
	const struct rm_ldap_senders *ls = lc->lc_senders;
	char filter[4096], *gattrs[2], **dns = NULL, *none[] = {NULL};
	struct senders_q *q = arg;
	size_t ndn = 0, i;
	int rc;

	/* a second attempt starts over */
	rm_owned_clear(q->out);
	rc = collect(ld, lc, dl, q->filter, ls->ls_nattrs ? ls->ls_attrs : none,
	             q->out, &dns, &ndn, err, errlen);
	gattrs[0] = ls->ls_group_attr;
	gattrs[1] = NULL;
	for (i = 0; rc == 0 && ls->ls_group_filter != NULL && i < ndn; i++) {
		if (dns[i] == NULL ||
		    expand_filter(ls->ls_group_filter, 'd', dns[i], filter,
		                  sizeof(filter)) != 0)
			continue;
		rc = collect(ld, lc, dl, filter, gattrs, q->out, NULL, NULL,
		             err, errlen);
	}
	for (i = 0; i < ndn; i++)
		free(dns[i]);
	free(dns);
	q->ndn = ndn;
	return rc;
}

void
rm_ldap_senders(const struct rm_ldap_conf *lc, struct rm_ldap_pool *pool,
                const char *login, struct rm_owned *out, char *err,
                size_t errlen)
{
	const struct rm_ldap_senders *ls = lc->lc_senders;
	char filter[4096];
	struct senders_q q = {filter, out, 0};
	struct deadline dl;

	memset(out, 0, sizeof(*out));
	if (ls == NULL || login == NULL || *login == '\0') {
		out->o_state = RM_NOTFOUND;
		return;
	}
	if (expand_filter(ls->ls_filter, 's', login, filter, sizeof(filter)) !=
	    0) {
		/* too long to be anybody's login */
		out->o_state = RM_NOTFOUND;
		return;
	}
	lookup_deadline(lc, &dl);
	if (on_conn(lc, pool, &dl, senders_on, &q, err, errlen) != 0) {
		rm_owned_clear(out);
		out->o_state = RM_LOOKUP_ERROR;
		return;
	}
	out->o_state = q.ndn > 0 ? RM_FOUND : RM_NOTFOUND;
}
