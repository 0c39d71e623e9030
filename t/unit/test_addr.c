/*
 * test_addr.c - envelope address parsing: ordinary forms, every routing
 * trick the relay check depends on, and hostile input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/addr.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define NUL  RM_ADDR_NULL
#define SRC  RM_ADDR_SOURCE_ROUTE
#define RTG  RM_ADDR_ROUTING
#define QTD  RM_ADDR_QUOTED
#define LIT  RM_ADDR_LITERAL
#define UNQ  RM_ADDR_UNQUALIFIED
#define TDOT RM_ADDR_TRAILING_DOT
#define LONG RM_ADDR_LONG_LOCAL
#define ODD  RM_ADDR_LITERAL_ODD

struct ok_case {
	const char *in;
	const char *local, *domain;
	unsigned flags;
	const char *literal; /* rm_ip_format() of a_literal, if LIT */
	int postmaster;
};

static const struct ok_case ok_cases[] = {
    {"user@example.com", "user", "example.com", 0, NULL, 0},
    {"<user@example.com>", "user", "example.com", 0, NULL, 0},
    {"USER@EXAMPLE.COM", "USER", "example.com", 0, NULL, 0},
    {"USER@EXAMPLE.COM.", "USER", "example.com", TDOT, NULL, 0},
    {"<User.Name+tag@Sub.Example.COM.>", "User.Name+tag", "sub.example.com",
     TDOT, NULL, 0},
    {"o'brien@example.com", "o'brien", "example.com", 0, NULL, 0},
    {"a!#$&'*+-/=?^_`{|}~@example.com", "a!#$&'*+-/=?^_`{|}~", "example.com",
     RTG, NULL, 0},
    {"x@a", "x", "a", 0, NULL, 0},
    {"x@my_host.example", "x", "my_host.example", 0, NULL, 0},
    {"x@xn--bcher-kva.example", "x", "xn--bcher-kva.example", 0, NULL, 0},
    {"1@2.3", "1", "2.3", 0, NULL, 0},
    /* the null sender */
    {"<>", "", "", NUL, NULL, 0},
    {"", "", "", NUL, NULL, 0},
    /* unqualified */
    {"postmaster", "postmaster", "", UNQ, NULL, 1},
    {"<PostMaster>", "PostMaster", "", UNQ, NULL, 1},
    {"user", "user", "", UNQ, NULL, 0},
    {"user%other.example", "user%other.example", "", UNQ | RTG, NULL, 0},
    {"remote.test!user", "remote.test!user", "", UNQ | RTG, NULL, 0},
    {"\"a b\"", "a b", "", UNQ | QTD, NULL, 0},
    /* postmaster in every case, only without routing */
    {"Postmaster@example.com", "Postmaster", "example.com", 0, NULL, 1},
    {"POSTMASTER@example.com", "POSTMASTER", "example.com", 0, NULL, 1},
    {"\"postmaster\"@example.com", "postmaster", "example.com", QTD, NULL, 1},
    {"postmaster%remote.test@example.com", "postmaster%remote.test",
     "example.com", RTG, NULL, 0},
    {"\"postmaster@remote.test\"@example.com", "postmaster@remote.test",
     "example.com", QTD | RTG, NULL, 0},
    {"postmasterx@example.com", "postmasterx", "example.com", 0, NULL, 0},
    {"postmaste@example.com", "postmaste", "example.com", 0, NULL, 0},
    /* routing tricks */
    {"user%remote.example@example.com", "user%remote.example", "example.com",
     RTG, NULL, 0},
    {"remote!user@example.com", "remote!user", "example.com", RTG, NULL, 0},
    {"\"user@remote\"@example.com", "user@remote", "example.com", QTD | RTG,
     NULL, 0},
    {"\"user%remote\"@example.com", "user%remote", "example.com", QTD | RTG,
     NULL, 0},
    {"\"remote!user\"@example.com", "remote!user", "example.com", QTD | RTG,
     NULL, 0},
    {"\"a@b\"@example.com", "a@b", "example.com", QTD | RTG, NULL, 0},
    {"user@remote@example.com", "user@remote", "example.com", RTG, NULL, 0},
    {"user@remote.test@example.com", "user@remote.test", "example.com", RTG,
     NULL, 0},
    {"a@b@c@example.com", "a@b@c", "example.com", RTG, NULL, 0},
    {"\"a\\@b\"@example.com", "a@b", "example.com", QTD | RTG, NULL, 0},
    {"\"x\"@remote@example.com", "x@remote", "example.com", QTD | RTG, NULL, 0},
    /* source routes */
    {"@example.com:user@remote.example", "user", "remote.example", SRC, NULL,
     0},
    {"<@example.com:user@remote.example>", "user", "remote.example", SRC, NULL,
     0},
    {"<@a.example,@b.example:user@d.example>", "user", "d.example", SRC, NULL,
     0},
    {"<@[192.0.2.1]:user@d.example>", "user", "d.example", SRC, NULL, 0},
    {"<@[IPv6:2001:db8::1]:user@d.example>", "user", "d.example", SRC, NULL, 0},
    {"<@a.example:user%x.example@d.example>", "user%x.example", "d.example",
     SRC | RTG, NULL, 0},
    {"<@a.example:postmaster>", "postmaster", "", SRC | UNQ, NULL, 1},
    {"<@a.example:\"u@v\"@d.example>", "u@v", "d.example", SRC | QTD | RTG,
     NULL, 0},
    /* quoting */
    {"\"john smith\"@example.com", "john smith", "example.com", QTD, NULL, 0},
    {"\"\"@example.com", "", "example.com", QTD, NULL, 0},
    {"\"a\\\"b\"@example.com", "a\"b", "example.com", QTD, NULL, 0},
    {"\"a\\\\b\"@example.com", "a\\b", "example.com", QTD, NULL, 0},
    {"\"a\\xb\"@example.com", "axb", "example.com", QTD, NULL, 0},
    {"\"a\".\"b\"@example.com", "a.b", "example.com", QTD, NULL, 0},
    {"\"a<>(),;:[]b\"@example.com", "a<>(),;:[]b", "example.com", QTD, NULL, 0},
    {"<\"a>\"@example.com>", "a>", "example.com", QTD, NULL, 0},
    /* address literals */
    {"user@[127.0.0.1]", "user", "[127.0.0.1]", LIT, "127.0.0.1", 0},
    {"user@[192.0.2.1]", "user", "[192.0.2.1]", LIT, "192.0.2.1", 0},
    {"user@[IPv6:::1]", "user", "[ipv6:::1]", LIT, "::1", 0},
    {"user@[IPv6:2001:DB8::1]", "user", "[ipv6:2001:db8::1]", LIT,
     "2001:db8::1", 0},
    {"user@[ipv6:::ffff:192.0.2.1]", "user", "[ipv6:::ffff:192.0.2.1]",
     LIT | ODD, "192.0.2.1", 0},
    /* IPv4 as IPv6, or IPv6 untagged: not what MTAs deliver locally */
    {"user@[::ffff:192.0.2.1]", "user", "[::ffff:192.0.2.1]", LIT | ODD,
     "192.0.2.1", 0},
    {"user@[0:0:0:0:0:ffff:192.0.2.1]", "user", "[0:0:0:0:0:ffff:192.0.2.1]",
     LIT | ODD, "192.0.2.1", 0},
    {"user@[::FFFF:C000:201]", "user", "[::ffff:c000:201]", LIT | ODD,
     "192.0.2.1", 0},
    {"user@[IPv6:::ffff:c000:201]", "user", "[ipv6:::ffff:c000:201]", LIT | ODD,
     "192.0.2.1", 0},
    {"user@[2001:db8::1]", "user", "[2001:db8::1]", LIT | ODD, "2001:db8::1",
     0},
    {"user@[::1]", "user", "[::1]", LIT | ODD, "::1", 0},
    {"<Postmaster@[192.0.2.1]>", "Postmaster", "[192.0.2.1]", LIT, "192.0.2.1",
     1},
    {"a%b@[192.0.2.1]", "a%b", "[192.0.2.1]", LIT | RTG, "192.0.2.1", 0},
    /* 8-bit bytes are kept as they are, and are not lower-cased */
    {"\xc3\xa9t\xc3\xa9@exampl\xc3\xa9.com", "\xc3\xa9t\xc3\xa9",
     "exampl\xc3\xa9.com", 0, NULL, 0},
    {"\xff@\xff", "\xff", "\xff", 0, NULL, 0},
    {"U\xc3\x89@\xc3\x89XAMPLE.COM", "U\xc3\x89", "\xc3\x89xample.com", 0, NULL,
     0},
    {"\"\xe2\x80\x8b\"@example.com", "\xe2\x80\x8b", "example.com", QTD, NULL,
     0},
    /* local parts are not our business beyond routing characters */
    {"a..b@example.com", "a..b", "example.com", 0, NULL, 0},
    {".a.@example.com", ".a.", "example.com", 0, NULL, 0},
};

struct bad_case {
	const char *in;
	const char *err; /* substring of the reason */
};

static const struct bad_case bad_cases[] = {
    /* brackets */
    {"<", "angle"},
    {">", "angle"},
    {"<<>>", "local part"},
    {"<<>", "local part"},
    {"<>>", "local part"},
    {"<user@example.com", "angle"},
    {"user@example.com>", "angle"},
    {"<<user@example.com>>", "local part"},
    {"<user@example.com> ", "angle"},
    {" <user@example.com>", "angle"},
    {"<user>@example.com", "angle"},
    /* quotes */
    {"\"user@example.com", "quotes"},
    {"\"user\"\"@example.com", "quotes"},
    {"user\"@example.com", "quotes"},
    {"\"a\\\"@example.com", "quotes"},
    {"\"abc\\", "quotes"},
    {"\"", "quotes"},
    {"user@\"example.com\"", "domain"},
    /* empty pieces */
    {"@", "empty"},
    {"@example.com", "empty local part"},
    {"<@example.com>", "empty local part"},
    {"user@", "empty domain"},
    {"<user@>", "empty domain"},
    {"user@.", "empty label"},
    {"user@..", "empty label"},
    {"user@a..b", "empty label"},
    {"user@.a", "empty label"},
    {"user@a.b..", "empty label"},
    {"user@example.com..", "empty label"},
    /* spaces and control characters */
    {"user @example.com", "space"},
    {"us er@example.com", "space"},
    {"user@ example.com", "space"},
    {"user@exa mple.com", "space"},
    {" ", "space"},
    {"user\t@example.com", "control"},
    {"\"us\ter\"@example.com", "control"},
    {"user@example.com\r\n", "control"},
    {"user@example.com\nRCPT TO:<victim@remote.test>", "control"},
    {"user\x7f@example.com", "control"},
    {"user@exam\x01ple.com", "control"},
    {"\x1b[31m@example.com", "control"},
    /* specials */
    {"us(er)@example.com", "local part"},
    {"a,b@example.com", "local part"},
    {"a;b@example.com", "local part"},
    {"a:b@example.com", "local part"},
    {"a\\@b@example.com", "local part"},
    {"user\\@example.com", "local part"},
    {"[user]@example.com", "local part"},
    {"user@exa%mple.com", "domain"},
    {"user@exa!mple.com", "domain"},
    {"user@exa:mple.com", "domain"},
    {"user@example.com:25", "domain"},
    {"user@exa/mple.com", "domain"},
    {"user@example.com,other@remote.test", "local part"},
    /* address literals */
    {"user@[127.1]", "literal"},
    {"user@[300.1.1.1]", "literal"},
    {"user@[foo]", "literal"},
    {"user@[]", "literal"},
    {"user@[010.0.0.1]", "literal"},
    {"user@[2130706433]", "literal"},
    {"user@[IPv6:192.0.2.1]", "literal"},
    {"user@[ 192.0.2.1]", "literal"},
    {"user@[192.0.2.1", "bracket"},
    {"user@192.0.2.1]", "domain"},
    {"user@[192.0.2.1]]", "bracket"},
    {"user@[[192.0.2.1]]", "bracket"},
    {"user@[192.0.2.1].", "bracket"},
    {"user@[192.0.2.1].example.com", "bracket"},
    {"user@example.[192.0.2.1]", "domain"},
    {"user@[", "bracket"},
    /* source routes */
    {"@example.com:", "no address"},
    {"<@example.com:>", "no address"},
    {"@:user@example.com", "empty domain"},
    {"@a..b:user@example.com", "empty label"},
    {"@a.example@b.example:user@d.example", "domain"},
    {"@a.example,b.example:user@d.example", "source route"},
    {"@a.example,:user@d.example", "source route"},
    {"@a.example:@b.example:user@d.example", "local part"},
    {"@[127.1]:user@d.example", "literal"},
    {"@example.com,@example.org", "empty local part"},
};

static void
test_ok(void)
{
	struct rm_addr a;
	char err[128], lit[64];
	size_t i;
	int r;

	for (i = 0; i < NELEM(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];

		memset(&a, 0x5a, sizeof(a));
		err[0] = '\0';
		r = rm_addr_parse(c->in, &a, err, sizeof(err));
		CHECK(r == 0, "\"%s\" should parse: %s", c->in, err);
		if (r != 0)
			continue;
		CHECK_STR(a.a_local, c->local);
		CHECK_STR(a.a_domain, c->domain);
		CHECK(a.a_flags == c->flags, "\"%s\": flags %#x want %#x",
		      c->in, a.a_flags, c->flags);
		if (c->literal != NULL)
			CHECK_STR(rm_ip_format(&a.a_literal, lit, sizeof(lit)),
			          c->literal);
		CHECK(rm_addr_is_postmaster(&a) == (c->postmaster != 0),
		      "\"%s\": postmaster %d", c->in, c->postmaster);
	}
}

static int
all_zero(const struct rm_addr *a)
{
	const unsigned char *p = (const unsigned char *)a;
	size_t i;

	for (i = 0; i < sizeof(*a); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
test_bad(void)
{
	struct rm_addr a;
	char err[128];
	size_t i;

	for (i = 0; i < NELEM(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		memset(&a, 0x5a, sizeof(a));
		err[0] = '\0';
		CHECK(rm_addr_parse(c->in, &a, err, sizeof(err)) == -1,
		      "\"%s\" should fail", c->in);
		CHECK(all_zero(&a), "\"%s\": *out zeroed", c->in);
		CHECK(strstr(err, c->err) != NULL,
		      "\"%s\": error \"%s\" lacks \"%s\"", c->in, err, c->err);
	}
	/* errbuf is optional; a tiny one is still terminated */
	CHECK(rm_addr_parse("<", &a, NULL, 0) == -1, "NULL errbuf");
	CHECK(rm_addr_parse("<", &a, err, 4) == -1, "short errbuf");
	CHECK(strlen(err) == 3, "errbuf truncated: \"%s\"", err);
	CHECK(rm_addr_parse(NULL, &a, err, sizeof(err)) == -1, "NULL input");
	CHECK(all_zero(&a), "NULL input: zeroed");
}

/* fill - a string of n bytes of c in a malloc'd buffer (caller frees). */
static char *
fill(size_t n, char c)
{
	char *s = malloc(n + 1);

	if (s == NULL) {
		perror("malloc");
		exit(2);
	}
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void
test_limits(void)
{
	struct rm_addr a;
	char err[128], buf[1024];
	char *big;
	size_t i;

	/* the local part at and just over its limit */
	big = fill(RM_LOCAL_MAX, 'l');
	snprintf(buf, sizeof(buf), "%s@example.com", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == 0, "local at max");
	CHECK(strlen(a.a_local) == RM_LOCAL_MAX, "local kept whole");
	/* over it: judged by its domain, never equal to a stored address */
	snprintf(buf, sizeof(buf), "l%s@example.com", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == 0, "local over: %s",
	      err);
	CHECK(a.a_flags == LONG, "local over: flags %#x", a.a_flags);
	CHECK(strlen(a.a_local) == RM_LOCAL_MAX, "local over: cut to max");
	CHECK_STR(a.a_domain, "example.com");
	/* routing past the cut still counts */
	big[RM_LOCAL_MAX - 1] = '%';
	snprintf(buf, sizeof(buf), "l%sx@example.com", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == 0, "routed over");
	CHECK(a.a_flags == (LONG | RTG), "routed over: flags %#x", a.a_flags);
	big[RM_LOCAL_MAX - 1] = 'l';
	/* quoting overhead does not count: the limit is on what is stored */
	snprintf(buf, sizeof(buf), "\"%s\"@example.com", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == 0, "quoted at max");
	snprintf(buf, sizeof(buf), "%s", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == 0,
	      "unqualified at max");
	free(big);

	/* the domain at and just over its limit, with and without a dot */
	big = fill(RM_DOMAIN_MAX, 'd');
	for (i = 63; i < RM_DOMAIN_MAX; i += 64)
		big[i] = '.';
	snprintf(buf, sizeof(buf), "u@%s", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == 0,
	      "domain at max: %s", err);
	CHECK(strlen(a.a_domain) == RM_DOMAIN_MAX, "domain kept whole");
	snprintf(buf, sizeof(buf), "u@%s.", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == 0,
	      "domain at max plus trailing dot: %s", err);
	CHECK(a.a_flags == TDOT, "flags %#x", a.a_flags);
	snprintf(buf, sizeof(buf), "u@d%s", big);
	CHECK(rm_addr_parse(buf, &a, err, sizeof(err)) == -1, "domain over");
	CHECK_STR(err, "domain too long");
	free(big);

	/* 64 KiB of all sorts: refused cleanly, never overrun */
	big = fill(65536, 'a');
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == 0, "64K local");
	CHECK(a.a_flags == (UNQ | LONG), "64K local: flags %#x", a.a_flags);
	big[0] = 'u';
	big[1] = '@';
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == -1, "64K domain");
	CHECK_STR(err, "domain too long");
	free(big);

	big = fill(65536, '@');
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == -1, "64K of @");
	free(big);
	big = fill(65536, '"');
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == 0, "64K of quotes");
	CHECK(a.a_flags == (QTD | UNQ) && a.a_local[0] == '\0',
	      "even quotes: an empty quoted word");
	big[65535] = 'x';
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == -1, "odd quotes");
	free(big);
	big = fill(65536, '<');
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == -1, "64K of <");
	free(big);
	big = fill(65536, '\\');
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == -1, "64K of \\");
	big[0] = '"';
	big[65535] = '"';
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == 0,
	      "64K of quoted pairs");
	CHECK(a.a_flags == (UNQ | QTD | LONG), "64K of quoted pairs: %#x",
	      a.a_flags);
	free(big);
	big = fill(65536, '\xff');
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == 0 &&
	          a.a_flags == (UNQ | LONG),
	      "64K of 0xff: a long unqualified local part");
	free(big);

	/* a long source route: every hop checked, the address still found */
	big = fill(65536, 'x');
	for (i = 0; i + 4 < 65536 - 64; i += 4)
		memcpy(big + i, "@h.,", 4);
	snprintf(big + i - 1, 65536 - i, ":user@example.com");
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == 0, "long route: %s",
	      err);
	CHECK(a.a_flags == SRC, "long route flags %#x", a.a_flags);
	CHECK_STR(a.a_domain, "example.com");
	free(big);

	/* a 64 KiB literal */
	big = fill(65536, '1');
	memcpy(big, "u@[", 3);
	big[65535] = ']';
	CHECK(rm_addr_parse(big, &a, err, sizeof(err)) == -1, "64K literal");
	free(big);
}

/* every domain of an address, joined by spaces */
static int
join_cb(void *arg, const char *d)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s%s", n ? " " : "", d);
	return 0;
}

static int
stop_cb(void *arg, const char *d)
{
	return strcmp(d, arg) == 0 ? 7 : 0;
}

/* test_domains - rm_addr_each_domain: every hop an MTA may route to */
static void
test_domains(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"ceo@example.com", "example.com"},
	    {"<CEO@Example.COM.>", "example.com"},
	    {"ceo%example.com@localhost.", "example.com localhost"},
	    {"ceo%Example.COM.@[127.0.0.1]", "example.com [127.0.0.1]"},
	    {"a%b.test%c.test@d.test", "b.test c.test d.test"},
	    {"\"ceo@example.com\"@localhost", "example.com localhost"},
	    {"example.com!ceo@localhost", "example.com localhost"},
	    {"h1!h2!u%h3@d", "h1 h2 h3 d"},
	    {"<@hop1.test,@[192.0.2.1]:ceo@example.com>",
	     "hop1.test [192.0.2.1] example.com"},
	    {"@Hop.Test.:u@d.test", "hop.test d.test"},
	    {"ceo%%@d.test", "d.test"},
	    {"%@d.test", "d.test"},
	    {"ceo!@d.test", "ceo d.test"},
	    {"user", ""},
	    {"user%example.com", "example.com"},
	    {"<>", ""},
	};
	struct rm_addr a;
	char out[512], err[128];
	size_t i;

	for (i = 0; i < NELEM(cases); i++) {
		out[0] = '\0';
		CHECK(rm_addr_parse(cases[i].in, &a, err, sizeof(err)) == 0,
		      "\"%s\" parses: %s", cases[i].in, err);
		CHECK(rm_addr_each_domain(cases[i].in, &a, join_cb, out) == 0,
		      "\"%s\": all visited", cases[i].in);
		CHECK_STR(out, cases[i].want);
	}
	/* the first non-zero answer stops the walk and is returned */
	rm_addr_parse("a%b.test%c.test@d.test", &a, err, sizeof(err));
	CHECK(rm_addr_each_domain("a%b.test%c.test@d.test", &a, stop_cb,
	                          "c.test") == 7,
	      "stops at c.test");
}

/*
 * test_every_byte - every byte value in every position of a plain address:
 * no crash, and any success keeps the invariants the policy relies on.
 */
static void
test_every_byte(void)
{
	static const char base[] = "<ab@cd.ef>";
	struct rm_addr a;
	char buf[sizeof(base)], err[128];
	size_t pos, n = 0, bad = 0;
	int c;

	for (pos = 0; pos < sizeof(base) - 1; pos++) {
		for (c = 1; c < 256; c++) {
			memcpy(buf, base, sizeof(base));
			buf[pos] = (char)c;
			if (rm_addr_parse(buf, &a, err, sizeof(err)) != 0) {
				if (err[0] == '\0')
					bad++;
				continue;
			}
			n++;
			if (strlen(a.a_local) > RM_LOCAL_MAX ||
			    strlen(a.a_domain) > RM_DOMAIN_MAX ||
			    ((a.a_flags & RM_ADDR_ROUTING) == 0 &&
			     strpbrk(a.a_local, "@%!") != NULL) ||
			    strpbrk(a.a_domain, "@%! \t\r\n:,") != NULL)
				bad++;
		}
	}
	CHECK(bad == 0, "%zu byte substitutions broke an invariant", bad);
	CHECK(n > 0, "some substitutions parse");
}

int
main(void)
{
	test_ok();
	test_bad();
	test_limits();
	test_domains();
	test_every_byte();
	return check_done();
}
