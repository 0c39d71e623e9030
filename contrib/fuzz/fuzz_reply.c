/*
 * fuzz_reply.c - the reply parser and formatter (reply.h).  The input is
 * a reply template, then the values of {sender} {login} {helo} {client}
 * {rcpt}, separated by NUL bytes; a missing value is "unknown".  Whatever
 * parses must expand, escape and format into a well-formed reply.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *field[1 + RM_RV__COUNT], *copy, err[256], line[600];
	const char *vals[RM_RV__COUNT];
	struct rm_reply r, out;
	size_t n, i;

	n = fz_fields(data, size, field, 1 + RM_RV__COUNT, &copy);
	for (i = 0; i < RM_RV__COUNT; i++)
		vals[i] = i + 1 < n ? field[i + 1] : NULL;
	if (rm_reply_parse(field[0], &r, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			fz_fail("refused without a reason: \"%s\"", field[0]);
		free(copy);
		return 0;
	}
	fz_reply_ok(&r, "parsed");
	if (strncmp(field[0], r.r_code, 3) != 0 ||
	    strcmp(field[0] + 4 + strlen(r.r_xcode) + 1, r.r_text) != 0)
		fz_fail("parsed reply differs from \"%s\"", field[0]);
	rm_reply_expand(&r, vals, &out);
	fz_reply_ok(&out, "expanded");
	if (out.r_has_vars)
		fz_fail("expanded reply still has placeholders");
	if (strcmp(out.r_code, r.r_code) != 0 ||
	    strcmp(out.r_xcode, r.r_xcode) != 0 || out.r_action != r.r_action)
		fz_fail("expansion changed the code");
	if (!r.r_has_vars && strcmp(out.r_text, r.r_text) != 0)
		fz_fail("expansion changed a text without placeholders");
	rm_reply_format(&out, line, sizeof(line));
	if (strlen(line) !=
	    3 + 1 + strlen(out.r_xcode) + 1 + strlen(out.r_text))
		fz_fail("formatted reply cut: \"%s\"", line);
	/* short buffers are cut, never overrun */
	rm_reply_format(&out, line, 5);
	rm_reply_escape_text(&out, line, 2);
	if (strlen(line) > 1)
		fz_fail("escape overran a 2-byte buffer");
	free(copy);
	return 0;
}
