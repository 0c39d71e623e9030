/*
 * fuzz_follow.c - the log follower's line parsers (follow.h).  The input
 * is one log line, as many bytes as the follower would hand over (NULs
 * and all).  A line the Dovecot parser takes must be a Login line whose
 * address is the one Dovecot wrote: the text after "rip=" that follows
 * the last ">, method=" (a user name never puts its own there; the
 * follower then checks it is an address, rm_grants_addr()).  The custom
 * parser's %{ip} matches address characters only.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/follow.h"

static struct rm_follow_pattern *custom;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	custom = rm_follow_pattern_new(
	    "[^ ]+ login ok: user=%{user} from %{ip}", err, sizeof(err));
	if (custom == NULL)
		fz_fail("the fixed pattern: %s", err);
	return 0;
}

/* last - the last occurrence of needle in hay[0..len), or NULL */
static const char *
last(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	const char *found = NULL;

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			found = hay + i;
	return found;
}

/* first - the first occurrence of needle in hay[0..len), or NULL */
static const char *
first(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

static void
address_only(const char *addr)
{
	if (addr[0] == '\0' ||
	    strspn(addr, "0123456789abcdefABCDEF.:") != strlen(addr))
		fz_fail("address \"%s\" has other characters", addr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data, *m, *rip;
	struct rm_follow_login out;
	size_t n;

	memset(&out, 0, sizeof(out));
	if (rm_follow_dovecot(line, size, NULL, &out)) {
		if (out.fl_addr[0] == '\0')
			fz_fail("took a line without an address");
		if (memchr(line, '\0', size) != NULL ||
		    memchr(line, '\n', size) != NULL)
			fz_fail("took a line with a NUL or a newline");
		if (last(line, size, "Login: user=<") == NULL)
			fz_fail("took a line that is not a Login line");
		if ((m = last(line, size, ">, method=")) == NULL ||
		    (rip = first(m, (size_t)(line + size - m), ", rip=")) ==
		        NULL)
			fz_fail("no Dovecot fields after the user name");
		n = strlen(out.fl_addr);
		/* bounded: the line has no NUL, and rip lies inside it */
		if ((size_t)(line + size - (rip + 6)) < n ||
		    memcmp(rip + 6, out.fl_addr, n) != 0 ||
		    (size_t)(line + size - (rip + 6)) == n || rip[6 + n] != ',')
			fz_fail("address \"%s\" is not Dovecot's rip field",
			        out.fl_addr);
	}
	memset(&out, 0, sizeof(out));
	if (rm_follow_custom(custom, line, size, &out))
		address_only(out.fl_addr);
	return 0;
}
