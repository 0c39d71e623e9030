/*
 * reply.c - parse, validate and format SMTP replies.
 */
#include <stdio.h>
#include <string.h>

#include "relaymilter/reply.h"

const char *
rm_action_name(enum rm_action a)
{
	switch (a) {
	case RM_CONTINUE:
		return "continue";
	case RM_REJECT:
		return "reject";
	case RM_TEMPFAIL:
		return "tempfail";
	}
	return "?";
}

static const char *const var_names[RM_RV__COUNT] = {
    [RM_RV_SENDER] = "sender", [RM_RV_LOGIN] = "login", [RM_RV_HELO] = "helo",
    [RM_RV_CLIENT] = "client", [RM_RV_RCPT] = "rcpt",   [RM_RV_FROM] = "from",
};

/*
 * placeholder - at p, "{name}" of a known variable: return its index and
 * set *len to the length of the placeholder; -1 if it is not "{word}";
 * -2 for an unknown word.
 */
static int
placeholder(const char *p, size_t *len)
{
	size_t n = 1;
	int i;

	if (p[0] != '{')
		return -1;
	while ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_')
		n++;
	if (n == 1 || p[n] != '}')
		return -1;
	*len = n + 1;
	for (i = 0; i < RM_RV__COUNT; i++)
		if (strlen(var_names[i]) == n - 1 &&
		    memcmp(p + 1, var_names[i], n - 1) == 0)
			return i;
	return -2;
}

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * number - parse 1-3 digits without a leading zero (a lone "0" is fine)
 * at *sp, advancing it.  Return the length or -1.
 */
static int
number(const char **sp)
{
	const char *s = *sp;
	int n = 0;

	while (isdig(s[n]) && n < 4)
		n++;
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return -1;
	*sp = s + n;
	return n;
}

int
rm_reply_parse(const char *s, struct rm_reply *out, char *errbuf, size_t errlen)
{
	const char *p, *x;
	size_t tlen, i;

	memset(out, 0, sizeof(*out));
	if (s == NULL || !(s[0] == '4' || s[0] == '5') || !isdig(s[1]) ||
	    !isdig(s[2]) || s[3] != ' ') {
		snprintf(errbuf, errlen,
		         "reply must start with a 4xx or 5xx code and a space, "
		         "as in \"550 5.7.1 text\"");
		return -1;
	}
	memcpy(out->r_code, s, 3);
	x = p = s + 4;
	if (p[0] != s[0] || p[1] != '.') {
		snprintf(
		    errbuf, errlen,
		    "reply needs an enhanced status code (RFC 3463) of class "
		    "%c after the code, as in \"%.3s %c.7.1 text\"",
		    s[0], s, s[0]);
		return -1;
	}
	p += 2;
	if (number(&p) < 0 || *p++ != '.' || number(&p) < 0 || *p != ' ') {
		snprintf(errbuf, errlen,
		         "bad enhanced status code: want class.subject.detail, "
		         "as in \"%c.7.1\"",
		         s[0]);
		return -1;
	}
	if ((size_t)(p - x) >= sizeof(out->r_xcode)) {
		snprintf(errbuf, errlen, "bad enhanced status code");
		return -1;
	}
	memcpy(out->r_xcode, x, (size_t)(p - x));
	p++;
	tlen = strlen(p);
	if (tlen == 0) {
		snprintf(errbuf, errlen, "reply text is empty");
		return -1;
	}
	if (tlen > RM_REPLY_TEXT_MAX) {
		snprintf(errbuf, errlen, "reply text longer than %d bytes",
		         RM_REPLY_TEXT_MAX);
		return -1;
	}
	for (i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c > 0x7e) {
			snprintf(
			    errbuf, errlen,
			    "reply text has a byte 0x%02x at offset %zu: only "
			    "printable US-ASCII is allowed",
			    c, i);
			return -1;
		}
	}
	for (i = 0; i < tlen; i++) {
		size_t plen;
		int v = placeholder(p + i, &plen);

		if (v == -2) {
			snprintf(errbuf, errlen,
			         "unknown placeholder %.*s in the reply text: "
			         "known are {sender} {login} {helo} {client} "
			         "{rcpt} {from}",
			         (int)plen, p + i);
			return -1;
		}
		if (v >= 0)
			out->r_has_vars = 1;
	}
	memcpy(out->r_text, p, tlen + 1);
	out->r_action = s[0] == '5' ? RM_REJECT : RM_TEMPFAIL;
	return 0;
}

char *
rm_reply_escape_text(const struct rm_reply *r, char *dst, size_t len)
{
	const char *s = r->r_text;
	size_t o = 0;

	if (len == 0)
		return dst;
	for (; *s != '\0' && o + 1 < len; s++) {
		if (*s == '%') {
			if (o + 2 >= len)
				break;
			dst[o++] = '%';
		}
		dst[o++] = *s;
	}
	dst[o] = '\0';
	return dst;
}

void
rm_reply_expand(const struct rm_reply *tmpl,
                const char *const vals[RM_RV__COUNT], struct rm_reply *out)
{
	const char *p, *v;
	size_t o = 0, plen, n;
	int var;

	*out = *tmpl;
	if (!tmpl->r_has_vars)
		return;
	out->r_has_vars = 0;
	for (p = tmpl->r_text; *p != '\0' && o < RM_REPLY_TEXT_MAX;) {
		if ((var = placeholder(p, &plen)) < 0) {
			out->r_text[o++] = *p++;
			continue;
		}
		p += plen;
		v = vals[var] != NULL ? vals[var] : "unknown";
		for (n = 0; v[n] != '\0' && o < RM_REPLY_TEXT_MAX; n++) {
			unsigned char c = (unsigned char)v[n];

			if (n == RM_REPLY_VAR_MAX) {
				/* mark the cut, room permitting */
				for (n = 0; n < 3 && o < RM_REPLY_TEXT_MAX; n++)
					out->r_text[o++] = '.';
				break;
			}
			out->r_text[o++] =
			    c >= 0x20 && c <= 0x7e ? (char)c : '?';
		}
	}
	/* only empty values ("{sender}" of <>): a reply needs a text */
	if (o == 0)
		out->r_text[o++] = '-';
	out->r_text[o] = '\0';
}

const char *
rm_reply_format(const struct rm_reply *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", r->r_code, r->r_xcode, r->r_text);
	return buf;
}
