/*
 * test_layer.c - layers over domain, address and string sets: targeted
 * cases (subtree fallthrough, duplicate holders, re-adds, case, owners,
 * counts), then for each set type random adds and removes on a layer
 * compared with the fresh build of the same entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/addrset.h"
#include "relaymilter/domset.h"
#include "relaymilter/strset.h"

static char err[256];

/* holders into a string: the tags (each a string) joined by ',' */
struct joined {
	char s[512];
};

static void
join_one(void *arg, const void *tag)
{
	struct joined *j = arg;
	size_t n = strlen(j->s);

	snprintf(j->s + n, sizeof(j->s) - n, "%s%s", n ? "," : "",
	         (const char *)tag);
}

static const char *
dom(const struct rm_domset *ds, const char *name)
{
	const void *tag = NULL;

	return rm_domset_lookup(ds, name, &tag) ? tag : "-";
}

static const char *
dom_holders(const struct rm_domset *ds, const char *pattern)
{
	static struct joined j;

	j.s[0] = '\0';
	rm_domset_holders(ds, pattern, join_one, &j);
	return j.s;
}

static void
test_domset(void)
{
	struct rm_domset *base = rm_domset_new(), *empty = rm_domset_new(), *l,
	                 *l2;

	CHECK(rm_domset_add(base, "a.example.com", "a1", err, sizeof(err)) == 0,
	      "%s", err);
	rm_domset_add(base, ".example.com", "sub", err, sizeof(err));
	rm_domset_add(base, "A.Example.COM.", "a2", err, sizeof(err));
	rm_domset_add(base, "b.example.com", "b", err, sizeof(err));
	rm_domset_finish(base);
	CHECK(rm_domset_count(base) == 3, "count %zu", rm_domset_count(base));
	CHECK_STR(dom_holders(base, "a.EXAMPLE.com"), "a1,a2");
	CHECK(rm_domset_holders(base, "a.example.com", NULL, NULL) == 2, "n");
	CHECK(rm_domset_remove(base, "a.example.com", "a1", err, sizeof(err)) ==
	          -1,
	      "a set is not a layer");
	CHECK_STR(err, "not a layer");

	l = rm_domset_layer(base);
	CHECK(rm_domset_finish(l) == 0, "finish");
	CHECK_STR(dom(l, "a.example.com"), "a1");
	CHECK(rm_domset_count(l) == 3, "count %zu", rm_domset_count(l));
	/* the next holder takes over, then the subtree */
	CHECK(rm_domset_remove(l, "A.example.com", "a1", err, sizeof(err)) == 0,
	      "%s", err);
	rm_domset_finish(l);
	CHECK_STR(dom(l, "a.example.com"), "a2");
	CHECK_STR(dom_holders(l, "a.example.com"), "a2");
	CHECK(rm_domset_remove(l, "a.example.com", "a1", err, sizeof(err)) ==
	          -1,
	      "removed twice");
	CHECK_STR(err, "no such entry");
	CHECK(rm_domset_remove(l, "a..com", "a2", err, sizeof(err)) == -1,
	      "bad pattern");
	rm_domset_remove(l, "a.example.com.", "a2", err, sizeof(err));
	rm_domset_finish(l);
	CHECK_STR(dom(l, "a.example.com"), "sub");
	CHECK_STR(dom(l, "x.a.example.com"), "sub");
	CHECK_STR(dom(l, "b.example.com"), "b");
	CHECK(rm_domset_count(l) == 2, "count %zu", rm_domset_count(l));
	CHECK(rm_domset_holders(l, "a.example.com", NULL, NULL) == 0, "none");
	/* the base is untouched */
	CHECK_STR(dom(base, "a.example.com"), "a1");
	/* a re-add comes after what the base still has */
	rm_domset_add(l, "a.example.com", "a3", err, sizeof(err));
	rm_domset_add(l, ".a.example.com", "asub", err, sizeof(err));
	rm_domset_remove(l, ".example.com", "sub", err, sizeof(err));
	rm_domset_finish(l);
	CHECK_STR(dom(l, "a.example.com"), "a3");
	CHECK_STR(dom(l, "x.a.example.com"), "asub");
	CHECK_STR(dom(l, "c.example.com"), "-");
	CHECK_STR(dom(l, "example.com"), "-");
	CHECK(rm_domset_count(l) == 3, "count %zu", rm_domset_count(l));
	/* a new name below nothing of the base */
	rm_domset_add(l, "new.example.org", "new", err, sizeof(err));
	rm_domset_finish(l);
	CHECK_STR(dom(l, "NEW.example.org"), "new");
	CHECK_STR(dom(l, "example.org"), "-");
	CHECK(rm_domset_layer(l) == NULL, "a layer over a layer");
	/* a layer over the empty set */
	rm_domset_finish(empty);
	l2 = rm_domset_layer(empty);
	CHECK(rm_domset_remove(l2, "x.y", "t", err, sizeof(err)) == -1, "none");
	rm_domset_add(l2, ".y", "y", err, sizeof(err));
	rm_domset_finish(l2);
	CHECK_STR(dom(l2, "x.y"), "y");
	rm_domset_free(l2);
	rm_domset_free(empty);
	rm_domset_free(l);
	rm_domset_free(base);
}

static const char *
addr(const struct rm_addrset *as, const char *owner, const char *address)
{
	struct rm_addr a;
	const void *tag = NULL;

	if (rm_addr_parse(address, &a, NULL, 0) != 0)
		return "unparsed";
	return rm_addrset_lookup(as, owner, &a, &tag) ? tag : "-";
}

static void
test_addrset(void)
{
	struct rm_addrset *base = rm_addrset_new(), *l;
	struct joined j = {""};

	rm_addrset_add(base, NULL, "u@a.example", "u", err, sizeof(err));
	rm_addrset_add(base, NULL, "a.example", "dom", err, sizeof(err));
	rm_addrset_add(base, NULL, ".example", "sub", err, sizeof(err));
	rm_addrset_add(base, "alice", "alice@example", "al1", err, sizeof(err));
	rm_addrset_add(base, "Alice", "ALICE@example", "al2", err, sizeof(err));
	rm_addrset_add(base, "bob", "@bob.example", "bob", err, sizeof(err));
	rm_addrset_finish(base);
	CHECK(rm_addrset_count(base) == 5, "count %zu", rm_addrset_count(base));
	CHECK(rm_addrset_holders(base, "ALICE", "alice@Example", join_one,
	                         &j) == 2,
	      "holders");
	CHECK_STR(j.s, "al1,al2");
	CHECK(rm_addrset_remove(base, NULL, "a.example", "dom", err,
	                        sizeof(err)) == -1,
	      "not a layer");

	l = rm_addrset_layer(base);
	rm_addrset_finish(l);
	CHECK_STR(addr(l, NULL, "u@a.example"), "u");
	CHECK(rm_addrset_remove(l, NULL, "U@A.example", "u", err,
	                        sizeof(err)) == 0,
	      "%s", err);
	rm_addrset_finish(l);
	CHECK_STR(addr(l, NULL, "u@a.example"), "dom");
	rm_addrset_remove(l, NULL, "@a.example", "dom", err, sizeof(err));
	rm_addrset_finish(l);
	CHECK_STR(addr(l, NULL, "u@a.example"), "sub");
	CHECK(rm_addrset_count(l) == 3, "count %zu", rm_addrset_count(l));
	/* an owner loses its last pattern, another gains its first */
	CHECK(rm_addrset_remove(l, "alice", "alice@example", "al1", err,
	                        sizeof(err)) == 0,
	      "%s", err);
	rm_addrset_finish(l);
	CHECK(rm_addrset_has_owner(l, "alice"), "alice still has al2");
	CHECK_STR(addr(l, "alice", "alice@example"), "al2");
	rm_addrset_remove(l, "alice", "alice@example", "al2", err, sizeof(err));
	rm_addrset_add(l, "carol", "carol@example", "carol", err, sizeof(err));
	CHECK(rm_addrset_remove(l, "bob", "bob.example", "bob", err,
	                        sizeof(err)) == 0,
	      "%s", err);
	rm_addrset_add(l, "bob", "bob@bob.example", "bob2", err, sizeof(err));
	rm_addrset_finish(l);
	CHECK(!rm_addrset_has_owner(l, "ALICE"), "alice has none left");
	CHECK(rm_addrset_has_owner(base, "alice"), "the base is untouched");
	CHECK(rm_addrset_has_owner(l, "carol"), "carol");
	CHECK(rm_addrset_has_owner(l, "bob"), "bob");
	CHECK_STR(addr(l, "alice", "alice@example"), "-");
	CHECK_STR(addr(l, "bob", "x@bob.example"), "-");
	CHECK_STR(addr(l, "bob", "bob@bob.example"), "bob2");
	CHECK_STR(addr(l, NULL, "carol@example"), "-");
	CHECK(rm_addrset_count(l) == 3, "count %zu", rm_addrset_count(l));
	/* a re-add */
	rm_addrset_add(l, NULL, "a.example", "dom2", err, sizeof(err));
	rm_addrset_finish(l);
	CHECK_STR(addr(l, NULL, "u@a.example"), "dom2");
	CHECK(rm_addrset_remove(l, "bad\nowner", "a.example", "dom2", err,
	                        sizeof(err)) == -1,
	      "bad owner");
	rm_addrset_free(l);
	rm_addrset_free(base);
}

static const char *
str(const struct rm_strset *ss, const char *s)
{
	const void *tag = NULL;

	return rm_strset_lookup(ss, s, &tag) ? tag : "-";
}

static void
test_strset(void)
{
	struct rm_strset *base = rm_strset_new(), *l;
	struct joined j = {""};

	rm_strset_add(base, "alice", "a1", err, sizeof(err));
	rm_strset_add(base, "bob", "b", err, sizeof(err));
	rm_strset_add(base, "ALICE", "a2", err, sizeof(err));
	rm_strset_finish(base);
	CHECK(rm_strset_count(base) == 3, "adds count");
	rm_strset_holders(base, "Alice", join_one, &j);
	CHECK_STR(j.s, "a1,a2");
	l = rm_strset_layer(base);
	rm_strset_finish(l);
	CHECK_STR(str(l, "alice"), "a1");
	rm_strset_remove(l, "alice", "a1", err, sizeof(err));
	rm_strset_add(l, "Alice", "a3", err, sizeof(err));
	rm_strset_finish(l);
	CHECK_STR(str(l, "ALICE"), "a2");
	CHECK(rm_strset_count(l) == 3, "count %zu", rm_strset_count(l));
	rm_strset_remove(l, "alice", "a2", err, sizeof(err));
	rm_strset_remove(l, "bob", "b", err, sizeof(err));
	rm_strset_finish(l);
	CHECK_STR(str(l, "alice"), "a3");
	CHECK_STR(str(l, "bob"), "-");
	CHECK(rm_strset_count(l) == 1, "count %zu", rm_strset_count(l));
	CHECK(rm_strset_remove(l, "bob", "b", err, sizeof(err)) == -1, "gone");
	CHECK(rm_strset_remove(l, "a b", "b", err, sizeof(err)) == -1, "bad");
	CHECK(rm_strset_remove(base, "bob", "b", err, sizeof(err)) == -1,
	      "not a layer");
	rm_strset_free(l);
	rm_strset_free(base);
}

/* ---- random changes against fresh builds ----------------------------- */

static uint32_t seed;

static unsigned
rnd(unsigned n)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed % n;
}

static const char *const owners[] = {NULL, "o1", "O1", "o2"};

/* a name of 1 to depth labels from a small alphabet, random case */
static void
rnd_name(char *buf, size_t size, unsigned depth)
{
	static const char *const labels[] = {"a", "b", "C", "x"};
	unsigned n = 1 + rnd(depth), i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, size - len, "%s%s", i ? "." : "",
		         labels[rnd(4)]);
	}
}

/* one set type behind void pointers; owner indexes owners[] */
struct kind {
	const char *name;
	void *(*fresh)(void);
	void *(*layer)(const void *base);
	int (*add)(void *, const char *owner, const char *p, const void *tag);
	int (*remove)(void *, const char *owner, const char *p,
	              const void *tag);
	int (*finish)(void *);
	size_t (*holders)(const void *, const char *owner, const char *p,
	                  void (*fn)(void *, const void *), void *arg);
	size_t (*count)(const void *);
	/* a random lookup in both: do they agree? */
	bool (*same)(const void *a, const void *b);
	void (*pattern)(char *buf, size_t size);
	unsigned nowners;
	void (*free)(void *);
	/* the model's key of a pattern, out of 128 bytes */
	void (*key)(const char *owner, const char *p, char *out);
};

static void
lower_key(const char *owner, const char *p, char *out)
{
	size_t n;

	snprintf(out, 128, "%s\n%s", owner ? owner : "", p);
	for (n = 0; out[n] != '\0'; n++)
		if (out[n] >= 'A' && out[n] <= 'Z')
			out[n] += 32;
	if (out[n - 1] == '.')
		out[n - 1] = '\0';
}

/* "d" and "@d" are one key in an address set, as ".d" and "@.d" */
static void
as_key(const char *owner, const char *p, char *out)
{
	char form[100];

	snprintf(form, sizeof(form), "%s%s", strchr(p, '@') ? "" : "@", p);
	lower_key(owner, form, out);
}

static void *
ds_fresh(void)
{
	return rm_domset_new();
}
static void *
ds_layer(const void *b)
{
	return rm_domset_layer(b);
}
static int
ds_add(void *s, const char *o, const char *p, const void *t)
{
	(void)o;
	return rm_domset_add(s, p, t, err, sizeof(err));
}
static int
ds_remove(void *s, const char *o, const char *p, const void *t)
{
	(void)o;
	return rm_domset_remove(s, p, t, err, sizeof(err));
}
static int
ds_finish(void *s)
{
	return rm_domset_finish(s);
}
static size_t
ds_holders(const void *s, const char *o, const char *p,
           void (*fn)(void *, const void *), void *arg)
{
	(void)o;
	return rm_domset_holders(s, p, fn, arg);
}
static size_t
ds_count(const void *s)
{
	return rm_domset_count(s);
}
static bool
ds_same(const void *a, const void *b)
{
	char name[64];
	const void *ta = NULL, *tb = NULL;
	struct rm_domkey k;
	bool fa, fb;

	rnd_name(name, sizeof(name), 5);
	if (rnd(4) == 0)
		strcat(name, ".");
	fa = rm_domset_lookup(a, name, &ta);
	fb = rm_domset_lookup(b, name, &tb);
	if (fa != fb || ta != tb)
		return false;
	if (!rm_domkey_init(&k, name))
		return true;
	fa = rm_domset_lookup_key(a, &k, &ta);
	return fa == fb && ta == tb;
}
static void
ds_pattern(char *buf, size_t size)
{
	buf[0] = rnd(3) == 0 ? '.' : 'z';
	rnd_name(buf + 1, size - 2, 3);
	if (buf[0] == 'z')
		memmove(buf, buf + 1, strlen(buf));
	if (rnd(5) == 0)
		strcat(buf, ".");
}
static void
ds_free(void *s)
{
	rm_domset_free(s);
}

static void *
as_fresh(void)
{
	return rm_addrset_new();
}
static void *
as_layer(const void *b)
{
	return rm_addrset_layer(b);
}
static int
as_add(void *s, const char *o, const char *p, const void *t)
{
	return rm_addrset_add(s, o, p, t, err, sizeof(err));
}
static int
as_remove(void *s, const char *o, const char *p, const void *t)
{
	return rm_addrset_remove(s, o, p, t, err, sizeof(err));
}
static int
as_finish(void *s)
{
	return rm_addrset_finish(s);
}
static size_t
as_holders(const void *s, const char *o, const char *p,
           void (*fn)(void *, const void *), void *arg)
{
	return rm_addrset_holders(s, o, p, fn, arg);
}
static size_t
as_count(const void *s)
{
	return rm_addrset_count(s);
}
static bool
as_same(const void *a, const void *b)
{
	char address[80], name[64];
	const char *owner = owners[rnd(4)];
	const void *ta = NULL, *tb = NULL;
	struct rm_addr ad;
	bool fa, fb;

	rnd_name(name, sizeof(name), 4);
	snprintf(address, sizeof(address), "%s@%s", rnd(2) ? "u" : "V", name);
	if (rm_addr_parse(address, &ad, NULL, 0) != 0)
		return false;
	fa = rm_addrset_lookup(a, owner, &ad, &ta);
	fb = rm_addrset_lookup(b, owner, &ad, &tb);
	return fa == fb && ta == tb &&
	       rm_addrset_has_owner(a, owner) == rm_addrset_has_owner(b, owner);
}
static void
as_pattern(char *buf, size_t size)
{
	static const char *const forms[] = {"u@", "U@", "v@", "@",
	                                    "",   ".",  "@."};
	size_t n;

	snprintf(buf, size, "%s", forms[rnd(7)]);
	n = strlen(buf);
	rnd_name(buf + n, size - n, 3);
}
static void
as_free(void *s)
{
	rm_addrset_free(s);
}

static void *
ss_fresh(void)
{
	return rm_strset_new();
}
static void *
ss_layer(const void *b)
{
	return rm_strset_layer(b);
}
static int
ss_add(void *s, const char *o, const char *p, const void *t)
{
	(void)o;
	return rm_strset_add(s, p, t, err, sizeof(err));
}
static int
ss_remove(void *s, const char *o, const char *p, const void *t)
{
	(void)o;
	return rm_strset_remove(s, p, t, err, sizeof(err));
}
static int
ss_finish(void *s)
{
	return rm_strset_finish(s);
}
static size_t
ss_holders(const void *s, const char *o, const char *p,
           void (*fn)(void *, const void *), void *arg)
{
	(void)o;
	return rm_strset_holders(s, p, fn, arg);
}
static size_t
ss_count(const void *s)
{
	return rm_strset_count(s);
}
static void
ss_pattern(char *buf, size_t size)
{
	rnd_name(buf, size, 2);
}
static bool
ss_same(const void *a, const void *b)
{
	char s[64];
	const void *ta = NULL, *tb = NULL;
	bool fa, fb;

	ss_pattern(s, sizeof(s));
	fa = rm_strset_lookup(a, s, &ta);
	fb = rm_strset_lookup(b, s, &tb);
	return fa == fb && ta == tb;
}
static void
ss_free(void *s)
{
	rm_strset_free(s);
}

static const struct kind kinds[] = {
    {"domset", ds_fresh, ds_layer, ds_add, ds_remove, ds_finish, ds_holders,
     ds_count, ds_same, ds_pattern, 1, ds_free, lower_key},
    {"addrset", as_fresh, as_layer, as_add, as_remove, as_finish, as_holders,
     as_count, as_same, as_pattern, 4, as_free, as_key},
    {"strset", ss_fresh, ss_layer, ss_add, ss_remove, ss_finish, ss_holders,
     ss_count, ss_same, ss_pattern, 1, ss_free, lower_key},
};

/* an entry of the model: the base's, then the layer's, in order */
struct entry {
	char p[64];
	const char *owner;
	const void *tag;
	bool live;
};

#define MAXENT 96
static struct entry ents[MAXENT];
static size_t nents;
static char tags[4096];
static size_t ntags;

static const void *
new_tag(void)
{
	/* now and then a tag used before, as a ruleset may */
	if (ntags > 0 && rnd(8) == 0)
		return &tags[rnd(
		    (unsigned)(ntags < sizeof(tags) ? ntags : sizeof(tags)))];
	return &tags[ntags++ % sizeof(tags)];
}

/* fresh - the set built from the live entries */
static void *
fresh(const struct kind *k)
{
	void *s = k->fresh();
	size_t i;

	for (i = 0; i < nents; i++)
		if (ents[i].live)
			k->add(s, ents[i].owner, ents[i].p, ents[i].tag);
	k->finish(s);
	return s;
}

struct tagv {
	const void *v[MAXENT];
	size_t n;
};

static void
tagv_one(void *arg, const void *tag)
{
	struct tagv *t = arg;

	if (t->n < MAXENT)
		t->v[t->n++] = tag;
}

/* compare - the layer reads as the fresh build; false at a difference */
static bool
compare(const struct kind *k, const void *layer)
{
	void *f = fresh(k);
	struct tagv a, b;
	size_t i;
	bool ok = k->count(layer) == k->count(f);

	if (!ok)
		fprintf(stderr, "%s: count %zu want %zu\n", k->name,
		        k->count(layer), k->count(f));
	for (i = 0; ok && i < 60; i++)
		ok = k->same(layer, f);
	for (i = 0; ok && i < nents; i++) {
		a.n = b.n = 0;
		ok =
		    k->holders(layer, ents[i].owner, ents[i].p, tagv_one, &a) ==
		        k->holders(f, ents[i].owner, ents[i].p, tagv_one, &b) &&
		    a.n == b.n && memcmp(a.v, b.v, a.n * sizeof(a.v[0])) == 0;
		if (!ok)
			fprintf(stderr, "%s: holders of %s differ\n", k->name,
			        ents[i].p);
	}
	k->free(f);
	return ok;
}

/* model_remove - the first live entry of p's key with tag, or nents */
static size_t
model_remove(const struct kind *k, const char *owner, const char *p,
             const void *tag)
{
	char want[128], key[128];
	size_t i;

	k->key(owner, p, want);
	for (i = 0; i < nents; i++) {
		if (!ents[i].live || ents[i].tag != tag)
			continue;
		k->key(ents[i].owner, ents[i].p, key);
		if (strcmp(key, want) == 0)
			break;
	}
	return i;
}

/* random adds, then random adds and removes on a layer, after each
   finish read as a fresh build */
static void
differential(const struct kind *k)
{
	unsigned round, op, nbase, nops, bad = 0;
	size_t i;
	void *base, *layer;

	for (round = 0; round < 400 && bad < 3; round++) {
		nents = 0;
		nbase = rnd(40);
		for (i = 0; i < nbase; i++) {
			struct entry *e = &ents[nents++];

			k->pattern(e->p, sizeof(e->p));
			e->owner = owners[rnd(k->nowners)];
			e->tag = new_tag();
			e->live = true;
		}
		base = fresh(k);
		layer = k->layer(base);
		CHECK(k->finish(layer) == 0, "finish");
		if (!compare(k, layer))
			bad++;
		nops = 1 + rnd(40);
		for (op = 0; op < nops && nents < MAXENT; op++) {
			struct entry *e = &ents[nents], probe;
			unsigned what = rnd(10);

			if (what < 4) {
				k->pattern(e->p, sizeof(e->p));
				e->owner = owners[rnd(k->nowners)];
				e->tag = new_tag();
				e->live = true;
				CHECK(k->add(layer, e->owner, e->p, e->tag) ==
				          0,
				      "%s: add %s: %s", k->name, e->p, err);
				nents++;
			} else if (nents > 0) {
				/* an entry by another spelling of its key, or
				   a random pattern and tag */
				probe = ents[rnd((unsigned)nents)];
				if (what == 9)
					k->pattern(probe.p, sizeof(probe.p));
				if (what == 8)
					probe.tag = new_tag();
				i = model_remove(k, probe.owner, probe.p,
				                 probe.tag);
				CHECK(
				    (k->remove(layer, probe.owner, probe.p,
				               probe.tag) == 0) == (i < nents),
				    "%s: remove %s: %s", k->name, probe.p, err);
				if (i < nents)
					ents[i].live = false;
			}
			if (rnd(8) == 0 || op == nops - 1) {
				CHECK(k->finish(layer) == 0, "finish");
				if (!compare(k, layer)) {
					CHECK(0, "%s: round %u op %u", k->name,
					      round, op);
					bad++;
					break;
				}
			}
		}
		k->free(layer);
		k->free(base);
	}
	CHECK(bad == 0, "%s: %u rounds differ", k->name, bad);
}

int
main(void)
{
	size_t i;

	test_domset();
	test_addrset();
	test_strset();
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		seed = 2463534242u;
		differential(&kinds[i]);
	}
	return check_done();
}
