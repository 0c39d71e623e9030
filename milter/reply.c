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

const char *
rm_reply_format(const struct rm_reply *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s", r->r_code, r->r_xcode, r->r_text);
	return buf;
}
