/*
 * policy.c - the relay decision for one recipient.
 *
 * Pure: facts and an immutable ruleset in, a verdict out.  No allocation,
 * no locks, no I/O except through the optional trace callback, which gets
 * one line per step for "relaymilter check --explain" and debug logs.
 *
 * The order (documented in relaymilter.conf(5) and the README):
 *   1. the recipient is ours (postmaster, hostnames, local_domains,
 *      relay_domains, our own address literal) and uses no routing trick,
 *      and the MTA's own resolution ({rcpt_addr}) is ours too: continue;
 *   2. otherwise it is a relay: continue for an authenticated client or a
 *      client in trusted_networks;
 *   3. an unknown client address that might have been trusted: tempfail;
 *   4. anything else: reject with replies.relay_denied.
 * Fail closed: whatever does not prove the recipient ours is a relay.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "relaymilter/addr.h"
#include "relaymilter/log.h"
#include "relaymilter/policy.h"

/* Where a recipient goes, as far as our lists can tell. */
struct dest {
	const char *d_rule;             /* list or rule that made it ours */
	const struct rm_entry *d_entry; /* the entry, if a list */
};

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

/* trace_entry - "entry \"x\" at file:line" for a matched entry. */
static void
trace_match(const struct rm_trace *t, const char *what,
            const struct rm_entry *e)
{
	if (t == NULL)
		return;
	if (e != NULL)
		trace(t, "%s is in %s (entry \"%s\" at %s)", what, e->e_list,
		      e->e_text, e->e_origin);
}

/*
 * dest_ours - is the parsed address one of ours?  Fills *d and returns 1
 * when it is; returns 0, with the reason traced, when it is not.
 */
static int
dest_ours(const struct rm_ruleset *rs, const struct rm_facts *f,
          const struct rm_addr *a, const char *shown, struct dest *d,
          const struct rm_trace *t)
{
	char sbuf[RM_DOMAIN_MAX * 4 + 8];
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
	if (a->a_flags & RM_ADDR_LITERAL) {
		if (f->f_daemon_ip != NULL &&
		    memcmp(&a->a_literal, f->f_daemon_ip,
		           sizeof(a->a_literal)) == 0) {
			trace(t,
			      "%s is a literal of the address the client "
			      "connected to",
			      shown);
			d->d_rule = pm ? "postmaster" : "own_address_literal";
			return 1;
		}
		trace(t, "%s is an address literal that is not ours%s", shown,
		      f->f_daemon_ip ? "" : " (our address is unknown)");
		return 0;
	}
	if (t != NULL)
		rm_log_sanitize(a->a_domain, sbuf, sizeof(sbuf));
	if (rm_domset_lookup(rs->rs_hostnames, a->a_domain, &tag) ||
	    rm_domset_lookup(rs->rs_local_domains, a->a_domain, &tag)) {
		d->d_entry = tag;
		trace_match(t, sbuf, d->d_entry);
		d->d_rule = pm ? "postmaster" : d->d_entry->e_list;
		return 1;
	}
	if (rm_domset_lookup(rs->rs_relay_domains, a->a_domain, &tag)) {
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

/* classify - parse one address and decide if it is ours. */
static int
classify(const struct rm_ruleset *rs, const struct rm_facts *f,
         const char *what, const char *raw, struct dest *d,
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
	if (rm_addr_parse(raw, &a, err, sizeof(err)) != 0) {
		trace(t,
		      "%s does not parse (%s): not provably ours, counts "
		      "as a relay",
		      shown, err);
		return 0;
	}
	return dest_ours(rs, f, &a, shown, d, t);
}

static void
verdict(struct rm_verdict *v, const struct rm_ruleset *rs, enum rm_action act,
        const char *rule, const struct rm_entry *e, const struct rm_trace *t)
{
	v->v_action = act;
	v->v_rule = rule;
	v->v_entry = e;
	v->v_reply = NULL;
	if (act == RM_REJECT)
		v->v_reply = &rs->rs_replies[RM_R_RELAY_DENIED];
	else if (act == RM_TEMPFAIL)
		v->v_reply = &rs->rs_replies[RM_R_TEMPFAIL];
	trace(t, "verdict: %s (rule %s)", rm_action_name(act), rule);
}

void
rm_policy_rcpt(const struct rm_ruleset *rs, const struct rm_facts *f,
               struct rm_verdict *v, const struct rm_trace *t)
{
	struct dest d = {NULL, NULL}, d2 = {NULL, NULL};
	const void *tag;
	char ipbuf[64];

	if (f->f_rcpt == NULL) {
		trace(t, "no recipient was given");
		verdict(v, rs, RM_TEMPFAIL, "missing_recipient", NULL, t);
		return;
	}
	if (classify(rs, f, "recipient", f->f_rcpt, &d, t)) {
		/*
		 * The MTA's own resolution wins where it says the mail
		 * goes elsewhere (a rewrite we did not see, such as the
		 * percent hack).  Sendmail gives a bare user for local
		 * delivery: without '@' it tells us nothing more.
		 */
		if (f->f_rcpt_addr == NULL || f->f_rcpt_addr[0] == '\0' ||
		    strchr(f->f_rcpt_addr, '@') == NULL ||
		    classify(rs, f, "{rcpt_addr}", f->f_rcpt_addr, &d2, t)) {
			verdict(v, rs, RM_CONTINUE, d.d_rule, d.d_entry, t);
			return;
		}
		trace(t, "the MTA routes the recipient elsewhere: counts as "
		         "a relay");
	}
	/* a relay: only for clients proven allowed */
	if (f->f_auth != NULL && f->f_auth[0] != '\0') {
		if (t != NULL)
			trace(t, "client authenticated (SMTP AUTH) as %s",
			      rm_log_sanitize(f->f_auth, ipbuf, sizeof(ipbuf)));
		verdict(v, rs, RM_CONTINUE, "authenticated", NULL, t);
		return;
	}
	if (f->f_client_ip == NULL) {
		trace(t, "client address unknown and not authenticated: "
		         "cannot tell if it may relay");
		verdict(v, rs, RM_TEMPFAIL, "client_address_unknown", NULL, t);
		return;
	}
	if (rm_ipset_lookup(rs->rs_trusted, f->f_client_ip, &tag)) {
		if (t != NULL)
			trace_match(
			    t,
			    rm_ip_format(f->f_client_ip, ipbuf, sizeof(ipbuf)),
			    tag);
		verdict(v, rs, RM_CONTINUE, "trusted_networks", tag, t);
		return;
	}
	if (t != NULL)
		trace(t,
		      "client %s is not in trusted_networks and did not "
		      "authenticate",
		      rm_ip_format(f->f_client_ip, ipbuf, sizeof(ipbuf)));
	verdict(v, rs, RM_REJECT, "relay_denied", NULL, t);
}
