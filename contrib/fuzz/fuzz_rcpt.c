/*
 * fuzz_rcpt.c - the recipient classification on any RCPT TO argument and
 * what the MTA made of it ({rcpt_addr}, {rcpt_mailer}, {rcpt_host}),
 * against the fixed ruleset of fz_fixed().
 *
 * Input: byte 0 bits 0-1 the client (untrusted 203.0.113.9, untrusted
 * 2001:db8:2::9, unknown, trusted 192.0.2.5), bit 2 SMTP AUTH as alice,
 * bits 3-4 the listener (none, lax, watch, branch), bit 5 the address the
 * client connected to (198.51.100.1) known, bit 6 the trace on, bit 7 the
 * null sender (else <sender@remote.test>).  Byte 1 says which macros the
 * MTA gave: bit 0 {rcpt_addr}, bit 1 {rcpt_mailer}, bit 2 {rcpt_host}.
 * Then the recipient and the macros in that order, separated by NUL
 * bytes.
 *
 * Invariants: those of fz_check_verdict (the open-relay invariant: never
 * continue for a recipient that is not ours for a client neither trusted
 * nor authenticated, nor for a literal the MTA hands to an SMTP mailer for
 * a host that is not ours), and the same again by a reference reading of the
 * raw text that does not use addr.c: such a continue needs the bare
 * postmaster (quoted or not), or one '@', no '%' or '!', and a domain of ours
 * (a name of the listener's or the top level's hostnames, local_domains or
 * relay_domains, in any case, with at most one trailing dot) or the exact
 * literal of the address the client connected to or of our_addresses; and an
 * {rcpt_addr} with an '@' passes the same test.  A relay grant (client
 * 203.0.113.9, not on the lax listener) is the one other way.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_fixed();
	return 0;
}

/* ref_name_ours - a domain name of the fixed ruleset, for a listener */
static int
ref_name_ours(const char *d, size_t n, const char *listener)
{
	static const char *const more[] = {"backup.example.net", NULL};
	const char *const *lists[2] = {fz_fixed_ours, more};
	const char *const *p;
	size_t k;
	int i;

	if (n > 1 && d[n - 1] == '.')
		n--;
	if (listener != NULL && strcasecmp(listener, "branch") == 0 &&
	    n == 18 && strncasecmp(d, "branch.example.net", 18) == 0)
		return 1;
	for (i = 0; i < 2; i++)
		for (p = lists[i]; *p != NULL; p++) {
			k = strlen(*p);
			if ((*p)[0] == '.'
			        ? n > k && strncasecmp(d + n - k, *p, k) == 0
			        : n == k && strncasecmp(d, *p, k) == 0)
				return 1;
		}
	return 0;
}

/* bare_postmaster - "postmaster" in any case, quoted or escaped or not */
static int
bare_postmaster(const char *s, size_t n)
{
	static const char pm[] = "postmaster";
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			continue;
		if (k == 10 || (s[i] | 0x20) != pm[k++])
			return 0;
	}
	return k == 10;
}

/* ref_ours - the reference reading of a recipient: surely ours */
static int
ref_ours(const char *raw, const char *listener, int daemon_known, int bare_pm)
{
	const char *s = raw, *at;
	size_t n = strlen(raw);

	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s++;
		n -= 2;
	}
	if (memchr(s, '%', n) != NULL || memchr(s, '!', n) != NULL)
		return 0;
	if ((at = memchr(s, '@', n)) == NULL)
		return bare_pm && bare_postmaster(s, n);
	if (at == s || memchr(at + 1, '@', n - (size_t)(at + 1 - s)) != NULL)
		return 0;
	n -= (size_t)(at + 1 - s);
	if ((daemon_known && n == 14 &&
	     strncmp(at + 1, "[198.51.100.1]", 14) == 0) ||
	    (n == 15 && strncmp(at + 1, "[198.51.100.25]", 15) == 0))
		return 1;
	return ref_name_ours(at + 1, n, listener);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rm_ruleset *rs = fz_fixed();
	char *field[4], *copy, empty[] = "";
	struct rm_ip client, daemon;
	struct rm_verdict v;
	struct rm_facts f;
	unsigned opt, macros;
	size_t n;

	if (size < 2)
		return 0;
	opt = data[0];
	macros = data[1];
	n = fz_fields(data + 2, size - 2, field, 4, &copy);
	fz_fixed_session(opt, &f, &client, &daemon);
	f.f_sender = opt & 128 ? "<>" : "<sender@remote.test>";
	f.f_rcpt = field[0];
	if (macros & 1)
		f.f_rcpt_addr = n > 1 ? field[1] : empty;
	if (macros & 2)
		f.f_rcpt_mailer = n > 2 ? field[2] : empty;
	if (macros & 4)
		f.f_rcpt_host = n > 3 ? field[3] : empty;
	rm_policy_mail(rs, &f, &v, opt & 64 ? &fz_trace : NULL);
	fz_check_verdict(rs, &f, &v, 0);
	rm_policy_rcpt(rs, &f, &v, opt & 64 ? &fz_trace : NULL);
	fz_check_verdict(rs, &f, &v, 1);
	/* the reference of a grant: client 203.0.113.9 (bits 0-1 zero),
	   not on lax (grants = false there) */
	if (v.v_action == RM_CONTINUE && f.f_auth == NULL &&
	    !fz_trusted(rs, f.f_listener, f.f_client_ip) &&
	    !((opt & 3) == 0 && (opt >> 3 & 3) != 1 &&
	      strcmp(v.v_rule, "relay_grant") == 0)) {
		if (!ref_ours(f.f_rcpt, f.f_listener, f.f_daemon_ip != NULL, 1))
			fz_fail("relay (reference): continue (rule %s) for "
			        "recipient \"%s\"",
			        v.v_rule, f.f_rcpt);
		if (f.f_rcpt_addr != NULL && strchr(f.f_rcpt_addr, '@') &&
		    !ref_ours(f.f_rcpt_addr, f.f_listener,
		              f.f_daemon_ip != NULL, 0))
			fz_fail("relay (reference): continue (rule %s) for "
			        "recipient \"%s\", {rcpt_addr} \"%s\"",
			        v.v_rule, f.f_rcpt, f.f_rcpt_addr);
	}
	free(copy);
	return 0;
}
