/*
 * test_source.c - where a policy comes from, without a directory: the
 * LDAP fetch is injected.  What is read and compiled when: a refresh that
 * finds neither the file nor the data changed compiles nothing, a change
 * of the data compiles without reading the file again, a change of the
 * file reads it again, LDAP down keeps the last data, and a reload always
 * reads and builds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "check.h"
#include "relaymilter/ldapconf.h"
#include "relaymilter/domset.h"
#include "relaymilter/source.h"

static int fetch_fails, fetch_calls;
static const char *fetch_value = "ldap.example";

static int
fake_fetch(const struct rm_ldap_conf *lc, struct rm_ldapdata *out,
           void (*warn)(void *, const char *), void *arg, char *err,
           size_t errlen)
{
	struct rm_ldaprec r;

	(void)lc;
	(void)warn;
	(void)arg;
	fetch_calls++;
	memset(out, 0, sizeof(*out));
	if (fetch_fails) {
		snprintf(err, errlen, "server down");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	r.r_list = RM_L_LOCAL_DOMAINS;
	r.r_value = (char *)fetch_value;
	r.r_dn = (char *)"cn=local,dc=example";
	if (rm_ldapdata_add(out, &r) != 0)
		return -1;
	rm_ldapdata_sort(out);
	return 0;
}

static void
write_conf(const char *path, const char *extra)
{
	FILE *fp = fopen(path, "w");

	fprintf(fp,
	        "hostnames = [ \"mx.example.com\" ];\n"
	        "our_interface_addresses = false;\n%s"
	        "ldap = { uri = \"ldap://127.0.0.1:1/\";\n"
	        "         base = \"dc=example\"; refresh = 5; };\n",
	        extra);
	fclose(fp);
}

/* has - the ruleset holds name in local_domains */
static int
has(const struct rm_ruleset *rs, const char *name)
{
	return rm_domset_lookup(rs->rs_lists.l_local_domains, name, NULL);
}

/* note - one change of a local domain in o's notes */
static void
note(struct rm_ldapsync_out *o, const char *value, bool gone)
{
	struct rm_ldaprec r;

	memset(&r, 0, sizeof(r));
	r.r_list = RM_L_LOCAL_DOMAINS;
	r.r_value = (char *)value;
	r.r_dn = (char *)"cn=local,dc=example";
	CHECK(rm_ldapdelta_note(&o->so_notes, &r, gone) == 0, "note %s", value);
}

/* cached - the cache file names value */
static bool
cached(const char *cache, const char *value)
{
	struct rm_ldapdata d = {0};
	char err[256];
	size_t i;
	bool found = false;

	if (rm_ldapdata_load(&d, cache, err, sizeof(err)) != 0)
		return false;
	for (i = 0; i < d.d_n; i++)
		found = found || strcmp(d.d_recs[i].r_value, value) == 0;
	rm_ldapdata_clear(&d);
	return found;
}

/*
 * sync_from_nothing - LDAP down at start and no cache: the policy
 * tempfails; a synchronisation started from no data is then the only way
 * in for it (no fetch beside it, which would count its changes twice),
 * and its first changes become the data
 */
static void
sync_from_nothing(const char *path)
{
	struct rm_ldapsync_out o = {0};
	struct rm_source src;
	struct rm_ruleset *rs = NULL;
	struct rm_ldap_conf *lc;
	enum rm_source_result r;
	char err[512];
	int calls;

	write_conf(path, "");
	rm_source_init(&src, path);
	src.src_fetch = fake_fetch;
	fetch_fails = 1;
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && rs->rs_incomplete &&
	          !src.src_have_data,
	      "nothing: LDAP down, no cache: every decision tempfails");
	rm_ruleset_release(rs);
	src.src_sync = true;
	lc = rm_ldap_conf_hold(rm_source_settings(&src)->st_ldap);
	src.src_sync_lc = lc;
	fetch_fails = 0;
	calls = fetch_calls;
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_UNCHANGED && fetch_calls == calls,
	      "nothing: no fetch beside the synchronisation");
	note(&o, "first.example", false);
	note(&o, "second.example", false);
	r = rm_source_take_sync(&src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && !rs->rs_incomplete &&
	          has(rs, "first.example") && has(rs, "second.example") &&
	          src.src_have_data,
	      "nothing: the synchronisation's first changes are the data: %s",
	      err);
	rm_ruleset_release(rs);
	note(&o, "first.example", true);
	r = rm_source_take_sync(&src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && !has(rs, "first.example") &&
	          has(rs, "second.example"),
	      "nothing: and the next ones apply to them");
	rm_ruleset_release(rs);
	src.src_sync_lc = NULL;
	rm_ldap_conf_free(lc);
	rm_source_free(&src);
}

/* tmp_files - how many temporary files a save of cache left */
static size_t
tmp_files(const char *cache)
{
	char pat[128];
	glob_t g;
	size_t n;

	snprintf(pat, sizeof(pat), "%s.tmp*", cache);
	if (glob(pat, 0, NULL, &g) != 0)
		return 0;
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

/*
 * save_in_steps - a save of the cache file a step at a time: a change
 * that comes in meanwhile is in force at once and in the next save, not
 * in this one (its records and cookies are those of its start); new
 * records to patch in drop the save, and its temporary file
 */
static void
save_in_steps(struct rm_source *src, const char *cache)
{
	struct rm_ldapsync_out o = {0};
	struct rm_ruleset *rs = NULL;
	enum rm_source_result r;
	char v[64], err[512];
	int i, steps = 0;

	for (i = 0; i < 3 * RM_CACHE_STEP; i++) {
		snprintf(v, sizeof(v), "bulk%d.example", i);
		note(&o, v, false);
	}
	r = rm_source_take_sync(src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && has(rs, "bulk7.example"), "steps: bulk");
	rm_ruleset_release(rs);
	CHECK(rm_source_save_due(src) > 0, "steps: a save due later");
	CHECK(rm_source_save_step(src) && src->src_saving != NULL &&
	          tmp_files(cache) == 1 && !cached(cache, "bulk7.example"),
	      "steps: a save under way, the old file still in place");
	CHECK(rm_source_save_due(src) == 0, "steps: due now, while under way");
	note(&o, "mid.example", false);
	r = rm_source_take_sync(src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && has(rs, "mid.example") &&
	          src->src_saving != NULL,
	      "steps: a change in the middle is in force, the save goes on");
	rm_ruleset_release(rs);
	while (rm_source_save_step(src))
		steps++;
	CHECK(steps >= 2 && src->src_saving == NULL && tmp_files(cache) == 0,
	      "steps: the save ends (%d more steps)", steps);
	CHECK(cached(cache, "bulk7.example") && !cached(cache, "mid.example") &&
	          src->src_cache_dirty,
	      "steps: the file as at its start; the change waits for the next");
	rm_source_save_cache(src);
	CHECK(cached(cache, "mid.example") && !src->src_cache_dirty,
	      "steps: the next save has it");

	/* patched records drop a save under way */
	note(&o, "late.example", false);
	r = rm_source_take_sync(src, &o, &rs, err, sizeof(err));
	rm_ruleset_release(rs);
	CHECK(rm_source_save_step(src) && tmp_files(cache) == 1,
	      "steps: another save under way");
	note(&o, "later.example", false);
	r = rm_source_take_sync(src, &o, &rs, err, sizeof(err));
	rm_ruleset_release(rs);
	CHECK(rm_source_data(src) != NULL && src->src_saving == NULL &&
	          tmp_files(cache) == 0 && src->src_cache_dirty,
	      "steps: the records patched: the save dropped, its file gone");
	rm_source_save_cache(src);
	CHECK(cached(cache, "later.example") && cached(cache, "late.example"),
	      "steps: and made again");
	for (i = 0; i < 3 * RM_CACHE_STEP; i++) {
		snprintf(v, sizeof(v), "bulk%d.example", i);
		note(&o, v, true);
	}
	note(&o, "mid.example", true);
	note(&o, "late.example", true);
	note(&o, "later.example", true);
	r = rm_source_take_sync(src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && !has(rs, "bulk7.example"), "steps: unbulk");
	rm_ruleset_release(rs);
}

/* ago - CLOCK_MONOTONIC ms before now */
static struct timespec
ago(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec -= ms / 1000;
	return t;
}

/*
 * save_due - the cache is saved once changes pause, or once the oldest
 * change not in it is RM_CACHE_EVERY_MS old: a burst that starts long
 * after the last save is not saved in its middle
 */
static void
save_due(void)
{
	struct rm_source src;
	long due;

	memset(&src, 0, sizeof(src));
	CHECK(rm_source_save_due(&src) == -1, "due: nothing to save");
	src.src_cache_dirty = true;
	src.src_saved_at = ago(600000);
	src.src_dirty_since = src.src_dirty_at = ago(0);
	due = rm_source_save_due(&src);
	CHECK(due > 0 && due <= RM_CACHE_QUIET_MS,
	      "due: a change 10 min after the last save waits for a pause "
	      "(%ld ms)",
	      due);
	src.src_dirty_since = ago(RM_CACHE_EVERY_MS + 1000);
	CHECK(rm_source_save_due(&src) == 0,
	      "due: the oldest unsaved change is %d ms old: now",
	      RM_CACHE_EVERY_MS);
	src.src_dirty_since = ago(0);
	src.src_dirty_at = ago(RM_CACHE_QUIET_MS + 1000);
	CHECK(rm_source_save_due(&src) == 0, "due: changes paused: now");
}

/*
 * sync_changes - changes handed over by the synchronisation make layers;
 * the data in use takes them in when it is read: the cache file and a
 * full build have every one of them
 */
static void
sync_changes(const char *path, const char *cache)
{
	struct rm_ldapsync_out o = {0};
	struct rm_source src;
	struct rm_ruleset *rs = NULL;
	enum rm_source_result r;
	const struct rm_ldapdata *d;
	struct rm_ldap_conf *lc;
	unsigned long compiles;
	char err[512];

	rm_source_init(&src, path);
	src.src_fetch = fake_fetch;
	fetch_fails = 0;
	fetch_value = "cached.example";
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW, "sync: start: %s", err);
	rm_ruleset_release(rs);
	/* as a running synchronisation: no fetch of its own */
	src.src_sync = true;
	lc = rm_ldap_conf_hold(rm_source_settings(&src)->st_ldap);
	src.src_sync_lc = lc;

	note(&o, "sync1.example", false);
	note(&o, "sync2.example", false);
	r = rm_source_take_sync(&src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && has(rs, "sync1.example") &&
	          has(rs, "sync2.example") && src.src_layers == 1,
	      "sync: two new domains, a layer: %s", err);
	rm_ruleset_release(rs);
	note(&o, "sync1.example", true);
	note(&o, "cached.example", true);
	r = rm_source_take_sync(&src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && !has(rs, "sync1.example") &&
	          !has(rs, "cached.example") && has(rs, "sync2.example") &&
	          src.src_layers == 2 && src.src_compiles == 1,
	      "sync: two gone, a second layer, no compile");
	rm_ruleset_release(rs);
	CHECK(rm_ldapdelta_size(&src.src_pending) == 2,
	      "sync: the data takes the changes in when it is read (%zu "
	      "pending)",
	      rm_ldapdelta_size(&src.src_pending));

	rm_source_save_cache(&src);
	CHECK(cached(cache, "sync2.example") &&
	          !cached(cache, "sync1.example") &&
	          !cached(cache, "cached.example") &&
	          rm_ldapdelta_size(&src.src_pending) == 0,
	      "sync: the cache file has every change");
	note(&o, "sync3.example", false);
	r = rm_source_take_sync(&src, &o, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && has(rs, "sync3.example"), "sync: a third");
	rm_ruleset_release(rs);
	d = rm_source_data(&src);
	CHECK(d != NULL && d->d_n == 2, "sync: the data in use, patched");

	save_in_steps(&src, cache);

	/* a reload builds in full from the data, changes included */
	note(&o, "sync4.example", false);
	r = rm_source_take_sync(&src, &o, &rs, err, sizeof(err));
	rm_ruleset_release(rs);
	compiles = src.src_compiles;
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && rs->rs_base == NULL &&
	          src.src_compiles == compiles + 1 &&
	          has(rs, "sync2.example") && has(rs, "sync3.example") &&
	          has(rs, "sync4.example") && !has(rs, "sync1.example") &&
	          !has(rs, "cached.example"),
	      "sync: a full build has every change: %s", err);
	rm_ruleset_release(rs);
	src.src_sync_lc = NULL;
	rm_ldap_conf_free(lc);
	rm_source_free(&src);
}

int
main(void)
{
	char path[] = "/tmp/test_source.XXXXXX", err[512], cache[64];
	struct stat st;
	FILE *fp;
	struct rm_source src;
	struct rm_ruleset *rs = NULL;
	enum rm_source_result r;
	int fd = mkstemp(path);

	close(fd);
	write_conf(path, "");
	rm_source_init(&src, path);
	src.src_fetch = fake_fetch;

	/* start: read once (for the settings), the build uses that read */
	CHECK(rm_source_read(&src, err, sizeof(err)) == 0, "read: %s", err);
	CHECK(rm_source_settings(&src)->st_ldap != NULL &&
	          rm_source_settings(&src)->st_ldap->lc_refresh == 5,
	      "the settings are the daemon's, from the file");
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && has(rs, "ldap.example"),
	      "start: built with the LDAP data: %s", err);
	CHECK(src.src_reads == 1 && src.src_compiles == 1,
	      "start: one read, one compile (%lu, %lu)", src.src_reads,
	      src.src_compiles);
	rm_ruleset_release(rs);

	/* a refresh with nothing changed: nothing read, nothing compiled */
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_UNCHANGED && rs == NULL, "unchanged refresh");
	CHECK(src.src_reads == 1 && src.src_compiles == 1,
	      "unchanged refresh: no read, no compile (%lu, %lu)",
	      src.src_reads, src.src_compiles);

	/* the data changed: a layer over the full build, nothing compiled,
	   the file not read again */
	fetch_value = "changed.example";
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && has(rs, "changed.example") &&
	          !has(rs, "ldap.example") && rs->rs_base == src.src_base,
	      "data changed: a layer over the full build");
	CHECK(src.src_reads == 1 && src.src_compiles == 1 &&
	          src.src_layers == 1,
	      "data changed: no read, no compile, one layer (%lu, %lu, %lu)",
	      src.src_reads, src.src_compiles, src.src_layers);
	rm_ruleset_release(rs);
	/* changed back: a layer again, over the same build, with nothing */
	fetch_value = "ldap.example";
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && has(rs, "ldap.example") &&
	          !has(rs, "changed.example") && src.src_layers == 2 &&
	          rm_ldapdelta_size(&src.src_delta) == 0,
	      "changed back: a layer of no change");
	rm_ruleset_release(rs);
	fetch_value = "changed.example";
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && src.src_layers == 3 && src.src_compiles == 1,
	      "changed again: a layer");
	rm_ruleset_release(rs);

	/* LDAP down with data in hand: unchanged, nothing compiled */
	fetch_fails = 1;
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_UNCHANGED && src.src_compiles == 1,
	      "LDAP down: the last data stays");

	/* the file changed: read again and compiled, LDAP still down */
	write_conf(path, "local_domains = [ \"file.example\" ];\n");
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && has(rs, "file.example") &&
	          has(rs, "changed.example") && !rs->rs_incomplete,
	      "file changed: read again, last LDAP data kept");
	CHECK(src.src_reads == 2 && src.src_compiles == 2 && rs != NULL &&
	          rs->rs_base == NULL && src.src_base != NULL,
	      "file changed: one read, one full build (%lu, %lu)",
	      src.src_reads, src.src_compiles);
	rm_ruleset_release(rs);

	/* a reload always reads and builds */
	fetch_fails = 0;
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && src.src_reads == 3 && src.src_compiles == 3,
	      "reload: read and built (%lu, %lu)", src.src_reads,
	      src.src_compiles);
	rm_ruleset_release(rs);

	/* a broken file: an error, and the source keeps what it had */
	write_conf(path, "local_domains = [ \"bad..example\" ];\n");
	r = rm_source_load(&src, true, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_ERROR && rs == NULL &&
	          strstr(err, ":3: local_domains: \"bad..example\"") != NULL,
	      "broken file: file:line error: %s", err);
	rm_source_free(&src);

	/* the cache file: written by a good fetch, read when LDAP is down */
	snprintf(cache, sizeof(cache), "%s.cache", path);
	fp = fopen(path, "w");
	fprintf(
	    fp,
	    "hostnames = [ \"mx.example.com\" ];\n"
	    "our_interface_addresses = false;\n"
	    "ldap = { uri = \"ldap://127.0.0.1:1/\"; base = \"dc=example\";\n"
	    "         cache_file = \"%s\"; };\n",
	    cache);
	fclose(fp);
	rm_source_init(&src, path);
	src.src_fetch = fake_fetch;
	fetch_fails = 0;
	fetch_value = "cached.example";
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && has(rs, "cached.example"), "cache written");
	rm_ruleset_release(rs);
	rm_source_free(&src);
	rm_source_init(&src, path);
	src.src_fetch = fake_fetch;
	fetch_fails = 1;
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && has(rs, "cached.example") &&
	          !rs->rs_incomplete,
	      "LDAP down at start: the cache answers");
	rm_ruleset_release(rs);
	rm_source_free(&src);

	sync_changes(path, cache);
	save_due();

	/* root (a what-if run, a root start) keeps the file's owner and mode */
	if (geteuid() == 0) {
		CHECK(chown(cache, 65534, 65534) == 0 &&
		          chmod(cache, 0640) == 0,
		      "chown the cache");
		rm_source_init(&src, path);
		src.src_fetch = fake_fetch;
		fetch_fails = 0;
		r = rm_source_load(&src, false, &rs, err, sizeof(err));
		CHECK(r == RM_SRC_NEW && stat(cache, &st) == 0 &&
		          st.st_uid == 65534 && st.st_gid == 65534 &&
		          (st.st_mode & 0777) == 0640,
		      "root kept the cache's owner and mode");
		rm_ruleset_release(rs);
		rm_source_free(&src);
	}
	remove(cache);

	/* root writing for the user the daemon becomes: the user's file */
	if (geteuid() == 0) {
		rm_source_init(&src, path);
		src.src_fetch = fake_fetch;
		src.src_cache_uid = 65534;
		src.src_cache_gid = 65534;
		r = rm_source_load(&src, false, &rs, err, sizeof(err));
		CHECK(r == RM_SRC_NEW && stat(cache, &st) == 0 &&
		          st.st_uid == 65534 && st.st_gid == 65534 &&
		          (st.st_mode & 0777) == 0600,
		      "-u: cache owned by the daemon's user, 0600");
		rm_ruleset_release(rs);
		rm_source_free(&src);
	}
	remove(cache);

	/* LDAP down at start, no cache: every decision would tempfail */
	write_conf(path, "");
	rm_source_init(&src, path);
	src.src_fetch = fake_fetch;
	fetch_fails = 1;
	r = rm_source_load(&src, false, &rs, err, sizeof(err));
	CHECK(r == RM_SRC_NEW && rs != NULL && rs->rs_incomplete,
	      "no data, no cache: incomplete");
	rm_ruleset_release(rs);
	rm_source_free(&src);
	sync_from_nothing(path);
	remove(path);
	return check_done();
}
