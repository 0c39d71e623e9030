/*
 * fuzz_conf.c - the config loader (conf.h): libconfig text, every key
 * including the ldap group, compiled into a ruleset from memory
 * (rm_conf_load_string; the text ends at its first NUL byte).  A ruleset
 * that loads must keep the classes of its replies, and its decisions the
 * relay invariant (fz_probe).  A failed load must say where.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/conf.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void
check_ruleset(const struct rm_ruleset *rs)
{
	size_t i;

	for (i = 0; i < RM_R__COUNT; i++) {
		fz_reply_ok(&rs->rs_replies[i], rm_reply_defs[i].rd_name);
		if (rs->rs_replies[i].r_action != rm_reply_defs[i].rd_action)
			fz_fail("reply %s changed its class",
			        rm_reply_defs[i].rd_name);
	}
	/* deny entries' own replies are checked where they answer: in the
	   decisions of fz_probe, like every other reply */
	fz_probe(rs);
}

/* has_include - "@include" in any case */
static int
has_include(const uint8_t *data, size_t size)
{
	static const char word[] = "@include";
	size_t i, k;

	for (i = 0; i + 8 <= size; i++) {
		for (k = 0; k < 8; k++)
			if ((data[i + k] | 0x20) != (word[k] | 0x20))
				break;
		if (k == 8)
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rm_ruleset *rs;
	char err[1024], *text;

	/*
	 * @include reads files the admin names: out of scope here, and a
	 * way to hang the fuzzer on a device.
	 */
	if (has_include(data, size))
		return 0;
	text = fz_strdup(data, size);
	err[0] = '\0';
	if ((rs = rm_conf_load_string(text, "fuzz", err, sizeof(err))) ==
	    NULL) {
		/* "fuzz:LINE: ..." from the parser, "fuzz: ..." after it */
		if (strncmp(err, "fuzz:", 5) != 0)
			fz_fail("load failed without saying where: \"%s\"",
			        err);
	} else {
		check_ruleset(rs);
		rm_ruleset_release(rs);
	}
	free(text);
	return 0;
}
