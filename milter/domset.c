/*
 * domset.c - domain sets: a compact open-addressing index over a dense
 * array of nodes.
 *
 * The index holds 64-bit slots: the high half of the name's hash and the
 * place of its node, so a probe that misses (most do: parents, foreign
 * names) touches one cache line of the index and never a name.  A node
 * is the lower-cased name (without the leading dot of a subtree pattern)
 * with one tag per pattern kind it has: exact, subtree, or both.
 *
 * The hash runs over the name from its right end, so one pass gives the
 * hash of the whole name and of every parent.  Every parent of a stored
 * name has a node too, marked HAS_PARENT (without tags if it is no
 * pattern itself), so a lookup walks from the last label leftwards and
 * stops at the first suffix that leads to nothing: a foreign name costs
 * one probe, of its top-level domain, whose slot stays in the cache.
 * At most one probe per label, whatever the size of the set.
 *
 * The first holder of a pattern has its tag in the node; a duplicate's
 * tag waits in ds_hold (holders.h), for rm_domset_holders and layers.
 * A layer is a set of its own over its base: a node for each pattern it
 * changed, with the pattern's first tag now or a HAS_GONE bit when none
 * is left, and the parents marked.  A lookup through it walks both sets
 * side by side, the layer's answer for a suffix first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/domset.h"
#include "relaymilter/holders.h"

#define NAME_MAX_LEN 253
#define HAS_EXACT    1u
#define HAS_SUB      2u
#define HAS_PARENT   4u /* some longer name in the set ends with ".name" */
#define HAS_GONE(k)  ((k) << 3) /* a layer: no pattern of kind k is left */
#define KEY_SIZE     (NAME_MAX_LEN + 3) /* a pattern and its NUL */

/*
 * A node, in 8-byte words: byte 0 the length, byte 1 the HAS_ bits, the
 * name from byte 2, then, word-aligned, the exact tag if any and the
 * subtree tag if any.
 */
typedef uint64_t word;

struct rm_domset {
	uint64_t *ds_index; /* 0: empty; hash >> 32 << 32 | (node word + 1) */
	size_t ds_mask;     /* index size - 1 (size is a power of two) */
	size_t ds_used;     /* names */
	size_t ds_count;    /* patterns (exact + subtree) */
	word *ds_nodes;
	size_t ds_nwords, ds_ncap;
	const struct rm_domset *ds_base; /* a layer's base, else NULL */
	/* a set's holders beyond the first of a pattern; a layer's every
	   holder of each pattern it changed */
	struct rm_holders ds_hold;
};

static rm_key_holders_fn key_holders;

static inline unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/*
 * FNV's low bits depend only on the low bits of each byte and the index
 * is the low bits: fold the high bits down before the multiply spreads
 * them up again.
 */
static inline uint64_t
mix64(uint64_t h)
{
	h = (h ^ (h >> 31)) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

#define FNV_BASIS 14695981039346656037ull
#define FNV_PRIME 1099511628211ull

/*
 * rm_domkey_init - hash the name (one trailing dot ignored) and every
 * parent, right to left: k_hash[0] is its last label, k_hash[k_n - 1]
 * the longest suffix that could be in a set.  An empty label ends the
 * scan: no stored name has one, so nothing that holds it can match.
 * False when the name cannot be in any set.
 */
bool
rm_domkey_init(struct rm_domkey *k, const char *name)
{
	uint64_t h = FNV_BASIS;
	size_t len, i;

	k->k_n = 0;
	k->k_whole = 0;
	if (name == NULL)
		return false;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return false;
	k->k_name = name;
	k->k_len = (unsigned)len;
	for (i = len; i-- > 0;) {
		h = (h ^ lower((unsigned char)name[i])) * FNV_PRIME;
		if (i > 0 && name[i - 1] != '.')
			continue;
		if (name[i] == '.')
			return k->k_n > 0;
		/* at most 127: each label is 1 byte and a dot at least */
		k->k_at[k->k_n] = (unsigned char)i;
		k->k_hash[k->k_n++] = mix64(h);
	}
	k->k_whole = 1;
	return true;
}

static inline const unsigned char *
node_bytes(const struct rm_domset *ds, size_t w)
{
	return (const unsigned char *)&ds->ds_nodes[w];
}

/* node_words - the size of a node with len bytes of name and ntags tags */
static size_t
node_words(size_t len, unsigned ntags)
{
	return (2 + len + sizeof(word) - 1) / sizeof(word) + ntags;
}

static const void *
node_tag(const struct rm_domset *ds, size_t w, unsigned which)
{
	const unsigned char *b = node_bytes(ds, w);
	size_t t = w + node_words(b[0], 0);
	const void *tag;

	if (which == HAS_SUB && (b[1] & HAS_EXACT))
		t++;
	memcpy(&tag, &ds->ds_nodes[t], sizeof(tag));
	return tag;
}

/*
 * find - the index slot of name[0, len) with hash h: its node, or the
 * empty slot where it would go.
 */
static uint64_t *
find(const struct rm_domset *ds, const char *name, size_t len, uint64_t h)
{
	uint64_t want = h >> 32, *sl;
	size_t i, j;

	for (i = (size_t)h & ds->ds_mask;; i = (i + 1) & ds->ds_mask) {
		sl = &ds->ds_index[i];
		if (*sl == 0)
			return sl;
		if (*sl >> 32 == want) {
			const unsigned char *b =
			    node_bytes(ds, (size_t)(*sl & 0xffffffffu) - 1);

			if (b[0] != len)
				continue;
			for (j = 0; j < len; j++)
				if (b[2 + j] != lower((unsigned char)name[j]))
					break;
			if (j == len)
				return sl;
		}
	}
}

struct rm_domset *
rm_domset_new(void)
{
	return calloc(1, sizeof(struct rm_domset));
}

struct rm_domset *
rm_domset_layer(const struct rm_domset *base)
{
	struct rm_domset *ds;

	if (base == NULL || base->ds_base != NULL ||
	    (ds = rm_domset_new()) == NULL)
		return NULL;
	ds->ds_base = base;
	ds->ds_count = base->ds_count;
	return ds;
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
grow_index(struct rm_domset *ds)
{
	size_t nsize = ds->ds_index ? (ds->ds_mask + 1) * 2 : 16, i, j;
	uint64_t *ni;

	if ((ni = calloc(nsize, sizeof(*ni))) == NULL)
		return -1;
	/* the slot keeps the high half of the hash; the low half is gone,
	   so rehash the node's name */
	for (i = 0; ds->ds_index != NULL && i <= ds->ds_mask; i++) {
		uint64_t s = ds->ds_index[i], h = FNV_BASIS;
		const unsigned char *b;
		size_t n;

		if (s == 0)
			continue;
		b = node_bytes(ds, (size_t)(s & 0xffffffffu) - 1);
		for (n = b[0]; n-- > 0;)
			h = (h ^ b[2 + n]) * FNV_PRIME;
		for (j = (size_t)mix64(h) & (nsize - 1); ni[j] != 0;
		     j = (j + 1) & (nsize - 1))
			;
		ni[j] = s;
	}
	free(ds->ds_index);
	ds->ds_index = ni;
	ds->ds_mask = nsize - 1;
	return 0;
}

/* node_room - n more words at the end of the node array */
static int
node_room(struct rm_domset *ds, size_t n)
{
	size_t cap = ds->ds_ncap ? ds->ds_ncap : 1024;
	word *nw;

	while (cap - ds->ds_nwords < n)
		cap *= 2;
	if (cap == ds->ds_ncap)
		return 0;
	/* the index keeps word + 1 in 32 bits */
	if (cap > UINT32_MAX ||
	    (nw = realloc(ds->ds_nodes, cap * sizeof(*nw))) == NULL)
		return -1;
	ds->ds_nodes = nw;
	ds->ds_ncap = cap;
	return 0;
}

/*
 * node_put - write a node for name with the tags of has at the end of
 * the array; its word.  (size_t)-1 when out of memory.
 */
static size_t
node_put(struct rm_domset *ds, const char *name, size_t len, unsigned has,
         const void *exact, const void *sub)
{
	size_t w = ds->ds_nwords, nt = (has & HAS_EXACT) + !!(has & HAS_SUB),
	       t = w + node_words(len, 0), i;
	unsigned char *b;

	if (node_room(ds, node_words(len, (unsigned)nt)) != 0)
		return (size_t)-1;
	ds->ds_nodes[t - 1] = 0; /* the name's padding */
	b = (unsigned char *)&ds->ds_nodes[w];
	b[0] = (unsigned char)len;
	b[1] = (unsigned char)has;
	for (i = 0; i < len; i++)
		b[2 + i] = lower((unsigned char)name[i]);
	if (has & HAS_EXACT)
		memcpy(&ds->ds_nodes[t++], &exact, sizeof(exact));
	if (has & HAS_SUB)
		memcpy(&ds->ds_nodes[t++], &sub, sizeof(sub));
	ds->ds_nwords = t;
	return w;
}

/*
 * mark_parents - the parents of k's name, shortest first, get
 * HAS_PARENT (a node without tags when they have none).
 */
static int
mark_parents(struct rm_domset *ds, const struct rm_domkey *k)
{
	uint64_t *sl;
	size_t w;
	unsigned i;

	for (i = 0; i + 1 < k->k_n; i++) {
		if ((ds->ds_used + 1) * 4 > (ds->ds_mask + 1) * 3 &&
		    grow_index(ds) != 0)
			return -1;
		sl = find(ds, k->k_name + k->k_at[i], k->k_len - k->k_at[i],
		          k->k_hash[i]);
		if (*sl == 0) {
			w = node_put(ds, k->k_name + k->k_at[i],
			             k->k_len - k->k_at[i], HAS_PARENT, NULL,
			             NULL);
			if (w == (size_t)-1)
				return -1;
			*sl = (k->k_hash[i] >> 32 << 32) | (uint64_t)(w + 1);
			ds->ds_used++;
		} else {
			w = (size_t)(*sl & 0xffffffffu) - 1;
			((unsigned char *)&ds->ds_nodes[w])[1] |= HAS_PARENT;
		}
	}
	return 0;
}

/*
 * insert - the kinds of has (with tag) for name, lower-cased or not;
 * 1 a new pattern, 0 the name had that kind already, -1 no memory.
 */
static int
insert(struct rm_domset *ds, const char *name, unsigned has, const void *tag)
{
	struct rm_domkey k;
	unsigned old = 0;
	const void *exact = tag, *sub = tag;
	uint64_t *sl, h;
	size_t w;

	rm_domkey_init(&k, name);
	h = k.k_hash[k.k_n - 1];
	/* keep the load factor at or below 3/4 */
	if ((ds->ds_used + 1) * 4 > (ds->ds_index ? ds->ds_mask + 1 : 0) * 3 &&
	    grow_index(ds) != 0)
		return -1;
	sl = find(ds, name, k.k_len, h);
	if (*sl != 0) {
		w = (size_t)(*sl & 0xffffffffu) - 1;
		old = node_bytes(ds, w)[1];
		if (old & has)
			return 0;
		/* another kind: a bigger node, rarely needed */
		if (old & HAS_EXACT)
			exact = node_tag(ds, w, HAS_EXACT);
		if (old & HAS_SUB)
			sub = node_tag(ds, w, HAS_SUB);
	}
	if ((w = node_put(ds, name, k.k_len, old | has, exact, sub)) ==
	    (size_t)-1)
		return -1;
	if (*sl == 0)
		ds->ds_used++;
	*sl = (h >> 32 << 32) | (uint64_t)(w + 1);
	return mark_parents(ds, &k) != 0 ? -1 : 1;
}

/*
 * key_of - the key of a checked pattern: lower-cased, with the leading
 * dot of a subtree, without a trailing dot; its kind.
 */
static unsigned
key_of(char *key, const char *pattern)
{
	size_t n;

	for (n = 0; pattern[n] != '\0'; n++)
		key[n] = (char)lower((unsigned char)pattern[n]);
	if (key[n - 1] == '.')
		n--;
	key[n] = '\0';
	return key[0] == '.' ? HAS_SUB : HAS_EXACT;
}

int
rm_domset_add(struct rm_domset *ds, const char *pattern, const void *tag,
              char *errbuf, size_t errlen)
{
	char key[KEY_SIZE];
	unsigned kind;
	int rc;

	if (rm_domain_check(pattern, errbuf, errlen) != 0)
		return -1;
	kind = key_of(key, pattern);
	if (ds->ds_base != NULL)
		return rm_holders_change(&ds->ds_hold, key, tag, true,
		                         ds->ds_base, key_holders, errbuf,
		                         errlen);
	rc = insert(ds, key + (kind == HAS_SUB), kind, tag);
	/* a duplicate keeps the first tag, the entry --explain points at;
	   the others wait behind it */
	if (rc == 0)
		rc = rm_holders_push(&ds->ds_hold, key, tag);
	else if (rc == 1)
		ds->ds_count++;
	if (rc < 0) {
		snprintf(errbuf, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
rm_domset_remove(struct rm_domset *ds, const char *pattern, const void *tag,
                 char *errbuf, size_t errlen)
{
	char key[KEY_SIZE];

	if (rm_domain_check(pattern, errbuf, errlen) != 0)
		return -1;
	key_of(key, pattern);
	return rm_holders_change(&ds->ds_hold, key, tag, false, ds->ds_base,
	                         key_holders, errbuf, errlen);
}

/*
 * layer_build - the layer's nodes from its changes: each changed pattern
 * with its first tag, or gone.
 */
static int
layer_build(struct rm_domset *ds)
{
	const struct rm_hentry *e;
	size_t i = 0, count = ds->ds_base->ds_count;
	unsigned kind;

	/* from scratch, should finish come twice */
	free(ds->ds_index);
	free(ds->ds_nodes);
	ds->ds_index = NULL;
	ds->ds_nodes = NULL;
	ds->ds_mask = ds->ds_used = ds->ds_nwords = ds->ds_ncap = 0;
	while ((e = rm_holders_next(&ds->ds_hold, &i)) != NULL) {
		if (e->he_n == 0 && e->he_was == 0)
			continue;
		kind = e->he_key[0] == '.' ? HAS_SUB : HAS_EXACT;
		if (insert(ds, e->he_key + (kind == HAS_SUB),
		           e->he_n > 0 ? kind : HAS_GONE(kind),
		           e->he_n > 0 ? e->he_tag[0] : NULL) < 0)
			return -1;
		count = count + (e->he_n > 0) - (e->he_was > 0);
	}
	ds->ds_count = count;
	return 0;
}

int
rm_domset_finish(struct rm_domset *ds)
{
	word *nw;

	if (ds->ds_base != NULL && layer_build(ds) != 0)
		return -1;
	/* give back what doubling left unused */
	if (ds->ds_nwords > 0 && ds->ds_nwords < ds->ds_ncap &&
	    (nw = realloc(ds->ds_nodes, ds->ds_nwords * sizeof(*nw))) != NULL) {
		ds->ds_nodes = nw;
		ds->ds_ncap = ds->ds_nwords;
	}
	return 0;
}

/* probe - the HAS_ bits of k's suffix i in ds (0: none), its node *w */
static inline unsigned
probe(const struct rm_domset *ds, const struct rm_domkey *k, unsigned i,
      size_t *w)
{
	const uint64_t *sl = find(ds, k->k_name + k->k_at[i],
	                          k->k_len - k->k_at[i], k->k_hash[i]);

	if (*sl == 0)
		return 0;
	*w = (size_t)(*sl & 0xffffffffu) - 1;
	return node_bytes(ds, *w)[1];
}

/*
 * layer_lookup - the walk of rm_domset_lookup_key through a layer and its
 * base side by side, as long as either leads on; for each suffix the
 * layer's pattern, or its removal, hides the base's.
 */
static bool
layer_lookup(const struct rm_domset *ds, const struct rm_domkey *k,
             const void **tag)
{
	const struct rm_domset *base = ds->ds_base, *in = NULL;
	size_t lw = 0, bw = 0, best = 0;
	unsigned i, lhas, bhas, want, best_want = 0;
	bool lgo = true, bgo = base->ds_used > 0;

	for (i = 0; i < k->k_n && (lgo || bgo); i++) {
		lhas = lgo ? probe(ds, k, i, &lw) : 0;
		bhas = bgo ? probe(base, k, i, &bw) : 0;
		lgo = lhas & HAS_PARENT;
		bgo = bhas & HAS_PARENT;
		want = i == k->k_n - 1 && k->k_whole ? HAS_EXACT : HAS_SUB;
		if (lhas & want) {
			in = ds;
			best = lw;
			best_want = want;
		} else if ((bhas & want) && !(lhas & HAS_GONE(want))) {
			in = base;
			best = bw;
			best_want = want;
		}
	}
	if (best_want == 0)
		return false;
	if (tag != NULL)
		*tag = node_tag(in, best, best_want);
	return true;
}

bool
rm_domset_lookup_key(const struct rm_domset *ds, const struct rm_domkey *k,
                     const void **tag)
{
	size_t w = 0, best = 0;
	unsigned i, has, want, best_want = 0;

	if (ds == NULL || ds->ds_count == 0 || k->k_n == 0)
		return false;
	if (ds->ds_base != NULL)
		return ds->ds_used > 0
		           ? layer_lookup(ds, k, tag)
		           : rm_domset_lookup_key(ds->ds_base, k, tag);
	/* the last match on the way left is the most specific: the whole
	   name for an exact pattern, else the closest subtree */
	for (i = 0; i < k->k_n; i++) {
		if ((has = probe(ds, k, i, &w)) == 0)
			break;
		want = i == k->k_n - 1 && k->k_whole ? HAS_EXACT : HAS_SUB;
		if (has & want) {
			best = w;
			best_want = want;
		}
		if (!(has & HAS_PARENT))
			break;
	}
	if (best_want == 0)
		return false;
	if (tag != NULL)
		*tag = node_tag(ds, best, best_want);
	return true;
}

bool
rm_domset_lookup(const struct rm_domset *ds, const char *name, const void **tag)
{
	struct rm_domkey k;

	if (ds == NULL || ds->ds_count == 0 || !rm_domkey_init(&k, name))
		return false;
	return rm_domset_lookup_key(ds, &k, tag);
}

/*
 * key_holders - the holders of key in a set (not a layer): the node's
 * tag, then those that wait behind it.
 */
static size_t
key_holders(const void *set, const char *key, rm_holder_fn *fn, void *arg)
{
	const struct rm_domset *ds = set;
	unsigned kind = key[0] == '.' ? HAS_SUB : HAS_EXACT;
	struct rm_domkey k;
	size_t w = 0;

	if (ds->ds_used == 0 || !rm_domkey_init(&k, key + (kind == HAS_SUB)) ||
	    !(probe(ds, &k, k.k_n - 1, &w) & kind))
		return 0;
	if (fn != NULL)
		fn(arg, node_tag(ds, w, kind));
	return 1 + rm_holders_each(rm_holders_get(&ds->ds_hold, key), fn, arg);
}

size_t
rm_domset_holders(const struct rm_domset *ds, const char *pattern,
                  void (*fn)(void *arg, const void *tag), void *arg)
{
	char key[KEY_SIZE], why[128];

	if (ds == NULL || rm_domain_check(pattern, why, sizeof(why)) != 0)
		return 0;
	key_of(key, pattern);
	return rm_holders_of(&ds->ds_hold, ds, ds->ds_base, key, key_holders,
	                     fn, arg);
}

size_t
rm_domset_count(const struct rm_domset *ds)
{
	return ds ? ds->ds_count : 0;
}

void
rm_domset_free(struct rm_domset *ds)
{
	if (ds == NULL)
		return;
	free(ds->ds_index);
	free(ds->ds_nodes);
	rm_holders_free(&ds->ds_hold);
	free(ds);
}
