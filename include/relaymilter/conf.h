/*
 * conf.h - the configuration file (libconfig syntax): read, then compiled.
 *
 * Reading (conf.c, confldap.c: the only users of <libconfig.h>) checks
 * every key against the declaration tables (an unknown key is an error)
 * and gives plain data (confdata.h): the daemon's settings and the
 * policy's input.  Compiling (compile.c) turns that, with entries from
 * elsewhere (LDAP), into a new rm_ruleset.  Any error is fatal and
 * reported as "file:line: message"; the caller keeps what it had.
 */
#ifndef RM_CONF_H
#define RM_CONF_H

#include <stddef.h>
#include <sys/types.h>

#include "relaymilter/ruleset.h"

/* the build sets it from CMAKE_INSTALL_FULL_SYSCONFDIR */
#ifndef RM_CONF_DEFAULT
#define RM_CONF_DEFAULT "/etc/relaymilter/relaymilter.conf"
#endif

struct rm_conf;
struct rm_settings;

/*
 * rm_conf_read - read path: NULL with "file:line: message" in errbuf, or
 * the config (free it with rm_conf_free()).  rm_conf_read_string - the
 * same of a config held in memory (a NUL-terminated string); name stands
 * for the file in errors and origins ("-" if NULL), and an @include in it
 * is read from the file system.
 */
struct rm_conf *rm_conf_read(const char *path, char *errbuf, size_t errlen);
struct rm_conf *rm_conf_read_string(const char *text, const char *name,
                                    char *errbuf, size_t errlen);
void rm_conf_free(struct rm_conf *);

/* rm_conf_settings - the daemon's settings the file gave. */
const struct rm_settings *rm_conf_settings(const struct rm_conf *);

/*
 * rm_conf_extra - called by rm_conf_compile() once the file's entries are
 * in and the profiles resolved, before the sets are indexed: adds entries
 * from elsewhere (LDAP) with rm_ruleset_add().  0, or -1 with errbuf set.
 */
typedef int rm_conf_extra(void *arg, struct rm_ruleset *, char *errbuf,
                          size_t errlen);

/*
 * rm_conf_compile - the ruleset of a config, with extra entries (extra may
 * be NULL): one reference, or NULL with "file:line: message" in errbuf.
 * The config is not changed: it can be compiled again.
 */
struct rm_ruleset *rm_conf_compile(const struct rm_conf *, rm_conf_extra *extra,
                                   void *arg, char *errbuf, size_t errlen);

/*
 * rm_conf_load - read and compile path.  Return a ruleset with one
 * reference, or NULL with "file:line: message" in errbuf.
 */
struct rm_ruleset *rm_conf_load(const char *path, char *errbuf, size_t errlen);

/*
 * rm_conf_load_string - rm_conf_load() on a config held in memory (a
 * NUL-terminated string).  name stands for the file in errors
 * ("name:line: message") and in the origins of entries ("-" if NULL).  An
 * @include in text is read from the file system like one in a file.
 */
struct rm_ruleset *rm_conf_load_string(const char *text, const char *name,
                                       char *errbuf, size_t errlen);

/* rm_conf_build - read and compile with extra entries (extra may be NULL). */
struct rm_ruleset *rm_conf_build(const char *path, rm_conf_extra *extra,
                                 void *arg, char *errbuf, size_t errlen);

/*
 * rm_conf_socket_check - a libmilter socket spec we accept: "unix:/abs",
 * "local:/abs", "inet:PORT[@HOST]", "inet6:PORT[@HOST]".  Return 0, or -1
 * with the reason in err.
 */
int rm_conf_socket_check(const char *spec, char *err, size_t errlen);

/*
 * rm_conf_group - a group by name, or by number (which need not exist in
 * the group database).  0 with *gid set, or -1.
 */
int rm_conf_group(const char *name, gid_t *gid);

#endif
