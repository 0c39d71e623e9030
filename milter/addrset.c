/*
 * addrset.c - address-pattern sets as one open-addressing string table.
 *
 * Every pattern becomes a key "owner\n" + form, where form is
 * "local@domain", "@domain" or "@.domain", all lower-cased.  A lookup
 * builds the keys the address could match, most specific first, and
 * probes each: one probe per label, whatever the size of the set.  The
 * bare key "owner\n" records how many keys the owner has.
 *
 * The first holder of a key has its tag in the slot; a duplicate's tag
 * waits in as_hold (holders.h).  A layer is a table of its own over its
 * base: a slot for each key it changed, with the first tag now or none
 * left (s_n 0, which hides the base's), and for each owner whose number
 * of keys changed; a probe that misses there goes on to the base.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/addrset.h"
#include "relaymilter/domset.h"
#include "relaymilter/holders.h"
#include "relaymilter/rm.h"

#define OWNER_MAX 256
#define KEY_MAX   (OWNER_MAX + 1 + RM_LOCAL_MAX + 2 + RM_DOMAIN_MAX + 1)

struct slot {
	char *s_key; /* NULL: empty */
	uint32_t s_hash;
	uint32_t s_n; /* a pattern: has a holder (1) or not; an owner: keys */
	const void *s_tag;
};

struct rm_addrset {
	struct slot *as_slots;
	size_t as_mask, as_used, as_count;
	const struct rm_addrset *as_base; /* a layer's base, else NULL */
	/* a set's holders beyond the first of a key; a layer's every holder
	   of each key it changed */
	struct rm_holders as_hold;
};

static rm_key_holders_fn key_holders;

static uint32_t
hash_key(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return rm_hash_mix(h); /* see domset.c */
}

static size_t
lower_copy(char *dst, const char *src, size_t room)
{
	size_t n = 0;

	for (; *src != '\0' && n + 1 < room; src++, n++)
		dst[n] = *src >= 'A' && *src <= 'Z' ? (char)(*src + 32) : *src;
	dst[n] = '\0';
	return n;
}

/* owner_ok - short, and no control byte that could forge a key. */
static bool
owner_ok(const char *owner)
{
	size_t n;

	if (owner == NULL)
		return true;
	for (n = 0; owner[n] != '\0'; n++)
		if ((unsigned char)owner[n] < 0x20 || owner[n] == 0x7f ||
		    n >= OWNER_MAX)
			return false;
	return n > 0;
}

/* owner_prefix - "owner\n" (lower-cased) into key; its length. */
static size_t
owner_prefix(char *key, const char *owner)
{
	size_t n = 0;

	if (owner != NULL)
		n = lower_copy(key, owner, OWNER_MAX + 1);
	key[n++] = '\n';
	key[n] = '\0';
	return n;
}

static struct slot *
find(const struct rm_addrset *as, const char *key, uint32_t h)
{
	size_t i;

	if (as->as_slots == NULL)
		return NULL;
	for (i = h & as->as_mask;; i = (i + 1) & as->as_mask) {
		struct slot *sl = &as->as_slots[i];

		if (sl->s_key == NULL ||
		    (sl->s_hash == h && strcmp(sl->s_key, key) == 0))
			return sl;
	}
}

static int
grow(struct rm_addrset *as)
{
	size_t size = as->as_slots ? (as->as_mask + 1) * 2 : 64, i, j;
	struct slot *ns = calloc(size, sizeof(*ns));

	if (ns == NULL)
		return -1;
	for (i = 0; as->as_slots != NULL && i <= as->as_mask; i++) {
		if (as->as_slots[i].s_key == NULL)
			continue;
		for (j = as->as_slots[i].s_hash & (size - 1); ns[j].s_key;
		     j = (j + 1) & (size - 1))
			;
		ns[j] = as->as_slots[i];
	}
	free(as->as_slots);
	as->as_slots = ns;
	as->as_mask = size - 1;
	return 0;
}

/* put - the slot of key, new (*made) with tag if absent; NULL no memory */
static struct slot *
put(struct rm_addrset *as, const char *key, const void *tag, bool *made)
{
	uint32_t h = hash_key(key);
	struct slot *sl;

	*made = false;
	if ((as->as_used + 1) * 4 > (as->as_slots ? as->as_mask + 1 : 0) * 3 &&
	    grow(as) != 0)
		return NULL;
	sl = find(as, key, h);
	if (sl->s_key != NULL)
		return sl;
	if ((sl->s_key = strdup(key)) == NULL)
		return NULL;
	sl->s_hash = h;
	sl->s_tag = tag;
	as->as_used++;
	*made = true;
	return sl;
}

static void
free_slots(struct rm_addrset *as)
{
	size_t i;

	for (i = 0; as->as_slots != NULL && i <= as->as_mask; i++)
		free(as->as_slots[i].s_key);
	free(as->as_slots);
	as->as_slots = NULL;
	as->as_mask = as->as_used = 0;
}

struct rm_addrset *
rm_addrset_new(void)
{
	return calloc(1, sizeof(struct rm_addrset));
}

struct rm_addrset *
rm_addrset_layer(const struct rm_addrset *base)
{
	struct rm_addrset *as;

	if (base == NULL || base->as_base != NULL ||
	    (as = rm_addrset_new()) == NULL)
		return NULL;
	as->as_base = base;
	as->as_count = base->as_count;
	return as;
}

/* make_key - the key of pattern under owner; 0, -1 with the reason */
static int
make_key(char *key, const char *owner, const char *pattern, char *errbuf,
         size_t errlen)
{
	char why[128];
	struct rm_addr a;
	const char *p = pattern, *at;
	size_t n;

	if (!owner_ok(owner)) {
		snprintf(errbuf, errlen,
		         "a login must be 1 to %d printable bytes", OWNER_MAX);
		return -1;
	}
	n = owner_prefix(key, owner);
	at = strrchr(p, '@');
	if (at != NULL && at != p) {
		/* a whole address: the parser knows every disguise */
		if (rm_addr_parse(p, &a, why, sizeof(why)) != 0) {
			snprintf(errbuf, errlen, "%s", why);
			return -1;
		}
		if (a.a_flags &
		    (RM_ADDR_NULL | RM_ADDR_SOURCE_ROUTE | RM_ADDR_ROUTING |
		     RM_ADDR_LITERAL | RM_ADDR_UNQUALIFIED)) {
			snprintf(errbuf, errlen,
			         "expected user@domain, domain or .domain");
			return -1;
		}
		n += lower_copy(key + n, a.a_local, KEY_MAX - n);
		key[n++] = '@';
		lower_copy(key + n, a.a_domain, KEY_MAX - n);
	} else {
		if (*p == '@')
			p++;
		if (rm_domain_check(p, why, sizeof(why)) != 0) {
			snprintf(errbuf, errlen, "%s", why);
			return -1;
		}
		key[n++] = '@';
		n += lower_copy(key + n, p, KEY_MAX - n);
		if (n > 0 && key[n - 1] == '.')
			key[--n] = '\0';
	}
	return 0;
}

int
rm_addrset_add(struct rm_addrset *as, const char *owner, const char *pattern,
               const void *tag, char *errbuf, size_t errlen)
{
	char key[KEY_MAX];
	struct slot *sl;
	bool made;

	if (make_key(key, owner, pattern, errbuf, errlen) != 0)
		return -1;
	if (as->as_base != NULL)
		return rm_holders_change(&as->as_hold, key, tag, true,
		                         as->as_base, key_holders, errbuf,
		                         errlen);
	if ((sl = put(as, key, tag, &made)) == NULL)
		goto oom;
	/* a duplicate keeps the first tag; the others wait behind it */
	if (!made) {
		if (rm_holders_push(&as->as_hold, key, tag) != 0)
			goto oom;
		return 0;
	}
	sl->s_n = 1;
	as->as_count++;
	owner_prefix(key, owner);
	if ((sl = put(as, key, NULL, &made)) == NULL)
		goto oom;
	sl->s_n++;
	return 0;
oom:
	snprintf(errbuf, errlen, "out of memory");
	return -1;
}

int
rm_addrset_remove(struct rm_addrset *as, const char *owner, const char *pattern,
                  const void *tag, char *errbuf, size_t errlen)
{
	char key[KEY_MAX];

	if (make_key(key, owner, pattern, errbuf, errlen) != 0)
		return -1;
	return rm_holders_change(&as->as_hold, key, tag, false, as->as_base,
	                         key_holders, errbuf, errlen);
}

/* owner_keys - how many keys owner (its key) has in a set */
static uint32_t
owner_keys(const struct rm_addrset *as, const char *okey)
{
	const struct slot *sl = find(as, okey, hash_key(okey));

	return sl != NULL && sl->s_key != NULL ? sl->s_n : 0;
}

/*
 * layer_build - the layer's table from its changes: each changed key with
 * its first tag or none, and each owner that gained or lost keys.
 */
static int
layer_build(struct rm_addrset *as)
{
	const struct rm_hentry *e;
	struct slot *sl;
	char okey[OWNER_MAX + 2];
	size_t i = 0, count = as->as_base->as_count, n;
	bool made;
	int d;

	free_slots(as); /* from scratch, should finish come twice */
	while ((e = rm_holders_next(&as->as_hold, &i)) != NULL) {
		if (e->he_n == 0 && e->he_was == 0)
			continue;
		sl = put(as, e->he_key, e->he_n > 0 ? e->he_tag[0] : NULL,
		         &made);
		if (sl == NULL)
			return -1;
		sl->s_n = e->he_n > 0;
		d = (e->he_n > 0) - (e->he_was > 0);
		if (d == 0)
			continue;
		count += (size_t)d;
		n = (size_t)(strchr(e->he_key, '\n') - e->he_key) + 1;
		memcpy(okey, e->he_key, n);
		okey[n] = '\0';
		if ((sl = put(as, okey, NULL, &made)) == NULL)
			return -1;
		if (made)
			sl->s_n = owner_keys(as->as_base, okey);
		sl->s_n += (uint32_t)d;
	}
	as->as_count = count;
	return 0;
}

int
rm_addrset_finish(struct rm_addrset *as)
{
	return as->as_base != NULL ? layer_build(as) : 0;
}

/* probe - a layer's key hides its base's; a key without holders is none */
static bool
probe(const struct rm_addrset *as, const char *key, const void **tag)
{
	uint32_t h = hash_key(key);
	const struct slot *sl;

	for (;; as = as->as_base) {
		sl = find(as, key, h);
		if (sl != NULL && sl->s_key != NULL) {
			if (sl->s_n == 0)
				return false;
			if (tag != NULL)
				*tag = sl->s_tag;
			return true;
		}
		if (as->as_base == NULL)
			return false;
	}
}

bool
rm_addrset_lookup(const struct rm_addrset *as, const char *owner,
                  const struct rm_addr *a, const void **tag)
{
	char key[KEY_MAX];
	size_t n, d;
	const char *dom;

	if (as->as_count == 0 ||
	    (a->a_flags &
	     (RM_ADDR_NULL | RM_ADDR_UNQUALIFIED | RM_ADDR_LITERAL)) ||
	    a->a_domain[0] == '\0')
		return false;
	if (!owner_ok(owner))
		return false;
	n = owner_prefix(key, owner);
	d = n + lower_copy(key + n, a->a_local, sizeof(key) - n);
	key[d++] = '@';
	lower_copy(key + d, a->a_domain, sizeof(key) - d);
	/* a cut local part equals no address that was added */
	if (!(a->a_flags & RM_ADDR_LONG_LOCAL) && probe(as, key, tag))
		return true;
	/* "@domain", then "@.parent" for each parent, closest first */
	key[n] = '@';
	lower_copy(key + n + 1, a->a_domain, sizeof(key) - n - 1);
	if (probe(as, key, tag))
		return true;
	for (dom = strchr(a->a_domain, '.'); dom != NULL && dom[1] != '\0';
	     dom = strchr(dom + 1, '.')) {
		key[n + 1] = '\0';
		lower_copy(key + n + 1, dom, sizeof(key) - n - 1);
		if (probe(as, key, tag))
			return true;
	}
	return false;
}

bool
rm_addrset_has_owner(const struct rm_addrset *as, const char *owner)
{
	char key[KEY_MAX];

	if (!owner_ok(owner))
		return false;
	owner_prefix(key, owner);
	return probe(as, key, NULL);
}

/* key_holders - the holders of key in a set (not a layer) */
static size_t
key_holders(const void *set, const char *key, rm_holder_fn *fn, void *arg)
{
	const struct rm_addrset *as = set;
	const struct slot *sl = find(as, key, hash_key(key));

	if (sl == NULL || sl->s_key == NULL || sl->s_n == 0)
		return 0;
	if (fn != NULL)
		fn(arg, sl->s_tag);
	return 1 + rm_holders_each(rm_holders_get(&as->as_hold, key), fn, arg);
}

size_t
rm_addrset_holders(const struct rm_addrset *as, const char *owner,
                   const char *pattern, void (*fn)(void *arg, const void *tag),
                   void *arg)
{
	char key[KEY_MAX], why[128];

	if (as == NULL || make_key(key, owner, pattern, why, sizeof(why)) != 0)
		return 0;
	return rm_holders_of(&as->as_hold, as, as->as_base, key, key_holders,
	                     fn, arg);
}

size_t
rm_addrset_count(const struct rm_addrset *as)
{
	return as->as_count;
}

void
rm_addrset_free(struct rm_addrset *as)
{
	if (as == NULL)
		return;
	free_slots(as);
	rm_holders_free(&as->as_hold);
	free(as);
}
