/*
 * limits.c - the sliding-window arithmetic and the admission of one
 * recipient against the limits that apply (limits.h).
 *
 * No clock and no lock of its own: the caller passes now, the store port
 * keeps the state.  A recipient is admitted only if every limit admits
 * it; when one refuses, what the others counted is taken back, so a
 * refused recipient is counted by none.
 */
#include <stdio.h>
#include <string.h>

#include "relaymilter/addr.h"
#include "relaymilter/ip.h"
#include "relaymilter/limits.h"

void
rm_window_roll(struct rm_window *w, unsigned per, uint64_t now)
{
	uint64_t start = now - now % per;
	int i;

	if (start <= w->w_start)
		return; /* same window, or a clock that went back */
	for (i = 0; i < RM_WC__COUNT; i++) {
		w->w_prev[i] = start - w->w_start == per ? w->w_cur[i] : 0;
		w->w_cur[i] = 0;
	}
	w->w_start = start;
}

uint64_t
rm_window_estimate(struct rm_window *w, unsigned per, uint64_t now, int what)
{
	uint64_t elapsed;

	rm_window_roll(w, per, now);
	elapsed = now > w->w_start ? now - w->w_start : 0;
	if (elapsed >= per)
		elapsed = per - 1; /* cannot happen once rolled */
	return (uint64_t)w->w_prev[what] * (per - elapsed) +
	       (uint64_t)w->w_cur[what] * per;
}

bool
rm_window_admits(struct rm_window *w, unsigned per, uint64_t now,
                 const unsigned add[RM_WC__COUNT],
                 const unsigned long max[RM_WC__COUNT])
{
	int i;

	for (i = 0; i < RM_WC__COUNT; i++)
		if (max[i] != 0 && rm_window_estimate(w, per, now, i) +
		                           (uint64_t)add[i] * per >
		                       (uint64_t)max[i] * per)
			return false;
	return true;
}

void
rm_window_add(struct rm_window *w, unsigned per, uint64_t now,
              const int add[RM_WC__COUNT])
{
	int i;

	rm_window_roll(w, per, now);
	for (i = 0; i < RM_WC__COUNT; i++) {
		if (add[i] >= 0)
			w->w_cur[i] =
			    w->w_cur[i] > UINT32_MAX - (unsigned)add[i]
			        ? UINT32_MAX
			        : w->w_cur[i] + (unsigned)add[i];
		else if (w->w_cur[i] >= (unsigned)-add[i])
			w->w_cur[i] -= (unsigned)-add[i];
		else
			w->w_cur[i] = 0;
	}
}

bool
rm_window_idle(const struct rm_window *w, unsigned per, uint64_t now)
{
	return now >= w->w_start + 2 * (uint64_t)per ||
	       (now >= w->w_start + per && w->w_cur[0] == 0 &&
	        w->w_cur[1] == 0) ||
	       (w->w_cur[0] == 0 && w->w_cur[1] == 0 && w->w_prev[0] == 0 &&
	        w->w_prev[1] == 0);
}

void
rm_window_reper(struct rm_window *w, unsigned old_per, unsigned per,
                uint64_t now)
{
	uint64_t est[RM_WC__COUNT];
	int i;

	for (i = 0; i < RM_WC__COUNT; i++)
		est[i] =
		    (rm_window_estimate(w, old_per, now, i) + old_per - 1) /
		    old_per;
	w->w_start = now - now % per;
	for (i = 0; i < RM_WC__COUNT; i++) {
		w->w_prev[i] = 0;
		w->w_cur[i] =
		    est[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)est[i];
	}
}

/* lower_copy - s lower-cased into buf; false when it does not fit */
static bool
lower_copy(const char *s, char *buf, size_t len)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= len)
		return false;
	for (i = 0; i <= n; i++)
		buf[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a')
		                                    : s[i];
	return true;
}

/* client_key - the address, or its IPv6 network of prefix bits */
static bool
client_key(const struct rm_ip *ip, unsigned prefix, char *buf, size_t len)
{
	struct rm_ip net = *ip;
	char a[64];
	unsigned i;

	if (rm_ip_is_v4(ip) || prefix >= 128) {
		rm_ip_format(ip, buf, len);
		return true;
	}
	for (i = 0; i < 16; i++)
		if (i * 8 >= prefix)
			net.ip_b[i] = 0;
		else if (i * 8 + 8 > prefix)
			net.ip_b[i] &=
			    (unsigned char)(0xff00u >> (prefix - i * 8));
	snprintf(buf, len, "%s/%u", rm_ip_format(&net, a, sizeof(a)), prefix);
	return true;
}

bool
rm_limit_key(const struct rm_limit *lm, const struct rm_facts *f, char *buf,
             size_t len)
{
	struct rm_addr a;
	char tmp[RM_LIMIT_KEY_MAX];

	switch (lm->lm_key) {
	case RM_LK_LOGIN:
		return f->f_auth != NULL && lower_copy(f->f_auth, buf, len);
	case RM_LK_CLIENT:
		return f->f_client_ip != NULL &&
		       client_key(f->f_client_ip, lm->lm_v6prefix, buf, len);
	case RM_LK_SENDER:
	case RM_LK_SENDER_DOMAIN:
		if (f->f_sender == NULL ||
		    rm_addr_parse(f->f_sender, &a, NULL, 0) != 0 ||
		    (a.a_flags & RM_ADDR_NULL))
			return false;
		if (lm->lm_key == RM_LK_SENDER_DOMAIN)
			return lower_copy(a.a_domain, buf, len);
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s@%s", a.a_local,
		                     a.a_domain) >= sizeof(tmp))
			return false;
		return lower_copy(tmp, buf, len);
	case RM_LK__COUNT:
		break;
	}
	return false;
}

/* question - the store's question for limit lm and this recipient */
static void
question(const struct rm_limit *lm, const char *key, bool msg_new, bool monitor,
         struct rm_limit_q *q)
{
	memset(q, 0, sizeof(*q));
	q->q_limit = lm->lm_name;
	q->q_key = key;
	q->q_per = lm->lm_per;
	q->q_lock = lm->lm_lock;
	q->q_max[RM_WC_MSGS] = lm->lm_messages;
	q->q_max[RM_WC_RCPTS] = lm->lm_recipients;
	q->q_add[RM_WC_MSGS] = msg_new ? 1 : 0;
	q->q_add[RM_WC_RCPTS] = 1;
	q->q_monitor = monitor;
}

/* event - note what the store said, when it is worth a log line */
static void
event(struct rm_limit_report *rep, const struct rm_limit *lm, const char *key,
      const struct rm_limit_ans *a, bool monitor)
{
	struct rm_limit_event *ev;

	if ((a->a_res == RM_LIM_ADMIT && !a->a_tripped) ||
	    rep->lr_n == RM_LIMIT_EVENTS_MAX)
		return;
	ev = &rep->lr_ev[rep->lr_n++];
	ev->le_limit = lm;
	snprintf(ev->le_key, sizeof(ev->le_key), "%s", key);
	ev->le_res = a->a_res;
	ev->le_tripped = a->a_tripped;
	ev->le_locked_now = a->a_locked_now;
	ev->le_monitor = monitor;
	ev->le_lock_left = a->a_lock_left;
	memcpy(ev->le_count, a->a_count, sizeof(ev->le_count));
}

/* refuse - the verdict becomes limit lm's refusal (or its "would") */
static void
refuse(const struct rm_ruleset *rs, const struct rm_facts *f,
       const struct rm_limit *lm, const struct rm_limit_ans *a,
       struct rm_verdict *v, bool monitor)
{
	const struct rm_profile *pf = rm_ruleset_profile(rs, f->f_listener);
	const struct rm_reply *r = lm->lm_has_reply
	                               ? &lm->lm_reply
	                               : rm_profile_reply(rs, pf, RM_R_LIMIT);
	const char *vals[RM_RV__COUNT];
	char ip[64], sender[RM_REPLY_VAR_MAX + 8], rcpt[RM_REPLY_VAR_MAX + 8];
	struct rm_reply *dst = monitor ? &v->v_would : &v->v_rbuf;

	if (a->a_res == RM_LIM_ERROR)
		r = rm_profile_reply(rs, pf, RM_R_TEMPFAIL);
	if (monitor && v->v_would_rule != NULL)
		return; /* the first monitored refusal is the one shown */
	if (r->r_has_vars) {
		vals[RM_RV_SENDER] =
		    f->f_sender
		        ? rm_addr_unbracket(f->f_sender, sender, sizeof(sender))
		        : NULL;
		vals[RM_RV_LOGIN] = f->f_auth;
		vals[RM_RV_HELO] = f->f_helo;
		vals[RM_RV_CLIENT] =
		    f->f_client_ip
		        ? rm_ip_format(f->f_client_ip, ip, sizeof(ip))
		        : NULL;
		vals[RM_RV_RCPT] =
		    f->f_rcpt ? rm_addr_unbracket(f->f_rcpt, rcpt, sizeof(rcpt))
		              : NULL;
		rm_reply_expand(r, vals, dst);
	} else
		*dst = *r;
	if (monitor) {
		v->v_would_rule = lm->lm_rule;
		v->v_would_check = RM_CK_LIMITS;
		return;
	}
	v->v_action = dst->r_action;
	v->v_reply = dst;
	v->v_rule = lm->lm_rule;
	v->v_entry = NULL;
	v->v_grant = NULL;
}

size_t
rm_limits_hits(struct rm_limit_store *st, const struct rm_limit_q *q, size_t n,
               uint64_t now, struct rm_limit_ans *a)
{
	size_t i, j;

	if (st->ls_hits != NULL)
		return st->ls_hits(st, q, n, now, a);
	for (i = 0; i < n; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		if (st->ls_hit(st, &q[i], now, &a[i]) != 0)
			a[i].a_res = RM_LIM_ERROR;
		if (!rm_limit_refuses(&q[i], &a[i]))
			continue;
		/* refused: what the limits before it counted is taken back */
		for (j = 0; j < i; j++)
			if (a[j].a_res == RM_LIM_ADMIT ||
			    (q[j].q_monitor && a[j].a_res == RM_LIM_OVER))
				st->ls_unhit(st, &q[j], now);
		return i + 1;
	}
	return n;
}

void
rm_limits_admit(struct rm_limit_store *st, const struct rm_ruleset *rs,
                const struct rm_facts *f, struct rm_limit_txn *tx, uint64_t now,
                struct rm_verdict *v, struct rm_limit_report *rep)
{
	char keys[RM_LIMITS_MAX][RM_LIMIT_KEY_MAX];
	const struct rm_limit *lms[RM_LIMITS_MAX];
	uint32_t bits[RM_LIMITS_MAX];
	struct rm_limit_q q[RM_LIMITS_MAX];
	struct rm_limit_ans a[RM_LIMITS_MAX];
	bool mon = v->v_limits_monitor;
	uint32_t bit, msgs = 0;
	size_t i, n = 0, got;

	rep->lr_n = 0;
	rep->lr_refused = -1;
	if (v->v_action != RM_CONTINUE || v->v_limits == 0 || st == NULL)
		return;
	for (i = 0; i < rs->rs_nlimits && i < RM_LIMITS_MAX; i++) {
		bit = UINT32_C(1) << i;
		lms[n] = &rs->rs_limits[i];
		if (!(v->v_limits & bit) ||
		    !rm_limit_key(lms[n], f, keys[n], sizeof(keys[n])))
			continue;
		question(lms[n], keys[n],
		         lms[n]->lm_messages && !(tx->lt_msg_counted & bit),
		         mon, &q[n]);
		bits[n++] = bit;
	}
	if (n == 0)
		return;
	got = rm_limits_hits(st, q, n, now, a);
	for (i = 0; i < got; i++) {
		event(rep, lms[i], keys[i], &a[i], mon);
		if (!rm_limit_refuses(&q[i], &a[i])) {
			/* monitored: counted whatever it says, never refused */
			if (a[i].a_res != RM_LIM_ADMIT)
				refuse(rs, f, lms[i], &a[i], v, true);
			if ((a[i].a_res == RM_LIM_ADMIT ||
			     a[i].a_res == RM_LIM_OVER) &&
			    q[i].q_add[RM_WC_MSGS])
				msgs |= bits[i];
			continue;
		}
		if (rep->lr_n > 0 &&
		    rep->lr_ev[rep->lr_n - 1].le_limit == lms[i])
			rep->lr_refused = (int)rep->lr_n - 1;
		refuse(rs, f, lms[i], &a[i], v, false);
		return; /* counted by none: the message is not counted either */
	}
	tx->lt_msg_counted |= msgs;
}

/* The Redis store's names: where it is and what its keys are. */

/* store_num - a decimal number from s up to end, at most max */
static int
store_num(const char *s, const char *end, unsigned long max, unsigned long *out)
{
	unsigned long n = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' ||
		    n > (max - (unsigned)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (unsigned)(*s - '0');
	}
	*out = n;
	return 0;
}

/* store_unix - "redis+unix:///PATH[?db=N]" after the scheme */
static int
store_unix(const char *p, struct rm_store_addr *a, char *err, size_t errlen)
{
	const char *q = strchr(p, '?');
	unsigned long db = 0;
	size_t n = q != NULL ? (size_t)(q - p) : strlen(p);

	if (*p != '/' || n >= sizeof(a->sa_path)) {
		snprintf(err, errlen,
		         "expected redis+unix:///PATH[?db=N], an absolute path "
		         "of at most %zu bytes",
		         sizeof(a->sa_path) - 1);
		return -1;
	}
	if (q != NULL && (strncmp(q, "?db=", 4) != 0 ||
	                  store_num(q + 4, q + strlen(q), 65535, &db) != 0)) {
		snprintf(err, errlen, "expected ?db=N after the path");
		return -1;
	}
	memcpy(a->sa_path, p, n);
	a->sa_path[n] = '\0';
	a->sa_db = (unsigned)db;
	return 0;
}

/* store_tcp - "redis://HOST[:PORT][/DB]" after the scheme */
static int
store_tcp(const char *p, struct rm_store_addr *a, char *err, size_t errlen)
{
	const char *slash = strchr(p, '/'), *end, *colon;
	unsigned long port = 6379, db = 0;

	end = slash != NULL ? slash : p + strlen(p);
	if (*p == '[') { /* [IPv6]:PORT */
		colon = memchr(p, ']', (size_t)(end - p));
		if (colon == NULL) {
			snprintf(err, errlen, "no ']' after the IPv6 address");
			return -1;
		}
		p++;
		colon++;
		if (colon < end && *colon != ':') {
			snprintf(err, errlen, "expected :PORT after ']'");
			return -1;
		}
		if ((size_t)(colon - 1 - p) >= sizeof(a->sa_host))
			goto bad;
		memcpy(a->sa_host, p, (size_t)(colon - 1 - p));
		a->sa_host[colon - 1 - p] = '\0';
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL)
			colon = end;
		if ((size_t)(colon - p) >= sizeof(a->sa_host))
			goto bad;
		memcpy(a->sa_host, p, (size_t)(colon - p));
		a->sa_host[colon - p] = '\0';
	}
	if (a->sa_host[0] == '\0' ||
	    (colon < end &&
	     (store_num(colon + 1, end, 65535, &port) != 0 || port == 0)) ||
	    (slash != NULL && slash[1] != '\0' &&
	     store_num(slash + 1, slash + strlen(slash), 65535, &db) != 0))
		goto bad;
	a->sa_port = (unsigned)port;
	a->sa_db = (unsigned)db;
	return 0;
bad:
	snprintf(err, errlen, "expected redis://HOST[:PORT][/DB]");
	return -1;
}

int
rm_store_parse(const char *spec, struct rm_store_addr *a, char *err,
               size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (strcmp(spec, "memory") == 0)
		return 0;
	a->sa_redis = true;
	if (strncmp(spec, "redis+unix://", 13) == 0)
		return store_unix(spec + 13, a, err, errlen);
	if (strncmp(spec, "redis://", 8) == 0)
		return store_tcp(spec + 8, a, err, errlen);
	snprintf(err, errlen,
	         "expected \"memory\", \"redis://HOST[:PORT][/DB]\" or "
	         "\"redis+unix:///PATH[?db=N]\"");
	return -1;
}

/* key_plain - a byte a Redis key keeps as it is */
static bool
key_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("._@+/-", c) != NULL;
}

bool
rm_limit_redis_key(const char *limit, const char *key, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n;
	int w = snprintf(buf, len, "rm:l:%s:", limit);

	if (w < 0 || (size_t)w >= len || strchr(limit, ':') != NULL)
		return false;
	n = (size_t)w;
	for (; *key != '\0'; key++) {
		unsigned char c = (unsigned char)*key;

		if (n + 4 > len)
			return false;
		if (c != '\0' && key_plain(c))
			buf[n++] = (char)c;
		else {
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = '\0';
	return true;
}

static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
rm_limit_redis_unkey(const char *rkey, char *limit, size_t llen, char *key,
                     size_t klen)
{
	const char *p, *colon;
	size_t n = 0;
	int hi, lo;

	if (strncmp(rkey, "rm:l:", 5) != 0 ||
	    (colon = strchr(rkey + 5, ':')) == NULL ||
	    (size_t)(colon - rkey - 5) >= llen)
		return false;
	memcpy(limit, rkey + 5, (size_t)(colon - rkey - 5));
	limit[colon - rkey - 5] = '\0';
	for (p = colon + 1; *p != '\0'; p++) {
		if (n + 1 >= klen)
			return false;
		if (*p != '%') {
			key[n++] = *p;
			continue;
		}
		if ((hi = unhex(p[1])) < 0 || (lo = unhex(p[2])) < 0 ||
		    (hi == 0 && lo == 0))
			return false;
		key[n++] = (char)(hi << 4 | lo);
		p += 2;
	}
	key[n] = '\0';
	return n > 0;
}
