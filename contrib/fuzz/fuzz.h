/*
 * fuzz.h - what the libFuzzer targets share: input helpers, temporary
 * files, and the invariants every verdict and reply must keep.  A broken
 * invariant prints why and aborts, so libFuzzer keeps the input.
 */
#ifndef RM_FUZZ_H
#define RM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "relaymilter/policy.h"
#include "relaymilter/reply.h"
#include "relaymilter/ruleset.h"

/* the libFuzzer entry points */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fz_fail - print the broken invariant and abort. */
_Noreturn void fz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* fz_strdup - data as a NUL-terminated string (cut at its first NUL). */
char *fz_strdup(const uint8_t *data, size_t size);

/*
 * fz_fields - split data at NUL bytes into at most max fields; returns how
 * many.  The fields point into *copy, which the caller frees.
 */
size_t fz_fields(const uint8_t *data, size_t size, char **field, size_t max,
                 char **copy);

/* fz_tmpfile - a private file (in memory where possible), made once. */
const char *fz_tmpfile(const char *tag);
/* fz_write - replace the file's contents; aborts on an I/O error. */
void fz_write(const char *path, const void *data, size_t size);

/* fz_reply_ok - a reply as it would go on the wire: well formed. */
void fz_reply_ok(const struct rm_reply *r, const char *what);

/*
 * fz_trusted - the client may relay by address: in trusted_networks of the
 * listener or the top level.  fz_ours - the address is one we accept mail
 * for: bare postmaster, a domain in hostnames, local_domains or
 * relay_domains, or the literal of daemon or of our_addresses in the form
 * MTAs deliver locally; no routing trick.  fz_name_ours - a domain in
 * hostnames, local_domains or relay_domains.
 */
int fz_trusted(const struct rm_ruleset *, const char *listener,
               const struct rm_ip *client);
int fz_ours(const struct rm_ruleset *, const char *listener,
            const struct rm_ip *daemon, const char *addr);
int fz_name_ours(const struct rm_ruleset *, const char *listener,
                 const char *name);

/*
 * fz_check_verdict - the invariants of a decision: a known action; a
 * well-formed reply of the action's class (none for continue); and never
 * continue for a recipient that is not ours unless the client is trusted
 * or authenticated: neither the RCPT argument, nor {rcpt_addr} when it has
 * an '@', nor a literal that the MTA hands to an SMTP mailer
 * ({rcpt_mailer}) for a host ({rcpt_host}) that is not one of our names.
 */
void fz_check_verdict(const struct rm_ruleset *, const struct rm_facts *,
                      const struct rm_verdict *, int rcpt);

/*
 * fz_route_ours - a reference classification of an envelope address as the
 * MTA hands it over, independent of addr.c and policy.c: 1 when the
 * address surely leads into our domains, 0 when it does not or the answer
 * is not sure.  The domains it can lead to are the hops of a source route
 * ("@a,@b:"), the final domain, and in the local part (quotes dropped) the
 * hosts of a bang path ("h1!h2!user") and then what follows '%' or '@'
 * after the user ("user%d1@d2"); an address with no '@' outside quotes is
 * unqualified, and the MTA makes it one of ours.  A domain is ours when it
 * is in ours[] (NULL-terminated, exact names and ".suffix" patterns, any
 * case, one trailing dot), localhost, localhost.localdomain, *.localhost,
 * a single label, or a literal of a loopback address in its plain form
 * ([127.a.b.c], [IPv6:::1]); only names of letters, digits and hyphens
 * count.  An address with other characters (space, backslash, 8-bit) or
 * an unbalanced quote is "not sure": 0.
 */
int fz_route_ours(const char *addr, const char *const *ours);

/*
 * The ruleset of the sender and recipient targets, from memory: our
 * domains in fz_fixed_ours (what fz_route_ours needs: hostnames and
 * local_domains), relay_domains backup.example.net, trusted 192.0.2.0/24
 * and 2001:db8:1::/48, our_addresses 198.51.100.25 (and not the
 * machine's interface addresses), and the listeners "lax"
 * (local_sender_spoof off),
 * "watch" (mode monitor) and "branch" (its own local domain
 * branch.example.net).  No exceptions, no deny lists.
 */
extern const char *const fz_fixed_ours[];
const struct rm_ruleset *fz_fixed(void);
/*
 * fz_fixed_session - the session facts of opt against fz_fixed(): bits
 * 0-1 the client (untrusted 203.0.113.9, untrusted 2001:db8:2::9, unknown,
 * trusted 192.0.2.5), bit 2 SMTP AUTH as alice, bits 3-4 the listener
 * (none, lax, watch, branch), bit 5 the address the client connected to
 * (198.51.100.1) known.  203.0.113.9 holds a relay grant (grants count
 * except on lax).  f is cleared first; client and daemon hold the
 * parsed addresses f points to.
 */
void fz_fixed_session(unsigned opt, struct rm_facts *f, struct rm_ip *client,
                      struct rm_ip *daemon);

/*
 * fz_one_line - a line for a log: no control byte (and, with ascii, no
 * 8-bit byte) that could break it or forge another.
 */
void fz_one_line(const char *what, const char *line, int ascii);

/* fz_trace - a trace that aborts on a line a log reader could misread. */
extern const struct rm_trace fz_trace;

/*
 * fz_probe - decide a fixed set of facts against a ruleset of unknown
 * content (a fuzzed config or cache) and check every verdict.
 */
void fz_probe(const struct rm_ruleset *);

#endif
