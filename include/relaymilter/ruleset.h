/*
 * ruleset.h - the compiled, immutable relay policy (a "snapshot").
 *
 * A ruleset is everything the engine needs to decide and nothing else (the
 * daemon's settings live in confdata.h), compiled from the config file and
 * LDAP by rm_conf_compile() off the callback path.  Once built it is never
 * modified; sessions pin it with rm_ruleset_hold() at connect and drop it
 * with rm_ruleset_release() at close, so a reload never changes the policy
 * under a running session.
 */
#ifndef RM_RULESET_H
#define RM_RULESET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relaymilter/addrset.h"
#include "relaymilter/domset.h"
#include "relaymilter/ip.h"
#include "relaymilter/reply.h"
#include "relaymilter/strset.h"

/*
 * The checks that can refuse a client that may otherwise send, in the
 * order they run (see policy.c).  Each can be set to reject, monitor or off,
 * and lifted by an exception.  The relay permission itself is not one of
 * them: it is never monitored and never lifted.
 */
enum rm_check {
	RM_CK_REQUIRE_AUTH = 0,
	RM_CK_DENY,
	RM_CK_SENDER_LOGIN,
	RM_CK_LOCAL_SENDER_SPOOF,
	RM_CK_HELO_SPOOF,
	RM_CK_UNLICENSED_SENDER,
	RM_CK_MAX_RECIPIENTS,
	RM_CK_LIMITS,
	RM_CK_LOGIN_NETWORK,
	RM_CK_HEADER_FROM, /* at end of headers; off unless set */
	RM_CK__COUNT
};
#define RM_LIFT(ck) (1u << (ck))
#define RM_LIFT_ALL ((1u << RM_CK__COUNT) - 1)

enum rm_check_mode { RM_CM_REJECT = 0, RM_CM_MONITOR, RM_CM_OFF };

/*
 * The lists a policy is made of, wherever they come from.  Their order
 * means nothing: what a list is and how it is read and matched is its row
 * in rm_list_defs[] (ruleset.c).
 */
enum rm_list_id {
	RM_L_HOSTNAMES = 0,
	RM_L_LOCAL_DOMAINS,
	RM_L_RELAY_DOMAINS,
	RM_L_TRUSTED_NETWORKS,
	RM_L_LICENSED_SENDERS,
	RM_L_SENDER_LOGINS,
	RM_L_EXC_CLIENTS,
	RM_L_EXC_HELO,
	RM_L_EXC_SENDERS,
	RM_L_EXC_RECIPIENTS,
	RM_L_EXC_LOGINS,
	RM_L_DENY_CLIENTS,
	RM_L_DENY_HELO,
	RM_L_DENY_SENDERS,
	RM_L_DENY_RECIPIENTS,
	RM_L_DENY_LOGINS,
	RM_L_LOGIN_NETWORKS,
	RM_L__COUNT
};
/* How a list's entries are written and matched. */
enum rm_list_key {
	RM_KEY_HOST,      /* a host name, exactly (domset.h) */
	RM_KEY_DOMAIN,    /* a domain, or ".domain": its subtree (domset.h) */
	RM_KEY_NET,       /* an address or a CIDR network (ip.h) */
	RM_KEY_ADDR,      /* an address pattern (addrset.h) */
	RM_KEY_LOGIN,     /* an SMTP AUTH login, exactly but for case */
	RM_KEY_LOGIN_NET, /* a network a login owns (ip.h rm_netowners) */
};

/* What else an entry of a list may carry, and what it is for. */
enum rm_list_role {
	RM_ROLE_LIST,      /* a plain list */
	RM_ROLE_OWNED,     /* what a login owns (an owner each) */
	RM_ROLE_EXCEPTION, /* lifts checks ("lifts", default all) */
	RM_ROLE_DENY,      /* refuses; may carry its own 5xx reply */
};

/* Which fact of a transaction an exception or deny list is matched on. */
enum rm_fact {
	RM_FACT_NONE,
	RM_FACT_CLIENT,
	RM_FACT_HELO,
	RM_FACT_SENDER,
	RM_FACT_RECIPIENT,
	RM_FACT_LOGIN
};

/*
 * One list, declared once: the config reader, the LDAP mapping and cache,
 * the ruleset builder and the error texts all work from this table.
 */
struct rm_list_def {
	const char *ld_name; /* config key ("deny.senders" is deny = {
	                        senders = ...}), LDAP relayMilterList value */
	enum rm_list_key ld_key;
	enum rm_list_role ld_role;
	enum rm_fact ld_fact;
	int ld_grants_sender; /* a whole-domain entry from LDAP is warned of */
	size_t ld_set;        /* offsetof() its set in struct rm_lists */
};
extern const struct rm_list_def rm_list_defs[RM_L__COUNT];
#define rm_list_name(l) (rm_list_defs[(l)].ld_name)
int rm_list_lookup(const char *name); /* an rm_list_id, or -1 */

/*
 * One check, declared once: its name in checks = { }, lifts and logs, and
 * the reply it refuses with (rm_reply_defs).  require_auth is set by its
 * own key, not under checks.
 */
struct rm_check_def {
	const char *cd_name;
	int cd_reply; /* enum rm_reply_id; deny: the list's own, by fact */
	int cd_in_checks;
};
extern const struct rm_check_def rm_check_defs[RM_CK__COUNT];
#define rm_check_name(ck) (rm_check_defs[(ck)].cd_name)

/*
 * rm_check_known - "deny, sender_login, ..." into buf: the names a key
 * accepts (in_checks: those of checks = { }).  Returns buf.
 */
const char *rm_check_known(int in_checks, char *buf, size_t len);

/* One configured entry, as the admin wrote it, for logs and --explain. */
struct rm_entry {
	const char *e_list;  /* rm_list_names[] */
	char *e_text;        /* the entry as written */
	const char *e_where; /* "file" (shared by its entries), "ldap:DN" */
	unsigned e_line;     /* its line in e_where; 0: none */
	char *e_listener;    /* only for this listener, or NULL */
	unsigned e_lifts;    /* exceptions: RM_LIFT() bits it lifts */
	struct rm_reply *e_reply; /* deny: its own reply, or NULL */
};

/* The replies relaymilter can send; see rm_reply_defs in ruleset.c. */
enum rm_reply_id {
	RM_R_RELAY_DENIED = 0,
	RM_R_TEMPFAIL,
	RM_R_REQUIRE_AUTH,
	RM_R_UNLICENSED_SENDER,
	RM_R_SENDER_LOGIN,
	RM_R_LOCAL_SENDER_SPOOF,
	RM_R_HELO_SPOOF,
	RM_R_BAD_SENDER,
	RM_R_DENY_CLIENT,
	RM_R_DENY_HELO,
	RM_R_DENY_SENDER,
	RM_R_DENY_RECIPIENT,
	RM_R_DENY_LOGIN,
	RM_R_MAX_RECIPIENTS,
	RM_R_LIMIT,
	RM_R_LOGIN_NETWORK,
	RM_R_HEADER_FROM,
	RM_R_HEADER_FROM_SPOOF,
	RM_R__COUNT
};

struct rm_reply_def {
	const char *rd_name; /* key under "replies" */
	const char *rd_default;
	enum rm_action rd_action; /* the class an override must keep */
};
extern const struct rm_reply_def rm_reply_defs[RM_R__COUNT];

/* The lists of exceptions and of deny, one set per fact. */
struct rm_factsets {
	struct rm_ipset *fs_clients;
	struct rm_domset *fs_helo;
	struct rm_addrset *fs_senders;
	struct rm_addrset *fs_recipients;
	struct rm_strset *fs_logins;
};

/* The lists, compiled; a profile may have its own besides the global ones. */
struct rm_lists {
	struct rm_domset *l_hostnames;      /* our own host names */
	struct rm_domset *l_local_domains;  /* we deliver for these */
	struct rm_domset *l_relay_domains;  /* we accept and forward */
	struct rm_ipset *l_trusted;         /* clients that may relay */
	struct rm_addrset *l_licensed;      /* senders that may relay */
	struct rm_addrset *l_sender_logins; /* login -> owned senders */
	struct rm_netowners *l_login_nets;  /* login -> its networks */
	struct rm_factsets l_exceptions, l_deny;
	/*
	 * The reverse index of sender_logins, for sender_login_mode =
	 * "known": every pattern some login owns (no owner), and every
	 * login of it that is a plain address (owned by sender_login_implicit).
	 */
	struct rm_addrset *l_sender_known;
	struct rm_addrset *l_login_addrs;
};

/*
 * Limits: how much a key (a login, a client, a sender, a sender domain)
 * may relay in a sliding window.  The ruleset only declares them; the
 * engine says which apply to a recipient it lets through, and limits.c
 * counts (its store keeps the state across reloads, by limit name).
 */
enum rm_limit_key {
	RM_LK_LOGIN = 0,
	RM_LK_CLIENT,
	RM_LK_SENDER,
	RM_LK_SENDER_DOMAIN,
	RM_LK__COUNT
};
extern const char *const rm_limit_key_names[RM_LK__COUNT];
#define RM_LIMITS_MAX 32 /* a profile's limits are a mask of 32 bits */

struct rm_limit {
	char *lm_name;   /* unique in the config; the store's key */
	char *lm_rule;   /* "limit[NAME]": the rule in logs */
	char *lm_origin; /* "file:line" */
	enum rm_limit_key lm_key;
	unsigned long lm_messages;   /* per window; 0: not counted */
	unsigned long lm_recipients; /* per window; 0: not counted */
	unsigned lm_per;             /* the window, seconds */
	unsigned lm_lock;            /* lock the key this long when it
	                                trips, seconds; 0: no lock */
	int lm_all;                  /* counts = "all" (else relays only) */
	unsigned lm_v6prefix;        /* client keys: IPv6 aggregated */
	int lm_has_reply;            /* lm_reply is set (else replies.limit) */
	struct rm_reply lm_reply;
	char **lm_on_lock; /* argv of the command run at a lock, or NULL */
};

/* rm_limit_copy - a deep copy of src into dst; 0, or -1 out of memory. */
int rm_limit_copy(struct rm_limit *dst, const struct rm_limit *src);
/* rm_limit_clear - free what a limit holds. */
void rm_limit_clear(struct rm_limit *);
/* rm_limit_describe - "100 messages, 500 recipients/1h" into buf. */
const char *rm_limit_describe(const struct rm_limit *, char *buf, size_t len);
/*
 * rm_limit_applies - "NAME applies: 100 messages/1h by login, lock 1d" (and
 * " (monitored)"): how check and its trace say a limit counts a recipient.
 */
const char *rm_limit_applies(const struct rm_limit *, bool monitored, char *buf,
                             size_t len);
/*
 * rm_duration_parse - "90s", "10m", "1h", "1d" (or bare seconds) into
 * *out; 0, or -1 when it is none of those, zero or over max.
 */
int rm_duration_parse(const char *v, unsigned max, unsigned *out);
/* rm_duration_format - 3600 as "1h", 90 as "90s"; returns buf. */
const char *rm_duration_format(unsigned secs, char *buf, size_t len);

/*
 * A policy profile: the checks in force for one listener ({daemon_name}),
 * fully resolved at load (a listener inherits what it does not set from
 * the top level, and mode = "monitor" has turned every reject into
 * monitor).  require_auth is RM_CM_OFF when not required.
 */
struct rm_profile {
	char *pf_name;   /* NULL: the top level */
	char *pf_origin; /* "file:line" of its definition */
	unsigned char pf_check[RM_CK__COUNT]; /* enum rm_check_mode */
	struct rm_lists *pf_lists; /* entries for this listener only, or NULL */
	uint32_t pf_limits;        /* bit i: rs_limits[i] is in force */
	unsigned pf_max_rcpts;     /* recipients per message; 0: no cap */
	bool pf_auth_relay;        /* SMTP AUTH grants relaying */
	/* the replies, the top level's overridden by the listener's own
	   replies = { }; NULL: the top level's (rs_replies) */
	struct rm_reply *pf_replies;
	bool pf_grants;  /* relay grants let a client relay */
	bool pf_hdr_all; /* header_from judges outsiders' From: too */
};

#define RM_DELIM_MAX 16 /* recipient_delimiter: at most this many */
struct rm_ruleset {
	_Atomic unsigned rs_refs;
	char *rs_source; /* config file path */

	struct rm_lists rs_lists; /* for every listener */
	/*
	 * The policy needs data that could not be loaded (LDAP down and no
	 * cache): every decision tempfails.
	 */
	int rs_incomplete;

	struct rm_profile rs_top;        /* the top-level profile */
	struct rm_profile **rs_profiles; /* listeners: file or LDAP */
	size_t rs_nprofiles;

	struct rm_reply rs_replies[RM_R__COUNT];

	struct rm_limit *rs_limits; /* every limit of the config */
	size_t rs_nlimits;

	/*
	 * This server's addresses besides the one a client connected to:
	 * our_addresses (literals of them are ours, recipients included),
	 * and the interface addresses read at load unless
	 * our_interface_addresses = false (a sender at a literal of them is
	 * ours: the MTA may take it for itself).
	 */
	struct rm_ipset *rs_our_addrs;
	/* grants.trusted: a granted client is trusted by the anti-spoofing
	   checks too, not only for relaying */
	bool rs_grants_trusted;
	struct rm_ipset *rs_if_addrs;

	/*
	 * sender_login: a login that is an address owns it
	 * (sender_login_implicit); the characters that start an address
	 * extension (recipient_delimiter, "" none); "known" mode refuses
	 * only a sender some other login owns (sender_login_mode).
	 */
	bool rs_login_implicit;
	bool rs_login_known;
	char rs_delim[RM_DELIM_MAX + 1];

	/*
	 * What the load found legal but dangerous ("ORIGIN: text"), for
	 * relaymilter -n, the log at load and check --explain.
	 */
	char **rs_warnings;
	size_t rs_nwarnings;
	/* entries to judge at finish (whole-domain sender exceptions) */
	struct rm_entry **rs_lint;
	size_t rs_nlint;

	/* how many entries; the sets' tags point at them */
	size_t rs_nentries;
	size_t rs_list_entries[RM_L__COUNT]; /* of each list */
	/* where the entries and their strings live: big blocks, freed
	   together, not one allocation each */
	struct rm_arena *rs_arena;
	const char *rs_last_where; /* the last entry's e_where, to share */

	/*
	 * A layer (rm_ruleset_layer()): the full build whose sets this one's
	 * lay over, held; NULL for a full build.
	 */
	struct rm_ruleset *rs_base;
	/* the snapshot generation it was installed as (rm_snapshot_swap()) */
	unsigned long rs_generation;
};

/*
 * rm_entry_line - ":LINE" when the entry has a line, else "", so that
 * e_where and this print as the origin "file:line" or "ldap:DN".
 */
#define RM_LINE_BUF 16
const char *rm_entry_line(const struct rm_entry *, char buf[RM_LINE_BUF]);

/* rm_ruleset_new - an empty ruleset with the default replies, refs = 1. */
struct rm_ruleset *rm_ruleset_new(const char *source);

/* What to add to a ruleset: one entry of one list. */
struct rm_entry_spec {
	enum rm_list_id es_list;
	const char *es_value;    /* the pattern, as written */
	const char *es_owner;    /* sender_logins, login_networks: the
	                            login */
	const char *es_listener; /* only for this listener; NULL: all */
	unsigned es_lifts;       /* exceptions: RM_LIFT() bits; 0 = all */
	const char *es_reply;    /* deny: "5xx x.y.z text", or NULL */
	const char *es_origin;   /* "file:line" or "ldap:DN" */
};

/*
 * rm_ruleset_add - validate one entry and add it.  Return 0, or -1 with
 * the reason (without the list's name or the origin) in errbuf; the
 * ruleset is unchanged on a validation error.
 */
int rm_ruleset_add(struct rm_ruleset *, const struct rm_entry_spec *,
                   char *errbuf, size_t errlen);

/*
 * rm_ruleset_add_our_address - an address (or network) of this server:
 * for our_addresses, or (iface) an interface's; origin as for
 * rm_ruleset_add().  0, or -1 with errbuf.
 */
int rm_ruleset_add_our_address(struct rm_ruleset *, const char *value,
                               const char *origin, bool iface, char *errbuf,
                               size_t errlen);

/*
 * rm_ruleset_layer - a ruleset that starts as base (a full build, not a
 * layer: NULL otherwise, or out of memory) and takes changes at the cost
 * of the changes alone: its sets are layers over base's, which it holds.
 * rm_ruleset_add() adds to it, rm_ruleset_remove() takes an entry of it
 * away, rm_ruleset_finish() ends it, as for a full build; it then decides
 * exactly as a full build of base's entries, less the removed and plus
 * the added ones, would.  Warnings are base's and the added entries'.
 */
struct rm_ruleset *rm_ruleset_layer(struct rm_ruleset *base);

/*
 * rm_ruleset_remove - a layer only: take away the entry sp describes (its
 * list, listener, owner, value and origin as it was added).  0, or -1 with
 * the reason ("no such entry") in errbuf.
 */
int rm_ruleset_remove(struct rm_ruleset *, const struct rm_entry_spec *,
                      char *errbuf, size_t errlen);

/* rm_ruleset_warn - record a warning; dropped when out of memory. */
void rm_ruleset_warn(struct rm_ruleset *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * rm_ruleset_add_profile - a listener profile with the top-level checks;
 * the existing one if the name is known.  NULL when out of memory.
 */
struct rm_profile *rm_ruleset_add_profile(struct rm_ruleset *, const char *name,
                                          const char *origin);

/* rm_ruleset_finish - index every set; 0, or -1 when out of memory. */
int rm_ruleset_finish(struct rm_ruleset *);

/*
 * rm_ruleset_profile - the profile for a listener name ({daemon_name}),
 * matched case-insensitively; the top level for NULL or an unknown name.
 */
const struct rm_profile *rm_ruleset_profile(const struct rm_ruleset *,
                                            const char *listener);

/*
 * rm_profile_reply - reply id as the profile sends it: the listener's own
 * replies = { } over the top level's.
 */
const struct rm_reply *rm_profile_reply(const struct rm_ruleset *,
                                        const struct rm_profile *, int id);

/* rm_check_lookup - a check by name, or -1. */
int rm_check_lookup(const char *name);

/* rm_ruleset_hold - take a reference; returns its argument. */
struct rm_ruleset *rm_ruleset_hold(struct rm_ruleset *);
/* rm_ruleset_release - drop a reference; the last one frees.  NULL is ok. */
void rm_ruleset_release(struct rm_ruleset *);

#endif
