/*
 * fuzz_addr.c - the envelope address parser (addr.h) and the address
 * parser under it (ip.h), on any string an MTA could hand over.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/addr.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
check_ok(const char *in, const struct rm_addr *a)
{
	const char *p;
	size_t n;

	if (memchr(a->a_local, '\0', sizeof(a->a_local)) == NULL ||
	    memchr(a->a_domain, '\0', sizeof(a->a_domain)) == NULL)
		fz_fail("unterminated part for \"%s\"", in);
	if ((a->a_flags & RM_ADDR_NULL) &&
	    (a->a_flags != RM_ADDR_NULL || a->a_local[0] || a->a_domain[0]))
		fz_fail("the null address has parts: \"%s\"", in);
	if (!(a->a_flags & (RM_ADDR_NULL | RM_ADDR_QUOTED)) &&
	    a->a_local[0] == '\0')
		fz_fail("empty local part accepted: \"%s\"", in);
	if (!(a->a_flags & RM_ADDR_ROUTING) &&
	    strpbrk(a->a_local, "@%!") != NULL)
		fz_fail("routing character without the flag: \"%s\"", in);
	if ((a->a_flags & RM_ADDR_UNQUALIFIED) && a->a_domain[0] != '\0')
		fz_fail("unqualified with a domain: \"%s\"", in);
	if (!(a->a_flags & (RM_ADDR_NULL | RM_ADDR_UNQUALIFIED)) &&
	    a->a_domain[0] == '\0')
		fz_fail("qualified without a domain: \"%s\"", in);
	for (p = a->a_domain; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			fz_fail("domain not lower-cased: \"%s\"", in);
	n = strlen(a->a_domain);
	if (n > 0 && a->a_domain[n - 1] == '.')
		fz_fail("trailing dot kept: \"%s\"", in);
	if ((a->a_flags & RM_ADDR_LITERAL) && a->a_domain[0] != '[')
		fz_fail("literal without brackets: \"%s\"", in);
	if (!(a->a_flags & RM_ADDR_LITERAL) && strchr(a->a_domain, '[') != NULL)
		fz_fail("bracket in a domain: \"%s\"", in);
	if (rm_addr_is_postmaster(a) &&
	    (a->a_flags & (RM_ADDR_ROUTING | RM_ADDR_NULL)))
		fz_fail("postmaster with routing: \"%s\"", in);
}

static void
check_ip(const char *in)
{
	struct rm_ip ip, ip2;
	struct rm_cidr c;
	char buf[64], err[128];

	if (rm_ip_parse(in, &ip) == 0) {
		rm_ip_format(&ip, buf, sizeof(buf));
		if (rm_ip_parse(buf, &ip2) != 0 ||
		    memcmp(&ip, &ip2, sizeof(ip)) != 0)
			fz_fail("address \"%s\" formats as \"%s\", which does "
			        "not parse back",
			        in, buf);
	}
	if (rm_cidr_parse(in, &c, err, sizeof(err)) == 0) {
		if (c.c_len > 128)
			fz_fail("prefix /%u from \"%s\"", c.c_len, in);
		if (!rm_cidr_contains(&c, &c.c_addr))
			fz_fail("network \"%s\" does not hold its address", in);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fz_strdup(data, size), err[128], buf[64];
	struct rm_addr a;
	size_t i;
	const char *u;

	memset(&a, 0xa5, sizeof(a));
	if (rm_addr_parse(in, &a, err, sizeof(err)) == 0)
		check_ok(in, &a);
	else {
		for (i = 0; i < sizeof(a); i++)
			if (((const unsigned char *)&a)[i] != 0)
				fz_fail("failed parse left *out set: \"%s\"",
				        in);
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			fz_fail("failed parse without a reason: \"%s\"", in);
	}
	/* a tiny error buffer must be cut, not overrun */
	(void)rm_addr_parse(in, &a, err, 1);
	u = rm_addr_unbracket(in, buf, sizeof(buf));
	if (u != in && (u != buf || strlen(buf) + 2 != strlen(in)))
		fz_fail("unbracket of \"%s\" gave \"%s\"", in, u);
	check_ip(in);
	free(in);
	return 0;
}
