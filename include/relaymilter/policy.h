/*
 * policy.h - the relay policy engine: facts and a ruleset in, a verdict out.
 *
 * The engine is pure: it never calls libmilter, LDAP or libconfig, keeps no
 * state, allocates nothing, and reads no clock.  The same function serves
 * the milter's RCPT callback and "relaymilter check", so what the CLI says
 * is what the MTA would be told.
 */
#ifndef RM_POLICY_H
#define RM_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "relaymilter/hdraddr.h"
#include "relaymilter/ip.h"
#include "relaymilter/rm.h"
#include "relaymilter/ruleset.h"

/*
 * The sender addresses a login owns, from an on-demand lookup (LDAP):
 * "user@domain" or "@domain" patterns.  An error means the answer is not
 * known: a check that needs it tempfails.
 */
struct rm_owned {
	enum rm_lookup o_state;
	char **o_addrs;
	size_t o_n;
};

/*
 * The owner port: what a login owns beyond sender_logins, looked up on
 * demand (owners.h: a cache, then LDAP).  The engine calls it at most once
 * per decision, and only when sender_login needs the answer; the result
 * belongs to the port and stays valid until the decision is made.
 */
struct rm_owner_port {
	const struct rm_owned *(*op_lookup)(void *arg, const char *login);
	void *op_arg;
	/*
	 * The reverse question, for sender_login_mode = "known": does any
	 * login of the directory own addr ("user@domain")?  NULL: it cannot
	 * be asked, and a sender the ruleset does not know tempfails.
	 */
	enum rm_lookup (*op_owned_by)(void *arg, const char *addr);
};

/*
 * A relay grant (POP/IMAP-before-SMTP, grants.h): the client address
 * logged in to the mail server a moment ago and may relay until
 * g_expires (Unix time).  An error means the answer is not known.
 */
#define RM_GRANT_LOGIN_MAX   64
#define RM_GRANT_SOURCE_MAX  16
#define RM_GRANT_TTL_DEFAULT 1800  /* 30 minutes */
#define RM_GRANT_TTL_MAX     86400 /* a day */
struct rm_grant {
	enum rm_lookup g_state;
	char g_login[RM_GRANT_LOGIN_MAX];   /* sanitized; "" when none */
	char g_source[RM_GRANT_SOURCE_MAX]; /* "push", "follow", ... */
	uint64_t g_expires;
};

/* rm_grant_until - an expiry as "2026-01-31T12:00:00Z"; returns buf */
const char *rm_grant_until(uint64_t expires, char *buf, size_t len);

/*
 * The grant port: does the client address hold a grant now?  Asked at
 * most once per decision, and only for a relay by a client that is
 * neither trusted nor authenticated (or, with grants.trusted, by the
 * anti-spoofing checks); the answer belongs to the port and stays valid
 * until the decision is made.
 */
struct rm_grant_port {
	const struct rm_grant *(*gp_lookup)(void *arg, const struct rm_ip *);
	void *gp_arg;
};

/*
 * What is known about one recipient of one SMTP transaction.  A NULL
 * pointer means the MTA did not tell us.
 */
struct rm_facts {
	const struct rm_ip *f_client_ip; /* NULL: unknown client address */
	const char *f_client_name;       /* for logs only */
	const struct rm_ip *f_daemon_ip; /* {daemon_addr}: the address the
	                                    client connected to */
	const char *f_listener;          /* {daemon_name} */
	const char *f_helo;
	const char *f_auth;        /* {auth_authen}; NULL/"": none */
	const char *f_sender;      /* MAIL FROM argument */
	const char *f_mail_addr;   /* {mail_addr}: the MTA's resolution of
	                              the sender (Sendmail: a bare user when
	                              it resolved it to local delivery) */
	const char *f_rcpt;        /* RCPT TO argument */
	const char *f_rcpt_addr;   /* {rcpt_addr}: MTA's resolution */
	const char *f_rcpt_mailer; /* {rcpt_mailer}: where it delivers */
	const char *f_rcpt_host;   /* {rcpt_host}: the mailer's next hop */
	/* on-demand lookups of what f_auth owns; NULL: none configured */
	const struct rm_owner_port *f_owners;
	/* the relay grants of client addresses; NULL: none configured */
	const struct rm_grant_port *f_grants;
	/* recipients of this message let through so far (max_recipients) */
	unsigned f_nrcpts;
};

struct rm_verdict {
	enum rm_action v_action;
	const struct rm_reply *v_reply; /* NULL for RM_CONTINUE */
	const char *v_rule;             /* e.g. "local_domains" */
	const struct rm_entry *v_entry; /* the entry that matched, or NULL */
	const struct rm_grant *v_grant; /* relay_grant: the grant, or NULL */
	/*
	 * The first check in monitor mode that would have refused: its rule
	 * (NULL: none) and reply.  The verdict itself does not change.
	 */
	const char *v_would_rule;
	int v_would_check; /* its enum rm_check */
	struct rm_reply v_would;
	struct rm_reply v_rbuf; /* v_reply points here once expanded: a
	                           verdict is filled in place, never copied */
	/*
	 * A recipient let through (RM_CONTINUE) that limits apply to: bit i
	 * is rs_limits[i].  The engine only says which; limits.h counts,
	 * and may turn the verdict into a refusal.  Monitored: the limits
	 * count but never refuse.
	 */
	uint32_t v_limits;
	bool v_limits_monitor;
	/* header_from: the address it judged last ("" none), for the log */
	char v_from[RM_HDR_ADDR_MAX];
};

/*
 * The author fields of one message, as the MTA passed them (folded
 * lines and all): every From: and every Sender: field, in order.
 * h_over: a field was over RM_HDR_VALUE_MAX or there were more than
 * RM_HDR_FIELDS_MAX (the adapter kept none of the excess).
 */
#define RM_HDR_FIELDS_MAX 4
struct rm_headers {
	const char *h_from[RM_HDR_FIELDS_MAX];
	size_t h_nfrom; /* how many From: fields the message had */
	const char *h_sender[RM_HDR_FIELDS_MAX];
	size_t h_nsender;
	bool h_over;
};

/*
 * A trace receives one line per step of the evaluation, for --explain and
 * debug logging.  NULL costs nothing.
 */
struct rm_trace {
	void (*t_line)(void *arg, const char *line);
	void *t_arg;
};

/*
 * rm_policy_mail - decide at MAIL FROM: only what cannot wait for RCPT
 * (a listener that requires SMTP AUTH).  Continue otherwise.
 */
void rm_policy_mail(const struct rm_ruleset *, const struct rm_facts *,
                    struct rm_verdict *, const struct rm_trace *);

/*
 * rm_policy_rcpt - decide one recipient, running every check in the
 * order documented in policy.c and relaymilter.conf(5).
 *
 * Never returns RM_CONTINUE for a recipient outside our domains unless the
 * client is proven allowed to relay; a missing fact that the decision needs
 * gives RM_TEMPFAIL.
 */
void rm_policy_rcpt(const struct rm_ruleset *, const struct rm_facts *,
                    struct rm_verdict *, const struct rm_trace *);

/*
 * rm_policy_headers - decide a message at end of headers: header_from
 * (an authenticated client's From: and Sender: addresses must be the
 * login's, as sender_login judges the envelope sender).  Continue when
 * the check is off, lifted or not for this session.
 */
void rm_policy_headers(const struct rm_ruleset *, const struct rm_facts *,
                       const struct rm_headers *, struct rm_verdict *,
                       const struct rm_trace *);

/*
 * rm_policy_needs_headers - header_from is on (enforced or monitored) at
 * the top level or for some listener: the adapter must ask the MTA for
 * the headers.
 */
bool rm_policy_needs_headers(const struct rm_ruleset *);

/*
 * rm_policy_always_continues - does every recipient from every client in
 * net get RM_CONTINUE, whatever the session brings (HELO, sender, AUTH,
 * listener)?  Only then may the MTA skip relaymilter for those clients
 * (Postfix's smtpd_milter_maps).  net is a trusted network of the top
 * level; owner_lookups: on-demand sender lookups are configured.  When
 * not, *why says what could refuse.
 */
bool rm_policy_always_continues(const struct rm_ruleset *,
                                const struct rm_cidr *net, bool owner_lookups,
                                const char **why);

/*
 * The steps of rm_policy_rcpt(), in order: st_num is the step's number in
 * relaymilter.conf(5) (0: bookkeeping that decides nothing of its own).
 */
struct eval;
struct rm_step {
	unsigned st_num;
	const char *st_name;
	const char *st_what;
	int (*st_fn)(struct eval *);
};
const struct rm_step *rm_policy_steps(size_t *n);

#endif
