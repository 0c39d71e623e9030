/*
 * ruleset.h - the compiled, immutable relay policy (a "snapshot").
 *
 * A ruleset is everything the engine needs to decide, built from the config
 * file by rm_conf_load() off the callback path.  Once built it is never
 * modified; sessions pin it with rm_ruleset_hold() at connect and drop it
 * with rm_ruleset_release() at close, so a reload never changes the policy
 * under a running session.
 */
#ifndef RM_RULESET_H
#define RM_RULESET_H

#include <stdatomic.h>
#include <stddef.h>

#include "relaymilter/domset.h"
#include "relaymilter/ip.h"
#include "relaymilter/reply.h"

/* One configured entry, as the admin wrote it, for logs and --explain. */
struct rm_entry {
	const char *e_list; /* "local_domains", "trusted_networks", ... */
	char *e_text;       /* the entry as written */
	char *e_origin;     /* "file:line" */
};

/* The replies relaymilter can send; see rm_reply_defaults in ruleset.c. */
enum rm_reply_id { RM_R_RELAY_DENIED = 0, RM_R_TEMPFAIL, RM_R__COUNT };

struct rm_reply_def {
	const char *rd_name; /* key under "replies" */
	const char *rd_default;
};
extern const struct rm_reply_def rm_reply_defs[RM_R__COUNT];

struct rm_ruleset {
	_Atomic unsigned rs_refs;
	char *rs_source;  /* config file path */
	char *rs_socket;  /* "socket" setting, or NULL */
	int rs_log_level; /* enum rm_log_level, or -1: not set */

	struct rm_domset *rs_hostnames;     /* our own host names */
	struct rm_domset *rs_local_domains; /* we deliver for these */
	struct rm_domset *rs_relay_domains; /* we accept and forward */
	struct rm_ipset *rs_trusted;        /* clients that may relay */

	struct rm_reply rs_replies[RM_R__COUNT];

	/* every entry, owned here; the sets' tags point at them */
	struct rm_entry **rs_entries;
	size_t rs_nentries, rs_entries_cap;
};

/* rm_ruleset_new - an empty ruleset with the default replies, refs = 1. */
struct rm_ruleset *rm_ruleset_new(const char *source);

/*
 * rm_ruleset_entry - record an entry (text and origin are copied) and
 * return it, or NULL when out of memory.
 */
struct rm_entry *rm_ruleset_entry(struct rm_ruleset *, const char *list,
                                  const char *text, const char *file, int line);

/* rm_ruleset_hold - take a reference; returns its argument. */
struct rm_ruleset *rm_ruleset_hold(struct rm_ruleset *);
/* rm_ruleset_release - drop a reference; the last one frees.  NULL is ok. */
void rm_ruleset_release(struct rm_ruleset *);

#endif
