/*
 * verdict.h - a verdict in words, the same for the decision log line
 * (mlfi.c) and "relaymilter check" (check.c): the action, the rule, the
 * reply as the MTA sends it, the entry that matched and where it is
 * written, and what a monitored check would have said.  What came from a
 * config file or LDAP has its control bytes replaced: one line, always.
 */
#ifndef RM_VERDICT_H
#define RM_VERDICT_H

#include "relaymilter/policy.h"
#include "relaymilter/reply.h"

struct rm_verdict_text {
	const char *vt_action;                 /* "continue", "reject", ... */
	const char *vt_rule;                   /* "local_domains", ... */
	char vt_reply[RM_REPLY_TEXT_MAX + 32]; /* "550 5.7.1 ...", or "" */
	char vt_entry[256];                    /* the entry, or "" */
	char vt_origin[640];                   /* "file:line", "ldap:DN" */
	const char *vt_would_rule;             /* NULL: nothing monitored */
	char vt_would[RM_REPLY_TEXT_MAX + 32]; /* what it would have said */
};

/* rm_verdict_text - the words of a verdict. */
void rm_verdict_text(const struct rm_verdict *, struct rm_verdict_text *);

#endif
