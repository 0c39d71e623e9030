/*
 * holders.c - the holders of keys (holders.h): an open-addressing table
 * of keys, each with a growing array of tags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/holders.h"
#include "relaymilter/rm.h"

static uint32_t
hash_key(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return rm_hash_mix(h);
}

static struct rm_hentry *
find(const struct rm_holders *m, const char *key, uint32_t h)
{
	size_t i;

	for (i = h & m->h_mask;; i = (i + 1) & m->h_mask) {
		struct rm_hentry *e = &m->h_v[i];

		if (e->he_key == NULL ||
		    (e->he_hash == h && strcmp(e->he_key, key) == 0))
			return e;
	}
}

const struct rm_hentry *
rm_holders_get(const struct rm_holders *m, const char *key)
{
	const struct rm_hentry *e;

	if (m->h_v == NULL)
		return NULL;
	e = find(m, key, hash_key(key));
	return e->he_key != NULL ? e : NULL;
}

static int
grow(struct rm_holders *m)
{
	size_t size = m->h_v ? (m->h_mask + 1) * 2 : 16, i, j;
	struct rm_hentry *nv = calloc(size, sizeof(*nv));

	if (nv == NULL)
		return -1;
	for (i = 0; m->h_v != NULL && i <= m->h_mask; i++) {
		if (m->h_v[i].he_key == NULL)
			continue;
		for (j = m->h_v[i].he_hash & (size - 1); nv[j].he_key != NULL;
		     j = (j + 1) & (size - 1))
			;
		nv[j] = m->h_v[i];
	}
	free(m->h_v);
	m->h_v = nv;
	m->h_mask = size - 1;
	return 0;
}

/* entry - the entry of key, made empty if new (*made); NULL no memory */
static struct rm_hentry *
entry(struct rm_holders *m, const char *key, bool *made)
{
	uint32_t h = hash_key(key);
	struct rm_hentry *e;

	*made = false;
	if ((m->h_used + 1) * 4 > (m->h_v ? m->h_mask + 1 : 0) * 3 &&
	    grow(m) != 0)
		return NULL;
	e = find(m, key, h);
	if (e->he_key != NULL)
		return e;
	if ((e->he_key = strdup(key)) == NULL)
		return NULL;
	e->he_hash = h;
	m->h_used++;
	*made = true;
	return e;
}

static int
entry_push(struct rm_hentry *e, const void *tag)
{
	if (e->he_n == e->he_cap) {
		size_t cap = e->he_cap ? e->he_cap * 2 : 2;
		const void **v = realloc(e->he_tag, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		e->he_tag = v;
		e->he_cap = cap;
	}
	e->he_tag[e->he_n++] = tag;
	return 0;
}

int
rm_holders_push(struct rm_holders *m, const char *key, const void *tag)
{
	bool made;
	struct rm_hentry *e = entry(m, key, &made);

	return e != NULL ? entry_push(e, tag) : -1;
}

size_t
rm_holders_each(const struct rm_hentry *e, rm_holder_fn *fn, void *arg)
{
	size_t i;

	if (e == NULL)
		return 0;
	for (i = 0; fn != NULL && i < e->he_n; i++)
		fn(arg, e->he_tag[i]);
	return e->he_n;
}

const struct rm_hentry *
rm_holders_next(const struct rm_holders *m, size_t *i)
{
	for (; m->h_v != NULL && *i <= m->h_mask; (*i)++)
		if (m->h_v[*i].he_key != NULL)
			return &m->h_v[(*i)++];
	return NULL;
}

struct seed {
	struct rm_hentry *e;
	int err;
};

static void
seed_one(void *arg, const void *tag)
{
	struct seed *s = arg;

	if (entry_push(s->e, tag) != 0)
		s->err = -1;
}

int
rm_holders_change(struct rm_holders *m, const char *key, const void *tag,
                  bool add, const void *base, rm_key_holders_fn *base_holders,
                  char *errbuf, size_t errlen)
{
	struct rm_hentry *e;
	struct seed s = {NULL, 0};
	bool made;
	size_t i;

	if (base == NULL) {
		snprintf(errbuf, errlen, "not a layer");
		return -1;
	}
	if ((e = entry(m, key, &made)) == NULL)
		goto oom;
	if (made) {
		s.e = e;
		base_holders(base, key, seed_one, &s);
		e->he_was = e->he_n;
		if (s.err != 0)
			goto oom;
	}
	if (add) {
		if (entry_push(e, tag) != 0)
			goto oom;
		return 0;
	}
	for (i = 0; i < e->he_n && e->he_tag[i] != tag; i++)
		;
	if (i == e->he_n) {
		snprintf(errbuf, errlen, "no such entry");
		return -1;
	}
	memmove(&e->he_tag[i], &e->he_tag[i + 1],
	        (e->he_n - i - 1) * sizeof(*e->he_tag));
	e->he_n--;
	return 0;
oom:
	snprintf(errbuf, errlen, "out of memory");
	return -1;
}

size_t
rm_holders_of(const struct rm_holders *m, const void *set, const void *base,
              const char *key, rm_key_holders_fn *holders, rm_holder_fn *fn,
              void *arg)
{
	const struct rm_hentry *e;

	if (base == NULL)
		return holders(set, key, fn, arg);
	if ((e = rm_holders_get(m, key)) != NULL)
		return rm_holders_each(e, fn, arg);
	return holders(base, key, fn, arg);
}

void
rm_holders_free(struct rm_holders *m)
{
	size_t i;

	for (i = 0; m->h_v != NULL && i <= m->h_mask; i++) {
		free(m->h_v[i].he_key);
		free(m->h_v[i].he_tag);
	}
	free(m->h_v);
	m->h_v = NULL;
	m->h_mask = m->h_used = 0;
}
