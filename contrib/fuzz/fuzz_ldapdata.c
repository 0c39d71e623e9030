/*
 * fuzz_ldapdata.c - the LDAP records (ldapdata.h): the cache file read
 * back from disk, the save/load round trip, and applying the records to a
 * ruleset the way a reload does (rm_conf_build with the ldap group).  The
 * input is the cache file.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "relaymilter/conf.h"
#include "relaymilter/ldapdata.h"

static const char *cache, *cache2, *conf;

static const char base_conf[] =
    "hostnames = [ \"mx.example.com\" ];\n"
    "listeners = { submission = { require_auth = true; }; };\n"
    "ldap = {\n"
    "  uri = [ \"ldap://127.0.0.1\", \"ldaps://ldap.example.com\" ];\n"
    "  base = \"dc=example,dc=com\";\n"
    "  refresh = 60; timeout = 3;\n"
    "  senders = { filter = \"(uid=%s)\"; attrs = [ \"mail\" ];\n"
    "              group_filter = \"(member=%d)\"; group_attr = \"mail\"; };\n"
    "};\n";

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cache = fz_tmpfile("cache");
	cache2 = fz_tmpfile("cache2");
	conf = fz_tmpfile("ldapconf");
	fz_write(conf, base_conf, sizeof(base_conf) - 1);
	return 0;
}

/* a warning is logged: one line, whatever the records hold */
static void
warn(void *arg, const char *msg)
{
	(void)arg;
	fz_one_line("warning", msg, 0);
}

static int
apply(void *arg, struct rm_ruleset *rs, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	rm_ldapdata_apply(arg, rs, warn, NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rm_ldapdata d = {0}, d2 = {0};
	struct rm_ruleset *rs;
	char err[1024];
	size_t i;

	fz_write(cache, data, size);
	if (rm_ldapdata_load(&d, cache, err, sizeof(err)) != 0) {
		if (d.d_n != 0 || d.d_recs != NULL)
			fz_fail("failed load kept records");
		return 0;
	}
	for (i = 0; i < d.d_n; i++)
		if (d.d_recs[i].r_list < 0 ||
		    d.d_recs[i].r_list >= RM_L__COUNT ||
		    d.d_recs[i].r_value == NULL)
			fz_fail("record %zu: list %d, value %p", i,
			        d.d_recs[i].r_list,
			        (void *)d.d_recs[i].r_value);
	/* what was read is what is written back */
	rm_ldapdata_sort(&d);
	if (rm_ldapdata_save(&d, cache2, (uid_t)-1, (gid_t)-1, 0, err,
	                     sizeof(err)) != 0)
		fz_fail("save: %s", err);
	if (rm_ldapdata_load(&d2, cache2, err, sizeof(err)) != 0)
		fz_fail("saved cache does not load: %s", err);
	rm_ldapdata_sort(&d2);
	if (!rm_ldapdata_equal(&d, &d2))
		fz_fail("cache round trip changed the records");
	rm_ldapdata_clear(&d2);
	/* a record the ruleset refuses is skipped, never fatal */
	if ((rs = rm_conf_build(conf, apply, &d, err, sizeof(err))) == NULL)
		fz_fail("records stopped the build: %s", err);
	fz_probe(rs);
	rm_ruleset_release(rs);
	rm_ldapdata_clear(&d);
	return 0;
}
