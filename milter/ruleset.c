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
#include <strings.h>

#include "relaymilter/ruleset.h"

const char *const rm_check_names[RM_CK__COUNT] = {
    [RM_CK_REQUIRE_AUTH] = "require_auth",
    [RM_CK_DENY] = "deny",
    [RM_CK_SENDER_LOGIN] = "sender_login",
    [RM_CK_LOCAL_SENDER_SPOOF] = "local_sender_spoof",
    [RM_CK_HELO_SPOOF] = "helo_spoof",
    [RM_CK_UNLICENSED_SENDER] = "unlicensed_sender",
};

/*
 * The replies and their defaults; the config's "replies" overrides them
 * but must keep the class (a refusal stays 5xx, a failure 4xx).  The texts
 * say what happened and what to do; {name} expands at run time.
 */
const struct rm_reply_def rm_reply_defs[RM_R__COUNT] = {
    [RM_R_RELAY_DENIED] =
        {"relay_denied",
         "550 5.7.1 Relaying denied: this server accepts mail only for "
         "its own domains; to send elsewhere, authenticate (submission "
         "port 587)",
         RM_REJECT},
    [RM_R_TEMPFAIL] =
        {"tempfail",
         "451 4.3.0 Temporary policy failure, please try again later",
         RM_TEMPFAIL},
    [RM_R_REQUIRE_AUTH] = {"require_auth",
                           "530 5.7.0 Authentication required: log in "
                           "(SMTP AUTH) before sending on this port",
                           RM_REJECT},
    [RM_R_UNLICENSED_SENDER] = {"unlicensed_sender",
                                "553 5.7.1 <{sender}>: not authorised to "
                                "use this service when sending from this "
                                "address",
                                RM_REJECT},
    [RM_R_SENDER_LOGIN] = {"sender_login",
                           "553 5.7.1 <{sender}>: Sender address rejected: "
                           "not owned by user {login}",
                           RM_REJECT},
    [RM_R_LOCAL_SENDER_SPOOF] = {"local_sender_spoof",
                                 "553 5.7.1 <{sender}>: Sender address "
                                 "rejected: our domain may only be used "
                                 "after authentication (submission port "
                                 "587)",
                                 RM_REJECT},
    [RM_R_HELO_SPOOF] = {"helo_spoof",
                         "550 5.7.1 <{helo}>: Helo command rejected: that "
                         "is our name; greet with your own host name",
                         RM_REJECT},
    [RM_R_BAD_SENDER] = {"bad_sender",
                         "553 5.1.7 Sender address rejected: malformed "
                         "address",
                         RM_REJECT},
    [RM_R_DENY_CLIENT] = {"deny_client",
                          "554 5.7.1 Client host rejected: access denied",
                          RM_REJECT},
    [RM_R_DENY_HELO] = {"deny_helo",
                        "550 5.7.1 <{helo}>: Helo command rejected: access "
                        "denied",
                        RM_REJECT},
    [RM_R_DENY_SENDER] = {"deny_sender",
                          "553 5.7.1 <{sender}>: Sender address rejected: "
                          "access denied",
                          RM_REJECT},
    [RM_R_DENY_RECIPIENT] = {"deny_recipient",
                             "550 5.7.1 <{rcpt}>: Recipient address "
                             "rejected: access denied",
                             RM_REJECT},
};

static int
factsets_new(struct rm_factsets *fs)
{
	fs->fs_clients = rm_ipset_new();
	fs->fs_helo = rm_domset_new();
	fs->fs_senders = rm_addrset_new();
	fs->fs_recipients = rm_addrset_new();
	return fs->fs_clients && fs->fs_helo && fs->fs_senders &&
	               fs->fs_recipients
	           ? 0
	           : -1;
}

static void
factsets_free(struct rm_factsets *fs)
{
	rm_ipset_free(fs->fs_clients);
	rm_domset_free(fs->fs_helo);
	rm_addrset_free(fs->fs_senders);
	rm_addrset_free(fs->fs_recipients);
}

int
rm_check_lookup(const char *name)
{
	int i;

	for (i = 0; i < RM_CK__COUNT; i++)
		if (strcmp(name, rm_check_names[i]) == 0)
			return i;
	return -1;
}

const struct rm_profile *
rm_ruleset_profile(const struct rm_ruleset *rs, const char *listener)
{
	size_t i;

	if (listener != NULL)
		for (i = 0; i < rs->rs_nprofiles; i++)
			if (strcasecmp(rs->rs_profiles[i].pf_name, listener) ==
			    0)
				return &rs->rs_profiles[i];
	return &rs->rs_top;
}

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
	rs->rs_licensed = rm_addrset_new();
	rs->rs_sender_logins = rm_addrset_new();
	if (rs->rs_source == NULL || rs->rs_hostnames == NULL ||
	    rs->rs_local_domains == NULL || rs->rs_relay_domains == NULL ||
	    rs->rs_trusted == NULL || rs->rs_licensed == NULL ||
	    rs->rs_sender_logins == NULL ||
	    factsets_new(&rs->rs_exceptions) != 0 ||
	    factsets_new(&rs->rs_deny) != 0) {
		rm_ruleset_release(rs);
		return NULL;
	}
	for (i = 0; i < RM_CK__COUNT; i++)
		rs->rs_top.pf_check[i] = RM_CM_REJECT;
	rs->rs_top.pf_check[RM_CK_REQUIRE_AUTH] = RM_CM_OFF;
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
	rm_addrset_free(rs->rs_licensed);
	rm_addrset_free(rs->rs_sender_logins);
	factsets_free(&rs->rs_exceptions);
	factsets_free(&rs->rs_deny);
	for (i = 0; i < rs->rs_nprofiles; i++) {
		free(rs->rs_profiles[i].pf_name);
		free(rs->rs_profiles[i].pf_origin);
	}
	free(rs->rs_profiles);
	free(rs->rs_top.pf_origin);
	for (i = 0; i < rs->rs_nentries; i++) {
		free(rs->rs_entries[i]->e_reply);
		free(rs->rs_entries[i]->e_text);
		free(rs->rs_entries[i]->e_origin);
		free(rs->rs_entries[i]);
	}
	free(rs->rs_entries);
	free(rs->rs_socket);
	free(rs->rs_source);
	free(rs);
}
