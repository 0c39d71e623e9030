/*
 * policy.c - the relay decision for one recipient.
 *
 * Pure: facts and an immutable ruleset in, a verdict out.  No allocation,
 * no locks, no I/O except through the optional trace callback, which gets
 * one line per step for "relaymilter check --explain" and debug logs.
 *
 * The order is rcpt_steps[] at the end of this file; relaymilter.conf(5),
 * EVALUATION ORDER, documents it, and "relaymilter check --steps" prints
 * it from the table (a test holds the two together).  The first step
 * that decides ends the evaluation.  The checks (require_auth, deny,
 * sender_login, local_sender_spoof, helo_spoof, unlicensed_sender; the
 * table in ruleset.c) can each be off, monitored (log what it would do,
 * go on) or enforced, and lifted by a matching exception.  The relay step
 * is none of them: whatever does not prove the recipient ours is a relay,
 * and a relay needs proof that the client may relay.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "relaymilter/addr.h"
#include "relaymilter/log.h"
#include "relaymilter/policy.h"

/*
 * Where to look: the listener's own lists (entries scoped to it, may be
 * NULL), then the global ones.  The sets are reached by their offset in
 * struct rm_lists so that one helper serves every list of a kind.
 */
struct scope {
	const struct rm_lists *sc_l[2];
	const struct rm_ipset *sc_ours, *sc_ifs; /* rs_our/if_addrs */
};
#define L_OFF(member)       offsetof(struct rm_lists, member)
#define L_SET(l, off, type) (*(type *const *)((const char *)(l) + (off)))

/* sc_dom - a name, hashed once (rm_domkey_init), in one kind of list */
static bool
sc_dom(const struct scope *sc, size_t off, const struct rm_domkey *k,
       const void **tag)
{
	int i;

	for (i = 0; i < 2; i++)
		if (sc->sc_l[i] != NULL &&
		    rm_domset_lookup_key(
		        L_SET(sc->sc_l[i], off, struct rm_domset), k, tag))
			return true;
	return false;
}

/* sc_dom_name - sc_dom() of a name not hashed yet; nothing to do when
   the lists are empty */
static bool
sc_dom_name(const struct scope *sc, size_t off, const char *name,
            const void **tag)
{
	struct rm_domkey k;
	int i;

	for (i = 0; i < 2; i++)
		if (sc->sc_l[i] != NULL &&
		    rm_domset_count(L_SET(sc->sc_l[i], off, struct rm_domset)))
			return rm_domkey_init(&k, name) &&
			       sc_dom(sc, off, &k, tag);
	return false;
}

static bool
sc_ip(const struct scope *sc, size_t off, const struct rm_ip *ip,
      const void **tag)
{
	int i;

	for (i = 0; i < 2; i++)
		if (sc->sc_l[i] != NULL &&
		    rm_ipset_lookup(L_SET(sc->sc_l[i], off, struct rm_ipset),
		                    ip, tag))
			return true;
	return false;
}

static bool
sc_addr(const struct scope *sc, size_t off, const char *owner,
        const struct rm_addr *a, const void **tag)
{
	int i;

	for (i = 0; i < 2; i++)
		if (sc->sc_l[i] != NULL &&
		    rm_addrset_lookup(
		        L_SET(sc->sc_l[i], off, struct rm_addrset), owner, a,
		        tag))
			return true;
	return false;
}

static bool
sc_login(const struct scope *sc, size_t off, const char *login,
         const void **tag)
{
	int i;

	for (i = 0; i < 2; i++)
		if (sc->sc_l[i] != NULL &&
		    rm_strset_lookup(L_SET(sc->sc_l[i], off, struct rm_strset),
		                     login, tag))
			return true;
	return false;
}

static size_t
sc_count(const struct scope *sc, size_t off)
{
	size_t n = 0;
	int i;

	for (i = 0; i < 2; i++)
		if (sc->sc_l[i] != NULL)
			n += rm_addrset_count(
			    L_SET(sc->sc_l[i], off, struct rm_addrset));
	return n;
}

/* Where a recipient goes, as far as our lists can tell. */
struct dest {
	const char *d_rule;             /* list or rule that made it ours */
	const struct rm_entry *d_entry; /* the entry, if a list */
	bool d_literal;                 /* ours by an address literal */
};

/*
 * The mailers ({rcpt_mailer}) that hand a recipient to another host by
 * SMTP: Sendmail's and Postfix's default names.
 */
static const char *const smtp_mailers[] = {"smtp", "esmtp", "smtp8", "dsmtp",
                                           "relay"};

static void RM_PRINTFLIKE(2, 3)
    trace(const struct rm_trace *t, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (t == NULL || t->t_line == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->t_line(t->t_arg, line);
}

/* trace_match - "entry \"x\" at file:line" for a matched entry. */
static void
trace_match(const struct rm_trace *t, const char *what,
            const struct rm_entry *e)
{
	char lb[RM_LINE_BUF];

	if (t == NULL)
		return;
	if (e != NULL)
		trace(t, "%s is in %s%s%s%s (entry \"%s\" at %s%s)", what,
		      e->e_listener ? "listeners." : "",
		      e->e_listener ? e->e_listener : "",
		      e->e_listener ? "." : "", e->e_list, e->e_text,
		      e->e_where, rm_entry_line(e, lb));
}

/*
 * dest_literal - a recipient at an address literal is ours when it is
 * written as MTAs deliver locally and names the address the client
 * connected to or one of our_addresses.
 */
static int
dest_literal(const struct scope *sc, const struct rm_facts *f,
             const struct rm_addr *a, const char *shown, struct dest *d,
             const struct rm_trace *t)
{
	const void *tag;
	int pm = rm_addr_is_postmaster(a);

	/*
	 * [::ffff:a.b.c.d] (tagged or not, in any spelling) names our
	 * IPv4 address only for us, and so does an untagged IPv6
	 * literal: Postfix and Sendmail hand them to their SMTP
	 * client.
	 */
	if (a->a_flags & RM_ADDR_LITERAL_ODD) {
		trace(t,
		      "%s is an address literal in a form the MTA "
		      "does not deliver locally (only [a.b.c.d] and "
		      "[IPv6:x]): counts as a relay",
		      shown);
		return 0;
	}
	if (f->f_daemon_ip != NULL &&
	    memcmp(&a->a_literal, f->f_daemon_ip, sizeof(a->a_literal)) == 0)
		trace(t,
		      "%s is a literal of the address the client "
		      "connected to",
		      shown);
	else if (rm_ipset_lookup(sc->sc_ours, &a->a_literal, &tag)) {
		d->d_entry = tag;
		trace_match(t, shown, d->d_entry);
	} else {
		trace(t, "%s is an address literal that is not ours%s", shown,
		      f->f_daemon_ip ? "" : " (our address is unknown)");
		return 0;
	}
	d->d_rule = pm ? "postmaster" : "own_address_literal";
	d->d_literal = true;
	return 1;
}

/*
 * dest_ours - is the parsed address one of ours?  Fills *d and returns 1
 * when it is; returns 0, with the reason traced, when it is not.
 */
static int
dest_ours(const struct scope *sc, const struct rm_facts *f,
          const struct rm_addr *a, const char *shown, struct dest *d,
          const struct rm_trace *t)
{
	char sbuf[RM_DOMAIN_MAX * 4 + 8];
	struct rm_domkey k;
	const void *tag;
	int pm = rm_addr_is_postmaster(a);

	if (a->a_flags & RM_ADDR_NULL) {
		trace(t, "%s is the null address: not a destination", shown);
		return 0;
	}
	if (a->a_flags & RM_ADDR_SOURCE_ROUTE) {
		trace(t,
		      "%s has a source route: routing trick, counts as a "
		      "relay",
		      shown);
		return 0;
	}
	if (a->a_flags & RM_ADDR_ROUTING) {
		trace(t,
		      "%s has '@', '%%' or '!' in the local part: routing "
		      "trick, counts as a relay",
		      shown);
		return 0;
	}
	if (a->a_flags & RM_ADDR_UNQUALIFIED) {
		if (pm) {
			trace(t, "%s is the bare postmaster (RFC 5321 4.5.1)",
			      shown);
			d->d_rule = "postmaster";
			return 1;
		}
		trace(t,
		      "%s has no domain: not provably ours, counts as a "
		      "relay",
		      shown);
		return 0;
	}
	if (a->a_flags & RM_ADDR_LITERAL)
		return dest_literal(sc, f, a, shown, d, t);
	if (t != NULL)
		rm_log_sanitize(a->a_domain, sbuf, sizeof(sbuf));
	rm_domkey_init(&k, a->a_domain);
	if (sc_dom(sc, L_OFF(l_hostnames), &k, &tag) ||
	    sc_dom(sc, L_OFF(l_local_domains), &k, &tag)) {
		d->d_entry = tag;
		trace_match(t, sbuf, d->d_entry);
		d->d_rule = pm ? "postmaster" : d->d_entry->e_list;
		return 1;
	}
	if (sc_dom(sc, L_OFF(l_relay_domains), &k, &tag)) {
		d->d_entry = tag;
		trace_match(t, sbuf, d->d_entry);
		d->d_rule = d->d_entry->e_list;
		return 1;
	}
	trace(t,
	      "domain %s is not in hostnames, local_domains or "
	      "relay_domains",
	      sbuf);
	return 0;
}

/*
 * classify - parse one address (unless parsed already: pre) and decide
 * if it is ours.
 */
static int
classify(const struct scope *sc, const struct rm_facts *f, const char *what,
         const char *raw, const struct rm_addr *pre, struct dest *d,
         const struct rm_trace *t)
{
	struct rm_addr a;
	char shown[160], err[96], bare[96];

	if (t != NULL)
		snprintf(
		    shown, sizeof(shown), "%s <%s>", what,
		    rm_log_sanitize(rm_addr_unbracket(raw, bare, sizeof(bare)),
		                    err, sizeof(err)));
	else
		shown[0] = '\0';
	if (pre != NULL)
		return dest_ours(sc, f, pre, shown, d, t);
	if (rm_addr_parse(raw, &a, err, sizeof(err)) != 0) {
		trace(t,
		      "%s does not parse (%s): not provably ours, counts "
		      "as a relay",
		      shown, err);
		return 0;
	}
	return dest_ours(sc, f, &a, shown, d, t);
}

/* What the evaluation knows about one transaction. */
enum sender_state { S_MISSING, S_NULL, S_BAD, S_OK };

struct eval {
	const struct rm_ruleset *rs;
	const struct rm_facts *f;
	const struct rm_trace *t;
	struct rm_verdict *v;
	const struct rm_profile *pf;
	struct scope sc;
	int trusted; /* 1 yes, 0 no, -1 the client address is unknown */
	const struct rm_entry *trusted_by;
	int authed;
	unsigned lifted; /* RM_LIFT() bits from matching exceptions */
	enum sender_state sst;
	struct rm_addr sender;
	char sender_err[96];
	/* {mail_addr}, parsed when a check needs it: -1 not yet, 0 none
	   or unusable, 1 parsed */
	int mail_ok;
	struct rm_addr mail;
	/* the grant port's answer, asked at most once (NULL: not asked,
	   or no grants here) */
	bool grant_asked;
	const struct rm_grant *grant;
	/* the owner port's answer, asked at most once */
	bool owned_asked;
	const struct rm_owned *owned;
	/* the recipient, classified once (step_postmaster) */
	int ours;
	struct dest dest;
	/* the HELO name, hashed once when a list needs it: -1 not yet,
	   0 no such name, 1 in helo_k */
	int helo_ok;
	struct rm_domkey helo_k;
	int rcpt_ok; /* rcpt parsed */
	struct rm_addr rcpt;
	char bare_sender[RM_REPLY_VAR_MAX + 8], bare_rcpt[RM_REPLY_VAR_MAX + 8];
};

/* bare_copy - the address without its <>, cut to fit, for replies. */
static void
bare_copy(char *dst, size_t len, const char *a)
{
	size_t n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a++;
		n -= 2;
	}
	if (n >= len)
		n = len - 1;
	memcpy(dst, a, n);
	dst[n] = '\0';
}

/* expand - the reply with its placeholders filled in from the facts. */
static const struct rm_reply *
expand(struct eval *e, const struct rm_reply *r, struct rm_reply *dst)
{
	const char *vals[RM_RV__COUNT];
	char ip[64];

	if (!r->r_has_vars)
		return r;
	/* only a reply with placeholders needs them */
	if (e->f->f_sender != NULL)
		bare_copy(e->bare_sender, sizeof(e->bare_sender),
		          e->f->f_sender);
	if (e->f->f_rcpt != NULL)
		bare_copy(e->bare_rcpt, sizeof(e->bare_rcpt), e->f->f_rcpt);
	vals[RM_RV_SENDER] = e->f->f_sender == NULL ? NULL
	                     : e->sst == S_NULL     ? ""
	                                            : e->bare_sender;
	vals[RM_RV_LOGIN] = e->f->f_auth;
	vals[RM_RV_HELO] = e->f->f_helo;
	vals[RM_RV_CLIENT] =
	    e->f->f_client_ip ? rm_ip_format(e->f->f_client_ip, ip, sizeof(ip))
	                      : NULL;
	vals[RM_RV_RCPT] = e->f->f_rcpt ? e->bare_rcpt : NULL;
	vals[RM_RV_FROM] = e->v->v_from[0] != '\0' ? e->v->v_from : NULL;
	rm_reply_expand(r, vals, dst);
	return dst;
}

/* decide - the final verdict. */
static void
decide(struct eval *e, enum rm_action act, const struct rm_reply *r,
       const char *rule, const struct rm_entry *entry)
{
	struct rm_verdict *v = e->v;

	v->v_action = act;
	v->v_rule = rule;
	v->v_entry = entry;
	v->v_reply = act == RM_CONTINUE ? NULL : expand(e, r, &v->v_rbuf);
	trace(e->t, "verdict: %s (rule %s)", rm_action_name(act), rule);
}

/*
 * fire - a check found a reason to refuse.  Enforced: the verdict is
 * final, return 1.  Monitored: note what would have happened (the first
 * such check) and return 0 so that evaluation goes on.
 */
static int
fire(struct eval *e, enum rm_check ck, const struct rm_reply *r,
     const char *rule, const struct rm_entry *entry)
{
	char buf[RM_REPLY_TEXT_MAX + 32];
	struct rm_reply tmp;

	if (e->pf->pf_check[ck] != RM_CM_MONITOR) {
		decide(e, r->r_action, r, rule, entry);
		return 1;
	}
	if (e->v->v_would_rule == NULL) {
		e->v->v_would = *expand(e, r, &tmp);
		e->v->v_would_rule = rule;
		e->v->v_would_check = (int)ck;
	}
	if (e->t != NULL)
		trace(e->t, "monitor: check %s would %s with \"%s\"; going on",
		      rm_check_name(ck), rm_action_name(r->r_action),
		      rm_reply_format(expand(e, r, &tmp), buf, sizeof(buf)));
	return 0;
}

/* active - the check is on for this listener and not lifted. */
static int
active(struct eval *e, enum rm_check ck)
{
	if (e->pf->pf_check[ck] == RM_CM_OFF)
		return 0;
	if (e->lifted & RM_LIFT(ck)) {
		trace(e->t, "check %s is lifted by an exception",
		      rm_check_name(ck));
		return 0;
	}
	return 1;
}

static const struct rm_reply *
reply(const struct eval *e, enum rm_reply_id id)
{
	return rm_profile_reply(e->rs, e->pf, (int)id);
}

static void
eval_init(struct eval *e, const struct rm_ruleset *rs, const struct rm_facts *f,
          struct rm_verdict *v, const struct rm_trace *t)
{
	const void *tag = NULL;
	char buf[64];

	/* field by field: the address buffers and the reply buffers are
	   big, and whoever reads them fills them first */
	v->v_action = RM_CONTINUE;
	v->v_reply = NULL;
	v->v_rule = NULL;
	v->v_entry = NULL;
	v->v_would_rule = NULL;
	v->v_would_check = -1;
	v->v_limits = 0;
	v->v_limits_monitor = false;
	v->v_from[0] = '\0';
	e->trusted = 0;
	e->trusted_by = NULL;
	e->lifted = 0;
	e->rcpt_ok = 0;
	e->mail_ok = -1;
	e->owned_asked = false;
	e->owned = NULL;
	e->grant_asked = false;
	e->grant = NULL;
	v->v_grant = NULL;
	e->ours = 0;
	e->helo_ok = -1;
	e->dest.d_rule = NULL;
	e->dest.d_entry = NULL;
	e->dest.d_literal = false;
	e->sender_err[0] = '\0';
	e->rs = rs;
	e->f = f;
	e->t = t;
	e->v = v;
	e->pf = rm_ruleset_profile(rs, f->f_listener);
	e->sc.sc_l[0] = e->pf->pf_lists;
	e->sc.sc_l[1] = &rs->rs_lists;
	e->sc.sc_ours = rs->rs_our_addrs;
	e->sc.sc_ifs = rs->rs_if_addrs;
	if (t != NULL && f->f_listener != NULL) {
		char lb[80];

		rm_log_sanitize(f->f_listener, lb, sizeof(lb));
		if (e->pf->pf_name != NULL)
			trace(t, "listener %s: profile listeners.%s at %s", lb,
			      e->pf->pf_name, e->pf->pf_origin);
		else
			trace(t, "listener %s: no profile, top-level checks",
			      lb);
	}
	e->authed = f->f_auth != NULL && f->f_auth[0] != '\0';
	if (f->f_client_ip == NULL)
		e->trusted = -1;
	else if (sc_ip(&e->sc, L_OFF(l_trusted), f->f_client_ip, &tag)) {
		e->trusted = 1;
		e->trusted_by = tag;
	}
	if (t != NULL) {
		if (e->authed)
			trace(t, "client authenticated (SMTP AUTH) as %s",
			      rm_log_sanitize(f->f_auth, buf, sizeof(buf)));
		if (e->trusted == 1)
			trace_match(
			    t, rm_ip_format(f->f_client_ip, buf, sizeof(buf)),
			    e->trusted_by);
	}
	if (f->f_sender == NULL)
		e->sst = S_MISSING;
	else if (rm_addr_parse(f->f_sender, &e->sender, e->sender_err,
	                       sizeof(e->sender_err)) != 0)
		e->sst = S_BAD;
	else
		e->sst = e->sender.a_flags & RM_ADDR_NULL ? S_NULL : S_OK;
	if (f->f_rcpt != NULL)
		e->rcpt_ok = rm_addr_parse(f->f_rcpt, &e->rcpt, NULL, 0) == 0;
}

/* helo_key - the HELO name hashed for the domain sets, once; or NULL */
static const struct rm_domkey *
helo_key(struct eval *e)
{
	if (e->helo_ok < 0)
		e->helo_ok = e->f->f_helo != NULL &&
		             rm_domkey_init(&e->helo_k, e->f->f_helo);
	return e->helo_ok ? &e->helo_k : NULL;
}

/* sc_helo - the HELO name in one kind of list (hashed only if needed) */
static bool
sc_helo(struct eval *e, size_t off, const void **tag)
{
	const struct rm_domkey *k;
	int i;

	for (i = 0; i < 2; i++)
		if (e->sc.sc_l[i] != NULL &&
		    rm_domset_count(
		        L_SET(e->sc.sc_l[i], off, struct rm_domset)))
			return (k = helo_key(e)) != NULL &&
			       sc_dom(&e->sc, off, k, tag);
	return false;
}

/* lift - record what a matching exception lifts. */
static void
lift(struct eval *e, const char *what, const struct rm_entry *x)
{
	char names[160] = "", lb[RM_LINE_BUF];
	size_t n = 0;
	int ck;

	e->lifted |= x->e_lifts;
	if (e->t == NULL)
		return;
	for (ck = 0; ck < RM_CK__COUNT; ck++)
		if (x->e_lifts & RM_LIFT(ck))
			n += (size_t)snprintf(names + n, sizeof(names) - n,
			                      "%s%s", n ? "," : "",
			                      rm_check_name(ck));
	trace(e->t, "%s is in %s (entry \"%s\" at %s%s): lifts %s", what,
	      x->e_list, x->e_text, x->e_where, rm_entry_line(x, lb), names);
}

/* exact_entry - the entry names one address, not a whole domain. */
static bool
exact_entry(const struct rm_entry *x)
{
	const char *at = strrchr(x->e_text, '@');

	return at != NULL && at != x->e_text;
}

/*
 * sender_entry_ok - a sender matched entry x.  A routed sender
 * ("user%other@d", "<@hop:user@d>") goes where its last domain does not
 * say: only an entry for that exact address covers it, never one for a
 * whole domain.
 */
static bool
sender_entry_ok(const struct eval *e, const struct rm_entry *x)
{
	if (!(e->sender.a_flags & RM_ADDR_ROUTED) || exact_entry(x))
		return true;
	trace(e->t,
	      "the sender is routed: the whole-domain entry \"%s\" does "
	      "not cover it",
	      x->e_text);
	return false;
}

/* exceptions - OR together the lifts of every matching exception. */
static void
exceptions(struct eval *e)
{
	const struct rm_factsets *x;
	const void *tag;
	char buf[160];
	int i;

	/* the listener's own exceptions add to the global ones */
	for (i = 0; i < 2; i++) {
		if (e->sc.sc_l[i] == NULL)
			continue;
		x = &e->sc.sc_l[i]->l_exceptions;
		if (e->f->f_client_ip != NULL &&
		    rm_ipset_lookup(x->fs_clients, e->f->f_client_ip, &tag))
			lift(e,
			     rm_ip_format(e->f->f_client_ip, buf, sizeof(buf)),
			     tag);
		if (rm_domset_count(x->fs_helo) && helo_key(e) != NULL &&
		    rm_domset_lookup_key(x->fs_helo, helo_key(e), &tag))
			lift(e, "HELO name", tag);
		if (e->sst == S_OK &&
		    rm_addrset_lookup(x->fs_senders, NULL, &e->sender, &tag) &&
		    sender_entry_ok(e, tag))
			lift(e, "sender", tag);
		if (e->rcpt_ok &&
		    rm_addrset_lookup(x->fs_recipients, NULL, &e->rcpt, &tag))
			lift(e, "recipient", tag);
		if (e->authed &&
		    rm_strset_lookup(x->fs_logins, e->f->f_auth, &tag))
			lift(e, "login", tag);
	}
}

static int
check_require_auth(struct eval *e)
{
	if (e->authed || !active(e, RM_CK_REQUIRE_AUTH))
		return 0;
	trace(e->t, "this listener requires SMTP AUTH and the client did "
	            "not authenticate");
	return fire(e, RM_CK_REQUIRE_AUTH, reply(e, RM_R_REQUIRE_AUTH),
	            "require_auth", NULL);
}

/* deny_hit - a deny entry matched: its own reply, or the list's. */
static int
deny_hit(struct eval *e, const char *what, const void *tag, enum rm_reply_id id,
         const char *rule)
{
	const struct rm_entry *x = tag;

	trace_match(e->t, what, x);
	return fire(e, RM_CK_DENY, x->e_reply ? x->e_reply : reply(e, id), rule,
	            x);
}

static int
check_deny(struct eval *e)
{
	const struct scope *sc = &e->sc;
	const void *tag;
	char buf[160];

	if (!active(e, RM_CK_DENY))
		return 0;
	if (e->f->f_client_ip != NULL &&
	    sc_ip(sc, L_OFF(l_deny.fs_clients), e->f->f_client_ip, &tag) &&
	    deny_hit(e, rm_ip_format(e->f->f_client_ip, buf, sizeof(buf)), tag,
	             RM_R_DENY_CLIENT, "deny_client"))
		return 1;
	if (sc_helo(e, L_OFF(l_deny.fs_helo), &tag) &&
	    deny_hit(e, "HELO name", tag, RM_R_DENY_HELO, "deny_helo"))
		return 1;
	if (e->sst == S_OK &&
	    sc_addr(sc, L_OFF(l_deny.fs_senders), NULL, &e->sender, &tag) &&
	    deny_hit(e, "sender", tag, RM_R_DENY_SENDER, "deny_sender"))
		return 1;
	if (e->rcpt_ok &&
	    sc_addr(sc, L_OFF(l_deny.fs_recipients), NULL, &e->rcpt, &tag) &&
	    deny_hit(e, "recipient", tag, RM_R_DENY_RECIPIENT,
	             "deny_recipient"))
		return 1;
	if (e->authed &&
	    sc_login(sc, L_OFF(l_deny.fs_logins), e->f->f_auth, &tag) &&
	    deny_hit(e, "the login", tag, RM_R_DENY_LOGIN, "deny_login"))
		return 1;
	return 0;
}

/*
 * sender_usable - for a check that needs the sender: 1 when it parsed,
 * 0 for "<>" (nothing to check), or the check fires: tempfail when the
 * MTA gave no sender, bad_sender when it does not parse.  *stop is set
 * when the verdict is final.
 */
static int
sender_usable(struct eval *e, enum rm_check ck, const char *rule, int *stop)
{
	*stop = 0;
	switch (e->sst) {
	case S_OK:
		return 1;
	case S_NULL:
		trace(e->t, "%s: the null sender <> (a bounce) passes", rule);
		return 0;
	case S_MISSING:
		trace(e->t, "%s: the MTA gave no sender", rule);
		*stop = fire(e, ck, reply(e, RM_R_TEMPFAIL), rule, NULL);
		return 0;
	case S_BAD:
		trace(e->t, "%s: the sender does not parse (%s)", rule,
		      e->sender_err);
		*stop = fire(e, ck, reply(e, RM_R_BAD_SENDER), rule, NULL);
		return 0;
	}
	return 0;
}

/* owned_match - the sender matches one of the looked-up patterns. */
static int
owned_match(const struct rm_owned *o, const struct rm_addr *a)
{
	size_t i, ll = strlen(a->a_local), dl = strlen(a->a_domain), n;
	const char *p, *at;

	for (i = 0; o != NULL && i < o->o_n; i++) {
		p = o->o_addrs[i];
		if (p[0] == '@') {
			/* a routed address is owned only exactly */
			if (a->a_flags & RM_ADDR_ROUTED)
				continue;
			/* "@domain", "@.domain" */
			if (p[1] == '.') {
				n = strlen(p + 1);
				if (dl > n && strcasecmp(a->a_domain + dl - n,
				                         p + 1) == 0)
					return 1;
			} else if (strcasecmp(p + 1, a->a_domain) == 0)
				return 1;
			continue;
		}
		if ((at = strrchr(p, '@')) == NULL ||
		    (a->a_flags & RM_ADDR_LONG_LOCAL))
			continue;
		if ((size_t)(at - p) == ll &&
		    strncasecmp(p, a->a_local, ll) == 0 &&
		    strcasecmp(at + 1, a->a_domain) == 0)
			return 1;
	}
	return 0;
}

/*
 * looked_up - what the login owns in the directory, asked through the
 * owner port once per decision; NULL when no lookup is configured.
 */
static const struct rm_owned *
looked_up(struct eval *e)
{
	const struct rm_owner_port *p = e->f->f_owners;

	if (p == NULL)
		return NULL;
	if (!e->owned_asked) {
		e->owned = p->op_lookup(p->op_arg, e->f->f_auth);
		e->owned_asked = true;
		if (e->owned != NULL && e->owned->o_state == RM_FOUND)
			trace(e->t,
			      "the directory lists %zu address(es) for the "
			      "login",
			      e->owned->o_n);
		else if (e->owned != NULL && e->owned->o_state == RM_NOTFOUND)
			trace(e->t, "the directory knows nothing of the login");
	}
	return e->owned;
}

/*
 * implicit_owns - sender_login_implicit: the login is itself a plain
 * address, and the sender is that address (ASCII case aside, as every
 * owner pattern matches).  A routed sender is never owned this way.
 */
static bool
implicit_owns(const struct eval *e, const struct rm_addr *a)
{
	struct rm_addr l;
	const char *at = strrchr(e->f->f_auth, '@');

	if (!e->rs->rs_login_implicit || at == NULL || at == e->f->f_auth ||
	    (a->a_flags & (RM_ADDR_ROUTED | RM_ADDR_LONG_LOCAL)) ||
	    rm_addr_parse(e->f->f_auth, &l, NULL, 0) != 0 ||
	    (l.a_flags & (RM_ADDR_NULL | RM_ADDR_ROUTED | RM_ADDR_LITERAL |
	                  RM_ADDR_UNQUALIFIED | RM_ADDR_LONG_LOCAL)))
		return false;
	return strcasecmp(l.a_local, a->a_local) == 0 &&
	       strcasecmp(l.a_domain, a->a_domain) == 0;
}

/*
 * unextended - the address without its extension (recipient_delimiter:
 * from the first delimiter character of the local part on) into *out, or
 * NULL when it has none, the local part would be empty, or the address
 * is routed or cut (those are only ever matched exactly).
 */
static const struct rm_addr *
unextended(const struct eval *e, const struct rm_addr *a, struct rm_addr *out)
{
	size_t n;

	if (e->rs->rs_delim[0] == '\0' ||
	    (a->a_flags & (RM_ADDR_ROUTED | RM_ADDR_LONG_LOCAL)))
		return NULL;
	n = strcspn(a->a_local, e->rs->rs_delim);
	if (n == 0 || a->a_local[n] == '\0')
		return NULL;
	*out = *a;
	out->a_local[n] = '\0';
	return out;
}

/*
 * owns_as_is - the login owns the address as it is written: in
 * sender_logins, by being it (implicit), or in what the directory said.
 */
static bool
owns_as_is(struct eval *e, const struct rm_addr *a, const char *what)
{
	const struct rm_owned *o;
	const void *tag;

	if (sc_addr(&e->sc, L_OFF(l_sender_logins), e->f->f_auth, a, &tag) &&
	    (!(a->a_flags & RM_ADDR_ROUTED) || exact_entry(tag))) {
		trace_match(e->t, what, tag);
		return true;
	}
	if (implicit_owns(e, a)) {
		trace(e->t, "%s is the login itself (sender_login_implicit)",
		      what);
		return true;
	}
	o = looked_up(e);
	if (o != NULL && o->o_state == RM_FOUND && owned_match(o, a)) {
		trace(e->t, "%s is one the login owns in the directory", what);
		return true;
	}
	return false;
}

/*
 * login_owns - does the login own the address: as it is written, else
 * without its extension (recipient_delimiter).  RM_LOOKUP_ERROR when the
 * directory could not tell.
 */
static enum rm_lookup
login_owns(struct eval *e, const struct rm_addr *a, const char *what)
{
	const struct rm_owned *o;
	struct rm_addr base;
	char buf[600];

	if (owns_as_is(e, a, what))
		return RM_FOUND;
	if (unextended(e, a, &base) != NULL) {
		trace(e->t,
		      "%s has an extension (recipient_delimiter): judged as "
		      "%s@%s",
		      what, rm_log_sanitize(base.a_local, buf, sizeof(buf)),
		      base.a_domain);
		if (owns_as_is(e, &base, what))
			return RM_FOUND;
	}
	if (a->a_flags & RM_ADDR_ROUTED)
		trace(e->t,
		      "%s is routed: only an entry for that exact address "
		      "owns it, never a whole domain",
		      what);
	o = looked_up(e);
	if (o != NULL && o->o_state == RM_LOOKUP_ERROR)
		return RM_LOOKUP_ERROR;
	if (e->t != NULL)
		trace(e->t, "login %s does not own %s",
		      rm_log_sanitize(e->f->f_auth, buf, sizeof(buf)), what);
	return RM_NOTFOUND;
}

/*
 * known_as_is - some login of the ruleset owns the address as written:
 * a sender_logins pattern covers it, or (implicit) it is such a login.
 */
static bool
known_as_is(struct eval *e, const struct rm_addr *a, const char *what)
{
	const void *tag;

	if (sc_addr(&e->sc, L_OFF(l_sender_known), NULL, a, &tag)) {
		trace_match(e->t, what, tag);
		return true;
	}
	if (e->rs->rs_login_implicit &&
	    sc_addr(&e->sc, L_OFF(l_login_addrs), NULL, a, &tag)) {
		trace(e->t,
		      "%s is a login of sender_logins "
		      "(sender_login_implicit)",
		      what);
		return true;
	}
	return false;
}

/*
 * directory_owns - the owner port's reverse question for the address and
 * its base (without the extension, or NULL); an error, or a port that
 * cannot ask, is RM_LOOKUP_ERROR: never "nobody owns it".
 */
static enum rm_lookup
directory_owns(struct eval *e, const struct rm_addr *a, const struct rm_addr *b)
{
	const struct rm_owner_port *p = e->f->f_owners;
	char q[RM_LOCAL_MAX + RM_DOMAIN_MAX + 2];
	enum rm_lookup r = RM_NOTFOUND;
	int i;

	if (p->op_owned_by == NULL)
		return RM_LOOKUP_ERROR;
	for (i = 0; i < 2 && r == RM_NOTFOUND; i++, a = b) {
		if (a == NULL)
			break;
		snprintf(q, sizeof(q), "%s@%s", a->a_local, a->a_domain);
		r = p->op_owned_by(p->op_arg, q);
	}
	return r;
}

/*
 * known_sender - sender_login_mode = "known": is the address, which this
 * login does not own, another login's?  RM_FOUND: it is, refuse;
 * RM_NOTFOUND: no login owns it, free; RM_LOOKUP_ERROR: the directory
 * holds owners the ruleset cannot see (on-demand lookups have no reverse
 * question), so nobody can say it is free: tempfail.
 */
static enum rm_lookup
known_sender(struct eval *e, const struct rm_addr *a, const char *what)
{
	struct rm_addr base;
	const struct rm_addr *b = unextended(e, a, &base);

	if (a->a_flags & RM_ADDR_ROUTED) {
		trace(e->t,
		      "sender_login (mode known): %s is routed: where "
		      "it goes is not what it says, never free",
		      what);
		return RM_FOUND;
	}
	if (known_as_is(e, a, what) || (b != NULL && known_as_is(e, b, what))) {
		trace(e->t,
		      "sender_login (mode known): %s belongs to another "
		      "login",
		      what);
		return RM_FOUND;
	}
	if (e->f->f_owners != NULL) {
		switch (directory_owns(e, a, b)) {
		case RM_FOUND:
			trace(e->t,
			      "sender_login (mode known): %s belongs to "
			      "another login in the directory",
			      what);
			return RM_FOUND;
		case RM_LOOKUP_ERROR:
			trace(e->t,
			      "sender_login (mode known): the directory "
			      "could not say who owns %s",
			      what);
			return RM_LOOKUP_ERROR;
		case RM_NOTFOUND:
			break;
		}
	}
	trace(e->t, "sender_login (mode known): no login owns %s: free", what);
	return RM_NOTFOUND;
}

/*
 * sender_judged - RM_FOUND when the login may use the address,
 * RM_NOTFOUND when it may not, RM_LOOKUP_ERROR when that is unknown.
 */
static enum rm_lookup
sender_judged(struct eval *e, const struct rm_addr *a, const char *what)
{
	enum rm_lookup r = login_owns(e, a, what);

	if (r != RM_NOTFOUND || !e->rs->rs_login_known)
		return r;
	r = known_sender(e, a, what);
	return r == RM_FOUND      ? RM_NOTFOUND
	       : r == RM_NOTFOUND ? RM_FOUND
	                          : RM_LOOKUP_ERROR;
}

/*
 * mail_addr - {mail_addr}, the MTA's own resolution of the sender, when it
 * says something the argument did not: NULL when absent, the null sender,
 * unparseable, or the same address (and no source route).
 */
static const struct rm_addr *
mail_addr(struct eval *e)
{
	const char *m = e->f->f_mail_addr;

	if (e->mail_ok < 0) {
		e->mail_ok =
		    m != NULL && m[0] != '\0' &&
		    rm_addr_parse(m, &e->mail, NULL, 0) == 0 &&
		    !(e->mail.a_flags & RM_ADDR_NULL) &&
		    (strcmp(e->mail.a_local, e->sender.a_local) != 0 ||
		     strcmp(e->mail.a_domain, e->sender.a_domain) != 0 ||
		     e->mail.a_flags != e->sender.a_flags ||
		     /* the hops of a source route are not in struct
		        rm_addr: one in {mail_addr} is always judged */
		     (e->mail.a_flags & RM_ADDR_SOURCE_ROUTE));
	}
	return e->mail_ok ? &e->mail : NULL;
}

static int
check_sender_login(struct eval *e)
{
	const struct rm_addr *m;
	enum rm_lookup r;
	int stop;

	if (!e->authed ||
	    (sc_count(&e->sc, L_OFF(l_sender_logins)) == 0 &&
	     e->f->f_owners == NULL) ||
	    !active(e, RM_CK_SENDER_LOGIN))
		return 0;
	if (!sender_usable(e, RM_CK_SENDER_LOGIN, "sender_login", &stop))
		return stop;
	r = sender_judged(e, &e->sender, "the sender");
	/* what the MTA made of the sender must be the login's too */
	if (r == RM_FOUND && (m = mail_addr(e)) != NULL &&
	    !(m->a_flags & RM_ADDR_UNQUALIFIED))
		r = sender_judged(e, m,
		                  "the sender as the MTA resolved it "
		                  "({mail_addr})");
	if (r == RM_FOUND)
		return 0;
	if (r == RM_LOOKUP_ERROR) {
		trace(e->t, "sender_login: the directory could not tell");
		return fire(e, RM_CK_SENDER_LOGIN, reply(e, RM_R_TEMPFAIL),
		            "sender_login", NULL);
	}
	return fire(e, RM_CK_SENDER_LOGIN, reply(e, RM_R_SENDER_LOGIN),
	            "sender_login", NULL);
}

const char *
rm_grant_until(uint64_t expires, char *buf, size_t len)
{
	time_t t = (time_t)expires;
	struct tm tm;

	if (expires == 0)
		snprintf(buf, len, "-");
	else if (gmtime_r(&t, &tm) == NULL ||
	         strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%llu", (unsigned long long)expires);
	return buf;
}

/* auth_relays - SMTP AUTH grants this client relaying on this listener */
static bool
auth_relays(const struct eval *e)
{
	return e->authed && e->pf->pf_auth_relay;
}

/*
 * grant - the client's relay grant, asked of the grant port once: only
 * for a known client that is neither trusted nor let relay by SMTP AUTH
 * (auth_relay), on a listener where grants count.  NULL when not asked.
 */
static const struct rm_grant *
grant(struct eval *e)
{
	const struct rm_grant_port *gp = e->f->f_grants;
	char ip[64], until[32];

	if (e->grant_asked)
		return e->grant;
	e->grant_asked = true;
	if (gp == NULL || e->trusted != 0 || auth_relays(e))
		return NULL;
	if (!e->pf->pf_grants) {
		trace(e->t, "relay grants do not count on this listener");
		return NULL;
	}
	e->grant = gp->gp_lookup(gp->gp_arg, e->f->f_client_ip);
	if (e->t == NULL || e->grant == NULL)
		return e->grant;
	rm_ip_format(e->f->f_client_ip, ip, sizeof(ip));
	if (e->grant->g_state == RM_FOUND)
		trace(
		    e->t,
		    "client %s holds a relay grant (login %s, source %s, "
		    "until %s)",
		    ip, e->grant->g_login[0] ? e->grant->g_login : "-",
		    e->grant->g_source,
		    rm_grant_until(e->grant->g_expires, until, sizeof(until)));
	else if (e->grant->g_state == RM_LOOKUP_ERROR)
		trace(e->t, "client %s: the relay grants could not be read",
		      ip);
	else
		trace(e->t, "client %s holds no relay grant", ip);
	return e->grant;
}

/* granted - the client holds a relay grant now */
static bool
granted(struct eval *e)
{
	const struct rm_grant *g = grant(e);

	return g != NULL && g->g_state == RM_FOUND;
}

/*
 * untrusted - the anti-spoofing checks apply to this client: neither
 * trusted nor authenticated, nor granted with grants.trusted set.
 */
static int
untrusted(struct eval *e)
{
	if (e->trusted == 1 || e->authed)
		return 0;
	if (e->rs->rs_grants_trusted && e->trusted == 0 && granted(e)) {
		trace(e->t, "grants.trusted: the granted client is trusted by "
		            "the anti-spoofing checks");
		return 0;
	}
	return 1;
}

/*
 * spoof - a spoofing check found our name: refuse, or tempfail when the
 * client address is unknown (it might have been trusted).
 */
static int
spoof(struct eval *e, enum rm_check ck, enum rm_reply_id id, const char *rule,
      const struct rm_entry *x)
{
	if (e->trusted == -1) {
		trace(e->t,
		      "%s: the client address is unknown, so it may "
		      "be trusted",
		      rule);
		id = RM_R_TEMPFAIL;
	}
	return fire(e, ck, reply(e, id), rule, x);
}

/* name_ours - a domain in hostnames or local_domains. */
static int
name_ours(const struct eval *e, const char *name, const void **tag)
{
	struct rm_domkey k;

	return rm_domkey_init(&k, name) &&
	       (sc_dom(&e->sc, L_OFF(l_hostnames), &k, tag) ||
	        sc_dom(&e->sc, L_OFF(l_local_domains), &k, tag));
}

/* What made a domain of a sender ours, for sender_ours(). */
struct ours_hit {
	struct eval *oh_e;
	const void *oh_tag; /* the list entry, if any */
	const char *oh_why; /* NULL: not ours */
	char oh_name[RM_DOMAIN_MAX + 1];
};

/*
 * mta_ours - would an MTA take this domain (of a sender, or a hop of its
 * route) for itself or for one of ours?  The reason, or NULL.
 */
static const char *
mta_ours(struct eval *e, const char *d, const void **tag)
{
	struct rm_ip ip;
	size_t n = strlen(d);

	if (d[0] == '[') {
		if (rm_ip_parse(d, &ip) != 0)
			return "an address literal relaymilter cannot read "
			       "strictly (the MTA may read it as ours)";
		if (rm_ip_is_loopback(&ip))
			return "a loopback address literal (the MTA's own)";
		if (e->f->f_daemon_ip != NULL &&
		    memcmp(&ip, e->f->f_daemon_ip, sizeof(ip)) == 0)
			return "a literal of the address the client connected "
			       "to";
		if (rm_ipset_lookup(e->sc.sc_ours, &ip, tag) ||
		    rm_ipset_lookup(e->sc.sc_ifs, &ip, tag))
			return "a literal of one of our addresses";
		return NULL;
	}
	if (strcmp(d, "localhost") == 0 ||
	    strcmp(d, "localhost.localdomain") == 0 ||
	    (n > 10 && strcmp(d + n - 10, ".localhost") == 0))
		return "a name of the local host (localhost)";
	if (name_ours(e, d, tag))
		return "one of our domains";
	if (strchr(d, '.') == NULL)
		return "a single-label name, which the MTA may complete with "
		       "its own domain";
	return NULL;
}

static int
ours_cb(void *arg, const char *d)
{
	struct ours_hit *h = arg;

	h->oh_tag = NULL;
	if ((h->oh_why = mta_ours(h->oh_e, d, &h->oh_tag)) == NULL)
		return 0;
	snprintf(h->oh_name, sizeof(h->oh_name), "%s", d);
	return 1;
}

/*
 * addr_ours - the address names, or could be routed or rewritten to, one
 * of ours: any of its domains (rm_addr_each_domain) is.  An unqualified
 * address gets the MTA's own domain.
 */
static int
addr_ours(struct eval *e, const char *raw, const struct rm_addr *a,
          const char *what, const void **tag)
{
	struct ours_hit h = {e, NULL, NULL, ""};
	char buf[RM_DOMAIN_MAX * 4 + 8], who[RM_DOMAIN_MAX * 4 + 120];
	bool final;

	if (a->a_flags & RM_ADDR_UNQUALIFIED) {
		trace(e->t,
		      "%s has no domain: the MTA would make it one of ours",
		      what);
		return 1;
	}
	if ((a->a_flags & RM_ADDR_LONG_LOCAL) &&
	    (a->a_flags & RM_ADDR_ROUTING)) {
		trace(e->t,
		      "%s has a routed local part too long to follow: it may "
		      "lead to one of ours",
		      what);
		return 1;
	}
	if (!rm_addr_each_domain(raw, a, ours_cb, &h))
		return 0;
	*tag = h.oh_tag;
	if (e->t == NULL)
		return 1;
	final = strcmp(h.oh_name, a->a_domain) == 0;
	snprintf(who, sizeof(who), "%s%s %s%s", what,
	         final ? "'s domain" : " can be routed to",
	         rm_log_sanitize(h.oh_name, buf, sizeof(buf)),
	         final ? "" : ", which");
	if (h.oh_tag != NULL)
		trace_match(e->t, who, h.oh_tag);
	else
		trace(e->t, "%s is %s", who, h.oh_why);
	return 1;
}

/*
 * sender_ours - the sender is, or the MTA could make it, one of ours:
 * judged by every domain it could be routed to and, when the MTA gives
 * it, by {mail_addr} too (an unqualified one: the MTA resolved the sender
 * to a local user).
 */
static int
sender_ours(struct eval *e, const void **tag)
{
	const struct rm_addr *m;

	if (addr_ours(e, e->f->f_sender, &e->sender, "the sender", tag))
		return 1;
	if ((m = mail_addr(e)) == NULL)
		return 0;
	if (m->a_flags & RM_ADDR_UNQUALIFIED) {
		trace(e->t, "the MTA resolved the sender to a local user "
		            "({mail_addr} has no domain)");
		return 1;
	}
	return addr_ours(e, e->f->f_mail_addr, m,
	                 "the sender as the MTA resolved it ({mail_addr})",
	                 tag);
}

static int
check_local_sender(struct eval *e)
{
	const void *tag = NULL;
	int stop;

	if (!untrusted(e) || !active(e, RM_CK_LOCAL_SENDER_SPOOF))
		return 0;
	if (!sender_usable(e, RM_CK_LOCAL_SENDER_SPOOF, "local_sender_spoof",
	                   &stop))
		return stop;
	if (!sender_ours(e, &tag))
		return 0;
	trace(e->t, "a client that is neither trusted nor authenticated "
	            "uses a sender of ours");
	return spoof(e, RM_CK_LOCAL_SENDER_SPOOF, RM_R_LOCAL_SENDER_SPOOF,
	             "local_sender_spoof", tag);
}

/*
 * helo_ip - the HELO argument as an address: "[192.0.2.1]",
 * "[IPv6:2001:db8::1]" or a bare address.  0 on success.
 */
static int
helo_ip(const char *h, struct rm_ip *ip)
{
	char lit[64];
	size_t n;

	if (h[0] != '[')
		return rm_ip_parse(h, ip);
	h++;
	if (strncasecmp(h, "IPv6:", 5) == 0)
		h += 5;
	n = strcspn(h, "]");
	if (h[n] != ']' || h[n + 1] != '\0' || n >= sizeof(lit))
		return -1;
	memcpy(lit, h, n);
	lit[n] = '\0';
	return rm_ip_parse(lit, ip);
}

static int
check_helo(struct eval *e)
{
	const char *h = e->f->f_helo;
	const void *tag = NULL;
	struct rm_ip ip;
	size_t n;

	if (h == NULL || h[0] == '\0' || !untrusted(e) ||
	    !active(e, RM_CK_HELO_SPOOF))
		return 0;
	n = strlen(h);
	if (helo_ip(h, &ip) == 0) {
		if (e->f->f_daemon_ip != NULL &&
		    memcmp(&ip, e->f->f_daemon_ip, sizeof(ip)) == 0)
			trace(e->t, "the HELO name is the address the client "
			            "connected to");
		else if (sc_ip(&e->sc, L_OFF(l_trusted), &ip, &tag))
			trace_match(e->t, "the HELO address", tag);
		else
			return 0;
	} else if (strcasecmp(h, "localhost") == 0 ||
	           strcasecmp(h, "localhost.localdomain") == 0 ||
	           (n > 10 && strcasecmp(h + n - 10, ".localhost") == 0))
		trace(e->t, "the HELO name is localhost");
	else if (helo_key(e) != NULL &&
	         (sc_dom(&e->sc, L_OFF(l_hostnames), helo_key(e), &tag) ||
	          sc_dom(&e->sc, L_OFF(l_local_domains), helo_key(e), &tag)))
		trace_match(e->t, "the HELO name", tag);
	else
		return 0;
	trace(e->t, "a client that is neither trusted nor authenticated "
	            "greets with our name");
	return spoof(e, RM_CK_HELO_SPOOF, RM_R_HELO_SPOOF, "helo_spoof", tag);
}

static int
check_licensed(struct eval *e)
{
	const void *tag;
	int stop;

	if (sc_count(&e->sc, L_OFF(l_licensed)) == 0 ||
	    !active(e, RM_CK_UNLICENSED_SENDER))
		return 0;
	if (!sender_usable(e, RM_CK_UNLICENSED_SENDER, "unlicensed_sender",
	                   &stop))
		return stop;
	if (sc_addr(&e->sc, L_OFF(l_licensed), NULL, &e->sender, &tag)) {
		trace_match(e->t, "the sender", tag);
		return 0;
	}
	trace(e->t, "the sender is not in licensed_senders");
	return fire(e, RM_CK_UNLICENSED_SENDER,
	            reply(e, RM_R_UNLICENSED_SENDER), "unlicensed_sender",
	            NULL);
}

/*
 * mailer_relays - the MTA hands the recipient ({rcpt_mailer}) to another
 * host by SMTP, and that host ({rcpt_host}) is none of our configured
 * names.  Only asked of a recipient that is ours by an address literal: a
 * configured domain that the MTA delivers by SMTP to an internal host (a
 * gateway in front of a mail store) stays ours.
 */
static bool
mailer_relays(struct eval *e)
{
	const char *m = e->f->f_rcpt_mailer, *h = e->f->f_rcpt_host;
	char buf[RM_DOMAIN_MAX * 4 + 8];
	const void *tag;
	size_t i;

	if (m == NULL)
		return false;
	for (i = 0; i < sizeof(smtp_mailers) / sizeof(smtp_mailers[0]); i++)
		if (strcasecmp(m, smtp_mailers[i]) == 0)
			break;
	if (i == sizeof(smtp_mailers) / sizeof(smtp_mailers[0]))
		return false;
	if (h != NULL && (name_ours(e, h, &tag) ||
	                  sc_dom_name(&e->sc, L_OFF(l_relay_domains), h, &tag)))
		return false;
	if (e->t != NULL)
		trace(e->t,
		      "the MTA hands the recipient to its %s mailer for host "
		      "%s: counts as a relay",
		      rm_log_sanitize(m, buf, sizeof(buf)),
		      h ? rm_log_sanitize(h, buf + 64, sizeof(buf) - 64)
		        : "(none)");
	return true;
}

/*
 * recipient_ours - step 8: the recipient is ours, and the MTA's own
 * resolution ({rcpt_addr}) does not send it elsewhere (a rewrite we did
 * not see, such as the percent hack).  Sendmail gives a bare user for
 * local delivery: without '@' it tells us nothing more.
 */
static int
recipient_ours(struct eval *e, struct dest *d)
{
	const struct rm_facts *f = e->f;
	struct dest d2 = {NULL, NULL, false};

	if (!classify(&e->sc, f, "recipient", f->f_rcpt,
	              e->rcpt_ok ? &e->rcpt : NULL, d, e->t))
		return 0;
	if (d->d_literal && mailer_relays(e))
		return 0;
	if (f->f_rcpt_addr == NULL || f->f_rcpt_addr[0] == '\0' ||
	    strchr(f->f_rcpt_addr, '@') == NULL ||
	    classify(&e->sc, f, "{rcpt_addr}", f->f_rcpt_addr, NULL, &d2, e->t))
		return 1;
	trace(e->t, "the MTA routes the recipient elsewhere: counts as a "
	            "relay");
	return 0;
}

/*
 * incomplete - the policy lacks data it was told to load (LDAP down, no
 * cache): no decision can be trusted, so every one tempfails.
 */
static int
incomplete(struct eval *e)
{
	if (!e->rs->rs_incomplete)
		return 0;
	trace(e->t, "the policy data from LDAP could not be loaded");
	decide(e, RM_TEMPFAIL, reply(e, RM_R_TEMPFAIL), "policy_unavailable",
	       NULL);
	return 1;
}

void
rm_policy_mail(const struct rm_ruleset *rs, const struct rm_facts *f,
               struct rm_verdict *v, const struct rm_trace *t)
{
	struct eval e;

	eval_init(&e, rs, f, v, t);
	if (incomplete(&e))
		return;
	exceptions(&e);
	if (check_require_auth(&e))
		return;
	decide(&e, RM_CONTINUE, NULL, "mail", NULL);
}

/*
 * hdr_refuse - header_from found a reason to refuse (traced by the
 * caller): the From: reply, or a tempfail when the directory could not
 * tell.  1 when the verdict is final.
 */
static int
hdr_refuse(struct eval *e, enum rm_lookup r, const void *tag)
{
	if (!e->authed)
		return spoof(e, RM_CK_HEADER_FROM, RM_R_HEADER_FROM_SPOOF,
		             "header_from", tag);
	return fire(
	    e, RM_CK_HEADER_FROM,
	    reply(e, r == RM_LOOKUP_ERROR ? RM_R_TEMPFAIL : RM_R_HEADER_FROM),
	    "header_from", NULL);
}

/*
 * outsider_may_use - an address of an outsider's From: or Sender: is not
 * ours (judged as local_sender_spoof judges the envelope sender, by every
 * domain it could be routed to).  RM_FOUND when it is not ours.
 */
static enum rm_lookup
outsider_may_use(struct eval *e, const char *raw, const struct rm_addr *a,
                 const char *what, const void **tag)
{
	if (!addr_ours(e, raw, a, what, tag))
		return RM_FOUND;
	trace(e->t, "header_from: a client that is neither trusted nor "
	            "authenticated writes an address of ours");
	return RM_NOTFOUND;
}

/*
 * hdr_field - the fields of one name (From:, Sender:): each must parse,
 * and each address be the login's (an outsider's: none ours).  need: the
 * field must be there (and once).  1 when the verdict is final, 0 to go on, -1
 * when it fired in monitor mode (go on, nothing more to judge).
 */
static int
hdr_field(struct eval *e, const char *name, const char *const *vals, size_t n,
          int need)
{
	struct rm_hdraddrs h;
	struct rm_addr a;
	char err[96], what[RM_HDR_ADDR_MAX + 32];
	const void *tag = NULL;
	enum rm_lookup r;
	size_t i;

	if (n == 0 && !need)
		return 0;
	if (n != 1) {
		trace(e->t,
		      "header_from: the message has %zu %s fields, not one", n,
		      name);
		return hdr_refuse(e, RM_NOTFOUND, NULL) ? 1 : -1;
	}
	h.h_n = 0;
	if (rm_hdraddr_parse(vals[0], &h, err, sizeof(err)) != 0) {
		trace(e->t, "header_from: %s does not parse (%s)", name, err);
		return hdr_refuse(e, RM_NOTFOUND, NULL) ? 1 : -1;
	}
	if (h.h_n == 0 && !e->authed) {
		trace(e->t, "header_from: %s holds no address, none of ours",
		      name);
		return 0;
	}
	if (h.h_n == 0) {
		trace(e->t, "header_from: %s holds no address", name);
		return hdr_refuse(e, RM_NOTFOUND, NULL) ? 1 : -1;
	}
	for (i = 0; i < h.h_n; i++) {
		snprintf(e->v->v_from, sizeof(e->v->v_from), "%s", h.h_addr[i]);
		snprintf(what, sizeof(what), "%s <%s>", name, h.h_addr[i]);
		/* the parser only returns what rm_addr_parse() reads */
		if (rm_addr_parse(h.h_addr[i], &a, NULL, 0) != 0)
			r = RM_NOTFOUND;
		else if (!e->authed)
			r = outsider_may_use(e, h.h_addr[i], &a, what, &tag);
		else
			r = login_owns(e, &a, what);
		if (r != RM_FOUND) {
			if (r == RM_LOOKUP_ERROR)
				trace(e->t, "header_from: the directory lookup "
				            "of the login failed");
			return hdr_refuse(e, r, tag) ? 1 : -1;
		}
	}
	return 0;
}

/*
 * check_header_from - an authenticated client's message must name the
 * login in From: (exactly one field, every address the login's) and, if
 * the message has one, in Sender: (a reader shows "on behalf of").  With
 * header_from_sessions = "all", an outsider's message is held to the same
 * fields, none of whose addresses may be ours (local_sender_spoof for the
 * header); a trusted client is not judged.  Resent-* fields are not
 * judged: they name who re-sent a message, and a reader shows the
 * original author.
 */
static int
check_header_from(struct eval *e, const struct rm_headers *h)
{
	int r;

	if (!e->authed && !e->pf->pf_hdr_all) {
		trace(e->t, "header_from: not authenticated, not judged "
		            "(header_from_sessions = \"authenticated\")");
		return 0;
	}
	if (!e->authed && !untrusted(e)) {
		trace(e->t, "header_from: a trusted client, not judged");
		return 0;
	}
	if (!active(e, RM_CK_HEADER_FROM))
		return 0;
	if (e->authed && sc_count(&e->sc, L_OFF(l_sender_logins)) == 0 &&
	    e->f->f_owners == NULL) {
		trace(e->t, "header_from: neither sender_logins nor a "
		            "directory says what a login owns");
		return 0;
	}
	if (h->h_over) {
		trace(e->t, "header_from: an author field is too long, or "
		            "there are too many");
		return hdr_refuse(e, RM_NOTFOUND, NULL);
	}
	/* an outsider's message without From: names nothing of ours */
	r = hdr_field(e, "From:", h->h_from, h->h_nfrom, e->authed);
	if (r == 0)
		r = hdr_field(e, "Sender:", h->h_sender, h->h_nsender, 0);
	return r > 0;
}

void
rm_policy_headers(const struct rm_ruleset *rs, const struct rm_facts *f,
                  const struct rm_headers *h, struct rm_verdict *v,
                  const struct rm_trace *t)
{
	struct eval e;

	eval_init(&e, rs, f, v, t);
	if (incomplete(&e))
		return;
	exceptions(&e);
	if (check_header_from(&e, h))
		return;
	decide(&e, RM_CONTINUE, NULL, "header_from", NULL);
}

/* step_missing - no recipient: nothing to decide on */
static int
step_missing(struct eval *e)
{
	if (e->f->f_rcpt != NULL)
		return 0;
	trace(e->t, "no recipient was given");
	decide(e, RM_TEMPFAIL, reply(e, RM_R_TEMPFAIL), "missing_recipient",
	       NULL);
	return 1;
}

/*
 * step_postmaster - classify the recipient once (step_ours decides on
 * it); postmaster, bare or at one of ours, is always welcome
 */
static int
step_postmaster(struct eval *e)
{
	e->ours = recipient_ours(e, &e->dest);
	if (!e->ours || strcmp(e->dest.d_rule, "postmaster") != 0)
		return 0;
	decide(e, RM_CONTINUE, NULL, e->dest.d_rule, e->dest.d_entry);
	return 1;
}

/* step_exceptions - what the matching exceptions lift; decides nothing */
static int
step_exceptions(struct eval *e)
{
	exceptions(e);
	return 0;
}

/*
 * check_max_recipients - the message has as many recipients as the
 * listener allows: 452 4.5.3 (RFC 5321 4.5.3.1.10), and the client sends
 * the rest in another message.  Counted: the recipients let through.
 */
static int
check_max_recipients(struct eval *e)
{
	unsigned max = e->pf->pf_max_rcpts;

	if (max == 0 || e->f->f_nrcpts < max ||
	    !active(e, RM_CK_MAX_RECIPIENTS))
		return 0;
	trace(e->t,
	      "the message has %u recipient(s) already; max_recipients is %u",
	      e->f->f_nrcpts, max);
	return fire(e, RM_CK_MAX_RECIPIENTS, reply(e, RM_R_MAX_RECIPIENTS),
	            "max_recipients", NULL);
}

/*
 * limit_has_key - the transaction has the fact a limit counts by: a
 * login, a client address, a sender (not the null sender, which would
 * make every bounce one key)
 */
static bool
limit_has_key(const struct eval *e, enum rm_limit_key k)
{
	switch (k) {
	case RM_LK_LOGIN:
		return e->authed;
	case RM_LK_CLIENT:
		return e->f->f_client_ip != NULL;
	case RM_LK_SENDER:
	case RM_LK_SENDER_DOMAIN:
		return e->sst == S_OK;
	case RM_LK__COUNT:
		break;
	}
	return false;
}

/*
 * limits - the recipient is let through: which of the listener's limits
 * count it (relay: all of them; ours: those that count all mail).  The
 * counting is limits.c's, outside the engine.
 */
static void
limits(struct eval *e, bool relay)
{
	const struct rm_limit *lm;
	uint32_t m = 0;
	char buf[256];
	size_t i;

	if (e->pf->pf_limits == 0 || !active(e, RM_CK_LIMITS))
		return;
	for (i = 0; i < e->rs->rs_nlimits && i < RM_LIMITS_MAX; i++) {
		lm = &e->rs->rs_limits[i];
		if (!(e->pf->pf_limits & (UINT32_C(1) << i)))
			continue;
		if (!relay && !lm->lm_all) {
			trace(e->t, "limit %s counts relays only", lm->lm_name);
			continue;
		}
		if (!limit_has_key(e, lm->lm_key)) {
			trace(e->t, "limit %s: no %s to count by", lm->lm_name,
			      rm_limit_key_names[lm->lm_key]);
			continue;
		}
		m |= UINT32_C(1) << i;
		if (e->t != NULL)
			trace(e->t, "limit %s",
			      rm_limit_applies(lm,
			                       e->pf->pf_check[RM_CK_LIMITS] ==
			                           RM_CM_MONITOR,
			                       buf, sizeof(buf)));
	}
	e->v->v_limits = m;
	e->v->v_limits_monitor = e->pf->pf_check[RM_CK_LIMITS] == RM_CM_MONITOR;
}

static int
step_ours(struct eval *e)
{
	if (!e->ours)
		return 0;
	decide(e, RM_CONTINUE, NULL, e->dest.d_rule, e->dest.d_entry);
	limits(e, false);
	return 1;
}

/* step_relay - a relay: only for clients proven allowed */
static int
step_relay(struct eval *e)
{
	char ipbuf[64];

	if (auth_relays(e) || e->trusted == 1)
		return 0;
	if (e->authed)
		trace(e->t, "auth_relay = false: SMTP AUTH does not grant "
		            "relaying on this listener");
	if (e->trusted == -1) {
		trace(e->t, "client address unknown and relaying not granted "
		            "by SMTP AUTH: cannot tell if it may relay");
		decide(e, RM_TEMPFAIL, reply(e, RM_R_TEMPFAIL),
		       "client_address_unknown", NULL);
		return 1;
	}
	if (granted(e))
		return 0;
	if (e->grant != NULL && e->grant->g_state == RM_LOOKUP_ERROR) {
		decide(e, RM_TEMPFAIL, reply(e, RM_R_TEMPFAIL),
		       "relay_grant_unavailable", NULL);
		return 1;
	}
	if (e->t != NULL)
		trace(e->t, "client %s is not in trusted_networks and %s",
		      rm_ip_format(e->f->f_client_ip, ipbuf, sizeof(ipbuf)),
		      e->authed ? "its login does not grant relaying here"
		                : "did not authenticate");
	decide(e, RM_REJECT, reply(e, RM_R_RELAY_DENIED), "relay_denied", NULL);
	return 1;
}

/*
 * check_login_network - a relay that SMTP AUTH alone grants, by a login
 * of login_networks, from a client in none of its networks: a password
 * used from elsewhere.  A trusted client may relay without it.
 */
static int
check_login_network(struct eval *e)
{
	const void *tag = NULL;
	char buf[64];
	int i, rc, listed = 0;

	if (e->trusted == 1 || !auth_relays(e))
		return 0;
	for (i = 0; i < 2; i++)
		if (e->sc.sc_l[i] != NULL &&
		    rm_netowners_count(e->sc.sc_l[i]->l_login_nets) > 0)
			break;
	if (i == 2 || !active(e, RM_CK_LOGIN_NETWORK))
		return 0;
	for (i = 0; i < 2; i++) {
		if (e->sc.sc_l[i] == NULL)
			continue;
		rc = rm_netowners_lookup(e->sc.sc_l[i]->l_login_nets,
		                         e->f->f_auth, e->f->f_client_ip, &tag);
		if (rc == 1) {
			if (e->t != NULL)
				trace_match(e->t,
				            rm_ip_format(e->f->f_client_ip, buf,
				                         sizeof(buf)),
				            tag);
			return 0;
		}
		listed |= rc == 0;
	}
	if (!listed) {
		trace(e->t, "the login has no login_networks");
		return 0;
	}
	if (e->trusted == -1) {
		trace(e->t, "the login may relay only from its login_networks "
		            "and the client address is unknown");
		return fire(e, RM_CK_LOGIN_NETWORK, reply(e, RM_R_TEMPFAIL),
		            "login_network", NULL);
	}
	if (e->t != NULL)
		trace(e->t,
		      "client %s is in none of the login's login_networks",
		      rm_ip_format(e->f->f_client_ip, buf, sizeof(buf)));
	return fire(e, RM_CK_LOGIN_NETWORK, reply(e, RM_R_LOGIN_NETWORK),
	            "login_network", NULL);
}

static int
step_continue(struct eval *e)
{
	if (auth_relays(e))
		decide(e, RM_CONTINUE, NULL, "authenticated", NULL);
	else if (e->trusted == 1)
		decide(e, RM_CONTINUE, NULL, "trusted_networks", e->trusted_by);
	else {
		decide(e, RM_CONTINUE, NULL, "relay_grant", NULL);
		e->v->v_grant = e->grant;
	}
	limits(e, true);
	return 1;
}

/*
 * The evaluation order at RCPT TO.  A step returns 1 when it decided.
 * Numbered steps are the ones relaymilter.conf(5) documents; 0 marks
 * bookkeeping that never decides a verdict of its own.
 */
static const struct rm_step rcpt_steps[] = {
    {0, "policy_unavailable", "the policy data could not be loaded",
     incomplete},
    {1, "missing_recipient", "the MTA gave no recipient", step_missing},
    {2, "postmaster", "postmaster, bare or at one of our domains",
     step_postmaster},
    {0, "exceptions", "what the matching exceptions lift", step_exceptions},
    {3, "require_auth", "the listener requires SMTP AUTH, none given",
     check_require_auth},
    {4, "deny", "a deny list matches the client, HELO, sender or recipient",
     check_deny},
    {5, "sender_login", "authenticated, and the login does not own the sender",
     check_sender_login},
    {6, "local_sender_spoof",
     "untrusted and unauthenticated, with a sender the MTA could make ours",
     check_local_sender},
    {7, "helo_spoof", "untrusted and unauthenticated, HELO is ours",
     check_helo},
    {8, "max_recipients", "the message has max_recipients recipients already",
     check_max_recipients},
    {9, "recipient_ours", "the recipient is ours (limits counting all mail)",
     step_ours},
    {10, "relay",
     "a relay by an untrusted client that neither SMTP AUTH nor a relay "
     "grant lets relay",
     step_relay},
    {11, "login_network",
     "a relay SMTP AUTH alone grants, from outside the login's "
     "login_networks",
     check_login_network},
    {12, "unlicensed_sender",
     "licensed_senders is set and the relay's sender is not in it",
     check_licensed},
    {13, "continue", "nothing refused (limits apply)", step_continue},
};

const struct rm_step *
rm_policy_steps(size_t *n)
{
	*n = sizeof(rcpt_steps) / sizeof(rcpt_steps[0]);
	return rcpt_steps;
}

void
rm_policy_rcpt(const struct rm_ruleset *rs, const struct rm_facts *f,
               struct rm_verdict *v, const struct rm_trace *t)
{
	struct eval e;
	size_t i;

	eval_init(&e, rs, f, v, t);
	for (i = 0; i < sizeof(rcpt_steps) / sizeof(rcpt_steps[0]); i++)
		if (rcpt_steps[i].st_fn(&e))
			return;
}

/* active_anywhere - the check is not off at the top level or a listener */
static bool
active_anywhere(const struct rm_ruleset *rs, enum rm_check ck)
{
	size_t i;

	if (rs->rs_top.pf_check[ck] != RM_CM_OFF)
		return true;
	for (i = 0; i < rs->rs_nprofiles; i++)
		if (rs->rs_profiles[i]->pf_check[ck] != RM_CM_OFF)
			return true;
	return false;
}

bool
rm_policy_needs_headers(const struct rm_ruleset *rs)
{
	return active_anywhere(rs, RM_CK_HEADER_FROM);
}

/* max_rcpts_anywhere - max_recipients is set for some listener */
static bool
max_rcpts_anywhere(const struct rm_ruleset *rs)
{
	size_t i;

	if (rs->rs_top.pf_max_rcpts != 0)
		return true;
	for (i = 0; i < rs->rs_nprofiles; i++)
		if (rs->rs_profiles[i]->pf_max_rcpts != 0)
			return true;
	return false;
}

/* list_may_match - list l could match a session from net (any scope) */
static bool
list_may_match(const struct rm_ruleset *rs, int l, const struct rm_cidr *net)
{
	const struct rm_lists *ls;
	const void *set;
	size_t i;

	for (i = 0; i <= rs->rs_nprofiles; i++) {
		ls = i == 0 ? &rs->rs_lists : rs->rs_profiles[i - 1]->pf_lists;
		if (ls == NULL)
			continue;
		set = *(const void *const *)((const char *)ls +
		                             rm_list_defs[l].ld_set);
		switch (rm_list_defs[l].ld_key) {
		case RM_KEY_NET:
			if (rm_ipset_overlaps(set, net))
				return true;
			break;
		case RM_KEY_HOST:
		case RM_KEY_DOMAIN:
			if (rm_domset_count(set) > 0)
				return true;
			break;
		case RM_KEY_ADDR:
			if (rm_addrset_count(set) > 0)
				return true;
			break;
		case RM_KEY_LOGIN:
			if (rm_strset_count(set) > 0)
				return true;
			break;
		case RM_KEY_LOGIN_NET:
			if (rm_netowners_count(set) > 0)
				return true;
			break;
		}
	}
	return false;
}

bool
rm_policy_always_continues(const struct rm_ruleset *rs,
                           const struct rm_cidr *net, bool owner_lookups,
                           const char **why)
{
	int l;

	if (rs->rs_incomplete) {
		*why = "the policy data could not be loaded";
		return false;
	}
	if (active_anywhere(rs, RM_CK_REQUIRE_AUTH)) {
		*why = "a listener requires SMTP AUTH";
		return false;
	}
	if (active_anywhere(rs, RM_CK_DENY))
		for (l = 0; l < RM_L__COUNT; l++)
			if (rm_list_defs[l].ld_role == RM_ROLE_DENY &&
			    list_may_match(rs, l, net)) {
				*why = "a deny list may match its sessions";
				return false;
			}
	/* a trusted client may still log in: its sender is then checked */
	if (active_anywhere(rs, RM_CK_SENDER_LOGIN) &&
	    (owner_lookups || list_may_match(rs, RM_L_SENDER_LOGINS, net))) {
		*why = "sender_login checks what a login may use";
		return false;
	}
	if (active_anywhere(rs, RM_CK_UNLICENSED_SENDER) &&
	    list_may_match(rs, RM_L_LICENSED_SENDERS, net)) {
		*why = "licensed_senders limits who may relay";
		return false;
	}
	if (active_anywhere(rs, RM_CK_LIMITS) && rs->rs_nlimits > 0) {
		*why = "limits count what clients relay";
		return false;
	}
	if (active_anywhere(rs, RM_CK_MAX_RECIPIENTS) &&
	    max_rcpts_anywhere(rs)) {
		*why = "max_recipients caps the recipients of a message";
		return false;
	}
	/* local_sender_spoof and helo_spoof never apply to a trusted client */
	*why = NULL;
	return true;
}
