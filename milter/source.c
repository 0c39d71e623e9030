/*
 * source.c - the config file and LDAP, merged into one ruleset.
 *
 * The file is read once per change (its stamp: device, inode, size, times)
 * and kept as plain data while LDAP is configured, so that an LDAP change
 * recompiles without reading the file again, and a refresh that finds
 * neither changed compiles nothing.  A file @include'd by the config is
 * read with it, but only a reload (SIGUSR1) notices its own changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "relaymilter/rm.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/ldapsrc.h"
#include "relaymilter/ldapsync.h"
#include "relaymilter/log.h"
#include "relaymilter/source.h"

static void
warn_log(void *arg, const char *msg)
{
	(void)arg;
	rm_log(RM_LOG_WARNING, "%s", msg);
}

/* add_ldap - rm_conf_extra: the LDAP entries, bad ones skipped. */
static int
add_ldap(void *arg, struct rm_ruleset *rs, char *err, size_t errlen)
{
	struct rm_source *src = arg;

	(void)err;
	(void)errlen;
	if (!src->src_have_data) {
		rs->rs_incomplete = 1;
		return 0;
	}
	rm_ldapdata_apply(&src->src_data, rs, warn_log, NULL);
	return 0;
}

/* stamp - the file's stamp; false when it cannot be read */
static bool
stamp(const char *path, struct rm_filestamp *fs)
{
	struct stat st;

	memset(fs, 0, sizeof(*fs));
	if (stat(path, &st) != 0)
		return false;
	fs->fs_dev = st.st_dev;
	fs->fs_ino = st.st_ino;
	fs->fs_size = st.st_size;
	fs->fs_mtime = st.st_mtim;
	fs->fs_ctime = st.st_ctim;
	return true;
}

void
rm_source_init(struct rm_source *src, const char *path)
{
	memset(src, 0, sizeof(*src));
	src->src_path = path;
	src->src_cache_uid = (uid_t)-1;
	src->src_cache_gid = (gid_t)-1;
}

int
rm_source_read(struct rm_source *src, char *err, size_t errlen)
{
	struct rm_filestamp fs;
	struct rm_conf *cf;

	stamp(src->src_path, &fs);
	if ((cf = rm_conf_read(src->src_path, err, errlen)) == NULL)
		return -1;
	rm_conf_free(src->src_conf);
	src->src_conf = cf;
	src->src_stamp = fs;
	src->src_fresh = true;
	src->src_reads++;
	return 0;
}

/*
 * reread - read the file again unless it is unchanged since the last read
 * (always, for a reload).  *changed tells whether the policy input did.
 */
static int
reread(struct rm_source *src, bool refresh, bool *changed, char *err,
       size_t errlen)
{
	struct rm_filestamp fs;

	*changed = true;
	if (src->src_fresh && src->src_conf != NULL) {
		src->src_fresh = false;
		return 0;
	}
	if (refresh && src->src_conf != NULL && stamp(src->src_path, &fs) &&
	    memcmp(&fs, &src->src_stamp, sizeof(fs)) == 0) {
		*changed = false;
		return 0;
	}
	if (rm_source_read(src, err, errlen) != 0)
		return -1;
	src->src_fresh = false;
	return 0;
}

/* Who the cache file belongs to, and its permissions. */
struct cache_owner {
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

/*
 * cache_owner - whom a new copy of the cache file must belong to: the
 * user the daemon runs as (-u); else, for root (relaymilter check, a
 * root start), the file's owner and mode as they are, or for a new file
 * the owner of its directory (the daemon's state directory): a root run
 * never leaves a file the daemon cannot read.
 */
static struct cache_owner
cache_owner(const struct rm_source *src, const char *path)
{
	struct cache_owner o = {src->src_cache_uid, src->src_cache_gid, 0};
	char dir[4096], *slash;
	struct stat st;

	if (o.uid != (uid_t)-1 || geteuid() != 0)
		return o;
	if (stat(path, &st) == 0) {
		o.uid = st.st_uid;
		o.gid = st.st_gid;
		o.mode = st.st_mode & 0777;
		return o;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(dir, &st) == 0) {
			o.uid = st.st_uid;
			o.gid = st.st_gid;
		}
	}
	return o;
}

/* dirty - the data in use is newer than the cache file */
static void
dirty(struct rm_source *src)
{
	clock_gettime(CLOCK_MONOTONIC, &src->src_dirty_at);
	if (!src->src_cache_dirty)
		src->src_dirty_since = src->src_dirty_at;
	src->src_cache_dirty = true;
}

/* redirty - a save did not happen: what it had to save is unsaved again */
static void
redirty(struct rm_source *src)
{
	if (!src->src_cache_dirty)
		src->src_dirty_since = src->src_saved_at;
	src->src_cache_dirty = true;
}

/* drop_save - the records are about to change: the save under way ends */
static void
drop_save(struct rm_source *src)
{
	if (src->src_saving == NULL)
		return;
	rm_ldapsave_abort(src->src_saving);
	src->src_saving = NULL;
	redirty(src);
}

/*
 * settle - the changes handed over since the data was last read patched
 * into it.  0, or -1 out of memory (logged; the changes stay pending).
 */
static int
settle(struct rm_source *src)
{
	long missing;

	if (rm_ldapdelta_size(&src->src_pending) == 0)
		return 0;
	drop_save(src);
	missing = rm_ldapdelta_patch(&src->src_data, &src->src_pending);
	if (missing < 0) {
		rm_log(RM_LOG_ERR, "LDAP: out of memory applying %zu changes",
		       rm_ldapdelta_size(&src->src_pending));
		return -1;
	}
	rm_ldapdelta_clear(&src->src_pending);
	if (missing > 0) {
		/* never expected: the next build is full, from the data */
		rm_log(RM_LOG_WARNING,
		       "LDAP sync: %ld records gone were not in the data",
		       missing);
		src->src_delta_lost = true;
	}
	return 0;
}

const struct rm_ldapdata *
rm_source_data(struct rm_source *src)
{
	return settle(src) == 0 ? &src->src_data : NULL;
}

/* replace - d becomes the data in use; the pending changes are in it */
static void
replace(struct rm_source *src, struct rm_ldapdata *d)
{
	drop_save(src);
	rm_ldapdelta_clear(&src->src_pending);
	rm_ldapdata_clear(&src->src_data);
	src->src_data = *d;
	memset(d, 0, sizeof(*d));
	src->src_have_data = true;
}

/*
 * save_begin - a save of the data in use (and its cookies) to the cache
 * file: src_saving, or NULL when there is nothing to save (or it failed)
 */
static struct rm_ldapsave *
save_begin(struct rm_source *src, const struct rm_ldap_conf *lc)
{
	struct cache_owner own = {(uid_t)-1, (gid_t)-1, 0};
	char err[512];

	drop_save(src);
	src->src_cache_dirty = false;
	clock_gettime(CLOCK_MONOTONIC, &src->src_saved_at);
	if (lc == NULL || lc->lc_cache_file == NULL || !src->src_have_data)
		return NULL;
	if (settle(src) != 0) {
		redirty(src); /* another try, later */
		return NULL;
	}
	/* relaymilter check (not the daemon) leaves a file the daemon's
	   synchronisation resumes from: its data and cookies belong
	   together, and data without cookies would make the daemon's next
	   start a full refresh */
	if (!src->src_sync && rm_ldapdata_file_has_cookie(lc->lc_cache_file)) {
		rm_log(RM_LOG_DEBUG,
		       "the LDAP cache %s has synchronisation cookies: "
		       "left as the daemon wrote it",
		       lc->lc_cache_file);
		return NULL;
	}
	own = cache_owner(src, lc->lc_cache_file);
	src->src_saving =
	    rm_ldapsave_begin(&src->src_data, lc->lc_cache_file, own.uid,
	                      own.gid, own.mode, err, sizeof(err));
	if (src->src_saving == NULL)
		rm_log(RM_LOG_WARNING, "cannot write the LDAP cache: %s", err);
	return src->src_saving;
}

bool
rm_source_save_step(struct rm_source *src)
{
	char err[512];
	int rc;

	if (src->src_saving == NULL &&
	    (src->src_conf == NULL ||
	     save_begin(src, src->src_conf->cf_settings.st_ldap) == NULL))
		return false;
	rc = rm_ldapsave_step(src->src_saving, RM_CACHE_STEP, err, sizeof(err));
	if (rc > 0)
		return true;
	src->src_saving = NULL; /* freed by the last step */
	if (rc < 0)
		rm_log(RM_LOG_WARNING, "cannot write the LDAP cache: %s", err);
	return false;
}

/* save - the data in use (and its cookies) to the cache file, now */
static void
save(struct rm_source *src, const struct rm_ldap_conf *lc)
{
	if (save_begin(src, lc) != NULL)
		while (rm_source_save_step(src))
			;
}

/*
 * take - the fetched data becomes the last good copy, saved to the cache
 * (by rm_source_save_cache() after the swap, for the daemon).
 */
static void
take(struct rm_source *src, struct rm_ldapdata *d,
     const struct rm_ldap_conf *lc)
{
	/* what changed since the full build, for a layer over it */
	if (settle(src) != 0 ||
	    (src->src_base != NULL && !src->src_delta_lost &&
	     rm_ldapdelta_diff(&src->src_delta, &src->src_data, d) != 0))
		src->src_delta_lost = true;
	replace(src, d);
	src->src_ldap_fetched = src->src_data_time = time(NULL);
	dirty(src);
	if (!src->src_sync)
		save(src, lc);
}

long
rm_source_save_due(const struct rm_source *src)
{
	long quiet, since;

	if (src->src_saving != NULL)
		return 0;
	if (!src->src_cache_dirty)
		return -1;
	quiet = RM_CACHE_QUIET_MS - rm_ms_since(&src->src_dirty_at);
	/* the oldest change not in the file, not the last save: a burst
	   shorter than that is saved once, after it */
	since = src->src_saved_at.tv_sec == 0
	            ? 0
	            : RM_CACHE_EVERY_MS - rm_ms_since(&src->src_dirty_since);
	if (quiet <= 0 || since <= 0)
		return 0;
	return quiet < since ? quiet : since;
}

void
rm_source_save_cache(struct rm_source *src)
{
	while (src->src_saving != NULL)
		(void)rm_source_save_step(src);
	if (src->src_cache_dirty && src->src_conf != NULL)
		save(src, src->src_conf->cf_settings.st_ldap);
}

/* adopt - the cache file's records d become the data in use */
static void
adopt(struct rm_source *src, const struct rm_ldap_conf *lc,
      struct rm_ldapdata *d)
{
	struct stat st;

	src->src_delta_lost = true; /* no diff: the next build is full */
	replace(src, d);
	src->src_data_time =
	    stat(lc->lc_cache_file, &st) == 0 ? st.st_mtime : 0;
}

/* from_cache - LDAP is down and nothing is in memory: the cache file */
static void
from_cache(struct rm_source *src, const struct rm_ldap_conf *lc)
{
	struct rm_ldapdata d;
	char why[1024];

	memset(&d, 0, sizeof(d));
	if (!src->src_have_data && lc->lc_cache_file != NULL) {
		if (rm_ldapdata_load(&d, lc->lc_cache_file, why, sizeof(why)) ==
		    0) {
			rm_log(RM_LOG_WARNING,
			       "using the last known good LDAP data from %s "
			       "(%zu entries)",
			       lc->lc_cache_file, d.d_n);
			adopt(src, lc, &d);
		} else
			rm_log(RM_LOG_ERR, "no LDAP cache: %s", why);
	}
	if (!src->src_have_data)
		rm_log(RM_LOG_ERR, "no LDAP data and no cache: every decision "
		                   "tempfails until LDAP answers");
}

/*
 * resume - a daemon's start with content synchronisation: the cache file
 * when it has cookies, the synchronisation brings the changes since.
 */
static bool
resume(struct rm_source *src, const struct rm_ldap_conf *lc)
{
	struct rm_ldapdata d = {0};
	char why[1024];

	if (lc->lc_cache_file == NULL ||
	    rm_ldapdata_load(&d, lc->lc_cache_file, why, sizeof(why)) != 0)
		return false;
	if (!rm_ldapdata_has_cookie(&d)) {
		rm_ldapdata_clear(&d);
		return false;
	}
	rm_log(RM_LOG_INFO,
	       "LDAP data from %s (%zu entries); content synchronisation "
	       "brings the changes since",
	       lc->lc_cache_file, d.d_n);
	adopt(src, lc, &d);
	return true;
}

/*
 * unchanged - polling's change check says nothing changed since the last
 * check (LDAP answers); false when it did, cannot tell or LDAP is down
 */
static bool
unchanged(struct rm_source *src, const struct rm_ldap_conf *lc)
{
	rm_changed_fn *fn =
	    src->src_changed ? src->src_changed : rm_ldap_changed;
	char why[1024];

	/* a test's fetch without a change check of its own: always fetch */
	if (src->src_changed == NULL && src->src_fetch != NULL)
		return false;
	if (fn(lc, &src->src_mark, why, sizeof(why)) != 0)
		return false;
	rm_log(RM_LOG_DEBUG, "LDAP unchanged (%lu change check searches)",
	       src->src_mark.m_searches);
	if (src->src_ldap_down)
		rm_log(RM_LOG_INFO, "LDAP is back: unchanged");
	src->src_ldap_down = false;
	src->src_ldap_fetched = time(NULL);
	return true;
}

/*
 * fetch - the LDAP data, fresh or the last good copy; false when a
 * refresh found it unchanged (or LDAP down with data in hand).
 */
static bool
fetch(struct rm_source *src, const struct rm_ldap_conf *lc, bool refresh)
{
	rm_fetch_fn *fn = src->src_fetch ? src->src_fetch : rm_ldap_fetch;
	struct rm_ldap_mark before = src->src_mark;
	struct rm_ldapdata d;
	unsigned long searches;
	char why[1024];

	if (!refresh && src->src_sync && !src->src_have_data &&
	    lc->lc_sync != RM_LDAP_SYNC_POLL && resume(src, lc))
		return true;
	/*
	 * A running synchronisation keeps the data current, and is then the
	 * only way in for it: its changes are relative to the data it
	 * started from (none, when LDAP was down at start), and a fetch
	 * taken meanwhile would have them counted twice.
	 */
	if (src->src_sync_lc != NULL &&
	    rm_ldap_conf_same_source(src->src_sync_lc, lc))
		return !refresh;
	if (refresh && src->src_have_data && unchanged(src, lc))
		return false;
	if (fn(lc, &d, warn_log, NULL, why, sizeof(why)) == 0) {
		if (src->src_ldap_down)
			rm_log(RM_LOG_INFO, "LDAP is back: %zu entries", d.d_n);
		src->src_ldap_down = false;
		src->src_ldap_fetched = time(NULL);
		if (refresh && src->src_have_data && settle(src) == 0 &&
		    rm_ldapdata_equal(&d, &src->src_data)) {
			rm_ldapdata_clear(&d);
			return false;
		}
		take(src, &d, lc);
		return true;
	}
	if (!src->src_ldap_down || !refresh)
		rm_log(RM_LOG_ERR, "LDAP unavailable: %s", why);
	/*
	 * The change check has taken in a change this fetch did not bring:
	 * back to the mark of before, so that the next check sees it again.
	 */
	searches = src->src_mark.m_searches;
	src->src_mark = before;
	src->src_mark.m_searches = searches;
	src->src_ldap_down = true;
	src->src_ldap_errors++;
	if (refresh && src->src_have_data)
		return false;
	from_cache(src, lc);
	return true;
}

/*
 * build - the ruleset: a layer over the last full build when only the
 * LDAP data changed, and little of it; else a full build, which becomes
 * the base of the next layers.
 */
static struct rm_ruleset *
build(struct rm_source *src, bool full, char *err, size_t errlen)
{
	const struct rm_ldap_conf *lc = src->src_conf->cf_settings.st_ldap;
	struct rm_ruleset *rs;

	if (!full && lc != NULL && src->src_base != NULL &&
	    !src->src_delta_lost && src->src_have_data &&
	    !rm_ldapdelta_full(&src->src_delta, src->src_base_n)) {
		rs = rm_ldapdelta_layer(&src->src_delta, src->src_base,
		                        warn_log, NULL, err, errlen);
		if (rs != NULL) {
			src->src_layers++;
			rm_log(RM_LOG_DEBUG,
			       "LDAP: %zu records changed since the full "
			       "build: a layer over it",
			       rm_ldapdelta_size(&src->src_delta));
			return rs;
		}
	}
	src->src_compiles++;
	if (settle(src) != 0) {
		snprintf(err, errlen, "LDAP: out of memory");
		return NULL;
	}
	rs = rm_conf_compile(src->src_conf, lc ? add_ldap : NULL, src, err,
	                     errlen);
	rm_ruleset_release(src->src_base);
	src->src_base = NULL;
	rm_ldapdelta_clear(&src->src_delta);
	src->src_delta_lost = false;
	/* with LDAP, the next change of the data alone lays over this */
	if (rs != NULL && lc != NULL && src->src_have_data) {
		src->src_base = rm_ruleset_hold(rs);
		src->src_base_n = src->src_data.d_n;
	}
	return rs;
}

enum rm_source_result
rm_source_load(struct rm_source *src, bool refresh, struct rm_ruleset **out,
               char *err, size_t errlen)
{
	const struct rm_ldap_conf *lc;
	bool file_changed, data_changed = false;

	*out = NULL;
	if (reread(src, refresh, &file_changed, err, errlen) != 0)
		return RM_SRC_ERROR;
	lc = src->src_conf->cf_settings.st_ldap;
	if (lc != NULL)
		data_changed = fetch(src, lc, refresh);
	if (refresh && !file_changed && !data_changed)
		return RM_SRC_UNCHANGED;
	*out = build(src, !refresh || file_changed, err, errlen);
	/* without LDAP only a reload compiles again, and it reads anew */
	if (lc == NULL)
		rm_conf_drop_entries(src->src_conf);
	return *out != NULL ? RM_SRC_NEW : RM_SRC_ERROR;
}

/*
 * patch - the changed records o's notes name join the changes pending for
 * the data in use (patched in when it is read, or when they are many) and
 * the notes since the full build; false when they change nothing
 */
static bool
patch(struct rm_source *src, struct rm_ldapsync_out *o, char *err,
      size_t errlen, bool *failed)
{
	*failed = false;
	rm_ldapdata_take_cookies(&src->src_data, &o->so_data);
	if (rm_ldapdelta_size(&o->so_notes) == 0)
		return false;
	if (rm_ldapdelta_join(&src->src_pending, &o->so_notes) != 0 ||
	    (rm_ldapdelta_full(&src->src_pending, src->src_data.d_n) &&
	     settle(src) != 0)) {
		snprintf(err, errlen, "LDAP: out of memory");
		*failed = true;
		return false;
	}
	if (src->src_base != NULL && !src->src_delta_lost &&
	    rm_ldapdelta_move(&src->src_delta, &o->so_notes) != 0)
		src->src_delta_lost = true;
	return true;
}

enum rm_source_result
rm_source_take_sync(struct rm_source *src, struct rm_ldapsync_out *o,
                    struct rm_ruleset **out, char *err, size_t errlen)
{
	const struct rm_ldap_conf *lc = src->src_conf->cf_settings.st_ldap;
	enum rm_source_result r = RM_SRC_UNCHANGED;
	bool changed, failed;

	*out = NULL;
	if (lc == NULL) {
		snprintf(err, errlen, "LDAP is no longer configured");
		r = RM_SRC_ERROR;
		goto done;
	}
	if (src->src_ldap_down)
		rm_log(RM_LOG_INFO, "LDAP is back");
	src->src_ldap_down = false;
	src->src_ldap_fetched = time(NULL);
	if (o->so_full) {
		changed = !src->src_have_data || settle(src) != 0 ||
		          !rm_ldapdata_equal(&o->so_data, &src->src_data);
		take(src, &o->so_data, lc);
	} else {
		if (!src->src_have_data) {
			/* it started from no data: its changes are the data */
			src->src_have_data = true;
			src->src_delta_lost = true;
		}
		changed = patch(src, o, err, errlen, &failed);
		if (failed) {
			r = RM_SRC_ERROR;
			goto done;
		}
		src->src_data_time = src->src_ldap_fetched;
		dirty(src);
	}
	if (changed) {
		*out = build(src, false, err, errlen);
		r = *out != NULL ? RM_SRC_NEW : RM_SRC_ERROR;
	}
done:
	rm_ldapdata_clear(&o->so_data);
	rm_ldapdelta_clear(&o->so_notes);
	return r;
}

bool
rm_source_owner_lookups(const struct rm_source *src)
{
	const struct rm_settings *st = rm_source_settings(src);

	return st != NULL && st->st_ldap != NULL &&
	       st->st_ldap->lc_senders != NULL;
}

const struct rm_settings *
rm_source_settings(const struct rm_source *src)
{
	return src->src_conf ? rm_conf_settings(src->src_conf) : NULL;
}

void
rm_source_free(struct rm_source *src)
{
	drop_save(src);
	rm_ldapdata_clear(&src->src_data);
	rm_ldapdelta_clear(&src->src_pending);
	src->src_have_data = false;
	rm_ruleset_release(src->src_base);
	src->src_base = NULL;
	rm_ldapdelta_clear(&src->src_delta);
	rm_conf_free(src->src_conf);
	src->src_conf = NULL;
}
