/*
 * fuzz_hdraddr.c - the From:/Sender: address-list parser (hdraddr.h) on
 * any header value a client could write.
 *
 * Invariants: a parse appends at most RM_HDR_ADDRS_MAX addresses and a
 * failure gives a reason; every address has exactly one '@' with text on
 * both sides, no space or control character, a lower-case domain, and
 * parses again as an envelope address (addr.h) to the same local part and
 * domain; and a value parsed twice into one list gives each address twice
 * (the parser keeps no state).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/hdraddr.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
check_addr(const char *in, const char *p)
{
	const char *at = strchr(p, '@');
	struct rm_addr a;
	char err[96];
	size_t i;

	if (at == NULL || strrchr(p, '@') != at || at == p || at[1] == '\0')
		fz_fail("\"%s\" gave \"%s\": not one '@'", in, p);
	for (i = 0; p[i] != '\0'; i++)
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
			fz_fail("\"%s\" gave \"%s\": space or control", in, p);
	for (i = 1; at[i] != '\0'; i++)
		if (at[i] >= 'A' && at[i] <= 'Z')
			fz_fail("\"%s\" gave \"%s\": domain case", in, p);
	if (rm_addr_parse(p, &a, err, sizeof(err)) != 0)
		fz_fail("\"%s\" gave \"%s\", no envelope address: %s", in, p,
		        err);
	if (strncmp(a.a_local, p, (size_t)(at - p)) != 0 ||
	    a.a_local[at - p] != '\0' || strcmp(a.a_domain, at + 1) != 0)
		fz_fail("\"%s\" gave \"%s\", read back as %s@%s", in, p,
		        a.a_local, a.a_domain);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fz_strdup(data, size), err[128];
	struct rm_hdraddrs *h = malloc(sizeof(*h));
	size_t i, n;

	if (h == NULL)
		abort();
	h->h_n = 0;
	err[0] = '\0';
	if (rm_hdraddr_parse(in, h, err, sizeof(err)) == 0) {
		if (h->h_n > RM_HDR_ADDRS_MAX)
			fz_fail("\"%s\": %zu addresses", in, h->h_n);
		for (i = 0; i < h->h_n; i++)
			check_addr(in, h->h_addr[i]);
		n = h->h_n;
		if (2 * n <= RM_HDR_ADDRS_MAX) {
			if (rm_hdraddr_parse(in, h, err, sizeof(err)) != 0 ||
			    h->h_n != 2 * n)
				fz_fail("\"%s\": a second parse differs", in);
			for (i = 0; i < n; i++)
				if (strcmp(h->h_addr[i], h->h_addr[n + i]) != 0)
					fz_fail("\"%s\": a second parse "
					        "differs",
					        in);
		}
	} else if (err[0] == '\0')
		fz_fail("failed parse without a reason: \"%s\"", in);
	(void)rm_hdraddr_parse(in, h, err, 1);
	free(h);
	free(in);
	return 0;
}
