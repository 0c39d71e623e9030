/*
 * ldapsync.c - RFC 4533 content synchronisation on a thread of its own,
 * and the change check of polling (see ldapsync.h).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "relaymilter/rm.h"
#include "relaymilter/ldapconn.h"
#include "relaymilter/ldapset.h"
#include "relaymilter/ldapsync.h"
#include "relaymilter/log.h"

#define BACKOFF_MIN 1   /* seconds before the first retry */
#define BACKOFF_MAX 60  /* and at most */
#define WAIT_MS     250 /* how often a quiet connection looks at "stop" */

/* One list's sync search, on a connection of its own. */
struct list_sync {
	LDAP *ls_ld;               /* NULL: not connected */
	int ls_msgid;              /* 0: none */
	bool ls_full;              /* started without a cookie */
	bool ls_refreshing;        /* its refresh phase is not done */
	char *ls_cookie;           /* the server's latest, or NULL */
	char *ls_start;            /* the cookie the search started from */
	unsigned long ls_received; /* entries of the current refresh */
	struct timespec ls_nobase; /* its base was missing then; 0: not */
};

struct rm_ldapsync {
	struct rm_ldap_conf *sy_lc;
	struct rm_ldapsync_hooks sy_hooks;
	pthread_t sy_thread;
	pthread_mutex_t sy_lock;
	pthread_cond_t sy_cond; /* a stop ends the back-off wait */
	atomic_bool sy_stopping;
	/* handed over, under sy_lock: the changes since the last handover
	   (or, sy_out_full, the whole data) and the cookies, in sy_out */
	struct rm_ldapdata sy_out;
	struct rm_ldapdelta sy_out_notes;
	bool sy_have_out, sy_out_full, sy_unsupported;
	/* the thread's own: the data, and its changes since the handover */
	struct rm_ldapset sy_set;
	struct rm_ldapdelta sy_notes;
	struct list_sync sy_lists[RM_L__COUNT];
	bool sy_dirty;           /* changes not handed over yet */
	struct timespec sy_last; /* the last change (debounce) */
	int sy_backoff;          /* seconds */
	bool sy_down;            /* the loss is logged */
};

static void
warn_log(void *arg, const char *msg)
{
	(void)arg;
	rm_log(RM_LOG_WARNING, "%s", msg);
}

static void
set_gauge(atomic_llong *g, long long v)
{
	if (g != NULL)
		atomic_store(g, v);
}

void
rm_ldap_sync_scope(const struct rm_ldap_conf *lc, int list, char *buf,
                   size_t len)
{
	const struct rm_ldap_map *m = &lc->lc_maps[list];
	char *attrs[7];
	size_t o = 0, i;
	int n;

	for (i = 0; i < lc->lc_nuris && o < len; i++) {
		n = snprintf(buf + o, len - o, "%s ", lc->lc_uris[i]);
		o += n > 0 ? (size_t)n : 0;
	}
	rm_ldap_map_attrs(m, attrs);
	if (o < len) {
		n = snprintf(buf + o, len - o, "|%s|%s|%s|",
		             lc->lc_bind_dn ? lc->lc_bind_dn : "",
		             m->lm_base ? m->lm_base : lc->lc_base,
		             m->lm_filter ? m->lm_filter : "");
		o += n > 0 ? (size_t)n : 0;
	}
	for (i = 0; attrs[i] != NULL && o < len; i++) {
		n = snprintf(buf + o, len - o, "%s%s", i ? "," : "", attrs[i]);
		o += n > 0 ? (size_t)n : 0;
	}
}

/* set_str - *p becomes a copy of the bytes (NULL: none, or a NUL inside) */
static void
set_str(char **p, const char *v, size_t n)
{
	free(*p);
	*p = NULL;
	if (v == NULL || memchr(v, 0, n) != NULL ||
	    (*p = malloc(n + 1)) == NULL)
		return;
	memcpy(*p, v, n);
	(*p)[n] = '\0';
}

/* uuid_text - the entryUUID as slapd writes it (RFC 4122 text) */
static void
uuid_text(const struct berval *bv, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < bv->bv_len && o + 3 < len; i++) {
		unsigned char c = (unsigned char)bv->bv_val[i];

		if (bv->bv_len == 16 && (i == 4 || i == 6 || i == 8 || i == 10))
			buf[o++] = '-';
		buf[o++] = hex[c >> 4];
		buf[o++] = hex[c & 15];
	}
	buf[o] = '\0';
}

/* start_search - the list's sync search, from its cookie if any */
static int
start_search(struct rm_ldapsync *s, int l, char *err, size_t errlen)
{
	const struct rm_ldap_map *m = &s->sy_lc->lc_maps[l];
	struct list_sync *ls = &s->sy_lists[l];
	LDAPControl c, *ctrls[2] = {&c, NULL};
	struct berval cookie;
	char *attrs[7];
	BerElement *ber;
	int rc;

	rm_ldap_map_attrs(m, attrs);
	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (ls->ls_cookie != NULL) {
		cookie.bv_val = ls->ls_cookie;
		cookie.bv_len = strlen(ls->ls_cookie);
		rc = ber_printf(ber, "{eOb}",
		                (ber_int_t)LDAP_SYNC_REFRESH_AND_PERSIST,
		                &cookie, (ber_int_t)0);
	} else
		rc = ber_printf(ber, "{eb}",
		                (ber_int_t)LDAP_SYNC_REFRESH_AND_PERSIST,
		                (ber_int_t)0);
	memset(&c, 0, sizeof(c));
	if (rc < 0 || ber_flatten2(ber, &c.ldctl_value, 0) < 0) {
		ber_free(ber, 1);
		snprintf(err, errlen, "cannot encode the sync control");
		return -1;
	}
	c.ldctl_oid = LDAP_CONTROL_SYNC;
	c.ldctl_iscritical = 1;
	rc = ldap_search_ext(ls->ls_ld,
	                     m->lm_base ? m->lm_base : s->sy_lc->lc_base,
	                     LDAP_SCOPE_SUBTREE, m->lm_filter, attrs, 0, ctrls,
	                     NULL, NULL, LDAP_NO_LIMIT, &ls->ls_msgid);
	ber_free(ber, 1);
	if (rc != LDAP_SUCCESS) {
		snprintf(err, errlen, "sync search %s: %s", rm_list_name(l),
		         ldap_err2string(rc));
		ls->ls_msgid = 0;
		return -1;
	}
	set_str(&ls->ls_start, ls->ls_cookie,
	        ls->ls_cookie ? strlen(ls->ls_cookie) : 0);
	ls->ls_refreshing = true;
	ls->ls_full = ls->ls_cookie == NULL;
	ls->ls_received = 0;
	rm_ldapset_begin(&s->sy_set, l);
	rm_log(RM_LOG_DEBUG, "LDAP sync: %s: %s refresh", rm_list_name(l),
	       ls->ls_cookie ? "incremental" : "full");
	return 0;
}

/* changed - a change was applied: the debounce starts again */
static void
changed(struct rm_ldapsync *s, size_t n)
{
	if (n == 0)
		return;
	s->sy_dirty = true;
	clock_gettime(CLOCK_MONOTONIC, &s->sy_last);
	if (s->sy_hooks.sh_changes != NULL)
		atomic_fetch_add(s->sy_hooks.sh_changes, (long long)n);
}

/* on_entry - an entry and its sync state */
static int
on_entry(struct rm_ldapsync *s, LDAP *ld, LDAPMessage *msg, int l)
{
	static const enum rm_sync_state states[] = {
	    [LDAP_SYNC_PRESENT] = RM_SYNC_PRESENT,
	    [LDAP_SYNC_ADD] = RM_SYNC_ADD,
	    [LDAP_SYNC_MODIFY] = RM_SYNC_MODIFY,
	    [LDAP_SYNC_DELETE] = RM_SYNC_DELETE};
	struct rm_ldapdata recs = {0};
	LDAPControl **ctrls = NULL, *c = NULL;
	struct berval uuid = {0, NULL}, cookie = {0, NULL};
	BerElement *ber = NULL;
	ber_int_t state = -1;
	ber_len_t len;
	char text[80], *dn;
	size_t i;
	int rc = 0, ch;

	if (ldap_get_entry_controls(ld, msg, &ctrls) == LDAP_SUCCESS)
		for (i = 0; ctrls != NULL && ctrls[i] != NULL; i++)
			if (strcmp(ctrls[i]->ldctl_oid,
			           LDAP_CONTROL_SYNC_STATE) == 0)
				c = ctrls[i];
	if (c == NULL || (ber = ber_init(&c->ldctl_value)) == NULL ||
	    ber_scanf(ber, "{em", &state, &uuid) == LBER_ERROR ||
	    uuid.bv_len == 0 || state < LDAP_SYNC_PRESENT ||
	    state > LDAP_SYNC_DELETE ||
	    (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
	     ber_scanf(ber, "m", &cookie) == LBER_ERROR)) {
		dn = ldap_get_dn(ld, msg);
		rm_log(RM_LOG_WARNING,
		       "ldap:%s: no usable sync state control; entry skipped",
		       dn ? rm_ldap_one_line(dn) : "-");
		ldap_memfree(dn);
		goto out;
	}
	if (cookie.bv_val != NULL)
		set_str(&s->sy_lists[l].ls_cookie, cookie.bv_val,
		        cookie.bv_len);
	if (s->sy_lists[l].ls_refreshing)
		s->sy_lists[l].ls_received++;
	uuid_text(&uuid, text, sizeof(text));
	if ((state == LDAP_SYNC_ADD || state == LDAP_SYNC_MODIFY) &&
	    rm_ldap_entry_records(ld, msg, s->sy_lc, l, text, &recs, warn_log,
	                          NULL) != 0) {
		rc = -1;
		goto out;
	}
	ch = rm_ldapset_apply(&s->sy_set, l, text, states[state], recs.d_recs,
	                      recs.d_n);
	if (ch < 0)
		rc = -1;
	else
		changed(s, (size_t)ch);
out:
	rm_ldapdata_clear(&recs);
	if (ber != NULL)
		ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return rc;
}

/* phase_end - a refreshPresent or refreshDelete message */
static void
phase_end(struct rm_ldapsync *s, int l, bool present, bool done)
{
	struct list_sync *ls = &s->sy_lists[l];
	size_t gone;

	/* a present phase names every entry; so does a refresh without a
	   cookie, whatever the phase it ends with */
	if ((present || (done && ls->ls_refreshing && ls->ls_full)) &&
	    (gone = rm_ldapset_end_present(&s->sy_set, l)) > 0) {
		rm_log(RM_LOG_DEBUG, "LDAP sync: %s: %zu entries gone",
		       rm_list_name(l), gone);
		changed(s, gone);
	}
	if (done && ls->ls_refreshing) {
		ls->ls_refreshing = false;
		/* the cookie reaches the cache even when nothing changed */
		s->sy_dirty = true;
		rm_log(RM_LOG_DEBUG,
		       "LDAP sync: %s: refresh done (%s phase, %lu entries "
		       "received)",
		       rm_list_name(l), present ? "present" : "delete",
		       ls->ls_received);
	}
}

/* on_info - a Sync Info Message: a cookie, a phase's end, a syncIdSet */
static int
on_info(struct rm_ldapsync *s, LDAP *ld, LDAPMessage *msg, int l)
{
	struct list_sync *ls = &s->sy_lists[l];
	struct berval *data = NULL, cookie = {0, NULL};
	BerVarray uuids = NULL;
	BerElement *ber = NULL;
	char *oid = NULL, text[80];
	ber_int_t done = 1, deletes = 0;
	ber_len_t len;
	ber_tag_t tag;
	size_t i;
	int rc = 0, ch;

	if (ldap_parse_intermediate(ld, msg, &oid, &data, NULL, 0) !=
	        LDAP_SUCCESS ||
	    oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 || data == NULL ||
	    (ber = ber_init(data)) == NULL)
		goto out;
	switch ((tag = ber_peek_tag(ber, &len))) {
	case LDAP_TAG_SYNC_NEW_COOKIE:
		if (ber_scanf(ber, "m", &cookie) == LBER_ERROR)
			goto bad;
		break;
	case LDAP_TAG_SYNC_REFRESH_DELETE:
	case LDAP_TAG_SYNC_REFRESH_PRESENT:
		if (ber_scanf(ber, "{") == LBER_ERROR ||
		    (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
		     ber_scanf(ber, "m", &cookie) == LBER_ERROR) ||
		    (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE &&
		     ber_scanf(ber, "b", &done) == LBER_ERROR))
			goto bad;
		phase_end(s, l, tag == LDAP_TAG_SYNC_REFRESH_PRESENT, done);
		break;
	case LDAP_TAG_SYNC_ID_SET:
		if (ber_scanf(ber, "{") == LBER_ERROR ||
		    (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
		     ber_scanf(ber, "m", &cookie) == LBER_ERROR) ||
		    (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES &&
		     ber_scanf(ber, "b", &deletes) == LBER_ERROR) ||
		    ber_scanf(ber, "[W]}", &uuids) == LBER_ERROR)
			goto bad;
		for (i = 0; uuids != NULL && uuids[i].bv_val != NULL; i++) {
			uuid_text(&uuids[i], text, sizeof(text));
			ch = rm_ldapset_apply(&s->sy_set, l, text,
			                      deletes ? RM_SYNC_DELETE
			                              : RM_SYNC_PRESENT,
			                      NULL, 0);
			if (ch < 0) {
				rc = -1;
				break;
			}
			changed(s, (size_t)ch);
		}
		break;
	default:
		goto bad;
	}
	if (cookie.bv_val != NULL)
		set_str(&ls->ls_cookie, cookie.bv_val, cookie.bv_len);
	goto out;
bad:
	rm_log(RM_LOG_WARNING,
	       "LDAP sync: %s: a malformed Sync Info Message; "
	       "ignored",
	       rm_list_name(l));
out:
	ber_bvarray_free(uuids);
	if (ber != NULL)
		ber_free(ber, 1);
	ldap_memfree(oid);
	ber_bvfree(data);
	return rc;
}

/* base_missing - the list's last search found no base (ls_nobase set) */
static bool
base_missing(const struct list_sync *ls)
{
	return ls->ls_nobase.tv_sec != 0 || ls->ls_nobase.tv_nsec != 0;
}

/*
 * on_result - the end of a sync search: 0 (searching again), 1 (the
 * server has no content sync), -1 (err).
 */
static int
on_result(struct rm_ldapsync *s, LDAP *ld, LDAPMessage *msg, int l, char *err,
          size_t errlen)
{
	struct list_sync *ls = &s->sy_lists[l];
	char *text = NULL;
	int code = LDAP_OTHER;
	bool again, dirty;

	ls->ls_msgid = 0;
	ldap_parse_result(ld, msg, &code, NULL, &text, NULL, NULL, 0);
	snprintf(err, errlen, "sync search %s: %s%s%s", rm_list_name(l),
	         ldap_err2string(code), text && *text ? ": " : "",
	         text ? text : "");
	ldap_memfree(text);
	switch (code) {
	case LDAP_SYNC_REFRESH_REQUIRED:
		/* the data in hand stays until the new refresh is done */
		rm_log(RM_LOG_INFO,
		       "LDAP sync: %s: the server asks for a full refresh",
		       rm_list_name(l));
		set_str(&ls->ls_cookie, NULL, 0);
		return start_search(s, l, err, errlen);
	case LDAP_UNAVAILABLE_CRITICAL_EXTENSION:
	case LDAP_UNWILLING_TO_PERFORM:
		return 1;
	case LDAP_NO_SUCH_OBJECT:
		/* no base: an empty list, as for a fetch; no search runs to
		   tell when the base comes (or comes back), so the search is
		   started again every ldap.refresh seconds (look_again); a
		   list already empty has nothing to hand over */
		again = base_missing(ls);
		dirty = s->sy_dirty;
		phase_end(s, l, true, true);
		set_str(&ls->ls_cookie, NULL, 0);
		if (again)
			s->sy_dirty = dirty;
		else
			rm_log(RM_LOG_INFO,
			       "LDAP sync: %s: no base %s: an empty list; "
			       "looking again every %d s",
			       rm_list_name(l),
			       s->sy_lc->lc_maps[l].lm_base
			           ? s->sy_lc->lc_maps[l].lm_base
			           : s->sy_lc->lc_base,
			       s->sy_lc->lc_refresh);
		clock_gettime(CLOCK_MONOTONIC, &ls->ls_nobase);
		return 0;
	default:
		return -1;
	}
}

/* refreshing - some list is in its refresh phase */
static bool
refreshing(const struct rm_ldapsync *s)
{
	int l;

	for (l = 0; l < RM_L__COUNT; l++)
		if (s->sy_lists[l].ls_msgid != 0 &&
		    s->sy_lists[l].ls_refreshing)
			return true;
	return false;
}

/* cookies - every list's cookie into d; 0, or -1 out of memory */
static int
cookies(const struct rm_ldapsync *s, struct rm_ldapdata *d)
{
	char scope[4096];
	int l;

	for (l = 0; l < RM_L__COUNT; l++) {
		if (s->sy_lists[l].ls_cookie == NULL)
			continue;
		rm_ldap_sync_scope(s->sy_lc, l, scope, sizeof(scope));
		if (rm_ldapdata_set_cookie(d, l, s->sy_lists[l].ls_cookie,
		                           scope) != 0)
			return -1;
	}
	return 0;
}

/*
 * hand_over - under sy_lock: the changes noted since the last handover
 * join what waits (the notes, or the whole data they patch); -1 when out
 * of memory (what waits is dropped: the next handover is whole)
 */
static int
hand_over(struct rm_ldapsync *s, struct rm_ldapdata *cookies_of)
{
	rm_ldapdata_take_cookies(&s->sy_out, cookies_of);
	if (s->sy_have_out && s->sy_out_full
	        ? rm_ldapdelta_patch(&s->sy_out, &s->sy_notes) < 0
	        : rm_ldapdelta_move(&s->sy_out_notes, &s->sy_notes) != 0) {
		rm_ldapdata_clear(&s->sy_out);
		rm_ldapdelta_clear(&s->sy_out_notes);
		s->sy_have_out = s->sy_out_full = false;
		return -1;
	}
	s->sy_out_full = s->sy_have_out && s->sy_out_full;
	s->sy_have_out = true;
	return 0;
}

/*
 * publish - the changes since the last handover (or, when they could not
 * all be noted, the whole data) and the cookies, to the reload thread
 */
static void
publish(struct rm_ldapsync *s)
{
	struct rm_ldapdata d = {0};
	size_t n = rm_ldapdelta_size(&s->sy_notes);
	bool full = s->sy_set.s_notes_lost;
	int rc;

	if ((full && rm_ldapset_records(&s->sy_set, &d) != 0) ||
	    cookies(s, &d) != 0) {
		rm_ldapdata_clear(&d);
		rm_log(RM_LOG_ERR, "LDAP sync: out of memory");
		return;
	}
	pthread_mutex_lock(&s->sy_lock);
	if (full) {
		rm_ldapdata_clear(&s->sy_out);
		rm_ldapdelta_clear(&s->sy_out_notes);
		s->sy_out = d;
		memset(&d, 0, sizeof(d));
		s->sy_have_out = s->sy_out_full = true;
		rc = 0;
	} else
		rc = hand_over(s, &d);
	pthread_mutex_unlock(&s->sy_lock);
	rm_ldapdata_clear(&d);
	rm_ldapdelta_clear(&s->sy_notes);
	/* noting again: a failure here makes the next handover whole */
	s->sy_set.s_notes_lost = rc != 0;
	s->sy_dirty = rc != 0;
	if (rc != 0) {
		rm_log(RM_LOG_ERR, "LDAP sync: out of memory");
		return;
	}
	if (full)
		rm_log(RM_LOG_DEBUG, "LDAP sync: %zu records handed over",
		       s->sy_out.d_n);
	else
		rm_log(RM_LOG_DEBUG,
		       "LDAP sync: %zu changed records handed "
		       "over",
		       n);
	s->sy_hooks.sh_wake(s->sy_hooks.sh_arg);
}

/* dispatch - one message of list l's search: 0, or as on_result */
static int
dispatch(struct rm_ldapsync *s, LDAPMessage *msg, int l, char *err,
         size_t errlen)
{
	LDAP *ld = s->sy_lists[l].ls_ld;
	int rc = 0;

	if (ldap_msgid(msg) != s->sy_lists[l].ls_msgid)
		return 0; /* a notice, or what an old search left */
	switch (ldap_msgtype(msg)) {
	case LDAP_RES_SEARCH_ENTRY:
		if ((rc = on_entry(s, ld, msg, l)) != 0)
			snprintf(err, errlen, "out of memory");
		break;
	case LDAP_RES_INTERMEDIATE:
		if ((rc = on_info(s, ld, msg, l)) != 0)
			snprintf(err, errlen, "out of memory");
		break;
	case LDAP_RES_SEARCH_RESULT:
		rc = on_result(s, ld, msg, l, err, errlen);
		break;
	default:
		break;
	}
	return rc;
}

/* drain - every message list l's connection has: 0, or as dispatch */
static int
drain(struct rm_ldapsync *s, int l, char *err, size_t errlen)
{
	struct timeval zero = {0, 0};
	LDAPMessage *msg;
	int rc, code;

	while (s->sy_lists[l].ls_ld != NULL) {
		msg = NULL;
		rc = ldap_result(s->sy_lists[l].ls_ld, LDAP_RES_ANY,
		                 LDAP_MSG_ONE, &zero, &msg);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			code = LDAP_SERVER_DOWN;
			ldap_get_option(s->sy_lists[l].ls_ld,
			                LDAP_OPT_RESULT_CODE, &code);
			snprintf(err, errlen, "%s: %s", rm_list_name(l),
			         ldap_err2string(code));
			return -1;
		}
		if (s->sy_hooks.sh_connected != NULL &&
		    atomic_load(s->sy_hooks.sh_connected) == 0) {
			/* the server answers: the retries start over */
			set_gauge(s->sy_hooks.sh_connected, 1);
			s->sy_backoff = BACKOFF_MIN;
			if (s->sy_down)
				rm_log(RM_LOG_INFO,
				       "LDAP content synchronisation "
				       "resumed");
			s->sy_down = false;
		}
		rc = dispatch(s, msg, l, err, errlen);
		ldap_msgfree(msg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * look_again - a list whose base was missing searches again once
 * ldap.refresh seconds have passed: 0, or -1 (err)
 */
static int
look_again(struct rm_ldapsync *s, char *err, size_t errlen)
{
	struct list_sync *ls;
	int l;

	for (l = 0; l < RM_L__COUNT; l++) {
		ls = &s->sy_lists[l];
		if (ls->ls_ld == NULL || ls->ls_msgid != 0 ||
		    !base_missing(ls) ||
		    rm_ms_since(&ls->ls_nobase) <
		        (long)s->sy_lc->lc_refresh * 1000)
			continue;
		if (start_search(s, l, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/*
 * follow - connect and run the sync searches until a stop (0), a lost
 * connection or a failed search (-1, err), or a server without content
 * sync (1).
 */
static int
follow(struct rm_ldapsync *s, char *err, size_t errlen)
{
	struct pollfd fds[RM_L__COUNT];
	int at[RM_L__COUNT], l, n, rc, fd;
	long wait, left;

	for (l = 0; l < RM_L__COUNT; l++) {
		if (s->sy_lc->lc_maps[l].lm_filter == NULL)
			continue;
		/* each connect may take ldap.timeout: a stop goes first */
		if (atomic_load(&s->sy_stopping))
			return 0;
		if ((s->sy_lists[l].ls_ld =
		         rm_ldap_connect(s->sy_lc, err, errlen)) == NULL ||
		    start_search(s, l, err, errlen) != 0)
			return -1;
	}
	while (!atomic_load(&s->sy_stopping)) {
		wait = WAIT_MS;
		if (look_again(s, err, errlen) != 0)
			return -1;
		if (s->sy_dirty && !refreshing(s)) {
			left =
			    RM_LDAPSYNC_DEBOUNCE_MS - rm_ms_since(&s->sy_last);
			if (left <= 0) {
				publish(s);
				continue;
			}
			wait = left;
		}
		for (l = n = 0; l < RM_L__COUNT; l++) {
			if (s->sy_lists[l].ls_ld == NULL ||
			    ldap_get_option(s->sy_lists[l].ls_ld, LDAP_OPT_DESC,
			                    &fd) != LDAP_OPT_SUCCESS)
				continue;
			fds[n].fd = fd;
			fds[n].events = POLLIN;
			fds[n].revents = 0;
			at[n++] = l;
		}
		if (poll(fds, (nfds_t)n, (int)wait) < 0 && errno != EINTR) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		/* libldap may hold read messages: every connection is
		 * asked */
		for (l = 0; l < n; l++)
			if ((rc = drain(s, at[l], err, errlen)) != 0)
				return rc;
	}
	return 0;
}

/* pause_for - wait the back-off (a stop ends it); false when stopping */
static bool
pause_for(struct rm_ldapsync *s)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += s->sy_backoff;
	s->sy_backoff =
	    s->sy_backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->sy_backoff * 2;
	pthread_mutex_lock(&s->sy_lock);
	while (!atomic_load(&s->sy_stopping) &&
	       pthread_cond_timedwait(&s->sy_cond, &s->sy_lock, &until) == 0)
		;
	pthread_mutex_unlock(&s->sy_lock);
	return !atomic_load(&s->sy_stopping);
}

/* lost - the searches are gone: a list not done with its refresh starts
   it again from where it started */
static void
lost(struct rm_ldapsync *s)
{
	struct list_sync *ls;
	int l;

	set_gauge(s->sy_hooks.sh_connected, 0);
	for (l = 0; l < RM_L__COUNT; l++) {
		ls = &s->sy_lists[l];
		if (ls->ls_ld != NULL)
			ldap_unbind_ext_s(ls->ls_ld, NULL, NULL);
		ls->ls_ld = NULL;
		if (ls->ls_msgid != 0 && ls->ls_refreshing)
			set_str(&ls->ls_cookie, ls->ls_start,
			        ls->ls_start ? strlen(ls->ls_start) : 0);
		ls->ls_msgid = 0;
		ls->ls_refreshing = false;
		memset(&ls->ls_nobase, 0, sizeof(ls->ls_nobase));
	}
}

static void *
sync_thread(void *arg)
{
	struct rm_ldapsync *s = arg;
	char err[1024];
	int rc;

	while (!atomic_load(&s->sy_stopping)) {
		rc = follow(s, err, sizeof(err));
		lost(s);
		if (rc == 0)
			break;
		if (rc > 0 && s->sy_lc->lc_sync == RM_LDAP_SYNC_AUTO) {
			rm_log(RM_LOG_INFO,
			       "LDAP: the server offers no content "
			       "synchronisation (%s); polling every %d s",
			       err, s->sy_lc->lc_refresh);
			pthread_mutex_lock(&s->sy_lock);
			s->sy_unsupported = true;
			pthread_mutex_unlock(&s->sy_lock);
			s->sy_hooks.sh_wake(s->sy_hooks.sh_arg);
			break;
		}
		if (!s->sy_down)
			rm_log(RM_LOG_ERR,
			       "LDAP content synchronisation lost: %s; "
			       "retrying with back-off, the data in hand "
			       "stays",
			       err);
		s->sy_down = true;
		if (!pause_for(s))
			break;
	}
	return NULL;
}

struct rm_ldapsync *
rm_ldapsync_start(struct rm_ldap_conf *lc, const struct rm_ldapdata *seed,
                  const struct rm_ldapsync_hooks *hooks)
{
	struct rm_ldapsync *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	char scope[4096];
	int l, rc;

	if (s == NULL || rm_ldapset_seed(&s->sy_set, seed) != 0) {
		rm_log(RM_LOG_ERR, "LDAP sync: out of memory");
		free(s);
		return NULL;
	}
	/* from now on each change is noted: the handovers are changes */
	s->sy_set.s_notes = &s->sy_notes;
	s->sy_lc = rm_ldap_conf_hold(lc);
	s->sy_hooks = *hooks;
	s->sy_backoff = BACKOFF_MIN;
	atomic_init(&s->sy_stopping, false);
	for (l = 0; l < RM_L__COUNT; l++) {
		rm_ldap_sync_scope(lc, l, scope, sizeof(scope));
		if (seed->d_cookie[l] != NULL && seed->d_scope[l] != NULL &&
		    strcmp(seed->d_scope[l], scope) == 0)
			set_str(&s->sy_lists[l].ls_cookie, seed->d_cookie[l],
			        strlen(seed->d_cookie[l]));
	}
	pthread_mutex_init(&s->sy_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->sy_cond, &ca);
	pthread_condattr_destroy(&ca);
	set_gauge(hooks->sh_connected, 0);
	if ((rc = pthread_create(&s->sy_thread, NULL, sync_thread, s)) != 0) {
		rm_log(RM_LOG_ERR, "cannot start the LDAP sync thread: %s",
		       strerror(rc));
		s->sy_thread = pthread_self();
		atomic_store(&s->sy_stopping, true);
		rm_ldapsync_stop(s);
		return NULL;
	}
	return s;
}

enum rm_ldapsync_news
rm_ldapsync_take(struct rm_ldapsync *s, struct rm_ldapsync_out *out)
{
	enum rm_ldapsync_news n = RM_LDAPSYNC_NOTHING;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&s->sy_lock);
	if (s->sy_have_out) {
		out->so_full = s->sy_out_full;
		out->so_data = s->sy_out;
		out->so_notes = s->sy_out_notes;
		memset(&s->sy_out, 0, sizeof(s->sy_out));
		memset(&s->sy_out_notes, 0, sizeof(s->sy_out_notes));
		s->sy_have_out = s->sy_out_full = false;
		n = RM_LDAPSYNC_DATA;
	} else if (s->sy_unsupported)
		n = RM_LDAPSYNC_UNSUPPORTED;
	pthread_mutex_unlock(&s->sy_lock);
	return n;
}

const struct rm_ldap_conf *
rm_ldapsync_conf(const struct rm_ldapsync *s)
{
	return s->sy_lc;
}

void
rm_ldapsync_stop(struct rm_ldapsync *s)
{
	int l;

	if (s == NULL)
		return;
	pthread_mutex_lock(&s->sy_lock);
	atomic_store(&s->sy_stopping, true);
	pthread_cond_broadcast(&s->sy_cond);
	pthread_mutex_unlock(&s->sy_lock);
	if (!pthread_equal(s->sy_thread, pthread_self()))
		pthread_join(s->sy_thread, NULL);
	set_gauge(s->sy_hooks.sh_connected, 0);
	for (l = 0; l < RM_L__COUNT; l++) {
		free(s->sy_lists[l].ls_cookie);
		free(s->sy_lists[l].ls_start);
	}
	rm_ldapset_free(&s->sy_set);
	rm_ldapdelta_clear(&s->sy_notes);
	rm_ldapdelta_clear(&s->sy_out_notes);
	rm_ldapdata_clear(&s->sy_out);
	pthread_cond_destroy(&s->sy_cond);
	pthread_mutex_destroy(&s->sy_lock);
	rm_ldap_conf_free(s->sy_lc);
	free(s);
}

/* ---- polling: the change check ------------------------------------------ */

/* csn_of - the contextCSN values of dn, joined, into out; 1 found, 0 none,
   -1 the search failed */
static int
csn_of(LDAP *ld, const struct rm_ldap_conf *lc, const char *dn,
       struct rm_ldap_mark *mk, char *out, size_t len, char *err, size_t errlen)
{
	struct timeval tv = {lc->lc_timeout, 0};
	char *attrs[] = {"contextCSN", NULL};
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	size_t i, o = 0;
	int rc;

	mk->m_searches++;
	rc = ldap_search_ext_s(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)",
	                       attrs, 0, NULL, NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
		snprintf(err, errlen, "contextCSN of %s: %s", dn,
		         ldap_err2string(rc));
		ldap_msgfree(res);
		return -1;
	}
	out[0] = '\0';
	if ((e = ldap_first_entry(ld, res)) != NULL)
		v = ldap_get_values_len(ld, e, "contextCSN");
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		int n = snprintf(out + o, len - o, "%s%.*s", i ? " " : "",
		                 (int)v[i]->bv_len, v[i]->bv_val);

		o += n > 0 && (size_t)n < len - o ? (size_t)n : 0;
	}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return out[0] != '\0';
}

/* parent - the DN above dn, or NULL at the top */
static const char *
parent(const char *dn)
{
	for (; *dn != '\0'; dn++) {
		if (*dn == '\\' && dn[1] != '\0')
			dn++;
		else if (*dn == ',')
			return dn[1] != '\0' ? dn + 1 : NULL;
	}
	return NULL;
}

/* since - entries created or modified since the last check: 1, 0, -1 */
static int
since(LDAP *ld, const struct rm_ldap_conf *lc, struct rm_ldap_mark *mk,
      char *err, size_t errlen)
{
	struct timeval tv = {lc->lc_timeout, 0};
	char *attrs[] = {"1.1", NULL}, filter[128], t[32];
	LDAPMessage *res = NULL;
	time_t now = time(NULL), from = mk->m_last - 2;
	struct tm tm;
	int rc;

	if (mk->m_last == 0 || ++mk->m_checks >= RM_LDAP_MARK_FULL) {
		mk->m_last = now;
		mk->m_checks = 0;
		return 1;
	}
	gmtime_r(&from, &tm);
	strftime(t, sizeof(t), "%Y%m%d%H%M%SZ", &tm);
	snprintf(filter, sizeof(filter),
	         "(|(modifyTimestamp>=%s)(createTimestamp>=%s))", t, t);
	mk->m_searches++;
	rc = ldap_search_ext_s(ld, lc->lc_base, LDAP_SCOPE_SUBTREE, filter,
	                       attrs, 0, NULL, NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED &&
	    rc != LDAP_NO_SUCH_OBJECT) {
		snprintf(err, errlen, "change check: %s", ldap_err2string(rc));
		ldap_msgfree(res);
		return -1;
	}
	rc = rc == LDAP_SIZELIMIT_EXCEEDED || ldap_count_entries(ld, res) > 0;
	ldap_msgfree(res);
	mk->m_last = now;
	return rc;
}

int
rm_ldap_changed(const struct rm_ldap_conf *lc, struct rm_ldap_mark *mk,
                char *err, size_t errlen)
{
	char csn[sizeof(mk->m_csn)];
	const char *dn;
	LDAP *ld;
	int rc = 0;

	if ((ld = rm_ldap_connect(lc, err, errlen)) == NULL)
		return -1;
	/* where the naming context's contextCSN is: the base, or above */
	for (dn = lc->lc_base; mk->m_kind == 0 && dn != NULL; dn = parent(dn))
		if ((rc = csn_of(ld, lc, dn, mk, csn, sizeof(csn), err,
		                 errlen)) != 0)
			break;
	if (mk->m_kind == 0 && rc >= 0) {
		mk->m_kind = rc > 0 ? 1 : 2;
		if (rc > 0)
			snprintf(mk->m_dn, sizeof(mk->m_dn), "%s", dn);
		rm_log(RM_LOG_DEBUG, "LDAP change check: %s%s",
		       rc > 0 ? "the contextCSN of " : "modifyTimestamp",
		       rc > 0 ? mk->m_dn : "");
		rc = mk->m_kind == 1 ? 1 : rc;
	} else if (mk->m_kind == 1)
		rc =
		    csn_of(ld, lc, mk->m_dn, mk, csn, sizeof(csn), err, errlen);
	if (rc >= 0 && mk->m_kind == 1) {
		if (rc == 0) /* it went away: look again next time */
			mk->m_kind = 0;
		rc = rc == 0 || strcmp(csn, mk->m_csn) != 0;
		snprintf(mk->m_csn, sizeof(mk->m_csn), "%s", csn);
	} else if (rc >= 0 && mk->m_kind == 2)
		rc = since(ld, lc, mk, err, errlen);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return rc;
}
