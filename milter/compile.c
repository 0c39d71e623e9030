/*
 * compile.c - a config as read (confdata.h), plus the entries from
 * elsewhere, into a ruleset.
 *
 * No libconfig here: the reader has checked the file's shape; this checks
 * every entry against its list (ruleset.c) and reports the first bad one
 * as "file:line: list: "value": why".  It also adds the machine's interface
 * addresses (our_interface_addresses), read at every compile.
 */
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "relaymilter/conf.h"
#include "relaymilter/confdata.h"
#include "relaymilter/domset.h"
#include "relaymilter/ip.h"

/*
 * resolve - fill a profile from what it says, else what the top level
 * says, else the defaults; then let monitor mode soften every reject.
 */
static void
resolve(struct rm_profile *pf, const struct rm_confprofile *cp,
        const struct rm_confprofile *top)
{
	int i, v, mode, auth;

	for (i = 0; i < RM_CK__COUNT; i++) {
		v = cp->cp_check[i] >= 0    ? cp->cp_check[i]
		    : top->cp_check[i] >= 0 ? top->cp_check[i]
		    /* header_from needs the headers: asked for */
		    : i == RM_CK_HEADER_FROM ? RM_CM_OFF
		                             : RM_CM_REJECT;
		pf->pf_check[i] = (unsigned char)v;
	}
	auth = cp->cp_require_auth >= 0    ? cp->cp_require_auth
	       : top->cp_require_auth >= 0 ? top->cp_require_auth
	                                   : 0;
	pf->pf_check[RM_CK_REQUIRE_AUTH] = auth ? RM_CM_REJECT : RM_CM_OFF;
	pf->pf_limits = cp->cp_has_limits    ? cp->cp_limits
	                : top->cp_has_limits ? top->cp_limits
	                                     : 0;
	pf->pf_max_rcpts =
	    (unsigned)(cp->cp_max_rcpts >= 0    ? cp->cp_max_rcpts
	               : top->cp_max_rcpts >= 0 ? top->cp_max_rcpts
	                                        : 0);
	pf->pf_auth_relay = cp->cp_auth_relay >= 0    ? cp->cp_auth_relay
	                    : top->cp_auth_relay >= 0 ? top->cp_auth_relay
	                                              : 1;
	pf->pf_grants =
	    (cp->cp_grants >= 0 ? cp->cp_grants : top->cp_grants) > 0;
	pf->pf_hdr_all =
	    (cp->cp_hdr_all >= 0 ? cp->cp_hdr_all : top->cp_hdr_all) > 0;
	mode = cp->cp_mode >= 0    ? cp->cp_mode
	       : top->cp_mode >= 0 ? top->cp_mode
	                           : 0;
	if (mode == 1)
		for (i = 0; i < RM_CK__COUNT; i++)
			if (pf->pf_check[i] == RM_CM_REJECT)
				pf->pf_check[i] = RM_CM_MONITOR;
}

/*
 * interfaces - the addresses of this machine's interfaces, as Sendmail
 * puts them in class w and Postfix in inet_interfaces = all: a sender at a
 * literal of one is ours.  A machine whose interfaces cannot be read has
 * only our_addresses (and a warning).
 */
static void
interfaces(struct rm_ruleset *rs)
{
	struct ifaddrs *ifa, *i;
	struct rm_ip ip;
	char text[64], origin[64], err[128];

	if (getifaddrs(&ifa) != 0) {
		rm_ruleset_warn(rs, "our_interface_addresses: cannot read the "
		                    "interface addresses; list them in "
		                    "our_addresses");
		return;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			memset(&ip, 0, sizeof(ip));
			ip.ip_b[10] = ip.ip_b[11] = 0xff;
			memcpy(&ip.ip_b[12],
			       &((const struct sockaddr_in *)(const void *)
			             i->ifa_addr)
			            ->sin_addr,
			       4);
		} else if (i->ifa_addr->sa_family == AF_INET6)
			memcpy(ip.ip_b,
			       &((const struct sockaddr_in6 *)(const void *)
			             i->ifa_addr)
			            ->sin6_addr,
			       16);
		else
			continue;
		snprintf(origin, sizeof(origin), "interface:%s", i->ifa_name);
		rm_ruleset_add_our_address(
		    rs, rm_ip_format(&ip, text, sizeof(text)), origin, true,
		    err, sizeof(err));
	}
	freeifaddrs(ifa);
}

/* add_op - one entry of the file; "file:line: list: "value": why" */
static int
add_op(struct rm_ruleset *rs, const struct rm_confop *op, char *errbuf,
       size_t errlen)
{
	struct rm_entry_spec sp;
	char origin[600], err[200];

	snprintf(origin, sizeof(origin), "%s:%u",
	         op->op_file ? op->op_file : rs->rs_source, op->op_line);
	if (op->op_list == RM_OP_OUR_ADDRESS) {
		if (rm_ruleset_add_our_address(rs, op->op_value, origin, false,
		                               err, sizeof(err)) == 0)
			return 0;
		snprintf(errbuf, errlen, "%s: our_addresses: \"%s\": %s",
		         origin, op->op_value, err);
		return -1;
	}
	memset(&sp, 0, sizeof(sp));
	sp.es_list = (enum rm_list_id)op->op_list;
	sp.es_value = op->op_value;
	sp.es_owner = op->op_owner;
	sp.es_listener = op->op_listener;
	sp.es_lifts = op->op_lifts;
	sp.es_reply = op->op_reply;
	sp.es_origin = origin;
	if (rm_ruleset_add(rs, &sp, err, sizeof(err)) == 0)
		return 0;
	if (op->op_listener != NULL)
		snprintf(errbuf, errlen, "%s: listeners.%s.%s: \"%s\": %s",
		         origin, op->op_listener, rm_list_name(op->op_list),
		         op->op_value, err);
	else
		snprintf(errbuf, errlen, "%s: %s: \"%s\": %s", origin,
		         rm_list_name(op->op_list), op->op_value, err);
	return -1;
}

/* policy_empty - no destination we accept mail for, anywhere. */
static int
policy_empty(const struct rm_ruleset *rs)
{
	const struct rm_lists *l = &rs->rs_lists;
	size_t i, n;

	n = rm_domset_count(l->l_hostnames) +
	    rm_domset_count(l->l_local_domains) +
	    rm_domset_count(l->l_relay_domains);
	for (i = 0; i < rs->rs_nprofiles; i++)
		if ((l = rs->rs_profiles[i]->pf_lists) != NULL)
			n += rm_domset_count(l->l_hostnames) +
			     rm_domset_count(l->l_local_domains) +
			     rm_domset_count(l->l_relay_domains);
	return n == 0;
}

/* no_domains - no local or relay domain anywhere (host names aside) */
static int
no_domains(const struct rm_ruleset *rs)
{
	const struct rm_lists *l = &rs->rs_lists;
	size_t i, n;

	n = rm_domset_count(l->l_local_domains) +
	    rm_domset_count(l->l_relay_domains);
	for (i = 0; i < rs->rs_nprofiles; i++)
		if ((l = rs->rs_profiles[i]->pf_lists) != NULL)
			n += rm_domset_count(l->l_local_domains) +
			     rm_domset_count(l->l_relay_domains);
	return n == 0 && rm_domset_count(rs->rs_lists.l_hostnames) > 0;
}

/* limits - the config's limits, copied: the ruleset owns its own */
static int
limits(struct rm_ruleset *rs, const struct rm_conf *cf)
{
	size_t i;

	if (cf->cf_nlimits == 0)
		return 0;
	if ((rs->rs_limits = calloc(cf->cf_nlimits, sizeof(*rs->rs_limits))) ==
	    NULL)
		return -1;
	for (i = 0; i < cf->cf_nlimits; i++) {
		if (rm_limit_copy(&rs->rs_limits[i], &cf->cf_limits[i]) != 0)
			return -1;
		rs->rs_nlimits++;
	}
	return 0;
}

/*
 * listener_replies - a listener with replies = { } gets the top level's
 * with its own over them; the others use the top level's
 */
static int
listener_replies(struct rm_ruleset *rs, const struct rm_conf *cf)
{
	const struct rm_confprofile *cp;
	struct rm_profile *pf;
	size_t i;
	int id, any;

	for (i = 0; i < cf->cf_nprofiles; i++) {
		cp = &cf->cf_profiles[i];
		for (any = 0, id = 0; id < RM_R__COUNT; id++)
			any |= cp->cp_reply_set[id];
		if (!any)
			continue;
		pf = (struct rm_profile *)(uintptr_t)rm_ruleset_profile(
		    rs, cp->cp_name);
		if ((pf->pf_replies = malloc(sizeof(rs->rs_replies))) == NULL)
			return -1;
		memcpy(pf->pf_replies, rs->rs_replies, sizeof(rs->rs_replies));
		for (id = 0; id < RM_R__COUNT; id++)
			if (cp->cp_reply_set[id])
				pf->pf_replies[id] = cp->cp_replies[id];
	}
	return 0;
}

/* profiles - the top level and the listeners, resolved */
static int
profiles(struct rm_ruleset *rs, const struct rm_conf *cf)
{
	struct rm_profile *pf;
	size_t i;

	resolve(&rs->rs_top, &cf->cf_top, &cf->cf_top);
	rs->rs_grants_trusted = cf->cf_settings.st_grants_trusted > 0;
	rs->rs_login_implicit = !cf->cf_no_implicit;
	rs->rs_login_known = cf->cf_login_known != 0;
	memcpy(rs->rs_delim, cf->cf_delim, sizeof(rs->rs_delim));
	for (i = 0; i < cf->cf_nprofiles; i++) {
		pf = rm_ruleset_add_profile(rs, cf->cf_profiles[i].cp_name,
		                            cf->cf_profiles[i].cp_origin);
		if (pf == NULL)
			return -1;
		resolve(pf, &cf->cf_profiles[i], &cf->cf_top);
	}
	return 0;
}

struct rm_ruleset *
rm_conf_compile(const struct rm_conf *cf, rm_conf_extra *extra, void *arg,
                char *errbuf, size_t errlen)
{
	struct rm_ruleset *rs;
	size_t i;
	int id;

	if (cf->cf_dropped) {
		snprintf(errbuf, errlen, "%s: read it again to compile it",
		         cf->cf_path);
		return NULL;
	}
	if ((rs = rm_ruleset_new(cf->cf_path)) == NULL ||
	    profiles(rs, cf) != 0) {
		snprintf(errbuf, errlen, "%s: out of memory", cf->cf_path);
		rm_ruleset_release(rs);
		return NULL;
	}
	for (id = 0; id < RM_R__COUNT; id++)
		if (cf->cf_top.cp_reply_set[id])
			rs->rs_replies[id] = cf->cf_top.cp_replies[id];
	if (listener_replies(rs, cf) != 0) {
		snprintf(errbuf, errlen, "%s: out of memory", cf->cf_path);
		goto fail;
	}
	if (limits(rs, cf) != 0) {
		snprintf(errbuf, errlen, "%s: out of memory", cf->cf_path);
		goto fail;
	}
	for (i = 0; i < cf->cf_nops; i++)
		if (add_op(rs, &cf->cf_ops[i], errbuf, errlen) != 0)
			goto fail;
	if (!cf->cf_no_ifaddrs)
		interfaces(rs);
	if (extra != NULL && extra(arg, rs, errbuf, errlen) != 0)
		goto fail;
	/* legal, but mail for the site's own domains would be a relay */
	if (no_domains(rs))
		rm_ruleset_warn(
		    rs,
		    "%s: local_domains and relay_domains are empty: "
		    "only the host names are ours, and mail for your "
		    "domains is refused as relaying; set "
		    "local_domains",
		    cf->cf_path);
	/* with LDAP, the domains may all come from the directory */
	if (cf->cf_settings.st_ldap == NULL && policy_empty(rs)) {
		snprintf(errbuf, errlen,
		         "%s: empty policy: name the domains we accept mail "
		         "for in hostnames, local_domains or relay_domains",
		         cf->cf_path);
		goto fail;
	}
	if (rm_ruleset_finish(rs) != 0) {
		snprintf(errbuf, errlen, "%s: out of memory", cf->cf_path);
		goto fail;
	}
	return rs;
fail:
	rm_ruleset_release(rs);
	return NULL;
}

struct rm_ruleset *
rm_conf_build(const char *path, rm_conf_extra *extra, void *arg, char *errbuf,
              size_t errlen)
{
	struct rm_ruleset *rs;
	struct rm_conf *cf;

	if ((cf = rm_conf_read(path, errbuf, errlen)) == NULL)
		return NULL;
	rs = rm_conf_compile(cf, extra, arg, errbuf, errlen);
	rm_conf_free(cf);
#ifdef __GLIBC__
	/*
	 * libconfig's tree of a big file lies below the new ruleset in the
	 * heap, so freeing it shrinks nothing: hand those pages back.
	 */
	malloc_trim(0);
#endif
	return rs;
}

struct rm_ruleset *
rm_conf_load(const char *path, char *errbuf, size_t errlen)
{
	return rm_conf_build(path, NULL, NULL, errbuf, errlen);
}

struct rm_ruleset *
rm_conf_load_string(const char *text, const char *name, char *errbuf,
                    size_t errlen)
{
	struct rm_ruleset *rs;
	struct rm_conf *cf;

	if ((cf = rm_conf_read_string(text, name, errbuf, errlen)) == NULL)
		return NULL;
	rs = rm_conf_compile(cf, NULL, NULL, errbuf, errlen);
	rm_conf_free(cf);
	return rs;
}
