/*
 * ip.c - IP addresses, CIDR networks and the trusted-network set.
 *
 * An rm_ipset is a sorted array of networks.  Networks in a CIDR family are
 * either nested or disjoint, so after sorting by start address (wider
 * first on a tie) every entry can point at its closest enclosing entry.  A
 * lookup binary-searches the last network starting at or before the
 * address and climbs the enclosing chain: the first network on it that
 * holds the address is the most specific one.  Later holders of a network
 * already in the set (duplicates) wait in a side array for
 * rm_ipset_holders() and layers.
 *
 * A layer is a small set of its own (the networks added to it) over a
 * shared base, with the base's removed holders as a sorted list of ids and,
 * for each base network whose first holder went, the holder now first or
 * none left (a fix).  A lookup climbs the base's chain, passing networks
 * with none left, and searches the layer's own networks; the more specific
 * hit wins, the base's on a tie, as its holders were added first.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relaymilter/ip.h"

#define NO_PARENT SIZE_MAX

/* Longest accepted text: "[IPv6:" + an IPv6 address with IPv4 tail + "]". */
#define IP_TEXT_MAX 64

struct ipset_ent {
	uint64_t ie_key[2]; /* the network address as two numbers */
	struct rm_cidr ie_net;
	const void *ie_tag;
	size_t ie_seq;    /* insertion order: first of duplicates wins */
	size_t ie_parent; /* closest enclosing entry, or NO_PARENT; in
	                     is_dup: the entry of the same network */
};

/* A base network whose first holder a layer removed. */
struct ipset_fix {
	size_t if_ent;      /* the base entry */
	const void *if_tag; /* the holder first now */
	bool if_dead;       /* no holder left: the network is gone */
};

/*
 * The binary search runs over the keys alone, in two levels: every
 * TOP_STEP-th key (small enough to stay in the cache), then one block of
 * TOP_STEP keys.  A lookup in 100k networks touches a few cache lines
 * instead of one per halving.
 */
#define TOP_STEP 16

struct rm_ipset {
	struct ipset_ent *is_ent;
	uint64_t (*is_keys)[2]; /* the entries' keys, in order */
	uint64_t (*is_top)[2];  /* is_keys[0], is_keys[TOP_STEP], ... */
	size_t is_n, is_cap;
	bool is_finished;
	const struct rm_ipset *is_base; /* a layer: what it lies over */
	/* the holders after the first of a network, in network order, then
	   in the order added */
	struct ipset_ent *is_dup;
	size_t is_ndup;
	/* a layer: the base holders removed, by id (ent_id()), sorted */
	size_t *is_gone, is_ngone, is_gonecap;
	struct ipset_fix *is_fix; /* a layer: sorted by if_ent */
	size_t is_nfix;
	size_t is_count; /* a layer: its networks, with the base's */
};

static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/*
 * v4_strict - s is a dotted quad without leading zeros; inet_pton()
 * implementations differ on "010.0.0.1", which some read as octal.
 */
static bool
v4_strict(const char *s)
{
	int digits = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			digits = 0;
			continue;
		}
		if (digits == 1 && s[-1] == '0')
			return false;
		digits++;
	}
	return true;
}

/*
 * ip_parse - rm_ip_parse(), also telling whether the text was IPv4 syntax
 * (prefix lengths then count in the 32-bit space).
 */
static int
ip_parse(const char *s, struct rm_ip *out, bool *v4)
{
	char buf[IP_TEXT_MAX + 1];
	const char *p;
	size_t len;
	bool tagged = false;
	struct in_addr a4;
	struct in6_addr a6;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	len = strnlen(s, IP_TEXT_MAX + 1);
	if (len > IP_TEXT_MAX)
		return -1;
	p = s;
	if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
		p++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		tagged = true;
		p += 5;
		len -= 5;
	}
	memcpy(buf, p, len);
	buf[len] = '\0';
	/* a stray bracket or prefix in the middle fails inet_pton() below */
	if (!tagged && inet_pton(AF_INET, buf, &a4) == 1) {
		if (!v4_strict(buf))
			return -1;
		memcpy(out->ip_b, v4_prefix, sizeof(v4_prefix));
		memcpy(&out->ip_b[12], &a4, 4);
		*v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &a6) == 1) {
		/* an embedded IPv4 tail must be just as strict */
		if (strchr(buf, '.') != NULL &&
		    !v4_strict(strrchr(buf, ':') + 1))
			return -1;
		memcpy(out->ip_b, &a6, 16);
		*v4 = false;
		return 0;
	}
	return -1;
}

int
rm_ip_parse(const char *s, struct rm_ip *out)
{
	bool v4;

	return ip_parse(s, out, &v4);
}

bool
rm_ip_is_v4(const struct rm_ip *ip)
{
	return memcmp(ip->ip_b, v4_prefix, sizeof(v4_prefix)) == 0;
}

bool
rm_ip_is_loopback(const struct rm_ip *ip)
{
	static const uint8_t v6_lo[16] = {[15] = 1};

	return (rm_ip_is_v4(ip) && ip->ip_b[12] == 127) ||
	       memcmp(ip->ip_b, v6_lo, sizeof(v6_lo)) == 0;
}

const char *
rm_ip_format(const struct rm_ip *ip, char *buf, size_t len)
{
	const char *r;

	if (len == 0)
		return "";
	if (rm_ip_is_v4(ip))
		r = inet_ntop(AF_INET, &ip->ip_b[12], buf, (socklen_t)len);
	else
		r = inet_ntop(AF_INET6, ip->ip_b, buf, (socklen_t)len);
	if (r == NULL)
		buf[0] = '\0'; /* too small: print nothing, never garbage */
	return buf;
}

/* mask_host - clear the bits below the prefix length. */
static void
mask_host(struct rm_ip *ip, unsigned len)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (len >= 8) {
			len -= 8;
			continue;
		}
		ip->ip_b[i] &= (uint8_t)(0xff00u >> len);
		len = 0;
	}
}

/* parse_len - strict decimal: digits only, no sign, no leading zero. */
static int
parse_len(const char *s, unsigned *out)
{
	unsigned v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > 128)
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return 0;
}

int
rm_cidr_parse(const char *s, struct rm_cidr *out, char *errbuf, size_t errlen)
{
	char abuf[IP_TEXT_MAX + 1], shown[INET6_ADDRSTRLEN];
	const char *slash;
	struct rm_ip masked;
	unsigned len, max;
	size_t alen;
	bool v4;

	memset(out, 0, sizeof(*out));
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (s == NULL || (slash = strchr(s, '/')) == NULL) {
		if (ip_parse(s, &out->c_addr, &v4) != 0)
			goto bad_addr;
		out->c_len = 128;
		return 0;
	}
	alen = (size_t)(slash - s);
	if (alen > IP_TEXT_MAX)
		goto bad_addr;
	memcpy(abuf, s, alen);
	abuf[alen] = '\0';
	if (ip_parse(abuf, &out->c_addr, &v4) != 0)
		goto bad_addr;
	max = v4 ? 32 : 128;
	if (parse_len(slash + 1, &len) != 0 || len > max) {
		memset(out, 0, sizeof(*out));
		if (errbuf != NULL)
			snprintf(errbuf, errlen,
			         "bad prefix length: want 0 to %u", max);
		return -1;
	}
	out->c_len = v4 ? len + 96 : len;
	masked = out->c_addr;
	mask_host(&masked, out->c_len);
	if (memcmp(&masked, &out->c_addr, sizeof(masked)) != 0) {
		/* suggest the network in the family it was written in */
		if (v4)
			inet_ntop(AF_INET, &masked.ip_b[12], shown,
			          sizeof(shown));
		else
			inet_ntop(AF_INET6, masked.ip_b, shown, sizeof(shown));
		memset(out, 0, sizeof(*out));
		if (errbuf != NULL)
			snprintf(errbuf, errlen,
			         "host bits set: did you mean %s/%u?", shown,
			         len);
		return -1;
	}
	return 0;

bad_addr:
	memset(out, 0, sizeof(*out));
	if (errbuf != NULL)
		snprintf(errbuf, errlen, "not an IP address or network");
	return -1;
}

bool
rm_cidr_contains(const struct rm_cidr *c, const struct rm_ip *ip)
{
	struct rm_ip m = *ip;

	mask_host(&m, c->c_len);
	return memcmp(&m, &c->c_addr, sizeof(m)) == 0;
}

/* ip_key - the address as two big-endian numbers, for compares. */
static inline void
ip_key(const struct rm_ip *ip, uint64_t k[2])
{
	int i;

	k[0] = k[1] = 0;
	for (i = 0; i < 8; i++) {
		k[0] = k[0] << 8 | ip->ip_b[i];
		k[1] = k[1] << 8 | ip->ip_b[i + 8];
	}
}

/* key_contains - the network of e holds the address with key k. */
static inline bool
key_contains(const struct ipset_ent *e, const uint64_t k[2])
{
	unsigned len = e->ie_net.c_len;
	uint64_t m0, m1;

	if (len <= 64) {
		m0 = len ? ~(uint64_t)0 << (64 - len) : 0;
		m1 = 0;
	} else {
		m0 = ~(uint64_t)0;
		m1 = ~(uint64_t)0 << (128 - len);
	}
	return (k[0] & m0) == e->ie_key[0] && (k[1] & m1) == e->ie_key[1];
}

struct rm_ipset *
rm_ipset_new(void)
{
	return calloc(1, sizeof(struct rm_ipset));
}

struct rm_ipset *
rm_ipset_layer(const struct rm_ipset *base)
{
	struct rm_ipset *set;

	if (base == NULL || !base->is_finished || base->is_base != NULL)
		return NULL;
	if ((set = rm_ipset_new()) != NULL)
		set->is_base = base;
	return set;
}

int
rm_ipset_add(struct rm_ipset *set, const struct rm_cidr *c, const void *tag)
{
	struct ipset_ent *e;
	size_t ncap;

	if (set == NULL || c == NULL || set->is_finished || c->c_len > 128)
		return -1;
	if (set->is_n == set->is_cap) {
		ncap = set->is_cap ? set->is_cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(*e))
			return -1;
		e = realloc(set->is_ent, ncap * sizeof(*e));
		if (e == NULL)
			return -1;
		set->is_ent = e;
		set->is_cap = ncap;
	}
	e = &set->is_ent[set->is_n];
	e->ie_net = *c;
	/* the sort and the nesting rely on a clean network address */
	mask_host(&e->ie_net.c_addr, c->c_len);
	ip_key(&e->ie_net.c_addr, e->ie_key);
	e->ie_tag = tag;
	e->ie_seq = set->is_n;
	e->ie_parent = NO_PARENT;
	set->is_n++;
	return 0;
}

/* same_net - a and b are the same network. */
static bool
same_net(const struct rm_cidr *a, const struct rm_cidr *b)
{
	return a->c_len == b->c_len &&
	       memcmp(&a->c_addr, &b->c_addr, sizeof(a->c_addr)) == 0;
}

/* net_cmp - start address, then wider first. */
static int
net_cmp(const struct rm_cidr *a, const struct rm_cidr *b)
{
	int r = memcmp(a->c_addr.ip_b, b->c_addr.ip_b, 16);

	if (r != 0)
		return r;
	return a->c_len < b->c_len ? -1 : a->c_len > b->c_len;
}

/* ent_cmp - network order, then insertion order. */
static int
ent_cmp(const void *a, const void *b)
{
	const struct ipset_ent *x = a, *y = b;
	int r = net_cmp(&x->ie_net, &y->ie_net);

	if (r != 0)
		return r;
	return x->ie_seq < y->ie_seq ? -1 : x->ie_seq > y->ie_seq;
}

/*
 * build - sort and index the set's own entries, the later holders of a
 * network moved to is_dup.  On failure the set is as it was.
 */
static int
build(struct rm_ipset *set)
{
	struct ipset_ent *e = set->is_ent, *dup = NULL;
	uint64_t(*keys)[2] = NULL, (*tops)[2] = NULL;
	size_t i, n, ndup = 0, top;

	/* the order added, renumbered: a layer's removals leave gaps */
	for (i = 0; i < set->is_n; i++)
		e[i].ie_seq = i;
	if (set->is_n > 1)
		qsort(e, set->is_n, sizeof(*e), ent_cmp);
	/* duplicates are adjacent; the first added sorts first */
	for (i = 1; i < set->is_n; i++)
		ndup += same_net(&e[i - 1].ie_net, &e[i].ie_net);
	n = set->is_n - ndup;
	top = (n + TOP_STEP - 1) / TOP_STEP;
	if ((ndup > 0 && (dup = malloc(ndup * sizeof(*dup))) == NULL) ||
	    (n > 0 && ((keys = malloc(n * sizeof(*keys))) == NULL ||
	               (tops = malloc(top * sizeof(*tops))) == NULL))) {
		free(dup);
		free(keys);
		return -1;
	}
	for (i = 0, n = 0, ndup = 0; i < set->is_n; i++) {
		if (n > 0 && same_net(&e[n - 1].ie_net, &e[i].ie_net)) {
			dup[ndup] = e[i];
			dup[ndup++].ie_parent = n - 1;
			continue;
		}
		e[n++] = e[i];
	}
	set->is_n = n;
	set->is_dup = dup;
	set->is_ndup = ndup;
	/*
	 * The parent chain of the previous entry is the stack of networks
	 * still open at this start address: pop those that do not enclose
	 * this one, and the top left is its parent.  Each entry is popped at
	 * most once, so this is linear.
	 */
	for (i = 0; i < n; i++) {
		top = i > 0 ? i - 1 : NO_PARENT;
		while (top != NO_PARENT &&
		       !(e[top].ie_net.c_len < e[i].ie_net.c_len &&
		         rm_cidr_contains(&e[top].ie_net, &e[i].ie_net.c_addr)))
			top = e[top].ie_parent;
		e[i].ie_parent = top;
	}
	for (i = 0; i < n; i++) {
		keys[i][0] = e[i].ie_key[0];
		keys[i][1] = e[i].ie_key[1];
		if (i % TOP_STEP == 0)
			memcpy(tops[i / TOP_STEP], keys[i], sizeof(tops[0]));
	}
	set->is_keys = keys;
	set->is_top = tops;
	return 0;
}

/* upper - how many of the n sorted keys are <= k */
static size_t
upper(const uint64_t (*keys)[2], size_t n, const uint64_t k[2])
{
	size_t lo = 0, hi = n, mid;
	const uint64_t k0 = k[0], k1 = k[1];

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (keys[mid][0] < k0 ||
		    (keys[mid][0] == k0 && keys[mid][1] <= k1))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * find_le - how many entries of a finished set start at or before key k:
 * the block after the last top key <= k holds the answer.
 */
static inline size_t
find_le(const struct rm_ipset *set, const uint64_t k[2])
{
	size_t t, i;

	t = upper(set->is_top, (set->is_n + TOP_STEP - 1) / TOP_STEP, k);
	if (t == 0)
		return 0;
	i = (t - 1) * TOP_STEP;
	return i + upper(set->is_keys + i,
	                 set->is_n - i < TOP_STEP ? set->is_n - i : TOP_STEP,
	                 k);
}

/* net_find - the entry of exactly network c (host bits clear), or
   NO_PARENT. */
static size_t
net_find(const struct rm_ipset *set, const struct rm_cidr *c)
{
	uint64_t k[2];
	size_t i;

	ip_key(&c->c_addr, k);
	/* the networks starting at k sort widest first: step back */
	for (i = find_le(set, k); i > 0 && set->is_keys[i - 1][0] == k[0] &&
	                          set->is_keys[i - 1][1] == k[1];
	     i--)
		if (set->is_ent[i - 1].ie_net.c_len == c->c_len)
			return i - 1;
	return NO_PARENT;
}

/* ids_find - how many of the n sorted ids are < id */
static size_t
ids_find(const size_t *ids, size_t n, size_t id)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ids_has - id is one of the n sorted ids. */
static inline bool
ids_has(const size_t *ids, size_t n, size_t id)
{
	size_t i;

	if (n == 0)
		return false;
	i = ids_find(ids, n, id);
	return i < n && ids[i] == id;
}

/* ids_add - insert id into the sorted ids (absent); 0 or -1. */
static int
ids_add(size_t **ids, size_t *n, size_t *cap, size_t id)
{
	size_t i, ncap, *v;

	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 16;
		if (ncap > SIZE_MAX / sizeof(*v) ||
		    (v = realloc(*ids, ncap * sizeof(*v))) == NULL)
			return -1;
		*ids = v;
		*cap = ncap;
	}
	i = ids_find(*ids, *n, id);
	memmove(*ids + i + 1, *ids + i, (*n - i) * sizeof(**ids));
	(*ids)[i] = id;
	(*n)++;
	return 0;
}

/* fix_find - the layer's fix of base entry i, or NULL. */
static const struct ipset_fix *
fix_find(const struct rm_ipset *layer, size_t i)
{
	size_t lo = 0, hi = layer->is_nfix, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (layer->is_fix[mid].if_ent < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < layer->is_nfix && layer->is_fix[lo].if_ent == i
	           ? &layer->is_fix[lo]
	           : NULL;
}

/* dup_first - the first index in is_dup holding the network of entry i */
static size_t
dup_first(const struct rm_ipset *set, size_t i)
{
	size_t lo = 0, hi = set->is_ndup, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (set->is_dup[mid].ie_parent < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Every holder of a network has an id: its entry's index for the first,
 * is_n + its index in is_dup for the later ones.  holder_next - from id
 * (or NO_PARENT to start) the next holder of entry i; NO_PARENT after the
 * last.
 */
static size_t
holder_next(const struct rm_ipset *set, size_t i, size_t id)
{
	size_t d;

	if (i == NO_PARENT)
		return NO_PARENT;
	if (id == NO_PARENT)
		return i;
	d = id == i ? dup_first(set, i) : id - set->is_n + 1;
	return d < set->is_ndup && set->is_dup[d].ie_parent == i ? set->is_n + d
	                                                         : NO_PARENT;
}

static const void *
holder_tag(const struct rm_ipset *set, size_t id)
{
	return id < set->is_n ? set->is_ent[id].ie_tag
	                      : set->is_dup[id - set->is_n].ie_tag;
}

/*
 * layer_fix - the fixes of a layer (fix: room for is_ngone) and its count:
 * the base's networks with a holder left, then its own the base lacks.
 */
static void
layer_fix(struct rm_ipset *set, struct ipset_fix *fix)
{
	const struct rm_ipset *base = set->is_base;
	const struct ipset_fix *f;
	size_t g, id, i, dead = 0;

	set->is_fix = fix;
	set->is_nfix = 0;
	/* the first holders' ids are the entries' indexes, sorted first */
	for (g = 0; g < set->is_ngone && set->is_gone[g] < base->is_n; g++) {
		i = set->is_gone[g];
		fix = &set->is_fix[set->is_nfix++];
		fix->if_ent = i;
		fix->if_tag = NULL;
		fix->if_dead = true;
		for (id = holder_next(base, i, i); id != NO_PARENT;
		     id = holder_next(base, i, id))
			if (!ids_has(set->is_gone, set->is_ngone, id)) {
				fix->if_tag = holder_tag(base, id);
				fix->if_dead = false;
				break;
			}
		dead += fix->if_dead;
	}
	set->is_count = base->is_n - dead;
	for (i = 0; i < set->is_n; i++) {
		id = net_find(base, &set->is_ent[i].ie_net);
		set->is_count +=
		    id == NO_PARENT ||
		    ((f = fix_find(set, id)) != NULL && f->if_dead);
	}
}

int
rm_ipset_finish(struct rm_ipset *set)
{
	struct ipset_fix *fix = NULL;

	if (set == NULL)
		return -1;
	if (set->is_finished)
		return 0;
	if (set->is_base != NULL && set->is_ngone > 0 &&
	    (fix = malloc(set->is_ngone * sizeof(*fix))) == NULL)
		return -1;
	if (build(set) != 0) {
		free(fix);
		return -1;
	}
	if (set->is_base != NULL)
		layer_fix(set, fix);
	set->is_finished = true;
	return 0;
}

/*
 * chain_hit - the most specific entry of set holding the address with key
 * k, skipping the base networks layer removed (NULL: none); *tag is its
 * first holder's.  NULL: none.
 */
static inline const struct ipset_ent *
chain_hit(const struct rm_ipset *set, const uint64_t k[2],
          const struct rm_ipset *layer, const void **tag)
{
	const struct ipset_ent *e = set->is_ent;
	const struct ipset_fix *f;
	size_t i = find_le(set, k);

	for (i = i > 0 ? i - 1 : NO_PARENT; i != NO_PARENT;
	     i = e[i].ie_parent) {
		if (!key_contains(&e[i], k))
			continue;
		if (layer == NULL || (f = fix_find(layer, i)) == NULL) {
			*tag = e[i].ie_tag;
			return &e[i];
		}
		if (!f->if_dead) {
			*tag = f->if_tag;
			return &e[i];
		}
	}
	return NULL;
}

/*
 * layer_lookup - rm_ipset_lookup() in a finished layer; apart, so that the
 * lookup in a set keeps its registers.
 */
__attribute__((noinline)) static bool
layer_lookup(const struct rm_ipset *set, const struct rm_ip *ip,
             const void **tag)
{
	const struct ipset_ent *b, *l;
	const void *bt = NULL, *lt = NULL;
	uint64_t k[2];

	ip_key(ip, k);
	b = chain_hit(set->is_base, k, set->is_nfix > 0 ? set : NULL, &bt);
	l = chain_hit(set, k, NULL, &lt);
	if (l != NULL && (b == NULL || l->ie_net.c_len > b->ie_net.c_len)) {
		b = l;
		bt = lt;
	}
	if (b != NULL && tag != NULL)
		*tag = bt;
	return b != NULL;
}

bool
rm_ipset_lookup(const struct rm_ipset *set, const struct rm_ip *ip,
                const void **tag)
{
	const void *t;
	uint64_t k[2];

	if (set == NULL || ip == NULL || !set->is_finished)
		return false;
	if (set->is_base != NULL)
		return layer_lookup(set, ip, tag);
	if (set->is_n == 0)
		return false;
	ip_key(ip, k);
	if (chain_hit(set, k, NULL, &t) == NULL)
		return false;
	if (tag != NULL)
		*tag = t;
	return true;
}

size_t
rm_ipset_count(const struct rm_ipset *set)
{
	if (set == NULL)
		return 0;
	return set->is_base != NULL ? set->is_count : set->is_n;
}

void
rm_ipset_each(const struct rm_ipset *set,
              void (*fn)(void *arg, const struct rm_cidr *, const void *tag),
              void *arg)
{
	const struct ipset_ent *b, *l;
	const struct ipset_fix *f;
	size_t i = 0, j = 0, nb;
	int r;

	if (set == NULL)
		return;
	if (set->is_base == NULL) {
		for (i = 0; i < set->is_n; i++)
			fn(arg, &set->is_ent[i].ie_net, set->is_ent[i].ie_tag);
		return;
	}
	if (!set->is_finished)
		return;
	/* both in network order: merge, the base first on a tie */
	b = set->is_base->is_ent;
	nb = set->is_base->is_n;
	l = set->is_ent;
	f = set->is_fix;
	while (i < nb || j < set->is_n) {
		r = i == nb          ? 1
		    : j == set->is_n ? -1
		                     : net_cmp(&b[i].ie_net, &l[j].ie_net);
		if (r > 0) {
			fn(arg, &l[j].ie_net, l[j].ie_tag);
			j++;
			continue;
		}
		if (f < set->is_fix + set->is_nfix && f->if_ent == i) {
			if (!f->if_dead)
				fn(arg, &b[i].ie_net, f->if_tag);
			else if (r == 0) /* the layer's holder is first now */
				r = -1;
			f++;
		} else {
			fn(arg, &b[i].ie_net, b[i].ie_tag);
		}
		i++;
		j += r == 0;
	}
}

struct overlap_arg {
	const struct rm_cidr *c;
	bool hit;
};

static void
overlap_one(void *arg, const struct rm_cidr *net, const void *tag)
{
	struct overlap_arg *o = arg;

	(void)tag;
	o->hit = o->hit || rm_cidr_contains(net, &o->c->c_addr) ||
	         rm_cidr_contains(o->c, &net->c_addr);
}

bool
rm_ipset_overlaps(const struct rm_ipset *set, const struct rm_cidr *c)
{
	struct overlap_arg o = {c, false};
	size_t i;

	if (set != NULL && set->is_base != NULL) {
		rm_ipset_each(set, overlap_one, &o);
		return o.hit;
	}
	for (i = 0; set != NULL && i < set->is_n; i++)
		if (rm_cidr_contains(&set->is_ent[i].ie_net, &c->c_addr) ||
		    rm_cidr_contains(c, &set->is_ent[i].ie_net.c_addr))
			return true;
	return false;
}

/* holders - rm_ipset_holders() in one finished set, the ids in gone
   (sorted) passed over. */
static size_t
holders(const struct rm_ipset *set, const struct rm_cidr *c, const size_t *gone,
        size_t ngone, void (*fn)(void *arg, const void *tag), void *arg)
{
	size_t i = net_find(set, c), id, n = 0;

	for (id = holder_next(set, i, NO_PARENT); id != NO_PARENT;
	     id = holder_next(set, i, id)) {
		if (ids_has(gone, ngone, id))
			continue;
		if (fn != NULL)
			fn(arg, holder_tag(set, id));
		n++;
	}
	return n;
}

size_t
rm_ipset_holders(const struct rm_ipset *set, const struct rm_cidr *c,
                 void (*fn)(void *arg, const void *tag), void *arg)
{
	struct rm_cidr net;
	size_t n = 0;

	size_t i;

	if (set == NULL || c == NULL || c->c_len > 128 ||
	    (!set->is_finished && set->is_base == NULL))
		return 0;
	net = *c;
	mask_host(&net.c_addr, net.c_len);
	if (set->is_base != NULL)
		n = holders(set->is_base, &net, set->is_gone, set->is_ngone, fn,
		            arg);
	if (set->is_finished)
		return n + holders(set, &net, NULL, 0, fn, arg);
	/* a layer being built: its own entries, in the order added */
	for (i = 0; i < set->is_n; i++)
		if (same_net(&set->is_ent[i].ie_net, &net)) {
			if (fn != NULL)
				fn(arg, set->is_ent[i].ie_tag);
			n++;
		}
	return n;
}

int
rm_ipset_remove(struct rm_ipset *set, const struct rm_cidr *c, const void *tag)
{
	const struct rm_ipset *base;
	struct rm_cidr net;
	size_t i, id;

	if (set == NULL || c == NULL || (base = set->is_base) == NULL ||
	    set->is_finished || c->c_len > 128)
		return -1;
	net = *c;
	mask_host(&net.c_addr, net.c_len);
	/* the first such entry in the order added: the base's first */
	i = net_find(base, &net);
	for (id = holder_next(base, i, NO_PARENT); id != NO_PARENT;
	     id = holder_next(base, i, id))
		if (holder_tag(base, id) == tag &&
		    !ids_has(set->is_gone, set->is_ngone, id))
			return ids_add(&set->is_gone, &set->is_ngone,
			               &set->is_gonecap, id);
	for (i = 0; i < set->is_n; i++)
		if (set->is_ent[i].ie_tag == tag &&
		    same_net(&set->is_ent[i].ie_net, &net)) {
			memmove(&set->is_ent[i], &set->is_ent[i + 1],
			        (set->is_n - i - 1) * sizeof(set->is_ent[0]));
			set->is_n--;
			return 0;
		}
	return -1;
}

void
rm_ipset_free(struct rm_ipset *set)
{
	if (set == NULL)
		return;
	free(set->is_ent);
	free(set->is_keys);
	free(set->is_top);
	free(set->is_dup);
	free(set->is_gone);
	free(set->is_fix);
	free(set);
}

/* One network of one owner (login_networks). */
struct netown_ent {
	char *no_owner;
	struct rm_cidr no_net;
	const void *no_tag;
	size_t no_seq;
};

/*
 * A layer holds the entries added to it as a set of its own, and the base
 * entries removed as their sorted indexes; an owner's entries are the
 * base's left, then the layer's.
 */
struct rm_netowners {
	struct netown_ent *ns_ent;
	size_t ns_n, ns_cap;
	bool ns_finished;
	const struct rm_netowners *ns_base; /* a layer: what it lies over */
	size_t *ns_gone, ns_ngone, ns_gonecap;
};

struct rm_netowners *
rm_netowners_new(void)
{
	return calloc(1, sizeof(struct rm_netowners));
}

struct rm_netowners *
rm_netowners_layer(const struct rm_netowners *base)
{
	struct rm_netowners *ns;

	if (base == NULL || !base->ns_finished || base->ns_base != NULL)
		return NULL;
	if ((ns = rm_netowners_new()) != NULL)
		ns->ns_base = base;
	return ns;
}

int
rm_netowners_add(struct rm_netowners *ns, const char *owner,
                 const struct rm_cidr *c, const void *tag, char *err,
                 size_t errlen)
{
	struct netown_ent *e;
	size_t n, ncap;

	for (n = 0; owner != NULL && owner[n] != '\0'; n++)
		if ((unsigned char)owner[n] < 0x21 || owner[n] == 0x7f)
			break;
	if (owner == NULL || n == 0 || owner[n] != '\0' || n > 255) {
		snprintf(err, errlen,
		         "the login must be 1-255 printable bytes, no space");
		return -1;
	}
	if (ns->ns_finished)
		goto oom;
	if (ns->ns_n == ns->ns_cap) {
		ncap = ns->ns_cap ? ns->ns_cap * 2 : 16;
		if ((e = realloc(ns->ns_ent, ncap * sizeof(*e))) == NULL)
			goto oom;
		ns->ns_ent = e;
		ns->ns_cap = ncap;
	}
	e = &ns->ns_ent[ns->ns_n];
	if ((e->no_owner = strdup(owner)) == NULL)
		goto oom;
	e->no_net = *c;
	e->no_tag = tag;
	e->no_seq = ns->ns_n++;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* netown_cmp - by owner without regard to case, then in order added */
static int
netown_cmp(const void *a, const void *b)
{
	const struct netown_ent *x = a, *y = b;
	int c = strcasecmp(x->no_owner, y->no_owner);

	if (c != 0)
		return c;
	return x->no_seq < y->no_seq ? -1 : x->no_seq > y->no_seq;
}

int
rm_netowners_finish(struct rm_netowners *ns)
{
	size_t i;

	if (ns->ns_finished)
		return 0;
	/* the order added, renumbered: a layer's removals leave gaps */
	for (i = 0; i < ns->ns_n; i++)
		ns->ns_ent[i].no_seq = i;
	if (ns->ns_n > 1)
		qsort(ns->ns_ent, ns->ns_n, sizeof(*ns->ns_ent), netown_cmp);
	ns->ns_finished = true;
	return 0;
}

/* owner_first - the index of owner's first entry in a finished set, or
   where it would be. */
static size_t
owner_first(const struct rm_netowners *ns, const char *owner)
{
	size_t lo = 0, hi = ns->ns_n, i;

	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if (strcasecmp(ns->ns_ent[i].no_owner, owner) < 0)
			lo = i + 1;
		else
			hi = i;
	}
	return lo;
}

/*
 * owner_scan - rm_netowners_lookup() in one finished set, the entries in
 * gone (sorted indexes) passed over; rc: -1, or 0 when an earlier set
 * gave the owner a network (and *tag).
 */
static int
owner_scan(const struct rm_netowners *ns, const size_t *gone, size_t ngone,
           const char *owner, const struct rm_ip *ip, int rc, const void **tag)
{
	const struct netown_ent *e;
	size_t i;

	for (i = owner_first(ns, owner);
	     i < ns->ns_n && strcasecmp(ns->ns_ent[i].no_owner, owner) == 0;
	     i++) {
		if (ids_has(gone, ngone, i))
			continue;
		e = &ns->ns_ent[i];
		if (rc < 0) {
			*tag = e->no_tag;
			rc = 0;
		}
		if (ip != NULL && rm_cidr_contains(&e->no_net, ip)) {
			*tag = e->no_tag;
			return 1;
		}
	}
	return rc;
}

int
rm_netowners_lookup(const struct rm_netowners *ns, const char *owner,
                    const struct rm_ip *ip, const void **tag)
{
	int rc;

	if (ns == NULL || owner == NULL || !ns->ns_finished)
		return -1;
	if (ns->ns_base == NULL)
		return owner_scan(ns, NULL, 0, owner, ip, -1, tag);
	rc = owner_scan(ns->ns_base, ns->ns_gone, ns->ns_ngone, owner, ip, -1,
	                tag);
	return rc == 1 ? 1 : owner_scan(ns, NULL, 0, owner, ip, rc, tag);
}

size_t
rm_netowners_count(const struct rm_netowners *ns)
{
	if (ns == NULL)
		return 0;
	return ns->ns_base != NULL ? ns->ns_base->ns_n - ns->ns_ngone + ns->ns_n
	                           : ns->ns_n;
}

/* netown_holders - rm_netowners_holders() in one finished set, the
   entries in gone passed over. */
static size_t
netown_holders(const struct rm_netowners *ns, const size_t *gone, size_t ngone,
               const char *owner, const struct rm_cidr *c,
               void (*fn)(void *arg, const void *tag), void *arg)
{
	size_t i, n = 0;

	for (i = owner_first(ns, owner);
	     i < ns->ns_n && strcasecmp(ns->ns_ent[i].no_owner, owner) == 0;
	     i++) {
		if (!same_net(&ns->ns_ent[i].no_net, c) ||
		    ids_has(gone, ngone, i))
			continue;
		if (fn != NULL)
			fn(arg, ns->ns_ent[i].no_tag);
		n++;
	}
	return n;
}

size_t
rm_netowners_holders(const struct rm_netowners *ns, const char *owner,
                     const struct rm_cidr *c,
                     void (*fn)(void *arg, const void *tag), void *arg)
{
	const struct netown_ent *e;
	size_t n = 0, i;

	if (ns == NULL || owner == NULL || c == NULL ||
	    (!ns->ns_finished && ns->ns_base == NULL))
		return 0;
	if (ns->ns_base != NULL)
		n = netown_holders(ns->ns_base, ns->ns_gone, ns->ns_ngone,
		                   owner, c, fn, arg);
	if (ns->ns_finished)
		return n + netown_holders(ns, NULL, 0, owner, c, fn, arg);
	/* a layer being built: its own entries, in the order added */
	for (i = 0; i < ns->ns_n; i++) {
		e = &ns->ns_ent[i];
		if (same_net(&e->no_net, c) &&
		    strcasecmp(e->no_owner, owner) == 0) {
			if (fn != NULL)
				fn(arg, e->no_tag);
			n++;
		}
	}
	return n;
}

int
rm_netowners_remove(struct rm_netowners *ns, const char *owner,
                    const struct rm_cidr *c, const void *tag)
{
	const struct rm_netowners *base;
	struct netown_ent *e;
	size_t i;

	if (ns == NULL || owner == NULL || c == NULL ||
	    (base = ns->ns_base) == NULL || ns->ns_finished)
		return -1;
	/* the first such entry in the order added: the base's first */
	for (i = owner_first(base, owner);
	     i < base->ns_n && strcasecmp(base->ns_ent[i].no_owner, owner) == 0;
	     i++)
		if (base->ns_ent[i].no_tag == tag &&
		    same_net(&base->ns_ent[i].no_net, c) &&
		    !ids_has(ns->ns_gone, ns->ns_ngone, i))
			return ids_add(&ns->ns_gone, &ns->ns_ngone,
			               &ns->ns_gonecap, i);
	for (i = 0; i < ns->ns_n; i++) {
		e = &ns->ns_ent[i];
		if (e->no_tag == tag && same_net(&e->no_net, c) &&
		    strcasecmp(e->no_owner, owner) == 0) {
			free(e->no_owner);
			memmove(e, e + 1, (ns->ns_n - i - 1) * sizeof(*e));
			ns->ns_n--;
			return 0;
		}
	}
	return -1;
}

void
rm_netowners_free(struct rm_netowners *ns)
{
	size_t i;

	if (ns == NULL)
		return;
	for (i = 0; i < ns->ns_n; i++)
		free(ns->ns_ent[i].no_owner);
	free(ns->ns_ent);
	free(ns->ns_gone);
	free(ns);
}
