/*
 * ldapset.h - the LDAP records of each directory entry, keyed by the
 * entry's list and entryUUID, for content synchronisation (ldapsync.c).
 *
 * The server names entries by entryUUID: an add or a modify (a rename
 * too: the UUID stays) replaces every record of that entry, a delete
 * removes them, and a refresh with a present phase removes the entries
 * it did not name.  Records read without an entryUUID (a cache file of
 * format 1) are keyed by their DN; a full refresh replaces them.  Nothing
 * here talks to LDAP: the change of one entry is one call, so that a
 * later caller can feed it elsewhere than to a full rebuild.
 */
#ifndef RM_LDAPSET_H
#define RM_LDAPSET_H

#include <stdbool.h>
#include <stddef.h>

#include "relaymilter/ldapdata.h"
#include "relaymilter/ldapdelta.h"

/* What the server said of an entry (RFC 4533 syncStateValue). */
enum rm_sync_state {
	RM_SYNC_PRESENT, /* unchanged since the cookie */
	RM_SYNC_ADD,
	RM_SYNC_MODIFY,
	RM_SYNC_DELETE
};

struct rm_ldapent; /* one entry of one list: its records */

struct rm_ldapset {
	struct rm_ldapent **s_bucket;
	size_t s_nb; /* buckets, a power of two */
	size_t s_n;  /* entries */
	/*
	 * Where each change is noted, record by record (the records an entry
	 * had, gone; those it has, new), or NULL; s_notes_lost: a note failed
	 * (out of memory), the notes are not the whole story.
	 */
	struct rm_ldapdelta *s_notes;
	bool s_notes_lost;
};

void rm_ldapset_init(struct rm_ldapset *);
void rm_ldapset_free(struct rm_ldapset *);

/*
 * rm_ldapset_seed - the set from a record set (its records grouped by list
 * and entryUUID, else DN).  0, or -1 when out of memory (the set empty).
 */
int rm_ldapset_seed(struct rm_ldapset *, const struct rm_ldapdata *);

/*
 * rm_ldapset_apply - one entry's change in one list: ADD and MODIFY give
 * the entry's records (n may be 0: an entry without a usable value),
 * replacing what it had; DELETE removes it; PRESENT only marks it seen
 * (see rm_ldapset_begin).  Every change also marks the entry seen.
 * Returns 1 when the records changed, 0 when not, -1 out of memory.
 */
int rm_ldapset_apply(struct rm_ldapset *, int list, const char *uuid,
                     enum rm_sync_state, const struct rm_ldaprec *recs,
                     size_t n);

/* rm_ldapset_begin - a refresh of the list starts: no entry is seen. */
void rm_ldapset_begin(struct rm_ldapset *, int list);

/*
 * rm_ldapset_end_present - a present phase of the list ended: the entries
 * not seen since rm_ldapset_begin are gone.  Returns how many.
 */
size_t rm_ldapset_end_present(struct rm_ldapset *, int list);

/* rm_ldapset_records - every record into out (sorted); 0, or -1 (no memory) */
int rm_ldapset_records(const struct rm_ldapset *, struct rm_ldapdata *out);

#endif
