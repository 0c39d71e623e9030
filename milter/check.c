/*
 * check.c - "relaymilter check": ask the engine what it would answer.
 *
 * Loads the config exactly as the daemon does, builds the facts from the
 * command line and prints one line per recipient; --explain adds the facts
 * and every step of the evaluation.  Nothing here decides anything: the
 * verdict is rm_policy_rcpt()'s, so the CLI cannot drift from the daemon.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relaymilter/addr.h"
#include "relaymilter/check.h"
#include "relaymilter/conf.h"
#include "relaymilter/log.h"
#include "relaymilter/miltermap.h"
#include "relaymilter/owners.h"
#include "relaymilter/policy.h"
#include "relaymilter/source.h"
#include "relaymilter/verdict.h"

static void
check_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: relaymilter check [-c CONFIG] --client ADDR [--helo NAME]\n"
	    "           [--listener NAME] [--auth LOGIN] [--from ADDR]\n"
	    "           [--daemon-addr ADDR] [--mail-addr ADDR] "
	    "[--rcpt-addr ADDR]\n"
	    "           [--rcpt-mailer NAME] [--rcpt-host HOST]\n"
	    "           [--granted] --rcpt ADDR [--rcpt ADDR ...]\n"
	    "           [--header-from VALUE ...] [--header-sender VALUE ...] "
	    "[--explain]\n"
	    "       relaymilter check --steps   (the evaluation order)\n"
	    "  --client ADDR   client IP address, or \"unknown\"\n"
	    "  --from ADDR     envelope sender (default <>, a bounce)\n"
	    "  --listener NAME the MTA's {daemon_name} (selects a profile)\n"
	    "  --daemon-addr   the address the client connected to "
	    "({daemon_addr})\n"
	    "  --mail-addr, --rcpt-addr, --rcpt-mailer, --rcpt-host\n"
	    "                  what the MTA resolved ({mail_addr}, ...; "
	    "every --rcpt)\n"
	    "  --granted       assume the client holds a relay grant "
	    "(grants = { })\n"
	    "  --header-from, --header-sender VALUE\n"
	    "                  a From: or Sender: field of the message "
	    "(repeatable):\n"
	    "                  header_from judges them after the recipients\n"
	    "exit: 0 all continue, 1 a reject, 2 a tempfail, 78 config "
	    "error\n");
}

/* print_steps - the evaluation order at RCPT TO, from the engine's table */
static void
print_steps(void)
{
	const struct rm_step *st;
	size_t i, n;

	st = rm_policy_steps(&n);
	for (i = 0; i < n; i++)
		if (st[i].st_num != 0)
			printf("%2u  %-18s  %s\n", st[i].st_num, st[i].st_name,
			       st[i].st_what);
}

/* explain_line - print one engine step, indented under the verdict. */
static void
explain_line(void *arg, const char *line)
{
	fprintf((FILE *)arg, "    %s\n", line);
}

/* One on-demand owner lookup for the whole command: every --rcpt shares it. */
struct check_lookup {
	struct rm_owners *lk_owners;
	struct rm_owned *lk_out;
	bool lk_done;
};

/* check_port - the engine's owner port: the directory, asked once */
static const struct rm_owned *
check_port(void *arg, const char *login)
{
	struct check_lookup *lk = arg;
	char err[512];

	if (!lk->lk_done) {
		rm_owners_lookup(lk->lk_owners, login, time(NULL), lk->lk_out,
		                 err, sizeof(err));
		if (lk->lk_out->o_state == RM_LOOKUP_ERROR)
			fprintf(stderr,
			        "relaymilter check: sender lookup: %s\n", err);
		lk->lk_done = true;
	}
	return lk->lk_out;
}

/* check_owned_by - the reverse question, asked of the directory */
static enum rm_lookup
check_owned_by(void *arg, const char *addr)
{
	struct check_lookup *lk = arg;
	enum rm_lookup r;
	char err[512];

	r = rm_owners_owned_by(lk->lk_owners, addr, time(NULL), err,
	                       sizeof(err));
	if (r == RM_LOOKUP_ERROR)
		fprintf(stderr, "relaymilter check: owner lookup: %s\n", err);
	return r;
}

/*
 * check_grant - the grant port of --granted: the client holds a grant
 * (check is stateless: it does not ask the daemon's store)
 */
static const struct rm_grant *
check_grant(void *arg, const struct rm_ip *ip)
{
	static const struct rm_grant g = {RM_FOUND, "", "assumed", 0};

	(void)arg;
	(void)ip;
	return &g;
}
static const struct rm_grant_port check_grants = {check_grant, NULL};

/* The command line of relaymilter check, and what it makes of it. */
struct check_args {
	const char *ca_config;
	const char *ca_client;
	const char **ca_rcpts;
	int ca_nrcpt;
	int ca_explain;
	int ca_headers; /* --header-from or --header-sender given */
	struct rm_headers ca_h;
	struct rm_ip ca_cip, ca_dip;
	struct rm_facts ca_f;
};

/* The options that set a fact directly: where each one goes. */
static const struct check_fact {
	int cf_opt;
	size_t cf_off; /* in struct rm_facts */
} check_facts[] = {
    {'H', offsetof(struct rm_facts, f_helo)},
    {'L', offsetof(struct rm_facts, f_listener)},
    {'A', offsetof(struct rm_facts, f_auth)},
    {'F', offsetof(struct rm_facts, f_sender)},
    {'M', offsetof(struct rm_facts, f_mail_addr)},
    {'r', offsetof(struct rm_facts, f_rcpt_addr)},
    {'m', offsetof(struct rm_facts, f_rcpt_mailer)},
    {'o', offsetof(struct rm_facts, f_rcpt_host)},
};

static const struct option check_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"client", required_argument, NULL, 'C'},
    {"helo", required_argument, NULL, 'H'},
    {"listener", required_argument, NULL, 'L'},
    {"auth", required_argument, NULL, 'A'},
    {"from", required_argument, NULL, 'F'},
    {"rcpt", required_argument, NULL, 'R'},
    {"daemon-addr", required_argument, NULL, 'D'},
    {"mail-addr", required_argument, NULL, 'M'},
    {"rcpt-addr", required_argument, NULL, 'r'},
    {"rcpt-mailer", required_argument, NULL, 'm'},
    {"rcpt-host", required_argument, NULL, 'o'},
    {"explain", no_argument, NULL, 'x'},
    {"granted", no_argument, NULL, 'g'},
    {"header-from", required_argument, NULL, 'f'},
    {"header-sender", required_argument, NULL, 'S'},
    {"steps", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/*
 * add_header - one --header-from/--header-sender, kept as the adapter
 * keeps a field (the count goes on past what is kept)
 */
static void
add_header(struct rm_headers *h, int from, const char *v)
{
	const char **slot = from ? h->h_from : h->h_sender;
	size_t *n = from ? &h->h_nfrom : &h->h_nsender;

	if (*n < RM_HDR_FIELDS_MAX && strlen(v) <= RM_HDR_VALUE_MAX)
		slot[*n] = v;
	else
		h->h_over = true;
	(*n)++;
}

/* set_fact - an option of check_facts[]: 1 when c is one */
static int
set_fact(struct rm_facts *f, int c, const char *v)
{
	size_t i;

	for (i = 0; i < sizeof(check_facts) / sizeof(check_facts[0]); i++)
		if (check_facts[i].cf_opt == c) {
			*(const char **)(void *)((char *)f +
			                         check_facts[i].cf_off) = v;
			return 1;
		}
	return 0;
}

/*
 * check_parse - the command line into ca; -1 to go on, else the exit
 * status (usage, --help, --steps, a bad address).
 */
static int
check_parse(int argc, char **argv, struct check_args *ca)
{
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", check_opts, NULL)) != -1) {
		if (set_fact(&ca->ca_f, c, optarg))
			continue;
		switch (c) {
		case 'c':
			ca->ca_config = optarg;
			break;
		case 'C':
			ca->ca_client = optarg;
			break;
		case 'R':
			ca->ca_rcpts[ca->ca_nrcpt++] = optarg;
			break;
		case 'x':
			ca->ca_explain = 1;
			break;
		case 'f':
		case 'S':
			add_header(&ca->ca_h, c == 'f', optarg);
			ca->ca_headers = 1;
			break;
		case 'g':
			ca->ca_f.f_grants = &check_grants;
			break;
		case 'D':
			if (rm_ip_parse(optarg, &ca->ca_dip) != 0) {
				fprintf(stderr,
				        "relaymilter check: --daemon-addr %s: "
				        "not an IP address\n",
				        optarg);
				return RM_EX_USAGE;
			}
			ca->ca_f.f_daemon_ip = &ca->ca_dip;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		case 's':
			print_steps();
			return 0;
		default:
			check_usage(stderr);
			return RM_EX_USAGE;
		}
	}
	if (ca->ca_client == NULL || ca->ca_nrcpt == 0 || optind != argc) {
		check_usage(stderr);
		return RM_EX_USAGE;
	}
	if (strcmp(ca->ca_client, "unknown") != 0) {
		if (rm_ip_parse(ca->ca_client, &ca->ca_cip) != 0) {
			fprintf(stderr,
			        "relaymilter check: --client %s: not an IP "
			        "address (or \"unknown\")\n",
			        ca->ca_client);
			return RM_EX_USAGE;
		}
		ca->ca_f.f_client_ip = &ca->ca_cip;
	}
	return -1;
}

/* explain_facts - --explain's head: the config, its warnings, the facts */
static void
explain_facts(const struct check_args *ca, const struct rm_ruleset *rs)
{
	const struct rm_facts *f = &ca->ca_f;
	char buf[512], bare[512];
	size_t i;

	printf("config %s\n", ca->ca_config);
	for (i = 0; i < rs->rs_nwarnings; i++)
		printf("warning: %s\n", rs->rs_warnings[i]);
	printf("facts: client=%s",
	       f->f_client_ip ? rm_ip_format(f->f_client_ip, buf, sizeof(buf))
	                      : "unknown");
	printf(" helo=<%s>", rm_log_sanitize(f->f_helo, buf, sizeof(buf)));
	printf(" auth=%s", rm_log_sanitize(f->f_auth, buf, sizeof(buf)));
	printf(
	    " from=<%s>",
	    rm_log_sanitize(rm_addr_unbracket(f->f_sender, bare, sizeof(bare)),
	                    buf, sizeof(buf)));
	printf(" listener=%s\n",
	       rm_log_sanitize(f->f_listener, buf, sizeof(buf)));
}

/* print_entry - the list entry that decided, or the relay grant */
static void
print_entry(const struct rm_verdict_text *vt)
{
	if (vt->vt_entry[0] != '\0' && vt->vt_origin[0] != '\0')
		printf(" entry=\"%s\" (%s)", vt->vt_entry, vt->vt_origin);
	else if (vt->vt_entry[0] != '\0') /* a relay grant */
		printf(" grant=\"%s\"", vt->vt_entry);
}

/* print_would - what a monitored check would have answered */
static void
print_would(const struct rm_verdict_text *vt)
{
	if (vt->vt_would_rule != NULL)
		printf(" monitor=%s would=\"%s\"", vt->vt_would_rule,
		       vt->vt_would);
}

/* print_verdict - one recipient's line */
static void
print_verdict(const char *rcpt, const struct rm_verdict *v)
{
	struct rm_verdict_text vt;
	char buf[512], bare[512];

	rm_verdict_text(v, &vt);
	printf("<%s> %s %s%s%s rule=%s",
	       rm_log_sanitize(rm_addr_unbracket(rcpt, bare, sizeof(bare)), buf,
	                       sizeof(buf)),
	       vt.vt_action, vt.vt_reply[0] ? "\"" : "",
	       vt.vt_reply[0] ? vt.vt_reply : "-", vt.vt_reply[0] ? "\"" : "",
	       vt.vt_rule);
	print_entry(&vt);
	print_would(&vt);
	printf("\n");
}

/*
 * print_limits - the limits that would count the recipient (stateless:
 * what the daemon's counters hold is "relaymilter limits"' business)
 */
static void
print_limits(const struct rm_ruleset *rs, const struct rm_verdict *v)
{
	char buf[256];
	size_t i;

	for (i = 0; i < rs->rs_nlimits && i < RM_LIMITS_MAX; i++)
		if (v->v_limits & (UINT32_C(1) << i))
			printf("    limit %s\n",
			       rm_limit_applies(&rs->rs_limits[i],
			                        v->v_limits_monitor, buf,
			                        sizeof(buf)));
}

/* check_headers - the message's author fields through header_from */
static int
check_headers(struct check_args *ca, const struct rm_ruleset *rs)
{
	struct rm_trace tr = {explain_line, stdout};
	struct rm_verdict_text vt;
	struct rm_verdict v;
	char buf[RM_HDR_ADDR_MAX + 8];

	ca->ca_f.f_rcpt = NULL;
	if (ca->ca_explain)
		printf("end of headers\n");
	rm_policy_headers(rs, &ca->ca_f, &ca->ca_h, &v,
	                  ca->ca_explain ? &tr : NULL);
	rm_verdict_text(&v, &vt);
	printf("headers %s %s%s%s rule=%s", vt.vt_action,
	       vt.vt_reply[0] ? "\"" : "", vt.vt_reply[0] ? vt.vt_reply : "-",
	       vt.vt_reply[0] ? "\"" : "", vt.vt_rule);
	print_entry(&vt);
	if (v.v_from[0] != '\0')
		printf(" from=<%s>",
		       rm_log_sanitize(v.v_from, buf, sizeof(buf)));
	print_would(&vt);
	printf("\n");
	return v.v_action == RM_REJECT ? 1 : v.v_action == RM_TEMPFAIL ? 2 : 0;
}

/* check_run - every recipient through the engine; the exit status */
static int
check_run(struct check_args *ca, const struct rm_ruleset *rs)
{
	struct rm_trace tr = {explain_line, stdout};
	char buf[512], bare[512];
	struct rm_verdict v;
	int i, worst = 0;

	if (ca->ca_explain)
		explain_facts(ca, rs);
	for (i = 0; i < ca->ca_nrcpt; i++) {
		ca->ca_f.f_rcpt = ca->ca_rcpts[i];
		if (ca->ca_explain)
			printf("rcpt <%s>\n",
			       rm_log_sanitize(
			           rm_addr_unbracket(ca->ca_rcpts[i], bare,
			                             sizeof(bare)),
			           buf, sizeof(buf)));
		rm_policy_rcpt(rs, &ca->ca_f, &v, ca->ca_explain ? &tr : NULL);
		print_verdict(ca->ca_rcpts[i], &v);
		if (!ca->ca_explain) /* the trace has said it */
			print_limits(rs, &v);
		/* the recipients are one message: max_recipients counts */
		if (v.v_action == RM_CONTINUE)
			ca->ca_f.f_nrcpts++;
		if (v.v_action == RM_REJECT && worst < 1)
			worst = 1;
		if (v.v_action == RM_TEMPFAIL)
			worst = 2;
	}
	/* the message goes on to its headers if a recipient was taken */
	if (ca->ca_headers && ca->ca_f.f_nrcpts > 0) {
		i = check_headers(ca, rs);
		if (i > worst)
			worst = i;
	}
	return worst;
}

int
rm_check_main(int argc, char **argv)
{
	struct check_args ca;
	struct rm_ruleset *rs;
	struct rm_source src;
	struct rm_owned owned;
	struct rm_owners owners;
	struct check_lookup lk = {NULL, NULL, false};
	struct rm_owner_port port = {check_port, NULL, check_owned_by};
	char err[1024];
	int rc;

	memset(&ca, 0, sizeof(ca));
	memset(&owned, 0, sizeof(owned));
	ca.ca_config = RM_CONF_DEFAULT;
	ca.ca_f.f_sender = "<>";
	if ((ca.ca_rcpts = calloc((size_t)argc + 1, sizeof(char *))) == NULL) {
		fprintf(stderr, "relaymilter check: out of memory\n");
		return RM_EX_OSERR;
	}
	if ((rc = check_parse(argc, argv, &ca)) >= 0) {
		free(ca.ca_rcpts);
		return rc;
	}
	/* LDAP problems go to stderr; the answer goes to stdout */
	rm_log_open("relaymilter check", true, RM_LOG_WARNING);
	rm_source_init(&src, ca.ca_config);
	if (rm_source_load(&src, false, &rs, err, sizeof(err)) != RM_SRC_NEW) {
		rm_source_free(&src);
		fprintf(stderr, "%s\n", err);
		free(ca.ca_rcpts);
		return RM_EX_CONFIG;
	}
	rm_owners_init(&owners);
	rm_owners_set(&owners, rm_source_settings(&src)->st_ldap);
	lk.lk_owners = &owners;
	lk.lk_out = &owned;
	port.op_arg = &lk;
	if (rm_owners_enabled(&owners))
		ca.ca_f.f_owners = &port;
	rc = check_run(&ca, rs);
	rm_owned_clear(&owned);
	rm_owners_destroy(&owners);
	rm_ruleset_release(rs);
	rm_source_free(&src);
	free(ca.ca_rcpts);
	return rc;
}

int
rm_miltermap_main(int argc, char **argv)
{
	const char *config = RM_CONF_DEFAULT;
	struct rm_ruleset *rs;
	struct rm_source src;
	char err[1024];
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "c:h")) != -1) {
		if (c == 'c')
			config = optarg;
		else {
			fprintf(c == 'h' ? stdout : stderr,
			        "usage: relaymilter milter-map [-c CONFIG]\n");
			return c == 'h' ? 0 : RM_EX_USAGE;
		}
	}
	rm_log_open("relaymilter milter-map", true, RM_LOG_WARNING);
	rm_source_init(&src, config);
	if (rm_source_load(&src, false, &rs, err, sizeof(err)) != RM_SRC_NEW) {
		rm_source_free(&src);
		fprintf(stderr, "%s\n", err);
		return RM_EX_CONFIG;
	}
	rm_milter_map_print(rs, rm_source_owner_lookups(&src), stdout);
	rm_ruleset_release(rs);
	rm_source_free(&src);
	return 0;
}
