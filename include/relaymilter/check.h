/*
 * check.h - "relaymilter check": the what-if CLI over the same engine.
 */
#ifndef RM_CHECK_H
#define RM_CHECK_H

/*
 * rm_check_main - run "relaymilter check ARGS"; argv[0] is "check".
 * Exit status: 0 all recipients continue, 1 one is rejected, 2 one
 * tempfails, 64 usage error, 78 config error.
 */
int rm_check_main(int argc, char **argv);

/*
 * rm_ldaptest_main - "relaymilter ldap-test": the directory tried with the
 * config's settings.  Exit 0 when it answered, 1 when not, 78 config.
 */
int rm_ldaptest_main(int argc, char **argv);

/* rm_miltermap_main - "relaymilter milter-map": the smtpd_milter_maps table. */
int rm_miltermap_main(int argc, char **argv);

#endif
