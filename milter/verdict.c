/*
 * verdict.c - a verdict in words (verdict.h).
 */
#include <stdio.h>
#include <string.h>

#include "relaymilter/verdict.h"

/*
 * one_line - s into buf, control bytes as '?': what a config file or the
 * directory holds can never break the line it is shown on
 */
static void
one_line(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] =
		    (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
}

void
rm_verdict_text(const struct rm_verdict *v, struct rm_verdict_text *vt)
{
	const struct rm_entry *e = v->v_entry;
	char origin[sizeof(vt->vt_origin)], lb[RM_LINE_BUF];

	vt->vt_action = rm_action_name(v->v_action);
	vt->vt_rule = v->v_rule;
	vt->vt_reply[0] = vt->vt_entry[0] = vt->vt_origin[0] = '\0';
	if (v->v_reply != NULL)
		rm_reply_format(v->v_reply, vt->vt_reply, sizeof(vt->vt_reply));
	if (e != NULL) {
		one_line(e->e_text, vt->vt_entry, sizeof(vt->vt_entry));
		snprintf(origin, sizeof(origin), "%s%s", e->e_where,
		         rm_entry_line(e, lb));
		one_line(origin, vt->vt_origin, sizeof(vt->vt_origin));
	}
	if (v->v_grant != NULL) {
		char until[32];

		snprintf(origin, sizeof(origin), "login=%s source=%s until=%s",
		         v->v_grant->g_login[0] ? v->v_grant->g_login : "-",
		         v->v_grant->g_source,
		         rm_grant_until(v->v_grant->g_expires, until,
		                        sizeof(until)));
		one_line(origin, vt->vt_entry, sizeof(vt->vt_entry));
	}
	vt->vt_would_rule = v->v_would_rule;
	vt->vt_would[0] = '\0';
	if (v->v_would_rule != NULL)
		rm_reply_format(&v->v_would, vt->vt_would,
		                sizeof(vt->vt_would));
}
