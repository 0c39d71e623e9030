/*
 * test_hdraddr.c - the From:/Sender: address-list parser against RFC 5322
 * forms (appendix A among them), the obsolete ones MUAs write, and
 * hostile ones: an address in a display name, comment or encoded word is
 * never the author.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/hdraddr.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct ok_case {
	const char *in;
	const char *want; /* the addresses joined by ' ' */
};

static const struct ok_case ok_cases[] = {
    {"user@example.com", "user@example.com"},
    {"User@EXAMPLE.Com", "User@example.com"},
    {"<user@example.com>", "user@example.com"},
    {"John Doe <jdoe@machine.example>", "jdoe@machine.example"},
    {"\"Joe Q. Public\" <john.q.public@example.com>",
     "john.q.public@example.com"},
    {"Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
     "mary@x.test jdoe@example.org one@y.test"},
    {"<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
     "boss@nil.test sysservices@example.net"},
    {"A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
     "c@a.test joe@where.test jdoe@one.test"},
    {"Undisclosed recipients:;", ""},
    {"", ""},
    {"  \t ", ""},
    /* comments anywhere, nested, with addresses in them */
    {"Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
     "pete@silly.test"},
    {"(bob@x.com) eve@y.com", "eve@y.com"},
    {"eve@y.com (bob@x.com)", "eve@y.com"},
    {"(a (nested (bob@x.com)) comment) <eve@y.com>", "eve@y.com"},
    {"Eve <eve@y.com(<bob@x.com>)>", "eve@y.com"},
    /* folding, CRLF and bare LF */
    {"John\r\n Doe\r\n\t<jdoe@machine.example>", "jdoe@machine.example"},
    {"John\n Doe <jdoe@machine.example>", "jdoe@machine.example"},
    {"a@b.test,\r\n c@d.test", "a@b.test c@d.test"},
    /* a display name is never the address */
    {"\"bob@x.com\" <eve@y.com>", "eve@y.com"},
    {"\"bob@x.com <bob@x.com>\" <eve@y.com>", "eve@y.com"},
    {"=?utf-8?q?bob@x.com?= <eve@y.com>", "eve@y.com"},
    {"=?UTF-8?B?Ym9iQHguY29t?= <eve@y.com>", "eve@y.com"},
    {"=?utf-8?q?J=C3=BCrgen?= M <juergen@example.com>", "juergen@example.com"},
    {"J\xc3\xbcrgen <juergen@example.com>", "juergen@example.com"},
    /* quoted local parts that need no quotes */
    {"\"john\"@example.com", "john@example.com"},
    {"\"john.doe\"@example.com", "john.doe@example.com"},
    /* obsolete forms */
    {"Joe Q. Public <john.q.public@example.com>", "john.q.public@example.com"},
    {"a@b.test, , c@d.test,", "a@b.test c@d.test"},
    {", a@b.test", "a@b.test"},
    {"<@route.test,@other.test:user@example.com>", "user@example.com"},
    {"john . doe @ example . com", "john.doe@example.com"},
    {"user@[192.0.2.1]", "user@[192.0.2.1]"},
    {"user@[IPv6:2001:DB8::1]", "user@[ipv6:2001:db8::1]"},
};

struct bad_case {
	const char *in;
	const char *why; /* a substring of the error */
};

static const struct bad_case bad_cases[] = {
    /* an unquoted '@' in a display name: not RFC 5322, and shown as bob */
    {"bob@x.com <eve@y.com>", "display name"},
    {"bob@x.com eve@y.com", "display name"},
    /* an encoded word is not an address */
    {"=?utf-8?q?bob?=@x.com", "bad address"},
    {"=?utf-8?q?bob@x.com?=", "without an address"},
    /* unterminated things */
    {"Eve <eve@y.com", "'>'"},
    {"\"Eve <eve@y.com>", "quoted"},
    {"(Eve <eve@y.com>", "comment"},
    {"Team: eve@y.com", "';'"},
    {"Team: In: eve@y.com;;", "group in a group"},
    {"<>", "empty"},
    {"Eve <>", "empty"},
    {"Eve", "without an address"},
    {"eve", "without"},
    {"eve@", "bad address"},
    {"@y.com", "bad address"},
    {"eve@y..com", "bad address"},
    {"eve@y.com.", "bad address"},
    {"eve..x@y.com", "bad address"},
    {"eve@y!z.com", "host name"},
    {"\"e ve\"@y.com", "needs its quotes"},
    {"\"bob@x.com\"@y.com", "needs its quotes"},
    {"<eve@y.com> junk", "junk"},
    {"eve@y.com\nBcc: bob@x.com", "fold"},
    {"eve@y.com\r\nX: y", "fold"},
    {"eve@y.com\x01", "control"},
    {"\"a\x01\" <eve@y.com>", "control"},
    {"eve@[1.2.3.4", "literal"},
    {"eve@y.com <bob@x.com>", "display name"},
};

static void
join(const struct rm_hdraddrs *h, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < h->h_n; i++)
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
		                      i ? " " : "", h->h_addr[i]);
}

static void
test_ok(void)
{
	struct rm_hdraddrs h;
	char err[128], got[2048];
	size_t i;
	int r;

	for (i = 0; i < NELEM(ok_cases); i++) {
		h.h_n = 0;
		err[0] = '\0';
		r = rm_hdraddr_parse(ok_cases[i].in, &h, err, sizeof(err));
		CHECK(r == 0, "\"%s\": %s", ok_cases[i].in, err);
		join(&h, got, sizeof(got));
		CHECK(strcmp(got, ok_cases[i].want) == 0,
		      "\"%s\": got \"%s\" want \"%s\"", ok_cases[i].in, got,
		      ok_cases[i].want);
	}
}

static void
test_bad(void)
{
	struct rm_hdraddrs h;
	char err[128];
	size_t i;
	int r;

	for (i = 0; i < NELEM(bad_cases); i++) {
		h.h_n = 0;
		err[0] = '\0';
		r = rm_hdraddr_parse(bad_cases[i].in, &h, err, sizeof(err));
		CHECK(r == -1, "\"%s\" parsed", bad_cases[i].in);
		CHECK(strstr(err, bad_cases[i].why) != NULL,
		      "\"%s\": error \"%s\" lacks \"%s\"", bad_cases[i].in, err,
		      bad_cases[i].why);
	}
}

/* bounds: addresses, the value, a part */
static void
test_limits(void)
{
	struct rm_hdraddrs h;
	static char buf[RM_HDR_VALUE_MAX + 64];
	char err[128];
	size_t i, n = 0;

	for (i = 0; i < RM_HDR_ADDRS_MAX; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sa%zu@b.test",
		                      i ? "," : "", i);
	h.h_n = 0;
	CHECK(rm_hdraddr_parse(buf, &h, err, sizeof(err)) == 0, "%s", err);
	CHECK(h.h_n == RM_HDR_ADDRS_MAX, "%zu", h.h_n);
	snprintf(buf + n, sizeof(buf) - n, ",one@more.test");
	h.h_n = 0;
	CHECK(rm_hdraddr_parse(buf, &h, err, sizeof(err)) == -1, "too many");
	CHECK(strstr(err, "too many") != NULL, "%s", err);
	/* appending across two fields counts both */
	h.h_n = RM_HDR_ADDRS_MAX - 1;
	CHECK(rm_hdraddr_parse("a@b.test, c@d.test", &h, err, sizeof(err)) ==
	          -1,
	      "append");
	memset(buf, ' ', RM_HDR_VALUE_MAX + 1);
	memcpy(buf, "a@b.test", 8);
	buf[RM_HDR_VALUE_MAX + 1] = '\0';
	h.h_n = 0;
	CHECK(rm_hdraddr_parse(buf, &h, err, sizeof(err)) == -1, "long value");
	memset(buf, 'a', RM_LOCAL_MAX + 1);
	snprintf(buf + RM_LOCAL_MAX + 1, 32, "@b.test");
	h.h_n = 0;
	CHECK(rm_hdraddr_parse(buf, &h, err, sizeof(err)) == -1, "long local");
	memset(buf, 'a', RM_LOCAL_MAX);
	snprintf(buf + RM_LOCAL_MAX, 32, "@b.test");
	h.h_n = 0;
	CHECK(rm_hdraddr_parse(buf, &h, err, sizeof(err)) == 0, "%s", err);
}

/* every byte in every position: no crash, and the invariants hold */
static void
test_every_byte(void)
{
	static const char *const tpl[] = {"X<a@b.test>", "a@b.tXst",
	                                  "\"X\"<a@b>", "(X)a@b",
	                                  "=?u?q?X?= <a@b>"};
	struct rm_hdraddrs h;
	char in[64], *p;
	size_t t, i, j;
	int c;

	for (t = 0; t < NELEM(tpl); t++)
		for (c = 1; c < 256; c++) {
			snprintf(in, sizeof(in), "%s", tpl[t]);
			*strchr(in, 'X') = (char)c;
			h.h_n = 0;
			if (rm_hdraddr_parse(in, &h, NULL, 0) != 0)
				continue;
			for (i = 0; i < h.h_n; i++) {
				p = h.h_addr[i];
				CHECK(strchr(p, '@') == strrchr(p, '@') &&
				          strchr(p, '@') != NULL,
				      "%s -> %s", in, p);
				for (j = 0; p[j] != '\0'; j++)
					CHECK((unsigned char)p[j] > 0x20 &&
					          p[j] != 0x7f,
					      "%s -> %s", in, p);
			}
		}
}

int
main(void)
{
	test_ok();
	test_bad();
	test_limits();
	test_every_byte();
	return check_done();
}
