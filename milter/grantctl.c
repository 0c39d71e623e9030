/*
 * grantctl.c - the relay grants over the control socket (grantctl.h):
 * the daemon's side, then "relaymilter grant" and "relaymilter grants".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "relaymilter/conf.h"
#include "relaymilter/grantctl.h"
#include "relaymilter/log.h"
#include "relaymilter/monitor.h"
#include "relaymilter/rm.h"

/* One listing: the answer and the time it is made at. */
struct list_ctx {
	struct rm_mxbuf *lc_out;
	uint64_t lc_now;
};

static void
row(void *arg, const struct rm_ip *ip, const struct rm_grant *g)
{
	struct list_ctx *lc = arg;
	char buf[64], until[32];

	rm_mxbuf_printf(lc->lc_out,
	                "%s login=%s source=%s until=%s left=%llus\n",
	                rm_ip_format(ip, buf, sizeof(buf)),
	                g->g_login[0] ? g->g_login : "-", g->g_source,
	                rm_grant_until(g->g_expires, until, sizeof(until)),
	                (unsigned long long)(g->g_expires > lc->lc_now
	                                         ? g->g_expires - lc->lc_now
	                                         : 0));
}

/* word - the next space-separated word of *s into buf (cut); false: none */
static bool
word(const char **s, char *buf, size_t len)
{
	size_t n;

	while (**s == ' ')
		(*s)++;
	n = strcspn(*s, " ");
	if (n == 0 || n >= len)
		return false;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	*s += n;
	return true;
}

/* grant - "grant ADDR [LOGIN|-] [TTL]" */
static void
grant(struct rm_runtime *rt, const char *args, struct rm_mxbuf *out)
{
	char addr[64], login[RM_GRANT_LOGIN_MAX], ttls[16], until[32], ab[64];
	unsigned ttl = rt->rt_grant_ttl;
	const char *why;
	struct rm_ip ip;
	uint64_t exp = 0, now = (uint64_t)time(NULL);

	login[0] = '\0';
	if (!word(&args, addr, sizeof(addr)) ||
	    rm_grants_addr(addr, &ip) != 0) {
		rm_mxbuf_printf(out, "error: not an IPv4 or IPv6 address\n");
		return;
	}
	if (word(&args, login, sizeof(login)) && strcmp(login, "-") == 0)
		login[0] = '\0';
	if (word(&args, ttls, sizeof(ttls)) &&
	    rm_duration_parse(ttls, RM_GRANT_TTL_MAX, &ttl) != 0) {
		rm_mxbuf_printf(out, "error: ttl: expected 1s to 1d\n");
		return;
	}
	while (*args == ' ')
		args++;
	if (*args != '\0') {
		rm_mxbuf_printf(out, "error: too many words (or a login of "
		                     "more than 63 bytes)\n");
		return;
	}
	if (rm_grants_add(rt->rt_grants, &ip, login, "push", ttl, now, &exp,
	                  &why) != 0) {
		rm_mxbuf_printf(out, "error: %s\n", why);
		return;
	}
	atomic_fetch_add_explicit(&rt->rt_metrics.mx_grants_made, 1,
	                          memory_order_relaxed);
	rm_ip_format(&ip, ab, sizeof(ab));
	rm_grant_until(exp, until, sizeof(until));
	rm_log_sanitize(login, addr, sizeof(addr));
	rm_log(RM_LOG_INFO, "grants: %s may relay until %s (login %s, push)",
	       ab, until, login[0] ? addr : "-");
	rm_mxbuf_printf(out, "granted %s until %s\n", ab, until);
}

bool
rm_grantctl_answer(struct rm_runtime *rt, const char *req, struct rm_mxbuf *out)
{
	struct list_ctx lc = {out, (uint64_t)time(NULL)};
	struct rm_ip ip;
	int n;

	if (strncmp(req, "grant ", 6) != 0 && strcmp(req, "grants") != 0 &&
	    strncmp(req, "grants ", 7) != 0 && strncmp(req, "revoke ", 7) != 0)
		return false;
	if (!rt->rt_grants_on) {
		rm_mxbuf_printf(out, "error: relay grants are off (no grants "
		                     "group in the config)\n");
		return true;
	}
	if (strncmp(req, "grant ", 6) == 0)
		grant(rt, req + 6, out);
	else if (strcmp(req, "grants") == 0)
		rt->rt_grants->gs_list(rt->rt_grants, NULL, lc.lc_now, row,
		                       &lc);
	else if (rm_grants_addr(req + 7, &ip) != 0)
		rm_mxbuf_printf(out, "error: not an IPv4 or IPv6 address\n");
	else if (req[0] == 'g')
		rt->rt_grants->gs_list(rt->rt_grants, &ip, lc.lc_now, row, &lc);
	else if ((n = rt->rt_grants->gs_del(rt->rt_grants, &ip)) < 0)
		rm_mxbuf_printf(out, "error: the grant store failed\n");
	else {
		rm_log(RM_LOG_WARNING, "grants: %s revoked on request (%d)",
		       req + 7, n);
		rm_mxbuf_printf(out, "revoked %d\n", n);
	}
	return true;
}

static void
grant_usage(FILE *fp)
{
	fprintf(fp, "usage: relaymilter grant [-c CONFIG] ADDRESS [--login "
	            "USER] [--ttl DURATION]\n"
	            "  ADDRESS          an IPv4 or IPv6 address that may "
	            "relay without SMTP AUTH\n"
	            "  --login USER     who logged in (for the log)\n"
	            "  --ttl DURATION   for how long (default grants.ttl; at "
	            "most 1d)\n");
}

int
rm_grant_main(int argc, char **argv)
{
	static const char *const names[] = {"login", "ttl"};
	const char *config = RM_CONF_DEFAULT, *vals[2] = {"-", ""};
	char req[RM_CONTROL_MAX_REQUEST], login[RM_GRANT_LOGIN_MAX];
	struct rm_ip ip;
	unsigned secs;
	size_t i;
	int rc;

	if ((rc = rm_control_opts(argc, argv, names, 2, vals, &config,
	                          grant_usage)) >= 0)
		return rc;
	if (optind + 1 != argc || rm_grants_addr(argv[optind], &ip) != 0 ||
	    (vals[1][0] != '\0' &&
	     rm_duration_parse(vals[1], RM_GRANT_TTL_MAX, &secs) != 0)) {
		if (optind + 1 == argc)
			fprintf(stderr,
			        "relaymilter grant: %s: expected an IPv4 or "
			        "IPv6 address%s\n",
			        argv[optind],
			        vals[1][0] ? " and a ttl from 1s to 1d" : "");
		grant_usage(stderr);
		return RM_EX_USAGE;
	}
	/* one word on the request line (the daemon sanitizes the rest),
	   cut to what a grant keeps */
	snprintf(login, sizeof(login), "%s", vals[0][0] ? vals[0] : "-");
	for (i = 0; login[i] != '\0'; i++)
		if ((unsigned char)login[i] <= ' ' || login[i] == 0x7f)
			login[i] = '_';
	snprintf(req, sizeof(req), "grant %s %s %s\n", argv[optind], login,
	         vals[1]);
	return rm_control_print("grant", config, req, NULL);
}

static void
grants_usage(FILE *fp)
{
	fprintf(fp, "usage: relaymilter grants [-c CONFIG] [--address "
	            "ADDRESS]\n"
	            "       relaymilter grants [-c CONFIG] --revoke ADDRESS\n"
	            "  --address ADDRESS  the grant of one address (default: "
	            "all)\n"
	            "  --revoke ADDRESS   end the grant of ADDRESS now\n");
}

int
rm_grants_main(int argc, char **argv)
{
	static const char *const names[] = {"address", "revoke"};
	const char *config = RM_CONF_DEFAULT, *vals[2] = {NULL, NULL};
	const char *addr, *revoke;
	char req[RM_CONTROL_MAX_REQUEST];
	struct rm_ip ip;
	int rc;

	if ((rc = rm_control_opts(argc, argv, names, 2, vals, &config,
	                          grants_usage)) >= 0)
		return rc;
	addr = vals[0];
	revoke = vals[1];
	if (optind != argc || (addr != NULL && revoke != NULL) ||
	    (addr != NULL && rm_grants_addr(addr, &ip) != 0) ||
	    (revoke != NULL && rm_grants_addr(revoke, &ip) != 0)) {
		grants_usage(stderr);
		return RM_EX_USAGE;
	}
	if (revoke != NULL) {
		snprintf(req, sizeof(req), "revoke %s\n", revoke);
		return rm_control_print("grants", config, req, "revoked 0\n");
	}
	snprintf(req, sizeof(req), "grants%s%s\n", addr ? " " : "",
	         addr ? addr : "");
	return rm_control_print("grants", config, req, NULL);
}
