/*
 * check.c - "relaymilter check": ask the engine what it would answer.
 *
 * Loads the config exactly as the daemon does, builds the facts from the
 * command line and prints one line per recipient; --explain adds the facts
 * and every step of the evaluation.  Nothing here decides anything: the
 * verdict is rm_policy_rcpt()'s, so the CLI cannot drift from the daemon.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relaymilter/addr.h"
#include "relaymilter/check.h"
#include "relaymilter/conf.h"
#include "relaymilter/log.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/owners.h"
#include "relaymilter/policy.h"
#include "relaymilter/source.h"

#define EX_USAGE_ 64

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
	    "           --rcpt ADDR [--rcpt ADDR ...] [--explain]\n"
	    "       relaymilter check --steps   (the evaluation order)\n"
	    "  --client ADDR   client IP address, or \"unknown\"\n"
	    "  --from ADDR     envelope sender (default <>, a bounce)\n"
	    "  --listener NAME the MTA's {daemon_name} (selects a profile)\n"
	    "  --daemon-addr   the address the client connected to "
	    "({daemon_addr})\n"
	    "  --mail-addr, --rcpt-addr, --rcpt-mailer, --rcpt-host\n"
	    "                  what the MTA resolved ({mail_addr}, ...; "
	    "every --rcpt)\n"
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

int
rm_check_main(int argc, char **argv)
{
	static const struct option opts[] = {
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
	    {"steps", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = RM_CONF_DEFAULT, *client = NULL;
	struct rm_facts f;
	struct rm_ip cip, dip;
	struct rm_ruleset *rs;
	struct rm_verdict v;
	struct rm_source src;
	struct rm_owned owned;
	struct rm_owners owners;
	struct check_lookup lk = {NULL, NULL, false};
	struct rm_owner_port port = {check_port, NULL};
	struct rm_trace tr = {explain_line, stdout};
	char err[1024], reply[RM_REPLY_TEXT_MAX + 32], buf[512], bare[512],
	    lb[RM_LINE_BUF];
	const char **rcpts;
	int c, i, nrcpt = 0, explain = 0, worst = 0;

	memset(&f, 0, sizeof(f));
	memset(&src, 0, sizeof(src));
	memset(&owned, 0, sizeof(owned));
	f.f_sender = "<>";
	if ((rcpts = calloc((size_t)argc + 1, sizeof(*rcpts))) == NULL) {
		fprintf(stderr, "relaymilter check: out of memory\n");
		return 71;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'C':
			client = optarg;
			break;
		case 'H':
			f.f_helo = optarg;
			break;
		case 'L':
			f.f_listener = optarg;
			break;
		case 'A':
			f.f_auth = optarg;
			break;
		case 'F':
			f.f_sender = optarg;
			break;
		case 'R':
			rcpts[nrcpt++] = optarg;
			break;
		case 'x':
			explain = 1;
			break;
		case 'M':
			f.f_mail_addr = optarg;
			break;
		case 'r':
			f.f_rcpt_addr = optarg;
			break;
		case 'm':
			f.f_rcpt_mailer = optarg;
			break;
		case 'o':
			f.f_rcpt_host = optarg;
			break;
		case 'D':
			if (rm_ip_parse(optarg, &dip) != 0) {
				fprintf(stderr,
				        "relaymilter check: "
				        "--daemon-addr %s: not an IP "
				        "address\n",
				        optarg);
				free(rcpts);
				return EX_USAGE_;
			}
			f.f_daemon_ip = &dip;
			break;
		case 'h':
			check_usage(stdout);
			free(rcpts);
			return 0;
		case 's':
			print_steps();
			free(rcpts);
			return 0;
		default:
			check_usage(stderr);
			free(rcpts);
			return EX_USAGE_;
		}
	}
	if (client == NULL || nrcpt == 0 || optind != argc) {
		check_usage(stderr);
		free(rcpts);
		return EX_USAGE_;
	}
	if (strcmp(client, "unknown") != 0) {
		if (rm_ip_parse(client, &cip) != 0) {
			fprintf(stderr,
			        "relaymilter check: --client %s: not "
			        "an IP address (or \"unknown\")\n",
			        client);
			free(rcpts);
			return EX_USAGE_;
		}
		f.f_client_ip = &cip;
	}
	/* LDAP problems go to stderr; the answer goes to stdout */
	rm_log_open("relaymilter check", true, RM_LOG_WARNING);
	src.src_path = config;
	if (rm_source_load(&src, false, &rs, err, sizeof(err)) != RM_SRC_NEW) {
		rm_source_free(&src);
		fprintf(stderr, "%s\n", err);
		free(rcpts);
		return 78;
	}
	rm_owners_init(&owners);
	rm_owners_set(&owners, rs->rs_ldap);
	lk.lk_owners = &owners;
	lk.lk_out = &owned;
	port.op_arg = &lk;
	if (rm_owners_enabled(&owners))
		f.f_owners = &port;
	if (explain) {
		printf("config %s\n", config);
		for (i = 0; i < (int)rs->rs_nwarnings; i++)
			printf("warning: %s\n", rs->rs_warnings[i]);
		printf("facts: client=%s",
		       f.f_client_ip
		           ? rm_ip_format(f.f_client_ip, buf, sizeof(buf))
		           : "unknown");
		printf(" helo=<%s>",
		       rm_log_sanitize(f.f_helo, buf, sizeof(buf)));
		printf(" auth=%s", rm_log_sanitize(f.f_auth, buf, sizeof(buf)));
		printf(" from=<%s>",
		       rm_log_sanitize(
		           rm_addr_unbracket(f.f_sender, bare, sizeof(bare)),
		           buf, sizeof(buf)));
		printf(" listener=%s\n",
		       rm_log_sanitize(f.f_listener, buf, sizeof(buf)));
	}
	for (i = 0; i < nrcpt; i++) {
		f.f_rcpt = rcpts[i];
		if (explain)
			printf("rcpt <%s>\n",
			       rm_log_sanitize(rm_addr_unbracket(f.f_rcpt, bare,
			                                         sizeof(bare)),
			                       buf, sizeof(buf)));
		rm_policy_rcpt(rs, &f, &v, explain ? &tr : NULL);
		printf("<%s> %s %s%s%s rule=%s",
		       rm_log_sanitize(
		           rm_addr_unbracket(f.f_rcpt, bare, sizeof(bare)), buf,
		           sizeof(buf)),
		       rm_action_name(v.v_action), v.v_reply ? "\"" : "",
		       v.v_reply
		           ? rm_reply_format(v.v_reply, reply, sizeof(reply))
		           : "-",
		       v.v_reply ? "\"" : "", v.v_rule);
		if (v.v_entry != NULL)
			printf(" entry=\"%s\" (%s%s)", v.v_entry->e_text,
			       v.v_entry->e_where,
			       rm_entry_line(v.v_entry, lb));
		if (v.v_would_rule != NULL)
			printf(
			    " monitor=%s would=\"%s\"", v.v_would_rule,
			    rm_reply_format(&v.v_would, reply, sizeof(reply)));
		printf("\n");
		if (v.v_action == RM_REJECT && worst < 1)
			worst = 1;
		if (v.v_action == RM_TEMPFAIL)
			worst = 2;
	}
	rm_owned_clear(&owned);
	rm_owners_destroy(&owners);
	rm_ruleset_release(rs);
	rm_source_free(&src);
	free(rcpts);
	return worst;
}
