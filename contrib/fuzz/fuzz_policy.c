/*
 * fuzz_policy.c - the whole engine: random facts against the golden
 * ruleset (t/golden/policy.conf, with relay_domains and replies that use
 * every placeholder) -> a verdict that must keep the invariants of
 * fz_check_verdict(), and a trace that stays one printable line a step.
 *
 * Input: byte 0 says which facts are present (bit 0 client address, 1 the
 * address the client connected to, 2 listener, 3 HELO, 4 AUTH login,
 * 5 sender, 6 recipient, 7 {rcpt_addr}); byte 1 bit 0 turns the trace on,
 * bits 1-2 the on-demand lookup of the login's addresses (none, found,
 * error, not found).  Then the facts in that order and the owned
 * addresses (comma-separated), separated by NUL bytes.  A client address
 * that does not parse is unknown, as when the MTA gives none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/conf.h"

#ifndef RM_FUZZ_POLICY_CONF
#error "RM_FUZZ_POLICY_CONF: the path of t/golden/policy.conf"
#endif

static struct rm_ruleset *rs;

static const char extra_replies[] =
    "replies = {\n"
    "\trelay_denied = \"550 5.7.1 <{rcpt}>: relay from <{sender}> by "
    "{client} ({helo}, login {login}) denied, 100% sure\";\n"
    "\tsender_login = \"553 5.7.1 {login} may not send as {sender}\";\n"
    "\ttempfail = \"451 4.3.0 {client} {rcpt}: try again\";\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *text, *conf, *at, err[1024];
	size_t n;
	FILE *fp;

	(void)argc;
	(void)argv;
	if ((fp = fopen(RM_FUZZ_POLICY_CONF, "r")) == NULL ||
	    (text = calloc(1, 65536)) == NULL ||
	    (n = fread(text, 1, 65535, fp)) == 0)
		fz_fail("cannot read %s", RM_FUZZ_POLICY_CONF);
	fclose(fp);
	if ((at = strstr(text, "replies = {\n")) == NULL ||
	    (conf = malloc(n + sizeof(extra_replies) + 256)) == NULL)
		fz_fail("%s: no replies group", RM_FUZZ_POLICY_CONF);
	/* our replies first, then the file's, which name other replies */
	sprintf(conf, "%.*s%s%s\n%s", (int)(at - text), text, extra_replies,
	        at + strlen("replies = {\n"),
	        "relay_domains = [ \"backup.example.net\" ];");
	if ((rs = rm_conf_load_string(conf, RM_FUZZ_POLICY_CONF, err,
	                              sizeof(err))) == NULL)
		fz_fail("%s", err);
	free(conf);
	free(text);
	return 0;
}

static void
owned_split(char *s, struct rm_owned *o, char **addrs, size_t max)
{
	char *p;

	o->o_addrs = addrs;
	o->o_n = 0;
	for (p = strtok(s, ","); p != NULL && o->o_n < max;
	     p = strtok(NULL, ","))
		addrs[o->o_n++] = p;
}

/* fixed_owned - the owner port: the answer the input chose */
static const struct rm_owned *
fixed_owned(void *arg, const char *login)
{
	(void)login;
	return arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rm_lookup states[] = {RM_FOUND, RM_LOOKUP_ERROR,
	                                        RM_NOTFOUND};
	char *field[9], *copy, *addrs[8], empty[] = "";
	const char *fact[8];
	struct rm_ip client, daemon;
	struct rm_owned owned;
	struct rm_owner_port port = {fixed_owned, NULL};
	struct rm_verdict v;
	struct rm_facts f;
	size_t n, i;
	unsigned have, opt;

	if (size < 2)
		return 0;
	have = data[0];
	opt = data[1];
	n = fz_fields(data + 2, size - 2, field, 9, &copy);
	for (i = 0; i < 8; i++)
		fact[i] = !(have & (1u << i)) ? NULL : i < n ? field[i] : "";
	memset(&f, 0, sizeof(f));
	if (fact[0] != NULL && rm_ip_parse(fact[0], &client) == 0)
		f.f_client_ip = &client;
	f.f_client_name = fact[0];
	if (fact[1] != NULL && rm_ip_parse(fact[1], &daemon) == 0)
		f.f_daemon_ip = &daemon;
	f.f_listener = fact[2];
	f.f_helo = fact[3];
	f.f_auth = fact[4];
	f.f_sender = fact[5];
	f.f_rcpt = fact[6];
	f.f_rcpt_addr = fact[7];
	if ((opt >> 1 & 3) != 0) {
		owned_split(n > 8 ? field[8] : empty, &owned, addrs, 8);
		owned.o_state = states[(opt >> 1 & 3) - 1];
		port.op_arg = &owned;
		f.f_owners = &port;
	}
	rm_policy_mail(rs, &f, &v, opt & 1 ? &fz_trace : NULL);
	fz_check_verdict(rs, &f, &v, 0);
	rm_policy_rcpt(rs, &f, &v, opt & 1 ? &fz_trace : NULL);
	fz_check_verdict(rs, &f, &v, 1);
	free(copy);
	return 0;
}
