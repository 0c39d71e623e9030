/*
 * hdraddr.c - the addr-specs of an RFC 5322 address-list (From:, Sender:).
 *
 * A lexer (CFWS and folding skipped, quoted strings, domain literals,
 * encoded words kept whole) under a recursive-descent parser of
 * address-list, mailbox, group, name-addr and addr-spec, with the
 * obsolete forms MUAs still write (empty list elements, obs-route,
 * obs-phrase with dots, CFWS around the dots of a local part).
 *
 * What is refused, on purpose: an '@' outside quotes before an angle
 * address ("bob@x.com <eve@y.com>": not RFC 5322, and a reader shows it
 * as bob's), a local part that would need quoting ("a b"@x), a domain
 * that is not a host name or a literal, a bare line feed that is not a
 * fold (a header injection), unterminated quotes, comments, angles or
 * groups.  Text in a display name, comment or encoded word is never an
 * address, whatever it looks like.
 */
#include <stdio.h>
#include <string.h>

#include "relaymilter/hdraddr.h"

enum tok {
	T_END,
	T_ATOM,  /* atext run */
	T_QSTR,  /* "..." with the quotes */
	T_EWORD, /* =?charset?enc?text?= */
	T_DLIT,  /* [...] with the brackets */
	T_SPEC,  /* one of < > @ , : ; . */
	T_ERR,
};

struct lex {
	const char *p;
	const char *err;
	/* the current token */
	enum tok t;
	const char *s;
	size_t n;
};

static int
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80 ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* skip_cfws - white space, folds and (nested) comments; -1 on error */
static int
skip_cfws(struct lex *l)
{
	unsigned depth = 0;
	const char *p = l->p;

	for (;;) {
		unsigned char c = (unsigned char)*p;

		if (c == '\0') {
			if (depth > 0) {
				l->err = "unterminated comment";
				return -1;
			}
			break;
		}
		if (c == '\r' || c == '\n') {
			/* a fold: a line break then white space */
			while (*p == '\r' || *p == '\n')
				p++;
			if (*p != ' ' && *p != '\t' && *p != '\0') {
				l->err = "a line break that is not a fold";
				return -1;
			}
			continue;
		}
		if (depth > 0) {
			if (c == '\\' && p[1] != '\0')
				p++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			else if (is_ctl(c) && c != '\t') {
				l->err = "a control character in a comment";
				return -1;
			}
			p++;
			continue;
		}
		if (c == ' ' || c == '\t')
			p++;
		else if (c == '(') {
			depth++;
			p++;
		} else
			break;
	}
	l->p = p;
	return 0;
}

/* eword_len - the length of an RFC 2047 encoded word at p, or 0 */
static size_t
eword_len(const char *p)
{
	const char *q = p + 2;

	if (p[0] != '=' || p[1] != '?')
		return 0;
	while (*q != '\0' && *q != '?' && *q != ' ' &&
	       !is_ctl((unsigned char)*q))
		q++;
	if (q == p + 2 || q[0] != '?' || q[1] == '\0' ||
	    strchr("qQbB", q[1]) == NULL || q[2] != '?')
		return 0;
	for (q += 3; *q != '\0' && *q != '?'; q++)
		if (*q == ' ' || is_ctl((unsigned char)*q))
			return 0;
	return q[0] == '?' && q[1] == '=' ? (size_t)(q + 2 - p) : 0;
}

/* next - the next token into l */
static enum tok
next(struct lex *l)
{
	const char *p;
	size_t n;

	if (skip_cfws(l) < 0)
		return l->t = T_ERR;
	p = l->s = l->p;
	if (*p == '\0')
		return l->t = T_END;
	if ((n = eword_len(p)) > 0) {
		l->t = T_EWORD;
	} else if (*p == '"') {
		for (n = 1; p[n] != '"'; n++) {
			if (p[n] == '\\' && p[n + 1] != '\0')
				n++;
			else if (p[n] == '\0') {
				l->err = "unterminated quoted string";
				return l->t = T_ERR;
			} else if (is_ctl((unsigned char)p[n]) &&
			           strchr("\t\r\n", p[n]) == NULL) {
				l->err = "a control character in quotes";
				return l->t = T_ERR;
			}
		}
		n++;
		l->t = T_QSTR;
	} else if (*p == '[') {
		for (n = 1; p[n] != ']'; n++)
			if (p[n] == '\0' || p[n] == '[' || p[n] == '\\' ||
			    p[n] == ' ' || is_ctl((unsigned char)p[n])) {
				l->err = "a bad domain literal";
				return l->t = T_ERR;
			}
		n++;
		l->t = T_DLIT;
	} else if (strchr("<>@,:;.", *p) != NULL) {
		n = 1;
		l->t = T_SPEC;
	} else if (is_atext((unsigned char)*p)) {
		for (n = 0; is_atext((unsigned char)p[n]); n++)
			;
		l->t = T_ATOM;
	} else {
		l->err = is_ctl((unsigned char)*p) ? "a control character"
		                                   : "an unexpected character";
		return l->t = T_ERR;
	}
	l->n = n;
	l->p = p + n;
	return l->t;
}

static int
is_spec(const struct lex *l, char c)
{
	return l->t == T_SPEC && *l->s == c;
}

/* put - append [s, s+n) to buf at *len, bounded; -1 when it overflows */
static int
put(char *buf, size_t max, size_t *len, const char *s, size_t n)
{
	if (*len + n > max)
		return -1;
	memcpy(buf + *len, s, n);
	*len += n;
	return 0;
}

/* local_word - an atom or quoted string of a local part into buf */
static int
local_word(struct lex *l, char *buf, size_t *len)
{
	size_t i;
	char c;

	if (l->t == T_ATOM)
		return put(buf, RM_LOCAL_MAX, len, l->s, l->n);
	for (i = 1; i + 1 < l->n; i++) {
		c = l->s[i];
		if (c == '\\')
			c = l->s[++i];
		/* only what needs no quotes: the address stays one token */
		if (!is_atext((unsigned char)c) && c != '.') {
			l->err = "a quoted local part that needs its quotes";
			return -1;
		}
		if (put(buf, RM_LOCAL_MAX, len, &c, 1) < 0)
			return -1;
	}
	return 0;
}

/* domain_atom - a host name label: letters, digits, '-', '_', UTF-8 */
static int
domain_atom(struct lex *l, char *buf, size_t *len)
{
	size_t i;
	char c;

	for (i = 0; i < l->n; i++) {
		c = l->s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           c == '-' || c == '_' || (unsigned char)c >= 0x80)) {
			l->err = "a domain that is not a host name";
			return -1;
		}
		if (put(buf, RM_DOMAIN_MAX, len, &c, 1) < 0)
			return -1;
	}
	return 0;
}

/*
 * addr_spec - local-part "@" domain, the lexer on its first token; the
 * token after it is current on return.  Appended to out.
 */
static int
addr_spec(struct lex *l, struct rm_hdraddrs *out)
{
	char local[RM_LOCAL_MAX + 1], dom[RM_DOMAIN_MAX + 1];
	size_t ll = 0, dl = 0, i;
	struct rm_addr a;

	for (;;) {
		if ((l->t != T_ATOM && l->t != T_QSTR) ||
		    local_word(l, local, &ll) < 0)
			goto bad;
		if (next(l) == T_ERR)
			return -1;
		if (!is_spec(l, '.'))
			break;
		if (put(local, RM_LOCAL_MAX, &ll, ".", 1) < 0 ||
		    next(l) == T_ERR)
			goto bad;
	}
	if (!is_spec(l, '@') || ll == 0) {
		l->err = l->err ? l->err : "an address without '@domain'";
		return -1;
	}
	if (next(l) == T_DLIT) {
		if (put(dom, RM_DOMAIN_MAX, &dl, l->s, l->n) < 0)
			goto bad;
		for (i = 0; i < dl; i++)
			if (dom[i] >= 'A' && dom[i] <= 'Z')
				dom[i] = (char)(dom[i] - 'A' + 'a');
		next(l);
	} else
		for (;;) {
			if (l->t != T_ATOM || domain_atom(l, dom, &dl) < 0)
				goto bad;
			if (next(l) == T_ERR)
				return -1;
			if (!is_spec(l, '.'))
				break;
			if (put(dom, RM_DOMAIN_MAX, &dl, ".", 1) < 0 ||
			    next(l) == T_ERR)
				goto bad;
		}
	if (l->t == T_ERR)
		return -1;
	if (out->h_n >= RM_HDR_ADDRS_MAX) {
		l->err = "too many addresses";
		return -1;
	}
	/* what the policy reads back must be what was written */
	snprintf(out->h_addr[out->h_n], RM_HDR_ADDR_MAX, "%.*s@%.*s", (int)ll,
	         local, (int)dl, dom);
	if (rm_addr_parse(out->h_addr[out->h_n], &a, NULL, 0) != 0 ||
	    strlen(a.a_local) != ll || memcmp(a.a_local, local, ll) != 0 ||
	    strlen(a.a_domain) != dl || memcmp(a.a_domain, dom, dl) != 0) {
		l->err = "not an address the envelope could carry";
		return -1;
	}
	out->h_n++;
	return 0;
bad:
	if (l->err == NULL)
		l->err = ll > RM_LOCAL_MAX - 1 || dl > RM_DOMAIN_MAX - 1
		             ? "an address too long"
		             : "a bad address";
	return -1;
}

/* angle_addr - "<" [obs-route] addr-spec ">", the lexer on "<" */
static int
angle_addr(struct lex *l, struct rm_hdraddrs *out)
{
	next(l);
	if (is_spec(l, '@')) {
		/* obs-route: "@a,@b:" -- the hops are not the author */
		while (l->t != T_END && l->t != T_ERR && !is_spec(l, ':') &&
		       !is_spec(l, '>'))
			next(l);
		if (!is_spec(l, ':')) {
			l->err = l->err ? l->err : "a bad source route";
			return -1;
		}
		next(l);
	}
	if (is_spec(l, '>')) {
		l->err = "an empty angle address";
		return -1;
	}
	if (l->t == T_ERR || addr_spec(l, out) < 0)
		return -1;
	if (!is_spec(l, '>')) {
		l->err = l->err ? l->err : "a missing '>'";
		return -1;
	}
	next(l);
	return 0;
}

/*
 * address - a mailbox, or (when groups are allowed) a group; the lexer on
 * its first token, on the token after it on return.
 */
static int
address(struct lex *l, struct rm_hdraddrs *out, int group_ok)
{
	struct lex start = *l;
	size_t words = 0;

	/* a display name (phrase, obs-phrase), or the local part */
	while (l->t == T_ATOM || l->t == T_QSTR || l->t == T_EWORD ||
	       (words > 0 && is_spec(l, '.'))) {
		words++;
		next(l);
	}
	if (l->t == T_ERR)
		return -1;
	if (is_spec(l, '<'))
		return angle_addr(l, out);
	if (is_spec(l, ':') && words > 0) {
		if (!group_ok) {
			l->err = "a group in a group";
			return -1;
		}
		next(l);
		for (;;) {
			if (is_spec(l, ';')) {
				next(l);
				return 0;
			}
			if (is_spec(l, ',')) {
				next(l);
				continue;
			}
			if (l->t == T_END || l->t == T_ERR) {
				l->err =
				    l->err ? l->err : "a group without ';'";
				return -1;
			}
			if (address(l, out, 0) < 0)
				return -1;
			if (!is_spec(l, ',') && !is_spec(l, ';')) {
				l->err =
				    l->t == T_END
				        ? "a group without ';'"
				        : "junk after an address in a group";
				return -1;
			}
		}
	}
	if (is_spec(l, '@')) {
		*l = start;
		if (addr_spec(l, out) < 0)
			return -1;
		if (is_spec(l, '<') || l->t == T_ATOM || l->t == T_QSTR ||
		    l->t == T_EWORD) {
			l->err = "an address in an unquoted display name";
			return -1;
		}
		return 0;
	}
	l->err = words > 0 ? "a display name without an address"
	                   : "an unexpected character";
	return -1;
}

int
rm_hdraddr_parse(const char *in, struct rm_hdraddrs *out, char *errbuf,
                 size_t errlen)
{
	struct lex l = {.p = in, .err = NULL};

	if (strlen(in) > RM_HDR_VALUE_MAX) {
		l.err = "the field is too long";
		goto err;
	}
	next(&l);
	for (;;) {
		if (l.t == T_ERR)
			goto err;
		if (l.t == T_END)
			return 0;
		if (is_spec(&l, ',')) { /* obs: empty list elements */
			next(&l);
			continue;
		}
		if (address(&l, out, 1) < 0)
			goto err;
		if (l.t != T_END && !is_spec(&l, ',')) {
			l.err = l.err ? l.err : "junk after an address";
			goto err;
		}
	}
err:
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s",
		         l.err ? l.err : "does not parse");
	return -1;
}
