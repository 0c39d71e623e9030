/*
 * mlfi.c - the libmilter adapter: MTA callbacks -> facts -> engine -> reply.
 *
 * The only module that includes <libmilter/mfapi.h>.  It keeps per-session
 * facts in a struct rm_session (smfi_setpriv), pins the ruleset at connect so
 * a reload never changes the policy in the middle of a session, asks the
 * engine at RCPT, and turns the verdict into a return code and a validated
 * reply.  Rules it follows:
 *   - never SMFIS_ACCEPT: it would accept every later recipient unseen;
 *   - connect, HELO and MAIL are negotiated to "no reply" (the MTA does not
 *     wait for us there), as are all content steps; the decision is at RCPT,
 *     and only when header_from is on somewhere are the headers asked for
 *     (and the end of headers answered);
 *   - any internal failure (memory, missing session) tempfails the RCPT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>

#include <libmilter/mfapi.h>

#include "relaymilter/addr.h"
#include "relaymilter/hdraddr.h"
#include "relaymilter/ip.h"
#include "relaymilter/limits.h"
#include "relaymilter/log.h"
#include "relaymilter/owners.h"
#include "relaymilter/policy.h"
#include "relaymilter/reply.h"
#include "relaymilter/spawn.h"
#include "relaymilter/runtime.h"
#include "relaymilter/verdict.h"

/* The runtime, set once before smfi_main(); see runtime.h. */
static struct rm_runtime *mlfi_runtime;

/* Steps we take no part in, and steps we never answer. */
#define MLFI_NO_STEPS                                                          \
	(SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NODATA |            \
	 SMFIP_NOUNKNOWN)
#define MLFI_NO_REPLY (SMFIP_NR_CONN | SMFIP_NR_HELO)

struct rm_session {
	struct rm_ruleset *s_rs; /* pinned at negotiation or connect */
	unsigned long s_gen;     /* its snapshot generation */
	char s_id[20];
	bool s_oom;       /* a fact could not be stored: tempfail */
	bool s_connected; /* connect seen: a second one is a reused link */
	bool s_nr_mail;   /* the MTA does not wait for our answer to MAIL */
	bool s_hdrs;      /* the headers are ours (header_from is on) */
	bool s_nr_hdr;    /* ... and the MTA does not wait for each one */
	bool s_have_client, s_have_daemon;
	struct rm_ip s_client, s_daemon;
	char *s_client_name;
	char *s_listener;
	unsigned s_mx_listener; /* its label slot in the metrics */
	char *s_helo;
	/*
	 * The session's part of the decision line ("client=... helo=<...>"
	 * and the listener), sanitized once; empty until the first decision,
	 * emptied by a new HELO.
	 */
	char s_logwho[400];
	char s_loglistener[64];
	/* per message, reset at MAIL and abort */
	char *s_sender;
	char *s_mail_addr; /* {mail_addr} */
	char *s_auth;
	unsigned s_nrcpts;         /* recipients let through (max_recipients) */
	struct rm_limit_txn s_ltx; /* what the limits counted of it */
	bool s_have_owned;         /* s_owned holds the lookup for s_auth */
	struct rm_owned s_owned;
	/* the engine's owner port, set when lookups are configured */
	struct rm_owner_port s_port;
	/* the engine's grant port, and its answer for this message */
	struct rm_grant_port s_gport;
	struct rm_grant s_grant;
	bool s_have_grant;
	/* the author fields of the message (header_from), kept copies */
	struct rm_headers s_h;
};

static sfsistat mlfi_negotiate(SMFICTX *, unsigned long, unsigned long,
                               unsigned long, unsigned long, unsigned long *,
                               unsigned long *, unsigned long *,
                               unsigned long *);
static sfsistat mlfi_connect(SMFICTX *, char *, _SOCK_ADDR *);
static sfsistat mlfi_helo(SMFICTX *, char *);
static sfsistat mlfi_envfrom(SMFICTX *, char **);
static sfsistat mlfi_envrcpt(SMFICTX *, char **);
static sfsistat mlfi_data(SMFICTX *);
static sfsistat mlfi_header(SMFICTX *, char *, char *);
static sfsistat mlfi_eoh(SMFICTX *);
static sfsistat mlfi_abort(SMFICTX *);
static sfsistat mlfi_close(SMFICTX *);

static struct smfiDesc mlfi_desc = {
    .xxfi_name = "relaymilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = 0,
    .xxfi_connect = mlfi_connect,
    .xxfi_helo = mlfi_helo,
    .xxfi_envfrom = mlfi_envfrom,
    .xxfi_envrcpt = mlfi_envrcpt,
    .xxfi_data = mlfi_data,
    .xxfi_header = mlfi_header,
    .xxfi_eoh = mlfi_eoh,
    .xxfi_abort = mlfi_abort,
    .xxfi_close = mlfi_close,
    .xxfi_negotiate = mlfi_negotiate,
};

/* set_str - replace *dst with a copy of src (NULL clears); false on OOM. */
static bool
set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = NULL;
	if (src == NULL)
		return true;
	return (*dst = strdup(src)) != NULL;
}

/* macro - a macro's value, or NULL when absent or empty. */
static const char *
macro(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/*
 * needs_mail_reply - does any profile of the ruleset answer MAIL itself?
 * Only require_auth does; without it MAIL need not cost a round trip.
 */
static bool
needs_mail_reply(const struct rm_ruleset *rs)
{
	size_t i;

	if (rs->rs_top.pf_check[RM_CK_REQUIRE_AUTH] != RM_CM_OFF)
		return true;
	for (i = 0; i < rs->rs_nprofiles; i++)
		if (rs->rs_profiles[i]->pf_check[RM_CK_REQUIRE_AUTH] !=
		    RM_CM_OFF)
			return true;
	return false;
}

/* session_new - allocate the session and attach it to the context. */
static struct rm_session *
session_new(SMFICTX *ctx)
{
	struct rm_session *s;
	unsigned long id;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->s_rs =
	    rm_snapshot_acquire_gen(&mlfi_runtime->rt_snapshot, &s->s_gen);
	id = atomic_fetch_add(&mlfi_runtime->rt_sessions, 1) + 1;
	snprintf(s->s_id, sizeof(s->s_id), "S%08lX", id);
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		rm_ruleset_release(s->s_rs);
		free(s);
		return NULL;
	}
	atomic_fetch_add_explicit(&mlfi_runtime->rt_metrics.mx_sessions_total,
	                          1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mlfi_runtime->rt_metrics.mx_sessions_active,
	                          1, memory_order_relaxed);
	return s;
}

/* headers_reset - forget the message's author fields */
static void
headers_reset(struct rm_headers *h)
{
	size_t i;

	for (i = 0; i < RM_HDR_FIELDS_MAX; i++) {
		free((char *)h->h_from[i]);
		free((char *)h->h_sender[i]);
	}
	memset(h, 0, sizeof(*h));
}

static void
message_reset(struct rm_session *s)
{
	headers_reset(&s->s_h);
	set_str(&s->s_sender, NULL);
	set_str(&s->s_mail_addr, NULL);
	set_str(&s->s_auth, NULL);
	s->s_nrcpts = 0;
	memset(&s->s_ltx, 0, sizeof(s->s_ltx));
	if (s->s_have_owned)
		rm_owned_clear(&s->s_owned);
	s->s_have_owned = false;
	s->s_have_grant = false;
}

/*
 * port_lookup - the engine's owner port: what the login owns in the
 * directory (the cache, else LDAP within its deadline), once per message.
 */
static const struct rm_owned *
port_lookup(void *arg, const char *login)
{
	struct rm_session *s = arg;
	char err[512];

	if (s->s_have_owned)
		return &s->s_owned;
	rm_owners_lookup(&mlfi_runtime->rt_owners, login, time(NULL),
	                 &s->s_owned, err, sizeof(err));
	if (s->s_owned.o_state == RM_LOOKUP_ERROR)
		rm_log(RM_LOG_ERR, "%s: sender lookup: %s", s->s_id, err);
	s->s_have_owned = true;
	return &s->s_owned;
}

/*
 * port_owned_by - the reverse question of the owner port: does any login
 * of the directory own the address (the cache, else LDAP)?
 */
static enum rm_lookup
port_owned_by(void *arg, const char *addr)
{
	struct rm_session *s = arg;
	enum rm_lookup r;
	char err[512];

	r = rm_owners_owned_by(&mlfi_runtime->rt_owners, addr, time(NULL), err,
	                       sizeof(err));
	if (r == RM_LOOKUP_ERROR)
		rm_log(RM_LOG_ERR, "%s: owner lookup: %s", s->s_id, err);
	return r;
}

/*
 * grant_lookup - the engine's grant port: the client's relay grant in the
 * grant store, once per message.
 */
static const struct rm_grant *
grant_lookup(void *arg, const struct rm_ip *ip)
{
	struct rm_session *s = arg;
	struct rm_grant_store *gs = mlfi_runtime->rt_grants;

	if (!s->s_have_grant) {
		gs->gs_get(gs, ip, (uint64_t)time(NULL), &s->s_grant);
		s->s_have_grant = true;
	}
	return &s->s_grant;
}

/*
 * our_address - the address the client connected to.  Sendmail's
 * {if_addr} is that address (Sendmail leaves it out for loopback); its
 * {daemon_addr} is the daemon's Addr=, which for a wildcard listener is
 * 0.0.0.0 or :: and says nothing.  Postfix sends no {if_addr} and gives
 * the connection's own address as {daemon_addr}.
 */
static bool
our_address(SMFICTX *ctx, struct rm_ip *ip)
{
	static const struct rm_ip any6,
	    any4 = {.ip_b = {[10] = 0xff, [11] = 0xff}};
	const char *v;

	if ((v = macro(ctx, "{if_addr}")) != NULL && rm_ip_parse(v, ip) == 0)
		return true;
	if ((v = macro(ctx, "{daemon_addr}")) == NULL ||
	    rm_ip_parse(v, ip) != 0)
		return false;
	return memcmp(ip, &any4, sizeof(*ip)) != 0 &&
	       memcmp(ip, &any6, sizeof(*ip)) != 0;
}

static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
               unsigned long f2, unsigned long f3, unsigned long *pf0,
               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct rm_session *s;

	/*
	 * libmilter offers the no-reply flags even to MTAs that lack them
	 * (it fakes them); one without them is too old to be worth a
	 * half-working session, and refusing lets the MTA apply its default
	 * action (tempfail, as documented).
	 */
	if ((f1 & MLFI_NO_REPLY) != MLFI_NO_REPLY) {
		rm_log(RM_LOG_ERR,
		       "the MTA or libmilter does not offer the "
		       "no-reply protocol steps (0x%lx)",
		       f1);
		return SMFIS_REJECT;
	}
	*pf0 = 0;
	*pf1 = MLFI_NO_REPLY | (MLFI_NO_STEPS & f1);
	/*
	 * Over TCP, Postfix sends the DATA step's macros even when the step
	 * is negotiated away, alone, and no answer follows: our delayed ACK
	 * (40 ms) then holds its next packet behind Nagle's algorithm.
	 * Answering DATA costs a round trip and removes the stall (see
	 * answer_data in relaymilter.conf(5)).
	 */
	if (mlfi_runtime->rt_answer_data)
		*pf1 &= ~(unsigned long)SMFIP_NODATA;
	*pf2 = *pf3 = 0;
	/*
	 * The session starts here, so that it knows whether MAIL is answered.
	 * Should a reload add require_auth before MAIL, RCPT still enforces
	 * it (the engine checks it at every RCPT).
	 */
	if ((s = smfi_getpriv(ctx)) == NULL)
		s = session_new(ctx);
	if (s != NULL && (f1 & SMFIP_NR_MAIL) && !needs_mail_reply(s->s_rs)) {
		*pf1 |= SMFIP_NR_MAIL;
		s->s_nr_mail = true;
	}
	/*
	 * header_from needs the headers and answers at their end; otherwise
	 * the negotiation stays as lean as without it.  Pinned here like
	 * MAIL's: a reload that turns it on reaches the next connection.
	 */
	if (s != NULL && rm_policy_needs_headers(s->s_rs)) {
		*pf1 &= ~(unsigned long)(SMFIP_NOHDRS | SMFIP_NOEOH);
		s->s_hdrs = true;
		if (f1 & SMFIP_NR_HDR) {
			*pf1 |= SMFIP_NR_HDR;
			s->s_nr_hdr = true;
		}
	}
	if (f0 & SMFIF_SETSYMLIST) {
		/* everything the engine or the log line uses, per stage */
		*pf0 |= SMFIF_SETSYMLIST;
		if (smfi_setsymlist(ctx, SMFIM_CONNECT,
		                    "j _ {daemon_name} {daemon_addr} {if_addr} "
		                    "{client_name}") != MI_SUCCESS ||
		    smfi_setsymlist(
		        ctx, SMFIM_ENVFROM,
		        "i {auth_authen} {auth_type} {mail_addr}") !=
		        MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVRCPT,
		                    "i {rcpt_addr} {rcpt_host} {rcpt_mailer} "
		                    "{auth_authen}") != MI_SUCCESS)
			rm_log(RM_LOG_WARNING, "smfi_setsymlist failed: "
			                       "relying on the MTA's macro "
			                       "lists");
	}
	return SMFIS_CONTINUE;
}

/* watch_warn - a listener profile that no session reaches */
static void
watch_warn(void *arg, const char *line)
{
	(void)arg;
	rm_log(RM_LOG_WARNING, "%s", line);
}

static sfsistat
mlfi_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct rm_session *s = smfi_getpriv(ctx);
	bool nr_mail = s != NULL && s->s_nr_mail;
	bool hdrs = s != NULL && s->s_hdrs, nr_hdr = s != NULL && s->s_nr_hdr;

	/* a connection reused after QUIT_NC comes here again */
	if (s != NULL && s->s_connected) {
		mlfi_close(ctx);
		s = NULL;
	}
	if (s == NULL && (s = session_new(ctx)) == NULL) {
		rm_log(RM_LOG_ERR, "out of memory at connect");
		return SMFIS_NOREPLY; /* RCPT will tempfail */
	}
	s->s_connected = true;
	s->s_nr_mail = nr_mail;
	s->s_hdrs = hdrs;
	s->s_nr_hdr = nr_hdr;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		memset(&s->s_client, 0, sizeof(s->s_client));
		s->s_client.ip_b[10] = s->s_client.ip_b[11] = 0xff;
		memcpy(&s->s_client.ip_b[12], &sin->sin_addr, 4);
		s->s_have_client = true;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		memcpy(s->s_client.ip_b, &sin6->sin6_addr, 16);
		s->s_have_client = true;
	}
	/*
	 * No socket address: the client address is unknown, whatever
	 * {client_addr} says.  Sendmail -bs is such a session (it sends
	 * {client_addr} "0"), and there a local user may set macros on the
	 * command line (-oM): such a session is never trusted.
	 */
	s->s_have_daemon = our_address(ctx, &s->s_daemon);
	if (!set_str(&s->s_client_name, host) ||
	    !set_str(&s->s_listener, macro(ctx, "{daemon_name}")))
		s->s_oom = true;
	rm_watch_session(&mlfi_runtime->rt_watch, s->s_rs, s->s_gen,
	                 s->s_listener, watch_warn, NULL);
	s->s_mx_listener = rm_metrics_listener(
	    &mlfi_runtime->rt_metrics,
	    rm_ruleset_profile(s->s_rs, s->s_listener)->pf_name);
	return SMFIS_NOREPLY;
}

static sfsistat
mlfi_helo(SMFICTX *ctx, char *helo)
{
	struct rm_session *s = smfi_getpriv(ctx);

	/* a repeated HELO (e.g. after STARTTLS) replaces the earlier one */
	if (s != NULL && !set_str(&s->s_helo, helo))
		s->s_oom = true;
	if (s != NULL)
		s->s_logwho[0] = '\0';
	return SMFIS_NOREPLY;
}

/* log_who - the session's fixed part of the decision line, once. */
static void
log_who(struct rm_session *s, const struct rm_facts *f)
{
	char client[128], ip[64], helo[128];
	const char *name = f->f_client_name;

	if (s->s_logwho[0] != '\0')
		return;
	if (f->f_client_ip != NULL)
		rm_ip_format(f->f_client_ip, ip, sizeof(ip));
	else
		snprintf(ip, sizeof(ip), "unknown");
	/* the MTA passes "[addr]" when the client has no verified name */
	if (name != NULL && name[0] == '[')
		name = "unknown";
	snprintf(s->s_logwho, sizeof(s->s_logwho), "client=%s[%s] helo=<%s>",
	         rm_log_sanitize(name, client, sizeof(client)), ip,
	         rm_log_sanitize(f->f_helo, helo, sizeof(helo)));
	rm_log_sanitize(f->f_listener, s->s_loglistener,
	                sizeof(s->s_loglistener));
}

/*
 * json_str - s as the body of a JSON string into buf (s is sanitized text:
 * printable ASCII, so only '"' and '\\' need escaping)
 */
static const char *
json_str(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

/* The fields of a decision line, sanitized, in the order they are shown. */
enum {
	DF_SESSION,
	DF_CLIENT,
	DF_HELO,
	DF_AUTH,
	DF_FROM,
	DF_RCPT,
	DF_HEADER_FROM,
	DF_LISTENER,
	DF_RULE,
	DF_ENTRY,
	DF_VERDICT,
	DF_REPLY,
	DF_MONITOR,
	DF_WOULD,
	DF_QUEUE_ID,
	DF__COUNT
};
static const char *const df_names[DF__COUNT] = {
    "session", "client",      "helo",     "auth",  "from",
    "rcpt",    "header_from", "listener", "rule",  "entry",
    "verdict", "reply",       "monitor",  "would", "queue_id"};

/* log_json - the decision as one JSON object (log_format = "json") */
static void
log_json(const char *const val[DF__COUNT])
{
	char line[3072], esc[1024];
	size_t n = 0;
	int i;

	n += (size_t)snprintf(line, sizeof(line), "{");
	for (i = 0; i < DF__COUNT && n < sizeof(line); i++)
		if (val[i] != NULL)
			n += (size_t)snprintf(
			    line + n, sizeof(line) - n, "%s\"%s\":\"%s\"",
			    n > 1 ? "," : "", df_names[i],
			    json_str(val[i], esc, sizeof(esc)));
	if (n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, "}");
	rm_log(RM_LOG_INFO, "%s", line);
}

/* log_decision - the one log line of a decision. */
static void
log_decision(struct rm_session *s, const struct rm_facts *f,
             const struct rm_verdict *v, const char *qid)
{
	char auth[128], from[256], rcpt[256], bfrom[256], brcpt[256],
	    hf[RM_HDR_ADDR_MAX], hfrom[RM_HDR_ADDR_MAX + 24],
	    entry[sizeof(((struct rm_verdict_text *)0)->vt_entry) + 2],
	    would[RM_REPLY_TEXT_MAX + 64], client[160], helo[160], q[64],
	    ip[64];
	const char *val[DF__COUNT];
	struct rm_verdict_text vt;

	if (!rm_log_enabled(RM_LOG_INFO))
		return;
	rm_verdict_text(v, &vt);
	rm_log_sanitize(f->f_auth, auth, sizeof(auth));
	rm_log_sanitize(rm_addr_unbracket(f->f_sender, bfrom, sizeof(bfrom)),
	                from, sizeof(from));
	rm_log_sanitize(rm_addr_unbracket(f->f_rcpt, brcpt, sizeof(brcpt)),
	                rcpt, sizeof(rcpt));
	if (qid != NULL)
		rm_log_sanitize(qid, q, sizeof(q));
	/* header_from: the From: address it judged (the author's own) */
	hf[0] = hfrom[0] = '\0';
	if (v->v_from[0] != '\0') {
		rm_log_sanitize(v->v_from, hf, sizeof(hf));
		snprintf(hfrom, sizeof(hfrom), " header_from=<%s>", hf);
	}
	if (mlfi_runtime->rt_log_json) {
		memset(val, 0, sizeof(val));
		val[DF_SESSION] = s->s_id;
		val[DF_CLIENT] = f->f_client_ip ? rm_ip_format(f->f_client_ip,
		                                               ip, sizeof(ip))
		                                : "unknown";
		val[DF_HELO] = rm_log_sanitize(f->f_helo, helo, sizeof(helo));
		val[DF_AUTH] = auth;
		val[DF_FROM] = from;
		val[DF_RCPT] = rcpt;
		val[DF_HEADER_FROM] = hf[0] ? hf : NULL;
		val[DF_LISTENER] =
		    rm_log_sanitize(f->f_listener, client, sizeof(client));
		val[DF_RULE] = vt.vt_rule;
		val[DF_ENTRY] = vt.vt_entry[0] ? vt.vt_entry : NULL;
		val[DF_VERDICT] = vt.vt_action;
		val[DF_REPLY] = vt.vt_reply[0] ? vt.vt_reply : "-";
		val[DF_MONITOR] = vt.vt_would_rule;
		val[DF_WOULD] = vt.vt_would_rule ? vt.vt_would : NULL;
		val[DF_QUEUE_ID] = qid ? q : NULL;
		log_json(val);
		return;
	}
	log_who(s, f);
	entry[0] = would[0] = '\0';
	if (vt.vt_entry[0] != '\0')
		snprintf(entry, sizeof(entry), "[%s]", vt.vt_entry);
	if (vt.vt_would_rule != NULL)
		snprintf(would, sizeof(would), " monitor=%s would=\"%s\"",
		         vt.vt_would_rule, vt.vt_would);
	rm_log(RM_LOG_INFO,
	       "%s: %s auth=%s from=<%s> rcpt=<%s>%s listener=%s rule=%s%s "
	       "verdict=%s reply=\"%s\"%s%s%s",
	       s->s_id, s->s_logwho, auth, from, rcpt, hfrom, s->s_loglistener,
	       vt.vt_rule, entry, vt.vt_action,
	       vt.vt_reply[0] ? vt.vt_reply : "-", would,
	       qid ? " queue_id=" : "", qid ? q : "");
}

/* trace_debug - engine steps to the debug log, tagged with the session. */
static void
trace_debug(void *arg, const char *line)
{
	rm_log(RM_LOG_DEBUG, "%s: %s", (const char *)arg, line);
}

/* answer - turn a verdict into the callback's return value and reply. */
static sfsistat
answer(SMFICTX *ctx, const struct rm_reply *r, enum rm_action act)
{
	char text[2 * RM_REPLY_TEXT_MAX + 1];

	if (act == RM_CONTINUE)
		return SMFIS_CONTINUE;
	if (r != NULL &&
	    smfi_setreply(ctx, (char *)r->r_code, (char *)r->r_xcode,
	                  rm_reply_escape_text(r, text, sizeof(text))) !=
	        MI_SUCCESS)
		rm_log(RM_LOG_WARNING, "smfi_setreply failed for \"%s %s\"",
		       r->r_code, r->r_xcode);
	return act == RM_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* lost - the session could not keep its facts: tempfail, never guess. */
static sfsistat
lost(SMFICTX *ctx, const struct rm_session *s)
{
	struct rm_ruleset *rs;
	sfsistat rc;

	/* libmilter runs MAIL even when no CONNECT came first */
	if (s == NULL || !s->s_connected)
		rm_log(RM_LOG_WARNING,
		       "-: MAIL or RCPT without a CONNECT (a broken or "
		       "hostile milter client): tempfail");
	else
		rm_log(RM_LOG_ERR,
		       "%s: session state lost (out of memory?): tempfail",
		       s->s_id);
	/* the configured tempfail reply, of the session's policy or the
	   current one */
	rs = s != NULL && s->s_rs != NULL
	         ? rm_ruleset_hold(s->s_rs)
	         : rm_snapshot_acquire(&mlfi_runtime->rt_snapshot);
	rc = answer(ctx, rs != NULL ? &rs->rs_replies[RM_R_TEMPFAIL] : NULL,
	            RM_TEMPFAIL);
	rm_ruleset_release(rs);
	return rc;
}

/* on_lock - the limit's command, started and not waited for */
static void
on_lock(const struct rm_session *s, const struct rm_limit_event *ev)
{
	char err[256];

	if (ev->le_limit->lm_on_lock == NULL)
		return;
	if (rm_spawn(ev->le_limit->lm_on_lock, ev->le_limit->lm_name,
	             ev->le_key, err, sizeof(err)) != 0)
		rm_log(RM_LOG_ERR, "%s: limit %s: on_lock: %s", s->s_id,
		       ev->le_limit->lm_name, err);
}

/*
 * limit_events - one clear line when a key trips (the first refusal since
 * it was under) and when it is locked; the lock's alert.  The decision
 * line follows with the rule and the reply.
 */
static void
limit_events(const struct rm_session *s, const struct rm_limit_report *rep)
{
	const struct rm_limit_event *ev;
	char key[RM_LIMIT_KEY_MAX], what[96], lock[32];
	size_t i;

	for (i = 0; i < rep->lr_n; i++) {
		ev = &rep->lr_ev[i];
		rm_log_sanitize(ev->le_key, key, sizeof(key));
		if (ev->le_res == RM_LIM_ERROR)
			rm_log(RM_LOG_ERR,
			       "%s: limit %s: %s %s: the store failed (out of "
			       "memory?): tempfail",
			       s->s_id, ev->le_limit->lm_name,
			       rm_limit_key_names[ev->le_limit->lm_key], key);
		if (ev->le_tripped)
			rm_log(
			    RM_LOG_WARNING,
			    "%s: limit %s: %s %s %s over %s (%lu messages, "
			    "%lu recipients in the window)",
			    s->s_id, ev->le_limit->lm_name,
			    rm_limit_key_names[ev->le_limit->lm_key], key,
			    ev->le_monitor ? "would be" : "is",
			    rm_limit_describe(ev->le_limit, what, sizeof(what)),
			    ev->le_count[RM_WC_MSGS],
			    ev->le_count[RM_WC_RCPTS]);
		if (!ev->le_locked_now)
			continue;
		rm_log(RM_LOG_WARNING,
		       "%s: limit %s: %s %s locked for %s (relaymilter limits "
		       "--lift %s:KEY lifts it)",
		       s->s_id, ev->le_limit->lm_name,
		       rm_limit_key_names[ev->le_limit->lm_key], key,
		       rm_duration_format(ev->le_limit->lm_lock, lock,
		                          sizeof(lock)),
		       ev->le_limit->lm_name);
		on_lock(s, ev);
	}
}

/*
 * limits - count a recipient let through against the limits that apply,
 * at now (the monotonic seconds judge() read for its timing)
 */
static void
limits(struct rm_session *s, const struct rm_facts *f, struct rm_verdict *v,
       uint64_t now)
{
	struct rm_metrics *mx = &mlfi_runtime->rt_metrics;
	struct rm_limit_report rep;
	size_t i;

	rm_limits_admit(mlfi_runtime->rt_limits, s->s_rs, f, &s->s_ltx, now, v,
	                &rep);
	for (i = 0; i < rep.lr_n; i++) {
		if (rep.lr_ev[i].le_res == RM_LIM_ADMIT ||
		    rep.lr_ev[i].le_monitor)
			continue;
		rm_metrics_limit(mx, rep.lr_ev[i].le_limit->lm_name,
		                 rep.lr_ev[i].le_locked_now);
	}
	if (rep.lr_n > 0)
		limit_events(s, &rep);
}

/*
 * judge - the engine's verdict at MAIL, RCPT or the end of headers (hdrs
 * not NULL), timed, and counted when it is a decision (RCPT and headers
 * always; MAIL when it refuses or monitors).
 */
static void
judge(struct rm_session *s, const struct rm_facts *f, struct rm_verdict *v,
      bool rcpt, const struct rm_headers *hdrs)
{
	struct rm_metrics *mx = &mlfi_runtime->rt_metrics;
	struct rm_trace tr = {trace_debug, s->s_id};
	const struct rm_trace *t = rm_log_enabled(RM_LOG_DEBUG) ? &tr : NULL;
	struct timespec t0, t1;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hdrs != NULL)
		rm_policy_headers(s->s_rs, f, hdrs, v, t);
	else if (rcpt)
		rm_policy_rcpt(s->s_rs, f, v, t);
	else
		rm_policy_mail(s->s_rs, f, v, t);
	if (rcpt && v->v_limits != 0)
		limits(s, f, v, (uint64_t)t0.tv_sec);
	if (rcpt && v->v_grant != NULL && v->v_action == RM_CONTINUE)
		atomic_fetch_add_explicit(&mx->mx_grants_used, 1,
		                          memory_order_relaxed);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL +
	     (t1.tv_nsec - t0.tv_nsec);
	rm_metrics_latency(mx, ns > 0 ? (unsigned long long)ns : 0);
	if (rcpt || hdrs != NULL || v->v_action != RM_CONTINUE ||
	    v->v_would_rule != NULL)
		rm_metrics_decision(mx,
		                    strncmp(v->v_rule, "limit[", 6) == 0
		                        ? rm_check_name(RM_CK_LIMITS)
		                        : v->v_rule,
		                    v->v_action,
		                    v->v_would_rule ? v->v_would_check : -1,
		                    s->s_mx_listener);
}

/* facts - what the session knows, for the engine. */
static void
facts(SMFICTX *ctx, struct rm_session *s, struct rm_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->f_client_ip = s->s_have_client ? &s->s_client : NULL;
	f->f_client_name = s->s_client_name;
	f->f_daemon_ip = s->s_have_daemon ? &s->s_daemon : NULL;
	f->f_listener = s->s_listener;
	f->f_helo = s->s_helo;
	/* {auth_authen} may come only with RCPT, depending on MTA config */
	f->f_auth = s->s_auth != NULL ? s->s_auth : macro(ctx, "{auth_authen}");
	f->f_sender = s->s_sender;
	f->f_mail_addr = s->s_mail_addr;
	f->f_owners = s->s_port.op_lookup != NULL ? &s->s_port : NULL;
	f->f_grants = s->s_gport.gp_lookup != NULL ? &s->s_gport : NULL;
	f->f_nrcpts = s->s_nrcpts;
}

static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct rm_session *s = smfi_getpriv(ctx);
	struct rm_facts f;
	struct rm_verdict v;

	/* unanswered MAIL: RCPT reports the missing CONNECT */
	if (s != NULL && s->s_nr_mail && !s->s_connected)
		return SMFIS_NOREPLY;
	if (s == NULL || !s->s_connected || s->s_rs == NULL)
		return lost(ctx, s);
	message_reset(s);
	s->s_port.op_lookup =
	    rm_owners_enabled(&mlfi_runtime->rt_owners) ? port_lookup : NULL;
	s->s_port.op_arg = s;
	s->s_port.op_owned_by = port_owned_by;
	s->s_gport.gp_lookup =
	    mlfi_runtime->rt_grants_on && mlfi_runtime->rt_grants != NULL
	        ? grant_lookup
	        : NULL;
	s->s_gport.gp_arg = s;
	if (!set_str(&s->s_sender, argv != NULL ? argv[0] : NULL) ||
	    !set_str(&s->s_mail_addr, macro(ctx, "{mail_addr}")) ||
	    !set_str(&s->s_auth, macro(ctx, "{auth_authen}")))
		s->s_oom = true;
	/* not answered: RCPT decides everything, a lost fact included */
	if (s->s_nr_mail)
		return SMFIS_NOREPLY;
	if (s->s_oom)
		return lost(ctx, s);
	facts(ctx, s, &f);
	judge(s, &f, &v, false, NULL);
	/* RCPT logs the decision, unless MAIL already made one */
	if (v.v_action != RM_CONTINUE || v.v_would_rule != NULL)
		log_decision(s, &f, &v, macro(ctx, "i"));
	return answer(ctx, v.v_reply, v.v_action);
}

/* decidable - the session has its facts: RCPT and headers may be judged */
static bool
decidable(const struct rm_session *s)
{
	return s != NULL && s->s_connected && s->s_rs != NULL && !s->s_oom;
}

static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct rm_session *s = smfi_getpriv(ctx);
	struct rm_facts f;
	struct rm_verdict v;

	if (!decidable(s))
		return lost(ctx, s);
	facts(ctx, s, &f);
	f.f_rcpt = argv != NULL ? argv[0] : NULL;
	f.f_rcpt_addr = macro(ctx, "{rcpt_addr}");
	f.f_rcpt_mailer = macro(ctx, "{rcpt_mailer}");
	f.f_rcpt_host = macro(ctx, "{rcpt_host}");
	judge(s, &f, &v, true, NULL);
	log_decision(s, &f, &v, macro(ctx, "i"));
	if (v.v_action == RM_CONTINUE)
		s->s_nrcpts++;
	return answer(ctx, v.v_reply, v.v_action);
}

/* mlfi_data - taken only with answer_data (see mlfi_negotiate) */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/*
 * keep_field - one From: or Sender: value, copied; past RM_HDR_FIELDS_MAX
 * fields or RM_HDR_VALUE_MAX bytes only counted (header_from refuses)
 */
static void
keep_field(struct rm_session *s, const char **slot, size_t *n, const char *v)
{
	if (*n >= RM_HDR_FIELDS_MAX || strlen(v) > RM_HDR_VALUE_MAX)
		s->s_h.h_over = true;
	else if ((slot[*n] = strdup(v)) == NULL)
		s->s_oom = true;
	(*n)++;
}

/* mlfi_header - asked for only with header_from: keep From: and Sender: */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct rm_session *s = smfi_getpriv(ctx);

	if (s != NULL && s->s_connected && name != NULL && value != NULL) {
		if (strcasecmp(name, "From") == 0)
			keep_field(s, s->s_h.h_from, &s->s_h.h_nfrom, value);
		else if (strcasecmp(name, "Sender") == 0)
			keep_field(s, s->s_h.h_sender, &s->s_h.h_nsender,
			           value);
	}
	return s != NULL && s->s_nr_hdr ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* mlfi_eoh - header_from: the message's author fields are the login's */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct rm_session *s = smfi_getpriv(ctx);
	struct rm_facts f;
	struct rm_verdict v;

	if (!decidable(s))
		return lost(ctx, s);
	facts(ctx, s, &f);
	judge(s, &f, &v, false, &s->s_h);
	log_decision(s, &f, &v, macro(ctx, "i"));
	return answer(ctx, v.v_reply, v.v_action);
}

static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	struct rm_session *s = smfi_getpriv(ctx);

	if (s != NULL)
		message_reset(s);
	return SMFIS_CONTINUE;
}

static sfsistat
mlfi_close(SMFICTX *ctx)
{
	struct rm_session *s = smfi_getpriv(ctx);

	/*
	 * close may come without connect: a dropped negotiation, or a packet
	 * libmilter refused (bad length, unknown command, malformed CONNECT)
	 */
	if (s == NULL || !s->s_connected)
		rm_log(RM_LOG_INFO, "-: connection closed before CONNECT "
		                    "(dropped, or a malformed packet)");
	if (s == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	message_reset(s);
	free(s->s_client_name);
	free(s->s_listener);
	free(s->s_helo);
	rm_ruleset_release(s->s_rs);
	free(s);
	atomic_fetch_sub_explicit(&mlfi_runtime->rt_metrics.mx_sessions_active,
	                          1, memory_order_relaxed);
	return SMFIS_CONTINUE;
}

int
rm_mlfi_register(struct rm_runtime *rt)
{
	mlfi_runtime = rt;
	if (smfi_register(mlfi_desc) != MI_SUCCESS) {
		rm_log(RM_LOG_ERR, "smfi_register failed");
		return -1;
	}
	return 0;
}
