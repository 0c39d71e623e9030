/*
 * test_ldapdelta.c - the LDAP changes since a full build: a refresh's
 * difference is noted record by record, a record that comes back cancels
 * its going, and the layered ruleset of the notes decides as a full build
 * of the new data does (a bad record skipped in both); patching data with
 * notes in place gives what a sort of the result gives, for random notes
 * (records gone twice, gone but never there, new ones equal to old ones).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/conf.h"
#include "relaymilter/ip.h"
#include "relaymilter/ldapdelta.h"
#include "relaymilter/policy.h"

static const char conf_text[] = "hostnames = [ \"mx.example.com\" ];\n"
                                "our_interface_addresses = false;\n";

static void
rec(struct rm_ldapdata *d, enum rm_list_id list, const char *value,
    const char *dn)
{
	struct rm_ldaprec r;

	memset(&r, 0, sizeof(r));
	r.r_list = list;
	r.r_value = (char *)value;
	r.r_dn = (char *)dn;
	CHECK(rm_ldapdata_add(d, &r) == 0, "add %s", value);
}

static int
apply(void *arg, struct rm_ruleset *rs, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	rm_ldapdata_apply(arg, rs, NULL, NULL);
	return 0;
}

static struct rm_ruleset *
build(struct rm_ldapdata *d)
{
	struct rm_conf *cf;
	struct rm_ruleset *rs;
	char err[256];

	cf = rm_conf_read_string(conf_text, "delta.conf", err, sizeof(err));
	CHECK(cf != NULL, "%s", err);
	rs = rm_conf_compile(cf, apply, d, err, sizeof(err));
	CHECK(rs != NULL, "%s", err);
	rm_conf_free(cf);
	return rs;
}

/* decide - the rule for a relay from client to rcpt */
static const char *
decide(const struct rm_ruleset *rs, const char *client, const char *rcpt,
       struct rm_verdict *v)
{
	struct rm_facts f;
	struct rm_ip ip;

	memset(&f, 0, sizeof(f));
	rm_ip_parse(client, &ip);
	f.f_client_ip = &ip;
	f.f_sender = "<a@remote.test>";
	f.f_rcpt = rcpt;
	rm_policy_rcpt(rs, &f, v, NULL);
	return v->v_rule;
}

/* rnd - a small deterministic generator, so a failure repeats */
static unsigned
rnd(unsigned long *x)
{
	*x = *x * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)(*x >> 33);
}

/*
 * patch_random - rm_ldapdelta_patch() against the slow way: the kept
 * records and the new ones collected and sorted
 */
static void
patch_random(void)
{
	unsigned long x = 4242;
	char v[32], dn[32];
	int round, i, n, ng, nn, bad = 0;

	for (round = 0; round < 300; round++) {
		struct rm_ldapdata d = {0}, want = {0};
		struct rm_ldapdelta dl = {0};
		unsigned char gone[64] = {0};
		long missing = 0, got;

		n = (int)(rnd(&x) % 64);
		for (i = 0; i < n; i++) {
			snprintf(v, sizeof(v), "d%u.test", rnd(&x) % 40);
			snprintf(dn, sizeof(dn), "cn=%d", i);
			rec(&d, (enum rm_list_id)(rnd(&x) % 3), v, dn);
		}
		rm_ldapdata_sort(&d);
		ng = n > 0 ? (int)(rnd(&x) % (unsigned)(n + 1)) : 0;
		for (i = 0; i < ng; i++) {
			unsigned at = rnd(&x) % (unsigned)n;

			if (rnd(&x) % 8 == 0) { /* never there */
				struct rm_ldaprec r = d.d_recs[at];

				r.r_dn = "cn=none";
				rm_ldapdata_add(&dl.ld_gone, &r);
				missing++;
				continue;
			}
			/* twice now and then: one record, gone once */
			rm_ldapdata_add(&dl.ld_gone, &d.d_recs[at]);
			gone[at] = 1;
		}
		nn = (int)(rnd(&x) % 20);
		for (i = 0; i < nn; i++) {
			snprintf(v, sizeof(v), "d%u.test", rnd(&x) % 40);
			snprintf(dn, sizeof(dn), "cn=%u", rnd(&x) % 80);
			rec(&dl.ld_new, (enum rm_list_id)(rnd(&x) % 3), v, dn);
		}
		for (i = 0; i < n; i++)
			if (!gone[i])
				rm_ldapdata_add(&want, &d.d_recs[i]);
		for (i = 0; i < nn; i++)
			rm_ldapdata_add(&want, &dl.ld_new.d_recs[i]);
		rm_ldapdata_sort(&want);
		got = rm_ldapdelta_patch(&d, &dl);
		if (got != missing || !rm_ldapdata_equal(&d, &want))
			bad++;
		for (i = 1; i < (int)d.d_n; i++)
			if (rm_ldaprec_cmp(&d.d_recs[i - 1], &d.d_recs[i]) > 0)
				bad++;
		rm_ldapdata_clear(&d);
		rm_ldapdata_clear(&want);
		rm_ldapdelta_clear(&dl);
	}
	CHECK(bad == 0,
	      "300 random patches: the sorted result, the missing "
	      "counted (%d wrong)",
	      bad);
}

int
main(void)
{
	static const char *const clients[] = {"192.0.2.1", "192.0.2.9",
	                                      "198.51.100.7", "203.0.113.5"};
	static const char *const rcpts[] = {"<u@a.test>", "<u@b.test>",
	                                    "<u@x.c.test>", "<u@remote.test>"};
	struct rm_ldapdata old = {0}, now = {0};
	struct rm_ldapdelta dl = {0};
	struct rm_ruleset *base, *layer, *full;
	struct rm_verdict va, vb;
	char err[256];
	size_t i, j;

	rec(&old, RM_L_LOCAL_DOMAINS, "a.test", "cn=a");
	rec(&old, RM_L_LOCAL_DOMAINS, "b.test", "cn=b");
	rec(&old, RM_L_TRUSTED_NETWORKS, "192.0.2.0/24", "cn=net");
	rec(&old, RM_L_TRUSTED_NETWORKS, "198.51.100.7", "cn=host");
	rec(&old, RM_L_TRUSTED_NETWORKS, "not a network", "cn=bad");
	rm_ldapdata_sort(&old);
	/* b.test gone, c.test's subtree new, the /24 narrowed to a host */
	rec(&now, RM_L_LOCAL_DOMAINS, "a.test", "cn=a");
	rec(&now, RM_L_LOCAL_DOMAINS, ".c.test", "cn=c");
	rec(&now, RM_L_TRUSTED_NETWORKS, "192.0.2.1", "cn=net");
	rec(&now, RM_L_TRUSTED_NETWORKS, "198.51.100.7", "cn=host");
	rm_ldapdata_sort(&now);

	CHECK(rm_ldapdelta_diff(&dl, &old, &old) == 0 &&
	          rm_ldapdelta_size(&dl) == 0,
	      "the same data: nothing noted");
	CHECK(rm_ldapdelta_diff(&dl, &old, &now) == 0, "diff");
	CHECK(dl.ld_gone.d_n == 3 && dl.ld_new.d_n == 2,
	      "3 records gone (b.test, the /24, the bad one), 2 new: %zu %zu",
	      dl.ld_gone.d_n, dl.ld_new.d_n);
	CHECK(!rm_ldapdelta_full(&dl, 1000000), "5 notes: a layer");
	base = build(&old);
	full = build(&now);
	layer = rm_ldapdelta_layer(&dl, base, NULL, NULL, err, sizeof(err));
	CHECK(layer != NULL, "the layer: %s", err);
	for (i = 0; layer != NULL && i < 4; i++)
		for (j = 0; j < 4; j++) {
			const char *a =
			    decide(layer, clients[i], rcpts[j], &va);
			const char *b = decide(full, clients[i], rcpts[j], &vb);

			CHECK(va.v_action == vb.v_action && strcmp(a, b) == 0,
			      "%s to %s: layer %s, full build %s", clients[i],
			      rcpts[j], a, b);
		}
	CHECK(layer != NULL && layer->rs_nentries == full->rs_nentries,
	      "as many entries as the full build");
	rm_ruleset_release(layer);

	/* back to the old data: every note cancelled */
	CHECK(rm_ldapdelta_diff(&dl, &now, &old) == 0 &&
	          rm_ldapdelta_size(&dl) == 0,
	      "a change undone leaves nothing noted: %zu",
	      rm_ldapdelta_size(&dl));
	CHECK(rm_ldapdelta_note(&dl, &old.d_recs[0], true) == 0 &&
	          rm_ldapdelta_note(&dl, &old.d_recs[0], false) == 0 &&
	          rm_ldapdelta_size(&dl) == 0,
	      "a record gone and back: nothing noted");
	for (i = 0; i < 100; i++)
		rm_ldapdelta_note(&dl, &old.d_recs[0], (i & 1) == 0);
	CHECK(rm_ldapdelta_size(&dl) == 0, "gone and back 50 times");
	CHECK(rm_ldapdelta_note(&dl, &now.d_recs[1], false) == 0 &&
	          rm_ldapdelta_full(&dl, 4) == false,
	      "one note over a small build: a layer");
	for (i = 0; i < 70; i++) {
		char v[32], dn[32];
		struct rm_ldaprec r;

		snprintf(v, sizeof(v), "d%zu.test", i);
		snprintf(dn, sizeof(dn), "cn=d%zu", i);
		memset(&r, 0, sizeof(r));
		r.r_list = RM_L_LOCAL_DOMAINS;
		r.r_value = v;
		r.r_dn = dn;
		rm_ldapdelta_note(&dl, &r, false);
	}
	CHECK(rm_ldapdelta_full(&dl, 100) && !rm_ldapdelta_full(&dl, 1000000),
	      "71 notes: a full build of 100 records, a layer over a million");
	rm_ldapdelta_clear(&dl);
	rm_ruleset_release(base);
	rm_ruleset_release(full);
	rm_ldapdata_clear(&old);
	rm_ldapdata_clear(&now);
	patch_random();
	return check_done();
}
