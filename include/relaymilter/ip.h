/*
 * ip.h - IP addresses and CIDR sets.
 *
 * Every address is kept as 16 bytes: IPv4 as the v4-mapped IPv6 address
 * ::ffff:a.b.c.d, so a v4-mapped IPv6 client matches an IPv4 network and one
 * lookup structure serves both families.
 *
 * An rm_ipset is built once (add, then finish) and is read-only afterwards,
 * so any number of threads may look up in it without locks.
 *
 * A layer is the changes to a finished set (its base): networks added and
 * entries removed.  Built and finished like a set, it reads exactly as a
 * set built from the base's entries in the order added, less the removed
 * ones, then the layer's.  The base is shared, not copied: many layers may
 * lie over one, and it must outlive them.
 */
#ifndef RM_IP_H
#define RM_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rm_ip {
	uint8_t ip_b[16];
};

/*
 * rm_ip_parse - parse a textual address strictly with inet_pton(): dotted
 * quad IPv4 (no octal, no short forms), IPv6, "IPv6:"-prefixed IPv6 (as
 * Postfix sends {client_addr}), optionally in brackets ("[192.0.2.1]",
 * "[IPv6:::1]"). Return 0 or -1.
 */
int rm_ip_parse(const char *s, struct rm_ip *out);

/* rm_ip_is_v4 - the address is v4-mapped (an IPv4 address). */
bool rm_ip_is_v4(const struct rm_ip *);

/* rm_ip_is_loopback - 127.0.0.0/8 or ::1, in any notation. */
bool rm_ip_is_loopback(const struct rm_ip *);

/* rm_ip_format - "192.0.2.1" or "2001:db8::1" into buf. */
const char *rm_ip_format(const struct rm_ip *, char *buf, size_t len);

/*
 * A parsed network: "192.0.2.0/24", "2001:db8::/32", or a bare address
 * (a /32 or /128).  The prefix length is stored in the 128-bit space
 * (IPv4 prefixes are +96).
 */
struct rm_cidr {
	struct rm_ip c_addr; /* host bits cleared */
	unsigned c_len;      /* 0..128 */
};

/*
 * rm_cidr_parse - strict CIDR parse; host bits set below the prefix are an
 * error ("192.0.2.1/24"), as a typo there usually means a wrong network.
 * Return 0, or -1 with a reason in errbuf.
 */
int rm_cidr_parse(const char *s, struct rm_cidr *out, char *errbuf,
                  size_t errlen);

/* rm_cidr_contains - the address lies in the network. */
bool rm_cidr_contains(const struct rm_cidr *, const struct rm_ip *);

struct rm_ipset; /* opaque */

struct rm_ipset *rm_ipset_new(void);
/*
 * rm_ipset_layer - an empty layer over base (a finished set, not itself a
 * layer); the base is shared: not copied, not freed by the layer, and must
 * outlive it.  NULL: out of memory, or base is not such a set.
 */
struct rm_ipset *rm_ipset_layer(const struct rm_ipset *base);
/*
 * rm_ipset_add - add a network with an opaque tag (the caller's pointer to
 * the entry's text and origin, handed back by lookups), to a set or a
 * layer being built.  A network added again keeps its first tag for
 * lookups.  Return 0 or -1 (out of memory).  Adding after
 * rm_ipset_finish() is a programming error.
 */
int rm_ipset_add(struct rm_ipset *, const struct rm_cidr *, const void *tag);
/*
 * rm_ipset_remove - a layer being built only: the first entry, in the
 * order added (the base's before the layer's), of network c whose tag is
 * tag goes away.  0, or -1 (not a layer, finished, no such entry, out of
 * memory).
 */
int rm_ipset_remove(struct rm_ipset *layer, const struct rm_cidr *c,
                    const void *tag);
/*
 * rm_ipset_finish - sort and index; the set or layer is read-only from now
 * on, and only now answers the functions below.
 */
int rm_ipset_finish(struct rm_ipset *);
/*
 * rm_ipset_lookup - the most specific network holding the address.
 * Return true and set *tag when one does.  O(log n) plus nesting depth.
 */
bool rm_ipset_lookup(const struct rm_ipset *, const struct rm_ip *,
                     const void **tag);
/* rm_ipset_count - how many networks (a network added twice counts once). */
size_t rm_ipset_count(const struct rm_ipset *);
/*
 * rm_ipset_each - fn for every network in the set, with the tag lookups
 * return for it, by start address, the wider first on a tie (a layer's
 * the same as its fresh build's).
 */
void rm_ipset_each(const struct rm_ipset *,
                   void (*fn)(void *arg, const struct rm_cidr *,
                              const void *tag),
                   void *arg);
/* rm_ipset_overlaps - a network of the set and c share an address. */
bool rm_ipset_overlaps(const struct rm_ipset *, const struct rm_cidr *);
/*
 * rm_ipset_holders - fn(arg, tag) (fn may be NULL) for every entry of
 * exactly network c, in the order added: the first is the one lookups
 * return for an address whose most specific network is c.  How many.
 */
size_t rm_ipset_holders(const struct rm_ipset *, const struct rm_cidr *c,
                        void (*fn)(void *arg, const void *tag), void *arg);
/* rm_ipset_free - a set, or a layer (never its base). */
void rm_ipset_free(struct rm_ipset *);

/*
 * An rm_netowners set: the networks each owner (an SMTP AUTH login,
 * matched without regard to case) may use (login_networks).  Built like
 * an rm_ipset; an owner has few networks, tried in turn.
 */
struct rm_netowners; /* opaque */

struct rm_netowners *rm_netowners_new(void);
/* rm_netowners_layer - as rm_ipset_layer(). */
struct rm_netowners *rm_netowners_layer(const struct rm_netowners *base);
/*
 * rm_netowners_add - a network of owner (printable, at most 255 bytes;
 * copied), with a tag, to a set or a layer being built.  0, or -1 with the
 * reason in errbuf.
 */
int rm_netowners_add(struct rm_netowners *, const char *owner,
                     const struct rm_cidr *, const void *tag, char *errbuf,
                     size_t errlen);
/*
 * rm_netowners_remove - a layer being built only: the first entry, in the
 * order added (the base's before the layer's), of owner (without regard
 * to case), network c and tag goes away.  0, or -1 (not a layer,
 * finished, no such entry, out of memory).
 */
int rm_netowners_remove(struct rm_netowners *layer, const char *owner,
                        const struct rm_cidr *c, const void *tag);
/*
 * rm_netowners_finish - sort by owner; 0 (it cannot fail).  A layer too
 * must be finished before it answers.
 */
int rm_netowners_finish(struct rm_netowners *);
/*
 * rm_netowners_lookup - 1: owner has networks and one holds ip (*tag is
 * its tag); 0: owner has networks, none holds ip (*tag: the first); -1:
 * owner has none.
 */
int rm_netowners_lookup(const struct rm_netowners *, const char *owner,
                        const struct rm_ip *ip, const void **tag);
/* rm_netowners_count - how many entries (owner, network, tag). */
size_t rm_netowners_count(const struct rm_netowners *);
/*
 * rm_netowners_holders - fn(arg, tag) (fn may be NULL) for every entry of
 * owner with exactly network c, in the order added.  How many.
 */
size_t rm_netowners_holders(const struct rm_netowners *, const char *owner,
                            const struct rm_cidr *c,
                            void (*fn)(void *arg, const void *tag), void *arg);
/* rm_netowners_free - a set, or a layer (never its base). */
void rm_netowners_free(struct rm_netowners *);

#endif
