/*
 * ldapdelta.c - the LDAP changes since a full build, as a layered ruleset.
 *
 * The notes stay small (rm_ldapdelta_full() ends them), so a record is
 * looked for in them by a scan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/ldapdelta.h"

/* take - remove record i of d, keeping the order of the others */
static void
take(struct rm_ldapdata *d, size_t i)
{
	struct rm_ldaprec r = d->d_recs[i];

	memmove(&d->d_recs[i], &d->d_recs[i + 1],
	        (d->d_n - i - 1) * sizeof(*d->d_recs));
	d->d_n--;
	rm_ldaprec_clear(&r);
}

static size_t
find(const struct rm_ldapdata *d, const struct rm_ldaprec *r)
{
	size_t i;

	for (i = 0; i < d->d_n; i++)
		if (rm_ldaprec_cmp(&d->d_recs[i], r) == 0)
			return i;
	return (size_t)-1;
}

int
rm_ldapdelta_note(struct rm_ldapdelta *dl, const struct rm_ldaprec *r,
                  bool gone)
{
	struct rm_ldapdata *undo = gone ? &dl->ld_new : &dl->ld_gone;
	size_t i;

	/* new since the build and gone again (or back): no change */
	if ((i = find(undo, r)) != (size_t)-1) {
		take(undo, i);
		return 0;
	}
	return rm_ldapdata_add(gone ? &dl->ld_gone : &dl->ld_new, r);
}

int
rm_ldapdelta_diff(struct rm_ldapdelta *dl, const struct rm_ldapdata *old,
                  const struct rm_ldapdata *now)
{
	size_t i = 0, j = 0;
	int c;

	while (i < old->d_n || j < now->d_n) {
		if (i == old->d_n)
			c = 1;
		else if (j == now->d_n)
			c = -1;
		else
			c = rm_ldaprec_cmp(&old->d_recs[i], &now->d_recs[j]);
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			if (rm_ldapdelta_note(dl, &old->d_recs[i++], true) != 0)
				return -1;
		} else if (rm_ldapdelta_note(dl, &now->d_recs[j++], false) != 0)
			return -1;
	}
	return 0;
}

size_t
rm_ldapdelta_size(const struct rm_ldapdelta *dl)
{
	return dl->ld_gone.d_n + dl->ld_new.d_n;
}

/*
 * A layer costs a copy of the notes per change and a second probe per
 * lookup: past 4096 notes, or an eighth of the build, the full build is
 * the cheaper way.
 */
#define NOTES_MAX 4096

bool
rm_ldapdelta_full(const struct rm_ldapdelta *dl, size_t nbuilt)
{
	size_t n = rm_ldapdelta_size(dl);

	return n > NOTES_MAX || (n > 64 && n > nbuilt / 8);
}

struct rm_ruleset *
rm_ldapdelta_layer(const struct rm_ldapdelta *dl, struct rm_ruleset *base,
                   void (*warn)(void *, const char *), void *arg, char *err,
                   size_t errlen)
{
	struct rm_entry_spec sp;
	struct rm_ruleset *rs;
	char why[300], origin[600];
	size_t i;

	if ((rs = rm_ruleset_layer(base)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < dl->ld_gone.d_n; i++) {
		const struct rm_ldaprec *r = &dl->ld_gone.d_recs[i];

		/* a record the build skipped (and reported) is not there */
		if (rm_ldaprec_spec(r, &sp, origin, sizeof(origin), why,
		                    sizeof(why)) != 0 ||
		    rm_ruleset_remove(rs, &sp, why, sizeof(why)) == 0 ||
		    strcmp(why, "out of memory") != 0)
			continue;
		snprintf(err, errlen, "%s: %s", origin, why);
		rm_ruleset_release(rs);
		return NULL;
	}
	rm_ldapdata_apply(&dl->ld_new, rs, warn, arg);
	if (rm_ruleset_finish(rs) != 0) {
		snprintf(err, errlen, "out of memory");
		rm_ruleset_release(rs);
		return NULL;
	}
	return rs;
}

/* find_sorted - the index of r in d (sorted), or (size_t)-1 */
static size_t
find_sorted(const struct rm_ldapdata *d, const struct rm_ldaprec *r)
{
	size_t lo = 0, hi = d->d_n, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = rm_ldaprec_cmp(&d->d_recs[mid], r)) == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (size_t)-1;
}

/* upper - the first of recs[0..n) after r */
static size_t
upper(const struct rm_ldaprec *recs, size_t n, const struct rm_ldaprec *r)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rm_ldaprec_cmp(&recs[mid], r) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
cmp_index(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * In place: the gone records are found by bisection and closed up in one
 * pass from the first of them, the new ones merged in from the end, in
 * an array grown by realloc() (for a large one, a remapping: no copy, and
 * no fresh pages to fault in).  A change costs moves behind the first
 * record it touches, never an allocation of the size of the data.
 */
long
rm_ldapdelta_patch(struct rm_ldapdata *d, const struct rm_ldapdelta *dl)
{
	struct rm_ldapdata add = {0};
	struct rm_ldaprec *recs;
	size_t *gone = NULL, ngone = 0, i, j, k, n, at, cap;
	long missing = 0;

	if (rm_ldapdelta_size(dl) == 0)
		return 0;
	for (i = 0; i < dl->ld_new.d_n; i++)
		if (rm_ldapdata_add(&add, &dl->ld_new.d_recs[i]) != 0)
			goto oom;
	rm_ldapdata_sort(&add);
	if (dl->ld_gone.d_n > 0 &&
	    (gone = malloc(dl->ld_gone.d_n * sizeof(*gone))) == NULL)
		goto oom;
	for (i = 0; i < dl->ld_gone.d_n; i++) {
		if ((at = find_sorted(d, &dl->ld_gone.d_recs[i])) == (size_t)-1)
			missing++;
		else
			gone[ngone++] = at;
	}
	if (ngone > 1)
		qsort(gone, ngone, sizeof(*gone), cmp_index);
	for (i = j = 0; i < ngone; i++) /* a record named gone twice */
		if (j == 0 || gone[j - 1] != gone[i])
			gone[j++] = gone[i];
	ngone = j;
	n = d->d_n - ngone + add.d_n;
	if (n > d->d_cap) {
		cap = n + n / 8;
		if ((recs = realloc(d->d_recs, cap * sizeof(*recs))) == NULL)
			goto oom;
		d->d_recs = recs;
		d->d_cap = cap;
	}
	/* the gone ones out, the others closed up block by block */
	for (j = 0, k = ngone > 0 ? gone[0] : d->d_n; j < ngone; j++) {
		rm_ldaprec_clear(&d->d_recs[gone[j]]);
		i = gone[j] + 1;
		at = j + 1 < ngone ? gone[j + 1] : d->d_n;
		memmove(&d->d_recs[k], &d->d_recs[i],
		        (at - i) * sizeof(*d->d_recs));
		k += at - i;
	}
	d->d_n = k;
	/* the new ones in, from the last: each block of old records moves
	   once, behind the place bisection finds */
	n = d->d_n + add.d_n;
	for (i = d->d_n, j = add.d_n; j > 0; j--) {
		at = upper(d->d_recs, i, &add.d_recs[j - 1]);
		memmove(&d->d_recs[at + j], &d->d_recs[at],
		        (i - at) * sizeof(*d->d_recs));
		d->d_recs[at + j - 1] = add.d_recs[j - 1];
		i = at;
	}
	d->d_n = n;
	free(add.d_recs); /* its records moved into d */
	free(gone);
	return missing;
oom:
	free(gone);
	rm_ldapdata_clear(&add);
	return -1;
}

int
rm_ldapdelta_join(struct rm_ldapdelta *dst, const struct rm_ldapdelta *src)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < src->ld_gone.d_n && rc == 0; i++)
		rc = rm_ldapdelta_note(dst, &src->ld_gone.d_recs[i], true);
	for (i = 0; i < src->ld_new.d_n && rc == 0; i++)
		rc = rm_ldapdelta_note(dst, &src->ld_new.d_recs[i], false);
	return rc;
}

int
rm_ldapdelta_move(struct rm_ldapdelta *dst, struct rm_ldapdelta *src)
{
	int rc = rm_ldapdelta_join(dst, src);

	rm_ldapdelta_clear(src);
	return rc;
}

void
rm_ldapdelta_clear(struct rm_ldapdelta *dl)
{
	rm_ldapdata_clear(&dl->ld_gone);
	rm_ldapdata_clear(&dl->ld_new);
}
