/*
 * domset.c - domain sets as an open-addressing hash table.
 *
 * Each slot holds one name (lower-cased, without the leading dot of a
 * subtree pattern) and up to two tags: one for the exact pattern, one for
 * the subtree pattern.  A lookup probes the full name for an exact entry,
 * then each parent name for a subtree entry, closest first, so its cost is
 * one probe per label and does not grow with the size of the set.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/domset.h"
#include "relaymilter/rm.h"

#define NAME_MAX_LEN 253

struct slot {
	char *s_name; /* NULL: empty slot */
	uint32_t s_hash;
	uint32_t s_len;
	const void *s_exact; /* tag of "name", when has_exact */
	const void *s_sub;   /* tag of ".name", when has_sub */
	unsigned char s_has_exact, s_has_sub;
};

struct rm_domset {
	struct slot *ds_slots;
	size_t ds_mask;  /* table size - 1 (size is a power of two) */
	size_t ds_used;  /* occupied slots */
	size_t ds_count; /* patterns (exact + subtree) */
};

static inline unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/*
 * FNV-1a over the lower-cased bytes, then mixed: FNV's low bits depend
 * only on the low bits of each byte, and the table index is the low bits,
 * so similar names ("d1.example", "d2.example") would cluster.
 */
static uint32_t
hash_name(const char *s, size_t len)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= lower((unsigned char)s[i]);
		h *= 16777619u;
	}
	return rm_hash_mix(h);
}

static int
same_name(const struct slot *sl, const char *s, size_t len)
{
	size_t i;

	if (sl->s_len != len)
		return 0;
	for (i = 0; i < len; i++)
		if (sl->s_name[i] != (char)lower((unsigned char)s[i]))
			return 0;
	return 1;
}

static const struct slot *
find(const struct rm_domset *ds, const char *s, size_t len)
{
	uint32_t h;
	size_t i;

	if (ds->ds_slots == NULL)
		return NULL;
	h = hash_name(s, len);
	for (i = h & ds->ds_mask;; i = (i + 1) & ds->ds_mask) {
		const struct slot *sl = &ds->ds_slots[i];

		if (sl->s_name == NULL)
			return NULL;
		if (sl->s_hash == h && same_name(sl, s, len))
			return sl;
	}
}

struct rm_domset *
rm_domset_new(void)
{
	return calloc(1, sizeof(struct rm_domset));
}

int
rm_domain_check(const char *p, char *errbuf, size_t errlen)
{
	size_t len, label = 0, i;

	if (p == NULL || *p == '\0') {
		snprintf(errbuf, errlen, "empty domain");
		return -1;
	}
	if (p[0] == '*') {
		snprintf(errbuf, errlen,
		         "wildcards are not supported; write "
		         "\".domain\" for every subdomain");
		return -1;
	}
	if (p[0] == '.')
		p++;
	len = strlen(p);
	if (len > 0 && p[len - 1] == '.')
		len--; /* one trailing (root) dot is allowed */
	if (len == 0) {
		snprintf(errbuf, errlen, "empty domain");
		return -1;
	}
	if (len > NAME_MAX_LEN) {
		snprintf(errbuf, errlen, "domain longer than %d bytes",
		         NAME_MAX_LEN);
		return -1;
	}
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)p[i] : '.';

		if (c == '.') {
			if (label == 0) {
				snprintf(errbuf, errlen, "empty label");
				return -1;
			}
			if (p[i - 1] == '-' || p[i - label] == '-') {
				snprintf(errbuf, errlen,
				         "label starts or ends with '-'");
				return -1;
			}
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_')) {
			if (c >= 0x21 && c <= 0x7e)
				snprintf(errbuf, errlen,
				         "invalid character '%c'", c);
			else
				snprintf(errbuf, errlen,
				         "domain has an invalid byte 0x%02x "
				         "(use the A-label form for IDN)",
				         c);
			return -1;
		}
		if (++label > 63) {
			snprintf(errbuf, errlen, "label longer than 63 bytes");
			return -1;
		}
	}
	return 0;
}

static int
grow(struct rm_domset *ds)
{
	size_t nsize = ds->ds_slots ? (ds->ds_mask + 1) * 2 : 16, i;
	struct slot *ns;

	if ((ns = calloc(nsize, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; ds->ds_slots && i <= ds->ds_mask; i++) {
		struct slot *o = &ds->ds_slots[i];
		size_t j;

		if (o->s_name == NULL)
			continue;
		for (j = o->s_hash & (nsize - 1); ns[j].s_name != NULL;
		     j = (j + 1) & (nsize - 1))
			;
		ns[j] = *o;
	}
	free(ds->ds_slots);
	ds->ds_slots = ns;
	ds->ds_mask = nsize - 1;
	return 0;
}

int
rm_domset_add(struct rm_domset *ds, const char *pattern, const void *tag,
              char *errbuf, size_t errlen)
{
	const char *name = pattern;
	size_t len, i;
	uint32_t h;
	struct slot *sl;
	int sub;

	if (rm_domain_check(pattern, errbuf, errlen) != 0)
		return -1;
	sub = name[0] == '.';
	if (sub)
		name++;
	len = strlen(name);
	if (name[len - 1] == '.')
		len--;
	/* keep the load factor at or below 1/2 */
	if ((ds->ds_used + 1) * 2 > (ds->ds_slots ? ds->ds_mask + 1 : 0) &&
	    grow(ds) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	h = hash_name(name, len);
	for (i = h & ds->ds_mask;; i = (i + 1) & ds->ds_mask) {
		sl = &ds->ds_slots[i];
		if (sl->s_name == NULL ||
		    (sl->s_hash == h && same_name(sl, name, len)))
			break;
	}
	if (sl->s_name == NULL) {
		if ((sl->s_name = malloc(len + 1)) == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			return -1;
		}
		for (i = 0; i < len; i++)
			sl->s_name[i] = (char)lower((unsigned char)name[i]);
		sl->s_name[len] = '\0';
		sl->s_len = (uint32_t)len;
		sl->s_hash = h;
		ds->ds_used++;
	}
	/* a duplicate keeps the first tag: the first entry is the one
	 * --explain points at */
	if (sub && !sl->s_has_sub) {
		sl->s_has_sub = 1;
		sl->s_sub = tag;
		ds->ds_count++;
	} else if (!sub && !sl->s_has_exact) {
		sl->s_has_exact = 1;
		sl->s_exact = tag;
		ds->ds_count++;
	}
	return 0;
}

int
rm_domset_finish(struct rm_domset *ds)
{
	(void)ds; /* the table is always ready; kept for a future layout */
	return 0;
}

bool
rm_domset_lookup(const struct rm_domset *ds, const char *name, const void **tag)
{
	const struct slot *sl;
	size_t len;
	const char *p;

	if (ds == NULL || name == NULL || ds->ds_count == 0)
		return false;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	sl = find(ds, name, len);
	if (sl != NULL && sl->s_has_exact) {
		if (tag != NULL)
			*tag = sl->s_exact;
		return true;
	}
	/* each parent, closest first */
	for (p = memchr(name, '.', len); p != NULL;
	     p = memchr(p + 1, '.', len - (size_t)(p + 1 - name))) {
		size_t plen = len - (size_t)(p + 1 - name);

		if (plen == 0)
			break;
		sl = find(ds, p + 1, plen);
		if (sl != NULL && sl->s_has_sub) {
			if (tag != NULL)
				*tag = sl->s_sub;
			return true;
		}
	}
	return false;
}

size_t
rm_domset_count(const struct rm_domset *ds)
{
	return ds ? ds->ds_count : 0;
}

void
rm_domset_free(struct rm_domset *ds)
{
	size_t i;

	if (ds == NULL)
		return;
	for (i = 0; ds->ds_slots && i <= ds->ds_mask; i++)
		free(ds->ds_slots[i].s_name);
	free(ds->ds_slots);
	free(ds);
}
