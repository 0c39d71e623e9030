/*
 * reply.h - SMTP replies: parsing and validation in one place.
 *
 * Every reply relaymilter can send passes rm_reply_parse() once, at config
 * load: a 4xx or 5xx code, an RFC 3463 enhanced code whose class matches the
 * code's first digit, and a short printable text.  At run time the adapter
 * only copies the stored fields out, so a reply can never be malformed on
 * the wire.
 */
#ifndef RM_REPLY_H
#define RM_REPLY_H

#include <stddef.h>

#include "relaymilter/rm.h"

#define RM_REPLY_TEXT_MAX 400 /* well under libmilter's 980-byte line */

struct rm_reply {
	char r_code[4];   /* "550" */
	char r_xcode[12]; /* "5.7.1"; class digit == r_code[0] */
	char r_text[RM_REPLY_TEXT_MAX + 1]; /* printable ASCII, no CR/LF */
	enum rm_action r_action; /* RM_REJECT for 5xx, RM_TEMPFAIL for 4xx */
	int r_has_vars;          /* the text holds {name} placeholders */
};

/* The placeholders a reply text may hold, expanded per decision. */
enum rm_reply_var {
	RM_RV_SENDER = 0, /* {sender}: the envelope sender, without <> */
	RM_RV_LOGIN,      /* {login}: the SMTP AUTH login */
	RM_RV_HELO,       /* {helo}: the HELO/EHLO argument */
	RM_RV_CLIENT,     /* {client}: the client address */
	RM_RV_RCPT,       /* {rcpt}: the recipient, without <> */
	RM_RV_FROM,       /* {from}: the From: address judged (header_from) */
	RM_RV__COUNT
};
#define RM_REPLY_VAR_MAX 120 /* an expanded value is cut here */

/*
 * rm_reply_parse - parse "550 5.7.1 Relaying denied: ..." into *out.
 *
 * The code must be 4yz or 5yz (y, z digits); the enhanced code must follow,
 * be class.subject.detail with class equal to the code's first digit,
 * subject 0-999 and detail 0-999 without leading zeros; the text must be
 * non-empty printable US-ASCII (0x20-0x7e) of at most RM_REPLY_TEXT_MAX
 * bytes.  "{name}" in the text must name a placeholder of enum
 * rm_reply_var.  Return 0, or -1 with the reason in errbuf.
 */
int rm_reply_parse(const char *s, struct rm_reply *out, char *errbuf,
                   size_t errlen);

/*
 * rm_reply_escape_text - copy the text for smfi_setreply(), doubling every
 * '%' (libmilter treats the text as a format).  dst must hold at least
 * 2 * RM_REPLY_TEXT_MAX + 1 bytes.  Returns dst.
 */
char *rm_reply_escape_text(const struct rm_reply *, char *dst, size_t len);

/*
 * rm_reply_expand - copy tmpl to out with each placeholder replaced by
 * vals[var] (NULL: "unknown").  Values come from the network: every byte
 * outside 0x20-0x7e becomes '?', a value is cut at RM_REPLY_VAR_MAX bytes
 * and the text at RM_REPLY_TEXT_MAX, and a text left empty (nothing but
 * empty values) becomes "-", so the result is always a valid reply.
 */
void rm_reply_expand(const struct rm_reply *tmpl,
                     const char *const vals[RM_RV__COUNT],
                     struct rm_reply *out);

/* rm_reply_format - "550 5.7.1 text" into buf, for logs and the CLI. */
const char *rm_reply_format(const struct rm_reply *, char *buf, size_t len);

#endif
