/*
 * addrset.c - address-pattern sets as one open-addressing string table.
 *
 * Every pattern becomes a key "owner\n" + form, where form is
 * "local@domain", "@domain" or "@.domain", all lower-cased.  A lookup
 * builds the keys the address could match, most specific first, and
 * probes each: one probe per label, whatever the size of the set.  The
 * bare key "owner\n" records that the owner has patterns at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/addrset.h"
#include "relaymilter/domset.h"
#include "relaymilter/rm.h"

#define OWNER_MAX 256
#define KEY_MAX   (OWNER_MAX + 1 + RM_LOCAL_MAX + 2 + RM_DOMAIN_MAX + 1)

struct slot {
	char *s_key; /* NULL: empty */
	uint32_t s_hash;
	const void *s_tag;
};

struct rm_addrset {
	struct slot *as_slots;
	size_t as_mask, as_used, as_count;
};

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

/* put - insert key unless present; 1 added, 0 duplicate, -1 no memory. */
static int
put(struct rm_addrset *as, const char *key, const void *tag)
{
	uint32_t h = hash_key(key);
	struct slot *sl;

	if ((as->as_used + 1) * 4 > (as->as_slots ? as->as_mask + 1 : 0) * 3 &&
	    grow(as) != 0)
		return -1;
	sl = find(as, key, h);
	if (sl->s_key != NULL)
		return 0;
	if ((sl->s_key = strdup(key)) == NULL)
		return -1;
	sl->s_hash = h;
	sl->s_tag = tag;
	as->as_used++;
	return 1;
}

struct rm_addrset *
rm_addrset_new(void)
{
	return calloc(1, sizeof(struct rm_addrset));
}

int
rm_addrset_add(struct rm_addrset *as, const char *owner, const char *pattern,
               const void *tag, char *errbuf, size_t errlen)
{
	char key[KEY_MAX], why[128];
	struct rm_addr a;
	const char *p = pattern, *at;
	size_t n;
	int rc;

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
		n += lower_copy(key + n, a.a_local, sizeof(key) - n);
		key[n++] = '@';
		lower_copy(key + n, a.a_domain, sizeof(key) - n);
	} else {
		if (*p == '@')
			p++;
		if (rm_domain_check(p, why, sizeof(why)) != 0) {
			snprintf(errbuf, errlen, "%s", why);
			return -1;
		}
		key[n++] = '@';
		n += lower_copy(key + n, p, sizeof(key) - n);
		if (n > 0 && key[n - 1] == '.')
			key[--n] = '\0';
	}
	rc = put(as, key, tag);
	if (rc >= 0) {
		as->as_count += (size_t)rc;
		owner_prefix(key, owner);
		rc = put(as, key, NULL) < 0 ? -1 : 0;
	}
	if (rc < 0) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static bool
probe(const struct rm_addrset *as, const char *key, const void **tag)
{
	const struct slot *sl = find(as, key, hash_key(key));

	if (sl == NULL || sl->s_key == NULL)
		return false;
	if (tag != NULL)
		*tag = sl->s_tag;
	return true;
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

size_t
rm_addrset_count(const struct rm_addrset *as)
{
	return as->as_count;
}

void
rm_addrset_free(struct rm_addrset *as)
{
	size_t i;

	if (as == NULL)
		return;
	for (i = 0; as->as_slots != NULL && i <= as->as_mask; i++)
		free(as->as_slots[i].s_key);
	free(as->as_slots);
	free(as);
}
