/*
 * ldapdata.c - LDAP policy records: compare, cache file, apply.
 *
 * The cache file is text: a header line, then one record per line with
 * tab-separated fields; a field's tab, newline, backslash and any byte
 * outside 0x20-0x7e are written as \xHH, and an absent field as "\-".
 * Format 2 adds the entryUUID as a last field of each record, and a line
 * "cookie LIST SCOPE COOKIE" (tab-separated, escaped the same way) for
 * each list with a content synchronisation cookie; format 1 has neither
 * and still loads.  The last line is "end N", N the number of records.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relaymilter/ldapdata.h"

#define CACHE_MAGIC    "relaymilter-ldap-cache 2"
#define CACHE_MAGIC_V1 "relaymilter-ldap-cache 1"
#define NFIELDS        7 /* the fields of a record after the list name */

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

void
rm_ldaprec_clear(struct rm_ldaprec *r)
{
	free(r->r_value);
	free(r->r_owner);
	free(r->r_listener);
	free(r->r_lifts);
	free(r->r_reply);
	free(r->r_dn);
	free(r->r_uuid);
}

int
rm_ldapdata_add(struct rm_ldapdata *d, const struct rm_ldaprec *r)
{
	struct rm_ldaprec *v, *n;
	size_t cap;

	if (d->d_n == d->d_cap) {
		/* from 1: most sets are one entry's record or few (a
		   million of them in the synchronisation's data) */
		cap = d->d_cap ? d->d_cap * 2 : 1;
		if ((v = realloc(d->d_recs, cap * sizeof(*v))) == NULL)
			return -1;
		d->d_recs = v;
		d->d_cap = cap;
	}
	n = &d->d_recs[d->d_n];
	memset(n, 0, sizeof(*n));
	n->r_list = r->r_list;
	n->r_value = dup_or_null(r->r_value);
	n->r_owner = dup_or_null(r->r_owner);
	n->r_listener = dup_or_null(r->r_listener);
	n->r_lifts = dup_or_null(r->r_lifts);
	n->r_reply = dup_or_null(r->r_reply);
	n->r_dn = dup_or_null(r->r_dn);
	n->r_uuid = dup_or_null(r->r_uuid);
	if (n->r_value == NULL || (r->r_owner && !n->r_owner) ||
	    (r->r_listener && !n->r_listener) || (r->r_lifts && !n->r_lifts) ||
	    (r->r_reply && !n->r_reply) || (r->r_dn && !n->r_dn) ||
	    (r->r_uuid && !n->r_uuid)) {
		rm_ldaprec_clear(n);
		return -1;
	}
	d->d_n++;
	return 0;
}

void
rm_ldapdata_clear(struct rm_ldapdata *d)
{
	size_t i;

	int l;

	for (i = 0; i < d->d_n; i++)
		rm_ldaprec_clear(&d->d_recs[i]);
	free(d->d_recs);
	for (l = 0; l < RM_L__COUNT; l++) {
		free(d->d_cookie[l]);
		free(d->d_scope[l]);
	}
	memset(d, 0, sizeof(*d));
}

int
rm_ldapdata_set_cookie(struct rm_ldapdata *d, int list, const char *cookie,
                       const char *scope)
{
	char *c = dup_or_null(cookie), *s = dup_or_null(scope);

	if ((cookie && !c) || (scope && !s)) {
		free(c);
		free(s);
		return -1;
	}
	free(d->d_cookie[list]);
	free(d->d_scope[list]);
	d->d_cookie[list] = c;
	d->d_scope[list] = s;
	return 0;
}

void
rm_ldapdata_take_cookies(struct rm_ldapdata *d, struct rm_ldapdata *from)
{
	int l;

	for (l = 0; l < RM_L__COUNT; l++) {
		free(d->d_cookie[l]);
		free(d->d_scope[l]);
		d->d_cookie[l] = from->d_cookie[l];
		d->d_scope[l] = from->d_scope[l];
		from->d_cookie[l] = from->d_scope[l] = NULL;
	}
}

int
rm_ldapdata_has_cookie(const struct rm_ldapdata *d)
{
	int l;

	for (l = 0; l < RM_L__COUNT; l++)
		if (d->d_cookie[l] != NULL)
			return 1;
	return 0;
}

static int
cmp_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int
cmp_rec(const void *x, const void *y)
{
	const struct rm_ldaprec *a = x, *b = y;
	int c;

	if (a->r_list != b->r_list)
		return a->r_list < b->r_list ? -1 : 1;
	if ((c = cmp_str(a->r_value, b->r_value)) != 0 ||
	    (c = cmp_str(a->r_owner, b->r_owner)) != 0 ||
	    (c = cmp_str(a->r_listener, b->r_listener)) != 0 ||
	    (c = cmp_str(a->r_lifts, b->r_lifts)) != 0 ||
	    (c = cmp_str(a->r_reply, b->r_reply)) != 0)
		return c;
	if ((c = cmp_str(a->r_dn, b->r_dn)) != 0)
		return c;
	return cmp_str(a->r_uuid, b->r_uuid);
}

int
rm_ldaprec_cmp(const struct rm_ldaprec *a, const struct rm_ldaprec *b)
{
	return cmp_rec(a, b);
}

void
rm_ldapdata_sort(struct rm_ldapdata *d)
{
	if (d->d_n > 1)
		qsort(d->d_recs, d->d_n, sizeof(*d->d_recs), cmp_rec);
}

int
rm_ldapdata_equal(const struct rm_ldapdata *a, const struct rm_ldapdata *b)
{
	size_t i;

	if (a->d_n != b->d_n)
		return 0;
	for (i = 0; i < a->d_n; i++)
		if (cmp_rec(&a->d_recs[i], &b->d_recs[i]) != 0)
			return 0;
	return 1;
}

/* plain - a byte the cache file holds as it is */
static bool
plain(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c >= 0x20 && c <= 0x7e && c != '\\';
}

/* put_field - runs of plain bytes in one fwrite each: a million records
   written byte by byte cost a second of stdio locking */
static void
put_field(FILE *fp, const char *s)
{
	size_t n;

	fputc('\t', fp);
	if (s == NULL) {
		fputs("\\-", fp);
		return;
	}
	while (*s != '\0') {
		for (n = 0; plain(s[n]); n++)
			;
		if (n > 0) {
			fwrite(s, 1, n, fp);
			s += n;
		} else
			fprintf(fp, "\\x%02x", (unsigned char)*s++);
	}
}

struct rm_ldapsave {
	const struct rm_ldapdata *sv_d;
	size_t sv_i;
	FILE *sv_fp;
	uid_t sv_uid;
	gid_t sv_gid;
	mode_t sv_mode;
	char *sv_cookie[RM_L__COUNT], *sv_scope[RM_L__COUNT];
	char sv_path[4096], sv_tmp[4096];
};

void
rm_ldapsave_abort(struct rm_ldapsave *sv)
{
	int l;

	if (sv == NULL)
		return;
	if (sv->sv_fp != NULL) {
		fclose(sv->sv_fp);
		unlink(sv->sv_tmp);
	}
	for (l = 0; l < RM_L__COUNT; l++) {
		free(sv->sv_cookie[l]);
		free(sv->sv_scope[l]);
	}
	free(sv);
}

/* dup_noting - dup_or_null(s), *oom set when that failed */
static char *
dup_noting(const char *s, bool *oom)
{
	char *c = dup_or_null(s);

	if (s != NULL && c == NULL)
		*oom = true;
	return c;
}

struct rm_ldapsave *
rm_ldapsave_begin(const struct rm_ldapdata *d, const char *path, uid_t uid,
                  gid_t gid, mode_t mode, char *err, size_t errlen)
{
	struct rm_ldapsave *sv = calloc(1, sizeof(*sv));
	bool oom = sv == NULL;
	int l, fd;

	for (l = 0; !oom && l < RM_L__COUNT; l++) {
		sv->sv_cookie[l] = dup_noting(d->d_cookie[l], &oom);
		sv->sv_scope[l] = dup_noting(d->d_scope[l], &oom);
	}
	if (oom) {
		snprintf(err, errlen, "%s: out of memory", path);
		rm_ldapsave_abort(sv);
		return NULL;
	}
	sv->sv_d = d;
	sv->sv_uid = uid;
	sv->sv_gid = gid;
	sv->sv_mode = mode;
	if (snprintf(sv->sv_path, sizeof(sv->sv_path), "%s", path) >=
	        (int)sizeof(sv->sv_path) ||
	    snprintf(sv->sv_tmp, sizeof(sv->sv_tmp), "%s.tmpXXXXXX", path) >=
	        (int)sizeof(sv->sv_tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		rm_ldapsave_abort(sv);
		return NULL;
	}
	if ((fd = mkstemp(sv->sv_tmp)) < 0 ||
	    (sv->sv_fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", sv->sv_tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(sv->sv_tmp);
		}
		rm_ldapsave_abort(sv);
		return NULL;
	}
	fprintf(sv->sv_fp, "%s\n", CACHE_MAGIC);
	return sv;
}

bool
rm_ldapdata_file_has_cookie(const char *path)
{
	/* the cookie lines come last, before "end N": the file's tail
	   holds them (a cookie line is a few kB at most) */
	enum { TAIL = 256 * 1024 };
	char *buf;
	struct stat st;
	ssize_t n;
	off_t at;
	bool has = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && (buf = malloc(TAIL + 1)) != NULL) {
		at = st.st_size > TAIL ? st.st_size - TAIL : 0;
		if ((n = pread(fd, buf, TAIL, at)) > 0) {
			buf[n] = '\0';
			/* the header or a record line never starts so */
			has = strstr(buf, "\ncookie\t") != NULL;
		}
		free(buf);
	}
	close(fd);
	return has;
}

/* finish - the cookies of the start, fsync, owner, mode, rename: 0/-1 */
static int
finish(struct rm_ldapsave *sv, char *err, size_t errlen)
{
	FILE *fp = sv->sv_fp;
	char dirbuf[4096];
	int l, fd, ok;

	for (l = 0; l < RM_L__COUNT; l++) {
		if (sv->sv_cookie[l] == NULL)
			continue;
		fputs("cookie", fp);
		put_field(fp, rm_list_name(l));
		put_field(fp, sv->sv_scope[l]);
		put_field(fp, sv->sv_cookie[l]);
		fputc('\n', fp);
	}
	fprintf(fp, "end %zu\n", sv->sv_d->d_n);
	ok = fflush(fp) == 0 && fsync(fileno(fp)) == 0 &&
	     ((sv->sv_uid == (uid_t)-1 && sv->sv_gid == (gid_t)-1) ||
	      fchown(fileno(fp), sv->sv_uid, sv->sv_gid) == 0) &&
	     (sv->sv_mode == 0 || fchmod(fileno(fp), sv->sv_mode & 0777) == 0);
	sv->sv_fp = NULL;
	ok = fclose(fp) == 0 && ok;
	if (!ok || rename(sv->sv_tmp, sv->sv_path) != 0) {
		snprintf(err, errlen, "%s: %s", sv->sv_path, strerror(errno));
		unlink(sv->sv_tmp);
		return -1;
	}
	/* make the rename itself durable */
	snprintf(dirbuf, sizeof(dirbuf), "%s", sv->sv_path);
	if ((fd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	return 0;
}

int
rm_ldapsave_step(struct rm_ldapsave *sv, size_t n, char *err, size_t errlen)
{
	const struct rm_ldapdata *d = sv->sv_d;
	int rc;

	for (; n > 0 && sv->sv_i < d->d_n; n--, sv->sv_i++) {
		const struct rm_ldaprec *r = &d->d_recs[sv->sv_i];

		fputs(rm_list_name(r->r_list), sv->sv_fp);
		put_field(sv->sv_fp, r->r_value);
		put_field(sv->sv_fp, r->r_owner);
		put_field(sv->sv_fp, r->r_listener);
		put_field(sv->sv_fp, r->r_lifts);
		put_field(sv->sv_fp, r->r_reply);
		put_field(sv->sv_fp, r->r_dn);
		put_field(sv->sv_fp, r->r_uuid);
		fputc('\n', sv->sv_fp);
	}
	if (sv->sv_i < d->d_n)
		return 1;
	rc = finish(sv, err, errlen);
	rm_ldapsave_abort(sv);
	return rc;
}

int
rm_ldapdata_save(const struct rm_ldapdata *d, const char *path, uid_t uid,
                 gid_t gid, mode_t mode, char *err, size_t errlen)
{
	struct rm_ldapsave *sv =
	    rm_ldapsave_begin(d, path, uid, gid, mode, err, errlen);

	return sv != NULL ? rm_ldapsave_step(sv, (size_t)-1, err, errlen) : -1;
}

/* unescape - a field in place: "\\-" is absent, \\xHH a byte. */
static int
unescape(char *s, char **out)
{
	char *o = s;

	if (strcmp(s, "\\-") == 0) {
		*out = NULL;
		return 0;
	}
	*out = s;
	while (*s != '\0') {
		if (*s == '\\') {
			unsigned v;

			if (s[1] != 'x' || sscanf(s + 2, "%2x", &v) != 1 ||
			    v == 0 || s[2] == '\0' || s[3] == '\0')
				return -1;
			*o++ = (char)v;
			s += 4;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return 0;
}

int
rm_ldapdata_load(struct rm_ldapdata *d, const char *path, char *err,
                 size_t errlen)
{
	char line[16384], *p, *name, *f[NFIELDS];
	size_t lineno = 1, count;
	struct rm_ldaprec r;
	int done = 0, i, list, nf;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), fp) == NULL ||
	    (strcmp(line, CACHE_MAGIC "\n") != 0 &&
	     strcmp(line, CACHE_MAGIC_V1 "\n") != 0)) {
		snprintf(err, errlen, "%s: not a relaymilter LDAP cache", path);
		fclose(fp);
		return -1;
	}
	/* format 1: no entryUUID, no cookies */
	nf = strcmp(line, CACHE_MAGIC "\n") == 0 ? NFIELDS : NFIELDS - 1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL)
			goto bad;
		if (sscanf(line, "end %zu", &count) == 1) {
			done = count == d->d_n;
			break;
		}
		/* the list name and the fields, tab-separated */
		line[strcspn(line, "\n")] = '\0';
		name = line;
		p = line;
		memset(f, 0, sizeof(f));
		for (i = 0; i < nf && p != NULL; i++) {
			if ((p = strchr(p, '\t')) == NULL)
				break;
			*p++ = '\0';
			f[i] = p;
		}
		if (nf == NFIELDS && strcmp(name, "cookie") == 0 && i == 3 &&
		    f[2] != NULL && strchr(f[2], '\t') == NULL) {
			if (unescape(f[0], &f[0]) != 0 ||
			    unescape(f[1], &f[1]) != 0 ||
			    unescape(f[2], &f[2]) != 0 || f[0] == NULL ||
			    f[2] == NULL || (list = rm_list_lookup(f[0])) < 0)
				goto bad;
			if (rm_ldapdata_set_cookie(d, list, f[2], f[1]) != 0)
				goto oom;
			continue;
		}
		if (i != nf || strchr(p, '\t') != NULL)
			goto bad;
		for (i = 0; i < nf; i++)
			if (unescape(f[i], &f[i]) != 0)
				goto bad;
		if ((list = rm_list_lookup(name)) < 0 || f[0] == NULL)
			goto bad;
		r.r_list = list;
		r.r_value = f[0];
		r.r_owner = f[1];
		r.r_listener = f[2];
		r.r_lifts = f[3];
		r.r_reply = f[4];
		r.r_dn = f[5];
		r.r_uuid = f[6];
		if (rm_ldapdata_add(d, &r) != 0)
			goto oom;
	}
	fclose(fp);
	if (!done) {
		snprintf(err, errlen, "%s: truncated (no end line)", path);
		rm_ldapdata_clear(d);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s:%zu: malformed record", path, lineno);
	fclose(fp);
	rm_ldapdata_clear(d);
	return -1;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
	fclose(fp);
	rm_ldapdata_clear(d);
	return -1;
}

/* parse_lifts - "helo_spoof deny" (spaces or commas) into RM_LIFT bits. */
static int
parse_lifts(const char *s, unsigned *out, char *err, size_t errlen)
{
	char word[64];
	size_t n;
	int ck;

	*out = 0;
	while (*s != '\0') {
		s += strspn(s, " ,");
		n = strcspn(s, " ,");
		if (n == 0)
			break;
		if (n >= sizeof(word)) {
			snprintf(err, errlen, "unknown check in lifts");
			return -1;
		}
		memcpy(word, s, n);
		word[n] = '\0';
		s += n;
		if (strcmp(word, "all") == 0)
			*out |= RM_LIFT_ALL;
		else if ((ck = rm_check_lookup(word)) >= 0)
			*out |= RM_LIFT(ck);
		else {
			snprintf(err, errlen, "lifts: unknown check \"%s\"",
			         word);
			return -1;
		}
	}
	return 0;
}

char *
rm_ldap_one_line(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	return s;
}

int
rm_ldaprec_spec(const struct rm_ldaprec *r, struct rm_entry_spec *sp,
                char *origin, size_t olen, char *err, size_t errlen)
{
	enum rm_list_role role = rm_list_defs[r->r_list].ld_role;

	memset(sp, 0, sizeof(*sp));
	sp->es_list = (enum rm_list_id)r->r_list;
	sp->es_value = r->r_value;
	sp->es_owner = r->r_owner;
	sp->es_listener = r->r_listener;
	sp->es_reply = role == RM_ROLE_DENY ? r->r_reply : NULL;
	snprintf(origin, olen, "ldap:%s", r->r_dn ? r->r_dn : "-");
	sp->es_origin = rm_ldap_one_line(origin);
	if (r->r_lifts != NULL && role == RM_ROLE_EXCEPTION)
		return parse_lifts(r->r_lifts, &sp->es_lifts, err, errlen);
	return 0;
}

size_t
rm_ldapdata_apply(const struct rm_ldapdata *d, struct rm_ruleset *rs,
                  void (*warn)(void *, const char *), void *arg)
{
	struct rm_entry_spec sp;
	char err[300], msg[1400], origin[600];
	size_t i, skipped = 0;

	for (i = 0; i < d->d_n; i++) {
		const struct rm_ldaprec *r = &d->d_recs[i];

		if (rm_ldaprec_spec(r, &sp, origin, sizeof(origin), err,
		                    sizeof(err)) != 0 ||
		    rm_ruleset_add(rs, &sp, err, sizeof(err)) != 0) {
			skipped++;
			if (warn != NULL) {
				snprintf(msg, sizeof(msg),
				         "%s: %s \"%.200s\": %s; entry skipped",
				         origin, rm_list_name(r->r_list),
				         r->r_value, err);
				warn(arg, rm_ldap_one_line(msg));
			}
		}
	}
	return skipped;
}
