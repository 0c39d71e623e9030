/*
 * strset.c - sets of whole strings, ASCII case-insensitive (strset.h).
 *
 * A sorted array of copies: the lists it serves (deny.logins,
 * exceptions.logins) are short, and a binary search needs no index.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

#include "relaymilter/strset.h"

#define STRSET_MAX_LEN 255

struct strent {
	char *se_s;
	const void *se_tag;
	size_t se_order; /* insertion order: a duplicate keeps the first */
};

struct rm_strset {
	struct strent *ss_v;
	size_t ss_n, ss_cap;
};

struct rm_strset *
rm_strset_new(void)
{
	return calloc(1, sizeof(struct rm_strset));
}

int
rm_strset_add(struct rm_strset *ss, const char *s, const void *tag, char *err,
              size_t errlen)
{
	struct strent *v;
	size_t i, n = strlen(s);

	if (n == 0 || n > STRSET_MAX_LEN) {
		snprintf(err, errlen, "expected 1 to %d bytes", STRSET_MAX_LEN);
		return -1;
	}
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f) {
			snprintf(err, errlen,
			         "space, control or non-ASCII byte at %zu",
			         i + 1);
			return -1;
		}
	if (ss->ss_n == ss->ss_cap) {
		size_t cap = ss->ss_cap ? ss->ss_cap * 2 : 8;

		if ((v = realloc(ss->ss_v, cap * sizeof(*v))) == NULL)
			goto oom;
		ss->ss_v = v;
		ss->ss_cap = cap;
	}
	if ((ss->ss_v[ss->ss_n].se_s = strdup(s)) == NULL)
		goto oom;
	ss->ss_v[ss->ss_n].se_tag = tag;
	ss->ss_v[ss->ss_n].se_order = ss->ss_n;
	ss->ss_n++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int
ent_cmp(const void *a, const void *b)
{
	const struct strent *x = a, *y = b;
	int c = strcasecmp(x->se_s, y->se_s);

	if (c != 0)
		return c;
	return x->se_order < y->se_order ? -1 : x->se_order > y->se_order;
}

int
rm_strset_finish(struct rm_strset *ss)
{
	if (ss->ss_n > 1)
		qsort(ss->ss_v, ss->ss_n, sizeof(*ss->ss_v), ent_cmp);
	return 0;
}

bool
rm_strset_lookup(const struct rm_strset *ss, const char *s, const void **tag)
{
	size_t lo = 0, hi, mid;
	int c;

	if (ss == NULL || s == NULL || ss->ss_n == 0)
		return false;
	hi = ss->ss_n;
	/* the first entry not below s: of duplicates, the first added */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcasecmp(ss->ss_v[mid].se_s, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ss->ss_n || (c = strcasecmp(ss->ss_v[lo].se_s, s)) != 0)
		return false;
	*tag = ss->ss_v[lo].se_tag;
	return true;
}

size_t
rm_strset_count(const struct rm_strset *ss)
{
	return ss != NULL ? ss->ss_n : 0;
}

void
rm_strset_free(struct rm_strset *ss)
{
	size_t i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->ss_n; i++)
		free(ss->ss_v[i].se_s);
	free(ss->ss_v);
	free(ss);
}
