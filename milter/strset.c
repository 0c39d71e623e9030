/*
 * strset.c - sets of whole strings, ASCII case-insensitive (strset.h).
 *
 * A sorted array of copies: the lists it serves (deny.logins,
 * exceptions.logins) are short, and a binary search needs no index.
 * Duplicates stay, in the order they came, behind the first.  A layer is
 * an array of its own over its base: an entry for each string it
 * changed, with the first tag now or GONE; a search that misses there
 * goes on to the base.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>

#include "relaymilter/holders.h"
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
	const struct rm_strset *ss_base; /* a layer's base, else NULL */
	size_t ss_count;                 /* a layer's entries, as if built */
	struct rm_holders ss_hold;       /* a layer's: the holders it changed */
};

/* a layer's tag of a string with no entry left */
static const char GONE[1];

struct rm_strset *
rm_strset_new(void)
{
	return calloc(1, sizeof(struct rm_strset));
}

struct rm_strset *
rm_strset_layer(const struct rm_strset *base)
{
	struct rm_strset *ss;

	if (base == NULL || base->ss_base != NULL ||
	    (ss = rm_strset_new()) == NULL)
		return NULL;
	ss->ss_base = base;
	ss->ss_count = base->ss_n;
	return ss;
}

/* check - s is a valid entry; its key (lower-cased) into key */
static int
check(const char *s, char *key, char *err, size_t errlen)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > STRSET_MAX_LEN) {
		snprintf(err, errlen, "expected 1 to %d bytes", STRSET_MAX_LEN);
		return -1;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && ((unsigned char)s[i] <= 0x20 ||
		              (unsigned char)s[i] >= 0x7f)) {
			snprintf(err, errlen,
			         "space, control or non-ASCII byte at %zu",
			         i + 1);
			return -1;
		}
		key[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	}
	return 0;
}

/* push - a new entry at the end of the array */
static int
push(struct rm_strset *ss, const char *s, const void *tag)
{
	struct strent *v;

	if (ss->ss_n == ss->ss_cap) {
		size_t cap = ss->ss_cap ? ss->ss_cap * 2 : 8;

		if ((v = realloc(ss->ss_v, cap * sizeof(*v))) == NULL)
			return -1;
		ss->ss_v = v;
		ss->ss_cap = cap;
	}
	if ((ss->ss_v[ss->ss_n].se_s = strdup(s)) == NULL)
		return -1;
	ss->ss_v[ss->ss_n].se_tag = tag;
	ss->ss_v[ss->ss_n].se_order = ss->ss_n;
	ss->ss_n++;
	return 0;
}

static size_t key_holders(const void *, const char *, rm_holder_fn *, void *);

int
rm_strset_add(struct rm_strset *ss, const char *s, const void *tag, char *err,
              size_t errlen)
{
	char key[STRSET_MAX_LEN + 1];

	if (check(s, key, err, errlen) != 0)
		return -1;
	if (ss->ss_base != NULL)
		return rm_holders_change(&ss->ss_hold, key, tag, true,
		                         ss->ss_base, key_holders, err, errlen);
	if (push(ss, s, tag) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
rm_strset_remove(struct rm_strset *ss, const char *s, const void *tag,
                 char *err, size_t errlen)
{
	char key[STRSET_MAX_LEN + 1];

	if (check(s, key, err, errlen) != 0)
		return -1;
	return rm_holders_change(&ss->ss_hold, key, tag, false, ss->ss_base,
	                         key_holders, err, errlen);
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

static void
free_entries(struct rm_strset *ss)
{
	size_t i;

	for (i = 0; i < ss->ss_n; i++)
		free(ss->ss_v[i].se_s);
	free(ss->ss_v);
	ss->ss_v = NULL;
	ss->ss_n = ss->ss_cap = 0;
}

/* layer_build - the layer's entries from its changes: first tag or GONE */
static int
layer_build(struct rm_strset *ss)
{
	const struct rm_hentry *e;
	size_t i = 0, count = ss->ss_base->ss_n;

	free_entries(ss); /* from scratch, should finish come twice */
	while ((e = rm_holders_next(&ss->ss_hold, &i)) != NULL) {
		if (e->he_n == 0 && e->he_was == 0)
			continue;
		if (push(ss, e->he_key, e->he_n > 0 ? e->he_tag[0] : GONE) != 0)
			return -1;
		count = count + e->he_n - e->he_was;
	}
	ss->ss_count = count;
	return 0;
}

int
rm_strset_finish(struct rm_strset *ss)
{
	if (ss->ss_base != NULL && layer_build(ss) != 0)
		return -1;
	if (ss->ss_n > 1)
		qsort(ss->ss_v, ss->ss_n, sizeof(*ss->ss_v), ent_cmp);
	return 0;
}

/* search - the first entry for s (of duplicates, the first added), or NULL */
static const struct strent *
search(const struct rm_strset *ss, const char *s)
{
	size_t lo = 0, hi = ss->ss_n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcasecmp(ss->ss_v[mid].se_s, s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ss->ss_n || strcasecmp(ss->ss_v[lo].se_s, s) != 0)
		return NULL;
	return &ss->ss_v[lo];
}

bool
rm_strset_lookup(const struct rm_strset *ss, const char *s, const void **tag)
{
	const struct strent *e;

	if (ss == NULL || s == NULL)
		return false;
	e = search(ss, s);
	/* a layer's entry hides its base's */
	if (ss->ss_base != NULL && e == NULL)
		e = search(ss->ss_base, s);
	if (e == NULL || e->se_tag == GONE)
		return false;
	if (tag != NULL)
		*tag = e->se_tag;
	return true;
}

/* key_holders - the holders of key in a set (not a layer) */
static size_t
key_holders(const void *set, const char *key, rm_holder_fn *fn, void *arg)
{
	const struct rm_strset *ss = set;
	const struct strent *e = search(ss, key), *end = ss->ss_v + ss->ss_n;
	size_t n = 0;

	for (; e != NULL && e < end && strcasecmp(e->se_s, key) == 0; e++) {
		if (fn != NULL)
			fn(arg, e->se_tag);
		n++;
	}
	return n;
}

size_t
rm_strset_holders(const struct rm_strset *ss, const char *s,
                  void (*fn)(void *arg, const void *tag), void *arg)
{
	char key[STRSET_MAX_LEN + 1], why[128];

	if (ss == NULL || s == NULL || check(s, key, why, sizeof(why)) != 0)
		return 0;
	return rm_holders_of(&ss->ss_hold, ss, ss->ss_base, key, key_holders,
	                     fn, arg);
}

size_t
rm_strset_count(const struct rm_strset *ss)
{
	if (ss == NULL)
		return 0;
	return ss->ss_base != NULL ? ss->ss_count : ss->ss_n;
}

void
rm_strset_free(struct rm_strset *ss)
{
	if (ss == NULL)
		return;
	free_entries(ss);
	rm_holders_free(&ss->ss_hold);
	free(ss);
}
