/*
 * source.h - where a policy comes from: the config file, plus the LDAP
 * data when the file has an "ldap" group.
 *
 * The file is read into plain data (conf.h) and kept with the LDAP
 * settings; a ruleset is compiled only when the file or the LDAP data
 * changed.  LDAP data is fetched fresh when possible; when LDAP is down
 * the last good copy is used (the one in memory, else the cache file),
 * and with neither the ruleset is marked incomplete so that every
 * decision tempfails.  The state remembers the last good data, to tell a
 * refresh that changed nothing from one that did.
 */
#ifndef RM_SOURCE_H
#define RM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "relaymilter/conf.h"
#include "relaymilter/confdata.h"
#include "relaymilter/ldapdata.h"
#include "relaymilter/ldapdelta.h"
#include "relaymilter/ldapsync.h"
#include "relaymilter/ruleset.h"

/* What identifies one state of a file: it changed when this did. */
struct rm_filestamp {
	dev_t fs_dev;
	ino_t fs_ino;
	off_t fs_size;
	struct timespec fs_mtime, fs_ctime;
};

/*
 * The LDAP fetch, a port so that the source logic is tested without a
 * directory (ldapsrc.c's rm_ldap_fetch() by default).
 */
/* The change check of polling, a port too (rm_ldap_changed by default). */
typedef int rm_changed_fn(const struct rm_ldap_conf *, struct rm_ldap_mark *,
                          char *err, size_t errlen);

typedef int rm_fetch_fn(const struct rm_ldap_conf *, struct rm_ldapdata *out,
                        void (*warn)(void *arg, const char *msg), void *arg,
                        char *err, size_t errlen);

struct rm_source {
	const char *src_path;       /* the config file */
	rm_fetch_fn *src_fetch;     /* NULL: rm_ldap_fetch */
	rm_changed_fn *src_changed; /* NULL: rm_ldap_changed */
	/* the daemon: content synchronisation may follow, so a start takes
	   a cache file with cookies instead of a full fetch */
	bool src_sync;
	/* the settings a running synchronisation follows, or NULL: with
	   the same settings, no fetch (the synchronisation keeps the data) */
	const struct rm_ldap_conf *src_sync_lc;
	struct rm_ldap_mark src_mark; /* polling's change check */
	struct rm_conf *src_conf;     /* the file as last read */
	struct rm_filestamp src_stamp;
	bool src_fresh;              /* read by rm_source_read, not built */
	struct rm_ldapdata src_data; /* last good LDAP data */
	/* changes handed over by the synchronisation and not yet patched
	   into src_data: that is done when all of it is read (a full
	   build, the cache file), not at each change (rm_source_data()) */
	struct rm_ldapdelta src_pending;
	bool src_have_data;
	bool src_ldap_down;            /* the last fetch failed (logged once) */
	unsigned long src_ldap_errors; /* fetches that failed */
	time_t src_ldap_fetched;       /* the last good fetch, or 0 */
	time_t src_data_time; /* when the data in use was fetched: by us,
	                         or the cache file's time; 0: none */
	/* the cache file's owner when root starts the daemon for another
	   user (-u); (uid_t)-1/(gid_t)-1: see source.c, cache_owner() */
	uid_t src_cache_uid;
	gid_t src_cache_gid;
	unsigned long src_reads, src_compiles; /* for tests and logs */
	/*
	 * The last full build (held), and the LDAP changes since it: a change
	 * of the data alone makes a layer over it (src_layers counts them);
	 * a reload, a new file, or notes past rm_ldapdelta_full() build in
	 * full.  src_delta_lost: the notes are incomplete (out of memory, or
	 * data taken from the cache file).
	 */
	struct rm_ruleset *src_base;
	struct rm_ldapdelta src_delta;
	size_t src_base_n; /* records in src_base */
	bool src_delta_lost;
	unsigned long src_layers;
	bool src_cache_dirty;           /* data not yet in the cache file */
	struct rm_ldapsave *src_saving; /* rm_source_save_step()'s, or NULL */
	/* CLOCK_MONOTONIC: the last change, the first one not saved, the
	   last save's start */
	struct timespec src_dirty_at, src_dirty_since, src_saved_at;
};

enum rm_source_result {
	RM_SRC_NEW,       /* *out is a new ruleset */
	RM_SRC_UNCHANGED, /* a refresh found nothing new: keep the current */
	RM_SRC_ERROR      /* the file is broken: err says why */
};

/* rm_source_init - an empty source for the config file path. */
void rm_source_init(struct rm_source *, const char *path);

/*
 * rm_source_read - read the file now (at start, for the settings before
 * the first build, which then uses this read).  0, or -1 with err.
 */
int rm_source_read(struct rm_source *, char *err, size_t errlen);

/*
 * rm_source_load - build the policy.  refresh: the periodic check; the
 * file is read again only when it changed, and nothing is compiled when
 * neither it nor the LDAP data did (an LDAP failure then also means
 * "unchanged").  Otherwise a start or a reload, which reads and builds.
 */
enum rm_source_result rm_source_load(struct rm_source *, bool refresh,
                                     struct rm_ruleset **out, char *err,
                                     size_t errlen);

/*
 * rm_source_take_sync - what the synchronisation hands over (taken over):
 * the records changed since the last take, which patch the data in use
 * (and lay over the last full build), or the whole data; with the
 * cookies, kept for the cache file.  A new ruleset into *out: RM_SRC_NEW,
 * RM_SRC_UNCHANGED (the same records: only the cookies are new) or
 * RM_SRC_ERROR with err.
 */
enum rm_source_result rm_source_take_sync(struct rm_source *,
                                          struct rm_ldapsync_out *o,
                                          struct rm_ruleset **out, char *err,
                                          size_t errlen);

/*
 * rm_source_save_cache - the daemon (src_sync) saves new LDAP data to the
 * cache file here, once the ruleset made of it is in force: a million
 * records take a second to write, and decisions need not wait for that
 * (a save under way is finished first).
 * rm_source_save_due - when to: -1 nothing to save, 0 now (or a save is
 * under way), else in so many ms: once changes have paused for
 * RM_CACHE_QUIET_MS, or once the oldest change not saved is
 * RM_CACHE_EVERY_MS old while they stream in (a cache a little behind is
 * still consistent: its cookies bring the changes since).
 * rm_source_save_step - the same save, RM_CACHE_STEP records at a time,
 * so that a change that comes in meanwhile is built and in force before
 * the rest is written; true while there is more.  A change keeps the
 * records as they are until the save ends (src_pending), and a full
 * build or new data (which must patch them) drops the save under way:
 * it is begun again once changes pause.
 */
#define RM_CACHE_QUIET_MS 2000
#define RM_CACHE_EVERY_MS 30000
#define RM_CACHE_STEP     4096
void rm_source_save_cache(struct rm_source *);
long rm_source_save_due(const struct rm_source *);
bool rm_source_save_step(struct rm_source *);

/* rm_source_owner_lookups - ldap.senders is configured (on-demand lookups). */
bool rm_source_owner_lookups(const struct rm_source *);

/* rm_source_settings - the daemon settings of the last read, or NULL. */
const struct rm_settings *rm_source_settings(const struct rm_source *);

/*
 * rm_source_data - the LDAP data in use, every change handed over patched
 * in; NULL out of memory (the data then lags the changes).
 */
const struct rm_ldapdata *rm_source_data(struct rm_source *);

void rm_source_free(struct rm_source *);

#endif
