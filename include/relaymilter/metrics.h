/*
 * metrics.h - the daemon's counters, and their exposition.
 *
 * The adapter (mlfi.c) counts what the engine decided, from the verdict it
 * gets back, and how long the engine took; the reload thread records each
 * load (ruleset, LDAP).  Every counter is a relaxed atomic: nothing on the
 * decision path takes a lock or allocates.  The label space is bounded and
 * declared once: rules come from the rule names the engine can return (the
 * fixed ones below, the lists, the checks and the replies), verdicts from
 * enum rm_action, checks from rm_check_defs[], listeners from the listener
 * profiles the loads have seen (at most RM_MX_LISTENERS, the rest counted
 * as "other"; the top level is "default").
 *
 * Every metric is one row of a table in metrics.c (name, type, help, how
 * to read it); rm_metrics_render() writes that table in the Prometheus
 * text format 0.0.4, which the HTTP endpoint serves and "relaymilter
 * stats" prints (monitor.c).
 */
#ifndef RM_METRICS_H
#define RM_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "relaymilter/rm.h"
#include "relaymilter/ruleset.h"

#define RM_MX_RULES       64 /* rule label slots; 0 is "other" */
#define RM_MX_LISTENERS   16 /* listener label slots: "default", "other", 14 */
#define RM_MX_LST_DEFAULT 0
#define RM_MX_LST_OTHER   1
#define RM_MX_LIMITS      48 /* limit label slots; 0 is "other" */
#define RM_MX_ACTIONS     3  /* enum rm_action */
#define RM_MX_BUCKETS     13 /* decision latency buckets, +Inf apart */

enum rm_mx_reload { RM_MX_RELOAD_OK = 0, RM_MX_RELOAD_FAILED, RM_MX_RELOAD__N };

struct rm_metrics {
	/* labels: rules fixed at init; listeners appended, never removed */
	const char *mx_rule[RM_MX_RULES];
	size_t mx_nrules;
	char *mx_listener[RM_MX_LISTENERS];
	atomic_size_t mx_nlisteners; /* published after the name */

	/* the decision path */
	atomic_ulong mx_decisions[RM_MX_RULES][RM_MX_ACTIONS][RM_MX_LISTENERS];
	atomic_ulong mx_monitored[RM_CK__COUNT][RM_MX_LISTENERS];
	/* limits by name (slot 0: "other"), registered at load like the
	   listeners; refusals and locks of each */
	char *mx_limit[RM_MX_LIMITS];
	atomic_size_t mx_nlimits; /* published after the name */
	atomic_ulong mx_limit_refusals[RM_MX_LIMITS];
	atomic_ulong mx_limit_locks[RM_MX_LIMITS];
	atomic_ulong mx_latency[RM_MX_BUCKETS + 1]; /* per bucket, +Inf last */
	atomic_ullong mx_latency_ns;                /* the sum */
	/* plain figures, one value each (read through the table by offset) */
	atomic_llong mx_sessions_active;
	atomic_llong mx_sessions_total;
	atomic_llong mx_limit_store_fallbacks; /* decisions without Redis */
	atomic_llong mx_grants_made;           /* relay grants pushed */
	atomic_llong mx_grants_used;           /* recipients relayed by one */

	/* the loads (reload thread) */
	atomic_llong mx_generation;
	atomic_llong mx_load_time;
	atomic_ulong mx_entries[RM_L__COUNT];
	atomic_ulong mx_reloads[RM_MX_RELOAD__N];
	atomic_llong mx_ldap_configured, mx_ldap_up; /* 0 or 1 */
	atomic_llong mx_ldap_refresh_time; /* last good fetch; 0: none */
	atomic_llong mx_ldap_data_time;    /* the data in use; 0: none */
	atomic_llong mx_ldap_errors;
	/* content synchronisation (ldapsync.c's thread) */
	atomic_llong mx_ldap_sync_connected; /* 0 or 1 */
	atomic_llong mx_ldap_sync_changes;   /* entry changes applied */
};

/* rm_metrics_init - all zero, the rule labels declared; -1 when OOM. */
int rm_metrics_init(struct rm_metrics *);
void rm_metrics_destroy(struct rm_metrics *);

/*
 * rm_metrics_ruleset - a load installed rs as generation gen at now: the
 * figures of the ruleset, and its listener profiles become labels.  One
 * thread at a time (start-up, then the reload thread).
 */
void rm_metrics_ruleset(struct rm_metrics *, const struct rm_ruleset *rs,
                        unsigned long gen, time_t now);

/* rm_metrics_listener - the label slot of a profile name (NULL: top). */
unsigned rm_metrics_listener(struct rm_metrics *, const char *profile);

/*
 * rm_metrics_decision - one verdict of the engine (rule, action, the
 * check a monitored refusal came from or -1) for a listener slot.
 */
void rm_metrics_decision(struct rm_metrics *, const char *rule,
                         enum rm_action act, int would_check,
                         unsigned listener);

/* rm_metrics_latency - one engine call took ns nanoseconds. */
void rm_metrics_latency(struct rm_metrics *, unsigned long long ns);

/* A growing text buffer: the exposition is built off the decision path. */
struct rm_mxbuf {
	char *mb_buf;
	size_t mb_len, mb_cap;
	bool mb_oom;
};
void rm_mxbuf_printf(struct rm_mxbuf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rm_mxbuf_free(struct rm_mxbuf *);

struct rm_runtime;

/*
 * rm_metrics_render - every metric of the table in the text format 0.0.4
 * into out (check out->mb_oom).  now: the time for ages.
 */
void rm_metrics_render(struct rm_runtime *, time_t now, struct rm_mxbuf *out);

/*
 * rm_metrics_escape - a label value as the format wants it: backslash,
 * double quote and newline escaped.  Returns buf (truncated to len).
 */
const char *rm_metrics_escape(const char *value, char *buf, size_t len);

/*
 * rm_metrics_addr - the "metrics" setting: "inet:PORT", "inet:PORT@IPV4",
 * "inet6:PORT" or "inet6:PORT@IPV6" (numeric addresses only; without one,
 * the loopback address).  0 with the address in *ss, *len and *loopback,
 * or -1 with the reason in err.
 */
int rm_metrics_addr(const char *spec, struct sockaddr_storage *ss,
                    socklen_t *len, bool *loopback, char *err, size_t errlen);

/*
 * rm_metrics_limit - a recipient refused by the limit of that name (and
 * locked: the refusal locked its key).
 */
void rm_metrics_limit(struct rm_metrics *, const char *limit, bool locked);

#endif
