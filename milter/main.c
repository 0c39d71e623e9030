/*
 * main.c - relaymilter(8): the command line.  "relaymilter check" is the
 * what-if CLI (check.c), "relaymilter stats" asks the running daemon
 * (monitor.c); -n checks the config; anything else runs the
 * daemon (daemon.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "relaymilter/check.h"
#include "relaymilter/conf.h"
#include "relaymilter/confdata.h"
#include "relaymilter/daemon.h"
#include "relaymilter/ldapsrc.h"
#include "relaymilter/grantctl.h"
#include "relaymilter/limitctl.h"
#include "relaymilter/monitor.h"
#include "relaymilter/rm.h"

static void
usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: relaymilter [-c CONFIG] [-p SOCKET] [-P PIDFILE] [-f] "
	    "[-u USER] [-n] [-V]\n"
	    "       relaymilter check [-c CONFIG] --client ADDR --rcpt ADDR "
	    "... [--explain]\n"
	    "       relaymilter ldap-test [-c CONFIG] [--login LOGIN]\n"
	    "       relaymilter milter-map [-c CONFIG]\n"
	    "       relaymilter stats [-c CONFIG]\n"
	    "       relaymilter limits [-c CONFIG] [--key KEY | --lift "
	    "LIMIT:KEY]\n"
	    "       relaymilter grant [-c CONFIG] ADDRESS [--login USER] "
	    "[--ttl DURATION]\n"
	    "       relaymilter grants [-c CONFIG] [--address ADDRESS | "
	    "--revoke ADDRESS]\n"
	    "  -c CONFIG  config file (default %s)\n"
	    "  -p SOCKET  unix:/path or inet:PORT@HOST (overrides \"socket\")\n"
	    "  -P FILE    write the pid to FILE (overrides \"pid_file\")\n"
	    "  -f         stay in the foreground, log to stderr\n"
	    "  -u USER    run as USER after opening the socket\n"
	    "  -n         check the config and exit (0 valid, 78 not)\n"
	    "  -V         print the version\n",
	    RM_CONF_DEFAULT);
}

/* The subcommands: relaymilter NAME ARGS... */
static const struct {
	const char *sc_name;
	int (*sc_main)(int argc, char **argv);
} subcommands[] = {
    {"check", rm_check_main},   {"grant", rm_grant_main},
    {"grants", rm_grants_main}, {"ldap-test", rm_ldaptest_main},
    {"limits", rm_limits_main}, {"milter-map", rm_miltermap_main},
    {"stats", rm_stats_main},
};

/* has_ldap - the config has an ldap group */
static int
has_ldap(const char *config)
{
	char err[256];
	struct rm_conf *cf = rm_conf_read(config, err, sizeof(err));
	int yes = cf != NULL && rm_conf_settings(cf)->st_ldap != NULL;

	rm_conf_free(cf);
	return yes;
}

int
main(int argc, char **argv)
{
	const char *config = RM_CONF_DEFAULT, *sockopt = NULL, *user = NULL;
	const char *pidopt = NULL;
	struct rm_ruleset *rs;
	char err[1024];
	int c, foreground = 0, check_only = 0;

	rm_ldap_init();
	for (c = 0; argc > 1 &&
	            c < (int)(sizeof(subcommands) / sizeof(subcommands[0]));
	     c++)
		if (strcmp(argv[1], subcommands[c].sc_name) == 0)
			return subcommands[c].sc_main(argc - 1, argv + 1);
	while ((c = getopt(argc, argv, "c:p:P:fu:nVh")) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'p':
			sockopt = optarg;
			break;
		case 'P':
			pidopt = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'V':
			printf("relaymilter %s\n", RM_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return RM_EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return RM_EX_USAGE;
	}
	if (check_only) {
		if ((rs = rm_conf_load(config, err, sizeof(err))) == NULL) {
			fprintf(stderr, "%s\n", err);
			return RM_EX_CONFIG;
		}
		rm_reload_warnings(rs, NULL);
		rm_ruleset_release(rs);
		printf("%s: OK\n", config);
		/* what -n cannot know from the file alone */
		if (has_ldap(config))
			printf("%s: not checked: the LDAP directory (try "
			       "relaymilter ldap-test -c %s)\n",
			       config, config);
		return 0;
	}
	return rm_daemon_run(config, sockopt, pidopt, foreground, user);
}
