/*
 * layer.c - what one LDAP change costs at scale: a full build of NDOMAINS
 * local domains (as LDAP records) beside the layer of K changes over it.
 *
 *   layer NDOMAINS
 *       prints, for K = 1, 10, 100, 1000 (half of the records changed,
 *       half new): the notes of a refresh's difference (a sorted merge of
 *       the two record sets), the layered ruleset of the notes, and the
 *       patch of the record set with them (what the data in use costs
 *       when it is next read), in ms (median of 5); then the full build
 *       (s), and ns per
 *       rm_policy_rcpt() of a local and of a relayed recipient on the
 *       full build and on the layer of 1000 changes.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relaymilter/conf.h"
#include "relaymilter/ip.h"
#include "relaymilter/ldapdelta.h"
#include "relaymilter/policy.h"

#define REPS  5
#define CALLS 2000000u

static const char conf_text[] = "hostnames = [ \"mx.example.com\" ];\n"
                                "our_interface_addresses = false;\n";

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* domains - n records d<i>.example (i from first), sorted */
static void
domains(struct rm_ldapdata *d, unsigned first, unsigned n)
{
	struct rm_ldaprec r;
	char v[64], dn[80];
	unsigned i;

	memset(&r, 0, sizeof(r));
	r.r_list = RM_L_LOCAL_DOMAINS;
	r.r_value = v;
	r.r_dn = dn;
	for (i = first; i < first + n; i++) {
		snprintf(v, sizeof(v), "d%u.example", i);
		snprintf(dn, sizeof(dn), "cn=d%u,ou=domains,dc=example", i);
		if (rm_ldapdata_add(d, &r) != 0)
			exit(1);
	}
	rm_ldapdata_sort(d);
}

static int
apply(void *arg, struct rm_ruleset *rs, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	rm_ldapdata_apply(arg, rs, NULL, NULL);
	return 0;
}

static double
rcpt_ns(const struct rm_ruleset *rs, const char *rcpt)
{
	struct rm_facts f;
	struct rm_verdict v;
	struct rm_ip ip;
	uint64_t t0;
	unsigned i;

	memset(&f, 0, sizeof(f));
	rm_ip_parse("203.0.113.9", &ip);
	f.f_client_ip = &ip;
	f.f_sender = "<a@remote.test>";
	f.f_rcpt = rcpt;
	t0 = now_ns();
	for (i = 0; i < CALLS; i++)
		rm_policy_rcpt(rs, &f, &v, NULL);
	return (double)(now_ns() - t0) / CALLS;
}

int
main(int argc, char **argv)
{
	static const unsigned ks[] = {1, 10, 100, 1000};
	struct rm_ldapdata old = {0}, now;
	struct rm_ldapdelta dl, undo;
	struct rm_ruleset *full, *layer = NULL;
	struct rm_conf *cf;
	uint64_t t0, tdiff[REPS], tlayer[REPS], tpatch[REPS];
	unsigned n, k, i, r;
	char err[512];

	if (argc != 2 || (n = (unsigned)strtoul(argv[1], NULL, 10)) < 2000) {
		fprintf(stderr, "usage: layer NDOMAINS (at least 2000)\n");
		return 2;
	}
	domains(&old, 0, n);
	if ((cf = rm_conf_read_string(conf_text, "layer.conf", err,
	                              sizeof(err))) == NULL) {
		fprintf(stderr, "layer: %s\n", err);
		return 1;
	}
	t0 = now_ns();
	full = rm_conf_compile(cf, apply, &old, err, sizeof(err));
	if (full == NULL) {
		fprintf(stderr, "layer: %s\n", err);
		return 1;
	}
	printf("domains %u: full build %.2f s\n", n,
	       (double)(now_ns() - t0) / 1e9);
	printf("changes  notes ms  layer ms  patch ms\n");
	for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		k = ks[i];
		/* k/2 (at least 1) of the first records gone, k/2 new */
		memset(&now, 0, sizeof(now));
		domains(&now, (k + 1) / 2, n - (k + 1) / 2 + k / 2);
		for (r = 0; r < REPS; r++) {
			memset(&dl, 0, sizeof(dl));
			t0 = now_ns();
			if (rm_ldapdelta_diff(&dl, &old, &now) != 0)
				return 1;
			tdiff[r] = now_ns() - t0;
			rm_ruleset_release(layer);
			t0 = now_ns();
			layer = rm_ldapdelta_layer(&dl, full, NULL, NULL, err,
			                           sizeof(err));
			tlayer[r] = now_ns() - t0;
			if (layer == NULL) {
				fprintf(stderr, "layer: %s\n", err);
				return 1;
			}
			/* the data patched, then back (not timed) */
			t0 = now_ns();
			if (rm_ldapdelta_patch(&old, &dl) != 0)
				return 1;
			tpatch[r] = now_ns() - t0;
			undo.ld_gone = dl.ld_new;
			undo.ld_new = dl.ld_gone;
			if (rm_ldapdelta_patch(&old, &undo) != 0)
				return 1;
			rm_ldapdelta_clear(&dl);
		}
		qsort(tdiff, REPS, sizeof(tdiff[0]), cmp_u64);
		qsort(tlayer, REPS, sizeof(tlayer[0]), cmp_u64);
		qsort(tpatch, REPS, sizeof(tpatch[0]), cmp_u64);
		printf("%7u  %8.2f  %8.3f  %8.2f\n", k, tdiff[REPS / 2] / 1e6,
		       tlayer[REPS / 2] / 1e6, tpatch[REPS / 2] / 1e6);
		rm_ldapdata_clear(&now);
	}
	printf("rcpt ns       full build  layer of 1000\n");
	printf("local         %10.0f  %13.0f\n",
	       rcpt_ns(full, "<u@d1999.example>"),
	       rcpt_ns(layer, "<u@d1999.example>"));
	printf("relay denied  %10.0f  %13.0f\n",
	       rcpt_ns(full, "<u@remote.test>"),
	       rcpt_ns(layer, "<u@remote.test>"));
	rm_ruleset_release(layer);
	rm_ruleset_release(full);
	rm_conf_free(cf);
	rm_ldapdata_clear(&old);
	return 0;
}
