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
 * error, not found), bit 3 {mail_addr}, bit 4 {rcpt_mailer}, bit 5
 * {rcpt_host}.  Then the facts in that order, the owned addresses
 * (comma-separated), {mail_addr}, {rcpt_mailer} and {rcpt_host},
 * separated by NUL bytes.  A client address that does not parse is
 * unknown, as when the MTA gives none.
 *
 * One more invariant: a client neither trusted nor authenticated never
 * gets continue, where local_sender_spoof is on and no exception lifts it,
 * for a sender (or a {mail_addr} that parses) that fz_route_ours() finds
 * leads into our domains (hostnames and local_domains of the golden
 * ruleset, localhost, single labels, loopback literals).  A recipient with
 * the local part postmaster is left out (postmaster comes first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/addr.h"
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

/* hostnames and local_domains of t/golden/policy.conf */
static const char *const golden_ours[] = {"mx.example.com", "example.com",
                                          ".example.com", NULL};

/* lifted - an exception could lift local_sender_spoof for these facts */
static int
lifted(const struct rm_facts *f)
{
	const unsigned ck = RM_LIFT(RM_CK_LOCAL_SENDER_SPOOF);
	const struct rm_lists *l[2];
	const struct rm_factsets *x;
	const struct rm_entry *e;
	struct rm_addr s, r;
	const void *tag;
	int i, s_ok, r_ok;

	l[0] = rm_ruleset_profile(rs, f->f_listener)->pf_lists;
	l[1] = &rs->rs_lists;
	s_ok = rm_addr_parse(f->f_sender, &s, NULL, 0) == 0;
	r_ok = rm_addr_parse(f->f_rcpt, &r, NULL, 0) == 0;
	for (i = 0; i < 2; i++) {
		if (l[i] == NULL)
			continue;
		x = &l[i]->l_exceptions;
		if ((f->f_client_ip != NULL &&
		     rm_ipset_lookup(x->fs_clients, f->f_client_ip, &tag) &&
		     ((e = tag)->e_lifts & ck)) ||
		    (f->f_helo != NULL &&
		     rm_domset_lookup(x->fs_helo, f->f_helo, &tag) &&
		     ((e = tag)->e_lifts & ck)) ||
		    (s_ok && rm_addrset_lookup(x->fs_senders, NULL, &s, &tag) &&
		     ((e = tag)->e_lifts & ck)) ||
		    (r_ok &&
		     rm_addrset_lookup(x->fs_recipients, NULL, &r, &tag) &&
		     ((e = tag)->e_lifts & ck)))
			return 1;
	}
	return 0;
}

/* spoof_check - the local_sender_spoof invariant (see the top) */
static void
spoof_check(const struct rm_facts *f, const struct rm_verdict *v)
{
	struct rm_addr a;
	int ours;

	if (v->v_action != RM_CONTINUE || f->f_sender == NULL ||
	    f->f_rcpt == NULL || (f->f_auth != NULL && f->f_auth[0] != '\0') ||
	    fz_trusted(rs, f->f_listener, f->f_client_ip) ||
	    rm_ruleset_profile(rs, f->f_listener)
	            ->pf_check[RM_CK_LOCAL_SENDER_SPOOF] != RM_CM_REJECT ||
	    strcmp(f->f_sender, "") == 0 || strcmp(f->f_sender, "<>") == 0 ||
	    (rm_addr_parse(f->f_rcpt, &a, NULL, 0) == 0 &&
	     rm_addr_is_postmaster(&a)) ||
	    lifted(f))
		return;
	ours = fz_route_ours(f->f_sender, golden_ours) ||
	       (f->f_mail_addr != NULL &&
	        rm_addr_parse(f->f_mail_addr, &a, NULL, 0) == 0 &&
	        fz_route_ours(f->f_mail_addr, golden_ours));
	if (ours)
		fz_fail("spoof: continue (rule %s) for sender \"%s\" "
		        "({mail_addr} \"%s\"), which leads into our domains, "
		        "client neither trusted nor authenticated",
		        v->v_rule, f->f_sender,
		        f->f_mail_addr ? f->f_mail_addr : "(none)");
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
	char *field[12], *copy, *addrs[8], empty[] = "";
	const char *fact[8];
	struct rm_ip client, daemon;
	struct rm_owned owned;
	struct rm_owner_port port = {fixed_owned, NULL, NULL};
	struct rm_verdict v;
	struct rm_facts f;
	size_t n, i;
	unsigned have, opt;

	if (size < 2)
		return 0;
	have = data[0];
	opt = data[1];
	n = fz_fields(data + 2, size - 2, field, 12, &copy);
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
	if (opt & 8)
		f.f_mail_addr = n > 9 ? field[9] : empty;
	if (opt & 16)
		f.f_rcpt_mailer = n > 10 ? field[10] : empty;
	if (opt & 32)
		f.f_rcpt_host = n > 11 ? field[11] : empty;
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
	spoof_check(&f, &v);
	free(copy);
	return 0;
}
