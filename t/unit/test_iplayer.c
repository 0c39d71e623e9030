/*
 * test_iplayer.c - layers over an rm_ipset and an rm_netowners: targeted
 * cases, then random adds and removes on layers checked against a fresh
 * build of the same entries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "rng.h"
#include "relaymilter/ip.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define TAG(n)   ((const void *)(uintptr_t)(n))

static struct rm_cidr
net(const char *s)
{
	struct rm_cidr c;
	char err[128];

	if (rm_cidr_parse(s, &c, err, sizeof(err)) != 0)
		fprintf(stderr, "bad network %s: %s\n", s, err);
	return c;
}

static struct rm_ip
addr(const char *s)
{
	struct rm_ip ip;

	if (rm_ip_parse(s, &ip) != 0)
		fprintf(stderr, "bad address %s\n", s);
	return ip;
}

/* look - the tag rm_ipset_lookup() gives for address s, NULL: a miss */
static const void *
look(const struct rm_ipset *s, const char *a)
{
	struct rm_ip ip = addr(a);
	const void *tag = NULL;

	return rm_ipset_lookup(s, &ip, &tag) ? tag : NULL;
}

/* Tags collected by a holders function, in order. */
struct tags {
	const void *t[64];
	size_t n;
};

static void
tag_one(void *arg, const void *tag)
{
	struct tags *t = arg;

	if (t->n < NELEM(t->t))
		t->t[t->n++] = tag;
}

/* holders - rm_ipset_holders() of network s as "t1 t2 ..." of tag strings */
static const char *
holders(const struct rm_ipset *set, const char *s)
{
	static char buf[256];
	struct rm_cidr c = net(s);
	struct tags t = {.n = 0};
	size_t i, n;

	n = rm_ipset_holders(set, &c, tag_one, &t);
	buf[0] = '\0';
	for (i = 0; i < t.n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
		         i ? " " : "", (const char *)t.t[i]);
	if (n != t.n)
		snprintf(buf, sizeof(buf), "count %zu of %zu", n, t.n);
	return buf;
}

static void
each_one(void *arg, const struct rm_cidr *c, const void *tag)
{
	char *buf = arg, ip[64];

	rm_ip_format(&c->c_addr, ip, sizeof(ip));
	snprintf(buf + strlen(buf), 512 - strlen(buf), "%s%s/%u=%s",
	         buf[0] ? " " : "", ip, c->c_len, (const char *)tag);
}

static const char *
each(const struct rm_ipset *set)
{
	static char buf[512];

	buf[0] = '\0';
	rm_ipset_each(set, each_one, buf);
	return buf;
}

/* Strings as tags: compared by pointer, so one object per name. */
static const char A[] = "A", B[] = "B", C[] = "C", C2[] = "C2", D[] = "D",
                  V6[] = "V6", V6B[] = "V6b", M[] = "M";
static const char *const tagnames[] = {A, B, C, C2, D, V6, V6B, M};

static const void *
tagof(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NELEM(tagnames); i++)
		if (strlen(tagnames[i]) == len &&
		    strncmp(tagnames[i], name, len) == 0)
			return tagnames[i];
	fprintf(stderr, "no tag %.*s\n", (int)len, name);
	return NULL;
}

/*
 * words - fn(arg, key, val, vlen) for every "key=val" word of s, the key
 * copied (at most 63 bytes); how many calls returned nonzero.
 */
static size_t
words(const char *s, int (*fn)(void *, const char *, const char *, size_t),
      void *arg)
{
	char key[64];
	size_t bad = 0, k, v;

	while (s != NULL && *s != '\0') {
		k = strcspn(s, "=");
		v = strcspn(s + k + 1, " ");
		snprintf(key, sizeof(key), "%.*s", (int)k, s);
		bad += fn(arg, key, s + k + 1, v) != 0;
		s += k + 1 + v;
		s += strspn(s, " ");
	}
	return bad;
}

/* "+net=T": add; "-net=T": remove; "~net=T": a remove that fails */
static int
op_one(void *arg, const char *key, const char *val, size_t vlen)
{
	struct rm_cidr c = net(key + 1);
	const void *tag = tagof(val, vlen);

	if (key[0] == '+')
		return rm_ipset_add(arg, &c, tag) != 0;
	return rm_ipset_remove(arg, &c, tag) != (key[0] == '-' ? 0 : -1);
}

/* "addr=T": the lookup's tag; "addr=-": a miss */
static int
probe_one(void *arg, const char *key, const char *val, size_t vlen)
{
	const void *got = look(arg, key);

	if (vlen == 1 && val[0] == '-')
		return got != NULL;
	return got != tagof(val, vlen);
}

/* "net=1": overlaps the set; "net=0": not */
static int
overlap_one(void *arg, const char *key, const char *val, size_t vlen)
{
	struct rm_cidr c = net(key);

	(void)vlen;
	return rm_ipset_overlaps(arg, &c) != (val[0] == '1');
}

#define BASE                                                                   \
	"+10.0.0.0/8=A +10.1.0.0/16=B +10.1.2.0/24=C +2001:db8::/32=V6 "       \
	"+10.1.2.0/24=C2 +2001:db8:1::/48=V6b"

static struct rm_ipset *
mkbase(void)
{
	struct rm_ipset *b = rm_ipset_new();

	CHECK(words(BASE, op_one, b) == 0, "base");
	rm_ipset_finish(b);
	return b;
}

struct layer_case {
	const char *what;
	const char *ops;
	const char *probes;
	const char *hnet, *holders; /* the holders of hnet, in order */
	size_t count;
	const char *each, *overlaps; /* NULL: not checked */
};

/* layers over BASE */
static const struct layer_case layer_cases[] = {
    {"the first holder removed: the next one", "-10.1.2.0/24=C ~10.1.2.0/24=C",
     "10.1.2.3=C2 ::ffff:10.1.2.3=C2", "10.1.2.0/24", "C2", 5, NULL, NULL},
    {"both holders removed: the enclosing network",
     "-10.1.2.0/24=C2 -10.1.2.0/24=C", "10.1.2.3=B 10.1.2.255=B", "10.1.2.0/24",
     "", 4,
     "10.0.0.0/104=A 10.1.0.0/112=B 2001:db8::/32=V6 2001:db8:1::/48=V6b",
     NULL},
    {"up the chain to the widest",
     "-10.1.2.0/24=C2 -10.1.0.0/16=B -10.1.2.0/24=C -2001:db8:1::/48=V6b",
     "10.1.2.3=A 10.1.3.3=A 11.1.2.3=- 2001:db8:1::1=V6", "2001:db8:1::/48", "",
     2, NULL, NULL},
    {"a family's networks all removed",
     "-2001:db8::/32=V6 -2001:db8:1::/48=V6b", "2001:db8:1::1=- 10.1.2.3=C",
     "2001:db8::/32", "", 3, NULL,
     "2001:db8::/32=0 ::/0=1 10.1.2.128/25=1 ::ffff:0.0.0.0/96=1 "
     "2001:db8:1::/64=0"},
    {"removed and added again: behind the other base holder",
     "-10.1.2.0/24=C +10.1.2.0/24=C +10.1.2.128/25=D +192.0.2.0/24=M",
     "10.1.2.3=C2 10.1.2.200=D ::ffff:192.0.2.9=M 192.0.3.0=-", "10.1.2.0/24",
     "C2 C", 7,
     "10.0.0.0/104=A 10.1.0.0/112=B 10.1.2.0/120=C2 10.1.2.128/121=D "
     "192.0.2.0/120=M 2001:db8::/32=V6 2001:db8:1::/48=V6b",
     "192.0.0.0/16=1 192.0.3.0/24=0"},
    {"v4-mapped notation; the layer's own entry removed",
     "+::ffff:10.1.2.0/120=M -::ffff:10.1.2.0/120=C +2001:db8:1::/64=D "
     "-2001:db8:1::/64=D ~2001:db8:1::/64=D",
     "10.1.2.200=C2 2001:db8:1::1=V6b", "10.1.2.0/24", "C2 M", 5, NULL, NULL},
    {"the only holders removed, one added in the layer",
     "-10.1.2.0/24=C -10.1.2.0/24=C2 +10.1.2.0/24=D", "10.1.2.3=D",
     "10.1.2.0/24", "D", 5,
     "10.0.0.0/104=A 10.1.0.0/112=B 10.1.2.0/120=D 2001:db8::/32=V6 "
     "2001:db8:1::/48=V6b",
     NULL},
    {"an empty layer reads as its base", "", "10.1.2.3=C 2001:db8:1::1=V6b",
     "10.1.2.0/24", "C C2", 5,
     "10.0.0.0/104=A 10.1.0.0/112=B 10.1.2.0/120=C 2001:db8::/32=V6 "
     "2001:db8:1::/48=V6b",
     NULL},
};

/* test_ipset_layers - each case a layer over one base, all alive at once */
static void
test_ipset_layers(void)
{
	struct rm_ipset *b = mkbase(), *l[NELEM(layer_cases)];
	const struct layer_case *lc;
	struct rm_cidr dirty = net("10.1.2.0/24");
	size_t i;

	CHECK_STR(holders(b, "10.1.2.0/24"), "C C2");
	dirty.c_addr.ip_b[15] = 7; /* host bits: the same network */
	CHECK(rm_ipset_holders(b, &dirty, NULL, NULL) == 2, "host bits");
	CHECK_STR(holders(b, "10.1.3.0/24"), "");
	CHECK(rm_ipset_count(b) == 5, "base count %zu", rm_ipset_count(b));
	for (i = 0; i < NELEM(layer_cases); i++) {
		lc = &layer_cases[i];
		l[i] = rm_ipset_layer(b);
		CHECK(words(lc->ops, op_one, l[i]) == 0, "%s: ops", lc->what);
		CHECK(rm_ipset_finish(l[i]) == 0, "%s: finish", lc->what);
	}
	for (i = 0; i < NELEM(layer_cases); i++) {
		lc = &layer_cases[i];
		CHECK(words(lc->probes, probe_one, l[i]) == 0, "%s: lookups",
		      lc->what);
		CHECK_STR(holders(l[i], lc->hnet), lc->holders);
		CHECK(rm_ipset_count(l[i]) == lc->count, "%s: count %zu",
		      lc->what, rm_ipset_count(l[i]));
		if (lc->each != NULL)
			CHECK_STR(each(l[i]), lc->each);
		CHECK(words(lc->overlaps, overlap_one, l[i]) == 0,
		      "%s: overlaps", lc->what);
		CHECK(rm_ipset_layer(l[i]) == NULL, "no layer over a layer");
	}
	for (i = 0; i < NELEM(layer_cases); i++)
		rm_ipset_free(l[i]);
	CHECK(words("10.1.2.3=C 2001:db8:1::1=V6b 10.1.3.3=B", probe_one, b) ==
	          0,
	      "the base untouched");
	rm_ipset_free(b);
}

static void
test_ipset_layer_edge(void)
{
	struct rm_ipset *s = rm_ipset_new(), *l;
	struct rm_cidr c = net("10.0.0.0/8");

	CHECK(rm_ipset_layer(NULL) == NULL, "NULL base");
	CHECK(rm_ipset_layer(s) == NULL, "unfinished base");
	rm_ipset_add(s, &c, A);
	CHECK(rm_ipset_remove(s, &c, A) == -1, "remove on a set");
	rm_ipset_finish(s);
	CHECK(rm_ipset_remove(s, &c, A) == -1, "remove on a finished set");
	CHECK(rm_ipset_holders(NULL, &c, tag_one, NULL) == 0, "NULL set");
	CHECK(rm_ipset_holders(s, &c, NULL, NULL) == 1, "count only");
	l = rm_ipset_layer(s);
	CHECK(rm_ipset_remove(l, &c, B) == -1, "another tag");
	CHECK(rm_ipset_remove(l, NULL, A) == -1, "NULL network");
	CHECK(rm_ipset_remove(l, &c, A) == 0, "remove");
	CHECK(look(l, "10.0.0.1") == NULL, "unfinished layer never matches");
	CHECK(rm_ipset_holders(l, &c, NULL, NULL) == 0, "unfinished layer");
	rm_ipset_finish(l);
	CHECK(rm_ipset_count(l) == 0, "empty");
	CHECK(look(l, "10.0.0.1") == NULL, "removed");
	CHECK(rm_ipset_remove(l, &c, A) == -1, "remove after finish");
	CHECK(rm_ipset_add(l, &c, A) == -1, "add after finish");
	rm_ipset_free(l);
	rm_ipset_free(s);
}

static int
nown(const struct rm_netowners *ns, const char *owner, const char *a,
     const void **tag)
{
	struct rm_ip ip = addr(a);

	*tag = NULL;
	return rm_netowners_lookup(ns, owner, &ip, tag);
}

static void
test_netowners_layer(void)
{
	struct rm_netowners *b = rm_netowners_new(), *l;
	struct rm_cidr c10 = net("10.0.0.0/8"), c192 = net("192.0.2.0/24"),
	               c172 = net("172.16.0.0/12");
	const void *tag;
	char err[128];

	rm_netowners_add(b, "alice", &c10, A, err, sizeof(err));
	rm_netowners_add(b, "bob", &c10, B, err, sizeof(err));
	rm_netowners_add(b, "Alice", &c192, C, err, sizeof(err));
	rm_netowners_add(b, "alice", &c10, C2, err, sizeof(err));
	rm_netowners_finish(b);
	CHECK(rm_netowners_layer(NULL) == NULL, "NULL base");
	CHECK(rm_netowners_remove(b, "alice", &c10, A) == -1, "not a layer");

	l = rm_netowners_layer(b);
	CHECK(rm_netowners_remove(l, "ALICE", &c10, A) == 0, "remove A");
	CHECK(rm_netowners_remove(l, "alice", &c10, A) == -1, "twice");
	CHECK(rm_netowners_remove(l, "carol", &c10, A) == -1, "no owner");
	rm_netowners_finish(l);
	CHECK(nown(l, "alice", "10.1.1.1", &tag) == 1 && tag == C2,
	      "next holder");
	CHECK(nown(l, "alice", "172.16.0.1", &tag) == 0 && tag == C,
	      "miss: the first network's tag");
	CHECK(rm_netowners_holders(l, "aLiCe", &c10, NULL, NULL) == 1,
	      "holders");
	CHECK(rm_netowners_count(l) == 3, "count %zu", rm_netowners_count(l));
	rm_netowners_free(l);

	/* every network of alice goes: unknown; one added: known again */
	l = rm_netowners_layer(b);
	CHECK(rm_netowners_remove(l, "alice", &c10, A) == 0 &&
	          rm_netowners_remove(l, "alice", &c192, C) == 0 &&
	          rm_netowners_remove(l, "alice", &c10, C2) == 0,
	      "remove all of alice");
	rm_netowners_finish(l);
	CHECK(nown(l, "alice", "10.1.1.1", &tag) == -1, "alice unknown");
	CHECK(nown(l, "bob", "10.1.1.1", &tag) == 1 && tag == B, "bob");
	CHECK(rm_netowners_count(l) == 1, "count %zu", rm_netowners_count(l));
	CHECK(nown(b, "alice", "10.1.1.1", &tag) == 1 && tag == A,
	      "base untouched");
	rm_netowners_free(l);

	l = rm_netowners_layer(b);
	rm_netowners_remove(l, "alice", &c10, A);
	rm_netowners_remove(l, "alice", &c192, C);
	rm_netowners_remove(l, "alice", &c10, C2);
	CHECK(rm_netowners_add(l, "ALICE", &c172, D, err, sizeof(err)) == 0,
	      "add");
	CHECK(rm_netowners_add(l, "alice", &c10, M, err, sizeof(err)) == 0,
	      "add");
	CHECK(rm_netowners_remove(l, "alice", &c10, M) == 0, "remove own");
	rm_netowners_finish(l);
	CHECK(nown(l, "alice", "10.1.1.1", &tag) == 0 && tag == D, "0");
	CHECK(nown(l, "alice", "172.17.0.1", &tag) == 1 && tag == D, "1");
	CHECK(rm_netowners_lookup(l, "alice", NULL, &tag) == 0, "no address");
	CHECK(rm_netowners_count(l) == 2, "count %zu", rm_netowners_count(l));
	CHECK(rm_netowners_add(l, "x", &c172, D, err, sizeof(err)) == -1,
	      "add after finish");
	CHECK(rm_netowners_layer(l) == NULL, "no layer over a layer");
	rm_netowners_free(l);
	rm_netowners_free(b);
}

/*
 * The random differential tests: entries drawn from a few networks over a
 * small space (nested, wide ones now and then) and a few tags, so that
 * duplicates, equal tags and removals of absent entries all happen.
 */
#define NPOOL    48
#define NTAGS    5
#define MAXENT   160
#define NROUNDS  1000
#define NOWNPOOL 12 /* the networks of the netowners test */

static struct rm_cidr pool[NPOOL];

/* rand_net - a network in 10.0.0.0/23 or 2001:db8::/119 (or wider) */
static struct rm_cidr
rand_net(void)
{
	static const char *const wide[] = {"::/0", "::ffff:0.0.0.0/96",
	                                   "10.0.0.0/8", "2001:db8::/32",
	                                   "0.0.0.0/0"};
	unsigned len, host;
	char txt[64];

	if (rng() % 10 == 0)
		return net(wide[rng() % NELEM(wide)]);
	len = 23 + (unsigned)(rng() % 10);
	host = (unsigned)(rng() % 512);
	host &= len == 32 ? ~0u : ~((1u << (32 - len)) - 1);
	if (rng() % 2 == 0)
		snprintf(txt, sizeof(txt), "10.0.%u.%u/%u", host >> 8,
		         host & 255, len);
	else
		snprintf(txt, sizeof(txt), "2001:db8::%x/%u", host, len + 96);
	return net(txt);
}

/* rand_addr - an address in (or just beside) the space of rand_net() */
static struct rm_ip
rand_addr(void)
{
	char txt[64];
	unsigned host = (unsigned)(rng() % 520);

	if (rng() % 2 == 0)
		snprintf(txt, sizeof(txt), "10.0.%u.%u", host >> 8, host & 255);
	else
		snprintf(txt, sizeof(txt), "2001:db8::%x", host);
	return addr(txt);
}

/* An entry of the model: pool network, tag, still there. */
struct ment {
	unsigned m_net, m_tag;
	bool m_live;
	const char *m_owner;
};

struct model {
	struct ment m[2 * MAXENT];
	size_t n;
};

/* model_remove - the first live entry matching; -1: none */
static int
model_remove(struct model *md, unsigned netx, unsigned tag, const char *owner)
{
	size_t i;

	for (i = 0; i < md->n; i++)
		if (md->m[i].m_live && md->m[i].m_tag == tag &&
		    memcmp(&pool[md->m[i].m_net], &pool[netx],
		           sizeof(pool[0])) == 0 &&
		    (owner == NULL ||
		     strcasecmp(md->m[i].m_owner, owner) == 0)) {
			md->m[i].m_live = false;
			return 0;
		}
	return -1;
}

struct pairs {
	struct rm_cidr c[2 * MAXENT];
	const void *t[2 * MAXENT];
	size_t n;
};

static void
pair_one(void *arg, const struct rm_cidr *c, const void *tag)
{
	struct pairs *p = arg;

	if (p->n < NELEM(p->c)) {
		p->c[p->n] = *c;
		p->t[p->n++] = tag;
	}
}

static bool
same_tags(const struct tags *a, const struct tags *b)
{
	return a->n == b->n && memcmp(a->t, b->t, a->n * sizeof(a->t[0])) == 0;
}

/* ipset_compare - layer l against fresh build f; the count of mismatches */
static size_t
ipset_compare(const struct rm_ipset *l, const struct rm_ipset *f)
{
	static struct pairs pl, pf;
	struct tags tl, tf;
	struct rm_ip ip;
	const void *a, *b;
	size_t i, bad = 0;
	bool hl, hf;

	bad += rm_ipset_count(l) != rm_ipset_count(f);
	pl.n = pf.n = 0;
	rm_ipset_each(l, pair_one, &pl);
	rm_ipset_each(f, pair_one, &pf);
	bad += pl.n != pf.n ||
	       memcmp(pl.c, pf.c, pl.n * sizeof(pl.c[0])) != 0 ||
	       memcmp(pl.t, pf.t, pl.n * sizeof(pl.t[0])) != 0;
	for (i = 0; i < 300; i++) {
		ip = rand_addr();
		a = b = NULL;
		hl = rm_ipset_lookup(l, &ip, &a);
		hf = rm_ipset_lookup(f, &ip, &b);
		bad += hl != hf || a != b;
	}
	for (i = 0; i < NPOOL; i++) {
		tl.n = tf.n = 0;
		bad += rm_ipset_holders(l, &pool[i], tag_one, &tl) != tl.n;
		rm_ipset_holders(f, &pool[i], tag_one, &tf);
		bad += !same_tags(&tl, &tf);
		bad += rm_ipset_overlaps(l, &pool[i]) !=
		       rm_ipset_overlaps(f, &pool[i]);
	}
	return bad;
}

/* The owners of the netowners test; NULL for an ipset. */
static const char *const owners[] = {"alice", "ALICE", "bob", "carol", "Dave"};

/* rand_ent - a random entry of the first npool networks, added to md */
static struct ment *
rand_ent(struct model *md, unsigned npool, bool owned)
{
	struct ment *m = &md->m[md->n++];

	m->m_net = (unsigned)(rng() % npool);
	m->m_tag = 1 + (unsigned)(rng() % NTAGS);
	m->m_live = true;
	m->m_owner = owned ? owners[rng() % NELEM(owners)] : NULL;
	return m;
}

/*
 * rand_op - a random change, made to the model: mostly the removal of an
 * entry it has held (now and then another tag or owner), else an add.
 * true: e is added; false: e is removed, *want what that returns.
 */
static bool
rand_op(struct model *md, unsigned npool, bool owned, struct ment *e, int *want)
{
	if (md->n < NELEM(md->m) && (md->n == 0 || rng() % 3 == 0)) {
		*e = *rand_ent(md, npool, owned);
		return true;
	}
	*e = md->m[rng() % md->n];
	if (rng() % 8 == 0)
		e->m_tag = 1 + (unsigned)(rng() % NTAGS);
	if (owned && rng() % 4 == 0)
		e->m_owner = owners[rng() % NELEM(owners)];
	*want = model_remove(md, e->m_net, e->m_tag, e->m_owner);
	return false;
}

static void
test_ipset_layer_random(void)
{
	static struct model md;
	struct rm_ipset *base, *l, *f;
	struct ment e;
	struct tags th;
	size_t r, i, nb, nops, bad = 0, rmok = 0, rmbad = 0, dups = 0;
	unsigned nx, tg;
	int want;

	for (r = 0; r < NROUNDS; r++) {
		md.n = 0;
		base = rm_ipset_new();
		nb = rng() % MAXENT;
		for (i = 0; i < nb; i++) {
			e = *rand_ent(&md, NPOOL, false);
			rm_ipset_add(base, &pool[e.m_net], TAG(e.m_tag));
		}
		rm_ipset_finish(base);
		l = rm_ipset_layer(base);
		nops = rng() % (r % 4 == 0 ? MAXENT : 12);
		for (i = 0; i < nops; i++) {
			if (rand_op(&md, NPOOL, false, &e, &want)) {
				bad += rm_ipset_add(l, &pool[e.m_net],
				                    TAG(e.m_tag)) != 0;
				continue;
			}
			bad += rm_ipset_remove(l, &pool[e.m_net],
			                       TAG(e.m_tag)) != want;
			rmok += want == 0;
			rmbad += want != 0;
		}
		CHECK(rm_ipset_finish(l) == 0, "finish");
		f = rm_ipset_new();
		for (i = 0; i < md.n; i++)
			if (md.m[i].m_live)
				rm_ipset_add(f, &pool[md.m[i].m_net],
				             TAG(md.m[i].m_tag));
		rm_ipset_finish(f);
		bad += ipset_compare(l, f);
		/* the fresh build's holders: the model's, in order */
		for (nx = 0; nx < NPOOL; nx++) {
			th.n = 0;
			rm_ipset_holders(f, &pool[nx], tag_one, &th);
			dups += th.n > 1;
			for (i = 0, tg = 0; i < md.n; i++)
				if (md.m[i].m_live &&
				    memcmp(&pool[md.m[i].m_net], &pool[nx],
				           sizeof(pool[0])) == 0)
					bad += tg >= th.n ||
					       th.t[tg++] != TAG(md.m[i].m_tag);
			bad += tg != th.n;
		}
		rm_ipset_free(l);
		rm_ipset_free(f);
		rm_ipset_free(base);
	}
	CHECK(bad == 0, "%zu mismatches between layers and fresh builds", bad);
	CHECK(rmok > 1000 && rmbad > 100 && dups > 1000,
	      "removes %zu, absent %zu, duplicates %zu", rmok, rmbad, dups);
}

/* netowners_compare - layer l against fresh build f; the mismatches */
static size_t
netowners_compare(const struct rm_netowners *l, const struct rm_netowners *f,
                  size_t rc[3])
{
	struct tags tl, tf;
	struct rm_ip ip;
	const void *a, *b;
	size_t i, j, bad = 0;
	int x, y;

	bad += rm_netowners_count(l) != rm_netowners_count(f);
	for (i = 0; i < NELEM(owners); i++) {
		for (j = 0; j < 20; j++) {
			ip = rand_addr();
			a = b = NULL;
			x = rm_netowners_lookup(l, owners[i], &ip, &a);
			y = rm_netowners_lookup(f, owners[i], &ip, &b);
			bad += x != y || a != b;
			rc[x + 1]++;
		}
		for (j = 0; j < NOWNPOOL; j++) {
			tl.n = tf.n = 0;
			rm_netowners_holders(l, owners[i], &pool[j], tag_one,
			                     &tl);
			rm_netowners_holders(f, owners[i], &pool[j], tag_one,
			                     &tf);
			bad += !same_tags(&tl, &tf);
		}
	}
	return bad;
}

static void
test_netowners_layer_random(void)
{
	static struct model md;
	struct rm_netowners *base, *l, *f;
	struct ment e;
	size_t r, i, nb, nops, bad = 0, rc[3] = {0, 0, 0};
	char err[128];
	int want;

	for (r = 0; r < NROUNDS; r++) {
		md.n = 0;
		base = rm_netowners_new();
		nb = rng() % 40;
		for (i = 0; i < nb; i++) {
			e = *rand_ent(&md, NOWNPOOL, true);
			rm_netowners_add(base, e.m_owner, &pool[e.m_net],
			                 TAG(e.m_tag), err, sizeof(err));
		}
		rm_netowners_finish(base);
		l = rm_netowners_layer(base);
		nops = rng() % 40;
		for (i = 0; i < nops; i++) {
			if (rand_op(&md, NOWNPOOL, true, &e, &want))
				bad += rm_netowners_add(
				           l, e.m_owner, &pool[e.m_net],
				           TAG(e.m_tag), err, sizeof(err)) != 0;
			else
				bad += rm_netowners_remove(
				           l, e.m_owner, &pool[e.m_net],
				           TAG(e.m_tag)) != want;
		}
		rm_netowners_finish(l);
		f = rm_netowners_new();
		for (i = 0; i < md.n; i++)
			if (md.m[i].m_live)
				rm_netowners_add(
				    f, md.m[i].m_owner, &pool[md.m[i].m_net],
				    TAG(md.m[i].m_tag), err, sizeof(err));
		rm_netowners_finish(f);
		bad += netowners_compare(l, f, rc);
		rm_netowners_free(l);
		rm_netowners_free(f);
		rm_netowners_free(base);
	}
	CHECK(bad == 0, "%zu mismatches between layers and fresh builds", bad);
	CHECK(rc[0] > 1000 && rc[1] > 1000 && rc[2] > 1000,
	      "lookups: %zu unknown, %zu miss, %zu hit", rc[0], rc[1], rc[2]);
}

int
main(void)
{
	size_t i;

	rng_state = 0x2545f4914f6cdd1du;
	for (i = 0; i < NPOOL; i++)
		pool[i] = rand_net();
	test_ipset_layers();
	test_ipset_layer_edge();
	test_netowners_layer();
	test_ipset_layer_random();
	test_netowners_layer_random();
	return check_done();
}
