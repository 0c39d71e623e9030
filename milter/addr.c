/*
 * addr.c - split an envelope address into local part and domain.
 *
 * The parser errs on the side of refusing: anything it cannot read with
 * certainty is an error, and the policy treats an unparseable recipient as
 * not ours.  It works on [start, end) spans of the caller's string, so it
 * never allocates and never looks past the terminating NUL.
 */
#include <stdio.h>
#include <string.h>

#include "relaymilter/addr.h"

struct span {
	const char *sp_s, *sp_e; /* [sp_s, sp_e) */
};

/* ascii_lower - tolower() without the locale: 8-bit bytes stay as given. */
static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * is_special - characters that cannot appear unquoted in a local part
 * (RFC 5322 specials and space; '@' and '"' are handled by the caller).
 */
static bool
is_special(char c)
{
	return c == ' ' || c == '(' || c == ')' || c == '<' || c == '>' ||
	       c == '[' || c == ']' || c == ',' || c == ';' || c == ':' ||
	       c == '\\';
}

static int
fail(struct rm_addr *out, char *errbuf, size_t errlen, const char *why)
{
	memset(out, 0, sizeof(*out));
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", why);
	return -1;
}

/*
 * find_at - the last '@' outside quotes in sp, or NULL.  Checks that quotes
 * balance and that a quoted-pair does not run off the end.
 */
static int
find_at(const struct span *sp, const char **at, const char **why)
{
	const char *p;
	bool q = false;

	*at = NULL;
	for (p = sp->sp_s; p < sp->sp_e; p++) {
		if (q && *p == '\\') {
			if (++p == sp->sp_e)
				break;
		} else if (*p == '"') {
			q = !q;
		} else if (!q && *p == '@') {
			*at = p;
		}
	}
	if (q) {
		*why = "unbalanced quotes";
		return -1;
	}
	return 0;
}

/*
 * parse_local - unquote the local part into out->a_local, flagging quotes
 * and routing characters.  Quoted segments may appear anywhere (the obsolete
 * "a"."b" form included); what they contain is judged after unquoting.
 */
static int
parse_local(const struct span *sp, struct rm_addr *out, const char **why)
{
	const char *p;
	size_t n = 0;
	bool q = false, quoted_pair;
	char c;

	for (p = sp->sp_s; p < sp->sp_e; p++) {
		c = *p;
		quoted_pair = false;
		if (c == '"') {
			q = !q;
			out->a_flags |= RM_ADDR_QUOTED;
			continue;
		}
		if (q && c == '\\') {
			c = *++p; /* find_at() saw the pair complete */
			quoted_pair = true;
		}
		if (!q && !quoted_pair && is_special(c)) {
			*why = c == ' ' ? "unquoted space in local part"
			                : "invalid character in local part";
			return -1;
		}
		if (c == '@' || c == '%' || c == '!')
			out->a_flags |= RM_ADDR_ROUTING;
		/*
		 * Longer than any address we store: the MTA took it, so it is
		 * judged (by its domain and flags), never refused for that
		 */
		if (n == RM_LOCAL_MAX)
			out->a_flags |= RM_ADDR_LONG_LOCAL;
		else
			out->a_local[n++] = c;
	}
	out->a_local[n] = '\0';
	if (n == 0 && !(out->a_flags & RM_ADDR_QUOTED)) {
		*why = "empty local part";
		return -1;
	}
	return 0;
}

/*
 * parse_domain - validate sp as a domain or an address literal and store it
 * lower-cased in dst (RM_DOMAIN_MAX + 1 bytes).  Adds TRAILING_DOT or
 * LITERAL to *flags; a literal's address goes to *lit.
 */
static int
parse_domain(const struct span *sp, char *dst, unsigned *flags,
             struct rm_ip *lit, const char **why)
{
	const char *p, *e = sp->sp_e;
	size_t n = 0, label = 0;

	if (sp->sp_s == e) {
		*why = "empty domain";
		return -1;
	}
	if (*sp->sp_s == '[') {
		if (e[-1] != ']' ||
		    memchr(sp->sp_s + 1, '[', (size_t)(e - sp->sp_s - 1)) !=
		        NULL ||
		    memchr(sp->sp_s, ']', (size_t)(e - sp->sp_s - 1)) != NULL) {
			*why = "unbalanced brackets in address literal";
			return -1;
		}
		if ((size_t)(e - sp->sp_s) > RM_DOMAIN_MAX) {
			*why = "domain too long";
			return -1;
		}
		for (p = sp->sp_s; p < e; p++)
			dst[n++] = ascii_lower(*p);
		dst[n] = '\0';
		/* dst is terminated: rm_ip_parse() may read it as a string */
		if (rm_ip_parse(dst, lit) != 0) {
			*why = "bad address literal";
			return -1;
		}
		*flags |= RM_ADDR_LITERAL;
		/* only "[a.b.c.d]" and "[IPv6:x]" of a non-mapped x are
		   the forms MTAs deliver locally */
		if (rm_ip_is_v4(lit) ? strchr(dst, ':') != NULL
		                     : strncmp(dst, "[ipv6:", 6) != 0)
			*flags |= RM_ADDR_LITERAL_ODD;
		return 0;
	}
	if (e - sp->sp_s > 1 && e[-1] == '.') {
		e--;
		*flags |= RM_ADDR_TRAILING_DOT;
	}
	if ((size_t)(e - sp->sp_s) > RM_DOMAIN_MAX) {
		*why = "domain too long";
		return -1;
	}
	for (p = sp->sp_s; p < e; p++) {
		if (*p == '.') {
			if (label == 0) {
				*why = "empty label in domain";
				return -1;
			}
			label = 0;
		} else if ((unsigned char)*p >= 0x80 ||
		           (*p >= 'a' && *p <= 'z') ||
		           (*p >= 'A' && *p <= 'Z') ||
		           (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
			label++;
		} else {
			*why = *p == ' ' ? "space in domain"
			                 : "invalid character in domain";
			return -1;
		}
		dst[n++] = ascii_lower(*p);
	}
	if (label == 0) {
		*why = "empty label in domain";
		return -1;
	}
	dst[n] = '\0';
	return 0;
}

/*
 * check_route - "@a.example,@b.example" (the part before ':'): each hop is
 * an '@' and a domain.  The hops are only validated, never used.
 */
static int
check_route(const struct span *sp, const char **why)
{
	char dom[RM_DOMAIN_MAX + 1];
	struct span hop;
	struct rm_ip lit;
	unsigned flags = 0;
	const char *p = sp->sp_s, *comma;

	for (;;) {
		if (p == sp->sp_e || *p != '@') {
			*why = "bad source route";
			return -1;
		}
		comma = memchr(p, ',', (size_t)(sp->sp_e - p));
		hop.sp_s = p + 1;
		hop.sp_e = comma != NULL ? comma : sp->sp_e;
		if (parse_domain(&hop, dom, &flags, &lit, why) != 0)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/*
 * route_end - the ':' ending a source route "@a,@b:user@d", skipping those
 * inside a hop's literal ("@[IPv6:::1]:user@d"); NULL when there is none.
 */
static const char *
route_end(const struct span *sp)
{
	const char *p;
	bool lit = false;

	for (p = sp->sp_s; p < sp->sp_e; p++) {
		if (*p == '[')
			lit = true;
		else if (*p == ']')
			lit = false;
		else if (*p == ':' && !lit)
			return p;
	}
	return NULL;
}

int
rm_addr_parse(const char *in, struct rm_addr *out, char *errbuf, size_t errlen)
{
	struct span all, local, dom;
	const char *p, *at, *colon, *why = NULL;
	size_t len;

	/* not the whole struct: its buffers are big and filled as parsed */
	out->a_local[0] = '\0';
	out->a_domain[0] = '\0';
	out->a_flags = 0;
	memset(&out->a_literal, 0, sizeof(out->a_literal));
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (in == NULL)
		return fail(out, errbuf, errlen, "no address");
	len = strlen(in);
	for (p = in; *p != '\0'; p++)
		if (is_ctl((unsigned char)*p))
			return fail(out, errbuf, errlen, "control character");
	all.sp_s = in;
	all.sp_e = in + len;
	if (len > 0 && (in[0] == '<' || in[len - 1] == '>')) {
		if (len < 2 || in[0] != '<' || in[len - 1] != '>')
			return fail(out, errbuf, errlen,
			            "unbalanced angle brackets");
		all.sp_s++;
		all.sp_e--;
	}
	if (all.sp_s == all.sp_e) {
		out->a_flags = RM_ADDR_NULL;
		return 0;
	}
	if (*all.sp_s == '@') {
		if ((colon = route_end(&all)) == NULL)
			return fail(out, errbuf, errlen, "empty local part");
		local.sp_s = all.sp_s;
		local.sp_e = colon;
		if (check_route(&local, &why) != 0)
			return fail(out, errbuf, errlen, why);
		out->a_flags |= RM_ADDR_SOURCE_ROUTE;
		all.sp_s = colon + 1;
		if (all.sp_s == all.sp_e)
			return fail(out, errbuf, errlen,
			            "no address after source route");
	}
	if (find_at(&all, &at, &why) != 0)
		return fail(out, errbuf, errlen, why);
	local.sp_s = all.sp_s;
	local.sp_e = at != NULL ? at : all.sp_e;
	if (parse_local(&local, out, &why) != 0)
		return fail(out, errbuf, errlen, why);
	if (at == NULL) {
		out->a_flags |= RM_ADDR_UNQUALIFIED;
		return 0;
	}
	dom.sp_s = at + 1;
	dom.sp_e = all.sp_e;
	if (parse_domain(&dom, out->a_domain, &out->a_flags, &out->a_literal,
	                 &why) != 0)
		return fail(out, errbuf, errlen, why);
	return 0;
}

/*
 * each_name - fn on [s, e) as a name: lower-cased, one trailing dot
 * dropped, empty or over-long names skipped (an over-long name is no
 * domain an MTA resolves).
 */
static int
each_name(const char *s, const char *e, int (*fn)(void *, const char *),
          void *arg)
{
	char dom[RM_DOMAIN_MAX + 1];
	size_t n = 0;

	if (e > s && e[-1] == '.')
		e--;
	if (e <= s || (size_t)(e - s) > RM_DOMAIN_MAX)
		return 0;
	for (; s < e; s++)
		dom[n++] = ascii_lower(*s);
	dom[n] = '\0';
	return fn(arg, dom);
}

/* each_hop - the hops of a source route "@a,@b:" in raw, if any. */
static int
each_hop(const char *raw, int (*fn)(void *, const char *), void *arg)
{
	struct span all = {raw, raw + strlen(raw)};
	const char *p, *colon, *comma;
	int rc;

	if (all.sp_s < all.sp_e && *all.sp_s == '<')
		all.sp_s++;
	if (all.sp_s == all.sp_e || *all.sp_s != '@' ||
	    (colon = route_end(&all)) == NULL)
		return 0;
	for (p = all.sp_s; p < colon; p = comma + 1) {
		if ((comma = memchr(p, ',', (size_t)(colon - p))) == NULL)
			comma = colon;
		if (*p == '@' && (rc = each_name(p + 1, comma, fn, arg)) != 0)
			return rc;
	}
	return 0;
}

int
rm_addr_each_domain(const char *raw, const struct rm_addr *a,
                    int (*fn)(void *arg, const char *domain), void *arg)
{
	const char *l = a->a_local, *bang, *p, *q;
	int rc;

	if (a->a_flags & RM_ADDR_NULL)
		return 0;
	if ((a->a_flags & RM_ADDR_SOURCE_ROUTE) && raw != NULL &&
	    (rc = each_hop(raw, fn, arg)) != 0)
		return rc;
	if (a->a_flags & RM_ADDR_ROUTING) {
		/* "h1!h2!rest": each h is a host on the way */
		while ((bang = strchr(l, '!')) != NULL) {
			if ((rc = each_name(l, bang, fn, arg)) != 0)
				return rc;
			l = bang + 1;
		}
		/* "user%d1%d2" or "user@d1": each d after the user */
		for (p = l + strcspn(l, "%@"); *p != '\0'; p = q) {
			q = p + 1 + strcspn(p + 1, "%@");
			if ((rc = each_name(p + 1, q, fn, arg)) != 0)
				return rc;
		}
	}
	if (a->a_domain[0] != '\0')
		return fn(arg, a->a_domain);
	return 0;
}

bool
rm_addr_is_postmaster(const struct rm_addr *a)
{
	static const char pm[] = "postmaster";
	size_t i;

	if (a == NULL || (a->a_flags & (RM_ADDR_ROUTING | RM_ADDR_NULL)))
		return false;
	/* ASCII only: no locale may fold an 8-bit byte into a letter */
	for (i = 0; i < sizeof(pm); i++)
		if (ascii_lower(a->a_local[i]) != pm[i])
			return false;
	return true;
}

const char *
rm_addr_unbracket(const char *a, char *buf, size_t len)
{
	size_t n;

	if (a == NULL || a[0] != '<')
		return a;
	n = strlen(a);
	if (n < 2 || a[n - 1] != '>' || n - 2 >= len)
		return a;
	memcpy(buf, a + 1, n - 2);
	buf[n - 2] = '\0';
	return buf;
}
