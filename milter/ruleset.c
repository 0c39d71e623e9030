/*
 * ruleset.c - lifetime of a compiled ruleset and its entries.
 *
 * A ruleset owns its sets and every entry they tag.  The reference count
 * is atomic so that sessions can drop their pin without taking the
 * snapshot lock; the last release frees everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relaymilter/ruleset.h"

/* The replies and their defaults; the config's "replies" overrides them. */
const struct rm_reply_def rm_reply_defs[RM_R__COUNT] = {
    [RM_R_RELAY_DENIED] =
        {"relay_denied",
         "550 5.7.1 Relaying denied: this server accepts mail only for "
         "its own domains; to send elsewhere, authenticate (submission "
         "port 587)"},
    [RM_R_TEMPFAIL] =
        {"tempfail",
         "451 4.3.0 Temporary policy failure, please try again later"},
};

struct rm_ruleset *
rm_ruleset_new(const char *source)
{
	struct rm_ruleset *rs;
	char err[128];
	int i;

	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return NULL;
	atomic_init(&rs->rs_refs, 1);
	rs->rs_log_level = -1;
	rs->rs_source = strdup(source ? source : "-");
	rs->rs_hostnames = rm_domset_new();
	rs->rs_local_domains = rm_domset_new();
	rs->rs_relay_domains = rm_domset_new();
	rs->rs_trusted = rm_ipset_new();
	if (rs->rs_source == NULL || rs->rs_hostnames == NULL ||
	    rs->rs_local_domains == NULL || rs->rs_relay_domains == NULL ||
	    rs->rs_trusted == NULL) {
		rm_ruleset_release(rs);
		return NULL;
	}
	for (i = 0; i < RM_R__COUNT; i++) {
		/* the defaults are constants: a failure here is a bug */
		if (rm_reply_parse(rm_reply_defs[i].rd_default,
		                   &rs->rs_replies[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "default reply %s: %s\n",
			        rm_reply_defs[i].rd_name, err);
			abort();
		}
	}
	return rs;
}

struct rm_entry *
rm_ruleset_entry(struct rm_ruleset *rs, const char *list, const char *text,
                 const char *file, int line)
{
	struct rm_entry *e, **v;
	size_t cap, n;

	if (rs->rs_nentries == rs->rs_entries_cap) {
		cap = rs->rs_entries_cap ? rs->rs_entries_cap * 2 : 64;
		if ((v = realloc(rs->rs_entries, cap * sizeof(*v))) == NULL)
			return NULL;
		rs->rs_entries = v;
		rs->rs_entries_cap = cap;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	n = strlen(file ? file : "-") + 16;
	e->e_list = list;
	e->e_text = strdup(text);
	e->e_origin = malloc(n);
	if (e->e_text == NULL || e->e_origin == NULL) {
		free(e->e_text);
		free(e->e_origin);
		free(e);
		return NULL;
	}
	snprintf(e->e_origin, n, "%s:%d", file ? file : "-", line);
	rs->rs_entries[rs->rs_nentries++] = e;
	return e;
}

struct rm_ruleset *
rm_ruleset_hold(struct rm_ruleset *rs)
{
	atomic_fetch_add_explicit(&rs->rs_refs, 1, memory_order_relaxed);
	return rs;
}

void
rm_ruleset_release(struct rm_ruleset *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	if (atomic_fetch_sub_explicit(&rs->rs_refs, 1, memory_order_acq_rel) !=
	    1)
		return;
	rm_domset_free(rs->rs_hostnames);
	rm_domset_free(rs->rs_local_domains);
	rm_domset_free(rs->rs_relay_domains);
	rm_ipset_free(rs->rs_trusted);
	for (i = 0; i < rs->rs_nentries; i++) {
		free(rs->rs_entries[i]->e_text);
		free(rs->rs_entries[i]->e_origin);
		free(rs->rs_entries[i]);
	}
	free(rs->rs_entries);
	free(rs->rs_socket);
	free(rs->rs_source);
	free(rs);
}
