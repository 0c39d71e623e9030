/*
 * metrics.c - the counters and their exposition (metrics.h).
 *
 * The exposition is hand-written in the Prometheus text format 0.0.4: it
 * is a few lines of printf, it needs no library (none is packaged that
 * fits a C daemon without pulling in an HTTP server of its own), and the
 * decision path only ever touches fixed arrays of atomics: all allocation
 * happens here, in the thread that serves a scrape.
 *
 * Each metric is one row of mx_table[]: its name, type and help, and how
 * to read it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relaymilter/metrics.h"
#include "relaymilter/runtime.h"

/* The rules the engine decides by besides lists, checks and replies. */
static const char *const mx_fixed_rules[] = {
    "postmaster",         "own_address_literal",
    "policy_unavailable", "mail",
    "missing_recipient",  "relay_denied",
    "authenticated",      "client_address_unknown",
    "relay_grant",        "relay_grant_unavailable",
};

/* Decision latency buckets, in nanoseconds: 10 us to 100 ms. */
static const unsigned long long mx_bucket_ns[RM_MX_BUCKETS] = {
    10000,   25000,   50000,    100000,   250000,   500000,   1000000,
    2500000, 5000000, 10000000, 25000000, 50000000, 100000000};

static void
add_rule(struct rm_metrics *mx, const char *name)
{
	size_t i;

	for (i = 0; i < mx->mx_nrules; i++)
		if (strcmp(mx->mx_rule[i], name) == 0)
			return;
	if (mx->mx_nrules < RM_MX_RULES)
		mx->mx_rule[mx->mx_nrules++] = name;
}

int
rm_metrics_init(struct rm_metrics *mx)
{
	size_t i;

	memset(mx, 0, sizeof(*mx));
	mx->mx_rule[mx->mx_nrules++] = "other";
	for (i = 0; i < sizeof(mx_fixed_rules) / sizeof(mx_fixed_rules[0]); i++)
		add_rule(mx, mx_fixed_rules[i]);
	for (i = 0; i < RM_L__COUNT; i++)
		add_rule(mx, rm_list_defs[i].ld_name);
	for (i = 0; i < RM_CK__COUNT; i++)
		add_rule(mx, rm_check_defs[i].cd_name);
	for (i = 0; i < RM_R__COUNT; i++)
		add_rule(mx, rm_reply_defs[i].rd_name);
	mx->mx_listener[RM_MX_LST_DEFAULT] = strdup("default");
	mx->mx_listener[RM_MX_LST_OTHER] = strdup("other");
	atomic_store(&mx->mx_nlisteners, 2);
	mx->mx_limit[0] = strdup("other");
	atomic_store(&mx->mx_nlimits, 1);
	return mx->mx_listener[0] && mx->mx_listener[1] && mx->mx_limit[0] ? 0
	                                                                   : -1;
}

void
rm_metrics_destroy(struct rm_metrics *mx)
{
	size_t i;

	for (i = 0; i < RM_MX_LISTENERS; i++)
		free(mx->mx_listener[i]);
	memset(mx->mx_listener, 0, sizeof(mx->mx_listener));
	for (i = 0; i < RM_MX_LIMITS; i++)
		free(mx->mx_limit[i]);
	memset(mx->mx_limit, 0, sizeof(mx->mx_limit));
}

/* find_limit - the slot of a limit's name, or 0 ("other") */
static size_t
find_limit(struct rm_metrics *mx, const char *name)
{
	size_t i,
	    n = atomic_load_explicit(&mx->mx_nlimits, memory_order_acquire);

	for (i = 1; i < n; i++)
		if (strcmp(mx->mx_limit[i], name) == 0)
			return i;
	return 0;
}

void
rm_metrics_limit(struct rm_metrics *mx, const char *limit, bool locked)
{
	size_t i = find_limit(mx, limit);

	atomic_fetch_add_explicit(&mx->mx_limit_refusals[i], 1,
	                          memory_order_relaxed);
	if (locked)
		atomic_fetch_add_explicit(&mx->mx_limit_locks[i], 1,
		                          memory_order_relaxed);
}

/* find_listener - the slot of a name, or -1 */
static int
find_listener(struct rm_metrics *mx, const char *name)
{
	size_t i,
	    n = atomic_load_explicit(&mx->mx_nlisteners, memory_order_acquire);

	for (i = RM_MX_LST_OTHER + 1; i < n; i++)
		if (strcasecmp(mx->mx_listener[i], name) == 0)
			return (int)i;
	return -1;
}

unsigned
rm_metrics_listener(struct rm_metrics *mx, const char *profile)
{
	int i;

	if (profile == NULL)
		return RM_MX_LST_DEFAULT;
	i = find_listener(mx, profile);
	return i >= 0 ? (unsigned)i : RM_MX_LST_OTHER;
}

void
rm_metrics_ruleset(struct rm_metrics *mx, const struct rm_ruleset *rs,
                   unsigned long gen, time_t now)
{
	size_t i, n;
	char *name;

	for (i = 0; i < rs->rs_nprofiles; i++) {
		n = atomic_load(&mx->mx_nlisteners);
		if (n == RM_MX_LISTENERS ||
		    find_listener(mx, rs->rs_profiles[i]->pf_name) >= 0)
			continue;
		if ((name = strdup(rs->rs_profiles[i]->pf_name)) == NULL)
			continue;
		mx->mx_listener[n] = name;
		atomic_store_explicit(&mx->mx_nlisteners, n + 1,
		                      memory_order_release);
	}
	for (i = 0; i < rs->rs_nlimits; i++) {
		n = atomic_load(&mx->mx_nlimits);
		if (n == RM_MX_LIMITS ||
		    find_limit(mx, rs->rs_limits[i].lm_name) != 0)
			continue;
		if ((name = strdup(rs->rs_limits[i].lm_name)) == NULL)
			continue;
		mx->mx_limit[n] = name;
		atomic_store_explicit(&mx->mx_nlimits, n + 1,
		                      memory_order_release);
	}
	for (i = 0; i < RM_L__COUNT; i++)
		atomic_store_explicit(&mx->mx_entries[i],
		                      rs->rs_list_entries[i],
		                      memory_order_relaxed);
	atomic_store_explicit(&mx->mx_generation, gen, memory_order_relaxed);
	atomic_store_explicit(&mx->mx_load_time, (long long)now,
	                      memory_order_relaxed);
}

/* rule_slot - the label slot of a rule name; 0 ("other") when unknown */
static size_t
rule_slot(const struct rm_metrics *mx, const char *rule)
{
	size_t i;

	if (rule == NULL)
		return 0;
	for (i = 1; i < mx->mx_nrules; i++)
		if (mx->mx_rule[i] == rule || strcmp(mx->mx_rule[i], rule) == 0)
			return i;
	return 0;
}

void
rm_metrics_decision(struct rm_metrics *mx, const char *rule, enum rm_action act,
                    int would_check, unsigned listener)
{
	if (listener >= RM_MX_LISTENERS)
		listener = RM_MX_LST_OTHER;
	if ((unsigned)act < RM_MX_ACTIONS)
		atomic_fetch_add_explicit(
		    &mx->mx_decisions[rule_slot(mx, rule)][act][listener], 1,
		    memory_order_relaxed);
	if (would_check >= 0 && would_check < RM_CK__COUNT)
		atomic_fetch_add_explicit(
		    &mx->mx_monitored[would_check][listener], 1,
		    memory_order_relaxed);
}

void
rm_metrics_latency(struct rm_metrics *mx, unsigned long long ns)
{
	size_t b = 0;

	while (b < RM_MX_BUCKETS && ns > mx_bucket_ns[b])
		b++;
	atomic_fetch_add_explicit(&mx->mx_latency[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&mx->mx_latency_ns, ns, memory_order_relaxed);
}

/* ---- the exposition ------------------------------------------------- */

void
rm_mxbuf_printf(struct rm_mxbuf *mb, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *p;
	int n;

	for (;;) {
		if (mb->mb_oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(mb->mb_buf ? mb->mb_buf + mb->mb_len : NULL,
		              mb->mb_buf ? mb->mb_cap - mb->mb_len : 0, fmt,
		              ap);
		va_end(ap);
		if (n < 0) {
			mb->mb_oom = true;
			return;
		}
		if (mb->mb_buf != NULL && (size_t)n < mb->mb_cap - mb->mb_len) {
			mb->mb_len += (size_t)n;
			return;
		}
		cap = mb->mb_cap ? mb->mb_cap * 2 : 4096;
		while (cap < mb->mb_len + (size_t)n + 1)
			cap *= 2;
		if ((p = realloc(mb->mb_buf, cap)) == NULL) {
			mb->mb_oom = true;
			return;
		}
		mb->mb_buf = p;
		mb->mb_cap = cap;
	}
}

void
rm_mxbuf_free(struct rm_mxbuf *mb)
{
	free(mb->mb_buf);
	memset(mb, 0, sizeof(*mb));
}

const char *
rm_metrics_escape(const char *v, char *buf, size_t len)
{
	size_t o = 0;

	for (; *v != '\0' && o + 3 < len; v++) {
		if (*v == '\\' || *v == '"') {
			buf[o++] = '\\';
			buf[o++] = *v;
		} else if (*v == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else
			buf[o++] = *v;
	}
	buf[len > 0 ? o : 0] = '\0';
	return buf;
}

struct mx_def;

/* What a row's reader writes to. */
struct mx_ctx {
	struct rm_runtime *c_rt;
	struct rm_metrics *c_mx;
	time_t c_now;
	struct rm_mxbuf *c_out;
};

struct mx_def {
	const char *md_name;
	const char *md_type; /* counter, gauge, histogram */
	const char *md_help;
	/* one value: a field of struct rm_metrics (md_field, an
	   atomic_llong), else md_value; else md_samples writes them */
	size_t md_field;
	double (*md_value)(const struct mx_ctx *);
	void (*md_samples)(const struct mx_ctx *, const struct mx_def *);
	bool md_ldap; /* only when LDAP is configured */
};

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

static const char *
listener_name(const struct mx_ctx *c, size_t i, char *buf, size_t len)
{
	return rm_metrics_escape(c->c_mx->mx_listener[i], buf, len);
}

static void
decisions(const struct mx_ctx *c, const struct mx_def *d)
{
	size_t r, a, l, nl = atomic_load(&c->c_mx->mx_nlisteners);
	unsigned long v;
	char lb[256];

	for (r = 0; r < c->c_mx->mx_nrules; r++)
		for (a = 0; a < RM_MX_ACTIONS; a++)
			for (l = 0; l < nl; l++)
				if ((v = LOAD(c->c_mx->mx_decisions[r][a][l])))
					rm_mxbuf_printf(
					    c->c_out,
					    "%s{rule=\"%s\",verdict=\"%s\","
					    "listener=\"%s\"} %lu\n",
					    d->md_name, c->c_mx->mx_rule[r],
					    rm_action_name((enum rm_action)a),
					    listener_name(c, l, lb, sizeof(lb)),
					    v);
}

static void
monitored(const struct mx_ctx *c, const struct mx_def *d)
{
	size_t k, l, nl = atomic_load(&c->c_mx->mx_nlisteners);
	unsigned long v;
	char lb[256];

	for (k = 0; k < RM_CK__COUNT; k++)
		for (l = 0; l < nl; l++)
			if ((v = LOAD(c->c_mx->mx_monitored[k][l])))
				rm_mxbuf_printf(
				    c->c_out,
				    "%s{check=\"%s\",listener=\"%s\"} %lu\n",
				    d->md_name, rm_check_defs[k].cd_name,
				    listener_name(c, l, lb, sizeof(lb)), v);
}

/* limit_counts - one count of each limit, by name */
static void
limit_counts(const struct mx_ctx *c, const struct mx_def *d,
             const atomic_ulong *v)
{
	size_t i, n = atomic_load(&c->c_mx->mx_nlimits);
	unsigned long x;
	char lb[256];

	for (i = 0; i < n; i++)
		if ((x = LOAD(v[i])))
			rm_mxbuf_printf(c->c_out, "%s{limit=\"%s\"} %lu\n",
			                d->md_name,
			                rm_metrics_escape(c->c_mx->mx_limit[i],
			                                  lb, sizeof(lb)),
			                x);
}

static void
limit_refusals(const struct mx_ctx *c, const struct mx_def *d)
{
	limit_counts(c, d, c->c_mx->mx_limit_refusals);
}

static void
limit_locks(const struct mx_ctx *c, const struct mx_def *d)
{
	limit_counts(c, d, c->c_mx->mx_limit_locks);
}

static void
latency(const struct mx_ctx *c, const struct mx_def *d)
{
	unsigned long long n = 0;
	size_t b;

	for (b = 0; b <= RM_MX_BUCKETS; b++) {
		n += LOAD(c->c_mx->mx_latency[b]);
		if (b < RM_MX_BUCKETS)
			rm_mxbuf_printf(c->c_out, "%s_bucket{le=\"%g\"} %llu\n",
			                d->md_name, mx_bucket_ns[b] / 1e9, n);
		else
			rm_mxbuf_printf(c->c_out,
			                "%s_bucket{le=\"+Inf\"} %llu\n",
			                d->md_name, n);
	}
	rm_mxbuf_printf(c->c_out, "%s_sum %.9f\n%s_count %llu\n", d->md_name,
	                LOAD(c->c_mx->mx_latency_ns) / 1e9, d->md_name, n);
}

static void
entries(const struct mx_ctx *c, const struct mx_def *d)
{
	size_t i;

	for (i = 0; i < RM_L__COUNT; i++)
		rm_mxbuf_printf(c->c_out, "%s{list=\"%s\"} %lu\n", d->md_name,
		                rm_list_defs[i].ld_name,
		                LOAD(c->c_mx->mx_entries[i]));
}

static void
reloads(const struct mx_ctx *c, const struct mx_def *d)
{
	static const char *const result[RM_MX_RELOAD__N] = {"success",
	                                                    "failure"};
	size_t i;

	for (i = 0; i < RM_MX_RELOAD__N; i++)
		rm_mxbuf_printf(c->c_out, "%s{result=\"%s\"} %lu\n", d->md_name,
		                result[i], LOAD(c->c_mx->mx_reloads[i]));
}

static void
build_info(const struct mx_ctx *c, const struct mx_def *d)
{
	rm_mxbuf_printf(c->c_out, "%s{version=\"%s\"} 1\n", d->md_name,
	                RM_VERSION);
}

/* the age of the LDAP data in use; -1 when there is none */
static double
ldap_age(const struct mx_ctx *c)
{
	long long t = LOAD(c->c_mx->mx_ldap_data_time);

	return t > 0 ? (double)(c->c_now > t ? c->c_now - t : 0) : -1;
}
static double
owner_hits(const struct mx_ctx *c)
{
	return (double)LOAD(c->c_rt->rt_owners.ow_hits);
}
static double
owner_misses(const struct mx_ctx *c)
{
	return (double)LOAD(c->c_rt->rt_owners.ow_misses);
}
static double
owner_conns_opened(const struct mx_ctx *c)
{
	return (double)LOAD(c->c_rt->rt_owners.ow_conns.ps_opened);
}
static double
owner_conns_reused(const struct mx_ctx *c)
{
	return (double)LOAD(c->c_rt->rt_owners.ow_conns.ps_reused);
}

#define NOFIELD  ((size_t)-1)
#define FIELD(f) offsetof(struct rm_metrics, f)
static const struct mx_def mx_table[] = {
    {"relaymilter_build_info", "gauge", "The version of relaymilter (1).",
     NOFIELD, NULL, build_info, false},
    {"relaymilter_decisions_total", "counter",
     "Decisions of the policy engine by rule, verdict and listener profile.",
     NOFIELD, NULL, decisions, false},
    {"relaymilter_monitored_total", "counter",
     "Refusals a monitored check would have made, by check and listener.",
     NOFIELD, NULL, monitored, false},
    {"relaymilter_limit_refusals_total", "counter",
     "Recipients a limit refused (over it, or its key locked), by limit.",
     NOFIELD, NULL, limit_refusals, false},
    {"relaymilter_limit_locks_total", "counter",
     "Keys a limit locked when they tripped, by limit.", NOFIELD, NULL,
     limit_locks, false},
    {"relaymilter_limit_store_fallbacks_total", "counter",
     "Recipients the limits judged without their Redis store (it did not "
     "answer in time): counted locally or tempfailed (store_down).",
     FIELD(mx_limit_store_fallbacks), NULL, NULL, false},
    {"relaymilter_grants_made_total", "counter",
     "Relay grants made (POP/IMAP-before-SMTP): pushed over the control "
     "socket or read from the POP/IMAP server's log (grants.follow).",
     FIELD(mx_grants_made), NULL, NULL, false},
    {"relaymilter_grants_used_total", "counter",
     "Recipients relayed by a relay grant (rule relay_grant).",
     FIELD(mx_grants_used), NULL, NULL, false},
    {"relaymilter_decision_seconds", "histogram",
     "Time the policy engine took per call (MAIL when answered, RCPT).",
     NOFIELD, NULL, latency, false},
    {"relaymilter_sessions_active", "gauge", "Milter sessions open now.",
     FIELD(mx_sessions_active), NULL, NULL, false},
    {"relaymilter_sessions_total", "counter", "Milter sessions started.",
     FIELD(mx_sessions_total), NULL, NULL, false},
    {"relaymilter_ruleset_generation", "gauge",
     "Generation of the policy in force (1: the first load).",
     FIELD(mx_generation), NULL, NULL, false},
    {"relaymilter_ruleset_load_timestamp_seconds", "gauge",
     "When the policy in force was loaded (Unix time).", FIELD(mx_load_time),
     NULL, NULL, false},
    {"relaymilter_ruleset_entries", "gauge",
     "Entries of each list in the policy in force.", NOFIELD, NULL, entries,
     false},
    {"relaymilter_reloads_total", "counter",
     "Policy loads after the start (SIGUSR1 and LDAP changes) by result.",
     NOFIELD, NULL, reloads, false},
    {"relaymilter_ldap_configured", "gauge",
     "1 when the config has an ldap group, else 0 (and no other ldap "
     "metric).",
     FIELD(mx_ldap_configured), NULL, NULL, false},
    {"relaymilter_ldap_up", "gauge", "1 when the last LDAP fetch succeeded.",
     FIELD(mx_ldap_up), NULL, NULL, true},
    {"relaymilter_ldap_last_refresh_timestamp_seconds", "gauge",
     "When LDAP data was last fetched (Unix time; 0: never).",
     FIELD(mx_ldap_refresh_time), NULL, NULL, true},
    {"relaymilter_ldap_errors_total", "counter", "LDAP fetches that failed.",
     FIELD(mx_ldap_errors), NULL, NULL, true},
    {"relaymilter_ldap_cache_age_seconds", "gauge",
     "Age of the LDAP data in use (-1: none).", NOFIELD, ldap_age, NULL, true},
    {"relaymilter_ldap_sync_connected", "gauge",
     "1 while content synchronisation (ldap.sync) follows the directory.",
     FIELD(mx_ldap_sync_connected), NULL, NULL, true},
    {"relaymilter_ldap_sync_changes_total", "counter",
     "Directory entry changes applied by content synchronisation.",
     FIELD(mx_ldap_sync_changes), NULL, NULL, true},
    {"relaymilter_owner_cache_hits_total", "counter",
     "Sender owner lookups answered by the cache.", NOFIELD, owner_hits, NULL,
     false},
    {"relaymilter_owner_cache_misses_total", "counter",
     "Sender owner lookups the cache could not answer.", NOFIELD, owner_misses,
     NULL, false},
    {"relaymilter_owner_ldap_connections_opened_total", "counter",
     "LDAP connections opened for on-demand owner lookups (pooled).", NOFIELD,
     owner_conns_opened, NULL, false},
    {"relaymilter_owner_ldap_connections_reused_total", "counter",
     "On-demand owner lookups that reused an idle pooled LDAP connection.",
     NOFIELD, owner_conns_reused, NULL, false},
    /* limit and grant counters: a row each */
};

void
rm_metrics_render(struct rm_runtime *rt, time_t now, struct rm_mxbuf *out)
{
	struct mx_ctx c = {rt, &rt->rt_metrics, now, out};
	bool ldap = atomic_load(&rt->rt_metrics.mx_ldap_configured) != 0;
	size_t i;

	for (i = 0; i < sizeof(mx_table) / sizeof(mx_table[0]); i++) {
		const struct mx_def *d = &mx_table[i];

		if (d->md_ldap && !ldap)
			continue;
		rm_mxbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", d->md_name,
		                d->md_help, d->md_name, d->md_type);
		if (d->md_field != NOFIELD)
			rm_mxbuf_printf(out, "%s %lld\n", d->md_name,
			                LOAD(*(atomic_llong *)((char *)c.c_mx +
			                                       d->md_field)));
		else if (d->md_value != NULL)
			rm_mxbuf_printf(out, "%s %.15g\n", d->md_name,
			                d->md_value(&c));
		else
			d->md_samples(&c, d);
	}
}

/* ---- the "metrics" setting ------------------------------------------ */

int
rm_metrics_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
                bool *loopback, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	bool six = strncmp(spec, "inet6:", 6) == 0;
	const char *p, *at;
	char *end;
	long port;

	memset(ss, 0, sizeof(*ss));
	if (!six && strncmp(spec, "inet:", 5) != 0) {
		snprintf(err, errlen,
		         "expected inet:PORT[@ADDRESS] or "
		         "inet6:PORT[@ADDRESS]");
		return -1;
	}
	p = spec + (six ? 6 : 5);
	port = strtol(p, &end, 10);
	at = end;
	if (end == p || *p < '0' || *p > '9' || port < 1 || port > 65535 ||
	    (*at != '\0' && *at != '@')) {
		snprintf(err, errlen, "expected a PORT of 1-65535");
		return -1;
	}
	if (six) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		sin6->sin6_addr = in6addr_loopback;
		*len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof(*sin);
	}
	if (*at == '@' && inet_pton(six ? AF_INET6 : AF_INET, at + 1,
	                            six ? (void *)&sin6->sin6_addr
	                                : (void *)&sin->sin_addr) != 1) {
		snprintf(err, errlen, "\"%s\" is not a numeric IPv%c address",
		         at + 1, six ? '6' : '4');
		return -1;
	}
	*loopback = six ? IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)
	                : (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return 0;
}
