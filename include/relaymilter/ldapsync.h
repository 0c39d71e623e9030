/*
 * ldapsync.h - following the directory: RFC 4533 content synchronisation
 * (refreshAndPersist) on a thread of its own, and the cheap change check
 * of servers without it.
 *
 * The thread: one per daemon, started by the reload thread with the LDAP
 * settings and stopped on shutdown or when a reload changes them.  It runs
 * one sync search per mapped list (a list's search is the fetch's: its
 * base, filter and attributes, so that each list keeps a cookie of its
 * own and custom lists need no client-side filter evaluation), each on a
 * connection of its own made by rm_ldap_connect() (the fetch's TLS,
 * timeouts and bind), and waits on all their sockets with poll().  Not
 * one shared connection: slapd counts a persistent search as an operation
 * still executing on its connection and defers every further operation
 * past a per-connection limit (half its thread pool: 8 by default), so
 * that 15 searches on one connection never all start.  When any
 * connection is lost, all are made again.  The protocol is spoken with
 * ldap_search_ext() and ldap_result() one message at a time rather than
 * through ldap_sync_init()/ldap_sync_poll(): ldap_sync_init() blocks for
 * the whole refresh with no way to stop it, ldap_sync_poll() passes the
 * head of a received chain to every callback (a burst would be read as
 * one entry many times), and neither can wait on several searches at
 * once.
 *
 * Each entry's change is applied to a record set keyed by list and
 * entryUUID (ldapset.h); a burst is gathered for RM_LDAPSYNC_DEBOUNCE_MS
 * after its last message, then the records it changed (noted as each
 * entry's change is applied), with every list's cookie, are handed to the
 * reload thread (rm_ldapsync_take) and the wake callback called, which
 * patches its data with them, lays them over the last full build, swaps
 * the ruleset and saves the cache file: a change costs what it changed,
 * not a copy of a million records.
 * Nothing is handed over while a list is in a refresh: the data in use
 * stays until the refresh is complete.  e-syncRefreshRequired drops the
 * list's cookie and refreshes it again; a refresh without a cookie, and
 * every present phase, removes the entries it did not name.  Lost
 * connections are made again after 1 s, doubling to 60 s; the data in
 * hand stays.  A server that refuses the sync control ends the thread
 * with RM_LDAPSYNC_UNSUPPORTED (ldap.sync = "auto": the caller falls back
 * to polling), or is retried ("persist").
 */
#ifndef RM_LDAPSYNC_H
#define RM_LDAPSYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapdata.h"
#include "relaymilter/ldapdelta.h"

#define RM_LDAPSYNC_DEBOUNCE_MS 50
/* "auto" against a server that refused: asked again every 10th change
   check (10 min at the default ldap.refresh), and at each reload */
#define RM_LDAPSYNC_RETRY_CHECKS 10

struct rm_ldapsync;

/* What the thread reports, besides the data. */
struct rm_ldapsync_hooks {
	void (*sh_wake)(void *arg); /* data or news wait (sync thread) */
	void *sh_arg;
	atomic_llong *sh_connected; /* 1 while the searches run; or NULL */
	atomic_llong *sh_changes;   /* entry changes applied; or NULL */
};

/*
 * rm_ldapsync_start - follow the lists of lc (held) from seed (copied: the
 * data in use, with the cookies of the cache file).  NULL when the thread
 * cannot start (logged).
 */
struct rm_ldapsync *rm_ldapsync_start(struct rm_ldap_conf *lc,
                                      const struct rm_ldapdata *seed,
                                      const struct rm_ldapsync_hooks *);

/*
 * What a take hands over: the records changed since the last take
 * (so_notes, relative to the data the thread was started from and the
 * takes before), or, when the changes could not all be noted (out of
 * memory), the whole data (so_full, so_data's records); so_data always
 * holds every list's cookie.
 */
struct rm_ldapsync_out {
	bool so_full;
	struct rm_ldapdata so_data;
	struct rm_ldapdelta so_notes;
};

enum rm_ldapsync_news {
	RM_LDAPSYNC_NOTHING,    /* nothing since the last take */
	RM_LDAPSYNC_DATA,       /* *out holds the news */
	RM_LDAPSYNC_UNSUPPORTED /* the server has no content sync; the
	                           thread has ended */
};

/* rm_ldapsync_take - what waits; with DATA the caller owns *out. */
enum rm_ldapsync_news rm_ldapsync_take(struct rm_ldapsync *,
                                       struct rm_ldapsync_out *out);

/* rm_ldapsync_conf - the settings it follows */
const struct rm_ldap_conf *rm_ldapsync_conf(const struct rm_ldapsync *);

/* rm_ldapsync_stop - end the thread, wait for it, free (NULL: ok). */
void rm_ldapsync_stop(struct rm_ldapsync *);

/*
 * rm_ldap_sync_scope - what a list's cookie is valid for (servers, bind,
 * base, filter, attributes), as one string into buf.
 */
void rm_ldap_sync_scope(const struct rm_ldap_conf *, int list, char *buf,
                        size_t len);

/*
 * The change check of polling: the contextCSN of the naming context that
 * holds the base, or where no entry up from the base has one, entries
 * created or modified since the last check (a delete is then noticed by
 * the full fetch of every RM_LDAP_MARK_FULL-th check).
 */
#define RM_LDAP_MARK_FULL 10
struct rm_ldap_mark {
	int m_kind;        /* 0: not known yet, 1: contextCSN, 2: times */
	char m_dn[1024];   /* where contextCSN is */
	char m_csn[1024];  /* its values, as last read */
	time_t m_last;     /* kind 2: the last check */
	unsigned m_checks; /* kind 2: checks since a full fetch */
	unsigned long m_searches; /* searches made, for the debug log */
};

/*
 * rm_ldap_changed - did anything change since the last call: 1 (or
 * cannot tell), 0 (no), -1 LDAP is down (err).
 */
int rm_ldap_changed(const struct rm_ldap_conf *, struct rm_ldap_mark *,
                    char *err, size_t errlen);

#endif
