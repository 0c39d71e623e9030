/*
 * ldapset.c - the records of each directory entry, keyed by list and
 * entryUUID: a chained hash table that doubles as it fills.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/ldapset.h"

struct rm_ldapent {
	struct rm_ldapent *e_next;
	int e_list;
	bool e_seen;
	char *e_key; /* the entryUUID, or "dn:" and the DN */
	struct rm_ldaprec *e_recs;
	size_t e_n;
};

/* hash - FNV-1a of the key and the list */
static size_t
hash(int list, const char *key)
{
	uint64_t h = 14695981039346656037ULL ^ (unsigned)list;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)h;
}

/* recs_free - an entry's records */
static void
recs_free(struct rm_ldaprec *recs, size_t n)
{
	struct rm_ldapdata d = {0};

	d.d_recs = recs;
	d.d_n = d.d_cap = n;
	rm_ldapdata_clear(&d);
}

static void
ent_free(struct rm_ldapent *e)
{
	recs_free(e->e_recs, e->e_n);
	free(e->e_key);
	free(e);
}

void
rm_ldapset_init(struct rm_ldapset *s)
{
	memset(s, 0, sizeof(*s));
}

void
rm_ldapset_free(struct rm_ldapset *s)
{
	struct rm_ldapent *e, *next;
	size_t b;

	for (b = 0; b < s->s_nb; b++)
		for (e = s->s_bucket[b]; e != NULL; e = next) {
			next = e->e_next;
			ent_free(e);
		}
	free(s->s_bucket);
	s->s_bucket = NULL;
	s->s_nb = s->s_n = 0; /* where changes are noted stays */
}

/* slot - where the entry is, or where it goes (*slot NULL) */
static struct rm_ldapent **
slot(const struct rm_ldapset *s, int list, const char *key)
{
	struct rm_ldapent **p;

	p = &s->s_bucket[hash(list, key) & (s->s_nb - 1)];
	for (; *p != NULL; p = &(*p)->e_next)
		if ((*p)->e_list == list && strcmp((*p)->e_key, key) == 0)
			break;
	return p;
}

/* grow - room for one more entry; 0, or -1 (no memory) */
static int
grow(struct rm_ldapset *s)
{
	struct rm_ldapent **nb, *e, *next;
	size_t n, b, i;

	if (s->s_n < s->s_nb)
		return 0;
	n = s->s_nb ? s->s_nb * 2 : 64;
	if ((nb = calloc(n, sizeof(*nb))) == NULL)
		return -1;
	for (b = 0; b < s->s_nb; b++)
		for (e = s->s_bucket[b]; e != NULL; e = next) {
			next = e->e_next;
			i = hash(e->e_list, e->e_key) & (n - 1);
			e->e_next = nb[i];
			nb[i] = e;
		}
	free(s->s_bucket);
	s->s_bucket = nb;
	s->s_nb = n;
	return 0;
}

/* copy - the records as an array of their own; 0, or -1 (no memory) */
static int
copy(const struct rm_ldaprec *recs, size_t n, struct rm_ldaprec **out,
     size_t *nout)
{
	struct rm_ldapdata d = {0};
	size_t i;

	for (i = 0; i < n; i++)
		if (rm_ldapdata_add(&d, &recs[i]) != 0) {
			rm_ldapdata_clear(&d);
			return -1;
		}
	rm_ldapdata_sort(&d);
	*out = d.d_recs;
	*nout = d.d_n;
	return 0;
}

/* same - the sorted records a equal the (sorted) records b */
static bool
same(const struct rm_ldaprec *a, size_t na, const struct rm_ldaprec *b,
     size_t nb)
{
	struct rm_ldapdata x = {0}, y = {0};

	x.d_recs = (struct rm_ldaprec *)a;
	x.d_n = na;
	y.d_recs = (struct rm_ldaprec *)b;
	y.d_n = nb;
	return rm_ldapdata_equal(&x, &y) != 0;
}

/* note - records gone (or new) into the notes, if any */
static void
note(struct rm_ldapset *s, const struct rm_ldaprec *recs, size_t n, bool gone)
{
	size_t i;

	for (i = 0; s->s_notes != NULL && !s->s_notes_lost && i < n; i++)
		if (rm_ldapdelta_note(s->s_notes, &recs[i], gone) != 0)
			s->s_notes_lost = true;
}

int
rm_ldapset_apply(struct rm_ldapset *s, int list, const char *uuid,
                 enum rm_sync_state st, const struct rm_ldaprec *recs, size_t n)
{
	struct rm_ldapent **p, *e;
	struct rm_ldaprec *nr = NULL;
	size_t nn = 0;

	if (grow(s) != 0)
		return -1;
	p = slot(s, list, uuid);
	e = *p;
	switch (st) {
	case RM_SYNC_PRESENT:
		if (e != NULL)
			e->e_seen = true;
		return 0;
	case RM_SYNC_DELETE:
		if (e == NULL)
			return 0;
		note(s, e->e_recs, e->e_n, true);
		*p = e->e_next;
		ent_free(e);
		s->s_n--;
		return 1;
	case RM_SYNC_ADD:
	case RM_SYNC_MODIFY:
		break;
	}
	if (copy(recs, n, &nr, &nn) != 0)
		return -1;
	if (e != NULL) {
		e->e_seen = true;
		if (same(e->e_recs, e->e_n, nr, nn)) {
			recs_free(nr, nn);
			return 0;
		}
		note(s, e->e_recs, e->e_n, true);
		note(s, nr, nn, false);
		recs_free(e->e_recs, e->e_n);
		e->e_recs = nr;
		e->e_n = nn;
		return 1;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->e_key = strdup(uuid)) == NULL) {
		free(e);
		recs_free(nr, nn);
		return -1;
	}
	e->e_list = list;
	e->e_seen = true;
	e->e_recs = nr;
	e->e_n = nn;
	*p = e;
	s->s_n++;
	note(s, nr, nn, false);
	return 1;
}

/* append - one more record of the entry keyed list and key */
static int
append(struct rm_ldapset *s, const char *key, const struct rm_ldaprec *r)
{
	struct rm_ldapent **p, *e;
	struct rm_ldapdata d = {0};
	int rc;

	if (grow(s) != 0)
		return -1;
	p = slot(s, r->r_list, key);
	if ((e = *p) == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return -1;
		if ((e->e_key = strdup(key)) == NULL) {
			free(e);
			return -1;
		}
		e->e_list = r->r_list;
		*p = e;
		s->s_n++;
	}
	d.d_recs = e->e_recs;
	d.d_n = d.d_cap = e->e_n;
	rc = rm_ldapdata_add(&d, r);
	e->e_recs = d.d_recs; /* moved, even when the copy failed */
	if (rc != 0)
		return -1;
	rm_ldapdata_sort(&d);
	e->e_recs = d.d_recs;
	e->e_n = d.d_n;
	return 0;
}

int
rm_ldapset_seed(struct rm_ldapset *s, const struct rm_ldapdata *d)
{
	char key[4200];
	size_t i;

	rm_ldapset_free(s);
	for (i = 0; i < d->d_n; i++) {
		const struct rm_ldaprec *r = &d->d_recs[i];

		snprintf(key, sizeof(key), "%s%s", r->r_uuid ? "" : "dn:",
		         r->r_uuid ? r->r_uuid
		         : r->r_dn ? r->r_dn
		                   : "");
		if (append(s, key, r) != 0) {
			rm_ldapset_free(s);
			return -1;
		}
	}
	return 0;
}

void
rm_ldapset_begin(struct rm_ldapset *s, int list)
{
	struct rm_ldapent *e;
	size_t b;

	for (b = 0; b < s->s_nb; b++)
		for (e = s->s_bucket[b]; e != NULL; e = e->e_next)
			if (e->e_list == list)
				e->e_seen = false;
}

size_t
rm_ldapset_end_present(struct rm_ldapset *s, int list)
{
	struct rm_ldapent **p, *e;
	size_t b, gone = 0;

	for (b = 0; b < s->s_nb; b++)
		for (p = &s->s_bucket[b]; (e = *p) != NULL;) {
			if (e->e_list != list || e->e_seen) {
				p = &e->e_next;
				continue;
			}
			note(s, e->e_recs, e->e_n, true);
			*p = e->e_next;
			ent_free(e);
			s->s_n--;
			gone++;
		}
	return gone;
}

int
rm_ldapset_records(const struct rm_ldapset *s, struct rm_ldapdata *out)
{
	struct rm_ldapent *e;
	size_t b, i;

	memset(out, 0, sizeof(*out));
	for (b = 0; b < s->s_nb; b++)
		for (e = s->s_bucket[b]; e != NULL; e = e->e_next)
			for (i = 0; i < e->e_n; i++)
				if (rm_ldapdata_add(out, &e->e_recs[i]) != 0) {
					rm_ldapdata_clear(out);
					return -1;
				}
	rm_ldapdata_sort(out);
	return 0;
}
