/*
 * fuzz.c - helpers and invariants shared by the fuzz targets.
 */
#define _GNU_SOURCE /* memrchr */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "fuzz.h"
#include "relaymilter/addr.h"
#include "relaymilter/conf.h"

void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

char *
fz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		fz_fail("out of memory");
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

size_t
fz_fields(const uint8_t *data, size_t size, char **field, size_t max,
          char **copy)
{
	char *s = fz_strdup(data, size), *end = s + size;
	size_t n = 0;

	*copy = s;
	while (n < max && s <= end) {
		field[n++] = s;
		s += strlen(s) + 1;
	}
	return n;
}

static char *tmpfiles[8];
static size_t ntmpfiles;

static void
tmp_cleanup(void)
{
	while (ntmpfiles > 0) {
		unlink(tmpfiles[--ntmpfiles]);
		free(tmpfiles[ntmpfiles]);
	}
}

const char *
fz_tmpfile(const char *tag)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (access("/dev/shm", W_OK) == 0)
		dir = "/dev/shm";
	else if (dir == NULL)
		dir = "/tmp";
	if ((path = malloc(strlen(dir) + strlen(tag) + 32)) == NULL)
		fz_fail("out of memory");
	sprintf(path, "%s/rm-fuzz-%s.XXXXXX", dir, tag);
	if ((fd = mkstemp(path)) < 0)
		fz_fail("mkstemp %s", path);
	close(fd);
	if (ntmpfiles == 0)
		atexit(tmp_cleanup);
	if (ntmpfiles == sizeof(tmpfiles) / sizeof(tmpfiles[0]))
		fz_fail("too many temporary files");
	tmpfiles[ntmpfiles++] = path;
	return path;
}

void
fz_write(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) != 0)
		fz_fail("cannot write %s", path);
}

static int
digits(const char *s, size_t *n)
{
	size_t i = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	*n = i;
	return i >= 1 && i <= 3 && (i == 1 || s[0] != '0');
}

void
fz_reply_ok(const struct rm_reply *r, const char *what)
{
	char esc[2 * RM_REPLY_TEXT_MAX + 1];
	const char *x = r->r_xcode;
	size_t i, n, tlen, pct = 0;

	if (memchr(r->r_code, '\0', sizeof(r->r_code)) == NULL ||
	    strlen(r->r_code) != 3 ||
	    (r->r_code[0] != '4' && r->r_code[0] != '5') ||
	    r->r_code[1] < '0' || r->r_code[1] > '9' || r->r_code[2] < '0' ||
	    r->r_code[2] > '9')
		fz_fail("%s: bad code", what);
	if ((r->r_code[0] == '5') != (r->r_action == RM_REJECT) ||
	    (r->r_code[0] == '4') != (r->r_action == RM_TEMPFAIL))
		fz_fail("%s: code %s and action %d disagree", what, r->r_code,
		        r->r_action);
	if (memchr(x, '\0', sizeof(r->r_xcode)) == NULL ||
	    x[0] != r->r_code[0] || x[1] != '.' || !digits(x + 2, &n) ||
	    x[2 + n] != '.' || !digits(x + 3 + n, &i) || x[3 + n + i] != '\0')
		fz_fail("%s: enhanced code \"%.12s\" does not match %s", what,
		        x, r->r_code);
	if (memchr(r->r_text, '\0', sizeof(r->r_text)) == NULL)
		fz_fail("%s: text not terminated", what);
	tlen = strlen(r->r_text);
	if (tlen == 0)
		fz_fail("%s: empty text", what);
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)r->r_text[i];

		if (c < 0x20 || c > 0x7e)
			fz_fail("%s: byte 0x%02x in the text", what, c);
		pct += c == '%';
	}
	rm_reply_escape_text(r, esc, sizeof(esc));
	if (strlen(esc) != tlen + pct)
		fz_fail("%s: escaped text has %zu bytes, want %zu", what,
		        strlen(esc), tlen + pct);
	for (i = 0; esc[i] != '\0'; i++)
		if (esc[i] == '%' && esc[++i] != '%')
			fz_fail("%s: a lone %% in the escaped text", what);
}

/* the listener's own lists, then the global ones */
static void
scopes(const struct rm_ruleset *rs, const char *listener,
       const struct rm_lists *l[2])
{
	l[0] = rm_ruleset_profile(rs, listener)->pf_lists;
	l[1] = &rs->rs_lists;
}

int
fz_trusted(const struct rm_ruleset *rs, const char *listener,
           const struct rm_ip *client)
{
	const struct rm_lists *l[2];
	const void *tag;
	int i;

	if (client == NULL)
		return 0;
	scopes(rs, listener, l);
	for (i = 0; i < 2; i++)
		if (l[i] != NULL &&
		    rm_ipset_lookup(l[i]->l_trusted, client, &tag))
			return 1;
	return 0;
}

int
fz_ours(const struct rm_ruleset *rs, const char *listener,
        const struct rm_ip *daemon, const char *addr)
{
	struct rm_addr a;
	const void *tag;

	if (addr == NULL || rm_addr_parse(addr, &a, NULL, 0) != 0)
		return 0;
	if (a.a_flags & (RM_ADDR_NULL | RM_ADDR_SOURCE_ROUTE | RM_ADDR_ROUTING))
		return 0;
	if (a.a_flags & RM_ADDR_UNQUALIFIED)
		return rm_addr_is_postmaster(&a);
	if (a.a_flags & RM_ADDR_LITERAL)
		return !(a.a_flags & RM_ADDR_LITERAL_ODD) &&
		       ((daemon != NULL &&
		         memcmp(&a.a_literal, daemon, sizeof(*daemon)) == 0) ||
		        rm_ipset_lookup(rs->rs_our_addrs, &a.a_literal, &tag));
	return fz_name_ours(rs, listener, a.a_domain);
}

int
fz_name_ours(const struct rm_ruleset *rs, const char *listener,
             const char *name)
{
	const struct rm_lists *l[2];
	const void *tag;
	int i;

	scopes(rs, listener, l);
	for (i = 0; i < 2; i++)
		if (l[i] != NULL &&
		    (rm_domset_lookup(l[i]->l_hostnames, name, &tag) ||
		     rm_domset_lookup(l[i]->l_local_domains, name, &tag) ||
		     rm_domset_lookup(l[i]->l_relay_domains, name, &tag)))
			return 1;
	return 0;
}

/* smtp_mailer - a mailer that hands mail to another host by SMTP */
static int
smtp_mailer(const char *m)
{
	static const char *const names[] = {"smtp", "esmtp", "smtp8", "dsmtp",
	                                    "relay"};
	size_t i;

	for (i = 0; m != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(m, names[i]) == 0)
			return 1;
	return 0;
}

void
fz_check_verdict(const struct rm_ruleset *rs, const struct rm_facts *f,
                 const struct rm_verdict *v, int rcpt)
{
	const char *ra = f->f_rcpt_addr;
	struct rm_addr a;
	int authed = f->f_auth != NULL && f->f_auth[0] != '\0';

	switch (v->v_action) {
	case RM_CONTINUE:
		if (v->v_reply != NULL)
			fz_fail("continue with a reply");
		break;
	case RM_REJECT:
	case RM_TEMPFAIL:
		if (v->v_reply == NULL)
			fz_fail("%s without a reply",
			        rm_action_name(v->v_action));
		fz_reply_ok(v->v_reply, v->v_rule ? v->v_rule : "verdict");
		if (v->v_reply->r_action != v->v_action)
			fz_fail("verdict %s with a %s reply",
			        rm_action_name(v->v_action),
			        v->v_reply->r_code);
		break;
	default:
		fz_fail("unknown action %d", (int)v->v_action);
	}
	if (v->v_rule == NULL)
		fz_fail("verdict without a rule");
	if (v->v_would_rule != NULL)
		fz_reply_ok(&v->v_would, v->v_would_rule);
	if (rs->rs_incomplete && v->v_action != RM_TEMPFAIL)
		fz_fail("an incomplete policy decided %s",
		        rm_action_name(v->v_action));
	if (!rcpt || v->v_action != RM_CONTINUE)
		return;
	if (f->f_rcpt == NULL)
		fz_fail("continue without a recipient");
	if (authed || fz_trusted(rs, f->f_listener, f->f_client_ip))
		return;
	/* a relay grant: asked of the port, found, on a listener where
	   grants count */
	if (v->v_grant != NULL || strcmp(v->v_rule, "relay_grant") == 0) {
		if (f->f_grants == NULL || v->v_grant == NULL ||
		    v->v_grant->g_state != RM_FOUND ||
		    strcmp(v->v_rule, "relay_grant") != 0 ||
		    !rm_ruleset_profile(rs, f->f_listener)->pf_grants)
			fz_fail("relay: continue (rule %s) by a grant that was "
			        "not found or does not count here",
			        v->v_rule);
		return;
	}
	if (!fz_ours(rs, f->f_listener, f->f_daemon_ip, f->f_rcpt))
		fz_fail("relay: continue (rule %s) for recipient \"%s\" that "
		        "is not ours, client neither trusted nor authenticated",
		        v->v_rule, f->f_rcpt);
	if (ra != NULL && strchr(ra, '@') != NULL &&
	    !fz_ours(rs, f->f_listener, f->f_daemon_ip, ra))
		fz_fail("relay: continue (rule %s) for \"%s\", which the MTA "
		        "routes to \"%s\", not ours",
		        v->v_rule, f->f_rcpt, ra);
	if (smtp_mailer(f->f_rcpt_mailer) &&
	    rm_addr_parse(f->f_rcpt, &a, NULL, 0) == 0 &&
	    (a.a_flags & RM_ADDR_LITERAL) &&
	    (f->f_rcpt_host == NULL ||
	     !fz_name_ours(rs, f->f_listener, f->f_rcpt_host)))
		fz_fail("relay: continue (rule %s) for \"%s\", which the MTA "
		        "hands to its %s mailer for host \"%s\"",
		        v->v_rule, f->f_rcpt, f->f_rcpt_mailer,
		        f->f_rcpt_host ? f->f_rcpt_host : "(none)");
}

/* ref_label_ok - letters, digits and inner hyphens (LDH) */
static int
ref_label_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/* ref_octet - a decimal 0-255 without leading zeros; its length or 0 */
static size_t
ref_octet(const char *s)
{
	size_t n = 0;
	unsigned v = 0;

	while (n < 4 && s[n] >= '0' && s[n] <= '9')
		v = v * 10 + (unsigned)(s[n++] - '0');
	if (n == 0 || n > 3 || v > 255 || (n > 1 && s[0] == '0'))
		return 0;
	return n;
}

/* ref_loopback - "[127.a.b.c]" or "[IPv6:::1]", any case */
static int
ref_loopback(const char *t, size_t n)
{
	size_t i = 1, k, part;

	if (n == 10 && strncasecmp(t, "[ipv6:::1]", 10) == 0)
		return 1;
	if (n < 11 || strncmp(t, "[127.", 5) != 0 || t[n - 1] != ']')
		return 0;
	for (part = 0; part < 4; part++) {
		if ((k = ref_octet(t + i)) == 0)
			return 0;
		i += k;
		if (part < 3 && t[i++] != '.')
			return 0;
	}
	return i == n - 1;
}

/* ref_domain_ours - one domain from fz_route_ours: surely ours */
static int
ref_domain_ours(const char *t, size_t n, const char *const *ours)
{
	size_t i, start, k;

	if (n > 0 && t[0] == '[')
		return ref_loopback(t, n);
	if (n > 1 && t[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = start = 0; i <= n; i++)
		if (i == n || t[i] == '.') {
			if (!ref_label_ok(t + start, i - start))
				return 0;
			start = i + 1;
		}
	if (memchr(t, '.', n) == NULL)
		return 1; /* a single label: the MTA qualifies it */
	if ((n == 9 && strncasecmp(t, "localhost", 9) == 0) ||
	    (n == 21 && strncasecmp(t, "localhost.localdomain", 21) == 0) ||
	    (n > 10 && strncasecmp(t + n - 10, ".localhost", 10) == 0))
		return 1;
	for (; *ours != NULL; ours++) {
		k = strlen(*ours);
		if ((*ours)[0] == '.'
		        ? n > k && strncasecmp(t + n - k, *ours, k) == 0
		        : n == k && strncasecmp(t, *ours, k) == 0)
			return 1;
	}
	return 0;
}

/* ref_pieces - the pieces of [s, s + n) between the separators in seps,
   from the first (or the second: skip_first) on: surely ours? */
static int
ref_pieces(const char *s, size_t n, const char *seps, int skip_first,
           const char *const *ours)
{
	size_t i, start = 0;
	int first = 1;

	for (i = 0; i <= n; i++)
		if (i == n || strchr(seps, s[i]) != NULL) {
			if (!(first && skip_first) &&
			    ref_domain_ours(s + start, i - start, ours))
				return 1;
			first = 0;
			start = i + 1;
		}
	return 0;
}

int
fz_route_ours(const char *addr, const char *const *ours)
{
	const char *s = addr, *colon, *at = NULL, *bang;
	char local[1024];
	size_t n = strlen(addr), i, k = 0;
	int quoted = 0;

	/* one enclosing <...>, or none */
	if (n > 0 && s[0] == '<') {
		if (n < 2 || s[n - 1] != '>')
			return 0;
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(local))
		return 0; /* the null sender; or too long to be sure */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      strchr(".-_+=@%!:,\"[]", c) != NULL) ||
		    c == '\0')
			return 0;
		if (c == '"')
			quoted = !quoted;
		else if (c == '@' && !quoted)
			at = s + i;
	}
	if (quoted)
		return 0;
	/* a source route "@a,@b:": each hop is a domain on the way */
	if (s[0] == '@') {
		if ((colon = memchr(s, ':', n)) == NULL)
			return 0;
		for (i = 0; i < (size_t)(colon - s); i = k + 1) {
			k = i + strcspn(s + i, ",:");
			if (s[i] != '@')
				return 0;
			if (ref_domain_ours(s + i + 1, k - i - 1, ours))
				return 1;
		}
		n -= (size_t)(colon + 1 - s);
		s = colon + 1;
		if (at != NULL && at < s)
			at = NULL;
	}
	if (n == 0)
		return 0;
	if (at == NULL)
		return 1; /* unqualified: the MTA makes it one of ours */
	if (ref_domain_ours(at + 1, n - (size_t)(at + 1 - s), ours))
		return 1;
	/* the local part without its quotes: bang hosts first ... */
	for (i = 0, k = 0; s + i < at; i++)
		if (s[i] != '"')
			local[k++] = s[i];
	if ((bang = memrchr(local, '!', k)) != NULL) {
		if (ref_pieces(local, (size_t)(bang - local), "!", 0, ours))
			return 1;
		k -= (size_t)(bang + 1 - local);
		memmove(local, bang + 1, k);
	}
	/* ... then what follows '%' or '@' after the user */
	return ref_pieces(local, k, "%@", 1, ours);
}

const char *const fz_fixed_ours[] = {"mx.example.com", "example.com",
                                     ".example.org", NULL};

static const char fixed_conf[] =
    "hostnames = [ \"mx.example.com\" ];\n"
    "local_domains = [ \"example.com\", \".example.org\" ];\n"
    "relay_domains = [ \"backup.example.net\" ];\n"
    "trusted_networks = [ \"192.0.2.0/24\", \"2001:db8:1::/48\" ];\n"
    "our_addresses = [ \"198.51.100.25\" ];\n"
    "our_interface_addresses = false;\n"
    "grants = { };\n"
    "listeners = {\n"
    "\tlax = { checks = { local_sender_spoof = \"off\"; }; grants = false; "
    "};\n"
    "\twatch = { mode = \"monitor\"; };\n"
    "\tbranch = { local_domains = [ \"branch.example.net\" ]; };\n"
    "};\n";

const struct rm_ruleset *
fz_fixed(void)
{
	static struct rm_ruleset *rs;
	char err[512];

	if (rs == NULL && (rs = rm_conf_load_string(fixed_conf, "fixed", err,
	                                            sizeof(err))) == NULL)
		fz_fail("the fixed ruleset: %s", err);
	return rs;
}

/* fz_grant - the grant port of fz_fixed_session: 203.0.113.9 holds one */
static const struct rm_grant *
fz_grant(void *arg, const struct rm_ip *ip)
{
	static const struct rm_grant yes = {RM_FOUND, "bob", "push", 1},
	                             no = {RM_NOTFOUND, "", "", 0};
	struct rm_ip granted;

	(void)arg;
	rm_ip_parse("203.0.113.9", &granted);
	return memcmp(ip, &granted, sizeof(granted)) == 0 ? &yes : &no;
}
static const struct rm_grant_port fz_grants = {fz_grant, NULL};

void
fz_fixed_session(unsigned opt, struct rm_facts *f, struct rm_ip *client,
                 struct rm_ip *daemon)
{
	static const char *const clients[] = {"203.0.113.9", "2001:db8:2::9",
	                                      NULL, "192.0.2.5"};
	static const char *const listeners[] = {NULL, "lax", "watch", "branch"};

	memset(f, 0, sizeof(*f));
	if (clients[opt & 3] != NULL) {
		rm_ip_parse(clients[opt & 3], client);
		f->f_client_ip = client;
		f->f_client_name = clients[opt & 3];
	}
	if (opt & 32) {
		rm_ip_parse("198.51.100.1", daemon);
		f->f_daemon_ip = daemon;
	}
	f->f_auth = opt & 4 ? "alice" : NULL;
	f->f_listener = listeners[opt >> 3 & 3];
	f->f_grants = &fz_grants;
	f->f_helo = "client.remote.test";
}

void
fz_one_line(const char *what, const char *line, int ascii)
{
	size_t i;

	for (i = 0; line[i] != '\0'; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c < 0x20 || c == 0x7f || (ascii && c > 0x7e))
			fz_fail("%s with byte 0x%02x at %zu: %s", what, c, i,
			        line);
	}
}

static void
trace_line(void *arg, const char *line)
{
	(void)arg;
	fz_one_line("trace line", line, 1);
	if (strlen(line) >= 600)
		fz_fail("trace line of %zu bytes", strlen(line));
}

const struct rm_trace fz_trace = {trace_line, NULL};

void
fz_probe(const struct rm_ruleset *rs)
{
	static const char *const clients[] = {NULL, "203.0.113.9", "192.0.2.5",
	                                      "::1", "2001:db8:1::5"};
	static const char *const rcpts[] = {
	    "<user@remote.invalid>",   "postmaster",
	    "<user@example.com>",      "a%b@example.com",
	    "<@x.test:y@example.com>", "x@[192.0.2.1]"};
	static const char *const listeners[] = {NULL, "submission", "mx"};
	struct rm_ip ips[5], daemon;
	struct rm_verdict v;
	struct rm_facts f;
	size_t c, r, k;

	rm_ip_parse("192.0.2.1", &daemon);
	for (c = 0; c < 5; c++)
		if (clients[c] != NULL && rm_ip_parse(clients[c], &ips[c]) != 0)
			fz_fail("probe address %s", clients[c]);
	for (c = 0; c < 5; c++)
		for (r = 0; r < 6; r++)
			for (k = 0; k < 2; k++) {
				memset(&f, 0, sizeof(f));
				f.f_client_ip = clients[c] ? &ips[c] : NULL;
				f.f_daemon_ip = &daemon;
				f.f_listener = listeners[(c + r) % 3];
				f.f_helo = "mail.remote.invalid";
				f.f_auth = k ? "alice" : NULL;
				f.f_sender = "<a@remote.invalid>";
				f.f_rcpt = rcpts[r];
				rm_policy_rcpt(rs, &f, &v, NULL);
				fz_check_verdict(rs, &f, &v, 1);
				if (r == 0) {
					rm_policy_mail(rs, &f, &v, NULL);
					fz_check_verdict(rs, &f, &v, 0);
				}
			}
}
