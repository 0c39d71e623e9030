/*
 * ip.c - IP addresses, CIDR networks and the trusted-network set.
 *
 * An rm_ipset is a sorted array of networks.  Networks in a CIDR family are
 * either nested or disjoint, so after sorting by start address (wider
 * first on a tie) every entry can point at its closest enclosing entry.  A
 * lookup binary-searches the last network starting at or before the
 * address and climbs the enclosing chain: the first network on it that
 * holds the address is the most specific one.
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
	size_t ie_parent; /* closest enclosing entry, or NO_PARENT */
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

/* ent_cmp - start address, then wider first, then insertion order. */
static int
ent_cmp(const void *a, const void *b)
{
	const struct ipset_ent *x = a, *y = b;
	int r;

	r = memcmp(x->ie_net.c_addr.ip_b, y->ie_net.c_addr.ip_b, 16);
	if (r != 0)
		return r;
	if (x->ie_net.c_len != y->ie_net.c_len)
		return x->ie_net.c_len < y->ie_net.c_len ? -1 : 1;
	return x->ie_seq < y->ie_seq ? -1 : x->ie_seq > y->ie_seq;
}

int
rm_ipset_finish(struct rm_ipset *set)
{
	struct ipset_ent *e;
	size_t i, n, top;

	if (set == NULL)
		return -1;
	if (set->is_finished)
		return 0;
	e = set->is_ent;
	if (set->is_n > 1)
		qsort(e, set->is_n, sizeof(*e), ent_cmp);
	/* duplicates are adjacent; the first added sorts first */
	for (i = 0, n = 0; i < set->is_n; i++) {
		if (n > 0 && e[n - 1].ie_net.c_len == e[i].ie_net.c_len &&
		    memcmp(&e[n - 1].ie_net.c_addr, &e[i].ie_net.c_addr,
		           sizeof(struct rm_ip)) == 0)
			continue;
		e[n++] = e[i];
	}
	set->is_n = n;
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
	top = (n + TOP_STEP - 1) / TOP_STEP;
	if (n > 0 &&
	    ((set->is_keys = malloc(n * sizeof(*set->is_keys))) == NULL ||
	     (set->is_top = malloc(top * sizeof(*set->is_top))) == NULL))
		return -1;
	for (i = 0; i < n; i++) {
		set->is_keys[i][0] = e[i].ie_key[0];
		set->is_keys[i][1] = e[i].ie_key[1];
		if (i % TOP_STEP == 0)
			memcpy(set->is_top[i / TOP_STEP], set->is_keys[i],
			       sizeof(set->is_top[0]));
	}
	set->is_finished = true;
	return 0;
}

/* upper - how many of the n sorted keys are <= k */
static size_t
upper(const uint64_t (*keys)[2], size_t n, const uint64_t k[2])
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (keys[mid][0] < k[0] ||
		    (keys[mid][0] == k[0] && keys[mid][1] <= k[1]))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool
rm_ipset_lookup(const struct rm_ipset *set, const struct rm_ip *ip,
                const void **tag)
{
	const struct ipset_ent *e;
	size_t lo, t, i;
	uint64_t k[2];

	if (set == NULL || ip == NULL || !set->is_finished || set->is_n == 0)
		return false;
	e = set->is_ent;
	ip_key(ip, k);
	/* lo: the count of entries starting at or before ip; the block
	   after the last top key <= k holds the answer */
	t = upper(set->is_top, (set->is_n + TOP_STEP - 1) / TOP_STEP, k);
	lo = 0;
	if (t > 0) {
		i = (t - 1) * TOP_STEP;
		lo = i +
		     upper(set->is_keys + i,
		           set->is_n - i < TOP_STEP ? set->is_n - i : TOP_STEP,
		           k);
	}
	for (i = lo > 0 ? lo - 1 : NO_PARENT; i != NO_PARENT;
	     i = e[i].ie_parent) {
		if (key_contains(&e[i], k)) {
			if (tag != NULL)
				*tag = e[i].ie_tag;
			return true;
		}
	}
	return false;
}

size_t
rm_ipset_count(const struct rm_ipset *set)
{
	return set != NULL ? set->is_n : 0;
}

void
rm_ipset_each(const struct rm_ipset *set,
              void (*fn)(void *arg, const struct rm_cidr *, const void *tag),
              void *arg)
{
	size_t i;

	for (i = 0; set != NULL && i < set->is_n; i++)
		fn(arg, &set->is_ent[i].ie_net, set->is_ent[i].ie_tag);
}

bool
rm_ipset_overlaps(const struct rm_ipset *set, const struct rm_cidr *c)
{
	size_t i;

	for (i = 0; set != NULL && i < set->is_n; i++)
		if (rm_cidr_contains(&set->is_ent[i].ie_net, &c->c_addr) ||
		    rm_cidr_contains(c, &set->is_ent[i].ie_net.c_addr))
			return true;
	return false;
}

void
rm_ipset_free(struct rm_ipset *set)
{
	if (set == NULL)
		return;
	free(set->is_ent);
	free(set->is_keys);
	free(set->is_top);
	free(set);
}

/* One network of one owner (login_networks). */
struct netown_ent {
	char *no_owner;
	struct rm_cidr no_net;
	const void *no_tag;
	size_t no_seq;
};

struct rm_netowners {
	struct netown_ent *ns_ent;
	size_t ns_n, ns_cap;
	bool ns_finished;
};

struct rm_netowners *
rm_netowners_new(void)
{
	return calloc(1, sizeof(struct rm_netowners));
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
	if (ns->ns_n > 1)
		qsort(ns->ns_ent, ns->ns_n, sizeof(*ns->ns_ent), netown_cmp);
	ns->ns_finished = true;
	return 0;
}

int
rm_netowners_lookup(const struct rm_netowners *ns, const char *owner,
                    const struct rm_ip *ip, const void **tag)
{
	size_t lo = 0, hi, i;

	if (ns == NULL || owner == NULL || !ns->ns_finished)
		return -1;
	hi = ns->ns_n;
	while (lo < hi) {
		i = lo + (hi - lo) / 2;
		if (strcasecmp(ns->ns_ent[i].no_owner, owner) < 0)
			lo = i + 1;
		else
			hi = i;
	}
	if (lo == ns->ns_n || strcasecmp(ns->ns_ent[lo].no_owner, owner) != 0)
		return -1;
	*tag = ns->ns_ent[lo].no_tag;
	for (i = lo;
	     i < ns->ns_n && strcasecmp(ns->ns_ent[i].no_owner, owner) == 0;
	     i++)
		if (ip != NULL && rm_cidr_contains(&ns->ns_ent[i].no_net, ip)) {
			*tag = ns->ns_ent[i].no_tag;
			return 1;
		}
	return 0;
}

size_t
rm_netowners_count(const struct rm_netowners *ns)
{
	return ns != NULL ? ns->ns_n : 0;
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
	free(ns);
}
