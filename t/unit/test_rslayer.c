/*
 * test_rslayer.c - a layered ruleset decides as a full build would: random
 * entries in every kind of list (domains and subtrees, networks, address
 * patterns with and without owners, logins, login networks, listener
 * scopes, duplicates), a layer over a build of them that removes some and
 * adds others, and the same decisions, entry for entry, as a full build of
 * what is left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/conf.h"
#include "relaymilter/ip.h"
#include "relaymilter/policy.h"

#define NREC   160
#define ROUNDS 120
#define FACTS  300

static const char conf_text[] =
    "hostnames = [ \"mx.example.com\" ];\n"
    "local_domains = [ \"example.com\" ];\n"
    "our_interface_addresses = false;\n"
    "listeners = { mx = { auth_relay = false; }; };\n"
    "checks = { helo_spoof = \"monitor\"; };\n";

struct rec {
	enum rm_list_id r_list;
	char r_value[64];
	char r_owner[24];
	const char *r_listener;
	char r_origin[40];
};

static unsigned long seed = 20261202;

static unsigned
rnd(unsigned n)
{
	seed = seed * 6364136223846793005ul + 1442695040888963407ul;
	return (unsigned)((seed >> 33) % n);
}

/* rand_rec - an entry of a random list, from a small space (collisions) */
static void
rand_rec(struct rec *r, unsigned id)
{
	static const enum rm_list_id lists[] = {
	    RM_L_LOCAL_DOMAINS,    RM_L_RELAY_DOMAINS,  RM_L_TRUSTED_NETWORKS,
	    RM_L_LICENSED_SENDERS, RM_L_SENDER_LOGINS,  RM_L_EXC_CLIENTS,
	    RM_L_EXC_SENDERS,      RM_L_DENY_SENDERS,   RM_L_DENY_LOGINS,
	    RM_L_EXC_LOGINS,       RM_L_LOGIN_NETWORKS, RM_L_DENY_RECIPIENTS,
	};
	unsigned a = rnd(4), b = rnd(4);

	memset(r, 0, sizeof(*r));
	r->r_list = lists[rnd(sizeof(lists) / sizeof(lists[0]))];
	r->r_listener = rnd(4) == 0 ? "mx" : NULL;
	/* a handful of DNs: the same origin twice is an LDAP entry with
	   two values */
	snprintf(r->r_origin, sizeof(r->r_origin), "ldap:cn=e%u,dc=t",
	         rnd(2) ? id : rnd(8));
	switch (r->r_list) {
	case RM_L_LOCAL_DOMAINS:
	case RM_L_RELAY_DOMAINS:
		snprintf(r->r_value, sizeof(r->r_value), "%sd%u.%s",
		         rnd(3) == 0 ? "." : "", a,
		         b ? "t.example" : "T.Example");
		break;
	case RM_L_TRUSTED_NETWORKS:
	case RM_L_EXC_CLIENTS:
	case RM_L_LOGIN_NETWORKS:
		if (rnd(3) == 0)
			snprintf(r->r_value, sizeof(r->r_value), "10.%u.0.0/16",
			         a);
		else if (rnd(2))
			snprintf(r->r_value, sizeof(r->r_value),
			         "10.%u.%u.0/24", a, b);
		else
			snprintf(r->r_value, sizeof(r->r_value), "10.%u.%u.%u",
			         a, b, rnd(4));
		if (r->r_list == RM_L_LOGIN_NETWORKS)
			snprintf(r->r_owner, sizeof(r->r_owner), "login%u",
			         rnd(3));
		break;
	case RM_L_DENY_LOGINS:
	case RM_L_EXC_LOGINS:
		snprintf(r->r_value, sizeof(r->r_value), "%s%u",
		         rnd(2) ? "login" : "LOGIN", a);
		break;
	default: /* address patterns */
		switch (rnd(3)) {
		case 0:
			snprintf(r->r_value, sizeof(r->r_value),
			         "u%u@d%u.t.example", a, b);
			break;
		case 1:
			snprintf(r->r_value, sizeof(r->r_value),
			         "@d%u.t.example", b);
			break;
		default:
			snprintf(r->r_value, sizeof(r->r_value), "@.t.example");
			break;
		}
		if (r->r_list == RM_L_SENDER_LOGINS)
			snprintf(r->r_owner, sizeof(r->r_owner), "%s%u",
			         rnd(4) ? "login" : "u1@d1.t.example", rnd(3));
		break;
	}
}

static void
spec_of(const struct rec *r, struct rm_entry_spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->es_list = r->r_list;
	sp->es_value = r->r_value;
	sp->es_owner = r->r_owner[0] ? r->r_owner : NULL;
	sp->es_listener = r->r_listener;
	sp->es_origin = r->r_origin;
}

/* The entries a build adds after the file's: recs[i] where keep[i]. */
struct adds {
	const struct rec *a_recs;
	const int *a_keep;
	size_t a_n;
};

static int
add_recs(void *arg, struct rm_ruleset *rs, char *err, size_t errlen)
{
	const struct adds *a = arg;
	struct rm_entry_spec sp;
	size_t i;

	for (i = 0; i < a->a_n; i++) {
		if (a->a_keep != NULL && !a->a_keep[i])
			continue;
		spec_of(&a->a_recs[i], &sp);
		if (rm_ruleset_add(rs, &sp, err, errlen) != 0)
			return -1;
	}
	return 0;
}

static struct rm_ruleset *
build(const struct adds *a)
{
	struct rm_conf *cf;
	struct rm_ruleset *rs;
	char err[512];

	cf = rm_conf_read_string(conf_text, "layer.conf", err, sizeof(err));
	CHECK(cf != NULL, "conf: %s", err);
	if (cf == NULL)
		exit(1);
	rs = rm_conf_compile(cf, add_recs, (void *)a, err, sizeof(err));
	CHECK(rs != NULL, "compile: %s", err);
	rm_conf_free(cf);
	if (rs == NULL)
		exit(1);
	return rs;
}

/* what - a verdict as text, the deciding entry by its text and origin */
static void
what(const struct rm_verdict *v, char *buf, size_t len)
{
	char lb[RM_LINE_BUF];

	snprintf(buf, len, "%d %s %s %s%s %s", (int)v->v_action,
	         v->v_rule ? v->v_rule : "-",
	         v->v_entry ? v->v_entry->e_text : "-",
	         v->v_entry ? v->v_entry->e_where : "-",
	         v->v_entry ? rm_entry_line(v->v_entry, lb) : "",
	         v->v_would_rule ? v->v_would_rule : "-");
}

static int
same_decisions(const struct rm_ruleset *x, const struct rm_ruleset *y,
               unsigned round)
{
	char sender[64], rcpt[64], client[32], a[300], b[300], login[24];
	struct rm_verdict vx, vy;
	struct rm_facts f;
	struct rm_ip ip;
	int i;

	for (i = 0; i < FACTS; i++) {
		memset(&f, 0, sizeof(f));
		snprintf(client, sizeof(client), "10.%u.%u.%u", rnd(5), rnd(5),
		         rnd(5));
		if (rm_ip_parse(client, &ip) != 0)
			return 0;
		f.f_client_ip = &ip;
		f.f_helo = "client.example";
		snprintf(login, sizeof(login), "%s%u",
		         rnd(3) ? "login" : "u1@d1.t.example", rnd(4));
		f.f_auth = rnd(3) ? login : NULL;
		snprintf(sender, sizeof(sender), "<u%u@d%u.%s>", rnd(4), rnd(5),
		         rnd(4) ? "t.example" : "sub.d1.t.example");
		f.f_sender = sender;
		snprintf(rcpt, sizeof(rcpt), "<r@%sd%u.t.example>",
		         rnd(3) == 0 ? "x." : "", rnd(5));
		f.f_rcpt = rnd(5) ? rcpt : "<r@remote.test>";
		f.f_listener = rnd(3) == 0 ? "mx" : NULL;
		rm_policy_rcpt(x, &f, &vx, NULL);
		rm_policy_rcpt(y, &f, &vy, NULL);
		what(&vx, a, sizeof(a));
		what(&vy, b, sizeof(b));
		if (strcmp(a, b) != 0) {
			CHECK(0,
			      "round %u: client %s auth %s from %s to %s "
			      "listener %s: layer \"%s\", full build \"%s\"",
			      round, client, f.f_auth ? f.f_auth : "-", sender,
			      f.f_rcpt, f.f_listener ? f.f_listener : "-", a,
			      b);
			return 0;
		}
	}
	return 1;
}

int
main(void)
{
	static struct rec recs[NREC + NREC / 4];
	static int keep[NREC + NREC / 4];
	struct rm_ruleset *base, *layer, *full;
	struct rm_entry_spec sp;
	struct adds a;
	char err[256];
	unsigned round, nbase, nall, i, ok = 0;

	for (round = 0; round < ROUNDS; round++) {
		nbase = 1 + rnd(NREC);
		nall = nbase + rnd(NREC / 4);
		for (i = 0; i < nall; i++) {
			rand_rec(&recs[i], i);
			keep[i] = 1;
		}
		a.a_recs = recs;
		a.a_keep = NULL;
		a.a_n = nbase;
		base = build(&a);
		layer = rm_ruleset_layer(base);
		CHECK(layer != NULL, "a layer over a full build");
		if (layer == NULL)
			return 1;
		CHECK(rm_ruleset_layer(layer) == NULL, "no layer over a layer");
		/* remove some of the base's, add the rest */
		for (i = 0; i < nbase; i++) {
			if (rnd(3) != 0)
				continue;
			spec_of(&recs[i], &sp);
			CHECK(rm_ruleset_remove(layer, &sp, err, sizeof(err)) ==
			          0,
			      "remove %s %s: %s", rm_list_name(recs[i].r_list),
			      recs[i].r_value, err);
			keep[i] = 0;
		}
		for (i = nbase; i < nall; i++) {
			spec_of(&recs[i], &sp);
			CHECK(rm_ruleset_add(layer, &sp, err, sizeof(err)) == 0,
			      "add %s: %s", recs[i].r_value, err);
		}
		CHECK(rm_ruleset_finish(layer) == 0, "finish the layer");
		a.a_keep = keep;
		a.a_n = nall;
		full = build(&a);
		CHECK(layer->rs_nentries == full->rs_nentries,
		      "round %u: %zu entries in the layer, %zu in the build",
		      round, layer->rs_nentries, full->rs_nentries);
		ok += same_decisions(layer, full, round);
		/* the base outlives its layer's release, and vice versa */
		rm_ruleset_release(base);
		rm_ruleset_release(layer);
		rm_ruleset_release(full);
	}
	CHECK(ok == ROUNDS, "%u of %u rounds decided as the full build", ok,
	      ROUNDS);
	/* an entry that is not there */
	a.a_recs = recs;
	a.a_keep = NULL;
	a.a_n = 0;
	base = build(&a);
	layer = rm_ruleset_layer(base);
	rand_rec(&recs[0], 0);
	spec_of(&recs[0], &sp);
	CHECK(rm_ruleset_remove(layer, &sp, err, sizeof(err)) != 0 &&
	          strstr(err, "no such entry") != NULL,
	      "removing an entry that is not there: %s", err);
	CHECK(rm_ruleset_remove(base, &sp, err, sizeof(err)) != 0,
	      "a full build is not a layer");
	rm_ruleset_release(layer);
	rm_ruleset_release(base);
	return check_done();
}
