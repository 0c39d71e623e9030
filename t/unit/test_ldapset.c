/*
 * test_ldapset.c - applying directory changes to the records of each
 * entry (keyed by list and entryUUID), as content synchronisation does:
 * add, modify, rename, delete, a present phase that removes the entries it
 * did not name, and seeding from a cache file's records.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "relaymilter/ldapset.h"

#define U1 "11111111-1111-1111-1111-111111111111"
#define U2 "22222222-2222-2222-2222-222222222222"
#define U3 "33333333-3333-3333-3333-333333333333"

/* rec - a record of list with value v from dn, uuid */
static struct rm_ldaprec
rec(int list, const char *v, const char *dn, const char *uuid)
{
	struct rm_ldaprec r;

	memset(&r, 0, sizeof(r));
	r.r_list = list;
	r.r_value = (char *)v;
	r.r_dn = (char *)dn;
	r.r_uuid = (char *)uuid;
	return r;
}

/* has - the set's records hold value v of list from dn */
static int
has(const struct rm_ldapset *s, int list, const char *v, const char *dn)
{
	struct rm_ldapdata d;
	size_t i;
	int found = 0;

	if (rm_ldapset_records(s, &d) != 0)
		return -1;
	for (i = 0; i < d.d_n; i++)
		if (d.d_recs[i].r_list == list &&
		    strcmp(d.d_recs[i].r_value, v) == 0 &&
		    strcmp(d.d_recs[i].r_dn, dn) == 0)
			found = 1;
	rm_ldapdata_clear(&d);
	return found;
}

static size_t
count(const struct rm_ldapset *s)
{
	struct rm_ldapdata d;
	size_t n;

	if (rm_ldapset_records(s, &d) != 0)
		return (size_t)-1;
	n = d.d_n;
	rm_ldapdata_clear(&d);
	return n;
}

/*
 * notes_match - what the set notes of its changes (random adds, modifies,
 * deletes, a present phase) patches its seed into exactly its records
 */
static void
notes_match(void)
{
	static const char *const vals[] = {"192.0.2.1", "192.0.2.2",
	                                   "192.0.2.3", "198.51.100.0/24"};
	struct rm_ldapdata base = {0}, now;
	struct rm_ldapdelta dl = {0};
	struct rm_ldaprec recs[2];
	struct rm_ldapset t;
	unsigned long x = 12345;
	char uuid[8][16], dn[8][32];
	int i, k, n;

	for (i = 0; i < 8; i++) {
		snprintf(uuid[i], sizeof(uuid[i]), "uuid-%d", i);
		snprintf(dn[i], sizeof(dn[i]), "cn=e%d,o=x", i);
	}
	for (i = 0; i < 4; i++) {
		recs[0] = rec(RM_L_TRUSTED_NETWORKS, vals[i], dn[i], uuid[i]);
		rm_ldapdata_add(&base, &recs[0]);
	}
	rm_ldapdata_sort(&base);
	rm_ldapset_init(&t);
	CHECK(rm_ldapset_seed(&t, &base) == 0, "seed");
	t.s_notes = &dl;
	for (k = 0; k < 400; k++) {
		x = x * 6364136223846793005ul + 1442695040888963407ul;
		i = (int)((x >> 33) % 8);
		n = (int)((x >> 40) % 3);
		recs[0] = rec(RM_L_TRUSTED_NETWORKS, vals[(x >> 45) % 4], dn[i],
		              uuid[i]);
		recs[1] = rec(RM_L_TRUSTED_NETWORKS, vals[(x >> 50) % 4], dn[i],
		              uuid[i]);
		if (n == 2 && strcmp(recs[0].r_value, recs[1].r_value) == 0)
			n = 1;
		if ((x >> 55) % 4 == 0)
			rm_ldapset_apply(&t, RM_L_TRUSTED_NETWORKS, uuid[i],
			                 RM_SYNC_DELETE, NULL, 0);
		else
			rm_ldapset_apply(&t, RM_L_TRUSTED_NETWORKS, uuid[i],
			                 RM_SYNC_MODIFY, recs, (size_t)n);
		if (k == 200) {
			/* a present phase naming entries 0-3 only */
			rm_ldapset_begin(&t, RM_L_TRUSTED_NETWORKS);
			for (i = 0; i < 4; i++)
				rm_ldapset_apply(&t, RM_L_TRUSTED_NETWORKS,
				                 uuid[i], RM_SYNC_PRESENT, NULL,
				                 0);
			rm_ldapset_end_present(&t, RM_L_TRUSTED_NETWORKS);
		}
	}
	CHECK(!t.s_notes_lost, "every change noted");
	CHECK(rm_ldapdelta_patch(&base, &dl) == 0,
	      "every record noted gone was in the seed");
	CHECK(rm_ldapset_records(&t, &now) == 0 &&
	          rm_ldapdata_equal(&base, &now),
	      "the seed patched with the notes is the set (%zu, %zu records)",
	      base.d_n, now.d_n);
	rm_ldapdata_clear(&now);
	rm_ldapdata_clear(&base);
	rm_ldapdelta_clear(&dl);
	rm_ldapset_free(&t);
}

int
main(void)
{
	enum { TN = RM_L_TRUSTED_NETWORKS, LD = RM_L_LOCAL_DOMAINS };
	struct rm_ldaprec two[2], one[1];
	struct rm_ldapdata seed = {0};
	struct rm_ldapset s;
	char key[16];
	int i;

	rm_ldapset_init(&s);
	/* add: an entry with two values is two records */
	two[0] = rec(TN, "192.0.2.1", "cn=a,o=x", U1);
	two[1] = rec(TN, "192.0.2.2", "cn=a,o=x", U1);
	CHECK(rm_ldapset_apply(&s, TN, U1, RM_SYNC_ADD, two, 2) == 1, "add");
	CHECK(count(&s) == 2, "two records");
	/* the same again: nothing changed, no rebuild */
	CHECK(rm_ldapset_apply(&s, TN, U1, RM_SYNC_MODIFY, two, 2) == 0,
	      "an identical modify changes nothing");
	/* modify: the entry's records are replaced, not added to */
	one[0] = rec(TN, "192.0.2.3", "cn=a,o=x", U1);
	CHECK(rm_ldapset_apply(&s, TN, U1, RM_SYNC_MODIFY, one, 1) == 1,
	      "modify");
	CHECK(count(&s) == 1 && has(&s, TN, "192.0.2.3", "cn=a,o=x") == 1,
	      "modify replaces the values");
	/* rename: the same entryUUID under a new DN */
	one[0] = rec(TN, "192.0.2.3", "cn=b,o=x", U1);
	CHECK(rm_ldapset_apply(&s, TN, U1, RM_SYNC_MODIFY, one, 1) == 1,
	      "rename");
	CHECK(count(&s) == 1 && has(&s, TN, "192.0.2.3", "cn=b,o=x") == 1 &&
	          has(&s, TN, "192.0.2.3", "cn=a,o=x") == 0,
	      "rename: only the new DN");
	/* the same UUID in another list is another entry */
	one[0] = rec(LD, "example.com", "cn=b,o=x", U1);
	CHECK(rm_ldapset_apply(&s, LD, U1, RM_SYNC_ADD, one, 1) == 1,
	      "add in another list");
	CHECK(count(&s) == 2, "both lists");
	/* an entry without a usable value holds no record, but is known */
	CHECK(rm_ldapset_apply(&s, TN, U2, RM_SYNC_ADD, NULL, 0) == 1,
	      "an entry without values");
	CHECK(count(&s) == 2, "no record for it");
	/* delete: exactly that entry */
	CHECK(rm_ldapset_apply(&s, TN, U1, RM_SYNC_DELETE, NULL, 0) == 1,
	      "delete");
	CHECK(count(&s) == 1 && has(&s, LD, "example.com", "cn=b,o=x") == 1,
	      "delete: the other list's entry stays");
	CHECK(rm_ldapset_apply(&s, TN, U3, RM_SYNC_DELETE, NULL, 0) == 0,
	      "deleting an unknown entry changes nothing");

	/* a present phase: the entries it does not name are gone */
	one[0] = rec(TN, "198.51.100.1", "cn=c,o=x", U3);
	CHECK(rm_ldapset_apply(&s, TN, U3, RM_SYNC_ADD, one, 1) == 1, "add");
	rm_ldapset_begin(&s, TN);
	CHECK(rm_ldapset_apply(&s, TN, U3, RM_SYNC_PRESENT, NULL, 0) == 0,
	      "present changes nothing by itself");
	CHECK(rm_ldapset_end_present(&s, TN) == 1, "U2 was not present");
	CHECK(count(&s) == 2 && has(&s, TN, "198.51.100.1", "cn=c,o=x") == 1 &&
	          has(&s, LD, "example.com", "cn=b,o=x") == 1,
	      "present: the named entry and the other list stay");
	/* a refresh that names nothing empties the list, only that one */
	rm_ldapset_begin(&s, TN);
	CHECK(rm_ldapset_end_present(&s, TN) == 1, "empty refresh");
	CHECK(count(&s) == 1, "the other list stays");
	rm_ldapset_free(&s);

	/* seeding: the records of one entry together, whatever their order;
	   records without an entryUUID are keyed by DN */
	two[0] = rec(TN, "192.0.2.1", "cn=a,o=x", U1);
	two[1] = rec(TN, "192.0.2.9", "cn=old,o=x", NULL);
	rm_ldapdata_add(&seed, &two[0]);
	rm_ldapdata_add(&seed, &two[1]);
	one[0] = rec(TN, "192.0.2.0", "cn=a,o=x", U1);
	rm_ldapdata_add(&seed, &one[0]);
	rm_ldapset_init(&s);
	CHECK(rm_ldapset_seed(&s, &seed) == 0, "seed");
	CHECK(count(&s) == 3, "seeded");
	one[0] = rec(TN, "192.0.2.5", "cn=a,o=x", U1);
	CHECK(rm_ldapset_apply(&s, TN, U1, RM_SYNC_MODIFY, one, 1) == 1,
	      "modify a seeded entry");
	CHECK(count(&s) == 2 && has(&s, TN, "192.0.2.0", "cn=a,o=x") == 0,
	      "both of its seeded records replaced");
	/* a full refresh replaces what a format 1 cache had */
	rm_ldapset_begin(&s, TN);
	CHECK(rm_ldapset_apply(&s, TN, U1, RM_SYNC_ADD, one, 1) == 0, "again");
	CHECK(rm_ldapset_end_present(&s, TN) == 1 && count(&s) == 1,
	      "the DN-keyed record is gone");
	rm_ldapdata_clear(&seed);

	notes_match();

	/* many entries: the table grows */
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "u%d", i);
		one[0] = rec(LD, key, "cn=n,o=x", key);
		if (rm_ldapset_apply(&s, LD, key, RM_SYNC_ADD, one, 1) != 1)
			break;
	}
	CHECK(i == 5000 && count(&s) == 5001, "5000 entries: %d", i);
	for (i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof(key), "u%d", i);
		if (rm_ldapset_apply(&s, LD, key, RM_SYNC_DELETE, NULL, 0) != 1)
			break;
	}
	CHECK(i == 5000 && count(&s) == 2501, "half deleted");
	rm_ldapset_free(&s);
	return check_done();
}
