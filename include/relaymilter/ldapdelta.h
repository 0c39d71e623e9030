/*
 * ldapdelta.h - the LDAP changes since a full build, and the layered
 * ruleset that applies them at the cost of the changes alone.
 *
 * A full build compiles the file and every LDAP record; after it, each
 * change (a refresh that found other data, or a record the server pushed)
 * is noted here as records gone and records new since that build, a
 * record that comes back cancelling its going and the other way round.
 * rm_ldapdelta_layer() then makes a ruleset over the build from the notes:
 * milliseconds for a few changes to a million entries, where the full
 * build takes seconds.  Past a size the notes make a full build cheaper
 * than the layer's upkeep (rm_ldapdelta_full()).
 */
#ifndef RM_LDAPDELTA_H
#define RM_LDAPDELTA_H

#include <stdbool.h>
#include <stddef.h>

#include "relaymilter/ldapdata.h"
#include "relaymilter/ruleset.h"

struct rm_ldapdelta {
	struct rm_ldapdata ld_gone; /* in the build, gone since */
	struct rm_ldapdata ld_new;  /* not in the build, new since */
};

/*
 * rm_ldapdelta_diff - note what changed from old to now (both sorted, as
 * rm_ldapdata_sort() leaves them).  0, or -1 when out of memory (the
 * notes are then incomplete: build in full).
 */
int rm_ldapdelta_diff(struct rm_ldapdelta *, const struct rm_ldapdata *old,
                      const struct rm_ldapdata *now);

/* rm_ldapdelta_note - one record gone (or new); 0, or -1 out of memory. */
int rm_ldapdelta_note(struct rm_ldapdelta *, const struct rm_ldaprec *,
                      bool gone);

/* rm_ldapdelta_size - how many records the notes hold. */
size_t rm_ldapdelta_size(const struct rm_ldapdelta *);

/*
 * rm_ldapdelta_full - the notes have outgrown a layer over a build of
 * nbuilt records: build in full.
 */
bool rm_ldapdelta_full(const struct rm_ldapdelta *, size_t nbuilt);

/*
 * rm_ldapdelta_layer - a finished layer over base with the notes: the gone
 * records removed, the new ones added (a bad one skipped and reported
 * through warn with its DN, as rm_ldapdata_apply() does).  NULL with the
 * reason in err when out of memory.
 */
struct rm_ruleset *rm_ldapdelta_layer(const struct rm_ldapdelta *,
                                      struct rm_ruleset *base,
                                      void (*warn)(void *arg, const char *),
                                      void *arg, char *err, size_t errlen);

/*
 * rm_ldapdelta_patch - apply the notes to d (sorted, and kept so): its
 * gone records removed, the new ones added, its cookies untouched; in
 * place, at the cost of moving the records behind the first one touched,
 * not of a sort or a copy.  Returns how many gone records d did not hold
 * (0 when d and the notes agree), or -1 out of memory (d unchanged).
 */
long rm_ldapdelta_patch(struct rm_ldapdata *d, const struct rm_ldapdelta *);

/* rm_ldapdelta_join - dst notes src's notes too (they cancel); -1 OOM. */
int rm_ldapdelta_join(struct rm_ldapdelta *dst, const struct rm_ldapdelta *src);

/* rm_ldapdelta_move - dst takes src's notes (each noted: they cancel). */
int rm_ldapdelta_move(struct rm_ldapdelta *dst, struct rm_ldapdelta *src);

void rm_ldapdelta_clear(struct rm_ldapdelta *);

#endif
