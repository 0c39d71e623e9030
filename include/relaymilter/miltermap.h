/*
 * miltermap.h - a Postfix cidr table (smtpd_milter_maps) of the trusted
 * networks whose sessions relaymilter provably always continues: Postfix
 * may skip the milter for them, and save its connection, negotiation and
 * round trips.  "relaymilter milter-map" prints it; with milter_map set,
 * the daemon writes it at start and at every reload.
 */
#ifndef RM_MILTERMAP_H
#define RM_MILTERMAP_H

#include <stdbool.h>
#include <stdio.h>

#include "relaymilter/ruleset.h"

/*
 * rm_milter_map_print - the table to fp: one "NETWORK DISABLE" line per
 * such network, each with a comment naming its entry; the networks left
 * out are listed in comments with the reason.  Returns how many lines
 * disable the milter.
 */
size_t rm_milter_map_print(const struct rm_ruleset *, bool owner_lookups,
                           FILE *fp);

/*
 * rm_milter_map_write - the table into path, atomically (a temporary file
 * and a rename).  0, or -1 with the reason in err.
 */
int rm_milter_map_write(const struct rm_ruleset *, bool owner_lookups,
                        const char *path, char *err, size_t errlen);

#endif
