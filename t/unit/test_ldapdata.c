/*
 * test_ldapdata.c - LDAP record sets: order, equality, the cache file
 * round trip with hostile values, a truncated or foreign file, and
 * applying records with a bad one among them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "relaymilter/ldapdata.h"
#include "relaymilter/policy.h"

static int warnings;

static void
count_warn(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	warnings++;
}

/* a warning is one log line */
static void
line_warn(void *arg, const char *msg)
{
	(void)arg;
	warnings++;
	CHECK(strpbrk(msg, "\r\n") == NULL, "one line: %s", msg);
}

static char last_warn[2000];

static void
save_warn(void *arg, const char *msg)
{
	(void)arg;
	warnings++;
	snprintf(last_warn, sizeof(last_warn), "%s", msg);
	fprintf(stderr, "# %s\n", msg);
}

static void
add(struct rm_ldapdata *d, int list, const char *v, const char *owner,
    const char *lifts, const char *reply, const char *dn)
{
	struct rm_ldaprec r = {list,       (char *)v,     (char *)owner,
	                       NULL,       (char *)lifts, (char *)reply,
	                       (char *)dn, NULL};

	CHECK(rm_ldapdata_add(d, &r) == 0, "add %s", v);
}

/* roundtrip - a saved to path, loaded back into b (sorted) */
static void
roundtrip(const struct rm_ldapdata *a, struct rm_ldapdata *b, const char *path)
{
	char err[300];

	CHECK(rm_ldapdata_save(a, path, (uid_t)-1, (gid_t)-1, 0, err,
	                       sizeof(err)) == 0,
	      "save: %s", err);
	CHECK(rm_ldapdata_load(b, path, err, sizeof(err)) == 0, "load: %s",
	      err);
	rm_ldapdata_sort(b);
}

/* write_file - path holds text */
static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	CHECK(fp != NULL, "%s", path);
	if (fp != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

int
main(void)
{
	struct rm_ldapdata a = {0}, b = {0}, c = {0};
	struct rm_ruleset *rs;
	char path[] = "/tmp/rm-ldapdata.XXXXXX", err[300];
	FILE *fp;
	int fd;
	size_t skipped;
	const void *tag;

	add(&a, RM_L_TRUSTED_NETWORKS, "192.0.2.0/24", NULL, NULL, NULL,
	    "cn=lan,dc=x");
	add(&a, RM_L_LOCAL_DOMAINS, "example.com", NULL, NULL, NULL,
	    "cn=tab\there,dc=x");
	add(&a, RM_L_SENDER_LOGINS, "alice@example.com", "al\\ice", NULL, NULL,
	    "cn=new\nline,dc=x");
	add(&a, RM_L_EXC_CLIENTS, "198.51.100.7", NULL, "helo_spoof deny", NULL,
	    "cn=caf\xc3\xa9,dc=x");
	add(&a, RM_L_DENY_SENDERS, "@spam.example", NULL, NULL,
	    "554 5.7.1 go \\ away", NULL);
	add(&a, RM_L_TRUSTED_NETWORKS, "10.0.0.0/33", NULL, NULL, NULL,
	    "cn=bad,dc=x");
	rm_ldapdata_sort(&a);
	CHECK(a.d_recs[0].r_list == RM_L_LOCAL_DOMAINS, "sorted by list");

	fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	close(fd);
	roundtrip(&a, &b, path);
	CHECK(rm_ldapdata_equal(&a, &b), "round trip keeps every byte");
	{
		/* plain runs as they are, the rest escaped between them */
		char text[4096];
		size_t n;

		fp = fopen(path, "r");
		CHECK(fp != NULL, "the cache file opens");
		n = fp != NULL ? fread(text, 1, sizeof(text) - 1, fp) : 0;
		text[n] = '\0';
		if (fp != NULL)
			fclose(fp);
		CHECK(strstr(text, "\tcn=tab\\x09here,dc=x\t") != NULL &&
		          strstr(text, "\tal\\x5cice\t") != NULL &&
		          strstr(text, "\tcn=caf\\xc3\\xa9,dc=x\t") != NULL &&
		          strstr(text, "\t554 5.7.1 go \\x5c away\t") != NULL,
		      "the escapes in the file: %s", text);
	}
	c = b;
	c.d_n--;
	CHECK(!rm_ldapdata_equal(&a, &c), "a missing record differs");
	memset(&c, 0, sizeof(c)); /* it shared b's records */

	/* cookies and entryUUIDs: kept by format 2 */
	rm_ldapdata_clear(&b);
	a.d_recs[0].r_uuid = strdup("9a381c12-8259-1041-960f-478af963b682");
	CHECK(rm_ldapdata_set_cookie(&a, RM_L_TRUSTED_NETWORKS,
	                             "rid=000,csn=20261202050431.331173Z#000000"
	                             "#000#000000",
	                             "ldap://x |cn=a|ou=b|(tab\there)|v") == 0,
	      "set cookie");
	CHECK(rm_ldapdata_has_cookie(&a), "has a cookie");
	roundtrip(&a, &b, path);
	CHECK(rm_ldapdata_file_has_cookie(path), "the file tells its cookies");
	CHECK(rm_ldapdata_equal(&a, &b), "round trip with an entryUUID");
	CHECK(b.d_cookie[RM_L_TRUSTED_NETWORKS] != NULL &&
	          strcmp(b.d_cookie[RM_L_TRUSTED_NETWORKS],
	                 a.d_cookie[RM_L_TRUSTED_NETWORKS]) == 0 &&
	          strcmp(b.d_scope[RM_L_TRUSTED_NETWORKS],
	                 a.d_scope[RM_L_TRUSTED_NETWORKS]) == 0,
	      "the cookie and its scope come back");
	CHECK(b.d_cookie[RM_L_LOCAL_DOMAINS] == NULL, "no cookie elsewhere");
	rm_ldapdata_clear(&b);

	/* a format 1 file (no entryUUID, no cookie) still loads */
	write_file(path, "relaymilter-ldap-cache 1\nlocal_domains\texample.com"
	                 "\t\\-\t\\-\t\\-\t\\-\tcn=x\nend 1\n");
	CHECK(rm_ldapdata_load(&b, path, err, sizeof(err)) == 0 && b.d_n == 1 &&
	          b.d_recs[0].r_uuid == NULL && !rm_ldapdata_has_cookie(&b),
	      "format 1: %s", err);
	rm_ldapdata_clear(&b);
	/* format 2 wants the entryUUID field */
	write_file(path, "relaymilter-ldap-cache 2\nlocal_domains\texample.com"
	                 "\t\\-\t\\-\t\\-\t\\-\tcn=x\nend 1\n");
	CHECK(rm_ldapdata_load(&b, path, err, sizeof(err)) != 0,
	      "format 2 without an entryUUID field");
	free(a.d_recs[0].r_uuid);
	a.d_recs[0].r_uuid = NULL;
	rm_ldapdata_set_cookie(&a, RM_L_TRUSTED_NETWORKS, NULL, NULL);
	roundtrip(&a, &b, path);
	CHECK(!rm_ldapdata_file_has_cookie(path), "a file without cookies");
	CHECK(!rm_ldapdata_file_has_cookie("/nonexistent/ldap.cache"),
	      "no file, no cookies");

	/* a truncated file (no end line) and a foreign file are refused */
	fp = fopen(path, "w");
	fprintf(fp, "relaymilter-ldap-cache 1\nlocal_domains\texample.com"
	            "\t\\-\t\\-\t\\-\t\\-\t\\-\n");
	fclose(fp);
	CHECK(rm_ldapdata_load(&c, path, err, sizeof(err)) != 0 &&
	          strstr(err, "truncated") != NULL,
	      "truncated: %s", err);
	fp = fopen(path, "w");
	fprintf(fp, "something else\n");
	fclose(fp);
	CHECK(rm_ldapdata_load(&c, path, err, sizeof(err)) != 0,
	      "foreign file");
	fp = fopen(path, "w");
	fprintf(fp, "relaymilter-ldap-cache 1\nnot_a_list\tx\t\\-\t\\-\t\\-"
	            "\t\\-\t\\-\nend 1\n");
	fclose(fp);
	CHECK(rm_ldapdata_load(&c, path, err, sizeof(err)) != 0,
	      "unknown list");
	unlink(path);

	/* the bad CIDR is skipped and reported; the others apply */
	rs = rm_ruleset_new("test");
	warnings = 0;
	skipped = rm_ldapdata_apply(&b, rs, count_warn, NULL);
	CHECK(skipped == 1 && warnings == 1, "skipped %zu warnings %d", skipped,
	      warnings);
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	CHECK(
	    rm_domset_lookup(rs->rs_lists.l_local_domains, "example.com", NULL),
	    "local domain applied");
	rm_ruleset_release(rs);

	/* a DN or value with a line break cannot forge log lines (fuzz) */
	rm_ldapdata_clear(&c);
	add(&c, RM_L_TRUSTED_NETWORKS, "10.0.0.0/33\nforged", NULL, NULL, NULL,
	    "cn=bad\n2");
	add(&c, RM_L_EXC_CLIENTS, "192.0.2.9", NULL, "deny\rx", NULL, "cn=e");
	add(&c, RM_L_LOCAL_DOMAINS, "example.org", NULL, NULL, NULL,
	    "cn=dom\r\nx");
	rs = rm_ruleset_new("test");
	warnings = 0;
	skipped = rm_ldapdata_apply(&c, rs, line_warn, NULL);
	CHECK(skipped == 2 && warnings == 2, "skipped %zu warnings %d", skipped,
	      warnings);
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	tag = NULL;
	CHECK(rs->rs_nentries == 1 &&
	          rm_domset_lookup(rs->rs_lists.l_local_domains, "example.org",
	                           &tag) &&
	          strcmp(((const struct rm_entry *)tag)->e_where,
	                 "ldap:cn=dom??x") == 0,
	      "origin on one line: %s",
	      tag ? ((const struct rm_entry *)tag)->e_where : "-");
	rm_ruleset_release(rs);
	/* login_networks: a login's networks; a bad one is skipped with
	   its DN, and so is one without a login */
	rm_ldapdata_clear(&c);
	add(&c, RM_L_LOGIN_NETWORKS, "198.51.100.0/24", "alice", NULL, NULL,
	    "cn=alice-nets,dc=x");
	add(&c, RM_L_LOGIN_NETWORKS, "198.51.100.1/24", "alice", NULL, NULL,
	    "cn=alice-bad,dc=x");
	add(&c, RM_L_LOGIN_NETWORKS, "10.0.0.0/8", NULL, NULL, NULL,
	    "cn=nobody,dc=x");
	rs = rm_ruleset_new("test");
	warnings = 0;
	skipped = rm_ldapdata_apply(&c, rs, save_warn, NULL);
	CHECK(skipped == 2 && warnings == 2, "skipped %zu warnings %d", skipped,
	      warnings);
	CHECK(strstr(last_warn, "ldap:cn=alice-bad,dc=x: login_networks "
	                        "\"198.51.100.1/24\"") != NULL ||
	          strstr(last_warn, "ldap:cn=nobody,dc=x: login_networks") !=
	              NULL,
	      "warning with the DN: %s", last_warn);
	CHECK(rm_ruleset_finish(rs) == 0, "finish");
	{
		struct rm_ip ip;

		CHECK(rm_ip_parse("198.51.100.9", &ip) == 0, "ip");
		CHECK(rm_netowners_lookup(rs->rs_lists.l_login_nets, "ALICE",
		                          &ip, &tag) == 1,
		      "alice's network applied");
	}
	rm_ruleset_release(rs);
	rm_ldapdata_clear(&c);
	rm_ldapdata_clear(&a);
	rm_ldapdata_clear(&b);
	return check_done();
}
