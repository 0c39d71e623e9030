/*
 * ldapdata.h - policy entries read from LDAP, as plain records.
 *
 * A fetch (ldapsrc.c) fills a record set; the set is compared with the
 * previous one to detect changes, written to the cache file as the last
 * known good copy, read back from it when LDAP is down, and applied to a
 * ruleset.  Nothing here talks to LDAP.
 */
#ifndef RM_LDAPDATA_H
#define RM_LDAPDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "relaymilter/ruleset.h"

struct rm_ldaprec {
	int r_list;       /* enum rm_list_id */
	char *r_value;    /* the pattern */
	char *r_owner;    /* sender_logins: the login, or NULL */
	char *r_listener; /* or NULL */
	char *r_lifts;    /* exceptions: "helo_spoof deny", or NULL */
	char *r_reply;    /* deny: own reply, or NULL */
	char *r_dn;       /* where it came from */
	char *r_uuid;     /* the entry's entryUUID (hex), or NULL */
};

/*
 * A record set, with the content synchronisation state of each list
 * (ldapsync.c): the server's cookie for the data held, and the scope it
 * belongs to (the search's base, filter and attributes, see
 * rm_ldap_sync_scope()); a cookie is only used again for the same scope.
 */
struct rm_ldapdata {
	struct rm_ldaprec *d_recs;
	size_t d_n, d_cap;
	char *d_cookie[RM_L__COUNT]; /* NULL: none */
	char *d_scope[RM_L__COUNT];
};

/* rm_ldapdata_add - append a copy; 0, or -1 when out of memory (the
   array grows by doubling, from 1). */
int rm_ldapdata_add(struct rm_ldapdata *, const struct rm_ldaprec *);
void rm_ldapdata_clear(struct rm_ldapdata *);
/* rm_ldapdata_set_cookie - the list's cookie and scope (NULL: none); 0/-1 */
int rm_ldapdata_set_cookie(struct rm_ldapdata *, int list, const char *cookie,
                           const char *scope);
/* rm_ldapdata_take_cookies - from's cookies and scopes replace d's */
void rm_ldapdata_take_cookies(struct rm_ldapdata *d, struct rm_ldapdata *from);
/* rm_ldapdata_has_cookie - any list has a cookie */
int rm_ldapdata_has_cookie(const struct rm_ldapdata *);

/* rm_ldapdata_sort - a canonical order, so equal sets compare equal. */
void rm_ldapdata_sort(struct rm_ldapdata *);
/* rm_ldapdata_equal - the same records (both sorted); cookies aside. */
int rm_ldapdata_equal(const struct rm_ldapdata *, const struct rm_ldapdata *);

/*
 * rm_ldapdata_save - write the set to path atomically (a temporary file in *
 * the same directory, fsync, rename), owned by uid and gid unless they are
 * (uid_t)-1 and (gid_t)-1, with permissions mode (0: 0600), with the
 * cookies.  rm_ldapdata_load - read it back (a file of format 1, written
 * before cookies and entryUUIDs were kept, loads without them).  Both
 * return 0, or -1 with the reason in err.
 */
int rm_ldapdata_save(const struct rm_ldapdata *, const char *path, uid_t uid,
                     gid_t gid, mode_t mode, char *err, size_t errlen);
int rm_ldapdata_load(struct rm_ldapdata *, const char *path, char *err,
                     size_t errlen);
/*
 * rm_ldapdata_file_has_cookie - the cache file at path ends with cookie
 * lines (what content synchronisation resumes from); a missing or
 * unreadable file has none
 */
bool rm_ldapdata_file_has_cookie(const char *path);

/*
 * The same, a few records at a time, for a writer with other work to do:
 * rm_ldapsave_begin() opens the temporary file and keeps the set's cookies
 * as they are now (NULL, err set, on failure); the set's records must not
 * change until the end.  rm_ldapsave_step() writes up to n records and
 * returns 1 while there are more; at the end it writes the cookies of the
 * start, puts the file in place and frees sv: 0, or -1 with err set.
 * rm_ldapsave_abort() drops a save not ended (and its temporary file).
 */
struct rm_ldapsave;
struct rm_ldapsave *rm_ldapsave_begin(const struct rm_ldapdata *,
                                      const char *path, uid_t uid, gid_t gid,
                                      mode_t mode, char *err, size_t errlen);
int rm_ldapsave_step(struct rm_ldapsave *sv, size_t n, char *err,
                     size_t errlen);
void rm_ldapsave_abort(struct rm_ldapsave *sv);

/*
 * rm_ldapdata_apply - add every record to the ruleset.  A record the
 * ruleset refuses (a malformed CIDR, a bad reply) is skipped and reported
 * through warn with its DN; it never stops the others.  Returns the
 * number skipped.
 */
size_t rm_ldapdata_apply(const struct rm_ldapdata *, struct rm_ruleset *,
                         void (*warn)(void *arg, const char *msg), void *arg);

/* rm_ldaprec_clear - free what a record holds (not the record) */
void rm_ldaprec_clear(struct rm_ldaprec *);

/* rm_ldaprec_cmp - the canonical order of rm_ldapdata_sort() */
int rm_ldaprec_cmp(const struct rm_ldaprec *, const struct rm_ldaprec *);

/*
 * rm_ldaprec_spec - the entry a record adds (origin "ldap:DN", in origin's
 * room).  0, or -1 with the reason (unknown lifts) in err.
 */
int rm_ldaprec_spec(const struct rm_ldaprec *, struct rm_entry_spec *,
                    char *origin, size_t olen, char *err, size_t errlen);

/*
 * rm_ldap_one_line - control bytes of a DN or value become '?' in place, so
 * that what is logged about an entry stays one line whatever the directory
 * holds.  Returns s.
 */
char *rm_ldap_one_line(char *s);

#endif
