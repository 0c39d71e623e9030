/*
 * test_ip.c - address parsing, CIDR parsing and the ipset, the last
 * checked against a brute-force scan over random nested networks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"
#include "relaymilter/ip.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct parse_case {
	const char *in;
	const char *want; /* rm_ip_format() output, NULL: must fail */
	int v4;
};

static const struct parse_case parse_cases[] = {
    {"192.0.2.1", "192.0.2.1", 1},
    {"0.0.0.0", "0.0.0.0", 1},
    {"255.255.255.255", "255.255.255.255", 1},
    {"10.0.0.0", "10.0.0.0", 1},
    {"[192.0.2.1]", "192.0.2.1", 1},
    {"::1", "::1", 0},
    {"::", "::", 0},
    {"2001:db8::1", "2001:db8::1", 0},
    {"2001:DB8::A", "2001:db8::a", 0},
    {"IPv6:2001:db8::1", "2001:db8::1", 0},
    {"ipv6:2001:db8::1", "2001:db8::1", 0},
    {"IPV6:::1", "::1", 0},
    {"[IPv6:::1]", "::1", 0},
    {"[::1]", "::1", 0},
    {"::ffff:192.0.2.1", "192.0.2.1", 1},
    {"IPv6:::ffff:192.0.2.1", "192.0.2.1", 1},
    {"::ffff:c000:201", "192.0.2.1", 1},
    {"::192.0.2.1", "::192.0.2.1", 0},
    {"2001:db8:0:0:0:0:0:1", "2001:db8::1", 0},
    /* short, octal, hex and out-of-range IPv4 forms */
    {"127.1", NULL, 0},
    {"127.0.1", NULL, 0},
    {"010.0.0.1", NULL, 0},
    {"10.0.0.01", NULL, 0},
    {"10.00.0.1", NULL, 0},
    {"0x7f.0.0.1", NULL, 0},
    {"2130706433", NULL, 0},
    {"256.0.0.1", NULL, 0},
    {"300.1.1.1", NULL, 0},
    {"1.2.3.4.5", NULL, 0},
    {"1.2.3.", NULL, 0},
    {".1.2.3", NULL, 0},
    {"1..2.3", NULL, 0},
    {"-1.2.3.4", NULL, 0},
    {"::ffff:010.0.0.1", NULL, 0},
    /* whitespace, empty, garbage */
    {"", NULL, 0},
    {" ", NULL, 0},
    {" 192.0.2.1", NULL, 0},
    {"192.0.2.1 ", NULL, 0},
    {"192.0.2.1\n", NULL, 0},
    {"192.0.2.1/32", NULL, 0},
    {"localhost", NULL, 0},
    {"unknown", NULL, 0},
    /* brackets and the IPv6: tag */
    {"[]", NULL, 0},
    {"[", NULL, 0},
    {"]", NULL, 0},
    {"[192.0.2.1", NULL, 0},
    {"192.0.2.1]", NULL, 0},
    {"[[192.0.2.1]]", NULL, 0},
    {"IPv6:", NULL, 0},
    {"IPv6:192.0.2.1", NULL, 0},
    {"[IPv6:192.0.2.1]", NULL, 0},
    {"IPv6:IPv6:::1", NULL, 0},
    {"IPv4:192.0.2.1", NULL, 0},
    {"IPv6::1", NULL, 0},
    {"[IPv6:::1", NULL, 0},
    {"IPv6:[::1]", NULL, 0},
    /* IPv6 oddities */
    {":::1", NULL, 0},
    {"1:2:3:4:5:6:7:8:9", NULL, 0},
    {"2001:db8::1::2", NULL, 0},
    {"fe80::1%eth0", NULL, 0},
    {"2001:db8::g", NULL, 0},
    {"12345::1", NULL, 0},
    {"\xff\xfe", NULL, 0},
    {"192.0.2.\xb9", NULL, 0},
};

static void
test_parse(void)
{
	struct rm_ip ip;
	char buf[64];
	size_t i;
	int r;

	for (i = 0; i < NELEM(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];

		memset(&ip, 0xa5, sizeof(ip));
		r = rm_ip_parse(c->in, &ip);
		if (c->want == NULL) {
			CHECK(r == -1, "\"%s\" should not parse", c->in);
			continue;
		}
		CHECK(r == 0, "\"%s\" should parse", c->in);
		if (r != 0)
			continue;
		CHECK_STR(rm_ip_format(&ip, buf, sizeof(buf)), c->want);
		CHECK(rm_ip_is_v4(&ip) == (c->v4 != 0), "\"%s\" v4 %d", c->in,
		      c->v4);
	}
	CHECK(rm_ip_parse(NULL, &ip) == -1, "NULL");
}

static void
test_parse_hostile(void)
{
	static char big[65536 + 1];
	struct rm_ip a, b;
	char buf[64];

	/* a long string must be refused, not copied somewhere too small */
	memset(big, '1', sizeof(big) - 1);
	CHECK(rm_ip_parse(big, &a) == -1, "64 KiB of digits");
	memset(big, ':', sizeof(big) - 1);
	CHECK(rm_ip_parse(big, &a) == -1, "64 KiB of colons");
	big[0] = '[';
	big[sizeof(big) - 2] = ']';
	CHECK(rm_ip_parse(big, &a) == -1, "64 KiB in brackets");
	/* the longest legal text still parses */
	CHECK(
	    rm_ip_parse("[IPv6:0000:0000:0000:0000:0000:ffff:192.168.100.200]",
	                &a) == 0,
	    "longest bracketed form");
	CHECK_STR(rm_ip_format(&a, buf, sizeof(buf)), "192.168.100.200");

	/* v4 and v4-mapped v6 are one address */
	CHECK(rm_ip_parse("192.0.2.1", &a) == 0, "v4");
	CHECK(rm_ip_parse("::ffff:192.0.2.1", &b) == 0, "mapped");
	CHECK(memcmp(&a, &b, sizeof(a)) == 0, "v4 == ::ffff:v4");
	CHECK(a.ip_b[10] == 0xff && a.ip_b[11] == 0xff && a.ip_b[12] == 192 &&
	          a.ip_b[15] == 1,
	      "stored as ::ffff:a.b.c.d");
	/* but the IPv4-compatible form ::a.b.c.d is not IPv4 */
	CHECK(rm_ip_parse("::192.0.2.1", &b) == 0, "compat");
	CHECK(memcmp(&a, &b, sizeof(a)) != 0, "v4 != ::v4");
	CHECK(rm_ip_parse("2001:db8::1", &a) == 0, "v6");
	CHECK(!rm_ip_is_v4(&a), "v6 is not v4");

	/* format into too small a buffer: empty, terminated, no overflow */
	rm_ip_parse("255.255.255.255", &a);
	memset(buf, 'x', sizeof(buf));
	CHECK_STR(rm_ip_format(&a, buf, 8), "");
	CHECK(buf[8] == 'x', "no write past len");
	CHECK_STR(rm_ip_format(&a, buf, 16), "255.255.255.255");
	CHECK_STR(rm_ip_format(&a, buf, 0), "");
}

struct cidr_case {
	const char *in;
	const char *want; /* "addr/len" in the 128-bit space, or NULL */
	const char *err;  /* substring of the error */
};

static const struct cidr_case cidr_cases[] = {
    {"192.0.2.0/24", "192.0.2.0/120", NULL},
    {"192.0.2.1", "192.0.2.1/128", NULL},
    {"192.0.2.1/32", "192.0.2.1/128", NULL},
    {"0.0.0.0/0", "0.0.0.0/96", NULL},
    {"10.0.0.0/8", "10.0.0.0/104", NULL},
    {"128.0.0.0/1", "128.0.0.0/97", NULL},
    {"::/0", "::/0", NULL},
    {"::1", "::1/128", NULL},
    {"::1/128", "::1/128", NULL},
    {"2001:db8::/32", "2001:db8::/32", NULL},
    {"IPv6:2001:db8::/48", "2001:db8::/48", NULL},
    {"[2001:db8::1]", "2001:db8::1/128", NULL},
    {"::ffff:192.0.2.0/120", "192.0.2.0/120", NULL},
    {"::ffff:0:0/96", "0.0.0.0/96", NULL},
    {"8000::/1", "8000::/1", NULL},
    {"192.0.2.1/24", NULL, "host bits set: did you mean 192.0.2.0/24?"},
    {"10.1.2.3/8", NULL, "did you mean 10.0.0.0/8?"},
    {"192.0.2.128/24", NULL, "did you mean 192.0.2.0/24?"},
    {"1.0.0.0/0", NULL, "did you mean 0.0.0.0/0?"},
    {"2001:db8::1/32", NULL, "did you mean 2001:db8::/32?"},
    {"::ffff:192.0.2.1/120", NULL, "did you mean ::ffff:192.0.2.0/120?"},
    {"192.0.2.0/33", NULL, "prefix length"},
    {"2001:db8::/129", NULL, "prefix length"},
    {"192.0.2.0/024", NULL, "prefix length"},
    {"192.0.2.0/00", NULL, "prefix length"},
    {"192.0.2.0/+24", NULL, "prefix length"},
    {"192.0.2.0/-1", NULL, "prefix length"},
    {"192.0.2.0/ 24", NULL, "prefix length"},
    {"192.0.2.0/24 ", NULL, "prefix length"},
    {"192.0.2.0/", NULL, "prefix length"},
    {"192.0.2.0/24/8", NULL, "prefix length"},
    {"192.0.2.0/0x18", NULL, "prefix length"},
    {"192.0.2.0/99999999999999999999", NULL, "prefix length"},
    {"192.0.2.0/4294967320", NULL, "prefix length"},
    {"/24", NULL, "not an IP address"},
    {"", NULL, "not an IP address"},
    {"127.1", NULL, "not an IP address"},
    {"127.1/8", NULL, "not an IP address"},
    {"010.0.0.0/8", NULL, "not an IP address"},
    {" 10.0.0.0/8", NULL, "not an IP address"},
    {"example.com/24", NULL, "not an IP address"},
    {"192.0.2.0\n/24", NULL, "not an IP address"},
};

static void
test_cidr(void)
{
	struct rm_cidr c;
	char err[160], got[80], ab[64];
	size_t i;
	int r;

	for (i = 0; i < NELEM(cidr_cases); i++) {
		const struct cidr_case *t = &cidr_cases[i];

		err[0] = 'x';
		err[1] = '\0';
		r = rm_cidr_parse(t->in, &c, err, sizeof(err));
		if (t->want == NULL) {
			CHECK(r == -1, "\"%s\" should fail", t->in);
			CHECK(strstr(err, t->err) != NULL,
			      "\"%s\": error \"%s\" lacks \"%s\"", t->in, err,
			      t->err);
			CHECK(c.c_len == 0, "\"%s\": zeroed on error", t->in);
			continue;
		}
		CHECK(r == 0, "\"%s\" should parse (%s)", t->in, err);
		snprintf(got, sizeof(got), "%s/%u",
		         rm_ip_format(&c.c_addr, ab, sizeof(ab)), c.c_len);
		CHECK_STR(got, t->want);
	}
	/* errbuf is optional, and a tiny one is still terminated */
	CHECK(rm_cidr_parse("192.0.2.1/24", &c, NULL, 0) == -1, "NULL errbuf");
	CHECK(rm_cidr_parse("192.0.2.1/24", &c, err, 5) == -1, "short errbuf");
	CHECK_STR(err, "host");
	CHECK(rm_cidr_parse(NULL, &c, err, sizeof(err)) == -1, "NULL");
}

struct contains_case {
	const char *net, *ip;
	int in;
};

static const struct contains_case contains_cases[] = {
    {"192.0.2.0/24", "192.0.2.0", 1},
    {"192.0.2.0/24", "192.0.2.255", 1},
    {"192.0.2.0/24", "192.0.1.255", 0},
    {"192.0.2.0/24", "192.0.3.0", 0},
    {"192.0.2.0/24", "::ffff:192.0.2.9", 1},
    {"192.0.2.0/24", "::192.0.2.9", 0},
    {"192.0.2.0/24", "2001:db8::1", 0},
    {"0.0.0.0/0", "255.255.255.255", 1},
    {"0.0.0.0/0", "0.0.0.0", 1},
    {"0.0.0.0/0", "::1", 0},
    {"0.0.0.0/0", "::fffe:1.2.3.4", 0},
    {"::/0", "192.0.2.1", 1},
    {"::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
    {"192.0.2.7", "192.0.2.7", 1},
    {"192.0.2.7", "192.0.2.6", 0},
    {"192.0.2.7", "192.0.2.8", 0},
    {"128.0.0.0/1", "127.255.255.255", 0},
    {"128.0.0.0/1", "128.0.0.0", 1},
    {"10.0.0.0/7", "11.255.255.255", 1},
    {"10.0.0.0/7", "12.0.0.0", 0},
    {"2001:db8::/33", "2001:db8:7fff:ffff::1", 1},
    {"2001:db8::/33", "2001:db8:8000::", 0},
    {"::ffff:0:0/96", "1.2.3.4", 1},
};

static void
test_contains(void)
{
	struct rm_cidr c;
	struct rm_ip ip;
	char err[160];
	size_t i;

	for (i = 0; i < NELEM(contains_cases); i++) {
		const struct contains_case *t = &contains_cases[i];

		if (rm_cidr_parse(t->net, &c, err, sizeof(err)) != 0 ||
		    rm_ip_parse(t->ip, &ip) != 0) {
			CHECK(0, "bad case %s %s", t->net, t->ip);
			continue;
		}
		CHECK(rm_cidr_contains(&c, &ip) == (t->in != 0),
		      "%s in %s: want %d", t->ip, t->net, t->in);
	}
}

static struct rm_ipset *
mkset(const char *const *nets, size_t n)
{
	struct rm_ipset *s = rm_ipset_new();
	struct rm_cidr c;
	char err[160];
	size_t i;

	for (i = 0; i < n; i++) {
		if (rm_cidr_parse(nets[i], &c, err, sizeof(err)) != 0) {
			CHECK(0, "bad network %s: %s", nets[i], err);
			continue;
		}
		/* the tag is the network's own text */
		CHECK(rm_ipset_add(s, &c, nets[i]) == 0, "add %s", nets[i]);
	}
	CHECK(rm_ipset_finish(s) == 0, "finish");
	return s;
}

struct lookup_case {
	const char *ip;
	const char *want; /* tag (network text) or NULL for no match */
};

static void
run_lookups(const struct rm_ipset *s, const struct lookup_case *lc, size_t n)
{
	struct rm_ip ip;
	const void *tag;
	size_t i;
	bool hit;

	for (i = 0; i < n; i++) {
		if (rm_ip_parse(lc[i].ip, &ip) != 0) {
			CHECK(0, "bad ip %s", lc[i].ip);
			continue;
		}
		tag = "untouched";
		hit = rm_ipset_lookup(s, &ip, &tag);
		if (lc[i].want == NULL) {
			CHECK(!hit, "%s: unexpected match %s", lc[i].ip,
			      (const char *)tag);
			continue;
		}
		CHECK(hit, "%s: no match, want %s", lc[i].ip, lc[i].want);
		if (hit)
			CHECK_STR((const char *)tag, lc[i].want);
	}
}

static void
test_ipset_nested(void)
{
	/* added deliberately out of order */
	static const char *const nets[] = {
	    "10.1.2.0/24", "10.0.0.0/8",    "10.1.2.128/25", "10.1.0.0/16",
	    "10.1.2.200",  "192.0.2.0/24",  "2001:db8::/32", "2001:db8:1::/48",
	    "::1",         "172.16.0.0/12", "10.2.0.0/16",   "10.1.2.0/26"};
	static const struct lookup_case lc[] = {
	    {"10.0.0.0", "10.0.0.0/8"},
	    {"10.255.255.255", "10.0.0.0/8"},
	    {"9.255.255.255", NULL},
	    {"11.0.0.0", NULL},
	    {"10.1.0.0", "10.1.0.0/16"},
	    {"10.1.1.255", "10.1.0.0/16"},
	    {"10.1.2.0", "10.1.2.0/26"},
	    {"10.1.2.63", "10.1.2.0/26"},
	    {"10.1.2.64", "10.1.2.0/24"},
	    {"10.1.2.127", "10.1.2.0/24"},
	    {"10.1.2.128", "10.1.2.128/25"},
	    {"10.1.2.199", "10.1.2.128/25"},
	    {"10.1.2.200", "10.1.2.200"},
	    {"10.1.2.201", "10.1.2.128/25"},
	    {"10.1.2.255", "10.1.2.128/25"},
	    {"10.1.3.0", "10.1.0.0/16"},
	    {"10.1.255.255", "10.1.0.0/16"},
	    {"10.2.0.0", "10.2.0.0/16"},
	    {"10.2.255.255", "10.2.0.0/16"},
	    {"10.3.0.0", "10.0.0.0/8"},
	    {"::ffff:10.1.2.200", "10.1.2.200"},
	    {"::10.1.2.200", NULL},
	    {"192.0.2.0", "192.0.2.0/24"},
	    {"192.0.2.255", "192.0.2.0/24"},
	    {"192.0.3.0", NULL},
	    {"172.15.255.255", NULL},
	    {"172.16.0.0", "172.16.0.0/12"},
	    {"172.31.255.255", "172.16.0.0/12"},
	    {"172.32.0.0", NULL},
	    {"::1", "::1"},
	    {"::2", NULL},
	    {"::", NULL},
	    {"2001:db8::", "2001:db8::/32"},
	    {"2001:db8:1::5", "2001:db8:1::/48"},
	    {"2001:db8:1:ffff:ffff:ffff:ffff:ffff", "2001:db8:1::/48"},
	    {"2001:db8:2::", "2001:db8::/32"},
	    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"},
	    {"2001:db9::", NULL},
	    {"0.0.0.0", NULL},
	    {"255.255.255.255", NULL},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL},
	};
	struct rm_ipset *s = mkset(nets, NELEM(nets));

	CHECK(rm_ipset_count(s) == NELEM(nets), "count %zu", rm_ipset_count(s));
	run_lookups(s, lc, NELEM(lc));
	rm_ipset_free(s);
}

static void
test_ipset_default_routes(void)
{
	static const char *const nets[] = {"0.0.0.0/0", "::/0", "192.0.2.0/24",
	                                   "2001:db8::/32"};
	static const struct lookup_case lc[] = {
	    {"1.2.3.4", "0.0.0.0/0"},
	    {"0.0.0.0", "0.0.0.0/0"},
	    {"255.255.255.255", "0.0.0.0/0"},
	    {"192.0.2.1", "192.0.2.0/24"},
	    {"::", "::/0"},
	    {"::1", "::/0"},
	    {"::fffe:ffff:ffff", "::/0"},
	    {"::1:0:0:0", "::/0"},
	    {"2001:db8::1", "2001:db8::/32"},
	    {"2001:db9::1", "::/0"},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"},
	};
	static const char *const v4only[] = {"0.0.0.0/0"};
	static const struct lookup_case lc4[] = {
	    {"1.2.3.4", "0.0.0.0/0"},
	    {"::ffff:1.2.3.4", "0.0.0.0/0"},
	    {"::1", NULL},
	    {"2001:db8::1", NULL},
	};
	static const char *const v6only[] = {"::/0"};
	static const struct lookup_case lc6[] = {
	    {"1.2.3.4", "::/0"},
	    {"::1", "::/0"},
	};
	struct rm_ipset *s;

	s = mkset(nets, NELEM(nets));
	run_lookups(s, lc, NELEM(lc));
	rm_ipset_free(s);
	s = mkset(v4only, NELEM(v4only));
	run_lookups(s, lc4, NELEM(lc4));
	rm_ipset_free(s);
	s = mkset(v6only, NELEM(v6only));
	run_lookups(s, lc6, NELEM(lc6));
	rm_ipset_free(s);
}

static void
test_ipset_dups(void)
{
	/* the same network three ways: the first tag wins */
	static const char *const first = "first", *const second = "second",
	                         *const third = "third";
	struct rm_ipset *s = rm_ipset_new();
	struct rm_cidr c;
	struct rm_ip ip;
	const void *tag = NULL;
	char err[160];
	int i;

	for (i = 0; i < 50; i++) {
		rm_cidr_parse("10.9.0.0/16", &c, err, sizeof(err));
		rm_ipset_add(s, &c, "filler");
		rm_cidr_parse("10.9.8.0/24", &c, err, sizeof(err));
		rm_ipset_add(s, &c, i == 0 ? first : i == 1 ? second : third);
	}
	rm_cidr_parse("::ffff:10.9.8.0/120", &c, err, sizeof(err));
	rm_ipset_add(s, &c, "mapped");
	CHECK(rm_ipset_count(s) == 101, "count before finish %zu",
	      rm_ipset_count(s));
	CHECK(rm_ipset_finish(s) == 0, "finish");
	CHECK(rm_ipset_finish(s) == 0, "finish twice is harmless");
	CHECK(rm_ipset_count(s) == 2, "dedup: count %zu", rm_ipset_count(s));
	rm_ip_parse("10.9.8.7", &ip);
	CHECK(rm_ipset_lookup(s, &ip, &tag) && tag == first,
	      "first tag kept: %s", tag ? (const char *)tag : "(none)");
	rm_ip_parse("10.9.9.7", &ip);
	CHECK(rm_ipset_lookup(s, &ip, &tag), "parent");
	CHECK_STR((const char *)tag, "filler");
	CHECK(rm_ipset_lookup(s, &ip, NULL), "NULL tag pointer");
	/* adding after finish is refused, not corrupting */
	CHECK(rm_ipset_add(s, &c, "late") == -1, "add after finish");
	CHECK(rm_ipset_count(s) == 2, "count unchanged");
	rm_ipset_free(s);
}

static void
test_ipset_edge(void)
{
	struct rm_ipset *s;
	struct rm_cidr c;
	struct rm_ip ip;
	const void *tag = "untouched";
	char err[160];

	rm_ip_parse("192.0.2.1", &ip);
	CHECK(!rm_ipset_lookup(NULL, &ip, &tag), "NULL set");
	rm_ipset_free(NULL);
	CHECK(rm_ipset_count(NULL) == 0, "count NULL");

	s = rm_ipset_new();
	CHECK(!rm_ipset_lookup(s, &ip, &tag), "empty, unfinished");
	rm_cidr_parse("0.0.0.0/0", &c, err, sizeof(err));
	rm_ipset_add(s, &c, "all");
	CHECK(!rm_ipset_lookup(s, &ip, &tag), "unfinished set never matches");
	CHECK(strcmp(tag, "untouched") == 0, "tag untouched on miss");
	rm_ipset_free(s);

	s = rm_ipset_new();
	CHECK(rm_ipset_finish(s) == 0, "finish empty");
	CHECK(rm_ipset_count(s) == 0, "empty count");
	CHECK(!rm_ipset_lookup(s, &ip, &tag), "empty, finished");
	rm_ipset_free(s);

	/* a hand-made cidr with host bits is normalised, not mis-sorted */
	s = rm_ipset_new();
	rm_ip_parse("192.0.2.77", &c.c_addr);
	c.c_len = 96 + 24;
	CHECK(rm_ipset_add(s, &c, "dirty") == 0, "add dirty");
	c.c_len = 129;
	CHECK(rm_ipset_add(s, &c, "bad") == -1, "len 129 refused");
	rm_ipset_finish(s);
	rm_ip_parse("192.0.2.1", &ip);
	CHECK(rm_ipset_lookup(s, &ip, &tag) && strcmp(tag, "dirty") == 0,
	      "dirty network matches its /24");
	rm_ipset_free(s);
}

static void
rand_ip(struct rm_ip *ip, int v4)
{
	size_t i;

	for (i = 0; i < 16; i++)
		ip->ip_b[i] = (uint8_t)rng();
	if (v4) {
		memset(ip->ip_b, 0, 10);
		ip->ip_b[10] = ip->ip_b[11] = 0xff;
	} else if (rng() % 4 == 0) {
		/* keep v6 dense in a small region so networks nest */
		ip->ip_b[0] = 0x20;
		ip->ip_b[1] = 0x01;
		ip->ip_b[2] = 0x0d;
		ip->ip_b[3] = 0xb8;
	}
	/* cluster v4 in 10/8 and 192.0/16 so networks overlap a lot */
	if (v4 && rng() % 2 == 0) {
		ip->ip_b[12] = 10;
		if (rng() % 2 == 0)
			ip->ip_b[13] = (uint8_t)(rng() % 4);
	}
}

static void
mask(struct rm_ip *ip, unsigned len)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		ip->ip_b[i] &= (uint8_t)(0xff00u >> len);
		len = 0;
	}
}

/*
 * test_ipset_sizes - every size around the blocks of the two-level
 * search: each network found by its first and last address, the gaps
 * between them not.
 */
static void
test_ipset_sizes(void)
{
	struct rm_cidr c;
	struct rm_ip ip;
	const void *tag;
	size_t n, i, bad = 0;
	char txt[64], err[128];

	for (n = 1; n <= 70; n++) {
		struct rm_ipset *s = rm_ipset_new();

		for (i = 0; i < n; i++) {
			/* added out of order */
			snprintf(txt, sizeof(txt), "10.%zu.%zu.0/24", n - 1 - i,
			         n);
			if (rm_cidr_parse(txt, &c, err, sizeof(err)) != 0 ||
			    rm_ipset_add(s, &c, NULL) != 0)
				bad++;
		}
		rm_ipset_finish(s);
		for (i = 0; i < n; i++) {
			snprintf(txt, sizeof(txt), "10.%zu.%zu.0", i, n);
			rm_ip_parse(txt, &ip);
			bad += !rm_ipset_lookup(s, &ip, &tag);
			snprintf(txt, sizeof(txt), "10.%zu.%zu.255", i, n);
			rm_ip_parse(txt, &ip);
			bad += !rm_ipset_lookup(s, &ip, &tag);
			snprintf(txt, sizeof(txt), "10.%zu.%zu.0", i, n + 1);
			rm_ip_parse(txt, &ip);
			bad += rm_ipset_lookup(s, &ip, &tag);
		}
		rm_ip_parse("9.255.255.255", &ip);
		bad += rm_ipset_lookup(s, &ip, &tag);
		rm_ip_parse("11.0.0.0", &ip);
		bad += rm_ipset_lookup(s, &ip, &tag);
		rm_ipset_free(s);
	}
	CHECK(bad == 0, "%zu wrong lookups", bad);
}

#define NRAND 10000

static void
test_ipset_random(void)
{
	static struct rm_cidr nets[NRAND];
	struct rm_ipset *s = rm_ipset_new();
	struct rm_ip ip;
	const void *tag;
	size_t i, j, best, bad = 0, hits = 0, tries = 0;
	bool hit, found;
	int v4;

	for (i = 0; i < NRAND; i++) {
		v4 = rng() % 3 != 0;
		rand_ip(&nets[i].c_addr, v4);
		/*
		 * Mostly long prefixes, short ones now and then: deep
		 * nesting, yet enough of the space uncovered for misses.
		 */
		if (v4)
			nets[i].c_len = 96 + 12 + (unsigned)(rng() % 21);
		else
			nets[i].c_len = 24 + (unsigned)(rng() % 105);
		if (rng() % 8 == 0)
			nets[i].c_len =
			    (v4 ? 96 : 0) + 8 + (unsigned)(rng() % 6);
		mask(&nets[i].c_addr, nets[i].c_len);
		CHECK(rm_ipset_add(s, &nets[i], &nets[i]) == 0, "add");
	}
	CHECK(rm_ipset_finish(s) == 0, "finish");

	for (i = 0; i < 3 * NRAND; i++) {
		/* a third of probes sit inside or just around a known network
		 */
		switch (i % 3) {
		case 0:
			rand_ip(&ip, rng() % 3 != 0);
			break;
		case 1:
			ip = nets[rng() % NRAND].c_addr;
			break;
		default:
			ip = nets[rng() % NRAND].c_addr;
			for (j = 15; j > 0 && ip.ip_b[j]-- == 0; j--)
				;
			break;
		}
		tries++;
		/* brute force: the longest prefix; the earliest on a tie */
		found = false;
		best = 0;
		for (j = 0; j < NRAND; j++)
			if (rm_cidr_contains(&nets[j], &ip) &&
			    (!found || nets[j].c_len > nets[best].c_len)) {
				best = j;
				found = true;
			}
		tag = NULL;
		hit = rm_ipset_lookup(s, &ip, &tag);
		if (hit != found ||
		    (found && tag != (const void *)&nets[best])) {
			if (bad++ < 10) {
				char b[64];

				CHECK(0, "random lookup %s: hit %d want %d",
				      rm_ip_format(&ip, b, sizeof(b)), hit,
				      found);
			}
		}
		hits += found;
	}
	CHECK(bad == 0, "%zu of %zu random lookups wrong", bad, tries);
	/* the probes must exercise both outcomes to mean anything */
	CHECK(hits > tries / 4 && hits < tries - tries / 8, "hits %zu of %zu",
	      hits, tries);
	rm_ipset_free(s);
}

int
main(void)
{
	test_parse();
	test_parse_hostile();
	test_cidr();
	test_contains();
	test_ipset_nested();
	test_ipset_default_routes();
	test_ipset_dups();
	test_ipset_edge();
	test_ipset_sizes();
	test_ipset_random();
	return check_done();
}
