/*
 * ldaptest.c - "relaymilter ldap-test": try the directory with the
 * config's own settings (the URIs in order, StartTLS, the bind, every
 * list's search, and an on-demand lookup of one login) and say what came
 * back, so that a setup that cannot work shows before the daemon runs.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "relaymilter/check.h"
#include "relaymilter/conf.h"
#include "relaymilter/confdata.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapsrc.h"
#include "relaymilter/log.h"
#include "relaymilter/ownercache.h"

static void
warn_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "warning: %s\n", msg);
}

/* counts - the entries fetched per list */
static void
counts(const struct rm_ldap_conf *lc, const struct rm_ldapdata *d)
{
	size_t i, n;
	int l;

	for (l = 0; l < RM_L__COUNT; l++) {
		if (lc->lc_maps[l].lm_filter == NULL)
			continue;
		for (n = 0, i = 0; i < d->d_n; i++)
			n += d->d_recs[i].r_list == l;
		printf("  %-22s %zu entr%s\n", rm_list_name(l), n,
		       n == 1 ? "y" : "ies");
	}
}

/* lookup - the on-demand lookup of one login, as sender_login makes it */
static int
lookup(const struct rm_ldap_conf *lc, const char *login)
{
	struct rm_owned o;
	char err[1024];
	size_t i;

	if (lc->lc_senders == NULL) {
		printf("senders: no on-demand lookups configured (ldap.senders)"
		       "\n");
		return 0;
	}
	rm_ldap_senders(lc, NULL, login, &o, err, sizeof(err));
	if (o.o_state == RM_LOOKUP_ERROR) {
		printf("senders: lookup of %s FAILED: %s\n", login, err);
		return 1;
	}
	printf("senders: %s owns %zu address(es)\n", login, o.o_n);
	for (i = 0; i < o.o_n; i++)
		printf("  %s\n", o.o_addrs[i]);
	rm_owned_clear(&o);
	return 0;
}

int
rm_ldaptest_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"login", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *config = RM_CONF_DEFAULT, *login = NULL;
	const struct rm_ldap_conf *lc;
	struct rm_ldapdata d;
	struct rm_conf *cf;
	char err[1024];
	size_t u;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c == 'c')
			config = optarg;
		else if (c == 'l')
			login = optarg;
		else {
			fprintf(c == 'h' ? stdout : stderr,
			        "usage: relaymilter ldap-test [-c CONFIG] "
			        "[--login LOGIN]\n");
			return c == 'h' ? 0 : RM_EX_USAGE;
		}
	}
	rm_log_open("relaymilter ldap-test", true, RM_LOG_WARNING);
	if ((cf = rm_conf_read(config, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return RM_EX_CONFIG;
	}
	if ((lc = rm_conf_settings(cf)->st_ldap) == NULL) {
		printf("%s: no ldap group: nothing to test\n", config);
		rm_conf_free(cf);
		return 0;
	}
	printf("ldap: base %s, bind %s, StartTLS %s, timeout %d s; URIs:",
	       lc->lc_base, lc->lc_bind_dn ? lc->lc_bind_dn : "anonymous",
	       lc->lc_starttls ? "required" : "no", lc->lc_timeout);
	for (u = 0; u < lc->lc_nuris; u++)
		printf(" %s", lc->lc_uris[u]);
	printf("\n");
	memset(&d, 0, sizeof(d));
	if (rm_ldap_fetch(lc, &d, warn_stderr, NULL, err, sizeof(err)) != 0) {
		printf("ldap: FAILED: %s\n", err);
		rm_conf_free(cf);
		return 1;
	}
	printf("ldap: connected, bound and searched: %zu entries\n", d.d_n);
	counts(lc, &d);
	rm_ldapdata_clear(&d);
	if (login != NULL)
		rc = lookup(lc, login);
	rm_conf_free(cf);
	return rc;
}
