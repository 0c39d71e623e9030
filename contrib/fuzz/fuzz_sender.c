/*
 * fuzz_sender.c - the sender classification (local_sender_spoof) on any
 * MAIL FROM argument, against the fixed ruleset of fz_fixed().
 *
 * Input: byte 0 bits 0-1 the client (untrusted 203.0.113.9, untrusted
 * 2001:db8:2::9, unknown, trusted 192.0.2.5), bit 2 SMTP AUTH as alice,
 * bits 3-4 the listener (none, lax, watch, branch), bit 5 the address the
 * client connected to (198.51.100.1) known, bit 6 the trace on, bit 7
 * {mail_addr} given.  Then the sender and {mail_addr}, separated by a NUL
 * byte.  The recipient is always ours (user@example.com), so only a check
 * refuses.
 *
 * Invariants: those of fz_check_verdict; a client neither trusted nor
 * authenticated never gets continue, where local_sender_spoof is on, for a
 * sender that fz_route_ours() finds leads into our domains, nor for one
 * whose {mail_addr} does (when the MTA gave one that parses); and the
 * verdict (action and rule) is the same for notations of the same sender:
 * the final domain in upper and in lower case, with a trailing dot, and
 * the address with and without its angle brackets.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/addr.h"

#define SENDER_MAX 400 /* longer: the variants may cross a length limit */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_fixed();
	return 0;
}

static void
decide(const struct rm_facts *f, struct rm_verdict *v, int traced)
{
	const struct rm_ruleset *rs = fz_fixed();

	rm_policy_rcpt(rs, f, v, traced ? &fz_trace : NULL);
	fz_check_verdict(rs, f, v, 1);
}

/* final_domain - where the domain after the last '@' outside quotes
   starts, and its length; -1 when there is none or it is no plain name
   or literal */
static int
final_domain(const char *s, size_t *start, size_t *len)
{
	size_t i, at = 0, n = strlen(s);
	int quoted = 0, found = 0;

	for (i = 0; i < n; i++) {
		if (quoted && s[i] == '\\' && i + 1 < n)
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == '@') {
			at = i;
			found = 1;
		}
	}
	if (!found)
		return -1;
	*start = at + 1;
	*len = strcspn(s + at + 1, ">");
	/* a name, or a literal; not a hop of a source route ("<@a:b>") */
	if (*len > 1 && s[at + 1] == '[')
		return s[at + *len] == ']' &&
		               strcspn(s + at + 2, "[]") == *len - 2
		           ? 0
		           : -1;
	for (i = at + 1; i < at + 1 + *len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '-' && s[i] != '_' && (unsigned char)s[i] < 0x80)
			return -1;
	return 0;
}

/* same - the variant's verdict is the original's */
static void
same(const struct rm_facts *f, const struct rm_verdict *v0, const char *var,
     const char *how)
{
	struct rm_facts f2 = *f;
	struct rm_verdict v;

	f2.f_sender = var;
	decide(&f2, &v, 0);
	if (v.v_action != v0->v_action || strcmp(v.v_rule, v0->v_rule) != 0)
		fz_fail("sender \"%s\": %s (rule %s), but %s \"%s\": %s "
		        "(rule %s)",
		        f->f_sender, rm_action_name(v0->v_action), v0->v_rule,
		        how, var, rm_action_name(v.v_action), v.v_rule);
}

static void
variants(const struct rm_facts *f, const struct rm_verdict *v0)
{
	const char *s = f->f_sender;
	size_t n = strlen(s), start, len, i;
	char var[SENDER_MAX + 8];

	if (n > SENDER_MAX)
		return;
	if (final_domain(s, &start, &len) == 0 && len > 0) {
		memcpy(var, s, n + 1);
		for (i = start; i < start + len; i++)
			var[i] = (char)toupper((unsigned char)var[i]);
		same(f, v0, var, "in upper case");
		for (i = start; i < start + len; i++)
			var[i] = (char)tolower((unsigned char)var[i]);
		same(f, v0, var, "in lower case");
		/* a trailing dot, after a name that has none */
		if (isalnum((unsigned char)s[start + len - 1]) &&
		    s[start] != '[') {
			memcpy(var, s, start + len);
			var[start + len] = '.';
			memcpy(var + start + len + 1, s + start + len,
			       n - start - len + 1);
			same(f, v0, var, "with a trailing dot");
		}
	}
	/* the angle brackets: the MTA may hand the address either way */
	if (n > 2 && s[0] == '<' && s[n - 1] == '>' &&
	    strpbrk(s + 1, "<>") == s + n - 1 &&
	    !isspace((unsigned char)s[1]) &&
	    !isspace((unsigned char)s[n - 2])) {
		memcpy(var, s + 1, n - 2);
		var[n - 2] = '\0';
		same(f, v0, var, "without brackets");
	} else if (n > 0 && strpbrk(s, "<> \t") == NULL) {
		var[0] = '<';
		memcpy(var + 1, s, n);
		var[n + 1] = '>';
		var[n + 2] = '\0';
		same(f, v0, var, "with brackets");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rm_ruleset *rs = fz_fixed();
	struct rm_ip client, daemon;
	struct rm_verdict v;
	struct rm_facts f;
	char *field[2], *copy, *sender, empty[] = "";
	struct rm_addr a;
	unsigned opt;
	size_t n;
	int spoof_on, ours;

	if (size < 1)
		return 0;
	opt = data[0];
	n = fz_fields(data + 1, size - 1, field, 2, &copy);
	sender = field[0];
	fz_fixed_session(opt, &f, &client, &daemon);
	f.f_sender = sender;
	if (opt & 128)
		f.f_mail_addr = n > 1 ? field[1] : empty;
	f.f_rcpt = "<user@example.com>";
	decide(&f, &v, opt & 64);
	spoof_on = rm_ruleset_profile(rs, f.f_listener)
	               ->pf_check[RM_CK_LOCAL_SENDER_SPOOF] == RM_CM_REJECT;
	/* the null sender passes; an unparseable {mail_addr} is ignored */
	ours = strcmp(sender, "") != 0 && strcmp(sender, "<>") != 0 &&
	       (fz_route_ours(sender, fz_fixed_ours) ||
	        (f.f_mail_addr != NULL &&
	         rm_addr_parse(f.f_mail_addr, &a, NULL, 0) == 0 &&
	         fz_route_ours(f.f_mail_addr, fz_fixed_ours)));
	if (v.v_action == RM_CONTINUE && spoof_on && ours && f.f_auth == NULL &&
	    !fz_trusted(rs, f.f_listener, f.f_client_ip))
		fz_fail("spoof: continue (rule %s) for sender \"%s\" "
		        "({mail_addr} \"%s\"), which leads into our domains, "
		        "client neither trusted nor authenticated",
		        v.v_rule, sender,
		        f.f_mail_addr ? f.f_mail_addr : "(none)");
	variants(&f, &v);
	free(copy);
	return 0;
}
